"""Benchmark of the tree-committee K-field average (``python -m benchmarks`` runs it).

* one evaluation of F_K(q) and its two q-derivatives (solvers.committee: Poisson-binomial
  recursion in linear scale, logs where it could underflow, + exact last unit + QMC with a
  control variate) at q = 0.5 for K = 3, 9, 21, 99, with the QMC standard error;
* the cost at *equal* standard error (:func:`bench_equal_stderr`): for K = 3, 9, 21, 51,
  99 a ladder of point counts n (per scrambling, 4 scramblings as in production), the
  seconds and the standard error of each, a least-squares fit stderr = c n^-r over the
  ladder, and the seconds (∝ n, measured) at the n where the fit reaches the target
  1e-4; the ratio K = 99 / K = 3 of those seconds is the figure of merit ("K = 99 at
  little more than the cost of K = 3");
* the naive route at K = 3: ``scipy.integrate.tplquad`` of ln P(majority | z) against the
  3-D Gaussian density (a K-dimensional nested quadrature; infeasible beyond K ≈ 4);
* the capacities built on it: spherical K = 3 (derived q → 1 limit + numerical check)
  and binary K = 3 (entropy zero), after compilation;
* ReLU units at finite q (solvers.committee.relu_logz: a contour integral per QMC point
  and per component): one evaluation at q = 0.5 for K = 2, 3, 4, 6. K = 99 is not run:
  the cost grows like K² per point (⌈K/2⌉ components of K units each, plus the K³
  recursion), i.e. ~10³ times K = 3 per point even with 4x fewer points — not cheap,
  unlike sign units (see the module docstring of solvers.committee);
* the finite-K Franz–Parisi node (solvers.committee_fp: QMC in 3K dimensions, value,
  gradient and Hessian in (p, t, q1)) at K = 3, 5, 7, against the naive route at K = 3:
  plain Monte Carlo of the value with rejection sampling of the reference's majority
  (time extrapolated, ∝ 1/σ², to the node's standard error); and a 10-point K = 3
  local-entropy curve; the ReLU node (solvers.committee_fp with the exact draws of
  solvers.relu_reference) at K = 2, 3: the draws (once per q̃) and one evaluation;
* the AT replicon nodes (solvers.committee.sign_replicon, relu_replicon) per evaluation.
"""

from __future__ import annotations

import math
import time

from scipy import integrate
from scipy.special import log_ndtr, logsumexp

__all__ = ["naive_committee_k3", "fp_k3_samples", "fp_mc_moments", "naive_fp_k3", "bench_equal_stderr", "bench_committee"]

#: the interior Franz–Parisi point (q̃, p, t, q1) timed (tests/test_committee_fp_finite.py)
FP_POINT = (0.6, 0.8, 0.55, 0.75)

#: ReLU committees timed at finite q
RELU_K = (2, 3, 4, 6)

#: Cost at equal standard error (bench_equal_stderr): K values, q, target standard error
#: of F_K (1e-4: the accuracy stated at K = 9; the solvers' alarm is 1e-3) and the ladder
#: of points per scrambling (log2), per K (K = 51, 99 lower: with the sum-law control
#: variate they reach the target below 2^9 points)
EQUAL_STDERR_K = (3, 9, 21, 51, 99)
EQUAL_STDERR_Q = 0.5
EQUAL_STDERR_TARGET = 1e-4
EQUAL_STDERR_LADDER = {3: range(8, 15), 9: range(9, 16), 21: range(9, 16), 51: range(6, 13), 99: range(6, 13)}
#: independent scramblings on which the spread of one scrambling's mean is measured
EQUAL_STDERR_SCRAMBLINGS = 16


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


def fp_k3_samples(qr, n, seed):
    """Plain Monte Carlo samples of the K = 3 Franz–Parisi fields: z, x, y iid N(0, I₃),
    x redrawn until the reference √q̃ z + √(1−q̃) x has a positive majority (exactly the
    law of x given z and the reference's majority). Arrays (n, 3)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    z, x, y = (rng.standard_normal((n, 3)) for _ in range(3))
    at, bt = math.sqrt(qr), math.sqrt(1 - qr)
    todo = np.nonzero(((at * z + bt * x) > 0).sum(1) < 2)[0]
    while len(todo):
        x[todo] = rng.standard_normal((len(todo), 3))
        todo = todo[((at * z[todo] + bt * x[todo]) > 0).sum(1) < 2]
    return z, x, y


def fp_mc_moments(log_p, z, x, y, qr, p, t, q1, eps=1e-5):
    """Brute-force Franz–Parisi moments from samples (z, x | z, ref, y): the (mean, stderr)
    of ln P(cavity means u = s(a z + b x + c y)) (``log_p(u)`` per row; a, b, c, s of
    solvers.committee_fp) and of its central differences in p, t, q1 (step ``eps``, common
    random numbers). Returns four (mean, stderr) pairs: value, ∂_p, ∂_t, ∂_q1."""
    import numpy as np

    def lnP(p, t, q1):
        a, b = t / math.sqrt(qr), (p - t) / math.sqrt(1 - qr)
        c, s = math.sqrt(q1 - a * a - b * b), 1 / math.sqrt(1 - q1)
        return log_p(s * (a * z + b * x + c * y))

    n = len(z)
    v = lnP(p, t, q1)
    out = [(v.mean(), v.std() / math.sqrt(n))]
    for k in range(3):
        up, dn = np.array([p, t, q1]), np.array([p, t, q1])
        up[k] += eps
        dn[k] -= eps
        dv = (lnP(*up) - lnP(*dn)) / (2 * eps)
        out.append((dv.mean(), dv.std() / math.sqrt(n)))
    return out


def naive_fp_k3(qr, p, t, q1, n=200_000, seed=0):
    """The K = 3 Franz–Parisi energetic average by plain Monte Carlo (value only,
    :func:`fp_k3_samples`), ln P(majority of m + √(1−q1) η) from the three unit
    probabilities. Returns value, standard error and seconds."""
    import numpy as np
    from scipy.special import ndtr
    t0 = time.perf_counter()
    z, x, y = fp_k3_samples(qr, n, seed)
    at, bt = math.sqrt(qr), math.sqrt(1 - qr)
    a, b = t / at, (p - t) / bt
    c, s = math.sqrt(q1 - a * a - b * b), 1 / math.sqrt(1 - q1)
    u = ndtr(s * (a * z + b * x + c * y))
    maj = u[:, 0] * u[:, 1] + u[:, 0] * u[:, 2] + u[:, 1] * u[:, 2] - 2 * u.prod(axis=1)
    v = np.log(maj)
    return {"value": float(v.mean()), "stderr": float(v.std() / math.sqrt(n)), "samples": n,
            "seconds": time.perf_counter() - t0}


def bench_committee_fp():
    """Finite-K FP node and curve, and the replicon nodes (module docstring)."""
    import numpy as np

    from solvers import committee as cm
    from solvers import committee_fp as cfp
    from solvers.local_entropy import local_entropy
    nodes = []
    for K in (3, 5, 7):
        cfp.sign_fp_jet(0.5, 0.7, 0.45, 0.65, K)  # points generated (cached), not timed
        t = time.perf_counter()
        v, g, h, err = cfp.sign_fp_jet(*FP_POINT, K)
        nodes.append({"K": K, "seconds": time.perf_counter() - t, "value": float(v), "stderr": float(err)})
    nv = naive_fp_k3(*FP_POINT)
    need = nv["seconds"] * (nv["stderr"] / nodes[0]["stderr"]) ** 2
    t = time.perf_counter()
    c = local_entropy("binary-tree-committee", {"alpha": 0.5}, reference="typical",
                      distances=np.geomspace(0.02, 0.35, 10), options={"K": 3, "activation": "sign"})
    curve = {"seconds": time.perf_counter() - t, "converged": c.status.count("converged"),
             "max_quadrature_error": max(e for e in c.quadrature_error if e is not None)}
    relu_nodes = []
    for K in (2, 3):
        t = time.perf_counter()
        cfp.relu_fp_jet(*FP_POINT, K)            # first call at this q̃: the exact draws
        t_first = time.perf_counter() - t
        t = time.perf_counter()
        v, g, h, err = cfp.relu_fp_jet(FP_POINT[0], 0.79, *FP_POINT[2:], K)  # draws cached
        relu_nodes.append({"K": K, "draws_and_first_evaluation_s": t_first,
                           "seconds": time.perf_counter() - t, "value": float(v), "stderr": float(err)})
    rep = []
    for act, f, Ks in (("sign", cm.sign_replicon, (3, 21, 99)), ("relu", cm.relu_replicon, (2, 3, 4))):
        for K in Ks:
            t = time.perf_counter()
            g = float(f(0.5, K))
            rep.append({"activation": act, "K": K, "gamma_out": g, "seconds": time.perf_counter() - t})
    return {"fp_node_q0.6": nodes, "naive_fp_mc_k3": nv,
            "naive_fp_seconds_to_node_stderr": need,
            "fp_speedup_k3_vs_naive_at_equal_stderr": need / nodes[0]["seconds"],
            "fp_value_diff_k3_vs_naive": abs(nodes[0]["value"] - nv["value"]),
            "fp_curve_k3_10_points": curve, "relu_fp_node_q0.6": relu_nodes, "replicon_q0.5": rep}


def bench_equal_stderr(q=EQUAL_STDERR_Q, target=EQUAL_STDERR_TARGET, Ks=EQUAL_STDERR_K,
                       scramblings=EQUAL_STDERR_SCRAMBLINGS):
    """Seconds to reach the standard error ``target`` on F_K(q) (module docstring). The
    production estimate averages R = 4 scramblings; its standard error is σ_n/√R, σ_n the
    spread of one scrambling's mean at n points. σ_n is measured on ``scramblings`` (16)
    independent scramblings (the first four are production's), each timed alone: per K
    the ladder rows (n per scrambling, seconds of the R-scrambling estimate, its stderr
    σ_n/√R), the least-squares rate r of σ_n = c n^-r, n* where the fit reaches the
    target and seconds* the measured seconds interpolated (log-log) at n* (not ∝ n:
    small blocks stay in cache). From K = ``COMMITTEE_SUMLAW_MIN_K`` the estimator is
    production's with the sum-law control variate (its per-point cost timed, its exact
    mean's FFT timed once and added to every row)."""
    import numpy as np
    from scipy.special import ndtri
    from scipy.stats import qmc

    from solvers import committee as cm
    from solvers import constants as C
    R = C.COMMITTEE_QMC_RANDOMIZATIONS
    a = math.sqrt(q / (1 - q))
    out = []
    for K in Ks:
        ec = cm._min_cost_exact(K)
        m = (K + 1) // 2
        # the production estimator: from K = COMMITTEE_SUMLAW_MIN_K the sum-law variate with
        # weight w(q) (its exact mean once per q: timed once, added to every row)
        w = cm._sum_law_weight(q)[0] if K >= C.COMMITTEE_SUMLAW_MIN_K else 0.0
        t = time.perf_counter()
        eg = cm._sum_law_mean.__wrapped__(K - 1, a, m)[0] if w > 0 else 0.0
        once = time.perf_counter() - t
        rows = []
        for e in EQUAL_STDERR_LADDER[K]:
            n, means, secs = 2**e, [], 0.0
            for r in range(scramblings):      # the points of qmc_points(K - 1, n, r + 1)[r]
                u = qmc.Sobol(d=K - 1, scramble=True, seed=C.COMMITTEE_QMC_SEED + r).random(n)
                z = ndtri(np.clip(u, 1e-300, 1 - 1e-16))
                t = time.perf_counter()
                v, d1, d2, cv = cm._per_a(a, z)
                val = v + (1 - w) * 0.5 * a * a * (cv - ec)
                if w > 0:
                    val -= w * (cm._sum_law_cv(a, z, m)[0] - eg)
                means.append(float(np.mean(val)))
                secs += time.perf_counter() - t
            secs += once * scramblings / R
            sig = float(np.std(means, ddof=1))
            rows.append({"n": n, "seconds": secs * R / scramblings, "stderr": sig / math.sqrt(R),
                         "F": float(np.mean(means))})
        ln = np.log([r["n"] for r in rows])
        le = np.log([r["stderr"] for r in rows])
        slope, icpt = np.polyfit(ln, le, 1)
        n_star = math.exp((math.log(target) - icpt) / slope)
        secs = float(np.exp(np.interp(math.log(n_star), ln, np.log([r["seconds"] for r in rows]))))
        if not ln[0] <= math.log(n_star) <= ln[-1]:   # outside the ladder: ∝ n from the end
            end = rows[0] if math.log(n_star) < ln[0] else rows[-1]
            secs = end["seconds"] * n_star / end["n"]
        out.append({"K": K, "ladder": rows, "rate": -slope, "n_star": n_star,
                    "seconds_per_point": secs / (R * n_star), "seconds_at_target": secs})
    return {"q": q, "target_stderr": target, "scramblings_measured": scramblings, "per_K": out,
            "ratio_k99_over_k3": out[-1]["seconds_at_target"] / out[0]["seconds_at_target"]}


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
    out = {"evaluations_q0.5": rows, "equal_stderr": bench_equal_stderr(), "relu_evaluations_q0.5": relu,
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
    out.update(bench_committee_fp())
    return out


def report(res):
    print("\ntree committee (sign), energetic average + 2 derivatives at q = 0.5, one evaluation")
    print(f"{'K':>4} {'seconds':>9} {'F':>12} {'QMC stderr':>11}")
    for r in res["evaluations_q0.5"]:
        print(f"{r['K']:>4} {r['seconds']:>9.3f} {r['F']:>12.7f} {r['stderr']:>11.1e}")
    if "equal_stderr" in res:
        report_equal_stderr(res["equal_stderr"])
    print("tree committee (ReLU, finite q), same quantities")
    for r in res["relu_evaluations_q0.5"]:
        print(f"{r['K']:>4} {r['seconds']:>9.3f} {r['F']:>12.7f} {r['stderr']:>11.1e}")
    print(f"  K = 6 costs {res['relu_cost_ratio_k6_over_k3']:.1f}x K = 3 (K = 99: not run, ~K^2 per point)")
    nv = res["naive_tplquad_k3"]
    print(f"  naive tplquad at K = 3 (value only): {nv['seconds']:.1f}s, |diff| "
          f"{res['k3_abs_diff_vs_naive']:.1e} -> {res['speedup_k3_vs_naive']:.0f}x; "
          f"K = 99 costs {res['cost_ratio_k99_over_k3']:.0f}x K = 3 at the production points (unequal stderr)")
    for k in ("capacity_spherical_k3", "capacity_binary_k3"):
        c = res[k]
        print(f"  {k}: alpha_c = {c['alpha_c']:.6f} ({c['status']}) in {c['seconds']:.1f}s")
    if "fp_node_q0.6" in res:
        print("finite-K Franz–Parisi node (value, gradient, Hessian) at (q̃, p, t, q1) = (0.6, 0.8, 0.55, 0.75)")
        for r in res["fp_node_q0.6"]:
            print(f"{r['K']:>4} {r['seconds']:>9.3f} {r['value']:>12.7f} {r['stderr']:>11.1e}")
        nv = res["naive_fp_mc_k3"]
        print(f"  naive Monte Carlo at K = 3 (value only): {nv['samples']} samples, {nv['seconds']:.2f}s, "
              f"stderr {nv['stderr']:.1e}; to the node's stderr {res['naive_fp_seconds_to_node_stderr']:.0f}s "
              f"-> {res['fp_speedup_k3_vs_naive_at_equal_stderr']:.0f}x (|diff| {res['fp_value_diff_k3_vs_naive']:.1e})")
        cv = res["fp_curve_k3_10_points"]
        print(f"  10-point K = 3 curve: {cv['seconds']:.1f}s, {cv['converged']} converged, "
              f"max QMC error {cv['max_quadrature_error']:.1e}")
        if "relu_fp_node_q0.6" in res:
            print("  ReLU units (exact draws of the reference fields, once per q̃; then value, gradient, "
                  "Hessian): " + ", ".join(
                      f"K={r['K']}: draws + first {r['draws_and_first_evaluation_s']:.1f}s, then "
                      f"{r['seconds']:.2f}s (stderr {r['stderr']:.1e})" for r in res["relu_fp_node_q0.6"]))
        print("AT replicon node at q = 0.5 (gamma_out, seconds): " + ", ".join(
            f"{r['activation']} K={r['K']}: {r['gamma_out']:.4f} ({r['seconds']:.2f}s)" for r in res["replicon_q0.5"]))


def report_equal_stderr(es):
    print(f"  cost at equal standard error {es['target_stderr']:.0e} on F_K(q = {es['q']}) "
          f"(4 scramblings; spread measured on {es['scramblings_measured']}; fit stderr = c n^-r):")
    print(f"  {'K':>4} {'rate r':>7} {'n* per scr.':>12} {'us/point':>9} {'seconds*':>9}   ladder (n: s, stderr)")
    for r in es["per_K"]:
        lad = ", ".join(f"{x['n']}: {x['seconds']:.3f}s {x['stderr']:.1e}" for x in r["ladder"])
        print(f"  {r['K']:>4} {r['rate']:>7.2f} {r['n_star']:>12.0f} {1e6 * r['seconds_per_point']:>9.1f} "
              f"{r['seconds_at_target']:>9.3f}   {lad}")
    print(f"  K = 99 costs {es['ratio_k99_over_k3']:.0f}x K = 3 at equal standard error")


if __name__ == "__main__":
    r = bench_committee()
    report(r)
