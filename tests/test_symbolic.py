"""Tier 1: symbolic-exact checks of the replica layer (no numerics)."""

import sympy as sp
import pytest

import replica as R
from replica import E, GaussianAverage, GH, Gauss, H, LogCosh2, LogH, integrate_by_parts

z = sp.Symbol("z", real=True)
x = sp.Symbol("x", real=True)
a, b = sp.symbols("a b", positive=True)


def test_special_function_derivatives():
    assert sp.diff(H(x), x) == -Gauss(x)
    assert sp.diff(LogH(x), x) == -GH(x)
    assert sp.simplify(sp.diff(GH(x), x) - GH(x) * (GH(x) - x)) == 0
    assert sp.diff(LogCosh2(x), x) == sp.tanh(x)
    assert sp.diff(Gauss(x), x) == -x * Gauss(x)
    # the rewrites are consistent with the derivatives
    assert sp.simplify(sp.diff(H(x).rewrite(sp.erfc), x) + Gauss(x).rewrite(sp.exp)) == 0
    assert sp.simplify(sp.diff(LogH(x).rewrite(sp.erfc), x) + GH(x).rewrite(sp.erfc)) == 0


def test_average_canonical_form_and_moments():
    assert E(z**2, z) == 1
    assert E(z**3, z) == 0
    assert E(z**4, z) == 3
    assert E(3 * a, z) == 3 * a
    e = E(a * LogCosh2(b * z) + 2, z)
    assert e == a * GaussianAverage(LogCosh2(b * z), z) + 2
    assert z not in e.free_symbols and {a, b} <= e.free_symbols


def test_truncated_average_derivative_has_boundary_term():
    avg = GaussianAverage(LogH(z), z, a, sp.oo)
    d = sp.diff(avg, a)
    assert d == -Gauss(a) * LogH(a)


def test_stein_lemma():
    # E[z f(bz)] = b E[f'(bz)]
    assert integrate_by_parts(E(z * sp.tanh(b * z), z)) == E(b * (1 - sp.tanh(b * z)**2), z)
    # E[z^2 g] = E[g] + E[z g'] = E[g + g''] for g = ln 2cosh(bz)
    lhs = integrate_by_parts(E(z**2 * LogCosh2(b * z), z))
    rhs = E(LogCosh2(b * z), z) + E(b**2 * (1 - sp.tanh(b * z)**2), z)
    assert sp.simplify(lhs - rhs) == 0


def test_binary_q_equation_is_gardner_derrida():
    """q = E tanh^2(sqrt(qhat) z): Gardner & Derrida, J. Phys. A 21, 271 (1988), eq. (23)."""
    fe = R.get_model("binary-perceptron")
    q, qh = fe.variables
    fp = fe.fixed_point_form()
    zz = R.GaussVar("z")
    assert fp[q] == E(sp.tanh(sp.sqrt(qh) * zz)**2, zz)


def test_spherical_prior_eliminates_to_gardner():
    """Eliminating qhat = q/(1-q)^2 gives ½ln(1-q) + q/(2(1-q)) (Gardner 1988, eq. (20))."""
    fe = R.get_model("spherical-perceptron")
    q, qh = fe.variables
    ent = fe.term("coupling").expr + fe.term("entropic").expr
    ent = ent.subs(qh, q / (1 - q)**2)
    target = sp.log(1 - q) / 2 + q / (2 * (1 - q))
    for val in [sp.Rational(1, 7), sp.Rational(1, 2), sp.Rational(9, 10)]:
        assert sp.simplify(ent.subs(q, val) - target.subs(q, val)) == 0
    # and the conjugate equation gives q = 1 - 1/A(qhat) with A = (1 + sqrt(1+4qhat))/2
    A = (1 + sp.sqrt(1 + 4 * qh)) / 2
    assert sp.simplify(fe.fixed_point_form()[q] - (1 - 1 / A)) == 0


def test_q_to_one_capacity_is_gardner():
    """alpha_c(kappa) = 1/∫_{-kappa}^∞ Dt (t+kappa)^2 (Gardner 1988, eq. (33)); alpha_c(0)=2.
    For ±1 weights the RS q → 1 value is (2/pi) times it (Gardner & Derrida 1988)."""
    sph = R.get_model("spherical-perceptron")
    kappa = sph.parameter("kappa")
    ac = R.q_to_one_capacity(sph)
    assert sp.simplify(ac.subs(kappa, 0)) == 2
    t = sp.Symbol("t", real=True)
    gardner = 1 / sp.integrate((t + kappa)**2 * sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi),
                               (t, -kappa, sp.oo))
    for k in [sp.Rational(1, 2), 1, -1]:
        assert abs(sp.N(ac.subs(kappa, k) - gardner.subs(kappa, k), 30)) < 1e-25
    binq1 = R.q_to_one_capacity(R.get_model("binary-perceptron"))
    kb = R.get_model("binary-perceptron").parameter("kappa")
    assert sp.simplify(binq1.subs(kb, 0) - 4 / sp.pi) == 0
    assert sp.simplify(binq1.subs(kb, kappa) / ac - 2 / sp.pi) == 0


def test_latex_output_names_sources():
    fe = R.get_model("binary-perceptron")
    tex = fe.latex()
    assert r"\ln 2\cosh" in tex and r"\ln H" in tex and "Gardner" in tex
    assert r"\mathbb{E}_{z}" in tex


def test_free_energy_validation():
    q = R.OrderParameter("q", domain=(0, 1))
    with pytest.raises(ValueError, match="undeclared"):
        R.FreeEnergy("bad", [R.Term("t", q * sp.Symbol("w"), "here")], [q], [], [])
    with pytest.raises(ValueError, match="cite"):
        R.Term("t", q, "")
    with pytest.raises(KeyError, match="known models"):
        R.get_model("no-such-model")


def test_fixed_point_unavailable_for_non_bilinear():
    q = R.OrderParameter("q", domain=(0, 1))
    c = R.Control("c", domain=(None, None))
    fe = R.FreeEnergy("toy", [R.Term("t", -(q - c)**4, "manufactured")], [q], [], [c])
    with pytest.raises(R.FixedPointUnavailable):
        fe.fixed_point_form()
    # saddle_equations still works (gradient form)
    assert fe.saddle_equations() == [sp.Eq(-4 * (q - c)**3, 0)]


def test_parameters_pickle_with_metadata():
    import pickle
    q = R.OrderParameter("q", domain=(0, 1), latex="q", description="overlap", initial=0.3)
    q2 = pickle.loads(pickle.dumps(q))
    assert q2 == q and q2.domain == (0, 1) and q2.initial == 0.3


def test_truncated_average_with_symbolic_limit():
    """Limits that are expressions (not numbers) must still count as finite: the
    Leibniz boundary term appears and the compiler truncates (regression)."""
    c = sp.Symbol("c", real=True)
    avg = GaussianAverage(LogH(a * z), z, c * b, sp.oo)
    assert sp.diff(avg, c) == -b * Gauss(b * c) * LogH(a * b * c)
