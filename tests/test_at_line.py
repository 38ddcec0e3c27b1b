"""The de Almeida–Thouless line (solvers.diagrams.alpha_at): the load where the RS
replicon vanishes, for perceptrons and tree committees, each checked against a route
that does not use the compiled model (scipy quad of the RS equations), the literature
where a value is quoted, and the committee values of tests/test_committee.py."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import log_ndtr

from replica.catalogue import get_model
from solvers.diagrams import alpha_at
from solvers.errors import ParameterError


def _gauss(f):
    """E_z f(z), z standard normal, by scipy quad (independent of the compiled rules)."""
    return quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12,
                epsabs=1e-13, epsrel=1e-12, limit=400)[0]


def _mills(u):
    """R(u) = φ(u)/H(u), H(u) = P(Z > u), in logs (stable for large u)."""
    return math.exp(-u * u / 2 - 0.5 * math.log(2 * math.pi) - float(log_ndtr(-u)))


def _out_terms(q, kappa):
    """E R², E[R²(R − u)²] at ω = √q z: ∂_ω ln H((κ−ω)/√(1−q)) = R/√(1−q) and
    ∂²_ω ln H = −R(R − u)/(1 − q) (Gardner & Derrida, J. Phys. A 21, 271 (1988))."""
    def u(z):
        return (kappa - math.sqrt(q) * z) / math.sqrt(1 - q)
    e1 = _gauss(lambda z: _mills(u(z))**2)
    e2 = _gauss(lambda z: (_mills(u(z)) * (_mills(u(z)) - u(z)))**2)
    return e1, e2


def test_binary_perceptron_at_line():
    """±1 perceptron, κ = 0: RS is AT-unstable above α_AT ≈ 1.015, beyond the capacity
    0.833 (Gardner & Derrida 1988, quoted to 4 digits from memory: medium confidence;
    tolerance 1e-3). Independent route at the toolkit's q_AT: q̂ from q = E tanh²(√q̂ z),
    α = q̂(1 − q)/E R², λ = 1 − α E(1 − tanh²)² E[R²(R−u)²]/(1 − q)², all by scipy quad:
    λ = 0 and α = α_AT to 1e-7 (the compiled Gauss rules agree with quad to ~1e-10; the
    root is refined to 1e-10 in q)."""
    r = alpha_at("binary-perceptron", {"kappa": 0.0})
    assert r.status == "converged" and r.success
    assert abs(r.alpha_at - 1.015) < 1e-3
    q = r.q_at
    qh = brentq(lambda h: _gauss(lambda z: math.tanh(math.sqrt(h) * z)**2) - q, 1e-6, 50, xtol=1e-14)
    e1, e2 = _out_terms(q, 0.0)
    a = qh * (1 - q) / e1
    gin = _gauss(lambda z: (1 - math.tanh(math.sqrt(qh) * z)**2)**2)
    assert abs(a - r.alpha_at) < 1e-7
    assert abs(1 - a * gin * e2 / (1 - q)**2) < 1e-7
    assert abs(r.qhat_at - qh) < 1e-6 * qh


def test_spherical_perceptron_negative_margin_at_line():
    """Spherical perceptron, κ = −0.5 (RS unstable before its capacity for κ < 0):
    q̂ = q/(1 − q)², α = q/((1 − q) E R²), λ = 1 − α E[R²(R−u)²] by scipy quad at the
    toolkit's q_AT: λ = 0 and α = α_AT to 1e-7, and α_AT lies below the RS (Gardner)
    capacity α_G(−0.5) = 1/E[(κ − Z)₊²] (Gardner 1988; quad), as it must for κ < 0. The
    value 3.950701 (q_AT = 0.895923) is also the one of tests/test_scan.py, found there
    along α from a scan dataset (figures.phase_capacity.at_line), a third route (2e-6:
    6 quoted digits)."""
    r = alpha_at("spherical-perceptron", {"kappa": -0.5})
    assert r.status == "converged"
    assert abs(r.alpha_at - 3.950701) < 2e-6 and abs(r.q_at - 0.895923) < 2e-6
    q = r.q_at
    e1, e2 = _out_terms(q, -0.5)
    a = q / ((1 - q) * e1)
    assert abs(a - r.alpha_at) < 1e-7
    assert abs(1 - a * e2) < 1e-7
    a_g = 1 / _gauss(lambda z: max(-0.5 - z, 0.0)**2)
    assert 0 < r.alpha_at < a_g


@pytest.mark.parametrize("K,act,value", [("inf", "sign", 2.98782), ("inf", "relu", 1.72120),
                                          (3, "sign", 1.72981)])
def test_committee_at_lines(K, act, value):
    """Spherical tree committees: the values of tests/test_committee.py, found there by an
    independent root search (K = inf: closed energetic term + wide_gamma_out, 1e-4;
    K = 3: product-grid F' and Hessian, 1e-3 = its QMC error budget); here by the
    generic alpha_at on the compiled models."""
    r = alpha_at(get_model("tree-committee", K=K, activation=act), {})
    assert r.status == "converged"
    assert abs(r.alpha_at - value) < (1e-4 if K == "inf" else 1e-3)


def test_alpha_at_statuses_and_errors():
    """Statuses instead of numbers where the replicon does not cross zero; clear errors
    naming the parameter for bad input."""
    # κ = 0 spherical perceptron: RS (convex problem) stable on the whole branch
    r = alpha_at("spherical-perceptron", {"kappa": 0.0})
    assert r.status == "stable_on_branch" and r.alpha_at is None and not r.success
    assert all(v > 0 for v in r.scan["replicon"])
    with pytest.raises(ParameterError, match="kappa"):
        alpha_at("binary-perceptron", {})
    with pytest.raises(ParameterError, match="controls"):
        alpha_at("binary-perceptron")
    with pytest.raises(ParameterError, match="alpha"):
        alpha_at("binary-perceptron", {"kappa": 0.0, "alpha": 1.0})
    with pytest.raises(ParameterError, match="q_max"):
        alpha_at("binary-perceptron", {"kappa": 0.0}, q_max=1.5)
    with pytest.raises(ParameterError, match="kappa"):
        alpha_at("binary-perceptron", {"kappa": float("nan")})


def test_cli_at_line_json():
    """``replica at-line MODEL --set ... --json``: the same result as the API; a missing
    control is a usage error naming it (exit 2)."""
    import json
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-m", "solvers.cli", "at-line", "binary-perceptron",
                        "--set", "kappa=0", "--json"], capture_output=True, text=True, check=True)
    d = json.loads(p.stdout)
    assert d["status"] == "converged" and abs(d["alpha_at"] - 1.0146536) < 1e-6
    bad = subprocess.run([sys.executable, "-m", "solvers.cli", "at-line", "binary-perceptron"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "kappa" in bad.stderr
