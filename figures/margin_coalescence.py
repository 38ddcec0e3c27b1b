r"""Figure: high-margin solutions and their local entropy — where the minima coalesce.

Baldassi, Lauditi, Malatesta, Perugini, Zecchina, PRL 127, 278301 (2021), "Unveiling
the structure of wide flat minima" (arXiv 2107.01163), Figs. 1–2: the Franz–Parisi
local entropy S(d) of κ = 0 solutions of the binary perceptron around reference
solutions of margin κ̃ approaches the α = 0 bound at small d as κ̃ → κ_max(α), the
largest margin at which solutions exist (α_c(κ_max) = α, entropy-zero capacity,
root-found by :func:`solvers.diagrams.kappa_max`). Drawn in the (α, κ̃) plane:

* the line κ_max(α);
* at grid points (α, κ̃ = f·κ_max(α)), f ∈ :data:`FRACTIONS` (f = 0: typical
  reference, Huang & Kabashima 2014): the gap bound(d) − S(d) at d = 0.01 (colour,
  log scale) and whether S(d) is monotonic for d ≤ the typical distance (filled: yes,
  open: no); failed curves are crosses with their status;
* the "alternative" estimate of α_U of the abstract: the load where the curve around
  references of margin κ̃ = :data:`F_ALPHA_U`·κ_max(α) stops being monotonic
  (:func:`solvers.diagrams.alpha_u` with :func:`solvers.diagrams.margin_reference`),
  next to the dense-route α_U(κ = 0) at y = 20 from ``wide_flat_minima`` when its data
  are present.

Differences from the paper: RS throughout (the paper's Fig. 1 is RS too); κ̃ a fixed
fraction 0.9 of κ_max instead of the limit κ̃ → κ_max (the curves at f = 0.9 and 0.98
differ by < 3e-4 in S at α = 0.7, measured); coarse grids (11 distances on
[0.001, 0.32], three loads in the committed run).

Run: ``python -m figures margin_coalescence`` (first full run ~1 min,
curves cached in ``margin_coalescence_cache.json``); data ``margin_coalescence.json``.
"""

from __future__ import annotations

import json
import time

import numpy as np

from solvers import local_entropy
from solvers.diagrams import alpha_u, curve_shape, kappa_max, margin_reference

from .plotting import new_figure, output_dir, save

__all__ = ["compute", "plot_margin_coalescence", "main"]

MODEL = "binary-perceptron"
#: κ̃ / κ_max(α) of the references
FRACTIONS = (0.0, 0.5, 0.9)
#: κ̃ / κ_max(α) of the references for the margin-route α_U
F_ALPHA_U = 0.9
#: distance where the gap to the α = 0 bound is read
D_GAP = 0.01
#: full mode as run for the committed outputs: three loads (each margin curve takes
#: 1–3 min on a shared core) and the margin-route α_U searched in [0.70, 0.76] (about
#: 1 min: 0.7236 at κ̃ = 0.9 κ_max)
FULL = {"alphas": (0.5, 0.6, 0.7), "kmax_alphas": np.round(np.linspace(0.3, 0.82, 14), 3),
        "distances": tuple(float(v) for v in 10 ** np.linspace(-3, -0.5, 11)),
        "alpha_u_range": (0.70, 0.76), "tol": 3e-3}
QUICK = {"alphas": (0.4,), "fractions": (0.0, 0.9), "kmax_alphas": np.array([0.4, 0.6, 0.8]),
         "distances": (0.01, 0.03, 0.1), "alpha_u_range": None}


def _curve(cache, path, alpha, ref, distances):
    key = json.dumps([MODEL, float(alpha), ref, [round(d, 12) for d in distances]])
    if key not in cache:
        t = time.perf_counter()
        c = local_entropy(MODEL, {"alpha": float(alpha), "kappa": 0.0}, reference=ref,
                          distances=list(distances))
        cache[key] = {"curve": c.to_dict(), "shape": curve_shape(c).to_dict()}
        print(f"  curve alpha={alpha} {ref}: {curve_shape(c).status} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
        if path is not None:
            path.write_text(json.dumps(cache))
    return cache[key]


def compute(quick=False, outdir=None):
    cfg = QUICK if quick else FULL
    t0 = time.perf_counter()
    out = output_dir(outdir)
    cpath = None if quick else out / "margin_coalescence_cache.json"
    cache = json.loads(cpath.read_text()) if cpath is not None and cpath.exists() else {}

    km_line = [kappa_max(MODEL, float(a)).to_dict() for a in cfg["kmax_alphas"]]
    print(f"margin_coalescence: kappa_max line ({time.perf_counter() - t0:.0f} s)", flush=True)
    dist = list(cfg["distances"])
    i_gap = int(np.argmin(np.abs(np.asarray(dist) - D_GAP)))
    points = []
    for a in cfg["alphas"]:
        km = kappa_max(MODEL, float(a))
        for f in cfg.get("fractions", FRACTIONS):
            p = {"alpha": float(a), "fraction": float(f), "kappa_max": km.kappa_max}
            if not km.success:
                points.append({**p, "status": "kappa_max_" + km.status})
                continue
            kt = f * km.kappa_max
            ref = "typical" if f == 0 else f"margin={kt!r}"
            e = _curve(cache, cpath, a, ref, dist)
            c, sh = e["curve"], e["shape"]
            st_gap = c["status"][i_gap]
            points.append({**p, "kappa_ref": kt, "reference": ref, "status": sh["status"],
                           "monotonic": sh["monotonic"], "min_slope": sh["min_slope"],
                           "argmin_distance": sh["argmin_distance"],
                           "gap_distance": dist[i_gap], "gap_status": st_gap,
                           "gap": (c["alpha0_bound"][i_gap] - c["local_entropy"][i_gap]
                                   if st_gap == "converged" else None),
                           "typical_distance": c["typical_distance"],
                           "distance": c["distance"], "local_entropy": c["local_entropy"],
                           "alpha0_bound": c["alpha0_bound"]})
    print(f"margin_coalescence: grid ({time.perf_counter() - t0:.0f} s)", flush=True)

    data = {"model": MODEL, "kappa": 0.0, "distances": dist, "gap_distance": dist[i_gap],
            "kappa_max": km_line, "points": points}
    if cfg["alpha_u_range"] is not None:
        key = json.dumps(["alpha_u", F_ALPHA_U, dist, cfg["alpha_u_range"], cfg["tol"]])
        if key not in cache:
            t = time.perf_counter()
            lo, hi = cfg["alpha_u_range"]
            r = alpha_u(MODEL, 0.0, reference=margin_reference(F_ALPHA_U), distances=dist,
                        tol=cfg["tol"], alpha_range=(lo, hi), step=hi - lo)
            cache[key] = r.to_dict()
            print(f"  margin-route alpha_U = {r.alpha_u} [{r.status}] "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)
            cpath.write_text(json.dumps(cache))
        data["alpha_u_margin"] = cache[key]
    # the dense-route α_U(κ = 0) for comparison, read from the wide_flat_minima data
    wfm = out / "wide_flat_minima.json"
    if (cfg["alpha_u_range"] is not None or not quick) and wfm.exists():
        w = json.loads(wfm.read_text())
        r0 = next((r for r in w["alpha_u"] if r["kappa"] == 0.0), None)
        if r0 is not None:
            data["alpha_u_dense"] = {"y": w["y"], "alpha_u": r0["alpha_u"],
                                     "status": r0["status"]}
    data["seconds"] = time.perf_counter() - t0
    return data


def plot_margin_coalescence(data, ax):
    """Draw κ_max(α), the classified grid and the α_U estimates (reads results only)."""
    from matplotlib import cm, colors
    km = [r for r in data["kappa_max"] if r["status"] == "converged"]
    ax.plot([r["alpha"] for r in km], [r["kappa_max"] for r in km], "k-",
            label=r"$\kappa_{\max}(\alpha)$: $\alpha_c(\kappa_{\max})=\alpha$")
    bad = [r for r in data["kappa_max"] if r["status"] != "converged"]
    if bad:
        ax.plot([r["alpha"] for r in bad], [0] * len(bad), "kx", label=r"$\kappa_{\max}$ failed")
    gaps = [p["gap"] for p in data["points"] if p.get("gap") is not None and p["gap"] > 0]
    norm = colors.LogNorm(vmin=max(min(gaps), 1e-8), vmax=max(gaps)) if gaps else None
    cmap = cm.viridis
    lab_m = lab_n = lab_f = False
    for p in data["points"]:
        y = p.get("kappa_ref", 0.0)
        if p["status"] != "converged" or p.get("gap") is None:
            ax.plot(p["alpha"], y, "x", color="C3", ms=8,
                    label=None if lab_f else "failed (status in the data)")
            ax.annotate(p["status"], (p["alpha"], y), fontsize=6, color="C3")
            lab_f = True
            continue
        col = cmap(norm(max(p["gap"], 1e-8)))
        if p["monotonic"]:
            ax.plot(p["alpha"], y, "o", color=col, ms=10, mec="k",
                    label=None if lab_m else "S(d) monotonic")
            lab_m = True
        else:
            ax.plot(p["alpha"], y, "o", mfc="none", mec=col, mew=2.5, ms=10,
                    label=None if lab_n else "S(d) not monotonic")
            lab_n = True
    if norm is not None:
        sm = cm.ScalarMappable(norm=norm, cmap=cmap)
        ax.figure.colorbar(sm, ax=ax, label=f"bound − S at d = {data['gap_distance']:g}")
    au = data.get("alpha_u_margin")
    if au and au["status"] == "converged":
        ax.axvline(au["alpha_u"], color="C0", ls="--",
                   label=rf"$\alpha_U$ margin route ($\tilde\kappa$ = {F_ALPHA_U}$\kappa_{{\max}}$): "
                         f"{au['alpha_u']:.3f}")
    ad = data.get("alpha_u_dense")
    if ad and ad["status"] == "converged":
        ax.axvline(ad["alpha_u"], color="C2", ls=":",
                   label=rf"$\alpha_U$ dense route (y = {ad['y']}): {ad['alpha_u']:.3f}")
    ax.set_xlabel(r"load $\alpha$")
    ax.set_ylabel(r"reference margin $\tilde\kappa$")
    ax.set_title(r"binary perceptron, $\kappa=0$ solutions around margin-$\tilde\kappa$ "
                 "references (RS Franz–Parisi)", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return ax


def main(quick=False, outdir=None):
    data = compute(quick, outdir)
    fig, ax = new_figure(7.0, 4.6)
    plot_margin_coalescence(data, ax)
    out = save(fig, data, outdir, "margin_coalescence")
    # ok: every point converged or its RS branch genuinely ended before d = D_GAP
    # (branch_ended: the typical curves at α = 0.6, 0.7, marked on the plot), i.e. no
    # solver failure
    out["ok"] = (all(p["status"] in ("converged", "branch_ended") for p in data["points"])
                 and all(r["status"] == "converged" for r in data["kappa_max"])
                 and data.get("alpha_u_margin", {"status": "converged"})["status"] == "converged")
    return out


if __name__ == "__main__":
    print(main())
