"""Tree committee machines (replica.committee, solvers.committee): reductions, independent
routes (brute-force 3-D quadrature, Stein form, closed forms, mpmath), literature and
recomputed values, large-K behaviour, CLI contract."""

import json
import math

import mpmath
import numpy as np
import pytest
from scipy.special import log_ndtr, logsumexp, ndtr

from replica.catalogue import get_model
from replica.committee import SignCommitteeMinCost, validate_committee
from solvers import capacity, compile_model, solve_saddle
from solvers import committee as cm
from solvers.capacity import rs_q_to_one_capacity
from solvers.codegen import _build, _eval_mp, _load, compile_expression
from solvers.cli import main as cli

WIDE_RELU = 2 * math.pi / (math.pi - 1)  # 2 Q'(1), Q'(1) = π/(π−1): closed form (replica.committee)


# ----------------------------------------------------------------------------- brute force
def _grid(n):
    t, w = np.polynomial.hermite_e.hermegauss(n)
    return t, w / w.sum()


def brute_logz_k3(q, n=100):
    """E_{z∈R^3} ln P(majority of 3 units positive | z) on an n³ Gauss–Hermite product
    grid, written independently of solvers.committee: the four winning configurations
    summed in logs (no recursion, no QMC, no conditioning)."""
    t, w = _grid(n)
    a = math.sqrt(q / (1 - q))
    lp, lq = log_ndtr(a * t), log_ndtr(-a * t)
    P = lambda x: x[:, None, None]  # noqa: E731
    Q = lambda x: x[None, :, None]  # noqa: E731
    R = lambda x: x[None, None, :]  # noqa: E731
    terms = np.stack(np.broadcast_arrays(P(lp) + Q(lp) + R(lp), P(lp) + Q(lp) + R(lq),
                                         P(lp) + Q(lq) + R(lp), P(lq) + Q(lp) + R(lp)))
    W = w[:, None, None] * w[None, :, None] * w[None, None, :]
    return float(np.sum(W * logsumexp(terms, axis=0)))


def brute_stein_derivative_k3(q, n=100):
    """−½ Σ_l E(∂_{ω_l} ln Z)² with ω = √q z, V = 1−q: the Stein / heat-equation form of
    d/dq E ln Z (see replica.committee.SignCommitteeLogZ), on the product grid."""
    t, w = _grid(n)
    V = 1 - q
    om = math.sqrt(q) * t
    p = ndtr(om / math.sqrt(V))
    dp = np.exp(-0.5 * om**2 / V) / math.sqrt(2 * math.pi * V)
    p1, p2, p3 = p[:, None, None], p[None, :, None], p[None, None, :]
    Z = p1 * p2 + p1 * p3 + p2 * p3 - 2 * p1 * p2 * p3
    g1 = (p2 + p3 - 2 * p2 * p3) * dp[:, None, None] / Z
    W = w[:, None, None] * w[None, :, None] * w[None, None, :]
    return -0.5 * 3 * float(np.sum(W * g1**2))  # the three units contribute equally


def _phi(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _gl(lo, hi, n):
    t, w = np.polynomial.legendre.leggauss(n)
    lo, hi = np.asarray(lo, float)[..., None], np.asarray(hi, float)[..., None]
    return lo + (hi - lo) * (t + 1) / 2, (hi - lo) * w / 2


def relu_log_p2(u1, u2, n=64):
    """ln P(relu(x₁+u₁) > relu(x₂+u₂)), x iid N(0,1): the event is {x₁+u₁ > 0} ∩
    {x₁+u₁ > x₂+u₂}, so P = ∫_{−u₁}^∞ φ(x) Φ(x+u₁−u₂) dx (= Φ₂(u₁, (u₁−u₂)/√2; 1/√2)).
    Gauss–Legendre in logs on a ±12 window around the maximiser of the log-concave
    integrand (no contour, no QMC)."""
    u1, u2 = np.broadcast_arrays(np.asarray(u1, float), np.asarray(u2, float))
    d = u1 - u2
    x = np.maximum(0.0, -d / 2)
    for _ in range(60):  # Newton for the maximiser of -x²/2 + ln Φ(x + d)
        r = np.exp(-0.5 * (x + d)**2 - 0.5 * math.log(2 * math.pi) - log_ndtr(x + d))
        x = x - (-x + r) / (-1 - r * (x + d + r))
    lo = np.maximum(-u1, x - 12.0)
    X, w = _gl(lo, np.maximum(lo, x) + 12.0, n)
    f = -0.5 * X**2 - 0.5 * math.log(2 * math.pi) + log_ndtr(X + d[..., None]) + np.log(w)
    return logsumexp(f, axis=-1)


def brute_relu_k2(q, n=80):
    """F_2(q) = E_z ln P(relu(λ₁) > relu(λ₂)) on an n² Gauss–Hermite product grid."""
    t, w = _grid(n)
    a = math.sqrt(q / (1 - q))
    U1, U2 = np.meshgrid(a * t, a * t, indexing="ij")
    return float(np.sum(np.outer(w, w) * relu_log_p2(U1, U2)))


def _sum_le(t, ua, ub, nv=32):
    """P(relu(x_a+u_a) + relu(x_b+u_b) ≤ t), t > 0: r_a = 0 and r_b ≤ t, or r_a = v ∈ (0, t]
    and r_b ≤ t − v (all terms positive)."""
    v, wv = _gl(np.zeros_like(t), t, nv)
    inner = np.sum(wv * _phi(v - ua[..., None]) * ndtr(t[..., None] - v - ub[..., None]), axis=-1)
    return ndtr(-ua) * ndtr(t - ub) + inner


def _sum_gt(t, ua, ub, nv=32):
    """P(relu(x_a+u_a) + relu(x_b+u_b) > t), t > 0: r_a > t, or r_a = 0 and r_b > t, or
    r_a = v ∈ (0, t] and r_b > t − v."""
    v, wv = _gl(np.zeros_like(t), t, nv)
    inner = np.sum(wv * _phi(v - ua[..., None]) * ndtr(ub[..., None] - t[..., None] + v), axis=-1)
    return ndtr(ua - t) + ndtr(-ua) * ndtr(ub - t) + inner


def relu_p_2v1(u1, u2, u3, nt=48):
    """P(r₁ + r₂ > r₃): r₃ = 0 (then r₁ + r₂ > 0), or r₃ = t > 0 with density φ(t − u₃)."""
    t, wt = _gl(np.zeros_like(u3), np.maximum(u3, 0) + 10, nt)
    U1, U2, U3 = (np.broadcast_to(x[..., None], t.shape) for x in (u1, u2, u3))
    return ndtr(-u3) * (1 - ndtr(-u1) * ndtr(-u2)) + np.sum(wt * _phi(t - U3) * _sum_gt(t, U1, U2), axis=-1)


def relu_p_1v2(u1, u2, u3, nt=48):
    """P(r₁ > r₂ + r₃) = ∫_0^∞ φ(t − u₁) P(r₂ + r₃ < t) dt."""
    t, wt = _gl(np.zeros_like(u1), np.maximum(u1, 0) + 10, nt)
    U1, U2, U3 = (np.broadcast_to(x[..., None], t.shape) for x in (u1, u2, u3))
    return np.sum(wt * _phi(t - U1) * _sum_le(t, U2, U3), axis=-1)


def brute_relu_k3(q, n=20):
    """Label-averaged F_3(q) on an n³ Gauss–Hermite product grid, nested Gauss–Legendre
    inside (label +1: units 1, 2 read +1 against unit 3; label −1: unit 1 against 2, 3).
    Grid error: n = 20 and 28 differ by 5e-12 (q = 0.3) and 5e-8 (q = 0.5)."""
    t, w = _grid(n)
    a = math.sqrt(q / (1 - q))
    U = np.meshgrid(a * t, a * t, a * t, indexing="ij")
    tot = 0.0
    for i in range(n):  # slab by slab (memory)
        u1, u2, u3 = U[0][i], U[1][i], U[2][i]
        lp = (np.log(np.maximum(relu_p_2v1(u1, u2, u3), 1e-300))
              + np.log(np.maximum(relu_p_1v2(u1, u2, u3), 1e-300)))
        tot += 0.5 * w[i] * np.sum(w[:, None] * w[None, :] * lp)
    return float(tot)


# ----------------------------------------------------------------------------- options
@pytest.mark.parametrize("K,act,bad", [(2, "sign", "K"), (3, "tanh", "activation"), (0, "sign", "K"),
                                       (1, "relu", "K"), ("x", "sign", "K"), (2.5, "relu", "K")])
def test_bad_options_name_the_parameter(K, act, bad):
    with pytest.raises(ValueError, match=f"^{bad}:"):
        validate_committee(K, act)


def test_family_needs_its_options():
    with pytest.raises(ValueError, match="^K:"):
        get_model("tree-committee", activation="sign")
    with pytest.raises(ValueError, match="^activation:"):
        get_model("tree-committee", K=3)


# ----------------------------------------------------------------------------- K = 1
@pytest.mark.parametrize("family,perceptron", [("tree-committee", "spherical-perceptron"),
                                               ("binary-tree-committee", "binary-perceptron")])
def test_k1_is_the_perceptron_at_zero_margin(family, perceptron):
    """K = 1 goes through the ordinary 1-D quadrature: value, gradient and Hessian equal
    the perceptron's at κ = 0 to 1e-12 relative (same expression up to the κ symbol:
    only the order of floating-point operations differs, e.g. 3e-12 on a Hessian entry
    of 415 at q = 0.9)."""
    a = compile_model(get_model(family, K=1, activation="sign"))
    b = compile_model(perceptron)
    for x in ([0.3, 0.7], [0.6, 2.5], [0.9, 12.0]):
        va = a.value_and_derivatives(np.array(x), {"alpha": 0.8})
        vb = b.value_and_derivatives(np.array(x), {"alpha": 0.8, "kappa": 0.0})
        for u, v in zip(va, vb):
            u, v = np.asarray(u), np.asarray(v)
            assert np.all(np.abs(u - v) <= 1e-12 * np.maximum(1, np.abs(v)))
    ra = capacity(a, {})
    rb = capacity(b, {"kappa": 0.0})
    assert ra.success and rb.success
    assert abs(ra.alpha_c - rb.alpha_c) < 1e-12


# ----------------------------------------------------------------------------- finite K, sign
@pytest.mark.parametrize("q", [0.3, 0.5, 0.7])
def test_k3_average_against_product_quadrature(q):
    """QMC + Poisson-binomial + exact last unit vs the independent 100³ product grid.
    Tolerances: the QMC standard error (spread of the 4 scramblings) is 2e-5..6e-5 for
    q in [0.3, 0.85] (COMMITTEE_QMC_* constants; measured deviations 5e-6..4e-5);
    1.5e-4 on F is ~3σ; derivatives are compared with central differences of the grid
    (h = 1e-4), whose own error is < 1e-7 (F') and < 1e-5 (F'')."""
    F, F1, F2, err = cm._evaluate(q, 3)
    assert err < 1e-4
    assert abs(F - brute_logz_k3(q)) < 1.5e-4
    h = 1e-4
    bp, b0, bm = brute_logz_k3(q + h), brute_logz_k3(q), brute_logz_k3(q - h)
    assert abs(F1 - (bp - bm) / (2 * h)) < 5e-4
    assert abs(F2 - (bp - 2 * b0 + bm) / h**2) < 5e-3


def test_derivative_equals_stein_form():
    """d/dq E ln Z = −½ Σ_l E(∂_{ω_l} ln Z)² (heat equation + Stein's lemma, derived in
    replica.committee): the node's pathwise derivative vs the Stein form on the grid."""
    for q in (0.3, 0.6):
        assert abs(float(cm.sign_logz(q, 3, 1)) - brute_stein_derivative_k3(q)) < 2e-4


def test_sign_capacity_k3_literature_and_checks():
    """Spherical sign tree committee, RS (q → 1): α_c(K=3) = 4.025192.
    Sources: Barkai, Hansel & Sompolinsky, PRA 45, 4146 (1992) quote the RS value ≈ 4.02
    (from memory via the project notes, medium confidence); 4.025192 from an independent
    recomputation (exact order-statistics integrals with scipy quad + Monte Carlo,
    /work/scratch/literature.md §4). Tolerance 1e-6 (6 quoted digits). The capacity's own
    numerical route (finite-q QMC saddle at 1−q = 1e-3..1e-5, Richardson) must agree to
    the stated 2e-3 (measured 6e-7)."""
    r = capacity(get_model("tree-committee", K=3, activation="sign"), {})
    assert r.success, r.message
    assert abs(r.alpha_c - 4.025192) < 1e-6
    assert r.check["relative_discrepancy"] < 2e-3
    assert r.rs_stable is False  # replicon → −∞ as q → 1 (test_spherical_k3_capacity_replicon_diverges)


@pytest.mark.parametrize("K,value", [(5, 5.768751), (7, 7.311865)])
def test_sign_capacity_k5_k7_recomputed(K, value):
    """RS α_c(K) for K = 5, 7 from the independent recomputation (literature.md §4, no
    paper value found); 1e-6. Plus a plain Monte Carlo estimate of E[sum of the (K+1)/2
    smallest (z⁻)²] (2·10⁶ samples: relative standard error 1.7e-3 measured; 4σ)."""
    m = compile_model(get_model("tree-committee", K=K, activation="sign"))
    a = rs_q_to_one_capacity(m, {})
    assert abs(a - value) < 1e-6
    z = np.random.default_rng(2).standard_normal((2_000_000, K))
    c = np.sort(np.maximum(-z, 0)**2, axis=1)[:, :(K + 1) // 2].sum(axis=1).mean()
    assert abs(a * c - 1) < 7e-3


def test_min_cost_numpy_vs_mpmath():
    """The q → 1 coefficient (a truncated Gaussian average in codegen) at 30 digits vs NumPy."""
    for K in (3, 9):
        e = SignCommitteeMinCost(K)
        num = float(compile_expression(e, [])())
        with mpmath.workdps(30):
            mp = _eval_mp(_load(_build([e], [], "mpmath"), "mpmath"), [])[0]
        assert abs(num - float(mp)) < 1e-12


def test_sign_rs_capacity_grows_like_sqrt_K():
    """RS capacity of the sign committee grows like √K (BHS 1992 abstract: "at large K,
    alpha_c diverges as K^1/2 in contradiction with the rigorous upper bound alpha_c <
    C ln K" of Mitchison & Durbin), unlike the beyond-RS asymptote (16/π)√(ln K) of
    Monasson & Zecchina (Mod. Phys. Lett. B 1995, arXiv cond-mat/9601122 abstract;
    context only: not an RS quantity). Leading order derived here: with m =
    (K+1)/2, the deficit of positive fields is ~ (√K/2)g₊ and the missing units are the
    least negative ones, so E C_K ≈ √(2π)/(12√K), i.e. α_c/√K → 12/√(2π) = 4.7873.
    Check: α_c/√K increases with K, stays below the constant, and a K^(-1/2)
    extrapolation from K = 99, 399 lands within 3% (measured 1.1%: slower corrections)."""
    ratios = {}
    for K in (25, 99, 399):
        ratios[K] = rs_q_to_one_capacity(compile_model(get_model("tree-committee", K=K, activation="sign")), {}) / math.sqrt(K)
    c = 12 / math.sqrt(2 * math.pi)
    assert ratios[25] < ratios[99] < ratios[399] < c
    ext = (ratios[399] * math.sqrt(399) - ratios[99] * math.sqrt(99)) / (math.sqrt(399) - math.sqrt(99))
    assert abs(ext / c - 1) < 0.03


def test_binary_k3_below_wide_limit():
    """Binary weights, entropy zero: K = 3 lies below the K → ∞ value 0.946952 and above
    the perceptron's 0.833079 (Krauth–Mézard); measured 0.92061."""
    r = capacity(get_model("binary-tree-committee", K=3, activation="sign"), {})
    assert r.success, r.message
    assert 0.833079 < r.alpha_c < 0.946952
    assert abs(r.alpha_c - 0.92061) < 5e-4   # recorded toolkit value; QMC error ~1e-4


# ----------------------------------------------------------------------------- K → ∞
def test_wide_relu_spherical_closed_form():
    """K → ∞ ReLU, spherical weights, RS: α_c = 2Q'(1) = 2π/(π−1) (derived in
    replica.committee; BMZ 2019 state only that it is finite). The symbolic q → 1 limit
    must give it to 1e-10; the numerical approach (√ε Richardson) to 1e-4."""
    r = capacity(get_model("tree-committee", K="inf", activation="relu"), {})
    assert r.success, r.message
    assert abs(r.alpha_c - WIDE_RELU) < 1e-10
    assert r.check["relative_discrepancy"] < 1e-4


def test_wide_sign_spherical_diverges():
    """Sign units, K → ∞: 1 − Q(q) ∝ √(1−q), the RS capacity is infinite (BHS 1992)."""
    r = capacity(get_model("tree-committee", K="inf", activation="sign"), {})
    assert not r.success and r.status == "non_finite"


@pytest.mark.parametrize("act,value", [("sign", 0.946952), ("relu", 0.903986)])
def test_wide_binary_entropy_zero(act, value):
    """Binary weights, K → ∞, RS entropy zero: 0.946952 (sign), 0.903986 (ReLU, balanced
    readout) from the independent recomputation (literature.md §4: own fixed point with
    finite-difference derivatives, 301 Hermite nodes; no paper value found). 1e-5."""
    r = capacity(get_model("binary-tree-committee", K="inf", activation=act), {})
    assert r.success, r.message
    assert abs(r.alpha_c - value) < 1e-5


def test_wide_numpy_vs_mpmath():
    """The K → ∞ ReLU model (arc-cosine kernel inside ln H averages): NumPy vs mpmath."""
    fe = get_model("tree-committee", K="inf", activation="relu")
    x, c = [0.55, 1.7], {"alpha": 1.3}
    a = compile_model(fe).evaluate("gradient", x, c)
    b = compile_model(fe, backend="mpmath").evaluate("gradient", x, c)
    for u, v in zip(a, b):
        assert abs(float(u) - float(v)) < 1e-10


def test_wide_replicon_crosses_zero_at_finite_alpha():
    """BHS 1992 (abstract, read via search): "the instability of the RS solution is shown
    to occur at a value of alpha which remains finite in the large-K limit". Our replicon
    (γ_out = Q'² E(∂²ln Z)² + Q'' E(∂ ln Z)², derived in replica.committee, not checked
    against a paper value) is positive at α = 2 and negative at α = 4 (zero at
    α_AT = 2.988; ReLU: 1.721)."""
    fe = get_model("tree-committee", K="inf", activation="sign")
    r2 = solve_saddle(fe, {"alpha": 2.0})
    r4 = solve_saddle(fe, {"alpha": 4.0}, x0=r2)
    assert r2.success and r4.success
    assert r2.stability["value"] > 0.1 and r4.stability["value"] < -0.1


# ----------------------------------------------------------------------------- finite K, ReLU
def test_relu_k2_closed_form():
    """ReLU, K = 2 (readout +1, −1), q → 1: E C = 3/4 exactly (by cases: both fields
    negative → z₁²; z₁ > 0, z₂ > z₁ → (z₂−z₁)²/2; z₁ < 0 < z₂ → (z₂+|z₁|)²/2 or
    z₁² + z₂²; half-normal moments give 1/4 + (1/8 − 1/(4π)) + (3/8 + 1/(4π))), so
    α_c = 4/3. Tolerance 5 standard errors of the QMC estimate."""
    c, se = float(cm.relu_min_cost(2)), cm.relu_min_cost_stderr(2)
    assert abs(c - 0.75) < 5 * se + 1e-6
    r = capacity(get_model("tree-committee", K=2, activation="relu"), {})
    assert r.success and abs(r.alpha_c - 4 / 3) < 5e-4
    # the finite-q route (saddles at 1 - q = 1e-3..1e-5 on the contour estimator,
    # Richardson) confirms the limit within the QMC tolerance QMC_Q_TO_ONE_RTOL = 2e-3
    # (measured 1.7e-7: the control variate carries the same min-cost average)
    assert r.check["relative_discrepancy"] < 2e-3 and len(r.check["alpha"]) == 3


def _mp_log_p2(u1, u2):
    """ln P(relu(x₁+u₁) > relu(x₂+u₂)) with mpmath at 30 digits (same integral as
    relu_log_p2, adaptive quadrature split at the integrand's maximum)."""
    with mpmath.workdps(30):
        u1, u2 = mpmath.mpf(u1), mpmath.mpf(u2)
        d = u1 - u2
        g = lambda x: -x * x / 2 - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(mpmath.ncdf(x + d))  # noqa: E731
        x0 = max(mpmath.findroot(lambda x: -x + mpmath.npdf(x + d) / mpmath.ncdf(x + d),
                                 0 if d > 0 else -d / 2), -u1)
        pts = sorted({-u1, x0} | {x0 + k for k in (-3, -1, 0.1, 1, 3, 10, 40) if x0 + k > -u1})
        g0 = g(x0)
        return float(g0 + mpmath.log(mpmath.quad(lambda x: mpmath.exp(g(x) - g0), pts + [mpmath.inf])))


def test_relu_inner_probability_k2_closed_form():
    """K = 2, given z: P(relu(λ₁) > relu(λ₂)) = Φ₂(u₁, (u₁−u₂)/√2; 1/√2) in rescaled units
    u = z√(q/(1−q)) (derived in relu_log_p2). The contour route (solvers.committee) vs
    (i) scipy's bivariate normal CDF (Genz's algorithm, a third route; absolute error
    ~1e-8, hence 1e-6 relative on P ≥ 0.01), (ii) mpmath at 30 digits deep in the tails
    (|u| up to 3000, ln P down to −1e7: the regime of the q → 1 check), 1e-9 relative on
    ln P. Both labels coincide at K = 2."""
    from scipy.stats import multivariate_normal
    rng = np.random.default_rng(11)
    U = rng.standard_normal((8, 2)) * 1.5
    lp = cm._relu_group(U[:, :1], U[:, 1:], 1.0)[0]
    mvn = multivariate_normal(mean=[0, 0], cov=[[1, 2**-0.5], [2**-0.5, 1]])
    for (u1, u2), v in zip(U, lp):
        P = mvn.cdf([u1, (u1 - u2) / math.sqrt(2)])
        if P > 0.01:
            assert abs(math.exp(v) / P - 1) < 1e-6
    for sc in (30.0, 300.0, 3000.0):
        U = rng.standard_normal((6, 2)) * sc
        lp = cm._relu_group(U[:, :1], U[:, 1:], 1.0)[0]
        for (u1, u2), v in zip(U, lp):
            r = _mp_log_p2(u1, u2)
            assert abs(v - r) <= 1e-9 * max(1.0, abs(r)) + 1e-12


def test_relu_inner_probability_k3_nested_quadrature():
    """K = 3, given z, both labels: contour route vs nested Gauss–Legendre integrals
    (relu_p_2v1, relu_p_1v2; no Laplace transform) at 12 random points, |u| ~ 2.
    Tolerance 1e-6 on ln P: the nested 48 × 32-node rules are good to ~1e-7 here."""
    Z = np.random.default_rng(5).standard_normal((12, 3)) * 2
    lp2 = cm._relu_group(Z[:, :2], Z[:, 2:], 1.0)[0]
    lp1 = cm._relu_group(Z[:, :1], Z[:, 1:], 1.0)[0]
    assert np.max(np.abs(lp2 - np.log(relu_p_2v1(Z[:, 0], Z[:, 1], Z[:, 2])))) < 1e-6
    assert np.max(np.abs(lp1 - np.log(relu_p_1v2(Z[:, 0], Z[:, 1], Z[:, 2])))) < 1e-6


@pytest.mark.parametrize("q", [0.3, 0.6, 0.9])
def test_relu_k2_average_against_product_quadrature(q):
    """F_2 and F_2' (QMC + contour) vs the 80² Gauss–Hermite product grid of the
    closed-form integral (relu_log_p2; central differences h = 1e-4 for F', whose error
    is < 1e-7). Tolerance 4 reported standard errors on F (the stderr includes the
    control variate's reference; 1.2e-4..2.6e-4 here, measured deviations 0.1-0.3 σ)
    and 10σ on F' (its error is not reported; measured |ΔF'| = 4e-5, 1e-4, 6e-4 at
    q = 0.3, 0.6, 0.9)."""
    F, F1, F2, err, bad = cm._relu_evaluate(q, 2)
    assert bad == 0
    assert abs(F - brute_relu_k2(q)) < 4 * err
    h = 1e-4
    d = (brute_relu_k2(q + h) - brute_relu_k2(q - h)) / (2 * h)
    assert abs(F1 - d) < 10 * err * max(1.0, abs(d) / 5)


def test_relu_k3_average_against_product_quadrature():
    """F_3 (both labels) and F_3' at q = 0.5 vs the 20³ product grid with nested
    Gauss–Legendre (brute_relu_k3; grid error 5e-8). F: 4 reported standard errors
    (measured 6.5e-5 = 1.9σ; at 4× the points 1.2σ). F': central differences of the
    grid, h = 1e-3 (truncation ~h²/6 times the third derivative, < 1e-5); 10σ as for
    K = 2."""
    F, F1, _, err, bad = cm._relu_evaluate(0.5, 3)
    assert bad == 0
    assert abs(F - brute_relu_k3(0.5)) < 4 * err
    h = 1e-3
    d = (brute_relu_k3(0.5 + h) - brute_relu_k3(0.5 - h)) / (2 * h)
    assert abs(F1 - d) < 10 * err


def test_relu_derivatives_are_those_of_the_estimator():
    """relu_logz(n = 1, 2) are the a-derivatives of the same contour sums at fixed
    contours (chain rule to q): central differences of the value (h = 1e-5) agree to
    what the contour's motion and the branch switches (quadrature error ~1e-10 per
    point) allow. Measured 2e-8 relative on F' and 3e-7 on F'' (K = 2, 3, 4; FD
    truncation ~1e-10, round-off 1e-16|F|/h² ~ 1e-6 |F/F''|); tolerances 2e-7 and 1e-5.
    A derivative of a different estimator (e.g. contours frozen at another q, or a
    missing chain-rule term) would be off by the QMC error, ≳ 1e-5."""
    q, h = 0.6, 1e-5
    f = [float(cm.relu_logz(x, 4, 0)) for x in (q - h, q, q + h)]
    d1, d2 = float(cm.relu_logz(q, 4, 1)), float(cm.relu_logz(q, 4, 2))
    assert abs((f[2] - f[0]) / (2 * h) - d1) < 2e-7 * abs(d1)
    assert abs((f[2] - 2 * f[1] + f[0]) / h**2 - d2) < 1e-5 * abs(d2)


def test_relu_q_to_one_coefficient_of_the_finite_q_average():
    """As q → 1, F_K(q) ≃ −E C/(2(1−q)) + O(ln(1−q)) (replica.committee): the finite-q
    estimator times −2(1−q) tends to the min-cost average. At 1 − q = 1e-5 the
    remainder is ~(1−q)·ln(1−q)·O(1) ~ 1e-4 relative; tolerance 2e-3."""
    for K in (2, 3):
        eps = 1e-5
        F = float(cm.relu_logz(1 - eps, K, 0))
        assert abs(-2 * eps * F / float(cm.relu_min_cost(K)) - 1) < 2e-3


def _binary_rs_entropy(alpha, energetic, iterations):
    """RS entropy of ±1 weights at load ``alpha`` with the energetic average
    ``energetic(q)`` (an independent brute-force route), by a hand-written damped fixed
    point with F' by central differences: q̂ = -2αF'(q), q = E tanh²(√q̂ z)."""
    t, w = _grid(121)
    q = 0.5
    for _ in range(iterations):
        h = 1e-5
        qh = -2 * alpha * (energetic(q + h) - energetic(q - h)) / (2 * h)
        qn = float(np.sum(w * np.tanh(math.sqrt(qh) * t)**2))
        if abs(qn - q) < 1e-10:
            break
        q = 0.5 * (q + qn)
    return (-qh * (1 - q) / 2 + float(np.sum(w * np.logaddexp(math.sqrt(qh) * t, -math.sqrt(qh) * t)))
            + alpha * energetic(q))


@pytest.mark.slow
def test_binary_relu_k2_entropy_zero_by_product_quadrature():
    """Independent route for the binary K = 2 capacity: at the toolkit's recorded
    α_c = 0.57506 (capacity(), entropy zero), a hand-written RS fixed point with the
    closed-form product-grid energetic (brute_relu_k2, 60² nodes, F' by central
    differences) must give zero entropy to 2e-4 (α_c's QMC error ~1e-4 moves s by
    |∂s/∂α| δα = |F| δα ~ 1e-4)."""
    assert abs(_binary_rs_entropy(0.57506, lambda q: brute_relu_k2(q, 60), 300)) < 2e-4


def test_relu_finite_K_approaches_wide_limit():
    """Even K (balanced readout): α_c(K) increases towards 2π/(π−1) (measured 1.333,
    2.475, 2.873 for K = 2, 4, 8, and 2.900 at K = 16)."""
    # the q -> 1 limit alone (its finite-q check is tested at K = 2 and 3 above; at K = 8
    # it would cost ~20 s of contour integrals)
    a = [rs_q_to_one_capacity(compile_model(get_model("tree-committee", K=K, activation="relu")), {})
         for K in (2, 4, 8)]
    assert a[0] < a[1] < a[2] < WIDE_RELU
    assert WIDE_RELU - a[2] < 0.08


def test_relu_k2_solve_and_saddle_condition():
    """Finite-q ReLU through solve_saddle (Newton on the QMC estimator, which is smooth:
    6 iterations). At the saddle the energetic stationarity q̂ = −2α F'(q) must hold with
    F' from the independent product grid (brute_relu_k2, central differences): F' has a
    QMC error ~1e-4 relative here, so 1e-3 relative on q̂. The quadrature error (change
    when the QMC points are doubled) is reported and below the model's alarm."""
    fe = get_model("tree-committee", K=2, activation="relu")
    assert fe.meta["quadrature_alarm"] == 1e-3
    r = solve_saddle(fe, {"alpha": 1.0}, x0={"q": 0.8, "qhat": 20.0}, method="newton")
    assert r.status == "converged", r.message
    q, qh = r.order_parameters["q"], r.conjugates["qhat"]
    h = 1e-4
    d = (brute_relu_k2(q + h) - brute_relu_k2(q - h)) / (2 * h)
    assert abs(qh + 2 * 1.0 * d) < 1e-3 * qh
    assert 0 < r.quadrature_error < 1e-3


# ----------------------------------------------------------------------------- CLI
def test_cli_capacity_contract(capsys):
    assert cli(["capacity", "tree-committee", "--set", "K=3", "--set", "activation=relu", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"] == "tree-committee[K=3,activation=relu]"
    assert d["success"] and d["criterion"] == "q_to_1" and 1.5 < d["alpha_c"] < 1.7
    # finite-q ReLU: the limit is now confirmed by the numerical q -> 1 approach
    # (measured 2.5e-7; tolerance QMC_Q_TO_ONE_RTOL)
    assert d["check"]["relative_discrepancy"] < 2e-3


@pytest.mark.parametrize("args,word", [
    (["capacity", "tree-committee", "--set", "K=2", "--set", "activation=sign"], "K"),
    (["capacity", "tree-committee", "--set", "K=3", "--set", "activation=tanh"], "activation"),
    (["capacity", "tree-committee", "--set", "activation=sign"], "K"),
    (["capacity", "tree-committee"], "missing option K"),
    (["solve", "tree-committee", "--set", "K=1", "--set", "activation=relu", "--set", "alpha=1"], "K"),
])
def test_cli_bad_options_exit_2(args, word, capsys):
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("replica: error:") and word in err and err.count("\n") == 1


def test_cli_solve_wide(capsys):
    assert cli(["solve", "tree-committee", "--set", "K=inf", "--set", "activation=sign",
                "--set", "alpha=1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "converged" and 0 < d["order_parameters"]["q"] < 1


# ----------------------------------------------------------------------------- figure
def test_committee_figure_quick(tmp_path):
    """Smoke: the figure runs at reduced resolution and saves its data (K = 3 sign value
    and the K → ∞ ReLU line as checked above)."""
    from figures import FIGURES, committee
    assert FIGURES["committee"] == "figures.committee"
    out = committee.main(quick=True, outdir=tmp_path)
    assert out["ok"] and out["png"].stat().st_size > 10_000
    d = json.loads(out["data"].read_text())
    assert abs(d["spherical"]["sign"]["alpha_c"][d["spherical"]["sign"]["K"].index(3)] - 4.025192) < 1e-6
    assert abs(d["wide"]["spherical_relu"] - WIDE_RELU) < 1e-10
    rel = d["spherical"]["relu"]
    assert abs(rel["alpha_c"][rel["K"].index(2)] - 4 / 3) < 5e-4  # checked at finite q
    assert d["binary"]["relu"]["K"] == []  # finite-K binary ReLU: full mode only
    # AT line (tests/test_at_line.py): K = 3 sign and the K → ∞ values; binary K = 3 stable
    at = d["at_line"]
    assert at["sign"]["K"] == [3] and abs(at["sign"]["alpha_at"][0] - 1.72981) < 1e-3
    assert abs(at["wide"]["sign"] - 2.98782) < 1e-4 and abs(at["wide"]["relu"] - 1.72120) < 1e-4
    assert d["binary"]["sign"]["rs_stable"] == [True, True]


# ----------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_binary_sign_approaches_wide_limit():
    """Binary weights, sign units: α_c(K) increases with K towards 0.946952 (K → ∞)."""
    a = [capacity(get_model("binary-tree-committee", K=K, activation="sign"), {}).alpha_c
         for K in (3, 5, 9)]
    assert 0.833079 < a[0] < a[1] < a[2] < 0.946952


@pytest.mark.slow
def test_binary_k3_entropy_zero_by_brute_force():
    """Independent route for the binary K = 3 capacity: at the toolkit's α_c, solve the RS
    equations with the brute-force grid energetic (finite differences) and a hand-written
    fixed point; the entropy must vanish to 2e-4 (QMC error ~1e-4 on α_c)."""
    ac = capacity(get_model("binary-tree-committee", K=3, activation="sign"), {}).alpha_c
    assert abs(_binary_rs_entropy(ac, lambda q: brute_logz_k3(q, 80), 200)) < 2e-4


@pytest.mark.slow
def test_k99_average_is_close_to_the_wide_limit():
    """The energetic average at q = 0.5 increases with K towards the K → ∞ one,
    E ln H(−√Q z/√(1−Q)) with Q = (2/π) arcsin q (−0.84910): measured −0.89642, −0.86268,
    −0.85031 for K = 3, 9, 99 (K = 99 with the sum-law control variate, standard error
    3e-5; −0.85156 before, standard error 5e-4..7e-4, hence 5e-3)."""
    Q = 2 / math.pi * math.asin(0.5)
    t, w = _grid(200)
    wide = float(np.sum(w * log_ndtr(math.sqrt(Q) * t / math.sqrt(1 - Q))))
    v = [float(cm.sign_logz(0.5, K, 0)) for K in (3, 9, 99)]
    assert v[0] < v[1] < v[2] < wide + 2e-3
    assert abs(v[2] - wide) < 5e-3


@pytest.mark.slow
def test_binary_relu_approaches_wide_limit(capsys):
    """Binary weights, ReLU units, RS entropy zero (finite-q contour estimator): recorded
    0.57506 (K = 2, checked independently by test_binary_relu_k2_entropy_zero_by_product_
    quadrature), 0.64400 (K = 3, through the CLI), 0.81360 (K = 4); below the K → ∞
    value 0.903986 and increasing. Odd K sits below the even K around it (as for the
    spherical capacities 1.333, 1.588, 2.474 at K = 2, 3, 4): with the label-averaged
    readout one label has the minority on the winning side. Tolerance 5e-4 (QMC
    error on α_c ~1e-4)."""
    assert cli(["capacity", "binary-tree-committee", "--set", "K=3", "--set", "activation=relu", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["success"] and d["criterion"] == "entropy_zero"
    a = {K: capacity(get_model("binary-tree-committee", K=K, activation="relu"), {}).alpha_c for K in (2, 4)}
    a[3] = d["alpha_c"]
    assert a[2] < a[3] < a[4] < 0.903986
    for K, v in ((2, 0.57506), (3, 0.64400), (4, 0.81360)):
        assert abs(a[K] - v) < 5e-4


@pytest.mark.slow
def test_cli_solve_relu_finite_K(capsys):
    """The command of the brief: finite-K ReLU solve through the CLI (auto method: damped
    fixed point then Newton; ~70 evaluations of the QMC estimator)."""
    assert cli(["solve", "tree-committee", "--set", "K=4", "--set", "activation=relu",
                "--set", "alpha=1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "converged" and abs(d["order_parameters"]["q"] - 0.51508) < 1e-3
    assert d["quadrature_error"] < 1e-3


# ----------------------------------------------------------------------------- finite K, sign: AT replicon
def brute_hessian_sq_k3(q, n=100, h=1e-3):
    """A = E(∂²_{ω1} ln Z)², B = E(∂_{ω1}∂_{ω2} ln Z)² at K = 3 on an n³ Gauss–Hermite
    product grid, with the Hessian by central differences (step h in ω) of the exact
    ln Z (the four winning configurations summed in logs, as in brute_logz_k3): no
    QMC, no count recursion, no analytic derivative. Difference error ~(h/σ)² ~ 1e-6
    relative, rounding ~1e-16/h² = 1e-10; the grid: n = 100 and 140 agree to 1e-8 at
    q ≤ 0.5 (the integrand's scale in z is √((1−q)/q) ≥ 1 there)."""
    t, w = _grid(n)
    s = math.sqrt(1 - q)

    def lnz(o1, o2, o3):
        lp = [log_ndtr(o / s) for o in (o1, o2, o3)]
        lq = [log_ndtr(-o / s) for o in (o1, o2, o3)]
        return logsumexp(np.stack(np.broadcast_arrays(
            lp[0] + lp[1] + lp[2], lp[0] + lp[1] + lq[2], lp[0] + lq[1] + lp[2], lq[0] + lp[1] + lp[2])), axis=0)

    om = math.sqrt(q) * t
    o1, o2, o3 = om[:, None, None], om[None, :, None], om[None, None, :]
    W = w[:, None, None] * w[None, :, None] * w[None, None, :]
    d11 = (lnz(o1 + h, o2, o3) - 2 * lnz(o1, o2, o3) + lnz(o1 - h, o2, o3)) / h**2
    d12 = (lnz(o1 + h, o2 + h, o3) - lnz(o1 + h, o2 - h, o3) - lnz(o1 - h, o2 + h, o3)
           + lnz(o1 - h, o2 - h, o3)) / (4 * h * h)
    return float(np.sum(W * d11**2)), float(np.sum(W * d12**2))


def wide_gamma_out(q, n=150):
    """K → ∞ channel factor Q'² E(∂²_w ln Φ(w/√(1−Q)))² + Q'' E(∂_w ln Φ)², w = √Q z,
    Q = (2/π) arcsin q, written out here (Gauss–Hermite, n nodes): the pieces
    (KA → the Q'' term, K²B → the Q'² term; replica.committee.SignCommitteeReplicon)."""
    t, w = _grid(n)
    Q = 2 / math.pi * math.asin(q)
    dQ, d2Q = 2 / math.pi / math.sqrt(1 - q * q), 2 / math.pi * q / (1 - q * q)**1.5
    s = math.sqrt(1 - Q)
    x = math.sqrt(Q) * t / s
    r = np.exp(-0.5 * x * x - 0.5 * math.log(2 * math.pi) - log_ndtr(x))
    g1, g2 = r / s, (-x * r - r * r) / s**2
    return dQ**2 * float(np.sum(w * g2**2)), d2Q * float(np.sum(w * g1**2))


@pytest.mark.parametrize("q", [0.3, 0.5])
def test_replicon_k3_against_product_quadrature(q):
    """A and B of the K = 3 replicon (count recursion in logs, analytic derivatives,
    QMC over two fields, exact last unit) vs the independent 100³ grid with
    finite-difference Hessians. Measured relative deviations: A 1.9e-5, 2.0e-5; B 3e-6,
    1.3e-5 (q = 0.3, 0.5). The spread of the scramblings at q = 0.5 is 1.6e-5 relative
    (A, whose own field is integrated exactly) and 5.6e-5 (B): tolerances 8e-5 and
    2.5e-4 are ~5σ."""
    g, A, B, err = cm.sign_replicon_parts(q, 3)
    bA, bB = brute_hessian_sq_k3(q)
    assert abs(A - bA) < 8e-5 * bA and abs(B - bB) < 2.5e-4 * bB
    assert g == pytest.approx(3 * (A + 2 * B), rel=1e-14) and err < 2e-4 * g


def test_replicon_k1_is_the_perceptron():
    """K = 1 (no QMC field, the last-unit rule only) equals the perceptron's channel
    factor E(∂²_ω ln H(−ω/√(1−q)))² compiled from its symbolic expression (the
    ordinary quadrature route of TreeCommitteeChannel(1)). 5e-7 relative: the last-unit
    rule (16 Gauss–Legendre nodes per graded piece) is off by 1.1e-7 at q = 0.95 against
    mpmath.quad at 30 digits (the compiled route agrees with mpmath to 1e-15), < 1e-12
    at q ≤ 0.6; far below the QMC error of K ≥ 3."""
    from replica.committee import TreeCommitteeChannel
    import sympy as sp
    q, z = sp.Symbol("q"), sp.Symbol("z")
    f = compile_expression(TreeCommitteeChannel(1).rs_gamma_out(q, z), [q])
    for qq in (0.2, 0.6, 0.95):
        ours = cm.sign_replicon_parts(qq, 1)
        assert ours[2] == 0.0
        assert abs(ours[0] / float(f(qq)) - 1) < 5e-7


def test_replicon_large_K_approaches_wide_limit():
    """K(A + (K−1)B) → Q'² E(∂²ln Z)² + Q'' E(∂ln Z)² (the K = inf channel; derived in
    replica.committee.SignCommitteeReplicon), approached like 1/K: at q = 0.5 the
    measured K(γ_K − γ_∞) is 2.39, 1.84, 1.61, 1.66 for K = 3, 9, 21, 99. Checked: γ_K
    decreases with K for K = 3, 9, 21 and K(γ_K − γ_∞) stays in [1.2, 2.6] (a limit
    off by the Q'' term, 0.675, would put K = 21 at −12.6); the pieces separately:
    KA within 15% of the Q'' term and K(K−1)B within 15% of the Q'² term at K = 21
    (both O(1/K) off: measured 4.8% and 9.1%; 12% and 25% at K = 9). Standard errors
    ≤ 9e-4 (of γ_K ≈ 1.2..2)."""
    d2, d1 = wide_gamma_out(0.5)
    wide = d2 + d1
    gs = {}
    for K in (3, 9, 21):
        g, A, B, err = cm.sign_replicon_parts(0.5, K)
        assert err < 1e-3
        gs[K] = g
        assert 1.2 < K * (g - wide) < 2.6
    assert gs[3] > gs[9] > gs[21] > wide
    g, A, B, _ = cm.sign_replicon_parts(0.5, 21)
    assert abs(21 * A / d1 - 1) < 0.15 and abs(21 * 20 * B / d2 - 1) < 0.15


def test_binary_k3_capacity_is_rs_stable(capsys):
    """The command of the brief: the binary K = 3 RS capacity (entropy zero, α_c ≈
    0.9206, q ≈ 0.384) reports a numeric replicon and a boolean rs_stable. The value
    is recomputed independently: λ = 1 − α γ_in · 3(A + 2B) with γ_in = E(1 −
    tanh²(√q̂ z))² (Gauss–Hermite here) and A, B from the finite-difference product grid
    at the reported saddle; 2e-4 (QMC error of A, B ~2e-5 relative, of α_c and q
    ~1e-4). Measured λ = 0.5234 > 0: RS is AT-stable there (as for the perceptron,
    0.456 at α = 0.833, and K = inf, 0.737 at 0.947)."""
    assert cli(["capacity", "binary-tree-committee", "--set", "K=3", "--set", "activation=sign", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert isinstance(d["replicon"], float) and isinstance(d["rs_stable"], bool)
    assert d["rs_stable"] is True and d["saddle"]["stability"]["indicator"] == "replicon"
    q, qh = d["saddle"]["order_parameters"]["q"], d["saddle"]["conjugates"]["qhat"]
    t, w = _grid(121)
    gin = float(np.sum(w * (1 - np.tanh(math.sqrt(qh) * t)**2)**2))
    bA, bB = brute_hessian_sq_k3(q)
    lam = 1 - d["alpha_c"] * gin * 3 * (bA + 2 * bB)
    assert abs(d["replicon"] - lam) < 2e-4 and 0.5 < lam < 0.55


def test_spherical_k3_at_point():
    """Spherical K = 3: the RS branch is AT-unstable above α_AT = 1.7298 (q_AT = 0.6003),
    far below the RS capacity 4.0252 (BHS 1992, abstract: RSB "far below the capacity
    limit" for K = 3; no number there to compare with). Independent check at the
    toolkit's q_AT: with F' from central differences of the product grid
    (brute_logz_k3) and A, B from brute_hessian_sq_k3 at n = 120 (q = 0.6: n = 100
    and 120 agree to 8e-6 relative), α = −q/(2(1−q)²F') and λ = 1 − α(1−q)² 3(A+2B) vanish
    within 1e-3 (QMC error of the saddle ~1e-4); the compiled model's observable
    changes sign across it."""
    q_at, a_at = 0.600264, 1.72981
    h = 1e-4
    F1 = (brute_logz_k3(q_at + h) - brute_logz_k3(q_at - h)) / (2 * h)
    alpha = -q_at / (2 * (1 - q_at)**2 * F1)
    bA, bB = brute_hessian_sq_k3(q_at, 120)
    assert abs(alpha - a_at) < 1e-3
    assert abs(1 - alpha * (1 - q_at)**2 * 3 * (bA + 2 * bB)) < 1e-3
    m = compile_model(get_model("tree-committee", K=3, activation="sign"))
    lam = []
    from solvers.capacity import rs_branch_point
    for q in (0.58, 0.62):  # the RS saddle at fixed q: q̂ from the prior's equation, α affine
        x, a = rs_branch_point(m, {}, "alpha", q)
        lam.append(float(m.observables_at(x, {"alpha": a})["replicon"]))
    assert lam[0] > 0.01 and lam[1] < -0.01


def test_spherical_k3_capacity_replicon_diverges():
    """At the spherical q → 1 capacity the replicon diverges: λ ≃ −2α_c J/(1−q), J =
    ∫_0^∞ φ² z³ Φ dz (derived in replica.committee.SignCommitteeReplicon from the
    rank-exchange ridge; scipy quad here). capacity() reports rs_stable False and
    replicon −inf; (1−q)λ on its approach (measured −0.56677, −0.56687 at 1−q = 1e-4,
    1e-5) within 1e-3 relative of −2α_c J = −0.56689: the O(1−q) remainder is 2e-4 at
    1e-4, the standard error ≤ 1.2e-4."""
    from scipy.integrate import quad
    r = capacity(get_model("tree-committee", K=3, activation="sign"), {})
    assert r.rs_stable is False and r.replicon == -math.inf
    J = quad(lambda z: _phi(z)**2 * z**3 * ndtr(z), 0, np.inf)[0]
    for lam, eps in zip(r.check["replicon"][1:], r.check["one_minus_q"][1:]):
        assert abs(lam * eps / (-2 * r.alpha_c * J) - 1) < 1e-3
    assert all(v < 0 for v in r.check["replicon"])


@pytest.mark.slow
def test_spherical_at_line_approaches_wide_limit():
    """α_AT(K) of the spherical sign committee (λ = 0 on the RS branch, α(q) =
    −q/(2(1−q)²F'(q)), F' from the sign_logz node) rises towards the K = inf value
    2.98782 (q = 0.6303; recomputed here from wide_gamma_out and the closed K = inf
    energetic term) like 1/K: measured 1.7298, 2.0822, 2.4714, 2.7720 for K = 3, 5, 9,
    21 (2.3189 at K = 7, 2.8764 at K = 41), i.e. K(α_∞ − α_K) = 3.77, 4.53, 4.65, 4.53.
    Tolerance: K(α_∞ − α_K) in [3.5, 5.0] (a missing Q'' or Q'² piece in the limit
    moves α_∞ by O(1)); the QMC error of α_AT is ~1e-3."""
    from scipy.optimize import brentq
    t, w = _grid(150)

    def wide_F(q):
        Q = 2 / math.pi * math.asin(q)
        return float(np.sum(w * log_ndtr(math.sqrt(Q) * t / math.sqrt(1 - Q))))

    def lam(q, K):
        if K == "inf":
            F1 = (wide_F(q + 1e-5) - wide_F(q - 1e-5)) / 2e-5
            g = sum(wide_gamma_out(q))
        else:
            F1, g = float(cm.sign_logz(q, K, 1)), float(cm.sign_replicon(q, K))
        a = -q / (2 * (1 - q)**2 * F1)
        return 1 - a * (1 - q)**2 * g, a

    def alpha_at(K):
        return lam(brentq(lambda q: lam(q, K)[0], 0.3, 0.95, xtol=1e-8), K)[1]

    a_inf = alpha_at("inf")
    assert abs(a_inf - 2.98782) < 1e-4
    prev = 0.0
    for K in (3, 5, 9, 21):
        a = alpha_at(K)
        assert prev < a < a_inf and 3.5 < K * (a_inf - a) < 5.0
        prev = a


def test_replicon_q_to_one_asymptote_k5():
    """(1−q)³γ_out → c_K = (2/3) C(K,2) C(K−2,m−1) ∫_0^∞ φ² z³ Φ^{m−1} (1−Φ)^{K−1−m} dz
    (the rank-exchange ridge, derived in replica.committee.SignCommitteeReplicon; scipy
    quad here), at K = 5 (m = 3, c_5 = 0.126658): measured 0.12657 at 1 − q = 1e-5 with
    standard error 8.6e-4 relative; 5e-3 is ~6σ (the O(1−q) remainder is ~1e-5). A
    wrong combinatorial factor is off by ≥ 1/3."""
    from scipy.integrate import quad
    from scipy.special import comb
    K, m, eps = 5, 3, 1e-5
    cK = 2 / 3 * comb(K, 2) * comb(K - 2, m - 1) * quad(
        lambda z: _phi(z)**2 * z**3 * ndtr(z)**(m - 1) * ndtr(-z)**(K - 1 - m), 0, np.inf)[0]
    g, A, B, err = cm.sign_replicon_parts(1 - eps, K)
    assert err < 2e-3 * g
    assert abs(g * eps**3 / cK - 1) < 5e-3


# ----------------------------------------------------------------------------- output margin, finite K
# The -margin families at finite K (sign units): the pattern is stored when the normalised
# output (2j − K)/√K exceeds κ, i.e. j ≥ m(κ) = ⌊(K + κ√K)/2⌋ + 1 (replica.committee).
MARGIN_K3 = dict(K=3, activation="sign")


def _perceptron_F(q, n=200):
    """E_z ln Φ(a z), a = √(q/(1−q)) (the perceptron's energetic term at κ = 0), by
    200-node Gauss–Hermite (smooth integrand at these q: converged to < 1e-12)."""
    t, w = _grid(n)
    return float(w @ log_ndtr(math.sqrt(q / (1 - q)) * t))


def test_margin_threshold_staircase():
    """m(κ) by hand: K = 3 outputs ±1/√3, ±√3; K = 25 outputs (2j − 25)/5."""
    assert [cm.margin_threshold(3, k) for k in (-1.7, -0.6, 0.0, 0.57, 0.6, 1.7)] == [1, 1, 2, 2, 3, 3]
    assert cm.margin_threshold(3, 1 / math.sqrt(3)) == 3      # strict inequality at the step
    assert cm.margin_threshold(3, -1 / math.sqrt(3)) == 2     # j = 1 gives −1/√3, not > κ
    assert cm.margin_threshold(25, 0.3) == 14 and cm.margin_threshold(25, 0.2) == 14
    for K in (3, 5, 9, 25):
        assert cm.margin_threshold(K, 0.0) == (K + 1) // 2


def test_margin_zero_is_the_margin_zero_family():
    """κ = 0 is the majority: the same numbers as the margin-0 family. Tolerance 1e-12:
    the same code path (threshold m = (K+1)/2) and points; only the compiled expressions
    differ (measured 2e-15 relative)."""
    a = capacity(get_model("tree-committee-margin", **MARGIN_K3), {"kappa": 0.0})
    b = capacity(get_model("tree-committee", **MARGIN_K3), {})
    assert a.success and abs(a.alpha_c - b.alpha_c) < 1e-12 * b.alpha_c
    ra = solve_saddle(get_model("binary-tree-committee-margin", **MARGIN_K3), {"alpha": 0.5, "kappa": 0.0})
    rb = solve_saddle(get_model("binary-tree-committee", **MARGIN_K3), {"alpha": 0.5})
    assert ra.status == rb.status == "converged"
    assert abs(ra.order_parameters["q"] - rb.order_parameters["q"]) < 1e-12
    assert abs(ra.free_entropy - rb.free_entropy) < 1e-12


def test_margin_unanimity_k3_is_three_perceptrons():
    """K = 3, κ ∈ [1/√3, √3): m = 3 (unanimity), ln P = Σ_l ln Φ(a z_l), so F(q) =
    3 F_perceptron(q) and Φ_committee(α) = Φ_perceptron(3α): spherical α_c = 2/3
    (Gardner's 2 divided by K) and binary α_c = α_c^perceptron/3.

    Tolerances: E C = 3/2 is a 1-D Gauss–Legendre integral (exact to rounding: 1e-12);
    F is a QMC estimate (2-D Sobol over the other units, measured offset 8e-6..1e-5 at
    q = 0.3..0.9, the stated K = 3 accuracy 5e-5): 3e-5; binary α_c shifts by about
    δF·α_c/|F| ~ 1e-6 (measured 7.6e-7): 1e-5."""
    for q in (0.3, 0.6, 0.9):
        assert abs(float(cm.sign_logz(q, 3, 0, 0.6)) - 3 * _perceptron_F(q)) < 3e-5
    assert abs(cm.sign_min_cost(3, 0.6) - 1.5) < 1e-12
    s = capacity(get_model("tree-committee-margin", **MARGIN_K3), {"kappa": 0.6})
    assert s.success and abs(s.alpha_c - 2 / 3) < 1e-12
    b = capacity(get_model("binary-tree-committee-margin", **MARGIN_K3), {"kappa": 0.6})
    p = capacity("binary-perceptron", {"kappa": 0.0})
    assert b.success and b.criterion == "entropy_zero"
    assert abs(b.alpha_c - p.alpha_c / 3) < 1e-5       # 0.83308/3 = 0.27769
    # the replicon's channel factor: separable ln P, so B = 0 and γ_out = 3 A_perceptron
    q = 0.5
    sig, a = math.sqrt(1 - q), math.sqrt(q / (1 - q))
    t, w = _grid(200)
    u = a * t
    r = np.exp(-0.5 * u * u - 0.5 * math.log(2 * math.pi) - log_ndtr(u))
    A = float(w @ ((-u * r - r * r) / sig**2) ** 2)         # E(∂²_ω ln Φ(ω/σ))², ω = √q z
    g, A3, B3, err = cm.sign_replicon_parts(q, 3, 0.6)
    assert abs(B3) < 1e-12 and abs(A3 - A) < 1e-6 * A      # A: last unit's 1-D rule only
    assert abs(g - 3 * A) < 1e-6 * A


def _brute_m1_k3(q, n=60):
    """E_z ln(1 − Π_l Φ(−a z_l)) (m = 1: at least one positive unit) on a 60³ product
    Gauss–Hermite grid."""
    t, w = _grid(n)
    lq = log_ndtr(-math.sqrt(q / (1 - q)) * t)
    L = lq[:, None, None] + lq[None, :, None] + lq[None, None, :]
    lp = np.log(-np.expm1(np.minimum(L, -1e-300)))   # L = 0 only where the weight is ~e^-900
    W = w[:, None, None] * w[None, :, None] * w[None, None, :]
    return float((W * lp).sum())


@pytest.mark.parametrize("q", [0.3, 0.6])
def test_margin_m1_k3_against_product_quadrature(q):
    """K = 3, κ ∈ [−√3, −1/√3): m = 1, ln P = ln(1 − Π(1 − p_l)). F and F' against a 60³
    product Gauss–Hermite grid (F' by central differences of it, h = 1e-4: error
    ~h² F''' < 1e-7). Tolerance 2e-5 on F (measured 1.6e-6, 1.4e-6; QMC stderr 2e-6..4e-6),
    1e-4 on F' (the stated QMC accuracy of F' at K = 3 is 3e-4)."""
    F = float(cm.sign_logz(q, 3, 0, -0.6))
    assert abs(F - _brute_m1_k3(q)) < 2e-5
    h = 1e-4
    dF = (_brute_m1_k3(q + h) - _brute_m1_k3(q - h)) / (2 * h)
    assert abs(float(cm.sign_logz(q, 3, 1, -0.6)) - dF) < 1e-4
    # E C for m = 1: E min_l (z_l⁻)² against the order-statistics formula done by hand,
    # ∫ 2s H(s)³ ds over s > 0 (scipy quad)
    from scipy.integrate import quad
    EC = quad(lambda s: 2 * s * ndtr(-s) ** 3, 0, np.inf)[0]
    assert abs(cm.sign_min_cost(3, -0.6) - EC) < 1e-10


def test_margin_staircase_approaches_wide_limit():
    """Binary capacities: at finite K the margin acts through the count threshold, so
    α_c(κ) is a staircase (K = 9: κ = 0.3 lies on the majority step [−1/3, 1/3), the same
    number as κ = 0, bit for bit); its steps approach the K = inf curve at the step's
    continuity point κ_m = (2m − 1 − K)/√K (the midpoint between the two output levels):
    measured α_c(K; κ_m) − α_c(inf; κ_m) = −0.0263 (K = 3, κ_m = 0), −0.0072 (K = 9,
    κ_m = 0), −0.0013 (K = 25, κ_m = 0.4; slow test below). At fixed κ = 0.3 the
    finite-K values 0.9206 (K = 3), 0.9398 (K = 9), 0.6040 (K = 25) approach 0.6733
    (K = inf) only once the step width 2/√K is small."""
    inf = get_model("binary-tree-committee-margin", K="inf", activation="sign")
    a_inf0 = capacity(inf, {"kappa": 0.0}).alpha_c                      # 0.94695
    a3 = capacity(get_model("binary-tree-committee-margin", **MARGIN_K3), {"kappa": 0.3}).alpha_c
    k9 = get_model("binary-tree-committee-margin", K=9, activation="sign")
    a9 = capacity(k9, {"kappa": 0.3}).alpha_c
    assert a9 == capacity(k9, {"kappa": 0.0}).alpha_c                   # same step, same numbers
    d3, d9 = a3 - a_inf0, a9 - a_inf0
    # the measured gaps (above) within 2e-3 (QMC error of α_c ~1e-4 and below) and falling
    assert abs(d3 + 0.0263) < 2e-3 and abs(d9 + 0.0072) < 2e-3 and abs(d9) < abs(d3) / 3


@pytest.mark.slow
def test_margin_k25_near_wide_limit():
    """K = 25, κ = 0.3: m = 14 (step [0.2, 0.6), continuity point 0.4): α_c = 0.60405
    against the K = inf 0.60532 at κ = 0.4 (measured gap 1.3e-3; bound 3e-3), and the
    K = inf value at κ = 0.3, 0.6733, lies within the K = inf values at the step's ends
    (κ = 0.2: 0.7515, 0.6: 0.4942), as the staircase reading says. 50-90 s (2 shared cores)."""
    a25 = capacity(get_model("binary-tree-committee-margin", K=25, activation="sign"),
                   {"kappa": 0.3}).alpha_c
    inf = get_model("binary-tree-committee-margin", K="inf", activation="sign")
    a_mid = capacity(inf, {"kappa": 0.4}).alpha_c
    assert abs(a25 - a_mid) < 3e-3
    lo, hi = (capacity(inf, {"kappa": k}).alpha_c for k in (0.6, 0.2))
    assert lo < a25 < hi


def test_margin_bad_inputs():
    """κ ≥ √K (no output exceeds it) and κ < −√K (every output does) raise ParameterError
    naming kappa; the K = 1 margin family raises ValueError naming K (finite-K ReLU units
    take any finite κ: tests/test_committee_relu_margin.py)."""
    from solvers.errors import ParameterError
    fe = get_model("binary-tree-committee-margin", **MARGIN_K3)
    for kap in (math.sqrt(3), 2.0, -1.8):
        with pytest.raises(ParameterError) as e:
            solve_saddle(fe, {"alpha": 0.5, "kappa": kap})
        assert e.value.parameter == "kappa"
        with pytest.raises(ParameterError) as e:
            cm.sign_logz(0.5, 3, 0, kap)
        assert e.value.parameter == "kappa"
    assert cm.margin_threshold(3, -math.sqrt(3)) == 1               # −√3: j = 0 excluded, allowed
    with pytest.raises(ValueError, match="^K: .*K = 1 committee.*binary-perceptron"):
        get_model("binary-tree-committee-margin", K=1, activation="sign")
    with pytest.raises(ParameterError) as e:
        cm.relu_logz(0.5, 2, 0, float("inf"))
    assert e.value.parameter == "kappa"


def test_cli_margin_finite_k(capsys):
    assert cli(["capacity", "binary-tree-committee-margin", "--set", "K=3", "--set", "activation=sign",
                "--set", "kappa=0.6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"] == "binary-tree-committee-margin[K=3,activation=sign]"
    # unanimity: the binary perceptron's 0.833079/3 (test above)
    assert d["success"] and abs(d["alpha_c"] - 0.833079 / 3) < 1e-5


# ----------------------------------------------------------------------------- ReLU replicon
def relu_hess_p2(u1, u2, n=160):
    """Analytic Hessian (H11, H22, H12) of ln P(relu(x₁+u₁) > relu(x₂+u₂)) in u:
    P = ∫_0^∞ φ(s−u₁)Φ(s−u₂) ds (= Φ₂(u₁, (u₁−u₂)/√2; 1/√2), relu_log_p2), differentiated
    under the integral (∂_{u₁}φ(s−u₁) = (s−u₁)φ, ∂_{u₂}Φ(s−u₂) = −φ(s−u₂)); Gauss–Legendre
    on [0, max(u, 0) + 14] (160 and 400 nodes agree to 1e-13 for |u| ≲ 6)."""
    u1, u2 = np.broadcast_arrays(np.asarray(u1, float), np.asarray(u2, float))
    X, w = _gl(np.zeros_like(u1), np.maximum(np.maximum(u1, u2), 0) + 14, n)
    a, b = X - u1[..., None], X - u2[..., None]
    pa, pb, Pb = _phi(a), _phi(b), ndtr(b)
    P = np.sum(w * pa * Pb, axis=-1)
    g1, g2 = np.sum(w * a * pa * Pb, axis=-1) / P, -np.sum(w * pa * pb, axis=-1) / P
    H11 = np.sum(w * (a * a - 1) * pa * Pb, axis=-1) / P - g1 * g1
    H22 = -np.sum(w * pa * b * pb, axis=-1) / P - g2 * g2
    H12 = -np.sum(w * a * pa * pb, axis=-1) / P - g1 * g2
    return H11, H22, H12


def brute_relu_replicon_k2(q, n=60):
    """γ_out of the K = 2 ReLU committee on an n² Gauss–Hermite grid: label-averaged
    M = [[a, c], [c, a]], a = (E H11² + E H22²)/2, c = E H12², γ = 2(a + c)/(1−q)²
    (replica.committee.ReluCommitteeReplicon; n = 60 and 90 agree to 1e-15 at q ≤ 0.5)."""
    t, w = _grid(n)
    al = math.sqrt(q / (1 - q))
    U1, U2 = np.meshgrid(al * t, al * t, indexing="ij")
    W = np.outer(w, w)
    H11, H22, H12 = relu_hess_p2(U1, U2)
    a = 0.5 * (np.sum(W * H11**2) + np.sum(W * H22**2))
    return 2 * (a + np.sum(W * H12**2)) / (1 - q)**2


def test_relu_hessian_k2_analytic_per_point():
    """K = 2, given z: the polarised contour Hessian (solvers.committee.relu_hessian_u) vs
    the analytic one (relu_hess_p2) at 12 random points, |u| ~ 2. Tolerance 5e-5: the
    contour rule's error on ln P itself is up to 7e-7 at such points (measured against
    relu_log_p2), and second derivatives carry ~20x that (measured max 1.3e-5)."""
    U = np.random.default_rng(1).normal(size=(12, 2)) * 2
    _, H = cm.relu_hessian_u(U[:, :1], U[:, 1:])
    H11, H22, H12 = relu_hess_p2(U[:, 0], U[:, 1])
    ref = np.stack([np.stack([H11, H12], -1), np.stack([H12, H22], -1)], -2)
    assert np.max(np.abs(H - ref)) < 5e-5
    assert np.max(np.abs(ref)) > 0.3  # not a vacuous comparison


def _nested_log_p3(U, label):
    f = relu_p_2v1 if label == 0 else relu_p_1v2
    return np.log(f(U[..., 0], U[..., 1], U[..., 2]))


def test_relu_hessian_k3_nested_quadrature_per_point():
    """K = 3, both labels, given z: contour Hessian vs central finite differences
    (h = 2e-3) of the nested Gauss–Legendre ln P (relu_p_2v1, relu_p_1v2: no Laplace
    transform). Tolerance 1e-5: measured 2.4e-6; the finite differences move by 6e-7
    between h = 2e-3 and 1e-3 (truncation plus the nested rule's smooth error)."""
    Z = np.random.default_rng(3).normal(size=(8, 3)) * 1.5
    h, E = 2e-3, np.eye(3) * 2e-3
    for label, npl in ((0, 2), (1, 1)):
        _, H = cm.relu_hessian_u(Z[:, :npl], Z[:, npl:])
        f0 = _nested_log_p3(Z, label)
        for l in range(3):
            d = (_nested_log_p3(Z + E[l], label) - 2 * f0 + _nested_log_p3(Z - E[l], label)) / h**2
            assert np.max(np.abs(H[:, l, l] - d)) < 1e-5
            for m in range(l + 1, 3):
                d = (_nested_log_p3(Z + E[l] + E[m], label) - _nested_log_p3(Z + E[l] - E[m], label)
                     - _nested_log_p3(Z - E[l] + E[m], label)
                     + _nested_log_p3(Z - E[l] - E[m], label)) / (4 * h * h)
                assert np.max(np.abs(H[:, l, m] - d)) < 1e-5


@pytest.mark.parametrize("q", [0.3, 0.5])
def test_relu_replicon_k2_against_product_quadrature(q):
    """K = 2: γ_out (QMC over z, contour Hessian) vs the 60² product grid of the analytic
    Hessian, within 4 reported standard errors (measured 0.003σ and 0.16σ); even K:
    the label average makes the groups' blocks equal and γ_out the Frobenius form."""
    g, blocks, err, frob = cm.relu_replicon_parts(q, 2)
    assert abs(g - brute_relu_replicon_k2(q)) < 4 * err
    assert err < 1e-4 * g * (5 if q == 0.5 else 1)   # the estimate is informative
    assert blocks[0] == blocks[2] and abs(g - frob) < 1e-12 * g


def test_relu_replicon_odd_k_is_the_top_eigenvalue():
    """K = 3 (P = 2 units, N = 1): γ_out = K μ_max of the 2 × 2 group-uniform matrix
    equals K times the largest eigenvalue of the full 3 × 3 M built from the blocks
    (numpy eigvalsh, independent of the closed 2 × 2 formula), and exceeds the
    Frobenius form E‖∇²ln Z‖², which is K times the Rayleigh quotient on the uniform
    vector (equality would mean the uniform vector is an eigenvector: not so at odd K)."""
    g, (aP, bP, aN, bN, c), err, frob = cm.relu_replicon_parts(0.5, 3)
    M = np.array([[aP, bP, c], [bP, aP, c], [c, c, aN]])
    assert abs(g - 3 * np.linalg.eigvalsh(M)[-1]) < 1e-12 * g
    assert abs(frob - M.sum()) < 1e-9 * frob
    assert g - frob > 50 * err


def test_relu_replicon_k2_q_to_one_is_marginal():
    """K = 2, spherical weights: the output region {ω₁ > 0, ω₁ > ω₂} is convex, so
    (1−q)²γ_out has a finite limit; as for Gardner's perceptron at κ = 0 the replicon is
    marginal at capacity, λ = 1 − α_c (1−q)²γ_out → 0 with α_c = 4/3 (closed form,
    test_relu_k2_closed_form): (1−q)²γ_out → 3/4. Richardson in √ε (the measured
    approach: differences 0.045, 0.018 from 1−q = 1e-2, 1e-3, 1e-4, ratio ~√10) on
    1e-3, 1e-4 gives 0.7495; tolerance 3e-3 (the o(√ε) remainder, ~ the last step's
    1e-3 x the ratio, plus 3 standard errors 7e-4)."""
    e1, e2 = 1e-3, 1e-4
    g1, g2 = (float(cm.relu_replicon(1 - e, 2)) * e * e for e in (e1, e2))
    lim = g2 + (g2 - g1) * math.sqrt(e2) / (math.sqrt(e1) - math.sqrt(e2))
    assert abs(lim - 0.75) < 3e-3


def test_relu_channel_has_a_replicon():
    """Finite-K ReLU: rs_gamma_out is the node (printed to solvers.committee.relu_replicon,
    same number), and the q → 1 divergence flag is set for K ≥ 3 only (K = 2: convex
    region, finite limit)."""
    from replica.committee import ReluCommitteeReplicon
    for K in (2, 3):
        fe = get_model("tree-committee", K=K, activation="relu")
        assert (fe.meta.get("replicon_q_to_one") == "diverges") == (K >= 3)
    import sympy as sp
    from replica.committee import TreeCommitteeChannel
    node = TreeCommitteeChannel(2, "relu").rs_gamma_out(sp.Symbol("q"), sp.Symbol("z"))
    assert isinstance(node, ReluCommitteeReplicon)
    f = compile_expression(node, [sp.Symbol("q")])
    # 1e-4: the K = 2 QMC standard error at q = 0.3 is 2.8e-5 (test above)
    assert abs(float(f(0.3)) - brute_relu_replicon_k2(0.3)) < 1e-4


def brute_relu_replicon_k3_blocks(q, n=20, h=2e-3):
    """Block means (a_P, b_P, a_N, b_N, c) of the label-averaged E(∂_{ω_l}∂_{ω_m} ln Z)² at
    K = 3 on an n³ Gauss–Hermite grid, the Hessian by central differences of the nested
    Gauss–Legendre ln P (_nested_log_p3; label +1: P = units 1, 2 against N = unit 3;
    label −1: N = unit 1 against P = units 2, 3)."""
    t, w = _grid(n)
    al = math.sqrt(q / (1 - q))
    U = np.stack(np.meshgrid(al * t, al * t, al * t, indexing="ij"), -1)
    W = w[:, None, None] * w[None, :, None] * w[None, None, :]
    E = np.eye(3) * h
    H = {}
    for label in (0, 1):
        f0 = _nested_log_p3(U, label)
        for l in range(3):
            H[label, l, l] = (_nested_log_p3(U + E[l], label) - 2 * f0 + _nested_log_p3(U - E[l], label)) / h**2
            for m in range(l + 1, 3):
                H[label, l, m] = (_nested_log_p3(U + E[l] + E[m], label) - _nested_log_p3(U + E[l] - E[m], label)
                                  - _nested_log_p3(U - E[l] + E[m], label)
                                  + _nested_log_p3(U - E[l] - E[m], label)) / (4 * h * h)
    m2 = {k: float(np.sum(W * v**2)) / (1 - q)**2 for k, v in H.items()}
    aP = 0.5 * (0.5 * (m2[0, 0, 0] + m2[0, 1, 1]) + 0.5 * (m2[1, 1, 1] + m2[1, 2, 2]))
    bP = 0.5 * (m2[0, 0, 1] + m2[1, 1, 2])
    aN = 0.5 * (m2[0, 2, 2] + m2[1, 0, 0])
    c = 0.5 * (0.5 * (m2[0, 0, 2] + m2[0, 1, 2]) + 0.5 * (m2[1, 0, 1] + m2[1, 0, 2]))
    return aP, bP, aN, 0.0, c


@pytest.mark.slow
def test_relu_replicon_k3_against_product_quadrature():
    """K = 3 at q = 0.5: γ_out and its blocks (QMC, contour Hessian) vs the 20³ product
    grid of finite-difference nested-quadrature Hessians (brute_relu_replicon_k3_blocks),
    γ_out within 4 reported standard errors (3.4e-4) plus the grid's own error (n = 16
    and 20 give 2.57858 and 2.57845: 2e-4). Measured: 2.57888 against 2.57845 (1.3σ);
    the diagonal and cross blocks agree to 0.15 %, the within-group block b_P to 0.5 %
    (the grid moves it by 3e-4 from n = 16 to 20). ~40 s."""
    g, blocks, err, _ = cm.relu_replicon_parts(0.5, 3)
    ref = brute_relu_replicon_k3_blocks(0.5)
    assert abs(g - cm.relu_replicon_matrix(ref, 3)) < 4 * err + 2e-4
    assert abs(blocks[2] - ref[2]) < 2e-3 * ref[2] and abs(blocks[4] - ref[4]) < 2e-3 * ref[4]
