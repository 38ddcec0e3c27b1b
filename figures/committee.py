r"""Figure: RS capacity of tree committee machines vs the number K of hidden units.

* spherical weights (q → 1 limit): sign units (majority vote; Barkai, Hansel &
  Sompolinsky, PRA 45, 4146 (1992)) grow like √K — dashed, our leading-order
  12√K/√(2π); dotted, the beyond-RS (16/π)√(ln K) of Monasson & Zecchina (1995), for
  context — while ReLU units (balanced ±1 readout; Baldassi, Malatesta & Zecchina,
  PRL 123, 170602 (2019)) saturate at the K → ∞ value 2π/(π−1) (horizontal line);
* binary weights (RS entropy zero): sign and ReLU units for finite K (ReLU: full mode
  only, ~1 min per K: the finite-q contour estimator of solvers.committee), with the
  K → ∞ values for sign and ReLU as horizontal lines. Odd-K ReLU points (open markers:
  label-averaged readout, one label with the minority on the winning side) lie below
  the even-K line.

All RS: BHS 1992 find RS unstable near capacity, so these are RS estimates, not the
true capacities. The left panel also draws the de Almeida–Thouless line α_AT(K) of the
spherical sign committee (open triangles; :func:`solvers.diagrams.alpha_at` with the
finite-K replicon of :class:`replica.committee.SignCommitteeReplicon`), that of ReLU
units at K = 4, 6 (:class:`replica.committee.ReluCommitteeReplicon`; QMC error ~±0.01 in
α_AT) and the K → ∞ α_AT of sign (2.988) and ReLU (1.721) units: RS is unstable above
them, below the RS capacities (sign K = 3: α_AT = 1.730 against α_c = 4.025; ReLU:
α_AT ≈ 0.57 α_c from K = 4 on). The binary capacities are
AT-stable (``rs_stable`` in the data; local stability only). Run: ``python -m figures committee`` (data: figures/output/committee.json).
"""

from __future__ import annotations

import math

import numpy as np

from replica.catalogue import get_model
from solvers import capacity, compile_model, rs_q_to_one_capacity
from solvers.diagrams import alpha_at

from .plotting import as_float, new_figure, save

__all__ = ["compute", "main", "plot_committee_capacity"]

#: finite-K binary ReLU capacities drawn in full mode (K = 2 30 s, K = 3 80 s, K = 4
#: 60 s, K = 6 200 s measured on a loaded machine)
C_RELU_BINARY_K = (2, 3, 4, 6)
#: K of the spherical sign AT line in full mode (α_AT: 2.5 s at K = 3 to ~15 s at K = 9)
AT_SIGN_K = (3, 5, 7, 9)
#: K of the spherical ReLU AT line in full mode (even K, balanced readout; ~1-2 min each:
#: the replicon is a polarised contour integral per QMC point). K = 2 has none: RS is
#: stable up to its capacity 4/3 (marginal there, replica.committee.ReluCommitteeReplicon)
AT_RELU_K = (4, 6)


def _spherical(K, act):
    r = capacity(get_model("tree-committee", K=K, activation=act), {})
    return {"K": K, "alpha_c": r.alpha_c if r.success else None, "status": r.status}


def _spherical_limit_only(K, act="sign"):
    """Larger K: the derived q → 1 limit alone (sign: a 1-D integral; ReLU: the QMC
    min-cost average), without the finite-q check of capacity()."""
    a = rs_q_to_one_capacity(compile_model(get_model("tree-committee", K=K, activation=act)), {})
    return {"K": K, "alpha_c": float(a), "status": "converged"}


def _binary(K, act):
    r = capacity(get_model("binary-tree-committee", K=K, activation=act), {})
    return {"K": K, "alpha_c": r.alpha_c if r.success else None, "status": r.status,
            "rs_stable": r.rs_stable}


def _at_line(K, act):
    """α_AT of the spherical committee: load where the RS replicon vanishes
    (:func:`solvers.diagrams.alpha_at`)."""
    r = alpha_at(get_model("tree-committee", K=K, activation=act), {})
    return {"K": K, "alpha_at": r.alpha_at, "status": r.status}


def _series(rows):
    return {k: [r.get(k) for r in rows] for k in rows[0]} if rows else {"K": [], "alpha_c": [], "status": []}


def compute(quick=False):
    # full capacity() (with its finite-q numerical check) for small K; the derived limit
    # alone beyond (and for all K ≥ 3 in quick mode)
    sign_sph = [_spherical(K, "sign") for K in ((1,) if quick else (1, 3, 5, 7, 9))]
    sign_sph += [_spherical_limit_only(K) for K in ((3, 5, 9, 25, 99) if quick else (15, 25, 49, 99, 199, 399))
                 if K > sign_sph[-1]["K"]]
    # ReLU: capacity() with its finite-q check (contour estimator) for small K, the
    # q -> 1 limit alone beyond
    relu_sph = [_spherical(K, "relu") for K in ((2,) if quick else (2, 3, 4))]
    relu_sph += [_spherical_limit_only(K, "relu") for K in ((4, 8) if quick else (6, 8, 12, 16, 24))]
    sign_bin = [_binary(K, "sign") for K in ((1, 3) if quick else (1, 3, 5, 7, 9))]
    relu_bin = [] if quick else [_binary(K, "relu") for K in C_RELU_BINARY_K]
    wide = {f"{w}_{a}": _binary("inf", a)["alpha_c"] if w == "binary" else
            _spherical("inf", a)["alpha_c"] for w in ("spherical", "binary") for a in ("sign", "relu")}
    # AT line of the spherical committees (finite K: the replicon nodes of
    # replica.committee, sign and ReLU)
    at = {"sign": _series([_at_line(K, "sign") for K in ((3,) if quick else AT_SIGN_K)]),
          "relu": _series([] if quick else [_at_line(K, "relu") for K in AT_RELU_K]),
          "wide": {a: _at_line("inf", a)["alpha_at"] for a in ("sign", "relu")}}
    return {"spherical": {"sign": _series(sign_sph), "relu": _series(relu_sph)},
            "binary": {"sign": _series(sign_bin), "relu": _series(relu_bin)},
            "wide": wide, "at_line": at,
            "notes": {"spherical_sign_wide": "RS capacity diverges as K -> inf (status non_finite)",
                      "binary_relu_finite_K": ("full mode only (about a minute per K); odd K is "
                                               "label-averaged and lies below the even-K trend"),
                      "rs": ("RS estimates. Spherical: RS is AT-unstable above alpha_AT (at_line), "
                             "far below the RS capacity (BHS 1992); binary: rs_stable at capacity "
                             "(local stability only)")}}


def _plot_series(ax, key, K, a, color, label):
    """Sign: one line. ReLU: even K (balanced readout) joined, odd K (label-averaged,
    our extension) as open markers."""
    if key != "relu":
        ax.plot(K, a, "o-", color=color, ms=3, label=label)
        return
    even = K % 2 == 0
    ax.plot(K[even], a[even], "o-", color=color, ms=3, label=label + " (even)")
    if np.any(~even):
        ax.plot(K[~even], a[~even], "o", mfc="none", color=color, ms=4, label=label + " (odd)")


def plot_committee_capacity(data, axes):
    """Draw the two panels from the saved data (reads only)."""
    ax1, ax2 = axes
    s = data["spherical"]
    for key, color, label in (("sign", "C0", "sign, finite K"), ("relu", "C3", "ReLU, finite K")):
        K = np.array(s[key]["K"], float)
        a = as_float(s[key]["alpha_c"])
        _plot_series(ax1, key, K, a, color, label)
    kk = np.geomspace(1, max(s["sign"]["K"]), 100)
    ax1.plot(kk, 12 * np.sqrt(kk) / math.sqrt(2 * math.pi), "--", color="C0", lw=0.8,
             label=r"RS large K: $12\sqrt{K/2\pi}$")
    kk2 = kk[kk >= 3]
    ax1.plot(kk2, 16 / math.pi * np.sqrt(np.log(kk2)), ":", color="C0", lw=0.8,
             label=r"beyond RS: $(16/\pi)\sqrt{\ln K}$ (MZ 1995)")
    if data["wide"]["spherical_relu"] is not None:
        ax1.axhline(data["wide"]["spherical_relu"], color="C3", lw=0.8, ls="--",
                    label=r"ReLU, $K\to\infty$: $2\pi/(\pi-1)$")
    at = data.get("at_line")
    if at:
        ax1.plot(np.array(at["sign"]["K"], float), as_float(at["sign"]["alpha_at"]), "v-", color="C0",
                 ms=4, lw=0.8, mfc="none", label=r"sign, AT line $\alpha_{AT}$ (RS unstable above)")
        if at.get("relu", {}).get("K"):
            ax1.plot(np.array(at["relu"]["K"], float), as_float(at["relu"]["alpha_at"]), "v-",
                     color="C3", ms=4, lw=0.8, mfc="none", label=r"ReLU, AT line $\alpha_{AT}$")
        for a, color in (("sign", "C0"), ("relu", "C3")):
            if at["wide"][a] is not None:
                ax1.axhline(at["wide"][a], color=color, lw=0.7, ls="-.",
                            label=rf"{'sign' if a == 'sign' else 'ReLU'} $\alpha_{{AT}}$, $K\to\infty$")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("hidden units K")
    ax1.set_ylabel(r"RS capacity $\alpha_c$")
    ax1.set_title("spherical weights (q → 1)")
    ax1.legend(fontsize=7)
    for key, color, label in (("sign", "C0", "sign, finite K"), ("relu", "C3", "ReLU, finite K")):
        b = data["binary"].get(key)
        if not b or not b["K"]:
            continue
        K = np.array(b["K"], float)
        a = as_float(b["alpha_c"])
        _plot_series(ax2, key, K, a, color, label)
    for key, color, label in (("binary_sign", "C0", r"sign, $K\to\infty$"),
                              ("binary_relu", "C3", r"ReLU, $K\to\infty$")):
        if data["wide"][key] is not None:
            ax2.axhline(data["wide"][key], color=color, lw=0.8, ls="--", label=label)
    ax2.set_xscale("log")
    ax2.set_xlabel("hidden units K")
    ax2.set_ylabel(r"RS capacity $\alpha_c$ (entropy zero)")
    ax2.set_title("binary weights")
    ax2.legend(fontsize=7)
    return axes


def main(quick=False, outdir=None):
    data = compute(quick)
    fig, axes = new_figure(10, 4.2, ncols=2)
    plot_committee_capacity(data, axes)
    fig.suptitle("Tree committee machines, RS capacity vs K (sign vs ReLU)", fontsize=10)
    out = save(fig, data, outdir, "committee")
    out["pdf"] = out["png"].with_suffix(".pdf")
    fig.savefig(out["pdf"])
    rows = [data["spherical"]["sign"], data["spherical"]["relu"], data["binary"]["sign"],
            data["binary"]["relu"]]
    out["ok"] = (all(st == "converged" for r in rows + [data["at_line"]["sign"], data["at_line"]["relu"]]
                     for st in r["status"])
                 and None not in data["at_line"]["wide"].values()
                 and data["wide"]["spherical_relu"] is not None
                 and data["wide"]["binary_sign"] is not None and data["wide"]["binary_relu"] is not None)
    return out


if __name__ == "__main__":
    print(main())
