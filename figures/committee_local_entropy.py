r"""Figure: local entropy S(d) around typical solutions of the K → ∞ binary tree
committee, sign vs ReLU hidden units at equal load α.

Corresponds to the local-entropy comparison of Baldassi, Malatesta & Zecchina, PRL 123,
170602 (2019), arXiv 1907.07578 ("BMZ 2019": ReLU solutions lie in wider minima than
sign ones). Here: ±1 weights, K → ∞ (the output is Gaussian with the kernel overlap Q(q),
:mod:`replica.committee`), RS Franz–Parisi around *typical* (equilibrium) solutions
(:mod:`replica.franz_parisi`, energetic term on the Q-mapped overlaps), at α = 0.3 and
0.6 (below both RS capacities, sign 0.947 and ReLU 0.904), with the α = 0 bound
−d ln d − (1−d) ln(1−d). Differences from the paper: K = ∞ in this panel (finite K below), RS
rather than 1RSB, and typical references rather than the paper's local-energy /
algorithmic probes. Points that did not
converge are not drawn and are listed in the data file with their status.

Right panel (full mode): at α = :data:`MARGIN_ALPHA`, κ = 0, the curves around
references of output margin κ̃ = :data:`KAPPA_REFS` (0 = typical;
``binary-tree-committee-margin`` family), sign and ReLU: the ordering "larger κ̃ ⇒
higher small-d local entropy" of Baldassi et al., PRL 127, 278301 (2021) (shown there
for perceptrons) holds for both committees; with references at κ̃ = 0.4 the sign
committee reaches the positive local entropy that ReLU has around typical solutions.

Lower panels (full mode), at α = :data:`FINITE_K_ALPHA`:

* left, finite K: the typical-reference curves of the sign tree committee itself at
  K = :data:`FINITE_K` (:mod:`replica.committee_fp`: QMC in 3K dimensions, accuracy
  ~5e-5 at K = 3, ~1e-4 at K = 5), with the K → ∞ sign and ReLU curves: at finite K the
  sign committee's solutions are less isolated (S(0.05) falls roughly like 1/K towards
  the K → ∞ value); and the ReLU committee at K = :data:`FINITE_K_RELU` (exact draws of
  the reference fields, :mod:`solvers.relu_reference`; accuracy ~2e-4), which at this
  load lies *below* the sign K = 3 curve and the ReLU K → ∞ one (its RS entropy is lower
  too: a committee whose units are all off answers neither label, and its capacity
  0.644 is lower than the sign one, 0.921); at equal fraction of the capacity
  (α = α_c/2) the order flips and the ReLU K = 3 curve lies above the sign one
  (:mod:`replica.committee_fp`), as BMZ find at large K;
* right, dense regions (:mod:`replica.dense` on the Q-mapped output overlaps, K → ∞):
  S_I(d) of the replicated measure at y = :data:`DENSE_Y`, sign vs ReLU — the ReLU
  dense regions stay closer to the α = 0 bound (BMZ 2019: wider minima). Distances where
  the external entropy Σ < 0 (centres exponentially rare: the RS large-y value is an
  overestimate there) are marked with dots.

Run: ``python -m figures committee_local_entropy``
(data: figures/output/committee_local_entropy.json).
"""

from __future__ import annotations

import numpy as np

from solvers.local_entropy import local_entropy

from .plotting import as_float, finish_local_entropy_axes, new_figure, save

__all__ = ["compute", "main", "plot_committee_local_entropy", "plot_margin_references",
           "plot_finite_k", "plot_dense"]

ALPHAS = (0.3, 0.6)
ACTIVATIONS = ("sign", "relu")
#: small-distance window in which the two activations are compared (the BMZ claim is
#: about the neighbourhood of a solution)
SMALL_D = 0.05
#: load and reference margins of the right panel (κ = 0; κ̃ below κ_max of both
#: committees at this load: their capacities at κ = 0.3 are 0.67 / 0.63 > 0.5)
MARGIN_ALPHA = 0.5
KAPPA_REFS = (0.0, 0.2, 0.4)
#: lower panels: load, finite K of the sign committee (K = 3: ~20 s per 10-point curve;
#: K = 5: ~25 s per point, so fewer distances), and the dense measure's y
FINITE_K_ALPHA = 0.5
FINITE_K = (3, 5)
#: finite K of the ReLU committee in the lower-left panel and its distances: exact draws of
#: the reference fields and contour jets (solvers.relu_reference, solvers.committee_fp),
#: ~2.5 s per evaluation at K = 3, so a 4-point curve takes ~8-10 min on 2 cores
FINITE_K_RELU = 3
FINITE_K_RELU_DISTANCES = (0.02, 0.05, 0.1, 0.2)
DENSE_Y = 20


def compute(quick=False):
    alphas = (0.5,) if quick else ALPHAS
    ds = np.array([0.01, 0.05, 0.15]) if quick else np.geomspace(0.003, 0.35, 24)
    curves, comparison = {}, {}
    for a in alphas:
        for act in ACTIVATIONS:
            curves[f"{act} alpha={a:g}"] = local_entropy(
                "binary-tree-committee", {"alpha": a}, reference="typical", distances=ds,
                options={"K": "inf", "activation": act}).to_dict()
        s, r = curves[f"sign alpha={a:g}"], curves[f"relu alpha={a:g}"]
        both = [i for i, dd in enumerate(ds) if dd <= SMALL_D and s["status"][i] == "converged"
                and r["status"][i] == "converged"]
        comparison[f"alpha={a:g}"] = {
            "distances": [float(ds[i]) for i in both],
            "relu_minus_sign": [r["local_entropy"][i] - s["local_entropy"][i] for i in both],
            "relu_higher_everywhere": bool(both) and all(
                r["local_entropy"][i] > s["local_entropy"][i] for i in both),
            "isolation_distance": {"sign": s["isolation_distance"], "relu": r["isolation_distance"]},
        }
    margin = {}
    if not quick:
        dm = np.geomspace(0.003, 0.2, 16)
        for act in ACTIVATIONS:
            for kr in KAPPA_REFS:
                margin[f"{act} kappa_ref={kr:g}"] = local_entropy(
                    "binary-tree-committee-margin", {"alpha": MARGIN_ALPHA, "kappa": 0.0},
                    reference="typical" if kr == 0 else f"margin={kr:g}", distances=dm,
                    options={"K": "inf", "activation": act}).to_dict()
    extra = {}
    if not quick:
        extra["finite_k"] = _finite_k()
        extra["dense"] = _dense()
    return {"K": "inf", "weights": "binary", "reference": "typical", "alphas": list(alphas),
            "curves": curves, "comparison": comparison,
            **({"margin_references": {"alpha": MARGIN_ALPHA, "kappa": 0.0,
                                      "kappa_refs": list(KAPPA_REFS), "curves": margin}}
               if margin else {}), **extra}


def _finite_k():
    """Typical-reference curves of the finite-K sign and ReLU committees and of K → ∞."""
    out = {}
    for K in FINITE_K:
        ds = np.geomspace(0.005, 0.3, 10 if K <= 3 else 6)
        out[f"sign K={K}"] = local_entropy(
            "binary-tree-committee", {"alpha": FINITE_K_ALPHA}, reference="typical", distances=ds,
            options={"K": K, "activation": "sign"}).to_dict()
    out[f"relu K={FINITE_K_RELU}"] = local_entropy(
        "binary-tree-committee", {"alpha": FINITE_K_ALPHA}, reference="typical",
        distances=list(FINITE_K_RELU_DISTANCES),
        options={"K": FINITE_K_RELU, "activation": "relu"}).to_dict()
    ds = np.geomspace(0.005, 0.3, 16)
    for act in ACTIVATIONS:
        out[f"{act} K=inf"] = local_entropy(
            "binary-tree-committee", {"alpha": FINITE_K_ALPHA}, reference="typical", distances=ds,
            options={"K": "inf", "activation": act}).to_dict()
    return {"alpha": FINITE_K_ALPHA, "K": list(FINITE_K), "K_relu": FINITE_K_RELU, "curves": out}


def _dense():
    """Dense-region local entropy S_I(d) at y = DENSE_Y, K → ∞, sign and ReLU."""
    ds = np.geomspace(0.005, 0.2, 12)
    out = {act: local_entropy("binary-tree-committee", {"alpha": FINITE_K_ALPHA},
                              reference=f"dense:y={DENSE_Y}", distances=ds,
                              options={"K": "inf", "activation": act}).to_dict()
           for act in ACTIVATIONS}
    return {"alpha": FINITE_K_ALPHA, "y": DENSE_Y, "curves": out}


def _bound(ax, curves):
    """The α = 0 bound of a set of curves (all share the distance grid of the first)."""
    first = next(iter(curves.values()))
    ax.plot(first["distance"], first["alpha0_bound"], "k:", label=r"$\alpha=0$ bound")


def plot_finite_k(data, ax):
    """S(d) of the finite-K sign and ReLU committees and K → ∞ (reads results only)."""
    fk = data["finite_k"]
    _bound(ax, fk["curves"])
    for i, K in enumerate(fk["K"]):
        c = fk["curves"][f"sign K={K}"]
        ax.plot(c["distance"], as_float(c["local_entropy"]), "o-", ms=3, color=f"C{i + 2}",
                label=f"sign, K = {K}")
    if "K_relu" in fk:
        c = fk["curves"][f"relu K={fk['K_relu']}"]
        ax.plot(c["distance"], as_float(c["local_entropy"]), "s--", ms=3, color="C4",
                label=f"ReLU, K = {fk['K_relu']}")
    for i, act in enumerate(ACTIVATIONS):
        c = fk["curves"][f"{act} K=inf"]
        ax.plot(c["distance"], as_float(c["local_entropy"]), "-" if act == "sign" else "--",
                color=f"C{i}", label=rf"{act}, $K\to\infty$")
    return finish_local_entropy_axes(
        ax, "distance $d$ from a typical solution",
        rf"finite K (QMC) vs $K\to\infty$, $\alpha$ = {fk['alpha']:g}", title_size=9,
        legend_size=7)


def plot_dense(data, ax):
    """S_I(d) of the dense regions at y = DENSE_Y, sign vs ReLU (reads results only)."""
    dn = data["dense"]
    _bound(ax, dn["curves"])
    for i, act in enumerate(ACTIVATIONS):
        c = dn["curves"][act]
        ax.plot(c["distance"], as_float(c["local_entropy"]), "-", color=f"C{i}",
                label=rf"{act}, $K\to\infty$, y = {dn['y']:g}")
        neg = [(d, s) for d, s, e in zip(c["distance"], c["local_entropy"], c["external_entropy"])
               if s is not None and e is not None and e < 0]
        if neg:
            ax.plot(*zip(*neg), ".", color=f"C{i}", ms=5)
    ax.plot([], [], "k.", label=r"$\Sigma < 0$ (rare centres)")
    return finish_local_entropy_axes(
        ax, "distance $d$ from the centre of a dense region",
        rf"dense regions (replicated measure), $\alpha$ = {dn['alpha']:g}", title_size=9,
        legend_size=7)


def plot_margin_references(data, ax):
    """S(d) around references of output margin κ̃, sign and ReLU (reads results only)."""
    mr = data["margin_references"]
    _bound(ax, mr["curves"])
    styles = ["-", "--", "-."]
    for i, act in enumerate(ACTIVATIONS):
        for j, kr in enumerate(mr["kappa_refs"]):
            c = mr["curves"][f"{act} kappa_ref={kr:g}"]
            s = as_float(c["local_entropy"])
            bad = [d for d, st in zip(c["distance"], c["status"]) if st != "converged"]
            ax.plot(c["distance"], s, styles[j % 3], color=f"C{i}",
                    label=rf"{act}, $\tilde\kappa$ = {kr:g}" + (" (typical)" if kr == 0 else ""))
            if bad:
                ax.plot(bad, np.zeros(len(bad)), "x", color=f"C{i}")
    return finish_local_entropy_axes(
        ax, r"distance $d$ from a reference of output margin $\tilde\kappa$",
        rf"$K\to\infty$, $\alpha$ = {mr['alpha']:g}, $\kappa$ = 0: high-margin references",
        title_size=9, legend_size=7)


def plot_committee_local_entropy(data, ax):
    """Draw S(d) per (activation, α) and the α = 0 bound (reads results only)."""
    _bound(ax, data["curves"])
    styles = ["-", "--", "-."]
    for j, a in enumerate(data["alphas"]):
        for i, act in enumerate(ACTIVATIONS):
            c = data["curves"][f"{act} alpha={a:g}"]
            s = as_float(c["local_entropy"])
            ax.plot(c["distance"], s, styles[j % 3], color=f"C{i}", label=rf"{act}, $\alpha$ = {a:g}")
    return finish_local_entropy_axes(
        ax, "distance $d$ from a typical solution",
        r"binary tree committee, $K\to\infty$: sign vs ReLU (RS Franz–Parisi)")


def main(quick=False, outdir=None):
    data = compute(quick)
    if data.get("margin_references"):
        fig, axes = new_figure(width=12, height=8.8, ncols=2, nrows=2)
        ax = axes[0, 0]
        plot_margin_references(data, axes[0, 1])
        plot_finite_k(data, axes[1, 0])
        plot_dense(data, axes[1, 1])
    else:
        fig, ax = new_figure()
    plot_committee_local_entropy(data, ax)
    out = save(fig, data, outdir, "committee_local_entropy")
    others = [c for key in ("margin_references", "finite_k", "dense")
              for c in data.get(key, {}).get("curves", {}).values()]
    out["ok"] = all(c["success"] for c in list(data["curves"].values()) + others)
    out["relu_higher_at_small_d"] = all(v["relu_higher_everywhere"]
                                        for v in data["comparison"].values())
    return out


if __name__ == "__main__":
    print(main())
