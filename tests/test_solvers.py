"""Tier 3: solvers on manufactured problems with known saddles, every method on a
shared problem set, failure injection, and input validation."""

import pytest

import replica as R
from solvers import ConvergenceError, ParameterError, STATUSES, solve_saddle

METHODS = ["auto", "fixed-point", "newton", "hybr"]


def manufactured():
    r"""Φ = q q̂/2 − q̂²/4 + α(q − c)²/2 with a known saddle:

    ∂Φ/∂q̂ = q/2 − q̂/2 = 0 → q = q̂;  ∂Φ/∂q = q̂/2 + α(q − c) = 0 → q̂ = 2α(c − q)
    ⇒ q = q̂ = 2αc/(1 + 2α)  (= 0.3 at α = 0.5, c = 0.6). The damped (η = ½) fixed
    point map has eigenvalues ½ ± ½i√(2α), modulus < 1 for α < 3/2.
    """
    q = R.OrderParameter("q", domain=(0, 1), initial=0.5)
    qh = R.Conjugate("qhat", domain=(None, None), initial=0.5)
    alpha = R.Control("alpha", domain=(0, None))
    c = R.Control("c", domain=(0, 1))
    return R.FreeEnergy("manufactured", [
        R.Term("coupling", q * qh / 2, "manufactured"),
        R.Term("entropic", -qh**2 / 4, "manufactured"),
        R.Term("energetic", alpha * (q - c)**2 / 2, "manufactured")],
        order_parameters=[q], conjugates=[qh], controls=[alpha, c])


@pytest.mark.parametrize("method", METHODS)
def test_manufactured_saddle_every_method(method):
    fe = manufactured()
    r = solve_saddle(fe, {"alpha": 0.5, "c": 0.6}, method=method)
    exact = 2 * 0.5 * 0.6 / (1 + 2 * 0.5)
    assert r.success, r.message
    assert abs(r.order_parameters["q"] - exact) < 1e-10
    assert abs(r.conjugates["qhat"] - exact) < 1e-10


@pytest.mark.parametrize("method", METHODS)
def test_binary_perceptron_every_method_agrees(method):
    ref = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0}, method="newton")
    r = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0}, method=method)
    assert r.success, r.message
    assert abs(r.order_parameters["q"] - ref.order_parameters["q"]) < 1e-9
    assert abs(r.free_entropy - ref.free_entropy) < 1e-11


def test_unstable_fixed_point_is_reported():
    """For α > 3/2 the damped map of the manufactured problem is unstable: the
    fixed-point method must fail visibly while Newton finds the saddle."""
    fe = manufactured()
    r = solve_saddle(fe, {"alpha": 2.5, "c": 0.3}, method="fixed-point")
    assert not r.success
    assert solve_saddle(fe, {"alpha": 2.5, "c": 0.3}, method="newton").success


def test_result_fields_are_the_same_for_every_outcome():
    ok = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0})
    bad = solve_saddle("spherical-perceptron", {"alpha": 2.5, "kappa": 0.0})
    assert set(ok.to_dict()) == set(bad.to_dict())
    assert ok.status == "converged" and ok.success
    assert bad.status in STATUSES and bad.status != "converged" and not bad.success


def test_failure_is_a_status_not_a_number():
    """Beyond the spherical capacity (α = 2.5 > 2 at κ = 0) there is no RS saddle:
    q runs to 1. The solver must say so, and raise_for_status must raise."""
    r = solve_saddle("spherical-perceptron", {"alpha": 2.5, "kappa": 0.0})
    assert not r.success
    with pytest.raises(ConvergenceError) as exc:
        r.raise_for_status()
    assert exc.value.result is r


def test_tighter_tolerance_gives_smaller_residual():
    loose = solve_saddle("binary-perceptron", {"alpha": 0.5, "kappa": 0.3}, method="fixed-point", tol=1e-5)
    tight = solve_saddle("binary-perceptron", {"alpha": 0.5, "kappa": 0.3}, method="fixed-point", tol=1e-11)
    assert loose.success and tight.success
    assert tight.residual < loose.residual
    assert tight.residual < 1e-11


def test_warm_start_from_result():
    r1 = solve_saddle("binary-perceptron", {"alpha": 0.5, "kappa": 0.0})
    r2 = solve_saddle("binary-perceptron", {"alpha": 0.52, "kappa": 0.0}, x0=r1, method="newton")
    assert r2.success and r2.iterations <= 5
    r3 = solve_saddle("binary-perceptron", {"alpha": 0.52, "kappa": 0.0}, x0={"q": 0.4, "qhat": 1.0})
    assert r3.success


def test_quadrature_error_estimate_is_reported():
    r = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0})
    assert 0 <= r.quadrature_error < 1e-10


def test_unknown_option_and_method():
    with pytest.raises(TypeError, match="unknown option"):
        solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0}, method="newton",
                     options={"damping": 0.3})
    with pytest.raises(ValueError, match="unknown method"):
        solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0}, method="magic")


def test_fixed_point_unavailable_is_an_error_and_auto_still_works():
    q = R.OrderParameter("q", domain=(0, 1), initial=0.5)
    c = R.Control("c", domain=(0, 1))
    fe = R.FreeEnergy("quartic", [R.Term("t", -(q - c)**4 - (q - c)**2, "manufactured")],
                      [q], [], [c])
    with pytest.raises(ValueError, match="no fixed-point form"):
        solve_saddle(fe, {"c": 0.3}, method="fixed-point")
    r = solve_saddle(fe, {"c": 0.3})
    assert r.success and abs(r.order_parameters["q"] - 0.3) < 1e-8


@pytest.mark.parametrize("controls,name", [
    ({"alpha": -0.1, "kappa": 0.0}, "alpha"),
    ({"alpha": float("nan"), "kappa": 0.0}, "alpha"),
    ({"alpha": 0.5}, "kappa"),
    ({"alpha": 0.5, "kappa": 0.0, "beta": 1.0}, "beta"),
    ({"alpha": 0.5, "kappa": "x"}, "kappa"),
    ({"alpha": 0.5, "kappa": float("inf")}, "kappa"),
])
def test_bad_input_names_the_parameter(controls, name):
    with pytest.raises(ParameterError) as exc:
        solve_saddle("binary-perceptron", controls)
    assert exc.value.parameter == name
    assert name in str(exc.value)


def test_bad_x0_names_the_variable():
    with pytest.raises(ParameterError) as exc:
        solve_saddle("binary-perceptron", {"alpha": 0.5, "kappa": 0.0}, x0={"p": 0.3})
    assert exc.value.parameter == "p"
