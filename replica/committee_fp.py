r"""Franz–Parisi energetic term of the finite-K sign tree committee (K odd ≥ 3), around
typical references (the committee's own equilibrium solutions, output margin 0).

Derived here (the replica structure is the one of :mod:`replica.franz_parisi`, Franz &
Parisi, J. Phys. I 5, 1401 (1995); the committee architecture is Barkai, Hansel &
Sompolinsky, PRA 45, 4146 (1992), "BHS 1992", see :mod:`replica.committee`). In the
tree committee the hidden fields of branch l over all replicas a (references and
constrained ones) are jointly Gaussian with covariance the overlap matrix of that
branch, independently across branches, and RS puts the same overlaps on every branch.
So, per branch l, with the Franz–Parisi overlaps (q̃ between references, p between a
constrained replica and its reference, t with another reference, q1 between two
constrained replicas around the same reference), the fields are

.. math::
   \tilde\lambda_l = \sqrt{\tilde q}\,z_l + \sqrt{1-\tilde q}\,x_l,\qquad
   \lambda_l = m_l + \sqrt{1-q_1}\,\eta_l,\qquad
   m_l = a z_l + b x_l + c y_l,

:math:`a = t/\sqrt{\tilde q}`, :math:`b = (p-t)/\sqrt{1-\tilde q}`,
:math:`c = \sqrt{q_1 - t^2/\tilde q - (p-t)^2/(1-\tilde q)}` (z_l shared by all
replicas, x_l by a reference and its constrained replicas, y_l by the constrained
replicas, η_l private; check: Var λ = 1, Cov(λ, λ̃) = p, Cov(λ, λ') = q1, and t
with another reference). The perceptron's channel average becomes, per pattern,

.. math::
   G_K(\tilde q, p, t, q_1) = \mathbb{E}_z\,\frac{1}{\tilde Z(z)}\,
      \mathbb{E}_x\Big[\mathbf 1\{\#\{l:\tilde\lambda_l>0\}\ge m\}\;
      \mathbb{E}_y\ln P_\eta\big(\#\{l:\lambda_l>0\}\ge m\big)\Big],\quad
   \tilde Z(z) = P_x\big(\#\{l:\tilde\lambda_l>0\}\ge m\big),

m = (K+1)/2: the reference is a solution (its majority is positive; the 1/Z̃ is the
reference's own normalisation, quenched over z as in the perceptron formula), and
the constrained replica's log-partition function is the log-probability that its
majority is positive given its cavity means m_l. The free entropy is

.. math:: \Phi_{FP} = [\text{coupling} + \text{entropic}]_{\text{perceptron}} + \alpha\,G_K,

with the entropic part per weight the perceptron's (every branch has N/K weights and
the same overlaps; BHS 1992 eq. (2.9) for RS). K = 1 is the perceptron's formula at
κ = 0 (then :meth:`replica.committee.TreeCommitteeChannel.fp_energetic` returns None
and :func:`replica.franz_parisi.franz_parisi` takes the perceptron path).

Exact checks (tests/test_committee_fp_finite.py): at the typical point p = t = q1 = q̃
(b = c = 0, so m_l = √q̃ z_l) the weights sum to one and G_K = E_z ln Z_K(q̃; z), the
RS energetic term, and the point is stationary (the overlap matrix has the RS
structure); at α = 0 the FP entropy is the log-volume at fixed overlap.

Observed (binary weights, α = 0.5, typical references; solvers.committee_fp for the
accuracy): S(d) decreases with K at every distance toward the K → ∞ curve of
:mod:`replica.franz_parisi`, roughly like 1/K — S(0.05) = 0.0649, 0.0495, 0.0402, 0.0165
and S(0.02) = 0.0108, −0.0029, −0.0123, −0.0463 at K = 3, 5, 7, ∞ (S_K − S_∞ ≈ 0.165/K
at d = 0.05 for K = 5, 7). So the typical solutions are isolated (S < 0 at small d,
Huang & Kabashima's criterion) from K = 5 on at this load, while at K = 3 S(0.02) is
still positive; S(0.02) at K = 3 sits 1e-2 above zero, ~200× the stated error, but
smaller d were not computed, so this is not a statement about K = 3 at d → 0.

The average is the opaque node :class:`SignCommitteeFPLogZ`, evaluated by
:mod:`solvers.committee_fp` (quasi-Monte Carlo with the reference's sign patterns
summed exactly; derivatives of one fixed estimator).

ReLU units (K ≥ 2; :class:`ReluCommitteeFPLogZ`). The fields are the same; the
reference with label y is a solution iff y D(λ̃) > 0, D(λ) = Σ_l c_l relu(λ_l) with the
readout of :class:`replica.committee.ReluCommitteeLogZ` (c_l = +1 on ⌈K/2⌉ units, −1 on
the rest), and odd K averages the two labels (even K has one, by symmetry):

.. math::
   G_K = \tfrac12\sum_{y}\mathbb{E}_z\,\frac{1}{\tilde Z_y(z)}\,
      \mathbb{E}_x\Big[\mathbf 1\{y D(\tilde\lambda)>0\}\;
      \mathbb{E}_{y'}\ln P_\eta\big(y D(\lambda)>0\big)\Big],\quad
   \tilde Z_y(z) = P_x\big(y D(\tilde\lambda)>0\big),

the RS node's label average (:class:`~replica.committee.ReluCommitteeLogZ`) being its
typical-point value. The same exact checks hold (typical point = RS term and stationary;
α = 0 the log-volume). :mod:`solvers.committee_fp` evaluates it for 2 ≤ K ≤ 4 with exact
draws of the reference fields (:mod:`solvers.relu_reference`; the plain weight 1/Z̃
under Gaussian x has an infinite second moment for q̃ ≳ 1/2).

Observed (binary weights, α = 0.5, typical references; accuracy in
solvers.committee_fp): K = 3 ReLU gives S(d) = −0.0043, 0.0366, 0.0941, 0.1649 at
d = 0.02, 0.05, 0.1, 0.2 (±2e-4), below the sign K = 3 curve (0.0108, 0.0649, 0.1421,
0.2520) and the ReLU K = ∞ curve (0.0234, 0.0809, 0.1587, 0.2633) at every distance; its
RS entropy is also much lower (0.1844 against 0.3316 and 0.3301: at finite K an all-off
ReLU committee (D = 0) is a solution for neither label, probability 1/8 per pattern at
q = 0, K = 3) and its typical distance smaller (0.289 against 0.391 and 0.380). So at
equal α these finite-K ReLU typical solutions are not in wider minima than the sign
ones; Baldassi, Malatesta & Zecchina (PRL 123, 170602, 2019) compare ReLU and sign at
K → ∞, which this curve does not contradict. At equal *fraction* of the capacity the
order flips: at α = α_c/2 (binary α_c = 0.9206 sign, 0.6440 ReLU, so α = 0.4603 and
0.3220) S(0.02, 0.05, 0.1, 0.2) = 0.0187, 0.0769, 0.1586, 0.2743 (sign) against 0.0423,
0.1097, 0.1976, 0.3137 (ReLU), RS entropies 0.361 and 0.382: the ReLU solutions are in
wider regions, as BMZ find. K = 4 (one label, two units per side):
S(0.05) = 0.0681, S(0.2) = 0.2365, RS entropy 0.2900, typical distance 0.359 — above the
K = 3 ReLU and sign curves at these distances, below K = ∞ ReLU.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["SignCommitteeFPLogZ", "ReluCommitteeFPLogZ", "sign_committee_fp_energetic",
           "relu_committee_fp_energetic"]

_SRC = ("Franz & Parisi, J. Phys. I 5, 1401 (1995); Barkai, Hansel & Sompolinsky, PRA 45, "
        "4146 (1992); finite-K committee FP term derived in replica.committee_fp")


class SignCommitteeFPLogZ(sp.Function):
    r"""Derivative of order (i, j, k, l) in (q̃, p, t, q1) of :math:`G_K(\tilde q, p, t,
    q_1)` (module docstring), the finite-K sign committee's Franz–Parisi energetic
    average around typical references.

    Arguments ``(q_ref, p, t, q1, K, i, j, k, l)``: four overlaps, then K (odd ≥ 3) and
    the derivative orders (non-negative integers). ``fdiff`` with respect to the n-th
    overlap raises the n-th order, so the saddle-point equations and the Hessian are
    derived by the ordinary symbolic machinery; :mod:`solvers.codegen` prints the node
    as a call of :func:`solvers.committee_fp.sign_fp_logz` (total order ≤ 2).

    >>> import sympy as sp
    >>> qr, p, t, q1 = sp.symbols("q_ref p t q1")
    >>> e = SignCommitteeFPLogZ(qr, p, t, q1, 3, 0, 0, 0, 0)
    >>> sp.diff(e, q1, t)
    SignCommitteeFPLogZ(q_ref, p, t, q1, 3, 0, 0, 1, 1)
    """

    nargs = 9
    is_real = True

    @classmethod
    def eval(cls, qr, p, t, q1, K, i, j, k, l):
        for name, v in (("K", K), ("i", i), ("j", j), ("k", k), ("l", l)):
            if not (v.is_Integer and v >= 0):
                raise ValueError(f"{cls.__name__}: {name} must be a non-negative integer, got {v}")
        cls._check_k(K)
        return None

    @classmethod
    def _check_k(cls, K):
        if K < 3 or K % 2 == 0:
            raise ValueError(f"SignCommitteeFPLogZ: K must be odd and ≥ 3 (K = 1 is the perceptron), got {K}")

    def fdiff(self, argindex=1):
        if not 1 <= argindex <= 4:
            raise sp.ArgumentIndexError(self, argindex)
        args = list(self.args)
        args[4 + argindex] += 1
        return type(self)(*args)

    def _latex(self, printer, exp=None):
        qr, p, t, q1, K, i, j, k, l = self.args
        body = r"G_{%s}(%s)" % (printer._print(K), ", ".join(printer._print(a) for a in (qr, p, t, q1)))
        orders = [(a, n) for a, n in zip((qr, p, t, q1), (i, j, k, l)) if n]
        if orders:
            body = "".join(r"\partial_{%s}^{%s}" % (printer._print(a), n) for a, n in orders) + body
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class ReluCommitteeFPLogZ(SignCommitteeFPLogZ):
    r"""Derivative of order (i, j, k, l) in (q̃, p, t, q1) of the finite-K ReLU
    committee's Franz–Parisi energetic average (module docstring, "ReLU units"):
    :math:`G_K = \tfrac12\sum_y\mathbb{E}_z\,\tilde Z_y(z)^{-1}\,\mathbb{E}_x[\mathbf 1
    \{yD(\tilde\lambda)>0\}\,\mathbb{E}_{y'}\ln P_\eta(yD(\lambda)>0)]` (one label for
    even K). Arguments as :class:`SignCommitteeFPLogZ`, K ≥ 2; printed as a call of
    :func:`solvers.committee_fp.relu_fp_logz`.

    >>> import sympy as sp
    >>> qr, p, t, q1 = sp.symbols("q_ref p t q1")
    >>> sp.diff(ReluCommitteeFPLogZ(qr, p, t, q1, 2, 0, 0, 0, 0), p)
    ReluCommitteeFPLogZ(q_ref, p, t, q1, 2, 0, 1, 0, 0)
    """

    @classmethod
    def _check_k(cls, K):
        if K < 2:
            raise ValueError(f"ReluCommitteeFPLogZ: K must be ≥ 2 (K = 1 is the perceptron), got {K}")

    def _latex(self, printer, exp=None):
        body = super()._latex(printer)
        body = body.replace("G_{", r"G^{\mathrm{relu}}_{", 1)
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


def relu_committee_fp_energetic(K, q_ref, p, t, q1, alpha):
    """α·G_K of the finite-K ReLU committee (module docstring, "ReLU units")."""
    return alpha * ReluCommitteeFPLogZ(q_ref, p, t, q1, K, 0, 0, 0, 0)


def sign_committee_fp_energetic(K, q_ref, p, t, q1, alpha):
    """α·G_K as a SymPy expression (the energetic term of the finite-K sign committee's
    Franz–Parisi free entropy; module docstring)."""
    return alpha * SignCommitteeFPLogZ(q_ref, p, t, q1, K, 0, 0, 0, 0)
