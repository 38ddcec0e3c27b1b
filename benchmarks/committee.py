"""Benchmark of the tree-committee K-field average (``python -m benchmarks`` runs it).

* one evaluation of F_K(q) and its two q-derivatives (solvers.committee: Poisson-binomial
  recursion in logs + exact last unit + QMC with a control variate) at q = 0.5 for
  K = 3, 9, 21, 99, with the QMC standard error;
* the naive route at K = 3: ``scipy.integrate.tplquad`` of ln P(majority | z) against the
  3-D Gaussian density (a K-dimensional nested quadrature; infeasible beyond K ≈ 4);
* the capacities built on it: spherical K = 3 (derived q → 1 limit + numerical check)
  and binary K = 3 (entropy zero), after compilation;
* ReLU units at finite q (solvers.committee.relu_logz: a contour integral per QMC point
  and per component): one evaluation at q = 0.5 for K = 2, 3, 4, 6. K = 99 is not run:
  the cost grows like K² per point (⌈K/2⌉ components of K units each, plus the K³
  recursion), i.e. ~10³ times K = 3 per point even with 4x fewer points — not cheap,
  unlike sign units (see the module docstring of solvers.committee).
"""

from __future__ import annotations

import math
import time

from scipy import integrate
from scipy.special import log_ndtr, logsumexp

__all__ = ["naive_committee_k3", "bench_committee"]

#: ReLU committees timed at finite q
RELU_K = (2, 3, 4, 6)


def naive_committee_k3(q, epsabs=1e-7):
    """E_{z∈R³} ln P(≥ 2 of 3 units positive | z) by nested adaptive quadrature (tplquad)
    on [-8, 8]³ (Gaussian mass outside: 4e-15 per axis)."""
    a = math.sqrt(q / (1 - q))
    c = 1 / (2 * math.pi) ** 1.5

    def f(z3, z2, z1):
        lp = [log_ndtr(a * z) for z in (z1, z2, z3)]
        lq = [log_ndtr(-a * z) for z in (z1, z2, z3)]
        lz = logsumexp([lp[0] + lp[1] + lp[2], lp[0] + lp[1] + lq[2],
                        lp[0] + lq[1] + lp[2], lq[0] + lp[1] + lp[2]])
        return lz * c * math.exp(-0.5 * (z1 * z1 + z2 * z2 + z3 * z3))

    t = time.perf_counter()
    v, err = integrate.tplquad(f, -8, 8, -8, 8, -8, 8, epsabs=epsabs, epsrel=1e-9)
    return {"value": v, "error_estimate": err, "seconds": time.perf_counter() - t}


def bench_committee():
    from replica.catalogue import get_model
    from solvers import capacity, compile_model
    from solvers import committee as cm

    rows = []
    for K in (3, 9, 21, 99):
        cm.sign_logz(0.4, K, 0)  # points generated once per K (cached), not timed
        t = time.perf_counter()
        F, F1, F2, err = cm._evaluate(0.5, K)
        rows.append({"K": K, "seconds": time.perf_counter() - t, "F": F, "dF": F1, "d2F": F2,
                     "stderr": err})
    relu = []
    for K in RELU_K:
        cm.relu_logz(0.4, K, 0)  # points and min-costs (control variate) cached, not timed
        t = time.perf_counter()
        F, F1, F2, err, bad = cm._relu_evaluate(0.5, K)
        relu.append({"K": K, "seconds": time.perf_counter() - t, "F": F, "dF": F1, "d2F": F2,
                     "stderr": err, "failed_points": bad})
    nv = naive_committee_k3(0.5)
    out = {"evaluations_q0.5": rows, "relu_evaluations_q0.5": relu,
           "relu_cost_ratio_k6_over_k3": relu[-1]["seconds"] / relu[1]["seconds"],
           "naive_tplquad_k3": nv,
           "k3_abs_diff_vs_naive": abs(rows[0]["F"] - nv["value"]),
           "speedup_k3_vs_naive": nv["seconds"] / rows[0]["seconds"],
           "cost_ratio_k99_over_k3": rows[-1]["seconds"] / rows[0]["seconds"]}
    for name, model in (("spherical_k3", get_model("tree-committee", K=3, activation="sign")),
                        ("binary_k3", get_model("binary-tree-committee", K=3, activation="sign"))):
        m = compile_model(model)
        m.prepare()
        t = time.perf_counter()
        r = capacity(m, {})
        out[f"capacity_{name}"] = {"alpha_c": r.alpha_c, "status": r.status,
                                   "seconds": time.perf_counter() - t}
    return out


def report(res):
    print("\ntree committee (sign), energetic average + 2 derivatives at q = 0.5, one evaluation")
    print(f"{'K':>4} {'seconds':>9} {'F':>12} {'QMC stderr':>11}")
    for r in res["evaluations_q0.5"]:
        print(f"{r['K']:>4} {r['seconds']:>9.3f} {r['F']:>12.7f} {r['stderr']:>11.1e}")
    print("tree committee (ReLU, finite q), same quantities")
    for r in res["relu_evaluations_q0.5"]:
        print(f"{r['K']:>4} {r['seconds']:>9.3f} {r['F']:>12.7f} {r['stderr']:>11.1e}")
    print(f"  K = 6 costs {res['relu_cost_ratio_k6_over_k3']:.1f}x K = 3 (K = 99: not run, ~K^2 per point)")
    nv = res["naive_tplquad_k3"]
    print(f"  naive tplquad at K = 3 (value only): {nv['seconds']:.1f}s, |diff| "
          f"{res['k3_abs_diff_vs_naive']:.1e} -> {res['speedup_k3_vs_naive']:.0f}x; "
          f"K = 99 costs {res['cost_ratio_k99_over_k3']:.0f}x K = 3")
    for k in ("capacity_spherical_k3", "capacity_binary_k3"):
        c = res[k]
        print(f"  {k}: alpha_c = {c['alpha_c']:.6f} ({c['status']}) in {c['seconds']:.1f}s")


if __name__ == "__main__":
    r = bench_committee()
    report(r)
