"""Sign tree committee, fast route (solvers.committee: Poisson-binomial recursion in linear
scale with the band of reachable states, per-row fallback to the recursion in logarithms):
exactness of the arithmetic change against the log route at the same QMC points, and against
an independent mpmath recursion (40 digits, derivatives by mpmath's own differentiation)."""

import math

import mpmath
import numpy as np
import pytest

from solvers import committee as cm


def _routes(q, K, m=None):
    """(F, F', F'', stderr) and the per-row arrays from the automatic and the log route on
    the production points."""
    n = cm._n_points(K)
    z = cm.qmc_points(K - 1, n, 4).reshape(-1, K - 1)
    a = math.sqrt(q / (1 - q))
    mm = (K + 1) // 2 if m is None else m
    out = {}
    for route in ("auto", "log"):
        v, d1, d2, cv = cm._per_a(a, z, mm, route=route)
        law = cm._sum_law_args(q, z, mm)      # the large-K control variate, as production
        out[route] = (cm._q_estimate(q, v, d1, d2, cv - cm._min_cost_exact(K, mm), 4, law), v, d1, d2)
    return out, z, a


@pytest.mark.parametrize("K,q", [(99, 0.5), (51, 0.8)])
def test_linear_route_equals_log_route(K, q):
    """Same points, two arithmetics: F, F', F'' agree to 1e-10 relative (measured 4e-14,
    1e-13, 4e-12; the log route's own rounding, e.g. ln P = Σ ln(1−p_l) + ln Σ e_j(ρ)
    when P ≈ 1, is the larger error: test_linear_route_against_mpmath), and per row ln P
    to 1e-10 (measured ≤ 1.5e-13). _evaluate (the cached production path) returns the
    automatic route's numbers."""
    out, z, a = _routes(q, K)
    (fa, va, *_), (fl, vl, *_) = out["auto"], out["log"]
    for x, y in zip(fa[:3], fl[:3]):
        assert abs(x - y) <= 1e-10 * max(1.0, abs(y))
    assert np.max(np.abs(va - vl) / np.maximum(1.0, np.abs(vl))) < 1e-10
    assert fa[3] == pytest.approx(fl[3], rel=1e-6)  # same spread of the scramblings
    assert cm._evaluate(q, K)[:3] == pytest.approx(fa[:3], rel=1e-14, abs=1e-14)


def test_linear_route_against_mpmath():
    """Independent check of the per-row numbers (K = 21, q = 0.99) by a 40-digit mpmath
    recursion over the count (20 QMC units, the last unit on the same 1-D rule),
    derivatives in a by mpmath.diff, on two rows: where the two routes differ most (P ≈ 1:
    the log route's ln P is off by 9e-13 and ∂²_a ln P by 6e-8 absolute, the linear
    route's by < 1e-35) and the row of median ln P. Linear route within 1e-11 relative
    (absolute below 1)."""
    K, q = 21, 0.99
    out, z, a = _routes(q, K)
    _, va, d1a, d2a = out["auto"]
    _, vl, d1l, d2l = out["log"]
    x, w = cm._one_d_rule(a)
    m = (K + 1) // 2
    rows = [int(np.argmax(np.abs(d2a - d2l))), int(np.argsort(va)[len(va) // 2])]
    mpmath.mp.dps = 40
    try:
        for i in rows:
            zr = [mpmath.mpf(float(t)) for t in z[i]]
            xs = [mpmath.mpf(float(t)) for t in x]

            def f(aa):
                E = [mpmath.mpf(1)] + [mpmath.mpf(0)] * (m - 1)
                T = mpmath.mpf(0)
                for zl in zr:
                    p, qq = mpmath.ncdf(aa * zl), mpmath.ncdf(-aa * zl)
                    T += E[m - 1] * p
                    E = [E[0] * qq] + [E[j] * qq + E[j - 1] * p for j in range(1, m)]
                A = T + E[m - 1]
                return mpmath.fsum(mpmath.mpf(float(wi)) * mpmath.log(T * mpmath.ncdf(-aa * xi)
                                                                      + A * mpmath.ncdf(aa * xi))
                                   for xi, wi in zip(xs, w))

            am = mpmath.mpf(a)
            ref = [float(f(am)), float(mpmath.diff(f, am, 1)), float(mpmath.diff(f, am, 2))]
            for got, want in zip((va[i], d1a[i], d2a[i]), ref):
                assert abs(got - want) <= 1e-11 * max(1.0, abs(want))
    finally:
        mpmath.mp.dps = 15


def _auto(q, K):
    z = cm.qmc_points(K - 1, cm._n_points(K), 4).reshape(-1, K - 1)
    v, d1, d2, cv = cm._per_a(math.sqrt(q / (1 - q)), z)
    return cm._q_estimate(q, v, d1, d2, cv - cm._min_cost_exact(K), 4)


def test_q_near_one_mixes_routes_and_stays_finite():
    """1 − q = 1e-6 at K = 99: rows whose P(# ≥ m) may underflow (lower bound below
    e^-600) take the log route, the others the linear one (both kinds occur, so the
    mixing is exercised). F, F', F'' are finite; F agrees with the all-log route to 1e-9
    relative (measured 9e-11); F' is the derivative of F (central difference, h = 2e-10:
    truncation (h/(1−q))² ~ 4e-8, measured 8e-8; 1e-6) and F'' that of F' within 3 %
    (measured 1.2 %: the error of ∂²_a ln P on the log rows, amplified by a'² ~ 2.5e17;
    the all-log route is 44 % off here, which the linear rows repair); and F approaches
    its q → 1 form −(a²/2) E C_K (remainder O(ln a)/a² relative: measured 0.3 %; 2 %)."""
    K, q = 99, 1 - 1e-6
    out, z, a = _routes(q, K)
    lin = cm._linear_rows(cm._unit_probs(a, np.ascontiguousarray(z.T))[0], (K + 1) // 2)
    assert 0 < lin.sum() < len(lin)
    fa, fl = out["auto"][0], out["log"][0]
    assert all(math.isfinite(v) for v in fa)
    assert abs(fa[0] - fl[0]) <= 1e-9 * abs(fl[0])
    h = 2e-10
    fp, fm = _auto(q + h, K), _auto(q - h, K)
    assert abs(fa[1] - (fp[0] - fm[0]) / (2 * h)) <= 1e-6 * abs(fa[1])
    assert abs(fa[2] - (fp[1] - fm[1]) / (2 * h)) <= 0.03 * abs(fa[2])
    lead = -0.5 * a * a * cm._min_cost_exact(K)
    assert abs(fa[0] / lead - 1) < 0.02


def test_route_name_is_checked():
    with pytest.raises(ValueError, match="route"):
        cm._per_a(1.0, np.zeros((2, 2)), route="fast")


@pytest.mark.parametrize("K,q,m", [(21, 0.5, None), (21, 0.999, None), (5, 0.7, 4), (9, 0.6, 1)])
def test_replicon_linear_route_equals_log_route(K, q, m):
    """AT replicon pieces per QMC row (the last unit's E(∂²_K ln 𝒵)² and the pairs'
    E(∂_l∂_K ln 𝒵)², with the ridge-refined rule on the sharp rows) from the linear-scale
    counts (prefix/suffix distributions, convex recursion) and from the log route: the
    same numbers to 1e-10 of the largest value (measured ≤ 1e-13; single rows whose
    pieces are ~1e-300 of the largest differ relatively, not absolutely), and their
    means to 1e-12 relative (measured ≤ 2e-14). K = 21, q = 0.999 mixes the routes (20 of
    2048 rows in logs) and the ridge rule (1198 sharp rows)."""
    a, sig = math.sqrt(q / (1 - q)), math.sqrt(1 - q)
    mm = (K + 1) // 2 if m is None else m
    z = cm.qmc_points(K - 1, cm._n_points(K), 4).reshape(-1, K - 1)[:2048]
    r, width, sharp = cm._ridge(a, z, mm)
    out = {}
    for route in ("auto", "log"):
        A1, B1 = cm._replicon_rows(a, sig, z[~sharp], *cm._one_d_rule(a), m=mm, route=route)
        A2, B2 = cm._replicon_rows(a, sig, z[sharp], *cm._ridge_rule(a, r[sharp], width[sharp]), m=mm,
                                   route=route) if sharp.any() else (np.zeros(0), np.zeros((0, K - 1)))
        out[route] = (np.concatenate([A1, A2]), np.concatenate([B1, B2]))
    for x, y in zip(out["auto"], out["log"]):
        assert np.max(np.abs(x - y)) <= 1e-10 * np.max(np.abs(y))
        assert abs(x.mean() / y.mean() - 1) < 1e-12
