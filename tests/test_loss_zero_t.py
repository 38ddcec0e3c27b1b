"""Zero-temperature loss reference (beta_ref = inf): proximal map, T = 0 reference,
Franz–Parisi functional around the loss minimisers (replica.prox, replica.minimisers,
solvers.prox, solvers.local_entropy._loss_curve_zero_t).

Independent routes: mpmath at 30 digits and scipy minimisation for the proximal map;
finite differences for the node derivatives; nested scipy quad for the functional; the
finite-beta functional (replica.franz_parisi) at growing beta for the limit itself;
analytic limits (alpha = 0 log-volume, the typical point = RS entropy).
"""

import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.special
import sympy as sp

from replica.prox import MoreauEnvelope, ProxCurvature, ProxShift, prox_loss_index
from solvers import prox, solve_saddle
from solvers.codegen import compile_expression
from solvers.errors import ParameterError
from solvers.local_entropy import _solve, fp_loss_model, local_entropy

INF = float("inf")


def _ce(h, g):
    return np.logaddexp(0.0, -2 * g * h) / (2 * g)


def _hinge(h, k):
    return max(0.0, k - h)


# ------------------------------------------------------------------ proximal map
@pytest.mark.parametrize("x", [0.05, 1.0, 5.0, 200.0])
@pytest.mark.parametrize("g", [0.5, 5.0, 30.0])
def test_ce_prox_numpy_against_mpmath(x, g):
    """Safeguarded Newton (NumPy, PROX_TOL = 1e-15 relative to x) against bisection +
    Newton at 30 digits. Tolerance 1e-13 x on v* (a few ulps of the bracket width x
    after the last Newton step), 1e-13 (1 + |M|) on M and 1e-12 on K (its formula loses
    a few more digits through σ(1-σ))."""
    z = np.linspace(-11, 11, 45)
    v, M, K = prox.shift(z, x, g, 0), prox.moreau(z, x, g, 0), prox.curvature(z, x, g, 0)
    with mpmath.workdps(30):
        vm = np.array([float(prox.MP.shift(zz, x, g, 0)) for zz in z])
        Mm = np.array([float(prox.MP.moreau(zz, x, g, 0)) for zz in z])
        Km = np.array([float(prox.MP.curvature(zz, x, g, 0)) for zz in z])
    assert np.all(np.isfinite(v))
    assert np.max(np.abs(v - vm)) <= 1e-13 * x
    assert np.max(np.abs(M - Mm) / (1 + np.abs(Mm))) <= 1e-13
    assert np.max(np.abs(K - Km)) <= 1e-12


@pytest.mark.parametrize("loss,c", [("ce", 0.7), ("ce", 8.0), ("hinge", 0.0), ("hinge", 0.5)])
def test_prox_against_direct_minimisation(loss, c):
    """v* and M against scipy's bounded Brent minimisation of v²/(2x) + ℓ(z + v) (no
    stationarity condition, no bracket knowledge). A minimiser found from function values
    is only known to ~√(ε f/f'') ≈ 1.3e-8 here (f ≈ 2.4, f'' = 1/x): tolerance 1e-7 on
    v*. M: ours must be at least as low as Brent's value (up to rounding, 1e-13) and
    within 1e-8 of it (M is flat at a smooth minimum, but linear with slope ≤ 1 across
    the hinge's kink, where Brent stops ~5e-9 away)."""
    L = 0 if loss == "ce" else 1
    ell = _ce if loss == "ce" else _hinge
    for x in (0.3, 2.0):
        for z in (-2.5, -0.7, -0.05, 0.4, 1.9):
            r = scipy.optimize.minimize_scalar(lambda v: v * v / (2 * x) + ell(z + v, c),
                                               bounds=(-1.0, x + 1.0), method="bounded",
                                               options={"xatol": 1e-11})
            assert abs(float(prox.shift(z, x, c, L)) - r.x) < 1e-7
            M = float(prox.moreau(z, x, c, L))
            assert M <= r.fun + 1e-13 and r.fun - M < 1e-8


def test_hinge_closed_form_pieces():
    """Hinge: v* = x below k − x, k − z on [k − x, k), 0 above; K = 1 on the middle piece
    (exact closed form: compared exactly)."""
    k, x = 0.5, 0.6
    z = np.array([-1.0, -0.05, 0.2, 0.5, 2.0])
    assert np.allclose(prox.shift(z, x, k, 1), [0.6, 0.55, 0.3, 0.0, 0.0], rtol=0, atol=1e-15)
    assert prox.curvature(z, x, k, 1).tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("loss,point", [("ce", (0.3, 2.0, 1.5)), ("ce", (-1.2, 0.4, 6.0)),
                                        ("hinge", (0.2, 0.6, 0.5)), ("hinge", (-0.4, 0.6, 0.5))])
def test_node_derivatives_against_finite_differences(loss, point):
    """Envelope-theorem and implicit-function derivatives of the nodes (replica.prox)
    against central differences of solvers.prox (step 1e-5: truncation ~1e-10, rounding
    ~1e-11; tolerance 1e-7). Hinge points away from its kinks, where it is smooth."""
    L = prox_loss_index(loss)
    z, x, c = sp.symbols("z x c", real=True)
    h = 1e-5
    nums = {"M": prox.moreau, "v": prox.shift}
    for name, node in (("M", MoreauEnvelope(z, x, c, L)), ("v", ProxShift(z, x, c, L))):
        for i, s in enumerate((z, x, c)):
            f = compile_expression(sp.diff(node, s), [z, x, c])
            ours = float(f(*point))
            up, dn = list(point), list(point)
            up[i] += h
            dn[i] -= h
            fd = (float(nums[name](*up, int(L))) - float(nums[name](*dn, int(L)))) / (2 * h)
            assert abs(ours - fd) < 1e-7, (name, s, ours, fd)
    with pytest.raises(NotImplementedError):
        sp.diff(ProxCurvature(z, x, c, L), z)


# ------------------------------------------------------------------ T = 0 reference
def _ground(loss, alpha, c):
    rs, ref, m = fp_loss_model("binary-perceptron", loss, zero_temperature=True)
    from solvers.local_entropy import _ground_state
    pname = "gamma" if loss == "ce" else "margin"
    res, msg = _ground_state(ref, alpha, pname, c)
    assert res is not None and res.success, msg
    return ref, res


def _finite_beta_errors(loss, alpha, pname, c, statuses):
    """(β(1−q̃) − x̃, √q̂̃/β − r̂, φ_β/β − φ0) of the finite-β RS reference at β = 320, 640
    against the T = 0 saddle."""
    _, res0 = _ground(loss, alpha, c)
    x0, r0, f0 = res0.order_parameters["x"], res0.conjugates["rhat"], res0.free_entropy
    _, refb, _ = fp_loss_model("binary-perceptron", loss)
    errs = []
    for b in (320.0, 640.0):
        r = solve_saddle(refb, {"alpha": alpha, pname: c, "beta": b})
        assert r.status in statuses, r.message
        q, qh = r.order_parameters["q"], r.conjugates["qhat"]
        errs.append(np.array([b * (1 - q) - x0, math.sqrt(qh) / b - r0, r.free_entropy / b - f0]))
    return errs


@pytest.mark.parametrize("loss,alpha,c", [("ce", 0.6, 1.0), ("hinge", 0.8, 0.5)])
def test_ground_state_identities(loss, alpha, c):
    """At the T = 0 saddle: r̂ x̃ = √(2/π), α E v*² = 2/π (the residual) and φ0 = −(ground
    state loss) = −α E ℓ(z + v*) (replica.minimisers, part 1; 1e-11: quadrature and
    solver tolerance 1e-10 on the gradient, which enters φ0 only at second order)."""
    ref, res = _ground(loss, alpha, c)
    x, r = res.order_parameters["x"], res.conjugates["rhat"]
    assert abs(r * x - math.sqrt(2 / math.pi)) < 1e-10
    e = float(ref.observables_at([x, r], {"alpha": alpha, ("gamma" if loss == "ce" else "margin"): c})["energy"])
    assert e > 0 and abs(res.free_entropy + e) < 1e-11


def test_finite_beta_reference_converges_like_one_over_beta():
    """The finite-β RS reference (LossChannel, cross-entropy γ = 1, α = 0.6) approaches the
    T = 0 saddle: β(1 − q̃) → x̃, √q̂̃/β → r̂, φ_β/β → φ0, each error halving when β doubles
    (corrections O(1/β): the Laplace prefactor and √q̃ = 1 − x̃/(2β); measured ratios
    1.88, 1.92, 1.92 from β = 320 to 640; accepted 1.7-2.2)."""
    errs = _finite_beta_errors("ce", 0.6, "gamma", 1.0, ("converged",))
    ratio = errs[0] / errs[1]
    assert np.all(np.abs(errs[1]) < [0.01, 4e-4, 2e-4])
    assert np.all((ratio > 1.7) & (ratio < 2.2)), ratio


def test_finite_beta_hinge_reference_converges():
    """Hinge (k = 0.5, α = 0.8; its Gibbs measure in the field variable, LossChannel.exponent,
    so that the Hessian needs no Dirac mass): β(1 − q̃) → x̃, √q̂̃/β → r̂, φ_β/β → φ0 with
    errors shrinking by 1.7-1.8 per doubling of β (slower than 1/β: the posterior straddles
    the kink over a width ~β^{-1/2}; measured 1.76, 1.75, 1.70 from 320 to 640). The
    finite-β solves report ``quadrature_inaccurate``: the tilted grid is not split at the
    hinge's kink, and against the closed form Z_out = H((k−ω)/√V) + e^{β(ω−k)+β²V/2}
    H((ω+βV−k)/√V) (mpmath) the energetic term is off by 4e-3 at β = 320 and 1.1e-2 at 640,
    i.e. 1.4e-5 and 1.7e-5 in φ/β — about 1% of the differences tested here (1.5e-3)."""
    errs = _finite_beta_errors("hinge", 0.8, "margin", 0.5, ("converged", "quadrature_inaccurate"))
    ratio = errs[0] / errs[1]
    assert np.all(np.abs(errs[1]) < [0.02, 0.005, 0.002])
    assert np.all((ratio > 1.55) & (ratio < 2.2)), ratio


@pytest.mark.parametrize("loss,pname,c", [("ce", "gamma", 1.0), ("hinge", "margin", 0.5)])
def test_ground_state_model_numpy_against_mpmath(loss, pname, c):
    """The compiled T = 0 reference (value, gradient, Hessian — the Hessian carries
    ProxCurvature) in NumPy (Hermite / Legendre split at the nodes' kink points) against
    the mpmath back end (mpmath.quad at 30 digits, mpmath proximal map). 1e-12: both
    rules converge far below it (measured differences ~1e-15)."""
    from solvers.codegen import compile_model
    _, ref, _ = fp_loss_model("binary-perceptron", loss, zero_temperature=True)
    mp_model = compile_model(ref.free_energy, backend="mpmath")
    x, cc = [3.0, 0.3], {"alpha": 0.6, pname: c}
    v, g, H = ref.value_and_derivatives(x, cc)
    vm, gm, Hm = mp_model.value_and_derivatives(x, cc)
    assert abs(float(vm) - float(v)) < 1e-12
    assert np.max(np.abs(np.array(gm, float) - g)) < 1e-12
    assert np.max(np.abs(np.array(Hm, float) - H)) < 1e-12


def test_hinge_without_isolated_minimiser_is_reported():
    """Hinge with margin 0 at α = 0.4 < (2/π)·2: zero-loss ground states (margin-0
    solutions), α E v*² < 2/π for all x̃; the curve says so (no number)."""
    c = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0, "beta_ref": INF},
                      reference="loss=hinge:0", distances=[0.1])
    assert c.status == ["reference_failed"] and c.local_entropy == [None]
    assert "no isolated loss minimiser" in c.message
    assert c.reference_saddle["status"] == "no_isolated_minimiser"


# ------------------------------------------------------------------ FP at beta = inf
@pytest.fixture(scope="module")
def ce_curve():
    return local_entropy("binary-perceptron", {"alpha": 0.6, "kappa": 0.0, "beta_ref": INF},
                         reference="loss=ce:1", distances=[0.01, 0.05, 0.1, 0.2, 0.3])


def _controls(curve, i, loss="ce", c=1.0):
    pname = "ref_gamma" if loss == "ce" else "ref_margin"
    return {"alpha": curve.controls["alpha"], "kappa": curve.controls["kappa"], pname: c,
            "p": curve.overlap[i], "x_ref": curve.reference_saddle["x_ref"],
            "rhat_ref": curve.reference_saddle["rhat_ref"]}


@pytest.mark.parametrize("p", [0.2, 0.6, 0.95])
def test_alpha_zero_is_the_log_volume(p):
    """α = 0: at τ = ρ = 0, q̂1 = 0, ε̂ = atanh p the functional is ln 2cosh ε̂ − ε̂ p =
    −d ln d − (1−d) ln(1−d) whatever q1 ≥ p² and ρ, and the ρ and ε̂ equations hold (−r̂x̃τ = 0,
    tanh ε̂ − p = 0). 1e-10: 40-node Legendre pieces on [0, 11] integrate the Gaussian
    density to ~3e-11 (as in tests/test_franz_parisi.py)."""
    _, _, m = fp_loss_model("binary-perceptron", "ce", zero_temperature=True)
    c = {"alpha": 0.0, "kappa": 0.0, "ref_gamma": 1.0, "p": p, "x_ref": 4.8, "rhat_ref": 0.165}
    x = [min(p * p + 0.04, 0.99), 0.7, 0.0, 0.0, math.atanh(p)]  # any q1 with q1 > p²
    d = (1 - p) / 2
    assert abs(float(m.value(x, c)) - (-d * math.log(d) - (1 - d) * math.log(1 - d))) < 1e-10
    g = m.gradient(x, c)
    assert abs(g[1]) < 1e-12 and abs(g[4]) < 1e-10


def test_functional_against_nested_quad(ce_curve):
    """Φ∞ (NumPy, 96-node Hermite / graded Legendre) at a converged point of the curve
    against nested scipy quad with v* from the mpmath proximal map (independent of
    solvers.prox's Newton and of the compiled rules). 1e-8: quad tolerances 1e-10."""
    _, _, m = fp_loss_model("binary-perceptron", "ce", zero_temperature=True)
    i = 2
    c = _controls(ce_curve, i)
    q1, rho, q1h, tau, eh = (ce_curve.variables[k][i] for k in m.variables)
    p, xr = c["p"], c["x_ref"]
    G = lambda u: math.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    s1 = math.sqrt(q1h - tau * tau)
    lc2 = lambda u: float(np.logaddexp(u, -u))  # noqa: E731  ln 2cosh
    ent = 2 * scipy.integrate.quad(lambda z: G(z) * scipy.integrate.quad(
        lambda e: G(e) * lc2(tau * z + eh + s1 * e), -12, 12, epsabs=1e-12, limit=200)[0],
        0, 12, epsabs=1e-11, limit=200)[0]
    s2 = math.sqrt(q1 - p * p)
    sq = math.sqrt(1 - q1)

    def inner(z):
        a = p * z + rho * float(prox.MP.shift(z, xr, 1.0, 0))
        return scipy.integrate.quad(lambda y: G(y) * scipy.special.log_ndtr((a + s2 * y) / sq),
                                    -12, 12, epsabs=1e-12, limit=200)[0]

    ene = scipy.integrate.quad(lambda z: G(z) * inner(z), -12, 12, epsabs=1e-11, limit=200)[0]
    ours = float(m.value([q1, rho, q1h, tau, eh], c))
    ref = (q1 * q1h / 2 - c["rhat_ref"] * xr * tau * rho - eh * p - q1h / 2 + ent
           + c["alpha"] * ene)
    assert abs(ours - ref) < 1e-8


def test_curve_converges_and_stays_below_the_bounds(ce_curve):
    """All points converge; S(d) < α = 0 bound and S(d) ≤ s_RS(α, κ) (the curve's top is
    the RS entropy, next test)."""
    assert ce_curve.success, ce_curve.message
    s_rs = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0}).free_entropy
    assert all(s < b for s, b in zip(ce_curve.local_entropy, ce_curve.alpha0_bound))
    assert max(ce_curve.local_entropy) <= s_rs + 1e-10
    assert ce_curve.controls["beta_ref"] == "inf"


@pytest.mark.parametrize("spec,alpha", [("loss=ce:1", 0.6), ("loss=hinge:0.5", 0.8)])
def test_typical_point_is_the_rs_entropy_and_the_top(spec, alpha):
    """At p* (typical solutions of the constrained problem vs the minimiser: ρ = ε̂ = 0,
    q1 = q, q̂1 = q̂) Φ∞ = s_RS(α, κ) and dΦ/dp = −ε̂ = 0 (replica.minimisers, check (ii)):
    S(d*) = s_RS to 1e-9 (solver tolerance 1e-10 on a stationary value), and S < s_RS at
    d* ± 0.02."""
    s_rs = solve_saddle("binary-perceptron", {"alpha": alpha, "kappa": 0.0}).free_entropy
    ctl = {"alpha": alpha, "kappa": 0.0, "beta_ref": INF}
    first = local_entropy("binary-perceptron", ctl, reference=spec, distances=[0.2])
    ds = first.typical_distance
    c = local_entropy("binary-perceptron", ctl, reference=spec, distances=[ds - 0.02, ds, ds + 0.02])
    assert c.success, c.message
    assert abs(c.local_entropy[1] - s_rs) < 1e-9
    assert c.variables["rho"][1] == pytest.approx(0, abs=1e-9)
    assert c.variables["ehat"][1] == pytest.approx(0, abs=1e-9)
    assert c.local_entropy[0] < s_rs - 1e-6 and c.local_entropy[2] < s_rs - 1e-6


def _finite_beta_point(beta, curve, i, gamma, alpha):
    """The finite-β FP saddle at the curve's i-th overlap, Newton from the T = 0 saddle
    mapped back: t = p − ρ(1 − q̃), t̂ = τ√q̂̃, p̂ = t̂ + ε̂."""
    _, refb, feb = fp_loss_model("binary-perceptron", "ce")
    r = solve_saddle(refb, {"alpha": alpha, "gamma": gamma, "beta": beta})
    assert r.success, r.message
    q, qh = r.order_parameters["q"], r.conjugates["qhat"]
    q1, rho, q1h, tau, eh = (curve.variables[k][i] for k in ("q1", "rho", "q1hat", "tau", "ehat"))
    p = curve.overlap[i]
    th = tau * math.sqrt(qh)
    c = {"alpha": alpha, "kappa": 0.0, "ref_gamma": gamma, "ref_beta": beta, "q_ref": q,
         "qhat_ref": qh, "p": p}
    x = _solve(feb, c, np.array([q1, p - rho * (1 - q), q1h, th, th + eh]))
    assert x is not None
    return float(feb.value(x, c)), (p - x[1]) / (1 - q)


@pytest.mark.slow
def test_finite_beta_curves_converge_to_the_zero_temperature_curve(ce_curve):
    """The limit itself: the finite-β Franz–Parisi entropy around the Gibbs measure of
    the cross-entropy (γ = 1, α = 0.6) at β = 160, 320, 640 approaches S∞(d) like 1/β
    (β(S_β − S∞) = −0.107, −0.089, −0.080 at d = 0.05; 0.058, 0.075, 0.082 at d = 0.1):
    the error halves per doubling (ratio accepted 1.6-2.4) and is below 2e-4 at β = 640;
    ρ = (p − t)/(1 − q̃) converges to its T = 0 value (1e-2 at β = 640)."""
    for i in (1, 2):  # d = 0.05, 0.1
        s_inf = ce_curve.local_entropy[i]
        errs, rhos = [], []
        for b in (160.0, 320.0, 640.0):
            s, rho = _finite_beta_point(b, ce_curve, i, 1.0, 0.6)
            errs.append(s - s_inf)
            rhos.append(rho)
        assert abs(errs[2]) < 2e-4
        assert 1.6 < errs[1] / errs[2] < 2.4, errs
        assert abs(rhos[2] - ce_curve.variables["rho"][i]) < 1e-2


@pytest.mark.slow
def test_finite_beta_point_close_to_the_limit(ce_curve):
    """Short version of the previous test (~20 s, mostly compiling the finite-β FP model): at β = 640 and d = 0.1 the finite-β entropy is
    within 2e-4 of S∞ (the 1/β tail: 0.083/640 = 1.3e-4)."""
    s, _ = _finite_beta_point(640.0, ce_curve, 2, 1.0, 0.6)
    assert abs(s - ce_curve.local_entropy[2]) < 2e-4


# ------------------------------------------------------------------ interface
def test_beta_ref_validation():
    base = {"alpha": 0.6, "kappa": 0.0}
    for b in (0.0, -INF, float("nan"), "abc", True):
        with pytest.raises(ParameterError) as e:
            local_entropy("binary-perceptron", {**base, "beta_ref": b}, reference="loss=ce:1",
                          distances=[0.1])
        assert e.value.parameter == "beta_ref"
    with pytest.raises(ParameterError) as e:
        local_entropy("spherical-perceptron", {"alpha": 1.0, "kappa": 0.0, "beta_ref": INF},
                      reference="loss=ce:1", distances=[0.1])
    assert e.value.parameter == "beta_ref"


def test_cli_beta_ref_inf_json():
    out = subprocess.run([sys.executable, "-m", "solvers.cli", "local-entropy", "binary-perceptron",
                          "--set", "alpha=0.6", "--set", "kappa=0", "--set", "beta_ref=inf",
                          "--reference", "loss=ce:1", "--distances", "0.05:0.1:2", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["controls"]["beta_ref"] == "inf" and d["status"] == ["converged", "converged"]
    assert d["reference_saddle"]["x_ref"] == pytest.approx(4.83608, abs=1e-4)
    bad = subprocess.run([sys.executable, "-m", "solvers.cli", "local-entropy", "binary-perceptron",
                          "--set", "alpha=0.6", "--set", "kappa=inf", "--set", "beta_ref=inf",
                          "--reference", "loss=ce:1", "--distances", "0.05:0.1:2"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "kappa" in bad.stderr
