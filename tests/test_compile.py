"""Tier 2: the compiled NumPy functions against mpmath (30 digits, independent
adaptive quadrature), finite differences, pickling and the disk cache."""

import pickle

import mpmath
import numpy as np
import pytest
import sympy as sp

import replica as R
from solvers import special
from solvers.codegen import compile_expression, compile_model

RNG = np.random.default_rng(20261125)


def _points(n, kappa_range=(-1.0, 2.0)):
    q = RNG.uniform(0.05, 0.95, n)
    qh = np.exp(RNG.uniform(np.log(0.05), np.log(30.0), n))
    alpha = RNG.uniform(0.1, 3.0, n)
    kappa = RNG.uniform(*kappa_range, n)
    return np.stack([q, qh], -1), alpha, kappa


def _rel(a, b):
    return abs(float(a) - float(b)) / max(1.0, abs(float(b)))


@pytest.mark.parametrize("name", ["binary-perceptron", "spherical-perceptron"])
def test_numpy_equals_mpmath_at_random_points(name):
    """Tolerance 1e-10 (relative to max(1, |value|)): the quadrature rules are
    designed for ~1e-12 (solvers/constants.py); mpmath.quad at 30 digits is exact here."""
    m = compile_model(name)
    mm = compile_model(name, backend="mpmath")
    x, alpha, kappa = _points(4)
    v, g, h = m.value_and_derivatives(x, {"alpha": alpha, "kappa": kappa})
    for i in range(len(x)):
        c = {"alpha": alpha[i], "kappa": kappa[i]}
        ref = mm.evaluate("jacobian", x[i], c)
        assert _rel(v[i], ref[0]) < 1e-10
        assert _rel(g[i, 0], ref[1]) < 1e-10 and _rel(g[i, 1], ref[2]) < 1e-10
        assert _rel(h[i, 0, 0], ref[3]) < 1e-10 and _rel(h[i, 0, 1], ref[4]) < 1e-10
        assert _rel(h[i, 1, 1], ref[5]) < 1e-10


def test_numpy_equals_mpmath_near_q_to_one(spherical):
    """Sharp near-kinks (1 - q = 1e-4 and 1e-6): graded Legendre pieces.

    Tolerance 1e-10 at 1e-4; 1e-9 at 1e-6, where the integrand is ~1e12 and the
    double-precision sum over ~10^3 nodes alone costs ~1e-11 relative."""
    mm = compile_model("spherical-perceptron", backend="mpmath")
    for eps, qh, tol in [(1e-4, 1e8, 1e-10), (1e-6, 1e12, 1e-9)]:
        x = [1 - eps, qh]
        c = {"alpha": 2.0, "kappa": 0.3}
        g = spherical.gradient(x, c)
        ref = mm.gradient(x, c)
        # ∂Φ/∂q is ~1e11 here: compare relatively
        assert abs(g[0] - float(ref[0])) / abs(float(ref[0])) < tol


def test_gradient_and_hessian_equal_finite_differences(binary):
    x0 = np.array([0.37, 1.9])
    c = {"alpha": 0.7, "kappa": 0.4}
    g, h = binary.jacobian(x0, c)
    for i in range(2):
        e = np.zeros(2)
        e[i] = 1e-5
        fd = (binary.value(x0 + e, c) - binary.value(x0 - e, c)) / 2e-5
        # central differences: error ~ h^2 f''' ~ 1e-10, plus roundoff 1e-16/1e-5
        assert abs(g[i] - fd) < 1e-8
        fdg = (binary.gradient(x0 + e, c) - binary.gradient(x0 - e, c)) / 2e-5
        assert np.allclose(h[:, i], fdg, atol=1e-7)


def test_batch_equals_loop(binary):
    """Same numbers batched or one by one, up to 1e-12: the graded mesh around sharp
    kinks has as many levels as the sharpest point of the batch needs, so a point's
    nodes (not its accuracy, < 5e-13) can depend on its batch companions."""
    x, alpha, kappa = _points(5)
    batch = binary.value(x, {"alpha": alpha, "kappa": kappa})
    loop = [binary.value(x[i], {"alpha": alpha[i], "kappa": kappa[i]}) for i in range(5)]
    assert np.allclose(batch, loop, rtol=1e-12, atol=1e-12)


def test_special_functions_in_the_tails():
    xs = np.array([-40.0, -12.0, -3.0, 0.0, 2.5, 12.0, 40.0, 300.0])
    with mpmath.workdps(40):
        for xv in xs:
            mx = mpmath.mpf(xv)
            assert _rel(special.log_h(xv), special.MP.log_h(mx)) < 1e-13
            assert abs(float(special.gh(xv)) - float(special.MP.gh(mx))) <= 1e-13 * max(1, abs(float(special.MP.gh(mx))))
            assert _rel(special.logcosh2(xv), special.MP.logcosh2(mx)) < 1e-14
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.isfinite(special.logcosh2(1e5)) and np.isfinite(special.log_h(1e4))
        assert np.isfinite(special.gh(-1e3)) and np.isfinite(special.gh(1e4))


def test_nested_and_truncated_averages():
    z, y = sp.symbols("z y", real=True)
    a = R.Control("a", domain=(None, None))
    b = R.Control("b", domain=(None, None))
    # E_z E_y ln2cosh(a z + b y) = E_u ln2cosh(sqrt(a²+b²) u)
    nested = R.E(R.LogCosh2(a * z + b * y), z, y)
    single = R.E(R.LogCosh2(sp.sqrt(a**2 + b**2) * z), z)
    f1, f2 = compile_expression(nested, [a, b]), compile_expression(single, [a, b])
    assert abs(f1(0.7, 1.3) - f2(0.7, 1.3)) < 1e-12
    # ∫_{-inf}^{c} z² Dz = Φ(c) - c G(c)
    trunc = R.GaussianAverage(z**2 * R.LogCosh2(0 * z + 1), z, -sp.oo, a)  # constant factor
    f = compile_expression(trunc, [a])
    from scipy.stats import norm
    for c in [-1.0, 0.3, 2.0]:
        exact = np.log(2 * np.cosh(1)) * (norm.cdf(c) - c * norm.pdf(c))
        assert abs(f(c) - exact) < 1e-12


def test_compiled_model_pickles(binary):
    x, c = [0.3, 1.2], {"alpha": 0.5, "kappa": 0.1}
    clone = pickle.loads(pickle.dumps(binary))
    assert clone.value(x, c) == binary.value(x, c)


def test_disk_cache_is_used(tmp_path, monkeypatch):
    from solvers import codegen
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    codegen.clear_memory_cache()
    m = compile_model("binary-perceptron")
    m.value([0.3, 1.0], {"alpha": 0.5, "kappa": 0.0})
    files = list(tmp_path.glob("*.json"))
    assert files, "generated code was not cached"
    codegen.clear_memory_cache()
    m2 = compile_model("binary-perceptron")
    # a cached spec is loaded without calling SymPy differentiation
    monkeypatch.setattr(type(m2.free_energy), "gradient", lambda self: 1 / 0)
    assert m2.value([0.3, 1.0], {"alpha": 0.5, "kappa": 0.0}) == m.value([0.3, 1.0], {"alpha": 0.5, "kappa": 0.0})
    codegen.clear_memory_cache()
