"""Finite-K ReLU tree committee with an output margin κ (``*-tree-committee-margin``,
activation=relu; derivation in solvers.committee, section "ReLU committee with an output
margin"): the event is y Σ_l c_l relu(λ_l) > κσ_K, σ_K = √(K(1/2 − 1/(2π))). Independent
routes: 1-D integrals in mpmath (K = 2), nested Gauss–Legendre integrals (K = 3),
brute-force minimisation over the polyhedra of the output region (min-cost), adaptive
2-D quadrature of E C_κ (K = 2), Gauss–Hermite product grids (finite-q averages), and
κ = 0 against the margin-0 nodes."""

import itertools
import json
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import log_ndtr, logsumexp, ndtr
from scipy.stats import norm

from replica.catalogue import get_model
from solvers import capacity, solve_saddle
from solvers import committee as cm
from solvers.cli import main as cli

QP1 = math.pi / (math.pi - 1)  # Q'(1) of the K = inf ReLU committee (replica.committee)


def _gardner(kappa):
    """Gardner's spherical perceptron α_G(κ) = 1/∫_{−κ}^∞ Dt (t+κ)² (adaptive quadrature)."""
    return 1 / integrate.quad(lambda t: norm.pdf(t) * (t + kappa)**2, -kappa, math.inf, epsabs=1e-13)[0]


# ----------------------------------------------------------------------------- references
def _mp_log_p2(u1, u2, k):
    """ln P(relu(u₁+x₁) − relu(u₂+x₂) > k), x iid N(0, 1), mpmath at 40 digits:
    k > 0: Φ(u₁−k)Φ(−u₂) + ∫_{−u₂}^∞ φ(x)Φ(u₁−k−u₂−x)dx (unit 2 off, or on at u₂+x);
    k < 0: Φ(−u₁)Φ(|k|−u₂) + ∫_{−u₁}^∞ φ(x)Φ(u₁+x+|k|−u₂)dx (unit 1 off, or on)."""
    with mpmath.workdps(40):
        u1, u2, k = (mpmath.mpf(v) for v in (u1, u2, k))
        d = u1 - k - u2
        if k > 0:
            g, lo, base = (lambda x: mpmath.npdf(x) * mpmath.ncdf(d - x)), -u2, mpmath.ncdf(u1 - k) * mpmath.ncdf(-u2)
        else:
            g, lo, base = (lambda x: mpmath.npdf(x) * mpmath.ncdf(x + d)), -u1, mpmath.ncdf(-u1) * mpmath.ncdf(-k - u2)
        xs = [lo + 0.15 * i for i in range(400)]
        x0 = max(xs, key=g)
        pts = sorted({lo} | {x0 + t for t in (-2, -1, -0.3, 0, 0.3, 1, 2, 5) if x0 + t > lo})
        return float(mpmath.log(base + mpmath.quad(g, pts + [mpmath.inf])))


def _gl(lo, hi, n):
    t, w = np.polynomial.legendre.leggauss(n)
    lo, hi = np.asarray(lo, float)[..., None], np.asarray(hi, float)[..., None]
    return lo + (hi - lo) * (t + 1) / 2, (hi - lo) * w / 2


def _phi(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _log_int(lo, d, sg, n=64):
    """ln ∫_lo^∞ φ(x)Φ(d + sg·x)dx (sg = ±1), vectorised: Gauss–Legendre in logs on a
    ±12 window around the maximiser of the log-concave integrand (Newton on
    −x²/2 + ln Φ(d + sg·x)), as tests/test_committee.relu_log_p2."""
    x = np.maximum(lo, 0.0)
    for _ in range(80):
        v = d + sg * x
        r = np.exp(-0.5 * v * v - 0.5 * math.log(2 * math.pi) - log_ndtr(v))
        x = np.maximum(lo, x - (-x + sg * r) / (-1 - r * (v + r)))
    a = np.maximum(lo, x - 12.0)
    X, w = _gl(a, np.maximum(a, x) + 12.0, n)
    return logsumexp(-0.5 * X**2 - 0.5 * math.log(2 * math.pi) + log_ndtr(d[..., None] + sg * X) + np.log(w),
                     axis=-1)


def log_p2(u1, u2, k):
    """numpy version of :func:`_mp_log_p2` (k scalar)."""
    u1, u2 = np.broadcast_arrays(np.asarray(u1, float), np.asarray(u2, float))
    d = u1 - k - u2
    if k > 0:
        return np.logaddexp(log_ndtr(u1 - k) + log_ndtr(-u2), _log_int(-u2, d, -1.0))
    return np.logaddexp(log_ndtr(-u1) + log_ndtr(-k - u2), _log_int(-u1, d, 1.0))


def _sum_gt(t, ua, ub, nv=32):
    """P(r_a + r_b > t), t > 0 (r = relu(u + x)): r_a > t, or r_a = 0 and r_b > t, or
    r_a = v ∈ (0, t] and r_b > t − v."""
    v, wv = _gl(np.zeros_like(t), t, nv)
    inner = np.sum(wv * _phi(v - ua[..., None]) * ndtr(ub[..., None] - t[..., None] + v), axis=-1)
    return ndtr(ua - t) + ndtr(-ua) * ndtr(ub - t) + inner


def _sum_le(t, ua, ub, nv=32):
    """P(r_a + r_b ≤ t), t > 0."""
    v, wv = _gl(np.zeros_like(t), t, nv)
    inner = np.sum(wv * _phi(v - ua[..., None]) * ndtr(t[..., None] - v - ub[..., None]), axis=-1)
    return ndtr(-ua) * ndtr(t - ub) + inner


def p3_nested(u1, u2, u3, k, label, nt=64):
    """K = 3 by nested Gauss–Legendre (no Laplace transform). label 0: P(r₁ + r₂ − r₃ > k);
    label 1: P(r₁ − r₂ − r₃ > k). k > 0 or k < 0 (|k| = m):
    0, k > 0: Φ(−u₃)P(r₁+r₂ > k) + ∫_0^∞ φ(t−u₃)P(r₁+r₂ > t+k)dt;
    0, k < 0: Φ(m−u₃) + ∫_m^∞ φ(t−u₃)P(r₁+r₂ > t−m)dt;
    1, k > 0: ∫_k^∞ φ(t−u₁)P(r₂+r₃ < t−k)dt;
    1, k < 0: Φ(−u₁)P(r₂+r₃ < m) + ∫_0^∞ φ(t−u₁)P(r₂+r₃ < t+m)dt."""
    m = abs(k)
    if label == 0:
        lo = np.full_like(u3, 0.0 if k > 0 else m)
        t, wt = _gl(lo, np.maximum(u3, lo) + 10, nt)
        U1, U2, U3 = (np.broadcast_to(x[..., None], t.shape) for x in (u1, u2, u3))
        integ = np.sum(wt * _phi(t - U3) * _sum_gt(t + k, U1, U2), axis=-1)
        if k > 0:
            return ndtr(-u3) * _sum_gt(np.full_like(u3, k), u1, u2) + integ
        return ndtr(m - u3) + integ
    lo = np.full_like(u1, k if k > 0 else 0.0)
    t, wt = _gl(lo, np.maximum(u1, lo) + 10, nt)
    U1, U2, U3 = (np.broadcast_to(x[..., None], t.shape) for x in (u1, u2, u3))
    integ = np.sum(wt * _phi(t - U1) * _sum_le(t - k, U2, U3), axis=-1)
    if k > 0:
        return integ
    return ndtr(-u1) * _sum_le(np.full_like(u1, m), u2, u3) + integ


def brute_cost(z, n_plus, t):
    """Squared distance from z to {Σ_{l<n_plus} relu(λ_l) − Σ_{l≥n_plus} relu(λ_l) ≥ t}: the
    region is the union over on/off patterns s of the polyhedra {λ_l ≥ 0 (on), λ_l ≤ 0
    (off), Σ_{plus, on} λ − Σ_{minus, on} λ ≥ t}; each projection by SLSQP from z."""
    K = len(z)
    best = math.inf
    for s in itertools.product((0, 1), repeat=K):
        c = np.array([(1 if l < n_plus else -1) * s[l] for l in range(K)], float)
        cons = [{"type": "ineq", "fun": lambda x, c=c: c @ x - t, "jac": lambda x, c=c: c}]
        for l in range(K):
            sg = 1.0 if s[l] else -1.0
            cons.append({"type": "ineq", "fun": lambda x, l=l, sg=sg: sg * x[l],
                         "jac": lambda x, l=l, sg=sg: sg * np.eye(K)[l]})
        x0 = np.where(np.array(s) == 1, np.abs(z) + 1 + abs(t), -np.abs(z) - 1)
        x0 = x0 + (t + 1) * c / max(1, (c != 0).sum())
        r = optimize.minimize(lambda x: np.sum((x - z)**2), x0, jac=lambda x: 2 * (x - z), constraints=cons,
                              method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
        ok = all(cc["fun"](r.x) > -1e-9 for cc in cons)
        if ok:
            best = min(best, float(np.sum((r.x - z)**2)))
    return best


def cost2(z1, z2, t):
    """K = 2, label +1, closed form: t > 0: {λ₁ ≥ t} ∩ {λ₁ − λ₂ ≥ t} (convex): 0 inside, else
    the nearest feasible face projection or the corner (t, 0); t ≤ 0: the union
    {λ₂ ≤ |t|} ∪ {λ₁ − λ₂ ≥ −|t|}: min(relu(z₂ − |t|)², relu(z₂ − z₁ − |t|)²/2)."""
    if t <= 0:
        m = -t
        return min(max(z2 - m, 0)**2, max(z2 - z1 - m, 0)**2 / 2)
    if z1 >= t and z1 - z2 >= t:
        return 0.0
    cands = [(t - z1)**2 + z2**2]                 # the corner (t, 0)
    if z2 <= 0:                                    # projection onto λ₁ = t stays feasible
        cands.append((t - z1)**2)
    s = (t - z1 + z2) / 2                          # onto λ₁ − λ₂ = t: λ = z + s(1, −1)
    if z1 + s >= t:
        cands.append(2 * s * s)
    return min(cands)


# ----------------------------------------------------------------------------- κ = 0
def test_kappa_zero_is_the_margin_zero_node():
    """κ = 0 runs the margin-0 code path: F, F', F'', the min-cost, the replicon, the
    capacity of the margin family (with its AT limit) and a binary solve equal the
    margin-0 family's to 1e-12 (bit-identical in fact: the same function calls)."""
    for n in (0, 1, 2):
        assert abs(float(cm.relu_logz(0.4, 2, n, 0.0)) - float(cm.relu_logz(0.4, 2, n))) <= 1e-12
    assert float(cm.relu_min_cost(3, 0.0)) == float(cm.relu_min_cost(3))
    assert float(cm.relu_replicon(0.5, 2, 0.0)) == float(cm.relu_replicon(0.5, 2))
    a = capacity(get_model("tree-committee-margin", K=2, activation="relu"), {"kappa": 0.0})
    b = capacity(get_model("tree-committee", K=2, activation="relu"), {})
    assert a.success and abs(a.alpha_c - b.alpha_c) <= 1e-12 * b.alpha_c
    # the AT limit too (meta "diverges for kappa < 0" leaves κ = 0 to the extrapolation)
    assert a.check["replicon_limit"] == b.check["replicon_limit"] and a.rs_stable == b.rs_stable
    ra = solve_saddle(get_model("binary-tree-committee-margin", K=2, activation="relu"),
                      {"alpha": 0.4, "kappa": 0.0})
    rb = solve_saddle(get_model("binary-tree-committee", K=2, activation="relu"), {"alpha": 0.4})
    assert abs(ra.free_entropy - rb.free_entropy) <= 1e-12
    assert abs(cm.relu_margin_scale(2) - math.sqrt(1 - 1 / math.pi)) < 1e-15


# ----------------------------------------------------------------------------- per point
def test_k2_inner_probability_against_mpmath():
    """K = 2, given u: ln P(relu(u₁+x₁) − relu(u₂+x₂) > κ') by the bent contours vs the
    1-D integral in mpmath (_mp_log_p2), κ' = ±0.7, ±2.5 at |u| ~ 1.5 and κ' = ±7 at
    |u| ~ 10 (ln P down to −130). With 128 contour nodes: 1e-9 relative on ln P (measured
    ≤ 1.2e-10); the production 32 nodes: 5e-5 (measured ≤ 1.6e-5, the level of the
    margin-0 rule, RELU_CONTOUR_NODES)."""
    rng = np.random.default_rng(1)
    for sc, ks in ((1.5, (0.7, -0.7, 2.5, -2.5)), (10.0, (7.0, -7.0))):
        U = rng.standard_normal((6, 2)) * sc
        for k in ks:
            ref = np.array([_mp_log_p2(a, b, k) for a, b in U])
            err = lambda n: np.max(np.abs(cm.relu_margin_log_p(U[:, :1], U[:, 1:], k, nodes=n) - ref)  # noqa: E731
                                   / np.maximum(1.0, np.abs(ref)))
            assert err(128) < 1e-9
            assert err(None) < 5e-5


def test_k3_inner_probability_nested_quadrature():
    """K = 3, both labels, κ = ±0.5 at q = 0.5 (κ' = κσ₃√2): contour pieces vs nested
    Gauss–Legendre integrals (p3_nested) at 8 points, |u| ~ 1.5. Tolerance 1e-6 on ln P
    with 128 contour nodes (the nested 64 × 32-node rules are good to ~1e-8 here; measured
    max 2e-9); 5e-5 with the production nodes."""
    Z = np.random.default_rng(5).standard_normal((8, 3)) * 1.5
    for kappa in (0.5, -0.5):
        k = kappa * cm.relu_margin_scale(3) * math.sqrt(2)
        for label, npl in ((0, 2), (1, 1)):
            ref = np.log(p3_nested(Z[:, 0], Z[:, 1], Z[:, 2], k, label))
            for nodes, tol in ((128, 1e-6), (None, 5e-5)):
                lp = cm.relu_margin_log_p(Z[:, :npl], Z[:, npl:], k, nodes=nodes)
                assert np.max(np.abs(lp - ref)) < tol, (kappa, label, nodes)


def test_margin_jets_are_derivatives_along_the_curve():
    """The a-derivatives carried by the jets (u = a z and κ'(a) = κσ_K√(1+a²), including
    its curvature) vs central differences of ln P(a z, κ'(a)) (h = 1e-4, 128 nodes, so the
    quadrature's own motion is ~1e-10). Tolerance 1e-6 relative (FD truncation ~h² = 1e-8
    times the third derivative; round-off 1e-16/h² ~ 1e-8). A missing κ'' or κ' term is
    O(1) off."""
    from solvers import constants as C
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((6, 3))
    old = C.RELU_CONTOUR_NODES
    try:
        C.RELU_CONTOUR_NODES = 128
        for kappa in (0.8, -0.8):
            for npl in (2, 1):
                def lp(a):
                    q = a * a / (1 + a * a)
                    return cm.relu_margin_log_p(a * Z[:, :npl], a * Z[:, npl:], cm._kappa_scaled(q, 3, kappa)[0])
                a, h = 1.3, 1e-4
                q = a * a / (1 + a * a)
                kp, k1, k2 = cm._kappa_scaled(q, 3, kappa)
                _, d1, d2 = cm._relu_group_margin_dirs(a * Z[:, :npl], a * Z[:, npl:], Z[:, :, None], kp,
                                                       (np.array([k1]), np.array([k2])))
                f0, fp, fm = lp(a), lp(a + h), lp(a - h)
                assert np.max(np.abs((fp - fm) / (2 * h) - d1[:, 0]) / np.maximum(1, np.abs(d1[:, 0]))) < 1e-6
                assert np.max(np.abs((fp - 2 * f0 + fm) / h**2 - d2[:, 0]) / np.maximum(1, np.abs(d2[:, 0]))) < 1e-5
    finally:
        C.RELU_CONTOUR_NODES = old


def test_discontinuity_at_kappa_zero():
    """The raw output has an atom at 0 (all units off, probability π0 = Π_l Φ(−u_l)), so
    the event D > κ' jumps at κ' = 0: κ' → 0− adds π0 to P(D > 0) (checked on ln P at
    κ' = −1e-12, K = 2 and 3, to 1e-7: the κ' = 0 side is the margin-0 route with its
    production 32 nodes; measured 1.3e-8), and in the q → 1 limit the negative orthant becomes free
    (K = 2: E C jumps from 3/4 to _ec2(0−) = 0.262460, α_c from 4/3 to 3.810; 5 QMC
    standard errors)."""
    Z = np.random.default_rng(3).standard_normal((6, 3)) * 1.5
    for npl, K in ((1, 2), (2, 3), (1, 3)):
        up, um = Z[:, :npl], Z[:, npl:K]
        lp0 = cm.relu_margin_log_p(up, um, 0.0, nodes=128)
        lpm = cm.relu_margin_log_p(up, um, -1e-12, nodes=128)
        pi0 = log_ndtr(-Z[:, :K]).sum(axis=1)
        assert np.max(np.abs(lpm - np.logaddexp(lp0, pi0))) < 1e-7
        assert np.max(pi0 - lp0) > -3  # the atom is not negligible at these points
    ec = _ec2(-1e-12)
    assert abs(ec - 0.262460) < 1e-6
    assert abs(float(cm.relu_min_cost(2, -1e-12)) - ec) < 5 * cm.relu_min_cost_stderr(2, -1e-12)


# ----------------------------------------------------------------------------- q -> 1
def test_min_cost_per_point_k2_closed_form_and_k3_brute_force():
    """The water-filling QP with threshold t = κσ_K (solvers.committee._relu_cost) vs the
    K = 2 closed form (cost2) at 200 points for t = ±0.6, and at K = 3 (both labels) vs
    SLSQP projections onto the 8 polyhedra of the output region (brute_cost) at 15 points.
    Tolerances 1e-9 (bisection to 1e-30 relative, closed form exact) and 1e-6 (SLSQP
    ftol 1e-14 on O(1) costs)."""
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((200, 2)) * 1.5
    for t in (0.6, -0.6):
        c = cm._relu_cost(Z, 1, t)
        ref = np.array([cost2(a, b, t) for a, b in Z])
        assert np.max(np.abs(c - ref)) < 1e-9
        assert np.sum(ref > 0.1) > 20  # non-trivial
    Z = rng.standard_normal((15, 3)) * 1.5
    for t in (0.6, -0.6):
        for npl in (2, 1):
            c = cm._relu_cost(Z, npl, t)
            ref = np.array([brute_cost(z, npl, t) for z in Z])
            assert np.max(np.abs(c - ref)) < 1e-6, (t, npl)


def _ec2(t):
    """K = 2: E C_κ (label +1 = label −1) by adaptive 2-D quadrature of cost2, split at
    the kinks: t > 0: z₂ = 0, z₂ = z₁ − t, z₂ = t − z₁; t < 0 (m = |t|): z₂ = m,
    z₂ = z₁ + m and the two lines where (z₂ − m)² = (z₂ − z₁ − m)²/2."""
    r2 = math.sqrt(2)

    def inner(z1):
        if t > 0:
            pts = {0.0, z1 - t, t - z1}
        else:
            m = -t
            pts = {m, z1 + m, (m - (z1 + m) / r2) / (1 - 1 / r2), (m + (z1 + m) / r2) / (1 + 1 / r2)}
        edges = [-10.0] + sorted(p for p in pts if -10 < p < 10) + [10.0]
        f = lambda z2: norm.pdf(z2) * cost2(z1, z2, t)  # noqa: E731
        return sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-12)[0] for a, b in zip(edges[:-1], edges[1:]))
    edges = sorted({-10.0, 10.0, t, 0.0, 2 * t, -t, -2 * t})
    return sum(integrate.quad(lambda z1: norm.pdf(z1) * inner(z1), a, b, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
               for a, b in zip(edges[:-1], edges[1:]))


def test_spherical_capacity_k2_against_2d_quadrature_and_decreasing():
    """Spherical α_c(κ) = 1/E C_κ: at K = 2 the QMC min-cost average vs the adaptive 2-D
    quadrature _ec2 for κ = ±0.5 (tolerance 5 standard errors of the QMC estimate, ~5e-4
    relative); α_c decreasing in κ at K = 2 and 3 (κ = −0.5, 0, 0.5, 1: measured
    K = 2: 7.743, 1.3333, 0.8060, 0.5133; K = 3: 6.092, 1.5878, 0.8944, 0.5332)."""
    s2 = cm.relu_margin_scale(2)
    for kappa in (0.5, -0.5):
        ref = _ec2(kappa * s2)
        assert abs(float(cm.relu_min_cost(2, kappa)) - ref) < 5 * cm.relu_min_cost_stderr(2, kappa)
    for K in (2, 3):
        a = [1 / float(cm.relu_min_cost(K, k)) for k in (-0.5, 0.0, 0.5, 1.0)]
        assert a[0] > a[1] > a[2] > a[3]


def test_large_k_tendency():
    """α_c(κ) (spherical, q → 1 limit) at K = 2, 4, 6 next to the K = inf value
    Q'(1)α_G(κ). Measured (± QMC standard error):
    κ = −0.5: 7.743(2), 7.133(3), 7.042(4) against 6.997;
    κ = 0: 1.3333, 2.4742, 2.7973 against 2.9339;
    κ = 0.5: 0.8060, 1.2183, 1.3188 against 1.4100;
    κ = 1: 0.5133, 0.6568, 0.6921 against 0.7622.
    For κ ≥ 0 the even-K values rise towards the limit; at κ = −0.5 they approach it from
    above (K = 2 exceeds it by 11 %): the approach is not monotone in κ's sign. Asserted:
    those orderings and |α_6/α_inf − 1| < 0.1."""
    for kappa in (-0.5, 0.0, 0.5, 1.0):
        a = [1 / float(cm.relu_min_cost(K, kappa)) for K in (2, 4, 6)]
        inf = QP1 * _gardner(kappa)
        assert abs(a[2] / inf - 1) < 0.1
        if kappa >= 0:
            assert a[0] < a[1] < a[2] < inf
        else:
            assert a[0] > a[1] > a[2] > inf


def test_q_to_one_coefficient_of_the_finite_q_average():
    """F_K(q; κ) ≃ −E C_κ/(2(1−q)) as q → 1: −2(1−q)F/E C → 1 at 1 − q = 1e-5 (remainder
    ~(1−q)^{1/2}·O(1) from κ' ∝ (1−q)^{-1/2} and O((1−q) ln(1−q)); tolerance 2e-3, as
    for κ = 0)."""
    for K, kappa in ((2, 0.5), (2, -0.5), (3, 0.5)):
        eps = 1e-5
        F = float(cm.relu_logz(1 - eps, K, 0, kappa))
        assert abs(-2 * eps * F / float(cm.relu_min_cost(K, kappa)) - 1) < 2e-3


# ----------------------------------------------------------------------------- finite q
def brute_relu_k2(q, kappa, n=80):
    """F_2(q; κ) on an n² Gauss–Hermite product grid of log_p2 (labels equal at K = 2)."""
    t, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    a = math.sqrt(q / (1 - q))
    k = kappa * cm.relu_margin_scale(2) / math.sqrt(1 - q)
    U1, U2 = np.meshgrid(a * t, a * t, indexing="ij")
    return float(np.sum(np.outer(w, w) * log_p2(U1, U2, k)))


def test_log_p2_reference_matches_mpmath():
    """The vectorised reference log_p2 (used on the product grid) vs mpmath, 1e-10."""
    U = np.random.default_rng(4).standard_normal((5, 2)) * 2
    for k in (0.9, -0.9):
        assert np.max(np.abs(log_p2(U[:, 0], U[:, 1], k) - [_mp_log_p2(a, b, k) for a, b in U])) < 1e-10


@pytest.mark.parametrize("q,kappa", [(0.5, 0.5), (0.5, -0.5), (0.8, 1.0)])
def test_k2_average_against_product_quadrature(q, kappa):
    """F_2(q; κ) and F_2' (QMC + contour pieces + control variate with C_κ) vs the 80²
    product grid (brute_relu_k2; F' by central differences, h = 1e-4). Tolerances as for
    κ = 0 (tests/test_committee.py): 4 reported standard errors on F, 10 on F'."""
    F, F1, _, err, bad = cm._relu_evaluate(q, 2, kappa)
    assert bad == 0
    assert abs(F - brute_relu_k2(q, kappa)) < 4 * err
    h = 1e-4
    d = (brute_relu_k2(q + h, kappa) - brute_relu_k2(q - h, kappa)) / (2 * h)
    assert abs(F1 - d) < 10 * err * max(1.0, abs(d) / 5)


# ----------------------------------------------------------------------------- replicon
def test_replicon_hessian_k2_with_margin():
    """Per point, the Hessian of ln P in u at fixed κ' (the replicon's jets, relu_hessian_u
    with kap) vs central differences of the mpmath 1-D integral (h = 1e-3: truncation
    ~h²/12·f'''' ~ 1e-7, mpmath exact to 1e-30). Tolerance 5e-5 (the production contour's
    error on ln P, 1e-5, carried to second derivatives)."""
    U = np.random.default_rng(9).standard_normal((4, 2)) * 1.2
    h = 1e-3
    for k in (0.6, -0.6):
        _, H = cm.relu_hessian_u(U[:, :1], U[:, 1:], k)
        for i, (u1, u2) in enumerate(U):
            f = lambda a, b: _mp_log_p2(u1 + a, u2 + b, k)  # noqa: E731
            f0 = f(0, 0)
            H11 = (f(h, 0) - 2 * f0 + f(-h, 0)) / h**2
            H22 = (f(0, h) - 2 * f0 + f(0, -h)) / h**2
            H12 = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)
            assert np.max(np.abs(H[i] - [[H11, H12], [H12, H22]])) < 5e-5


def test_errors_and_cli():
    """κ must be finite (ParameterError naming kappa); the CLI capacity of the margin
    family at K = 2, κ = 0.5 (spherical: 1/E C_κ, confirmed by the finite-q approach)."""
    from solvers.errors import ParameterError
    with pytest.raises(ParameterError) as e:
        cm.relu_min_cost(2, float("nan"))
    assert e.value.parameter == "kappa"
    assert cli(["capacity", "tree-committee-margin", "--set", "K=2", "--set", "activation=relu",
                "--set", "kappa=0.5", "--json"]) == 0


def test_cli_json(capsys):
    assert cli(["capacity", "tree-committee-margin", "--set", "K=2", "--set", "activation=relu",
                "--set", "kappa=-0.5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"] == "tree-committee-margin[K=2,activation=relu]" and d["success"]
    assert abs(d["alpha_c"] - 1 / _ec2(-0.5 * cm.relu_margin_scale(2))) < 2e-3 * d["alpha_c"]


@pytest.mark.slow
def test_k3_capacities_and_binary_status():
    """K = 3: the CLI's spherical capacity at κ = 0.5 (0.89437, confirmed by the finite-q
    approach within QMC_Q_TO_ONE_RTOL) and the binary entropy-zero capacity at κ = 0.3
    (0.48024, converged, AT-stable: replicon 0.345). ~90 s."""
    s = capacity(get_model("tree-committee-margin", K=3, activation="relu"), {"kappa": 0.5})
    assert s.success and abs(s.alpha_c - 0.89437) < 5e-4
    b = capacity(get_model("binary-tree-committee-margin", K=3, activation="relu"), {"kappa": 0.3})
    assert b.success and b.status == "converged" and abs(b.alpha_c - 0.48024) < 2e-3
    assert b.alpha_c < capacity(get_model("binary-tree-committee", K=3, activation="relu"), {}).alpha_c
