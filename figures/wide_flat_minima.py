r"""Figure: where wide flat minima exist — the (κ, α) plane of the binary perceptron.

Each grid point is classified by the replicated local entropy S_I(d) of the densest
regions at y = 20 (``reference="dense:y=20"``; Baldassi, Ingrosso, Lucibello, Saglietti,
Zecchina, PRL 115, 128101 (2015), Fig. 1; Baldassi et al., PRL 127, 278301 (2021)
for the α_U(κ) line, cf. its Fig. 2):

* UNSAT: α ≥ α_c(κ), the entropy-zero capacity (Krauth & Mézard 1989), no solutions;
* wide flat minima: S_I(d) monotonic over the distance grid and S_I at the smallest
  distance within half of the α = 0 bound (relative gap ≤ :data:`REL_GAP_CLOSE`);
* monotonic but far from the bound (the relative gap above that threshold);
* non-monotonic: a dip at intermediate d (≈ 0.02–0.04 at κ = 0), the dense regions
  have broken up;
* failed: the status of the curve (never hidden; drawn as crosses). Between α_U(κ)
  and α_c(κ) this is ``branch_ended``: the RS dense branch continued from its anchor
  folds back in d inside the distance window (at κ = 0, y = 20 it folds back in α at
  fixed d = 0.05 at α = 0.779; the curve then starts at d = 0.1 or 0.2, see
  ``solvers.local_entropy.DENSE_START_DISTANCES``, and ends at the fold distance).

The line α_U(κ) is located by :func:`solvers.diagrams.alpha_u` (bracket on the
monotonic flag, ``brentq`` on the smallest finite-difference slope, tolerance
:data:`TOL`) on the 24-point grid :data:`solvers.diagrams.DENSE_DISTANCES`, and the
capacity line α_c(κ) by the ``capacity`` scan. In full mode, α_U(κ = 0) is also
computed for y = 10, 20, 40 and extrapolated in 1/y² (S_I(y) ≈ S_∞ − c/y²), and
the curves at α_U ∓ :data:`DOUBLING_CHECK` are recomputed on the doubled (48-point)
distance grid: still monotonic / not monotonic means α_U moves by less than that.

Differences from the papers: RS throughout; finite y = 20 (the papers take y → ∞;
α_U(y) moves by O(1/y²), see the extrapolation in the data); a free (unconstrained)
centre; the diagram is coarse (grid step 0.05 in α, three margins).

Right panel (full mode): S_I(d) at κ = 0, α = :data:`SIGMA_ALPHA` for y = 20 and for
``dense:y=*`` (at every d the y* with external entropy Σ(y*) = 0: the densest centres
that exist), with Σ of the y = 20 curve. The large-y dip sits where Σ < 0, i.e. on
exponentially rare centres; the y* curve is monotonic there (README, "wide flat minima").

Run: ``python -m figures wide_flat_minima`` (first full run ~4 min;
reruns read the caches ``wide_flat_minima_grid.nc`` (scan journal/NetCDF) and
``wide_flat_minima_alpha_u.json``); data ``wide_flat_minima.json``.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from solvers import compile_model, scan
from solvers import local_entropy
from solvers.diagrams import DENSE_DISTANCES, alpha_u, curve_shape

from .plotting import as_float, new_figure, output_dir, save

__all__ = ["compute", "classify", "plot_wide_flat_minima", "plot_sigma_panel", "main",
           "extrapolate_y"]

MODEL = "binary-perceptron"
Y = 20
REFERENCE = f"dense:y={Y}"
#: tolerance on α_U (brentq xtol); a finer one costs ~1 curve (7 s) per halving
TOL = 2e-3
#: relative gap (bound − S_I)/bound at the smallest distance below which a monotonic
#: curve counts as "close to the α = 0 bound" (a figure choice: at y = 20 the
#: finite-y curve stays ~20 % below the bound at d = 0.005 even at α = 0.74, κ = 0)
REL_GAP_CLOSE = 0.5
FULL = {"alphas": np.round(np.arange(0.6, 0.851, 0.05), 3), "kappas": (0.0, 0.1, 0.2),
        "distances": DENSE_DISTANCES, "cap_kappas": np.linspace(0.0, 0.5, 11),
        "alpha_u_kappas": (0.0, 0.05, 0.1, 0.15, 0.2), "ys": (10, 20, 40)}
#: half-width of the doubled-grid check around alpha_U(kappa = 0): the curves on 48
#: distances at alpha_U -/+ DOUBLING_CHECK must be monotonic / not monotonic
DOUBLING_CHECK = 3e-3
QUICK = {"alphas": np.array([0.5, 0.8]), "kappas": (0.0, 0.3),
         "distances": tuple(np.geomspace(0.01, 0.06, 6)), "cap_kappas": np.linspace(0.0, 0.5, 6),
         "alpha_u_kappas": (0.0,), "ys": ()}
#: load of the right panel (κ = 0): just above α_U(y = 20) = 0.758, where the y = 20
#: curve exists over the whole window and has its dip (at 0.77 it folds at d = 0.043);
#: distances of its curves
SIGMA_ALPHA = 0.76
SIGMA_DISTANCES = tuple(float(v) for v in np.round(np.linspace(0.005, 0.1, 20), 4))
FULL["sigma_panel"] = True
CLASSES = ("UNSAT", "wide flat minima", "monotonic, far from bound", "non-monotonic", "failed")


def classify(status, monotonic, rel_gap):
    """The class of one grid point (one of :data:`CLASSES`)."""
    if status == "above_capacity":
        return "UNSAT"
    if status != "converged":
        return "failed"
    if monotonic != 1:
        return "non-monotonic"
    return "wide flat minima" if rel_gap <= REL_GAP_CLOSE else "monotonic, far from bound"


def extrapolate_y(ys, values):
    """Least-squares fit values ≈ a + b / y²; returns (a, b, max residual)."""
    ys, v = np.asarray(ys, float), np.asarray(values, float)
    A = np.stack([np.ones_like(ys), 1 / ys**2], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, v, rcond=None)
    return float(a), float(b), float(np.max(np.abs(A @ [a, b] - v)))


def _cached_alpha_u(cache, path, kappa, reference, distances, alpha_c, quick):
    key = json.dumps([MODEL, float(kappa), reference, [round(d, 12) for d in distances], TOL])
    if key not in cache:
        t = time.perf_counter()
        # at kappa = 0 the break is known to lie near 0.76 (y = 20); elsewhere search
        # upward from 0.85 alpha_c (alpha_U / alpha_c = 0.91 at kappa = 0)
        if quick:
            rng, step = (0.74, 0.78), 0.02
        elif kappa == 0:
            rng, step = (0.72, 0.80), 0.04
        else:
            rng, step = (0.85 * alpha_c, alpha_c - 2e-3), 0.05 * alpha_c
        r = alpha_u(MODEL, kappa, reference=reference, distances=distances,
                    tol=5e-3 if quick else TOL, alpha_range=rng, step=step)
        cache[key] = r.to_dict()
        print(f"  alpha_U(kappa={kappa}, {reference}, {len(distances)} distances) = "
              f"{r.alpha_u} [{r.status}] in {time.perf_counter() - t:.0f} s", flush=True)
        if path is not None:
            path.write_text(json.dumps(cache, indent=1))
    return cache[key]


def compute(quick=False, outdir=None):
    cfg = QUICK if quick else FULL
    t0 = time.perf_counter()
    m = compile_model(MODEL)
    out = output_dir(outdir)
    cap = scan(m, {"kappa": cfg["cap_kappas"]}, "capacity", progress=False)
    cap_line = {"kappa": cap.kappa.values.tolist(),
                "alpha_c": [None if s != "converged" else float(a) for a, s in
                            zip(cap.alpha_c.values, cap.status.values)],
                "status": [str(s) for s in cap.status.values]}
    ac = dict(zip(np.round(cap_line["kappa"], 12), cap_line["alpha_c"]))
    print(f"wide_flat_minima: capacity line done ({time.perf_counter() - t0:.0f} s)", flush=True)

    opts = {"reference": REFERENCE, "distances": [float(d) for d in cfg["distances"]]}
    grid = {"alpha": cfg["alphas"], "kappa": np.asarray(cfg["kappas"], float)}
    nc = None if quick else out / "wide_flat_minima_grid.nc"
    ds = None
    if nc is not None and nc.exists():
        import xarray as xr
        with xr.open_dataset(nc, engine="h5netcdf") as old:
            old.load()
        if (old.attrs.get("complete") == 1 and json.loads(old.attrs["options"]) == opts
                and np.array_equal(old.alpha.values, grid["alpha"])
                and np.array_equal(old.kappa.values, grid["kappa"])):
            ds = old
    if ds is None:
        def report(done, total):
            print(f"  grid {done}/{total} points ({time.perf_counter() - t0:.0f} s)", flush=True)
        ds = scan(m, grid, "local_entropy_shape", out=nc, resume=nc is not None,
                  progress=report, options=opts, block_size=1)
        if nc is not None:
            (out / "wide_flat_minima_grid.nc.journal").unlink(missing_ok=True)
    points = []
    for a in ds.alpha.values:
        for k in ds.kappa.values:
            p = ds.sel(alpha=a, kappa=k)
            st, mono = str(p.status.values), int(p.monotonic.values)
            rg = float(p.relative_gap_small.values)
            points.append({"alpha": float(a), "kappa": float(k), "status": st,
                           "monotonic": None if mono < 0 else bool(mono),
                           "relative_gap_small": None if math.isnan(rg) else rg,
                           "min_slope": None if st != "converged" else float(p.min_slope.values),
                           "class": classify(st, mono, rg)})
    print(f"wide_flat_minima: grid done ({time.perf_counter() - t0:.0f} s)", flush=True)

    cpath = None if quick else out / "wide_flat_minima_alpha_u.json"
    cache = json.loads(cpath.read_text()) if cpath is not None and cpath.exists() else {}
    line = []
    for k in cfg["alpha_u_kappas"]:
        a_c = ac.get(round(float(k), 12))
        line.append(_cached_alpha_u(cache, cpath, k, REFERENCE, cfg["distances"], a_c, quick))
    extra = {}
    if cfg["ys"]:
        a_c0 = ac[0.0]
        dd = [float(v) for v in np.geomspace(min(cfg["distances"]), max(cfg["distances"]),
                                             2 * len(cfg["distances"]))]
        a0 = line[0]["alpha_u"]
        chk = {"points": len(dd), "alpha_u_default": a0, "half_width": DOUBLING_CHECK}
        if a0 is not None:
            for side, da in (("below", -DOUBLING_CHECK), ("above", DOUBLING_CHECK)):
                key = json.dumps(["doubled", a0 + da, REFERENCE, len(dd)])
                if key not in cache:
                    t = time.perf_counter()
                    c = local_entropy(MODEL, {"alpha": a0 + da, "kappa": 0.0},
                                      reference=REFERENCE, distances=dd)
                    cache[key] = curve_shape(c).to_dict()
                    print(f"  doubled grid at alpha={a0 + da:.5f}: monotonic="
                          f"{cache[key]['monotonic']} ({time.perf_counter() - t:.0f} s)", flush=True)
                    cpath.write_text(json.dumps(cache, indent=1))
                chk[side] = {"alpha": a0 + da, **cache[key]}
            chk["unchanged"] = (chk["below"]["monotonic"] is True
                                and chk["above"]["monotonic"] is False)
        extra["doubled_grid"] = chk
        by_y = {y: _cached_alpha_u(cache, cpath, 0.0, f"dense:y={y}", cfg["distances"], a_c0, quick)
                for y in cfg["ys"]}
        ok = [y for y, r in by_y.items() if r["status"] == "converged"]
        extra["alpha_u_by_y"] = {str(y): by_y[y]["alpha_u"] for y in cfg["ys"]}
        extra["alpha_u_status_by_y"] = {str(y): by_y[y]["status"] for y in cfg["ys"]}
        if len(ok) >= 2:
            a_inf, b, resid = extrapolate_y(ok, [by_y[y]["alpha_u"] for y in ok])
            extra["alpha_u_extrapolated"] = {"alpha_u_inf": a_inf, "slope_1_over_y2": b,
                                             "max_residual": resid, "ys": ok}
    if cfg.get("sigma_panel"):
        extra["sigma_panel"] = _sigma_panel(cache, cpath)
    return {"model": MODEL, "reference": REFERENCE, "y": Y, "tol": TOL,
            "rel_gap_close": REL_GAP_CLOSE, "distances": [float(d) for d in cfg["distances"]],
            "capacity": cap_line, "points": points, "alpha_u": line, **extra,
            "seconds": time.perf_counter() - t0}


def _sigma_panel(cache, cpath):
    """The right panel's curves (cached in the alpha_U cache file)."""
    out = {"alpha": SIGMA_ALPHA, "kappa": 0.0}
    for ref in (REFERENCE, "dense:y=*"):
        key = json.dumps(["sigma_panel", ref, SIGMA_ALPHA, SIGMA_DISTANCES])
        if key not in cache:
            t = time.perf_counter()
            c = local_entropy(MODEL, {"alpha": SIGMA_ALPHA, "kappa": 0.0}, reference=ref,
                              distances=list(SIGMA_DISTANCES))
            cache[key] = {"distance": c.distance, "local_entropy": c.local_entropy,
                          "external_entropy": c.external_entropy, "status": c.status,
                          "y": c.variables.get("y"), "monotonic": c.monotonic,
                          "message": c.message}
            print(f"  {ref} at alpha={SIGMA_ALPHA}: {c.message} ({time.perf_counter() - t:.0f} s)",
                  flush=True)
            if cpath is not None:
                cpath.write_text(json.dumps(cache, indent=1))
        out[ref] = cache[key]
    return out


def plot_sigma_panel(panel, ax):
    """S_I(d) at y = 20 and y = y*, and Σ at y = 20 (reads results only)."""
    fixed, star = panel[REFERENCE], panel["dense:y=*"]
    d = as_float(fixed["distance"])
    ax.plot(d, as_float(fixed["local_entropy"]), "C3-", label=rf"$S_I$, y = {Y}")
    ax.plot(as_float(star["distance"]), as_float(star["local_entropy"]), "C2-", lw=2,
            label=r"$S_I$, y = y* ($\Sigma = 0$)")
    sig = as_float(fixed["external_entropy"])
    neg = sig < 0
    if neg.any():
        ax.fill_between(d, 0, 1, where=neg, color="0.9", transform=ax.get_xaxis_transform(),
                        label=rf"$\Sigma(y = {Y}) < 0$: centres exponentially rare")
    for c, col, name in ((fixed, "C3", f"y = {Y}"), (star, "C2", "y = y*")):
        bad = [(x, st) for x, st in zip(c["distance"], c["status"]) if st != "converged"]
        if bad:
            ax.plot([x for x, _ in bad], np.zeros(len(bad)), "x", color=col,
                    label=f"{name}: " + ", ".join(sorted({st for _, st in bad})))
    ax.set_xlabel("distance d")
    ax.set_ylabel(r"local entropy $S_I(d)$")
    ax.set_title(rf"dense regions, $\kappa = 0$, $\alpha = {panel['alpha']}$", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_wide_flat_minima(data, ax):
    """Draw the classified grid, α_c(κ) and α_U(κ) (reads results only)."""
    c = data["capacity"]
    k = np.array(c["kappa"])
    a = as_float(c["alpha_c"])
    ax.plot(k, a, "k-", label=r"capacity $\alpha_c(\kappa)$")
    bad = np.array([s != "converged" for s in c["status"]])
    if bad.any():
        ax.plot(k[bad], np.zeros(bad.sum()), "kx", label=r"$\alpha_c$ not converged")
    style = {"UNSAT": ("s", "0.8"), "wide flat minima": ("o", "C2"),
             "monotonic, far from bound": ("o", "C1"), "non-monotonic": ("v", "C3"),
             "failed": ("x", "k")}
    for cls in CLASSES:
        pts = [p for p in data["points"] if p["class"] == cls]
        if pts:
            mk, col = style[cls]
            lab = cls if cls != "failed" else "failed: " + ", ".join(sorted({p["status"] for p in pts}))
            ax.plot([p["kappa"] for p in pts], [p["alpha"] for p in pts], mk, color=col,
                    ms=6, ls="none", label=lab)
    ok = [r for r in data["alpha_u"] if r["status"] == "converged"]
    if ok:
        ax.plot([r["kappa"] for r in ok], [r["alpha_u"] for r in ok], "-", color="C0", lw=2,
                marker="D", ms=4, label=rf"$\alpha_U(\kappa)$ (y = {data['y']}, monotonicity breaks)")
    lab = False
    for r in data["alpha_u"]:
        if r["status"] != "converged":
            lo = (r.get("bracket") or [None])[0]
            if lo is not None:  # the last monotonic alpha: alpha_U lies above it
                ax.plot(r["kappa"], lo, "^", color="C0", mfc="none", ms=8,
                        label=None if lab else r"$\alpha_U$ not located: last monotonic $\alpha$")
                lab = True
            ax.annotate(r["status"], (r["kappa"], lo if lo is not None else 0.31),
                        textcoords="offset points", xytext=(5, -10), fontsize=7, color="C0")
    ext = data.get("alpha_u_extrapolated")
    if ext:
        ax.plot([0.0], [ext["alpha_u_inf"]], "*", color="C4", ms=10,
                label=rf"$\alpha_U(\kappa=0)$, $y\to\infty$ (1/y² fit of y = {ext['ys']})")
    ax.set_xlabel(r"margin $\kappa$")
    ax.set_ylabel(r"load $\alpha$")
    ax.set_ylim(0.5, 0.9)
    ax.set_title(f"binary perceptron: wide flat minima (RS, dense regions at y = {data['y']})",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return ax


def main(quick=False, outdir=None):
    data = compute(quick, outdir)
    if data.get("sigma_panel"):
        fig, (ax, ax2) = new_figure(width=11.5, ncols=2, width_ratios=(1.2, 1))
        plot_sigma_panel(data["sigma_panel"], ax2)
    else:
        fig, ax = new_figure()
    plot_wide_flat_minima(data, ax)
    out = save(fig, data, outdir, "wide_flat_minima")
    # ok: the capacity line and alpha_U(kappa = 0) were located; alpha_U at kappa > 0
    # may end with a status (then its bracket is in the data)
    out["ok"] = (data["alpha_u"][0]["status"] == "converged"
                 and all(s == "converged" for s in data["capacity"]["status"]))
    return out


if __name__ == "__main__":
    print(main())
