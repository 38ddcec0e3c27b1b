r"""Figure: RS storage capacity α_c(κ) of the spherical and binary perceptrons.

* spherical: Gardner, J. Phys. A 21, 257 (1988), eq. (33) — q → 1 limit; the part
  with κ < 0 is RS-unstable (de Almeida–Thouless; Gardner & Derrida 1988), dashed;
* binary (±1): zero of the RS entropy (Krauth & Mézard, J. Phys. France 50, 3057
  (1989)); dotted, the RS q → 1 value (2/π)·α_c^{sph}(κ), which is *not* the capacity.

Run: ``python -m figures capacity`` (data: figures/output/capacity.json).
"""

from __future__ import annotations

import numpy as np

from solvers import capacity, compile_model

from .plotting import new_figure, plot_capacity_curve, save

__all__ = ["compute", "main"]


def _curve(model, kappas):
    m = compile_model(model)
    rows = [capacity(m, {"kappa": float(k)}) for k in kappas]
    return {
        "model": model,
        "criterion": rows[0].criterion,
        "kappa": [float(k) for k in kappas],
        "alpha_c": [r.alpha_c if r.success else None for r in rows],
        "status": [r.status for r in rows],
        "success": [r.success for r in rows],
        "rs_stable": [r.rs_stable for r in rows],
        "replicon": [r.replicon for r in rows],
        "alpha_rs_q_to_1": [r.alpha_rs_q_to_1 for r in rows],
    }


def compute(quick=False):
    ks = np.linspace(-1.0, 3.0, 9 if quick else 81)
    kb = np.linspace(-1.0, 3.0, 9 if quick else 41)
    return {"spherical": _curve("spherical-perceptron", ks),
            "binary": _curve("binary-perceptron", kb)}


def main(quick=False, outdir=None):
    data = compute(quick)
    fig, ax = new_figure()
    plot_capacity_curve(data["spherical"], ax, label="spherical (Gardner 1988)", color="C0")
    plot_capacity_curve(data["binary"], ax, label="binary, RS entropy zero (Krauth–Mézard)",
                        color="C3", bound_label="binary, RS q→1 value (not the capacity)")
    ax.set_yscale("log")
    ax.set_xlabel(r"margin $\kappa$")
    ax.set_ylabel(r"capacity $\alpha_c$")
    ax.set_title("RS storage capacity of the perceptron")
    ax.axvline(0, color="0.8", lw=0.8)
    ax.legend(fontsize=8)
    out = save(fig, data, outdir, "capacity")
    out["ok"] = all(data["spherical"]["success"]) and all(data["binary"]["success"])
    return out


if __name__ == "__main__":
    print(main())
