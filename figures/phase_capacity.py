r"""Figure: the capacity phase diagram in the (κ, α) plane, built from scan datasets.

* spherical perceptron: α_c(κ) (Gardner, J. Phys. A 21, 257 (1988), eq. (33)), RS-stable
  for κ ≥ 0 and RS-unstable for κ < 0 (dashed), and the de Almeida–Thouless line
  α_AT(κ) for κ < 0, where the replicon of the RS saddle changes sign: above it (and
  below α_c) RS is broken (Gardner & Derrida 1988; the AT condition
  α E_z[(∂²_u ln H(u))²] = 1). The AT line is located from a free-entropy scan over
  (α, κ) (replicon sign change between neighbouring converged points), then refined by
  ``brentq`` on the replicon of ``solve_saddle`` warm-started from the bracket;
* binary perceptron: α_c(κ), zero of the RS entropy (Krauth & Mézard, J. Phys. France
  50, 3057 (1989)), with the RS q → 1 value (2/π)·α_c^{sph}(κ) dotted (not the
  capacity).

Run: ``python -m figures phase_capacity``; data: ``phase_capacity_{spherical,binary,at}.nc``
(NetCDF, xarray) next to ``phase_capacity.png`` / ``.pdf``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from solvers import compile_model, scan, solve_saddle

from .plotting import new_figure, output_dir

__all__ = ["compute", "at_line", "main"]


def at_line(fe, model="spherical-perceptron"):
    """AT line from a free-entropy scan ``fe`` over (alpha, kappa): per κ, the α where
    the replicon of the RS saddle crosses zero (first sign change from + to − along α
    between two converged points), refined by brentq on ``solve_saddle``.

    Returns a dataset over ``kappa`` with ``alpha_at``, ``q_at`` and ``status``
    ("converged", "no_crossing" (RS stable on every converged point), or the solver
    status that stopped the refinement)."""
    import xarray as xr
    m = compile_model(model)
    ks = fe.kappa.values
    alpha_at, q_at, status = np.full(len(ks), np.nan), np.full(len(ks), np.nan), []
    for j, k in enumerate(ks):
        col = fe.sel(kappa=k)
        ok = col.status.values == "converged"
        a, rep = col.alpha.values[ok], col.replicon.values[ok]
        cross = np.flatnonzero((rep[:-1] > 0) & (rep[1:] <= 0))
        last = {}
        if cross.size:
            a0, a1 = a[cross[0]], a[cross[0] + 1]
            x0 = {"q": float(col.q.sel(alpha=a0)), "qhat": float(col.qhat.sel(alpha=a0))}
        elif a.size and rep[-1] > 0 and a[-1] < col.alpha.values[-1]:
            # the scan lost the branch (near its end, q -> 1) before the replicon
            # changed sign: march on from the last converged point in steps of a
            # tenth of the grid spacing with warm-started solves
            da = (col.alpha.values[1] - col.alpha.values[0]) / 10
            a0 = a[-1]
            r = solve_saddle(m, {"alpha": float(a0), "kappa": float(k)},
                             x0={"q": float(col.q.sel(alpha=a0)), "qhat": float(col.qhat.sel(alpha=a0))},
                             method="newton")
            a1 = None
            for _ in range(100):
                r1 = solve_saddle(m, {"alpha": float(a0 + da), "kappa": float(k)}, x0=r, method="newton")
                if not r1.success:
                    break
                if r1.observables["replicon"] <= 0:
                    a1 = a0 + da
                    break
                a0, r = a0 + da, r1
            if a1 is None:
                status.append("no_crossing")
                continue
            x0 = r
        else:
            status.append("no_crossing")
            continue

        def rep_at(alpha):
            c = {"alpha": float(alpha), "kappa": float(k)}
            r = solve_saddle(m, c, x0=last.get("r", x0), method="newton")
            if not r.success:
                r = solve_saddle(m, c)            # cold start, method "auto"
            if not r.success:
                raise RuntimeError(r.status)
            last["r"] = r
            return r.observables["replicon"]

        try:
            alpha_at[j] = brentq(rep_at, a0, a1, xtol=1e-12)
            q_at[j] = last["r"].order_parameters["q"]
            status.append("converged")
        except RuntimeError as exc:
            status.append(str(exc))
    return xr.Dataset({"alpha_at": ("kappa", alpha_at), "q_at": ("kappa", q_at),
                       "status": ("kappa", np.array(status))}, coords={"kappa": ks},
                      attrs={"model": model, "quantity": "AT line (replicon = 0)"})


def compute(quick=False):
    ks_sph = np.linspace(-1.0, 2.0, 7 if quick else 31)
    ks_bin = np.linspace(-0.5, 2.0, 4 if quick else 26)
    sph = scan("spherical-perceptron", {"kappa": ks_sph}, "capacity", progress=False)
    binr = scan("binary-perceptron", {"kappa": ks_bin}, "capacity", progress=False)
    k_at = np.array([-1.0, -0.5]) if quick else np.linspace(-1.0, -0.25, 7)
    alphas = np.arange(0.25, 13.01, 0.5 if quick else 0.25)
    fe = scan("spherical-perceptron", {"alpha": alphas, "kappa": k_at}, "free_entropy",
              progress=False)
    return {"spherical": sph, "binary": binr, "at": at_line(fe), "free_entropy": fe}


def plot_phase_capacity(data, ax):
    """Draw the diagram from the datasets of :func:`compute` (reads only)."""
    sph, binr, at = data["spherical"], data["binary"], data["at"]
    k, a = sph.kappa.values, sph.alpha_c.values
    ok = sph.status.values == "converged"
    st = sph.rs_stable.values == 1
    ax.plot(np.where(ok & st, k, np.nan), np.where(ok & st, a, np.nan), "-", color="C0",
            label="spherical α_c (Gardner 1988), RS stable")
    sel = ok & ~st
    if np.any(sel):
        idx = np.flatnonzero(sel)
        jj = np.unique(np.clip(np.concatenate([idx, idx + 1]), 0, len(k) - 1))
        ax.plot(k[jj], a[jj], "--", color="C0", label="spherical α_c, RS unstable")
    good = at.status.values == "converged"
    ax.plot(at.kappa.values[good], at.alpha_at.values[good], "o:", color="C2", ms=3,
            label="AT line (replicon = 0): RS broken above")
    kb, ab = binr.kappa.values, binr.alpha_c.values
    okb = binr.status.values == "converged"
    ax.plot(np.where(okb, kb, np.nan), np.where(okb, ab, np.nan), "-", color="C3",
            label="binary α_c, RS entropy zero (Krauth–Mézard)")
    ax.plot(kb, binr.alpha_rs_q_to_1.values, ":", color="C3", label="binary RS q→1 (not α_c)")
    for d, c in ((sph, "C0"), (binr, "C3")):
        bad = d.status.values != "converged"
        if np.any(bad):
            ax.plot(d.kappa.values[bad], np.full(bad.sum(), 0.1), "x", color=c,
                    label="not converged")
    ax.set_yscale("log")
    ax.set_xlabel(r"margin $\kappa$")
    ax.set_ylabel(r"load $\alpha$")
    ax.set_title("Perceptron capacity phase diagram (RS)")
    ax.axvline(0, color="0.8", lw=0.8)
    ax.legend(fontsize=7)
    return ax


def main(quick=False, outdir=None):
    data = compute(quick)
    fig, ax = new_figure()
    plot_phase_capacity(data, ax)
    d = output_dir(outdir)
    out = {"png": d / "phase_capacity.png", "pdf": d / "phase_capacity.pdf"}
    fig.savefig(out["png"], dpi=150)
    fig.savefig(out["pdf"])
    for key in ("spherical", "binary", "at"):
        path = d / f"phase_capacity_{key}.nc"
        data[key].to_netcdf(path, engine="h5netcdf")
        out[f"data_{key}"] = path
    out["data"] = out["data_spherical"]
    out["ok"] = bool(all(np.all(data[k].status.values == "converged")
                         for k in ("spherical", "binary", "at")))
    return out


if __name__ == "__main__":
    print(main())
