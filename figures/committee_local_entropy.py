r"""Figure: local entropy S(d) around typical solutions of the K → ∞ binary tree
committee, sign vs ReLU hidden units at equal load α.

Corresponds to the local-entropy comparison of Baldassi, Malatesta & Zecchina, PRL 123,
170602 (2019), arXiv 1907.07578 ("BMZ 2019": ReLU solutions lie in wider minima than
sign ones). Here: ±1 weights, K → ∞ (the output is Gaussian with the kernel overlap Q(q),
:mod:`replica.committee`), RS Franz–Parisi around *typical* (equilibrium) solutions
(:mod:`replica.franz_parisi`, energetic term on the Q-mapped overlaps), at α = 0.3 and
0.6 (below both RS capacities, sign 0.947 and ReLU 0.904), with the α = 0 bound
−d ln d − (1−d) ln(1−d). Differences from the paper: K = ∞ rather than finite K, RS
rather than 1RSB, and typical references rather than the paper's local-energy /
algorithmic probes; finite K has no FP ansatz in this toolkit. Points that did not
converge are not drawn and are listed in the data file with their status.

Right panel (full mode): at α = :data:`MARGIN_ALPHA`, κ = 0, the curves around
references of output margin κ̃ = :data:`KAPPA_REFS` (0 = typical;
``binary-tree-committee-margin`` family), sign and ReLU: the ordering "larger κ̃ ⇒
higher small-d local entropy" of Baldassi et al., PRL 127, 278301 (2021) (shown there
for perceptrons) holds for both committees; with references at κ̃ = 0.4 the sign
committee reaches the positive local entropy that ReLU has around typical solutions.

Run: ``python -m figures committee_local_entropy``
(data: figures/output/committee_local_entropy.json).
"""

from __future__ import annotations

import numpy as np

from solvers.local_entropy import local_entropy

from .plotting import as_float, finish_local_entropy_axes, new_figure, save

__all__ = ["compute", "main", "plot_committee_local_entropy", "plot_margin_references"]

ALPHAS = (0.3, 0.6)
ACTIVATIONS = ("sign", "relu")
#: small-distance window in which the two activations are compared (the BMZ claim is
#: about the neighbourhood of a solution)
SMALL_D = 0.05
#: load and reference margins of the right panel (κ = 0; κ̃ below κ_max of both
#: committees at this load: their capacities at κ = 0.3 are 0.67 / 0.63 > 0.5)
MARGIN_ALPHA = 0.5
KAPPA_REFS = (0.0, 0.2, 0.4)


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
    return {"K": "inf", "weights": "binary", "reference": "typical", "alphas": list(alphas),
            "curves": curves, "comparison": comparison,
            **({"margin_references": {"alpha": MARGIN_ALPHA, "kappa": 0.0,
                                      "kappa_refs": list(KAPPA_REFS), "curves": margin}}
               if margin else {})}


def plot_margin_references(data, ax):
    """S(d) around references of output margin κ̃, sign and ReLU (reads results only)."""
    mr = data["margin_references"]
    first = next(iter(mr["curves"].values()))
    ax.plot(first["distance"], first["alpha0_bound"], "k:", label=r"$\alpha=0$ bound")
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
    first = next(iter(data["curves"].values()))
    ax.plot(first["distance"], first["alpha0_bound"], "k:", label=r"$\alpha=0$ bound")
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
        fig, (ax, ax2) = new_figure(width=12, ncols=2)
        plot_margin_references(data, ax2)
    else:
        fig, ax = new_figure()
    plot_committee_local_entropy(data, ax)
    out = save(fig, data, outdir, "committee_local_entropy")
    out["ok"] = all(c["success"] for c in data["curves"].values()) and all(
        c["success"] for c in data.get("margin_references", {}).get("curves", {}).values())
    out["relu_higher_at_small_d"] = all(v["relu_higher_everywhere"]
                                        for v in data["comparison"].values())
    return out


if __name__ == "__main__":
    print(main())
