"""Franz–Parisi potential and local entropy (issue: where the wide flat minima are).

Sources: Huang & Kabashima, PRE 90, 052813 (2014) (typical binary solutions are
isolated); Baldassi et al., PRL 127, 278301 (2021) (higher-margin references have
higher local entropy); analytic limits (α = 0 log-volume, typical-point identity).
"""

import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest

from benchmarks.naive import naive_fp_energetic
from solvers import solve_saddle
from solvers.codegen import compile_expression
from solvers.errors import ParameterError
from solvers.local_entropy import fp_model, local_entropy


@pytest.fixture(scope="module")
def fp():
    return fp_model("binary-perceptron")[1]


def _rs(alpha, kappa):
    r = solve_saddle("binary-perceptron", {"alpha": alpha, "kappa": kappa})
    assert r.success
    return r.order_parameters["q"], r.conjugates["qhat"], r.free_entropy


@pytest.mark.parametrize("p", [0.2, 0.6, 0.95])
def test_alpha_zero_is_the_log_volume(fp, p):
    """At α = 0 the FP entropy is −d ln d − (1−d) ln(1−d), d = (1−p)/2, at the exact
    saddle q̂1 = t̂ = 0, p̂ = atanh p, q1 = p², t = p q̃ (q̃ = E tanh²(√q̂̃ z)).
    Tolerance 1e-10: 40-node Legendre pieces on [0, 11] integrate the Gaussian-weighted
    posterior to ~3e-11. The q1 and t equations read q̂1/2 = 0 and t̂ = 0 at α = 0
    (the energetic gradient is multiplied by α and is 0/0 where its residual variance
    vanishes, so only the conjugate equations are evaluated)."""
    qhr = 1.3
    qr = float(mpmath.quad(lambda z: mpmath.tanh(mpmath.sqrt(qhr) * z)**2 * mpmath.npdf(z),
                           [-mpmath.inf, 0, mpmath.inf]))
    c = dict(alpha=0.0, kappa=0.0, kappa_ref=0.0, p=p, q_ref=qr, qhat_ref=qhr)
    x = [p * p, p * qr, 0.0, 0.0, math.atanh(p)]
    v, g, _ = fp.value_and_derivatives(x, c)
    d = (1 - p) / 2
    assert abs(v - (-d * math.log(d) - (1 - d) * math.log(1 - d))) < 1e-10
    assert np.max(np.abs(g[2:])) < 1e-10


@pytest.mark.parametrize("alpha,kappa", [(0.3, 0.0), (0.6, 0.0), (0.4, 0.5), (1.0, -0.5)])
def test_typical_point_is_the_rs_saddle(fp, alpha, kappa):
    """κ̃ = κ, p = q̃: (q1, t, q̂1, t̂, p̂) = (q̃, q̃, q̂̃, q̂̃, q̂̃) is stationary and Φ_FP
    equals the RS entropy (PHYSICS.md §3; Franz–Parisi 1995). 1e-9: quadrature."""
    q, qh, s = _rs(alpha, kappa)
    c = dict(alpha=alpha, kappa=kappa, kappa_ref=kappa, p=q, q_ref=q, qhat_ref=qh)
    v, g, _ = fp.value_and_derivatives([q, q, qh, qh, qh], c)
    assert abs(v - s) < 1e-9
    assert np.max(np.abs(g)) < 1e-9


def test_typical_curve_peaks_at_the_rs_entropy():
    """S(d) ≤ s_RS, with equality at the typical distance (1 − q̃)/2."""
    q, qh, s = _rs(0.5, 0.0)
    dt = (1 - q) / 2
    ds = [dt - 0.05, dt - 0.01, dt, dt + 0.01, dt + 0.05]
    c = local_entropy("binary-perceptron", {"alpha": 0.5, "kappa": 0.0}, reference="typical",
                      distances=ds)
    assert c.success, c.message
    S = np.array(c.local_entropy)
    assert abs(S[2] - s) < 1e-9
    assert np.all(S <= s + 1e-9)
    assert S[1] < s and S[3] < s


def test_typical_solutions_are_isolated_alpha_04():
    """Huang & Kabashima 2014: around typical solutions of the binary perceptron the FP
    entropy is negative at small distance for every α > 0. At α = 0.4 an independent
    numpy prototype (different code: conjugates eliminated, 2-D form of the energetic
    term, product Gauss–Legendre panels) gives S(0.001) = −0.00401 and the zero crossing
    d0 ≈ 0.00300 (bracket 0.00291–0.00315); tolerance 2e-5 on S (its quoted digits)."""
    ds = [0.001, 0.0029, 0.0032, 0.02]
    c = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="typical",
                      distances=ds)
    assert c.success, c.message
    S = c.local_entropy
    assert abs(S[0] - (-0.00401)) < 2e-5
    assert S[1] < 0 < S[2]          # the zero crossing is bracketed as in the prototype
    assert c.isolation_distance == 0.0029
    assert c.monotonic


def test_typical_solutions_are_isolated_alpha_06():
    """Same at α = 0.6: the prototype's zero crossing is d0 ≈ 0.0158 (0.0155–0.0168)."""
    c = local_entropy("binary-perceptron", {"alpha": 0.6, "kappa": 0.0}, reference="typical",
                      distances=[0.012, 0.0155, 0.0168, 0.03])
    assert c.success, c.message
    S = c.local_entropy
    assert S[0] < 0 and S[1] < 0 < S[2] < S[3]


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.5, 0.7])
def test_isolation_at_other_loads(alpha):
    """Huang–Kabashima at two more loads: the zero crossing d0 grows with α (0.0030 at
    α = 0.4, 0.0158 at α = 0.6 in the independent prototype), so S(0.003) < 0 for
    α ≥ 0.5."""
    c = local_entropy("binary-perceptron", {"alpha": alpha, "kappa": 0.0}, reference="typical",
                      distances=[0.003, 0.05])
    assert c.success, c.message
    assert c.local_entropy[0] < 0 < c.local_entropy[1]


def test_higher_margin_references_have_higher_local_entropy():
    """Baldassi et al. PRL 2021: at fixed α and small d, S grows with κ̃ (toward the α = 0
    bound). α = 0.4, κ = 0, κ̃ ∈ {0 (typical), 0.25, 0.5}. The independent prototype
    gives S(d = 0.2019) = 0.32508, 0.34437, 0.36010 for these κ̃ (checked to 1e-4)."""
    ds = [0.005, 0.05, 0.2019]
    curves = [local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference=ref,
                            distances=ds) for ref in ("typical", "margin=0.25", "margin=0.5")]
    for c in curves:
        assert c.success, c.message
    S = np.array([c.local_entropy for c in curves])
    assert np.all(np.diff(S, axis=0) > 0)
    assert np.all(S <= np.array(curves[0].alpha0_bound) + 1e-12)
    assert np.allclose(S[:, 2], [0.32508, 0.34437, 0.36010], atol=1e-4)


def test_energetic_term_against_independent_triple_quadrature(fp):
    """The 3-level nested, truncated average (NumPy, split Gauss–Legendre) against
    scipy tplquad of a hand-written integrand (independent code); 1e-9 absolute."""
    q1, t, qr, p, ka, kr = 0.6, 0.3, 0.4, 0.5, 0.1, 0.3
    fe = fp.free_energy
    syms = list(fe.variables) + list(fe.controls)
    vals = [q1, t, 1.0, 0.5, 0.5, 1.0, ka, kr, p, qr, 1.0]
    ours = compile_expression(fe.term("energetic").expr, syms)(*vals)
    ref = naive_fp_energetic(q1, t, qr, p, ka, kr, epsabs=1e-11)
    assert abs(ours - ref) < 1e-9


@pytest.mark.slow
def test_entropic_term_against_mpmath(fp):
    """The nested entropic average (posterior over the reference weight, inner η
    average) against mpmath.quad at 30 digits; 1e-10."""
    fe = fp.free_energy
    syms = list(fe.variables) + list(fe.controls)
    q1h, th, ph, qhr = 1.2, 0.4, 0.8, 0.5
    vals = [0.6, 0.25, q1h, th, ph, 0.4, 0.0, 0.2, 0.6, 0.3, qhr]
    ours = compile_expression(fe.term("entropic").expr, syms)(*vals)
    with mpmath.workdps(30):
        A, B = th / mpmath.sqrt(qhr), mpmath.sqrt(q1h - th**2 / qhr)

        def inner(z, s):
            return mpmath.quad(lambda e: mpmath.log(2 * mpmath.cosh(A * z + B * e + (ph - th) * s))
                               * mpmath.npdf(e), [-mpmath.inf, mpmath.inf])

        def outer(z):
            g = mpmath.sqrt(qhr) * z
            w = (1 + mpmath.tanh(g)) / 2
            return (w * inner(z, 1) + (1 - w) * inner(z, -1)) * mpmath.npdf(z)

        ref = -q1h / 2 + mpmath.quad(outer, [-mpmath.inf, 0, mpmath.inf])
    assert abs(ours - float(ref)) < 1e-10


def test_bad_reference_and_distances():
    from solvers import ParameterError
    with pytest.raises(ParameterError) as e:
        local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="wide",
                      distances=[0.1])
    assert e.value.parameter == "reference"
    with pytest.raises(ParameterError) as e:
        local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="typical",
                      distances=[0.0, 0.1])
    assert e.value.parameter == "distances"


def test_cli_local_entropy_json():
    p = subprocess.run([sys.executable, "-m", "solvers.cli", "local-entropy", "binary-perceptron",
                        "--set", "alpha=0.6", "--set", "kappa=0", "--reference", "typical",
                        "--distances", "0.02:0.2:4", "--json"], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for key in ("distance", "local_entropy", "status", "alpha0_bound"):
        assert len(d[key]) == 4
    assert d["status"] == ["converged"] * 4


# --------------------------------------------------------------------------- spherical
@pytest.fixture(scope="module")
def fp_sph():
    return fp_model("spherical-perceptron")[1]


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_spherical_alpha_zero_is_the_log_volume(fp_sph, p):
    """Spherical weights: at α = 0 the FP entropy is ½ ln(1 − p²) (cap of the sphere at
    overlap p), at q1 = p², t = q̃ p; exact up to rounding."""
    c = dict(alpha=0.0, kappa=-0.5, kappa_ref=-0.5, p=p, q_ref=0.4, qhat_ref=1.0)
    v, g, _ = fp_sph.value_and_derivatives([p * p, 0.4 * p], c)
    assert abs(v - 0.5 * math.log(1 - p * p)) < 1e-14
    assert np.max(np.abs(g)) < 1e-12


def test_spherical_typical_point_is_gardner():
    """Negative-margin spherical perceptron (κ = −0.5, α = 2, RS-stable there): the FP
    entropy at p = q̃ is stationary and equals Gardner's RS entropy (−0.842513 in the
    independent prototype)."""
    m = fp_model("spherical-perceptron")[1]
    r = solve_saddle("spherical-perceptron", {"alpha": 2.0, "kappa": -0.5})
    q, qh = r.order_parameters["q"], r.conjugates["qhat"]
    c = dict(alpha=2.0, kappa=-0.5, kappa_ref=-0.5, p=q, q_ref=q, qhat_ref=qh)
    v, g, _ = m.value_and_derivatives([q, q], c)
    assert abs(v - r.free_entropy) < 1e-9 and abs(v - (-0.842513)) < 1e-6
    assert np.max(np.abs(g)) < 1e-9


def test_spherical_negative_margin_ordering():
    """Baldassi et al. PRL 2021 / Unveiling: for the negative-margin spherical perceptron
    too, references of larger margin have higher local entropy at every distance below
    the typical one (κ = −0.5, α = 2, κ̃ = −0.25)."""
    ds = [0.001, 0.01, 0.107]
    a = local_entropy("spherical-perceptron", {"alpha": 2.0, "kappa": -0.5}, reference="typical",
                      distances=ds)
    b = local_entropy("spherical-perceptron", {"alpha": 2.0, "kappa": -0.5},
                      reference="margin=-0.25", distances=ds)
    assert a.success and b.success
    assert all(y > x for x, y in zip(a.local_entropy, b.local_entropy))
    assert all(s < bd for s, bd in zip(b.local_entropy, b.alpha0_bound))


# ------------------------------------------------------------------ loss references
def test_loss_channel_energetic_term_against_nested_quad():
    """LossChannel (Gibbs measure of the cross-entropy, Baldassi–Pittorino–Zecchina PNAS
    2020 eq. (4)): E_z ln E_x exp(-β ℓ_γ(√q z + √(1-q) x)) against nested scipy quad of
    the same formula (independent route; 1e-9: quad's tolerance)."""
    import scipy.integrate
    from replica.ansatz import replica_symmetric
    from replica.components import BinaryPrior, LossChannel
    fe = replica_symmetric(BinaryPrior(), LossChannel("ce"), "ce-test")
    syms = list(fe.variables) + list(fe.controls)
    q, beta, gamma, alpha = 0.4, 8.0, 3.0, 1.0
    vals = {"q": q, "qhat": 1.0, "alpha": alpha, "gamma": gamma, "beta": beta}
    f = compile_expression(fe.term("energetic").expr, syms)
    ours = float(f(*[vals[s.name] for s in syms]))

    def loss(u):
        return -u / 2 + (np.logaddexp(gamma * u, -gamma * u)) / (2 * gamma)

    def inner(z):
        v, _ = scipy.integrate.quad(lambda x: np.exp(-x * x / 2 - beta * loss(
            np.sqrt(q) * z + np.sqrt(1 - q) * x)) / np.sqrt(2 * np.pi), -12, 12, epsabs=1e-14, limit=200)
        return np.log(v)

    ref, _ = scipy.integrate.quad(lambda z: inner(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
                                  -11, 11, epsabs=1e-11, limit=200)
    assert abs(ours - alpha * ref) < 1e-9


def test_loss_reference_needs_beta_and_a_known_loss():
    for spec, controls, param in [("loss=ce:5", {"alpha": 0.4, "kappa": 0.0}, "beta_ref"),
                                  ("loss=ce:5", {"alpha": 0.4, "kappa": 0.0, "beta_ref": -1.0}, "beta_ref"),
                                  ("loss=xent:5", {"alpha": 0.4, "kappa": 0.0, "beta_ref": 5.0}, "reference"),
                                  ("loss=ce:0", {"alpha": 0.4, "kappa": 0.0, "beta_ref": 5.0}, "reference")]:
        with pytest.raises(ParameterError) as e:
            local_entropy("binary-perceptron", controls, reference=spec, distances=[0.05])
        assert e.value.parameter == param


@pytest.mark.slow
def test_cross_entropy_minimisers_lie_in_wider_minima_than_typical_solutions():
    """Baldassi, Pittorino, Zecchina, PNAS 117, 161 (2020), Fig. 2 (shape): around
    minimisers of the cross-entropy (γ = 5, at β_ref = 20 as a proxy for the
    zero-temperature limit) the local entropy of the solutions at small distance is
    higher than around typical solutions, and below the α = 0 bound; the curve never
    exceeds the RS entropy s_RS(0.4). (Below d ≈ 0.004 this RS branch ends: continuation
    stalls near p = 0.996.)"""
    ds = [0.005, 0.02, 0.1]
    ce = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0, "beta_ref": 20.0},
                       reference="loss=ce:5", distances=ds)
    ty = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="typical",
                       distances=ds)
    assert ce.success and ty.success, (ce.message, ty.message)
    assert all(a > b for a, b in zip(ce.local_entropy, ty.local_entropy))
    assert all(s < bd for s, bd in zip(ce.local_entropy, ce.alpha0_bound))
    s_rs = solve_saddle("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}).free_entropy
    assert max(ce.local_entropy) <= s_rs + 1e-9


# ------------------------------------------------------- collapsed (2-D) energetic term
def _collapsed_quad(q1, t, qr, p, ka, kr):
    """Independent scipy route of the collapsed form ∫Du H((x0 r − b u)/c) ln H(...)."""
    from scipy import integrate, special
    Hf = lambda v: 0.5 * special.erfc(v / math.sqrt(2))  # noqa: E731
    phi = lambda v: math.exp(-v * v / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    a, b = t / math.sqrt(qr), (p - t) / math.sqrt(1 - qr)
    r = math.sqrt(q1 - t * t / qr)
    c = math.sqrt(r * r - b * b)

    def inner(z):
        x0 = (kr - math.sqrt(qr) * z) / math.sqrt(1 - qr)
        f = lambda u: phi(u) * Hf((x0 * r - b * u) / c) * math.log(  # noqa: E731
            Hf((ka - a * z - r * u) / math.sqrt(1 - q1)))
        return integrate.quad(f, -12, 12, epsabs=1e-13, epsrel=1e-13, limit=400)[0] / Hf(x0)

    return integrate.quad(lambda z: phi(z) * inner(z), -12, 12, epsabs=1e-12, epsrel=1e-12,
                          limit=200)[0]


def test_collapsed_energetic_term_against_quad_and_the_three_level_form(fp):
    """The (x, y) pair collapsed to one direction (replica/franz_parisi.py,
    ``_collapsed_energetic``): exact identity, so it must agree with an independent scipy
    quad of the collapsed integral (1e-10: quad tolerances 1e-12/1e-13) and with the
    3-level form (1e-9: the 3-level rule's own accuracy, see the tplquad test)."""
    fe = fp.free_energy
    fast = fe.meta["fast_form"]["terms"]["energetic"]
    syms = list(fe.variables) + list(fe.controls)
    q1, t, qr, p, ka, kr = 0.6, 0.3, 0.4, 0.5, 0.1, 0.3
    vals = [q1, t, 1.0, 0.5, 0.5, 1.0, ka, kr, p, qr, 1.0]
    ours = compile_expression(fast, syms)(*vals)
    three = compile_expression(fe.term("energetic").expr, syms)(*vals)
    assert abs(ours - _collapsed_quad(q1, t, qr, p, ka, kr)) < 1e-10
    assert abs(ours - three) < 1e-9


def test_compiled_model_switches_forms_where_the_variances_allow(fp):
    """At a point of the α = 0.4 typical curve (d = 0.05: c² = 9e-3, r² = 0.55) the
    compiled model evaluates the collapsed form; at the typical point (c = 0, where it
    is 0/0) the 3-level form. Both agree with the 3-level form to 1e-12 in value and
    5e-11 in the gradient (FAST_FORM_MIN in solvers.constants)."""
    c = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="typical",
                      distances=[0.05])
    assert c.success
    x = np.array([c.variables[v][0] for v in fp.variables])
    ctl = dict(alpha=0.4, kappa=0.0, kappa_ref=0.0, p=0.9, q_ref=c.reference_saddle["q_ref"],
               qhat_ref=c.reference_saddle["qhat_ref"])
    fast, _ = fp._fast
    saved, fp._fast = fp._fast, None
    try:
        v3, g3, _ = fp.value_and_derivatives(x, ctl)
    finally:
        fp._fast = saved
    v2, g2, _ = fast.value_and_derivatives(x, ctl)
    v, g, _ = fp.value_and_derivatives(x, ctl)
    assert v == v2 and np.array_equal(g, g2)  # dispatched to the collapsed form
    assert abs(v2 - v3) < 1e-12 and np.max(np.abs(g2 - g3)) < 5e-11
    q, qh, s = _rs(0.4, 0.0)
    c0 = dict(ctl, p=q, q_ref=q, qhat_ref=qh)
    v0, g0, _ = fp.value_and_derivatives([q, q, qh, qh, qh], c0)
    assert abs(v0 - s) < 1e-9 and np.max(np.abs(g0)) < 1e-9  # the 3-level form there


def test_chart_march_stays_in_the_domain_and_is_cheap(fp, monkeypatch):
    """The 51-point typical curve of the benchmark (α = 0.4, d ∈ [0.001, 0.3]; issue 4):
    the variance-chart march (solvers.local_entropy._Chart) never evaluates the model
    where a residual variance is negative (no NaN evaluation), needs few evaluations
    (~220 in session 4; the x-space march of session 3 used ~550, a third of them NaN),
    and gives the values of the x-space march: S(0.001) = −0.0040064040141576 and
    S(0.3) = 0.3838736107520879 (session 3, full rule; 1e-10: the 2-level form now
    covers d > 0.275 too, FAST_FORM_MIN)."""
    from solvers.codegen import CompiledModel
    calls = {"n": 0, "nan": 0}
    orig = CompiledModel.evaluate

    def counting(self, bundle, x, controls, **kw):
        out = orig(self, bundle, x, controls, **kw)
        if self is fp:
            calls["n"] += 1
            calls["nan"] += not all(np.all(np.isfinite(o)) for o in out)
        return out

    monkeypatch.setattr(CompiledModel, "evaluate", counting)
    c = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="typical",
                      distances=np.linspace(0.001, 0.3, 51))
    assert c.success and all(r < 1e-10 for r in c.residual)
    assert abs(c.local_entropy[0] - -0.0040064040141576385) < 1e-10
    assert abs(c.local_entropy[-1] - 0.3838736107520879) < 1e-10
    assert calls["nan"] == 0 and 51 < calls["n"] < 350, calls
