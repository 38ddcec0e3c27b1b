"""Dense (replicated local entropy) and loss references for K → ∞ tree committees.

Both use the output-overlap map of replica/franz_parisi.py: the energetic term is the
perceptron's on the replicas' output overlaps Q(q_ab), the entropic term keeps the bare
overlaps (derivations in replica/dense.py and replica.committee.WideCommitteeLossChannel).
Checks: the α = 0 log-volume, the y = 1 identity φ = s_RS + H2(d) with the committee's
RS entropy, the whole dense functional against an independent scipy quadrature, the
loss reference's typical-point identity and its energetic term against nested quad,
the errors (finite K, beta_ref = inf), the CLI.
"""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.integrate
import scipy.special

from solvers import solve_saddle
from solvers.errors import ParameterError
from solvers.local_entropy import (_committee_dense_start, _homotopy, dense_model, fp_loss_model,
                                   local_entropy)

WIDE = {"sign": {"K": "inf", "activation": "sign"}, "relu": {"K": "inf", "activation": "relu"}}
MODEL = "binary-tree-committee"


def _Q(act, q):
    """Output overlap, written here by hand (independent of the SymPy kernel)."""
    if act == "sign":
        return 2 * math.asin(q) / math.pi
    return (math.sqrt(1 - q * q) + q * (math.pi - math.acos(q)) - 1) / (math.pi - 1)


def _h2(d):
    return -d * math.log(d) - (1 - d) * math.log(1 - d)


@pytest.fixture(scope="module", params=["sign", "relu"])
def dense(request):
    return (request.param,) + dense_model(MODEL, options=WIDE[request.param])


@pytest.mark.parametrize("y", [3.0, 20.0])
def test_alpha_zero_local_entropy_is_the_log_volume(dense, y):
    """α = 0: S_I = −d ln d − (1−d) ln(1−d) for every y (the entropic part is the
    perceptron's), at Ŝ = atanh p, q̂1 = δq̂ = 0, where Ŝ is stationary. 1e-12: closed
    form against a Gauss–Hermite rule on a polynomial-free but exact point (the averages
    collapse at q̂ = 0). The energetic term enters multiplied by α = 0: q0 = q1 − δq/y
    is kept > 0 so that it is finite."""
    _, _, m = dense
    p = 0.8
    x = {"q1": p * p, "dq": 0.5 * y * p * p, "shat": math.atanh(p), "q1hat": 0.0, "dqhat": 0.0}
    c = {"alpha": 0.0, "y": y, "p": p}
    xv = np.array([x[v] for v in m.variables])
    obs = m.observables_at(xv, c)
    assert abs(obs["local_entropy"] - _h2((1 - p) / 2)) < 1e-12
    assert abs(m.gradient(xv, c)[m.variables.index("shat")]) < 1e-12


@pytest.mark.parametrize("alpha,d", [(0.5, 0.05), (0.7, 0.1)])
def test_y1_is_the_committee_entropy_plus_the_log_volume(dense, alpha, d):
    """Exact identity at y = 1: Σ_w̃ N(w̃, p) = Σ_w X(w) #{w̃ : w·w̃ = pN}, so
    φ(y = 1) = s_RS(α) + H2(d), with s_RS the committee's RS entropy (solve_saddle of the
    K = inf RS model, a different compiled model with the explicit kernel). Both sides at
    the solver tolerance: 1e-10 (as for the perceptron, tests/test_dense.py)."""
    act, rs, m = dense
    c = {"alpha": alpha, "y": 1.0, "p": 1 - 2 * d}
    # at y = 1 the functional depends on (q0, q̂0) only (flat in q1): reached by homotopy
    # in 1/y from y = 5, as the perceptron's from its anchor
    x = _committee_dense_start(m, {"alpha": alpha, "y": 5.0}, 1 - 2 * d)
    assert x is not None
    x = _homotopy(m, {**c, "y": 5.0}, c, x, 16)
    assert x is not None
    phi, g, _ = m.value_and_derivatives(x, c)
    assert np.max(np.abs(g)) < 1e-9
    s = solve_saddle(rs, {"alpha": alpha})
    assert s.success
    assert abs(float(phi) - (s.free_entropy + _h2(d))) < 1e-10


def _phi_quad(act, x, alpha, y, p):
    """Φ = φ/y of the committee dense functional (replica/dense.py) by scipy quad: the
    entropic part E_z0 ln Σ_w̃ E_z1 (2cosh(Ŝw̃ + √q̂0 z0 + √(δq̂/y) z1))^y / y over all z0
    (no folding), the energetic part with the hand-written Q, each inner average in
    log space about its z1 = 0 value."""
    q1, dq, sh, q1h, dqh = x
    q0, q0h = q1 - dq / y, q1h - dqh / y
    G = lambda u: math.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # noqa: E731

    def ln2cosh(h):
        return abs(h) + math.log1p(math.exp(-2 * abs(h)))

    def log_avg(f, s):
        v = scipy.integrate.quad(lambda u: G(u) * math.exp(f(u) - s), -12, 12,
                                 epsabs=1e-14, epsrel=1e-13, limit=200)[0]
        return s + math.log(v)

    def ent(z0):
        a = math.sqrt(q0h) * z0
        w = math.sqrt(dqh / y)
        ls = [log_avg(lambda u, s=s: y * ln2cosh(s * sh + a + w * u), y * ln2cosh(s * sh + a))
              for s in (1, -1)]
        return np.logaddexp(*ls)

    Q1, Q0 = _Q(act, q1), _Q(act, q0)
    sv = math.sqrt(1 - Q1)

    def en(z0):
        a, w = math.sqrt(Q0) * z0, math.sqrt(Q1 - Q0)
        return log_avg(lambda u: y * scipy.special.log_ndtr((a + w * u) / sv),
                       y * scipy.special.log_ndtr(a / sv))

    E = scipy.integrate.quad(lambda z: G(z) * ent(z), -12, 12, epsabs=1e-13, epsrel=1e-13,
                             limit=200, points=[0.0])[0]
    A = scipy.integrate.quad(lambda z: G(z) * en(z), -12, 12, epsabs=1e-13, epsrel=1e-13,
                             limit=200)[0]
    coupling = q1h * q1 / 2 - q1h / 2 - (q1h * dq + q1 * dqh) / 2 + dq * dqh / (2 * y) - sh * p
    return coupling + E / y + alpha * A / y


def test_dense_functional_against_scipy_quadrature(dense):
    """Φ and S_I = Φ + y ∂_yΦ (at fixed variables) of the compiled committee functional at
    a generic point, y = 5, against the independent scipy route :func:`_phi_quad` (∂_y by
    a 4th-order central difference, h = 0.02: truncation ~h⁴ ≈ 2e-7 × Φ⁽⁵⁾/30, rounding
    ~1e-13/h). 1e-8: the quad tolerances (1e-13 per level) and the difference stencil;
    measured differences ~1e-11 (Φ) and ~1e-10 (S_I)."""
    act, _, m = dense
    x = [0.7, 1.5, 0.9, 0.3, 0.8]
    alpha, y, p = 0.6, 5.0, 0.85
    c = {"alpha": alpha, "y": y, "p": p}
    v = float(m.value(np.array(x), c))
    assert abs(v - _phi_quad(act, x, alpha, y, p)) < 1e-8
    h = 0.02
    f = {k: _phi_quad(act, x, alpha, y + k * h, p) for k in (-2, -1, 1, 2)}
    dphi = (f[-2] - 8 * f[-1] + 8 * f[1] - f[2]) / (12 * h)
    s_i = float(m.observables_at(np.array(x), c)["local_entropy"])
    assert abs(s_i - (v + y * dphi)) < 1e-8


@pytest.mark.slow
def test_dense_curves_sign_vs_relu():
    """α = 0.5, y = 20, K = ∞ (RS capacities 0.9470 sign, 0.9040 ReLU): both curves
    converge, are monotonic and below the α = 0 bound, and the ReLU curve is the closer
    to the bound (BMZ 2019: ReLU solutions lie in wider minima), at d = 0.01 and 0.05.
    Numbers of this code (regression, 1e-6; Newton and quadrature tolerances are far
    below): sign 0.044603, 0.141960; ReLU 0.051669, 0.166559 (bound 0.056002, 0.198515).
    ~20 s (two curves): slow; the ReLU value at d = 0.05 is also checked by the CLI test."""
    ds = [0.01, 0.05]
    S = {}
    for act in ("sign", "relu"):
        c = local_entropy(MODEL, {"alpha": 0.5}, reference="dense:y=20", distances=ds,
                          options=WIDE[act])
        assert c.success, c.message
        assert c.model == f"{MODEL}[K=inf,activation={act}]" and c.controls["y"] == 20
        assert c.monotonic and all(s < b for s, b in zip(c.local_entropy, c.alpha0_bound))
        S[act] = c.local_entropy
    assert np.allclose(S["sign"], [0.044603, 0.141960], atol=1e-6)
    assert np.allclose(S["relu"], [0.051669, 0.166559], atol=1e-6)
    assert all(r > s for r, s in zip(S["relu"], S["sign"]))


def test_cli_committee_dense_reference():
    """The CLI passes the family options (K, activation) and the dense reference through;
    same number as the API (regression value above, 1e-6)."""
    out = subprocess.run([sys.executable, "-m", "solvers.cli", "local-entropy", MODEL,
                          "--set", "K=inf", "--set", "activation=relu", "--set", "alpha=0.5",
                          "--reference", "dense:y=20", "--distances", "0.05:0.05:1", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["status"] == ["converged"] and abs(d["local_entropy"][0] - 0.166559) < 1e-6
    assert d["model"] == f"{MODEL}[K=inf,activation=relu]"


@pytest.mark.parametrize("spec,controls,param", [
    ("dense:y=20", {"alpha": 0.5}, "K"),
    ("loss=ce:2", {"alpha": 0.5, "beta_ref": 3.0}, "K"),
])
def test_finite_K_raises_naming_K(spec, controls, param):
    with pytest.raises(ParameterError) as e:
        local_entropy(MODEL, controls, reference=spec, distances=[0.05],
                      options={"K": 3, "activation": "sign"})
    assert e.value.parameter == param


@pytest.mark.parametrize("spec,controls,param", [
    ("loss=ce:2", {"alpha": 0.5, "beta_ref": float("inf")}, "beta_ref"),
    ("loss=hinge:0", {"alpha": 0.5}, "beta_ref"),
    ("dense:y=0.5", {"alpha": 0.5}, "reference"),
])
def test_unavailable_committee_references_raise(spec, controls, param):
    with pytest.raises(ParameterError) as e:
        local_entropy(MODEL, controls, reference=spec, distances=[0.05], options=WIDE["relu"])
    assert e.value.parameter == param


# ---------------------------------------------------------------------- loss reference
@pytest.fixture(scope="module", params=["sign", "relu"])
def loss_ce(request):
    return (request.param,) + fp_loss_model(MODEL, "ce", options=WIDE[request.param])


def test_loss_start_point_is_the_committee_rs_entropy(loss_ce):
    """Around a cross-entropy reference (γ = 2, β = 3, α = 0.5): at q1 = q, t = p = p0
    with Q(p0) = √(Q(q̃)Q(q)), q̂1 = q̂, t̂ = p̂ = √(q̂̃ q̂) — (q̃, q̂̃) the reference's RS
    saddle (the committee with the loss on its output), (q, q̂) the committee's own —
    the constrained output field is √Q(q) z exactly and Φ_FP = s_RS(α) (derivation in
    solvers.local_entropy._loss_curve). p0 from the hand-written Q by
    bisection. 1e-9: both RS saddles at the solver tolerance."""
    act, rs, ref, m = loss_ce
    import scipy.optimize
    r = solve_saddle(ref, {"alpha": 0.5, "gamma": 2.0, "beta": 3.0})
    s = solve_saddle(rs, {"alpha": 0.5})
    assert r.success and s.success
    qt, qht = r.order_parameters["q"], r.conjugates["qhat"]
    q, qh = s.order_parameters["q"], s.conjugates["qhat"]
    target = math.sqrt(_Q(act, qt) * _Q(act, q))
    p0 = scipy.optimize.brentq(lambda u: _Q(act, u) - target, 0, 1, xtol=1e-15)
    # the residual variance Q(q) - Q(p0)²/Q(q̃) is zero up to rounding: keep it >= 0
    p0 = math.nextafter(p0, 0.0)
    c = {"alpha": 0.5, "ref_gamma": 2.0, "ref_beta": 3.0, "p": p0, "q_ref": qt, "qhat_ref": qht}
    x = [q, p0, qh, math.sqrt(qht * qh), math.sqrt(qht * qh)]
    assert abs(float(m.value(np.array(x), c)) - s.free_entropy) < 1e-9


def test_loss_alpha_zero_is_the_log_volume(loss_ce):
    """α = 0: Φ_FP = −d ln d − (1−d) ln(1−d) at q̂1 = t̂ = 0, p̂ = atanh p, q1 = p²,
    t = p q̃, and the conjugate equations hold there when q̃ = E tanh²(√q̂̃ z) (the
    reference's entropic saddle; 1e-10, as in tests/test_committee_fp.py)."""
    import mpmath
    _, _, _, m = loss_ce
    p, qhr = 0.7, 0.5
    qr = float(mpmath.quad(lambda z: mpmath.tanh(mpmath.sqrt(qhr) * z)**2 * mpmath.npdf(z),
                           [-mpmath.inf, 0, mpmath.inf]))
    c = {"alpha": 0.0, "ref_gamma": 2.0, "ref_beta": 3.0, "p": p, "q_ref": qr, "qhat_ref": qhr}
    v, g, _ = m.value_and_derivatives(np.array([p * p, p * qr, 0.0, 0.0, math.atanh(p)]), c)
    assert abs(v - _h2((1 - p) / 2)) < 1e-10
    assert np.max(np.abs(g[2:])) < 1e-10


def _ce(u, gamma):
    return -u / 2 + np.logaddexp(gamma * u, -gamma * u) / (2 * gamma)


def _nested_quad_loss_energetic(act, q1, t, qr, p, beta, gamma):
    """E_z [∫Dx e^{−βℓ(√Q̃ z + √(1−Q̃) x)} E_y ln H(−m/√(1−Q1))] / ∫Dx e^{−βℓ(...)}, every
    overlap mapped by the hand-written Q, m = Q_t/√Q̃ z + (Q_p − Q_t)/√(1−Q̃) x + r y:
    nested scipy quad (independent of the SymPy tree, the tilted-average rule and codegen)."""
    Q1, Qt, Qr, Qp = (_Q(act, v) for v in (q1, t, qr, p))
    res = math.sqrt(Q1 - Qt**2 / Qr - (Qp - Qt)**2 / (1 - Qr))
    sq, sq1, sv = math.sqrt(Qr), math.sqrt(1 - Qr), math.sqrt(1 - Q1)
    G = lambda u: math.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    opts = dict(epsabs=1e-13, epsrel=1e-12, limit=200)

    def over_y(z, x):
        a = Qt / sq * z + (Qp - Qt) / sq1 * x
        return scipy.integrate.quad(lambda y: G(y) * scipy.special.log_ndtr((a + res * y) / sv),
                                    -11, 11, **opts)[0]

    def over_x(z):
        w = lambda x: G(x) * math.exp(-beta * _ce(sq * z + sq1 * x, gamma))  # noqa: E731
        num = scipy.integrate.quad(lambda x: w(x) * over_y(z, x), -11, 11, **opts)[0]
        return num / scipy.integrate.quad(w, -11, 11, **opts)[0]

    return scipy.integrate.quad(lambda z: G(z) * over_x(z), -10, 10, epsabs=1e-11,
                                epsrel=1e-11, limit=200)[0]


@pytest.mark.parametrize("act", [pytest.param("sign", marks=pytest.mark.slow), "relu"])
def test_loss_energetic_term_against_nested_quad(act):
    """The compiled FP energetic term around a cross-entropy reference (the tilted
    average over the reference's output noise, on the Q-mapped overlaps) against nested
    scipy quad, at a generic point (t < p < q1, p ≠ q̃), β = 3, γ = 2. 1e-8: the quad
    tolerances (1e-11 to 1e-13 per level); measured 6e-15 (both activations). ~7 s each
    (the quad): the sign case is marked slow."""
    from solvers.codegen import compile_expression
    _, _, m = fp_loss_model(MODEL, "ce", options=WIDE[act])
    fe = m.free_energy
    syms = list(fe.variables) + list(fe.controls)
    vals = {"q1": 0.6, "t": 0.3, "q1hat": 1.0, "that": 0.5, "phat": 0.5, "alpha": 1.0,
            "ref_gamma": 2.0, "ref_beta": 3.0, "p": 0.5, "q_ref": 0.4, "qhat_ref": 1.0}
    ours = float(compile_expression(fe.term("energetic").expr, syms)(*[vals[s.name] for s in syms]))
    ref = _nested_quad_loss_energetic(act, 0.6, 0.3, 0.4, 0.5, 3.0, 2.0)
    assert abs(ours - ref) < 1e-8


@pytest.mark.slow
def test_ystar_curve_sits_where_the_external_entropy_vanishes():
    """dense:y=* for the K → ∞ sign committee (α = 0.5, d = 0.03, where Σ(y = 20) < 0):
    Σ(y*) = 0, and the fixed-y functional (a different compiled model) at y = y* gives
    the same S_I and Σ = 0 (both at the solver tolerance: 1e-9), with Σ changing sign
    across y* (Σ decreases with y). Measured y* = 12.12, S_I = 0.094962."""
    c = local_entropy(MODEL, {"alpha": 0.5}, reference="dense:y=*", distances=[0.03],
                      options=WIDE["sign"])
    assert c.success, c.message
    ys = c.variables["y"][0]
    assert 1 < ys < 20 and abs(c.external_entropy[0]) < 1e-9
    assert abs(ys - 12.12) < 0.01 and abs(c.local_entropy[0] - 0.094962) < 1e-6
    for y, sign in ((ys, 0), (0.9 * ys, 1), (1.1 * ys, -1)):
        f = local_entropy(MODEL, {"alpha": 0.5}, reference=f"dense:y={y!r}", distances=[0.03],
                          options=WIDE["sign"])
        assert f.success, f.message
        if sign == 0:
            assert abs(f.local_entropy[0] - c.local_entropy[0]) < 1e-9
            assert abs(f.external_entropy[0]) < 1e-9
        else:
            assert sign * f.external_entropy[0] > 1e-4
