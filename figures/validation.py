r"""Figures: finite-N experiments against the replica predictions (:mod:`solvers.validation`).

Three images, each with its data (JSON) beside it in ``figures/output/``:

* ``validation_spherical``: probability that P = αN Gaussian patterns with random labels
  are separable with margin κ (certified max-margin solve per instance), against α for
  several N, with ±1σ Wilson error bars; κ = 0 with Cover's exact finite-N formula
  (Cover 1965) and Gardner's α_c = 2; κ = 0.5 with the RS α_c(0.5) = 0.9612 (Gardner,
  J. Phys. A 21, 257 (1988), eq. (33)).
* ``validation_binary_entropy``: exact enumeration of the ±1 perceptron (κ = 0): the
  quenched entropy (1/N)⟨ln 𝒩⟩ over instances with solutions, against α for several N,
  with the RS entropy (Gardner & Derrida 1988), the annealed (1 − α) ln 2 and the
  Krauth–Mézard capacity; right, the difference to RS against 1/N with weighted fits
  a + b/N (the finite-size trend).
* ``validation_fp``: finite-N Franz–Parisi curves at α = 1/3 (αN integer for N = 9, 15,
  21, 27): the solution count at Hamming distance k from reference solutions, as
  (1/N) ln(𝒩_k / C(N, k)) (the log-fraction of the weight vectors at distance k that are
  solutions; dividing by the α = 0 count removes the leading Stirling correction), against
  the RS S(d) − H₂(d) (:func:`solvers.local_entropy.local_entropy`). Left: typical
  references (Huang & Kabashima 2014); right: high-margin references at the largest N —
  uniform among solutions with every field ≥ 3 (margin 3/√N), the max-margin and the
  densest (most neighbours at distance 1) solution — against RS ``margin=3/√N``.
  With ±1 patterns and odd N the counts alternate with the parity of k (a lattice
  effect: at N = 27 the odd-k points lie within 0.008 of the RS curve, the even-k points
  about 0.015 above it).
  ``--quick`` skips the RS Franz–Parisi curves (compiling the FP functional alone takes
  about a minute); the data file says so.

Run: ``python -m figures validation [--quick]``.
"""

from __future__ import annotations

import math

import numpy as np

from solvers import capacity, compile_model, solve_saddle
from solvers.validation import cover_probability, enumerate_binary, separability

from .plotting import as_float, new_figure, save

__all__ = ["compute_spherical", "compute_binary_entropy", "compute_fp", "draw", "plot_separability",
           "plot_binary_entropy", "plot_finite_size", "plot_fp", "main"]

SEED = 0
FP_ALPHA = 1.0 / 3.0


# ------------------------------------------------------------------------- compute
#: (N, instances per point, LP-checked instances per point) of the spherical experiment:
#: the NNLS solve costs ~0.07 s at N = 400, P = 800 and the LP ~1 s, so the LP checks
#: stop at N = 200 and the largest N gets fewer instances.
SPHERICAL_FULL = ((50, 200, 2), (100, 200, 2), (200, 100, 2), (400, 50, 0))
SPHERICAL_QUICK = ((25, 30, 2), (50, 30, 2))


def compute_spherical(quick=False):
    plan = SPHERICAL_QUICK if quick else SPHERICAL_FULL
    a0 = np.linspace(1.5, 2.5, 5 if quick else 11)
    a5 = np.linspace(0.6, 1.4, 5 if quick else 9)
    r0 = [separability(0.0, [n], a0, samples=s, seed=SEED, lp_checks=lp).to_dict() for n, s, lp in plan]
    r5 = [separability(0.5, [n], a5, samples=s, seed=SEED, lp_checks=0).to_dict() for n, s, _ in plan]
    cover = {}
    for n, _, _ in plan:  # Cover's formula at every integer P of the plotted range
        P = np.arange(int(1.45 * n), int(2.55 * n) + 1)
        cover[str(n)] = {"alpha": (P / n).tolist(), "probability": [cover_probability(n, p) for p in P]}
    return {"kappa0": r0, "kappa05": r5, "cover_curves": cover}


def compute_binary_entropy(quick=False):
    Ns = [11, 13, 15] if quick else [13, 15, 17, 19, 21, 23, 25]
    alphas = np.linspace(0.1, 0.8, 4 if quick else 8)
    r = enumerate_binary(0.0, Ns, alphas, samples=20 if quick else 100, seed=SEED)
    m = compile_model("binary-perceptron")
    ac = capacity(m, {"kappa": 0.0})
    ag = np.linspace(0.02, 0.9, 12 if quick else 45)
    rs = [solve_saddle(m, {"alpha": float(a), "kappa": 0.0}) for a in ag]
    return {"enumeration": r.to_dict(),
            "rs_curve": {"alpha": ag.tolist(),
                         "entropy": [s.free_entropy if s.success else None for s in rs],
                         "status": [s.status for s in rs]},
            "alpha_km": ac.alpha_c if ac.success else None, "alpha_km_status": ac.status}


def compute_fp(quick=False):
    Ns = [9, 15] if quick else [15, 21, 27]
    nmax = Ns[-1]
    kref = 3 / math.sqrt(nmax)
    typ = enumerate_binary(0.0, Ns, [FP_ALPHA], samples=20 if quick else 60, seed=SEED,
                           references=["typical"])
    high = enumerate_binary(0.0, [nmax], [FP_ALPHA], samples=20 if quick else 60, seed=SEED,
                            references=[f"margin={kref}", "max-margin", "densest"], dense_radius=1)
    theory = None
    if not quick:
        from solvers.local_entropy import local_entropy
        ds = np.arange(1, nmax // 2 + 1) / nmax
        theory = {}
        for name, ref in (("typical", "typical"), ("margin", f"margin={kref}")):
            c = local_entropy("binary-perceptron", {"alpha": FP_ALPHA, "kappa": 0.0},
                              reference=ref, distances=ds)
            theory[name] = c.to_dict()
    return {"alpha": FP_ALPHA, "kappa": 0.0, "kappa_ref": kref, "typical": typ.to_dict(),
            "high_margin": high.to_dict(), "theory": theory,
            "theory_note": None if theory else "quick mode: RS Franz-Parisi curves not computed"}


# ---------------------------------------------------------------------------- plot
def plot_separability(results, ax, *, cover=None, title=None):
    """P(separable) vs α for each N from SeparabilityResult dicts (one κ, one N each),
    with Wilson ±1σ error bars, Cover's curves (κ = 0) and the replica α_c (reads only)."""
    for j, res in enumerate(results):
        n = res["N"][0]
        a = np.array(res["alpha_eff"][0])
        p = np.array(res["probability"][0][0])
        lo, hi = np.array(res["ci_low"][0][0]), np.array(res["ci_high"][0][0])
        ax.errorbar(a, p, yerr=[np.maximum(p - lo, 0), np.maximum(hi - p, 0)], fmt="o", ms=3,
                    capsize=2, color=f"C{j}", label=f"N = {n} ({res['samples']} instances)")
        if cover and str(n) in cover:
            ax.plot(cover[str(n)]["alpha"], cover[str(n)]["probability"], "-", lw=0.8,
                    color=f"C{j}")
    ac = results[0]["alpha_c"][0]
    if ac is not None:
        ax.axvline(ac, color="k", ls="--", lw=0.8, label=rf"replica $\alpha_c$ = {ac:.4f}")
    ax.axhline(0.5, color="0.7", lw=0.6)
    ax.set_xlabel(r"$\alpha = P/N$")
    ax.set_ylabel("P(separable)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return ax


def plot_binary_entropy(data, ax):
    r = data["enumeration"]
    for j, n in enumerate(r["N"]):
        ax.errorbar(r["alpha_eff"][j], as_float(r["entropy"][j]),
                    yerr=as_float(r["entropy_stderr"][j]), fmt="o", ms=3, capsize=2,
                    color=f"C{j % 10}", label=f"N = {n}")
    rc = data["rs_curve"]
    ax.plot(rc["alpha"], as_float(rc["entropy"]), "k-", label="RS (Gardner–Derrida)")
    ag = np.array(rc["alpha"])
    ax.plot(ag, (1 - ag) * math.log(2), "k:", label=r"annealed $(1-\alpha)\ln 2$")
    if data["alpha_km"] is not None:
        ax.axvline(data["alpha_km"], color="0.5", ls="--", lw=0.8,
                   label=rf"$\alpha_{{KM}}$ = {data['alpha_km']:.4f}")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.set_xlabel(r"$\alpha = P/N$")
    ax.set_ylabel(r"$\frac{1}{N}\langle\ln\mathcal{N}\rangle$ (instances with solutions)")
    ax.set_title(r"binary perceptron, $\kappa=0$: exact enumeration", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    return ax


def plot_finite_size(data, ax):
    r = data["enumeration"]
    x = 1 / np.array(r["N"], float)
    for a, (alpha, fit) in enumerate(zip(r["alpha"], r["finite_size"])):
        y = [None if r["entropy"][j][a] is None or r["rs_entropy"][j][a] is None
             else r["entropy"][j][a] - r["rs_entropy"][j][a] for j in range(len(x))]
        e = [r["entropy_stderr"][j][a] for j in range(len(x))]
        ax.errorbar(x, as_float(y), yerr=as_float(e), fmt="o", ms=3, capsize=2,
                    color=f"C{a}", label=rf"$\alpha$ = {alpha:.2f}")
        if fit["intercept"] is not None:
            xx = np.linspace(0, x.max(), 20)
            ax.plot(xx, fit["intercept"] + fit["slope"] * xx, "-", lw=0.7, color=f"C{a}")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel(r"$1/N$")
    ax.set_ylabel(r"$s_N - s_{RS}(\alpha_{\rm eff})$")
    ax.set_title("finite-size trend (fits a + b/N)", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    return ax


def _excess(curve, kind):
    """(1/N) ln(N_k / C(N,k)) for k = 1..N/2 (kind: annealed or quenched)."""
    kk = [k for k in curve["k"] if 0 < k <= max(curve["k"]) // 2]
    v = as_float([curve[kind][k] for k in kk]) - np.array([curve["alpha0"][k] for k in kk])
    return np.array([curve["distance"][k] for k in kk]), v, kk


def _err(curve, key, kk):
    """Error bars of a finite-N FP curve at the indices kk (NaN where unavailable, e.g. a
    single instance)."""
    e = curve[key]
    return as_float([None if e is None else e[k] for k in kk])


def _theory_excess(c):
    d = np.array(c["distance"])
    s = as_float(c["local_entropy"])
    return d, s - (-d * np.log(d) - (1 - d) * np.log1p(-d))


def plot_fp(data, ax_typ, ax_high):
    typ = data["typical"]
    for j, n in enumerate(typ["N"]):
        c = typ["distances"]["typical"][j][0]
        if c is None:
            continue
        d, v, kk = _excess(c, "annealed")
        ax_typ.errorbar(d, v, yerr=_err(c, "annealed_stderr", kk), fmt="o-",
                        ms=3, lw=0.6, capsize=1, color=f"C{j}",
                        label=rf"N = {n}, $\frac{{1}}{{N}}\ln\langle\mathcal{{N}}_k\rangle$")
        d, v, kk = _excess(c, "quenched")
        ax_typ.errorbar(d, v, yerr=_err(c, "quenched_stderr", kk), fmt="s",
                        mfc="none", ms=3, capsize=1, color=f"C{j}", label=rf"N = {n}, $\langle\frac{{1}}{{N}}\ln\mathcal{{N}}_k\rangle$")
    th = data.get("theory")
    if th:
        d, v = _theory_excess(th["typical"])
        ax_typ.plot(d, v, "k-", label="RS Franz–Parisi, typical reference")
        d, v = _theory_excess(th["margin"])
        ax_high.plot(d, v, "k-", label=rf"RS, margin $\tilde\kappa$ = {data['kappa_ref']:.3f}")
    high = data["high_margin"]
    for i, (ref, rows) in enumerate(high["distances"].items()):
        c = rows[0][0]
        if c is None:
            continue
        d, v, kk = _excess(c, "annealed")
        name = "uniform, every field ≥ 3" if ref.startswith("margin=") else ref
        ax_high.errorbar(d, v, yerr=_err(c, "annealed_stderr", kk), fmt="o-",
                         ms=3, lw=0.6, capsize=1, color=f"C{i + 3}",
                         label=f"N = {high['N'][0]}, {name} (mean margin {c['reference_margin']:.2f})")
    for ax, t in ((ax_typ, "around typical solutions"), (ax_high, "around high-margin solutions")):
        ax.axhline(0, color="0.8", lw=0.6)
        ax.set_xlabel("distance $d = k/N$")
        ax.set_ylabel(r"$\frac{1}{N}\ln(\mathcal{N}_k/\binom{N}{k})$  vs  $S(d) - H_2(d)$")
        ax.set_title(rf"binary perceptron, $\alpha$ = {data['alpha']:.3f}: {t}"
                     + ("" if th else " (quick: no RS curve)"), fontsize=8)
        ax.legend(fontsize=6)
    return ax_typ, ax_high


def _save(fig, data, outdir, stem):
    p = save(fig, data, outdir, stem)
    p["pdf"] = p["png"].with_suffix(".pdf")
    fig.savefig(p["pdf"])
    return p


def draw(kind, data):
    """A Figure for ``kind`` in {"spherical", "binary_entropy", "fp"} from its saved data
    (the JSON beside the image): the plots only read results."""
    fig, (a1, a2) = new_figure(10, 4.2, ncols=2)
    if kind == "spherical":
        plot_separability(data["kappa0"], a1, cover=data["cover_curves"],
                          title=r"spherical perceptron, $\kappa = 0$ (lines: Cover's exact formula)")
        plot_separability(data["kappa05"], a2, title=r"spherical perceptron, $\kappa = 0.5$")
    elif kind == "binary_entropy":
        plot_binary_entropy(data, a1)
        plot_finite_size(data, a2)
    else:
        plot_fp(data, a1, a2)
    return fig


def main(quick=False, outdir=None):
    out, ok = {}, True
    sph = compute_spherical(quick)
    fig = draw("spherical", sph)
    p = _save(fig, sph, outdir, "validation_spherical")
    out["spherical_png"], out["spherical_pdf"], out["spherical_data"] = p["png"], p["pdf"], p["data"]
    ok &= all(r["success"] for r in sph["kappa0"] + sph["kappa05"])

    ent = compute_binary_entropy(quick)
    fig = draw("binary_entropy", ent)
    p = _save(fig, ent, outdir, "validation_binary_entropy")
    out["binary_entropy_png"], out["binary_entropy_pdf"] = p["png"], p["pdf"]
    out["binary_entropy_data"] = p["data"]
    ok &= ent["enumeration"]["success"] and ent["alpha_km"] is not None

    fp = compute_fp(quick)
    fig = draw("fp", fp)
    p = _save(fig, fp, outdir, "validation_fp")
    out["fp_png"], out["fp_pdf"], out["fp_data"] = p["png"], p["pdf"], p["data"]
    ok &= fp["typical"]["success"] and fp["high_margin"]["success"]
    if fp["theory"]:
        ok &= all(c["success"] for c in fp["theory"].values())
    out["ok"] = bool(ok)
    return out


if __name__ == "__main__":
    print(main())
