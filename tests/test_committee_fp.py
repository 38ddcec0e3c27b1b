"""Franz–Parisi local entropy of the K → ∞ tree committee (sign vs ReLU hidden units).

Sources: the FP energetic term of the K → ∞ committee is the perceptron's on the
kernel-mapped output overlaps (derivation in replica/franz_parisi.py; Barkai, Hansel &
Sompolinsky, PRA 45, 4146 (1992) sec. IV; Baldassi, Malatesta & Zecchina, PRL 123,
170602 (2019), "BMZ 2019"); analytic limits (α = 0 log-volume, typical-point identity);
an independent nested scipy quadrature; the NumPy vs mpmath back ends.
"""

import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import scipy.integrate
import scipy.special

from solvers import solve_saddle
from solvers.codegen import _build, _eval_mp, _load, compile_expression
from solvers.errors import ParameterError
from solvers.local_entropy import fp_model, local_entropy

WIDE = {"sign": {"K": "inf", "activation": "sign"}, "relu": {"K": "inf", "activation": "relu"}}


@pytest.fixture(scope="module", params=["sign", "relu"])
def binary(request):
    rs, m = fp_model("binary-tree-committee", WIDE[request.param])
    return request.param, rs, m


def _Q(act, q):
    """Output overlap, written here by hand (independent of the SymPy kernel)."""
    if act == "sign":
        return 2 * math.asin(q) / math.pi
    return (math.sqrt(1 - q * q) + q * (math.pi - math.acos(q)) - 1) / (math.pi - 1)


@pytest.mark.parametrize("p", [0.2, 0.9])
def test_alpha_zero_is_the_log_volume(binary, p):
    """At α = 0 the committee FP entropy is the log-volume −d ln d − (1−d) ln(1−d),
    d = (1−p)/2, at the exact saddle q̂1 = t̂ = 0, p̂ = atanh p, q1 = p², t = p q̃ (the
    entropic term is the perceptron's). 1e-10: Legendre pieces, as for the perceptron
    (tests/test_franz_parisi.py); only the conjugate equations are evaluated (the
    energetic gradient is multiplied by α = 0)."""
    _, _, m = binary
    qhr = 1.3
    qr = float(mpmath.quad(lambda z: mpmath.tanh(mpmath.sqrt(qhr) * z)**2 * mpmath.npdf(z),
                           [-mpmath.inf, 0, mpmath.inf]))
    c = dict(alpha=0.0, p=p, q_ref=qr, qhat_ref=qhr)
    v, g, _ = m.value_and_derivatives([p * p, p * qr, 0.0, 0.0, math.atanh(p)], c)
    d = (1 - p) / 2
    assert abs(v - (-d * math.log(d) - (1 - d) * math.log(1 - d))) < 1e-10
    assert np.max(np.abs(g[2:])) < 1e-10


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.8])
def test_typical_point_is_the_committee_rs_saddle(binary, alpha):
    """p = q̃ around typical references: (q1, t, q̂1, t̂, p̂) = (q̃, q̃, q̂̃, q̂̃, q̂̃) is
    stationary and Φ_FP equals the committee's RS entropy (solve_saddle of the RS
    model): the mapped overlap matrix has the RS replica structure (Franz–Parisi 1995).
    Measured: |ΔΦ| ~ 2e-11, |∇Φ| ~ 4e-11 (α = 0.5); 1e-9 as for the perceptron."""
    _, rs, m = binary
    r = solve_saddle(rs, {"alpha": alpha})
    assert r.success
    q, qh = r.order_parameters["q"], r.conjugates["qhat"]
    v, g, _ = m.value_and_derivatives([q, q, qh, qh, qh], dict(alpha=alpha, p=q, q_ref=q, qhat_ref=qh))
    assert abs(v - r.free_entropy) < 1e-9
    assert np.max(np.abs(g)) < 1e-9


@pytest.mark.parametrize("act", ["sign", "relu"])
def test_spherical_typical_point(act):
    """Spherical weights (tree-committee, K = inf): same identity with the log-det
    entropic term; 1e-9."""
    rs, m = fp_model("tree-committee", WIDE[act])
    r = solve_saddle(rs, {"alpha": 1.0})
    assert r.success
    q, qh = r.order_parameters["q"], r.conjugates["qhat"]
    v, g, _ = m.value_and_derivatives([q, q], dict(alpha=1.0, p=q, q_ref=q, qhat_ref=qh))
    assert abs(v - r.free_entropy) < 1e-9
    assert np.max(np.abs(g)) < 1e-9


def _nested_quad_energetic(act, q1, t, qr, p):
    """E_z [∫_{x>x0} Dx E_y ln H(-m/√(1-Q1))] / H(x0) with every overlap mapped by the
    hand-written Q: nested scipy quad (independent of the SymPy tree and of codegen)."""
    Q1, Qt, Qr, Qp = (_Q(act, v) for v in (q1, t, qr, p))
    res = math.sqrt(Q1 - Qt**2 / Qr - (Qp - Qt)**2 / (1 - Qr))
    sq, sq1, sv = math.sqrt(Qr), math.sqrt(1 - Qr), math.sqrt(1 - Q1)

    def G(u):
        return math.exp(-u * u / 2) / math.sqrt(2 * math.pi)

    def over_y(z, x):
        a = Qt / sq * z + (Qp - Qt) / sq1 * x
        return scipy.integrate.quad(lambda y: G(y) * scipy.special.log_ndtr((a + res * y) / sv),
                                    -10, 10, epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    def over_x(z):
        x0 = -sq * z / sq1
        v = scipy.integrate.quad(lambda x: G(x) * over_y(z, x), x0, max(x0, 0) + 12,
                                 epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        return v / scipy.special.ndtr(-x0)

    return scipy.integrate.quad(lambda z: G(z) * over_x(z), -10, 10,
                                epsabs=1e-11, epsrel=1e-11, limit=200)[0]


@pytest.mark.parametrize("act", ["sign", "relu"])
def test_energetic_term_against_nested_quad(act):
    """The compiled energetic term (opaque KernelOverlap nodes printed as the kernel)
    against nested scipy quad of the hand-written integrand with Q-mapped overlaps, at a
    generic point with t < p < q1 and t, p ≠ q̃. 1e-8: the quad tolerances (1e-11 to
    1e-13 per level; the measured difference is ~1e-10)."""
    _, m = fp_model("binary-tree-committee", WIDE[act])
    fe = m.free_energy
    syms = list(fe.variables) + list(fe.controls)
    q1, t, qr, p, alpha = 0.6, 0.3, 0.4, 0.5, 1.0
    vals = [q1, t, 1.0, 0.5, 0.5, alpha, p, qr, 1.0]
    ours = float(compile_expression(fe.term("energetic").expr, syms)(*vals))
    ref = _nested_quad_energetic(act, q1, t, qr, p)
    assert abs(ours - alpha * ref) < 1e-8


def test_kernel_overlap_node_numpy_vs_mpmath():
    """KernelOverlap (value, first and second derivative) inside a Gaussian average,
    printed by the NumPy and the mpmath back ends, at 30 digits: 1e-12 (the NumPy
    Gauss–Hermite rule on an analytic integrand)."""
    import sympy as sp

    from replica.averages import GaussianAverage
    from replica.committee import KernelOverlap
    from replica.functions import LogH
    q, z = sp.Symbol("q", real=True), sp.Symbol("z", real=True)
    for k in (0, 1):
        e = (GaussianAverage(LogH(-sp.sqrt(KernelOverlap(q, k, 0)) * z
                                  / sp.sqrt(1 - KernelOverlap(q, k, 0))), z)
             + KernelOverlap(q, k, 1) + KernelOverlap(q, k, 2))
        num = float(compile_expression(e, [q])(0.37))
        with mpmath.workdps(30):
            mp = _eval_mp(_load(_build([e], [q], "mpmath"), "mpmath"), [mpmath.mpf("0.37")])[0]
        assert abs(num - float(mp)) < 1e-12


def test_relu_typical_solutions_are_less_isolated_than_sign():
    """Binary weights, K = ∞, α = 0.5 (below both RS capacities: sign 0.9470, ReLU
    0.9040 from solvers.capacity): at small distance the local entropy around typical
    ReLU solutions is higher than around typical sign solutions (BMZ 2019: ReLU
    solutions sit in wider minima). Numbers of this code (RS, K = ∞), regression
    tolerance 1e-6 (quadrature and Newton tolerances are far below):
    sign S(0.01) = -0.065790, S(0.05) = 0.016527; ReLU S(0.01) = 0.002968, S(0.05) = 0.080934.
    Typical sign solutions are isolated at d = 0.01 (S < 0), ReLU ones not (yet)."""
    ds = [0.01, 0.05]
    c = {a: local_entropy("binary-tree-committee", {"alpha": 0.5}, reference="typical",
                          distances=ds, options=WIDE[a]) for a in ("sign", "relu")}
    for a in c:
        assert c[a].success, c[a].message
        assert all(s < b for s, b in zip(c[a].local_entropy, c[a].alpha0_bound))
    assert np.allclose(c["sign"].local_entropy, [-0.065790, 0.016527], atol=1e-6)
    assert np.allclose(c["relu"].local_entropy, [0.002968, 0.080934], atol=1e-6)
    assert all(r > s for r, s in zip(c["relu"].local_entropy, c["sign"].local_entropy))
    assert c["sign"].isolation_distance == 0.01 and c["relu"].isolation_distance is None
    assert c["relu"].model == "binary-tree-committee[K=inf,activation=relu]"


@pytest.mark.slow
def test_relu_typical_solutions_are_isolated_too():
    """Closer in, ReLU typical solutions are isolated as well (α = 0.5): S(0.003) =
    -0.00904 < 0 (zero crossing between d = 0.003 and 0.01), while sign has S(0.003) =
    -0.07295; 1e-5."""
    c = local_entropy("binary-tree-committee", {"alpha": 0.5}, reference="typical",
                      distances=[0.003], options=WIDE["relu"])
    assert c.success, c.message
    assert abs(c.local_entropy[0] - (-0.00904)) < 1e-5


def test_bad_committee_inputs():
    """Clear errors naming the parameter: ReLU units at K >= 5, margin references of the
    margin-0 families, dense references at finite K, a kappa control, a family without its
    options."""
    cases = [
        (dict(options={"K": 5, "activation": "relu"}), "typical", {"alpha": 0.5}, "K"),
        (dict(options=WIDE["relu"]), "margin=0.3", {"alpha": 0.5}, "reference"),
        # dense references exist at K = inf only (tests/test_committee_dense.py)
        (dict(options={"K": 3, "activation": "sign"}), "dense:y=10", {"alpha": 0.5}, "K"),
        (dict(options=WIDE["sign"]), "typical", {"alpha": 0.5, "kappa": 0.0}, "kappa"),
        (dict(), "typical", {"alpha": 0.5}, "K"),
        (dict(options={"K": "inf", "activation": "tanh"}), "typical", {"alpha": 0.5}, "activation"),
    ]
    for kw, ref, ctl, param in cases:
        with pytest.raises(ParameterError) as e:
            local_entropy("binary-tree-committee", ctl, reference=ref, distances=[0.1], **kw)
        assert e.value.parameter == param, (kw, ref, ctl, str(e.value))
    with pytest.raises(ParameterError) as e:
        local_entropy("binary-perceptron", {"alpha": 0.5, "kappa": 0.0}, reference="typical",
                      distances=[0.1], options={"K": 3})
    assert e.value.parameter == "K"


def test_perceptron_expressions_unchanged():
    """The output-overlap map is the identity for perceptron channels: the FP energetic
    term is, symbol for symbol, the perceptron formula written out here."""
    import sympy as sp

    from replica import BinaryPrior, MarginChannel, franz_parisi
    from replica.averages import GaussianAverage
    from replica.franz_parisi import reference_average
    ch, ref = MarginChannel(), MarginChannel("kappa_ref")
    fe = franz_parisi(BinaryPrior(), ch, ref, "fp")
    S = {s.name: s for s in fe.variables + fe.controls}
    q1, t, p, qr, al = S["q1"], S["t"], S["p"], S["q_ref"], S["alpha"]
    from replica.symbols import GaussVar
    z, x, y = (GaussVar(n) for n in ("z", "x", "y"))
    m = (t / sp.sqrt(qr) * z + (p - t) / sp.sqrt(1 - qr) * x
         + sp.sqrt(q1 - t**2 / qr - (p - t)**2 / (1 - qr)) * y)
    lz = ch.log_partition(m, 1 - q1)
    expected = al * GaussianAverage(reference_average(ref, GaussianAverage(lz, y), x,
                                                      sp.sqrt(qr) * z, 1 - qr), z)
    assert fe.term("energetic").expr == expected


def test_cli_committee_local_entropy_json():
    p = subprocess.run([sys.executable, "-m", "solvers.cli", "local-entropy", "binary-tree-committee",
                        "--set", "K=inf", "--set", "activation=relu", "--set", "alpha=0.5",
                        "--reference", "typical", "--distances", "0.05:0.3:3", "--json"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["status"] == ["converged"] * 3
    assert d["model"] == "binary-tree-committee[K=inf,activation=relu]"
    assert abs(d["local_entropy"][0] - 0.080934) < 1e-6
    bad = subprocess.run([sys.executable, "-m", "solvers.cli", "local-entropy", "binary-tree-committee",
                          "--set", "K=5", "--set", "activation=relu", "--set", "alpha=0.5",
                          "--reference", "typical", "--distances", "0.05:0.3:3"],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "K = inf" in bad.stderr


def test_committee_local_entropy_figure_quick(tmp_path):
    """Quick mode of figures/committee_local_entropy.py (α = 0.5, three distances):
    files written, every point converged, ReLU above sign at d ≤ 0.05."""
    from figures import committee_local_entropy
    out = committee_local_entropy.main(quick=True, outdir=tmp_path)
    assert out["ok"] and out["relu_higher_at_small_d"]
    for key in ("png", "pdf", "data"):
        assert out[key].exists()
    data = json.loads(out["data"].read_text())
    assert data["comparison"]["alpha=0.5"]["distances"] == [0.01, 0.05]


def test_kernel_overlap_node_prints_with_parentheses():
    """Regression: the explicit kernel is a quotient, so a power of the node, Q(t)**2,
    printed without parentheses bound as (...)/(π − 1)**2 (found through the collapsed
    Franz–Parisi form's variance Q(q) − Q(t)²/Q(q), which read 0.060 at q = t = 0.6
    instead of 0). Compiled against SymPy's own evaluation at 20 digits; 1e-12."""
    import sympy as sp
    from replica.committee import KernelOverlap
    from solvers.codegen import compile_expression
    q, t = sp.symbols("q t", real=True)
    for k in (0, 1):
        for n in (0, 1, 2):
            e = (KernelOverlap(q, k, n) - KernelOverlap(t, k, n)**2 / KernelOverlap(q, k, n)
                 + 1 / KernelOverlap(t, k, n)**3)
            got = float(compile_expression(e, [q, t])(0.6, 0.3))
            assert abs(got - float(e.subs({q: 0.6, t: 0.3}).evalf(20))) < 1e-12


# ------------------------------------------------------------------ output margin (K = inf)
def test_margin_family_spherical_relu_capacity_is_the_mapped_gardner_value():
    """Spherical K → ∞ ReLU committee with output margin κ: 1 − Q ≃ Q'(1)(1 − q) with
    Q'(1) = π/(π − 1), so α_c = Q'(1) α_G(κ), α_G(κ) = 1/∫_{-∞}^κ Dz (κ − z)² (Gardner
    1988 at the output; replica.committee.WideCommitteeChannel). α_G by scipy quad
    here (an independent route); both sides to ~1e-12, tolerance 1e-9."""
    from scipy.stats import norm
    from replica import get_model
    from solvers import capacity
    fe = get_model("tree-committee-margin", **WIDE["relu"])
    for kappa in (-0.5, 0.0, 0.5):
        r = capacity(fe, {"kappa": kappa})
        a_g = 1 / scipy.integrate.quad(lambda z: norm.pdf(z) * (kappa - z) ** 2, -np.inf, kappa,
                                       epsabs=1e-14, epsrel=1e-13)[0]
        assert r.success
        assert abs(r.alpha_c - math.pi / (math.pi - 1) * a_g) < 1e-9 * a_g


@pytest.mark.parametrize("act", ["sign", "relu"])
def test_margin_family_at_kappa_zero_is_the_margin_zero_family(act):
    """κ = 0 in the -margin family is the margin-0 model: binary capacity (and, in the
    slow test below, the FP curve around typical solutions) agree (same functional, different symbolic route:
    LogH((κ - ω)/√V) at κ = 0 vs LogH(-ω/√V)); both solved to the solver tolerance,
    agreement 1e-9 expected, tolerance 1e-8."""
    from replica import get_model
    from solvers import capacity
    a0 = capacity(get_model("binary-tree-committee", **WIDE[act]), {}).alpha_c
    a1 = capacity(get_model("binary-tree-committee-margin", **WIDE[act]), {"kappa": 0.0}).alpha_c
    assert abs(a0 - a1) < 1e-8


@pytest.mark.slow
@pytest.mark.parametrize("act", ["sign", "relu"])
def test_margin_family_fp_at_kappa_zero_is_the_margin_zero_family(act):
    """As above for the FP curve around typical solutions (two FP compilations: slow)."""
    c0 = local_entropy("binary-tree-committee", {"alpha": 0.5}, reference="typical",
                       distances=[0.01], options=WIDE[act])
    c1 = local_entropy("binary-tree-committee-margin", {"alpha": 0.5, "kappa": 0.0},
                       reference="typical", distances=[0.01], options=WIDE[act])
    assert c0.success and c1.success
    assert abs(c0.local_entropy[0] - c1.local_entropy[0]) < 1e-8
    assert c1.model == f"binary-tree-committee-margin[K=inf,activation={act}]"


@pytest.mark.parametrize("act", ["sign", "relu"])
def test_committee_high_margin_references_are_denser(act):
    """The 'Unveiling' ordering for K → ∞ committees (Baldassi et al., PRL 127, 278301
    (2021), shown there for perceptrons): at α = 0.5, κ = 0, the local entropy at
    d = 0.003 and 0.01 around references of margin κ̃ grows with κ̃ (0 = typical, 0.2,
    0.4), and stays below the α = 0 bound. Measured gaps between neighbours ≥ 2e-3,
    far above the solver tolerance."""
    S = []
    for ref in ("typical", "margin=0.2", "margin=0.4"):
        c = local_entropy("binary-tree-committee-margin", {"alpha": 0.5, "kappa": 0.0},
                          reference=ref, distances=[0.003, 0.01], options=WIDE[act])
        assert c.success, c.message
        assert all(s < b for s, b in zip(c.local_entropy, c.alpha0_bound))
        S.append(c.local_entropy)
    for i in range(2):
        assert S[0][i] + 1e-3 < S[1][i] and S[1][i] + 1e-3 < S[2][i]


def test_margin_family_inputs():
    from replica import get_model
    # finite K: odd K >= 3 sign units and K >= 2 ReLU units have the margin (count threshold,
    # test_committee.py; shifted contour, test_committee_relu_margin.py); K = 1 (output ±1) not
    with pytest.raises(ValueError, match="^K: the output margin"):
        get_model("binary-tree-committee-margin", K=1, activation="sign")
    # the finite-K FP term assumes the margin-0 threshold: a ParameterError naming K
    for act in ("sign", "relu"):
        with pytest.raises(ParameterError) as e:
            local_entropy("binary-tree-committee-margin", {"alpha": 0.5, "kappa": 0.3},
                          reference="typical", distances=[0.01], options={"K": 3, "activation": act})
        assert e.value.parameter == "K"
    with pytest.raises(ParameterError) as e:
        local_entropy("binary-tree-committee-margin", {"alpha": 0.5, "kappa": 0.0},
                      reference="dense:y=10", distances=[0.01], options=WIDE["sign"])
    assert e.value.parameter == "reference"
    with pytest.raises(ParameterError) as e:  # kappa is required (no silent default)
        local_entropy("binary-tree-committee-margin", {"alpha": 0.5}, reference="typical",
                      distances=[0.01], options=WIDE["sign"])
    assert e.value.parameter == "kappa"


def test_cli_margin_committee_capacity_json():
    out = subprocess.run([sys.executable, "-m", "solvers.cli", "capacity",
                          "binary-tree-committee-margin", "--set", "K=inf", "--set", "activation=relu",
                          "--set", "kappa=0", "--json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert abs(d["alpha_c"] - 0.9039862813) < 1e-8  # = the margin-0 family's value
