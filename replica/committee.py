r"""Tree committee machines: K hidden units on disjoint receptive fields, as channels.

Architecture (Barkai, Hansel, Sompolinsky, PRA 45, 4146 (1992); Engel et al., PRA 45,
7590 (1992); Baldassi, Malatesta, Zecchina, PRL 123, 170602 (2019), arXiv 1907.07578,
"BMZ 2019"). The N weights are split into K branches of N/K; branch l sees its own
N/K inputs and has the hidden field :math:`\lambda_l = \sqrt{K/N}\, w_l\cdot\xi_l`
(|w_l|² = N/K, so λ_l is a unit-variance Gaussian under random patterns). A pattern is
stored when the output is positive:

* ``activation="sign"``: :math:`\mathrm{sign}\sum_l \mathrm{sign}(\lambda_l) > 0`, K odd
  (majority vote; BHS 1992);
* ``activation="relu"``: :math:`\mathrm{sign}\sum_l c_l\,\max(0,\lambda_l) = y` with
  fixed second-layer weights :math:`c_l = +1` for half of the units and −1 for the
  other half, K even. For odd K ≥ 3 (our extension, so that e.g. K = 3 is defined)
  ⌈K/2⌉ units are read with +1 and the rest with −1, and since the two labels y = ±1
  are then not equivalent the energetic term is their average. This is our reading
  of BMZ 2019 (memory, medium confidence):
  we could reach only the abstract of arXiv 1907.07578 (search of 2026-11-25), which
  confirms the tree architecture with K groups, binary or continuous weights, and a
  finite capacity as K → ∞, but not the readout convention. With all c_l = +1 and no
  threshold the output could never be negative, which is why the readout is balanced.

The margin on the output is 0 in the ``tree-committee`` / ``binary-tree-committee``
families (no ``kappa`` control). The ``*-tree-committee-margin`` families add a margin
control ``kappa`` on the normalised output. K → ∞: :class:`WideCommitteeChannel`.
Finite K, sign units (odd K ≥ 3): the normalised output is :math:`(2j-K)/\sqrt K`, j the
number of positive hidden units (its K → ∞ limit is the Gaussian output of the K = inf
margin channel), so the margin condition :math:`(2j-K)/\sqrt K > \kappa` is the count
threshold :math:`j \ge m(\kappa) = \lfloor (K+\kappa\sqrt K)/2\rfloor + 1` (κ = 0: the
majority (K+1)/2); :class:`SignCommitteeLogZ` and its companions take κ as an optional
last argument. m(κ) is piecewise constant, so at finite K every quantity, e.g. α_c(κ),
is a staircase in κ, which approaches the K = inf curve as K grows. κ < −√K (m ≤ 0:
every output satisfies it) and κ ≥ √K (m > K: none does) are errors naming kappa.
K = 1 has output ±1, whose margin is not the perceptron's field margin: the margin
families need odd K ≥ 3 (or inf); the perceptron's field margin is the
``binary-perceptron`` / ``spherical-perceptron`` models. Finite K ≥ 2, ReLU units: the
margin is on the same normalised output as at K = inf,
:math:`y\sum_l c_l\max(0,\lambda_l)/\sigma_K > \kappa`,
:math:`\sigma_K = \sqrt{K(1/2-1/(2\pi))}`, any real κ (:class:`ReluCommitteeLogZ` with
the shifted threshold; derivation in :mod:`solvers.committee`, section "ReLU committee
with an output margin"). With odd K the readout mean :math:`\sum_l c_l\,\mathbb{E}
\max(0,\lambda_l) = 1/\sqrt{2\pi}` is not subtracted (O(1) against σ_K ∝ √K, so the
convention tends to the K = inf one). The raw output is exactly 0 with positive
probability (all units off), so every quantity jumps at κ = 0: κ = 0 is the strict
inequality of the margin-0 families, κ → 0− also counts the output 0 (spherical K = 2:
α_c = 4/3 at κ = 0, 3.809 at κ = 0−); the jump fades as K grows. Spherical
α_c(κ) = 1/E C_κ (:class:`ReluCommitteeMinCost`): K = 2, 4, 6 against the K = inf
Q'(1)α_G(κ): 7.743, 7.133, 7.042 against 6.997 (κ = −0.5); 0.8060, 1.2183, 1.3188
against 1.4100 (κ = 0.5); 0.5133, 0.6568, 0.6921 against 0.7622 (κ = 1): from below
for κ ≥ 0, from above at κ < 0 (the counted zero output), not monotone in K at odd K
(K = 3: 6.092, 0.8944, 0.5332). Binary weights, K = 3, κ = 0.3: entropy-zero
α_c = 0.4802 (κ = 0: 0.6440), RS-stable (replicon 0.345).

Replica-symmetric free entropy (overlap q equal on all branches, α = P/N):

.. math::
    \Phi = \tfrac12 q\hat q + c(\hat q) + \mathbb{E}_z\ln Z_{\mathrm{in}}(\sqrt{\hat q}z)
         + \alpha\,\mathbb{E}_{z_1..z_K}\ln \mathcal Z_K(q; z),\qquad
    \mathcal Z_K = P_x\!\left[\mathrm{out}\big(\sqrt q z_l + \sqrt{1-q}\,x_l\big) > 0\right]

(the entropic part per weight is the perceptron's, since every branch contributes its
share N/K of the weights; BHS 1992 eq. (2.9)). Three regimes, one pipeline:

* **K = 1** (sign): the channel is the ordinary margin channel at κ = 0, through the
  ordinary 1-D quadrature: the model *is* the perceptron.
* **finite K ≥ 3** (sign): the K-dimensional average is the unevaluated node
  :class:`SignCommitteeLogZ` (value and q-derivatives; see its docstring), evaluated by
  one numerical routine (:mod:`solvers.committee`). Its q → 1 limit is derived here
  (:class:`SignCommitteeMinCost`): :math:`\ln\mathcal Z_K \simeq -C(z)/(2(1-q))` with
  C(z) the smallest squared distance from z to the region of positive output, i.e.
  the sum of the (K+1)/2 smallest :math:`(z_l^-)^2`; hence (spherical weights)
  :math:`\alpha_c^{RS} = 1/\mathbb{E}\,C`, a one-dimensional integral over order
  statistics (BHS 1992 sec. III give the same Gardner-type limit).
* **K → ∞** (``K=inf``): the output pre-activation :math:`K^{-1/2}\sum_l c_l g(\lambda_l)`
  becomes Gaussian (CLT), and two replicas' outputs have correlation
  :math:`Q(q) = [k(q)-\mu^2]/[k(1)-\mu^2]` with the activation kernel
  :math:`k(q) = \mathbb{E}\,g(\lambda)g(\lambda')`, corr(λ, λ') = q, μ = E g (the mean
  cancels in the balanced readout). Sign: :math:`Q = \tfrac{2}{\pi}\arcsin q`;
  ReLU (degree-1 arc-cosine kernel, Cho & Saul 2009):
  :math:`k(q) = [\sqrt{1-q^2} + q(\pi-\arccos q)]/(2\pi)`, μ² = 1/(2π), k(1) = 1/2, so
  :math:`Q(q) = [\sqrt{1-q^2} + q(\pi - \arccos q) - 1]/(\pi-1)`. The energetic term is
  the perceptron's with q → Q(q):
  :math:`\alpha\,\mathbb{E}_z\ln H\!\left(-\sqrt{Q}z/\sqrt{1-Q}\right)` (BHS 1992 sec. IV
  for sign units). For ReLU, 1 − Q ≃ Q'(1)(1−q) with Q'(1) = π/(π−1), so the spherical
  RS capacity is 2Q'(1) = 2π/(π−1) ≈ 2.9339 (finite, as BMZ 2019 state); for sign,
  1 − Q ∝ √(1−q) and the RS capacity diverges (BHS 1992).

The de Almeida–Thouless replicon of the K → ∞ models is the perceptron's with the
channel factor :math:`\gamma_{out} = Q'^2\,\mathbb{E}(\partial^2_\omega\ln Z)^2
+ Q''\,\mathbb{E}(\partial_\omega\ln Z)^2` (derived here: the energetic functional
depends on the overlap matrix only through :math:`Q(q_{ab})` elementwise, whose
second-order chain rule adds the diagonal :math:`Q''\,\partial G/\partial Q_{ab}`).
Finite-K ReLU: :class:`ReluCommitteeLogZ` is evaluated at finite q (the sum of the
rectified fields of each readout group given z, by a Bromwich contour integral per QMC
point; :mod:`solvers.committee`), so ``solve``, the binary capacity (entropy zero) and
the finite-q check of the spherical capacity work as for sign units. Its q → 1 limit
is :class:`ReluCommitteeMinCost` (a water-filling quadratic programme per point, QMC
over z); K = 2 gives exactly α_c = 4/3.

Franz–Parisi (local entropy) at K → ∞: :class:`WideCommitteeChannel` provides the
output-overlap map ``output_overlap`` = Q and the margin-0 reference measure
``posterior``, so :func:`replica.franz_parisi.franz_parisi` builds the committee's FP
free entropy with every output overlap mapped (q̃, q_1, t, p → Q(·)) and the bare
overlaps in the entropic term (derivation in that module's docstring). Finite K, sign
units: :meth:`TreeCommitteeChannel.fp_energetic` gives the K-field FP average
(:mod:`replica.committee_fp`); finite-K ReLU units (K ≥ 2) likewise, with the
label-averaged ReLU event (evaluated for K ≤ 4).

Finite K ≥ 3, sign units: the replicon's channel factor is the opaque node
:class:`SignCommitteeReplicon` (derivation in its docstring),
:math:`\gamma_{out} = \mathbb{E}_z\|\nabla^2_\omega\ln\mathcal Z_K\|_F^2 = K[A + (K-1)B]`.
For spherical weights it diverges faster than :math:`(1-q)^{-2}` as q → 1, so the RS
solution is AT-unstable before its q → 1 capacity (BHS 1992 find RS unstable near
capacity for K ≥ 2): the RS capacities here are upper estimates, not the true capacity.
Finite-K ReLU: :class:`ReluCommitteeReplicon`, :math:`\gamma_{out} = K\mu_{max}(M)`
with :math:`M_{lm} = \mathbb{E}(\partial_{\omega_l}\partial_{\omega_m}\ln\mathcal Z)^2`,
whose units are equivalent only within a readout group (a 2 × 2 problem; its docstring).
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage
from .components import Channel, LossChannel, MarginChannel, margin_control
from .functions import H, LogH

__all__ = ["ACTIVATIONS", "kernel_overlap", "KernelOverlap", "SignCommitteeLogZ", "SignCommitteeMinCost",
           "ReluCommitteeLogZ", "ReluCommitteeMinCost", "SignCommitteeReplicon", "ReluCommitteeReplicon",
           "TreeCommitteeChannel", "WideCommitteeChannel", "WideCommitteeLossChannel",
           "committee_channel",
           "tree_committee", "validate_committee"]

ACTIVATIONS = ("sign", "relu")

_BHS = "Barkai, Hansel & Sompolinsky, PRA 45, 4146 (1992)"
_BMZ = "Baldassi, Malatesta & Zecchina, PRL 123, 170602 (2019), arXiv 1907.07578"


def kernel_overlap(activation, q):
    r"""Normalised output overlap :math:`Q(q)` of the K → ∞ committee (module docstring)."""
    if activation == "sign":
        return 2 * sp.asin(q) / sp.pi
    if activation == "relu":
        return (sp.sqrt(1 - q**2) + q * (sp.pi - sp.acos(q)) - 1) / (sp.pi - 1)
    raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")


class KernelOverlap(sp.Function):
    r"""n-th derivative of the output overlap :math:`Q(q)` (:func:`kernel_overlap`) as one
    opaque node: arguments ``(q, k, n)`` with k the index of the activation in
    :data:`ACTIVATIONS` and n ≥ 0 the derivative order.

    The Franz–Parisi energetic term puts Q(q1), Q(t), Q(p), Q(q̃) under square roots;
    kept opaque, the symbolic layer's radical canonicalisation (expand + common
    denominator) sees four atoms instead of the explicit ReLU kernel (whose nested
    √(1−q²) made it take minutes). Printing (NumPy and mpmath code) writes the explicit
    derivative of :func:`kernel_overlap`, so the numbers are the same.

    >>> import sympy as sp
    >>> q = sp.Symbol("q")
    >>> e = KernelOverlap(q, 0, 0)
    >>> e.explicit(), sp.diff(e, q).explicit()
    (2*asin(q)/pi, 2/(pi*sqrt(1 - q**2)))
    """

    nargs = 3
    is_real = True

    @classmethod
    def eval(cls, q, k, n):
        if not (k.is_Integer and 0 <= k < len(ACTIVATIONS) and n.is_Integer and n >= 0):
            raise ValueError(f"KernelOverlap: activation index and derivative order must be "
                             f"integers (0 <= k < {len(ACTIVATIONS)}, n >= 0), got {k}, {n}")
        if q.is_Number:
            return sp.diff(kernel_overlap(ACTIVATIONS[int(k)], _QARG), _QARG, int(n)).subs(_QARG, q)
        return None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        q, k, n = self.args
        return KernelOverlap(q, k, n + 1)

    def explicit(self):
        """The explicit SymPy expression of this node."""
        q, k, n = self.args
        return sp.diff(kernel_overlap(ACTIVATIONS[int(k)], _QARG), _QARG, int(n)).subs(_QARG, q)

    def _pythoncode(self, printer):
        # parenthesised: the node may be the base of a power (Q(t)**2), and the explicit
        # kernel is a quotient ((...)/(π − 1)), which would otherwise bind as (...)/(π − 1)**2
        return "(" + printer._print(self.explicit()) + ")"

    _numpycode = _scipycode = _mpmathcode = _pythoncode

    def _latex(self, printer, exp=None):
        q, k, n = self.args
        body = r"Q_{\mathrm{%s}}%s(%s)" % (ACTIVATIONS[int(k)], "'" * int(n), printer._print(q))
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


_QARG = sp.Symbol("q_kernel", real=True)


class SignCommitteeLogZ(sp.Function):
    r"""n-th q-derivative of :math:`\mathbb{E}_{z\in\mathbb{R}^K}\ln\mathcal Z_K(q; z)` for the
    sign tree committee (majority of K odd sign units, output margin 0; or output margin κ).

    Arguments ``(q, K, n)`` or ``(q, K, n, kappa)`` with K (odd ≥ 3) and n (0, 1, 2)
    integers. Given z, each unit is positive independently with :math:`p_l = H(-a z_l)`,
    :math:`a = \sqrt{q/(1-q)}`, and :math:`\mathcal Z_K` is the Poisson-binomial tail
    P(#positive ≥ m), m = (K+1)/2 without ``kappa``. With ``kappa`` (the output margin on
    the normalised output :math:`(2j-K)/\sqrt K`, module docstring) the threshold is
    :math:`m(\kappa) = \lfloor (K+\kappa\sqrt K)/2\rfloor + 1`, computed numerically by
    :func:`solvers.committee.margin_threshold` (κ = 0 gives the same numbers as the
    3-argument node). The node is piecewise constant in κ: its κ-derivative is 0
    (``fdiff``), exact between the steps m(κ) and meaningless on them.

    Derivatives. With :math:`\rho_l = p_l/(1-p_l)` the odds, :math:`\mathcal Z_K =
    \prod_l(1-p_l)\,\sum_{j\ge m} e_j(\rho)` (elementary symmetric polynomials), and
    :math:`\partial_q\ln\sum_{j\ge m}e_j = \sum_l \pi_l\,\partial_q\ln\rho_l` with
    :math:`\pi_l` = P(unit l positive | output positive): derivatives are conditional
    expectations of bounded quantities, evaluated stably (in logs) by the same
    recursion. In expectation over z, the first derivative equals the Stein form
    :math:`-\tfrac12\sum_l\mathbb{E}(\partial_{\omega_l}\ln\mathcal Z_K)^2`
    (heat equation :math:`\partial_V\mathcal Z = \tfrac12\sum_l\partial^2_{\omega_l}\mathcal Z`
    plus Stein's lemma), which the tests check as an independent route.

    ``fdiff`` with respect to q gives the node of order n + 1, so the saddle-point
    equations and the Hessian are derived by the ordinary symbolic machinery.
    """

    nargs = (3, 4)
    is_real = True

    @classmethod
    def eval(cls, q, K, n, kappa=None):
        for name, v in (("K", K), ("n", n)):
            if not (v.is_Integer and v >= 0):
                raise ValueError(f"SignCommitteeLogZ: {name} must be a non-negative integer, got {v}")
        if K < 3 or K % 2 == 0:
            raise ValueError(f"SignCommitteeLogZ: K must be odd and ≥ 3 (K = 1 is the perceptron), got {K}")
        if kappa is not None and kappa.is_Number:
            _check_kappa(K, kappa)
        return None

    def fdiff(self, argindex=1):
        if argindex == 4 and len(self.args) == 4:
            return sp.S.Zero  # piecewise constant in κ (the threshold m(κ) is integer)
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        q, K, n = self.args[:3]
        return SignCommitteeLogZ(q, K, n + 1, *self.args[3:])

    def q_to_one_leading(self, eps):
        r"""Leading behaviour at q = 1 − ε: :math:`-C_K/(2ε)` for n = 0 (module docstring)."""
        q, K, n = self.args[:3]
        if n != 0:
            raise NotImplementedError("q → 1 limit of derivative nodes")
        return -SignCommitteeMinCost(K, *self.args[3:]) / (2 * eps)

    def _latex(self, printer, exp=None):
        q, K, n = self.args[:3]
        body = r"\mathbb{E}_{z\in\mathbb{R}^{%s}}\ln\mathcal{Z}_{%s}(%s)" % (K, K, printer._print(q))
        if len(self.args) == 4:
            body = r"\mathbb{E}_{z\in\mathbb{R}^{%s}}\ln\mathcal{Z}_{%s}(%s; %s)" % (
                K, K, printer._print(q), printer._print(self.args[3]))
        if n:
            body = r"\partial_{%s}^{%s}%s" % (printer._print(q), n, body)
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class SignCommitteeMinCost(sp.Function):
    r""":math:`\mathbb{E}\,C_K`, C_K = sum of the m = (K+1)/2 smallest of :math:`(z_l^-)^2`
    (argument ``(K,)``), or of the m(κ) smallest with the output margin (arguments
    ``(K, kappa)``, threshold of :class:`SignCommitteeLogZ`).

    Order statistics: :math:`\mathbb{E}\,a_{(i)} = \int_0^\infty P(a_{(i)} > t)\,dt` and
    :math:`P(a_{(i)} > t) = \sum_{j<i}\binom Kj \Phi(s)^j H(s)^{K-j}` with :math:`t = s^2`,
    so :math:`\mathbb{E}\,C_K = \int_0^\infty ds\, 2s \sum_{j=0}^{m-1}(m-j)\binom Kj
    \Phi(s)^j H(s)^{K-j}`; :meth:`as_average` writes it as a truncated Gaussian average
    that :mod:`solvers.codegen` compiles like any other (NumPy and mpmath). With
    ``kappa`` (a control symbol: m is not known symbolically) the node stays opaque
    (:meth:`as_average` returns it unchanged) and is printed as
    :func:`solvers.committee.sign_min_cost`, the same 1-D integral with m(κ) computed
    numerically. Unanimity (m = K): E C = K/2, so the spherical α_c = 2/K.
    """

    nargs = (1, 2)
    is_real = True

    @classmethod
    def eval(cls, K, kappa=None):
        if not (K.is_Integer and K >= 1 and K % 2 == 1):
            raise ValueError(f"SignCommitteeMinCost: K must be an odd positive integer, got {K}")
        if kappa is not None and kappa.is_Number:
            _check_kappa(K, kappa)
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero  # piecewise constant in κ (K is an integer)

    def as_average(self):
        if len(self.args) == 2:
            return self
        (K,) = self.args
        m = (K + 1) // 2
        s = sp.Symbol("s_cost", real=True)
        poly = sum((m - j) * sp.binomial(K, j) * (1 - H(s))**j * H(s)**(K - j) for j in range(m))
        from .functions import Gauss
        return GaussianAverage(2 * s * poly / Gauss(s), s, 0, sp.oo)

    def _latex(self, printer, exp=None):
        body = r"\mathbb{E}\,C_{%s}" % printer._print(self.args[0])
        if len(self.args) == 2:
            body += r"(%s)" % printer._print(self.args[1])
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class ReluCommitteeLogZ(sp.Function):
    r"""n-th q-derivative of the label-averaged energetic term of the ReLU tree committee,
    :math:`\tfrac12\sum_{y=\pm1}\mathbb{E}_{z}\ln P(y\sum_l c_l\max(0,\lambda_l) > 0)`,
    with :math:`c_l = +1` for the first ⌈K/2⌉ units and −1 for the others (for even K the
    two labels give the same average, by the symmetry of the iid z_l).

    Arguments ``(q, K, n)``, K ≥ 2 and n ≥ 0 integers (n = 0, 1, 2 are evaluated), or
    ``(q, K, n, kappa)`` with the output margin: the event is
    :math:`y\sum_l c_l\max(0,\lambda_l) > \kappa\sigma_K`,
    :math:`\sigma_K = \sqrt{K(1/2 - 1/(2\pi))}` (module docstring; κ = 0 gives the
    numbers of the 3-argument node). Given z the units are independent: each rectified
    field has an atom Φ(−a z_l) at 0 and a Gaussian part, and P(output > threshold) is
    the Bromwich inversion of the product of their Laplace transforms (derived and
    evaluated in :func:`solvers.committee.relu_logz`; derivatives are those of the same
    estimator). ``fdiff`` gives the node of order n + 1 (in q; the threshold in the
    rescaled variables, κσ_K/√(1−q), moves with q and the estimator carries that chain
    rule); κ is a control, never differentiated by the solvers, so its derivative is not
    implemented (NotImplementedError, not a silent 0). :meth:`q_to_one_leading` gives the
    limit −E C/(2(1−q)) (:class:`ReluCommitteeMinCost`, with κ the distance to the
    shifted region).
    """

    nargs = (3, 4)
    is_real = True

    @classmethod
    def eval(cls, q, K, n, kappa=None):
        if not (K.is_Integer and K >= 2 and n.is_Integer and n >= 0):
            raise ValueError(f"ReluCommitteeLogZ: K ≥ 2 and n ≥ 0 must be integers, got {K}, {n}")
        if kappa is not None and kappa.is_Number and not kappa.is_finite:
            raise ValueError(f"kappa: the output margin must be finite, got {kappa}")
        return None

    def fdiff(self, argindex=1):
        if argindex == 4 and len(self.args) == 4:
            raise NotImplementedError("ReluCommitteeLogZ: the derivative in the output margin kappa "
                                      "(a control) is not implemented")
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        q, K, n = self.args[:3]
        return ReluCommitteeLogZ(q, K, n + 1, *self.args[3:])

    def q_to_one_leading(self, eps):
        q, K, n = self.args[:3]
        if n != 0:
            raise NotImplementedError("q → 1 limit of derivative nodes")
        return -ReluCommitteeMinCost(K, *self.args[3:]) / (2 * eps)

    def _latex(self, printer, exp=None):
        q, K, n = self.args[:3]
        inner = "; ".join(printer._print(a) for a in (q,) + self.args[3:])
        body = r"\mathbb{E}_{y,z}\ln\mathcal{Z}^{\mathrm{ReLU}}_{%s}(%s)" % (printer._print(K), inner)
        if n:
            body = r"\partial_{%s}^{%s}%s" % (printer._print(q), n, body)
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class ReluCommitteeMinCost(sp.Function):
    r"""Label-averaged :math:`\mathbb{E}_z C(z)`: C is the smallest squared distance from
    z ∈ R^K to the region :math:`y\sum_l c_l\max(0,\lambda_l) > 0` (argument ``(K,)``),
    or to :math:`y\sum_l c_l\max(0,\lambda_l) \ge \kappa\sigma_K` (arguments
    ``(K, kappa)``, the output margin of :class:`ReluCommitteeLogZ`); evaluated by
    :func:`solvers.committee.relu_min_cost` (a water-filling quadratic programme per
    point, QMC over z). The spherical RS capacity is 1/E C."""

    nargs = (1, 2)
    is_real = True

    @classmethod
    def eval(cls, K, kappa=None):
        if not (K.is_Integer and K >= 2):
            raise ValueError(f"ReluCommitteeMinCost: K must be an integer ≥ 2, got {K}")
        return None

    def fdiff(self, argindex=1):
        raise NotImplementedError("ReluCommitteeMinCost: the derivative in the output margin kappa "
                                  "(a control) is not implemented")

    def _latex(self, printer, exp=None):
        body = r"\mathbb{E}\,C^{\mathrm{ReLU}}_{%s}" % printer._print(self.args[0])
        if len(self.args) == 2:
            body += r"(%s)" % printer._print(self.args[1])
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class SignCommitteeReplicon(sp.Function):
    r"""Channel factor :math:`\gamma_{out}(q)` of the de Almeida–Thouless replicon of the
    sign tree committee at finite K (odd ≥ 3): arguments ``(q, K)``, or ``(q, K, kappa)``
    with the output margin (count threshold m(κ) of :class:`SignCommitteeLogZ` in place of
    (K+1)/2 below: the derivation holds for any threshold 1 ≤ m ≤ K); evaluated by
    :func:`solvers.committee.sign_replicon`. Derived here (the K = 1 and K → ∞ limits
    below are the checks; no paper formula was found to compare with).

    **Replicon of the tree.** Branch l has N/K weights and its own overlap matrix
    :math:`Q^l_{ab}`; per weight, :math:`\Phi = \frac1K\sum_l S(Q^l) +
    \alpha\,G_E(\{Q^l\})`, S the entropic term of one weight set (the perceptron's,
    after eliminating the conjugates). On replicon fluctuations
    :math:`\delta Q^l_{ab}` (zero row sums; the same eigen-direction on every branch)
    the entropic Hessian is :math:`-1/(K\gamma_{in})\,\delta_{lm}` (the Legendre
    transform inverts the replicon eigenvalue :math:`\gamma_{in} =
    \mathbb{E}(\partial_B^2\ln Z_{in})^2` of :math:`\ln Z_{in}`; 1/K from the
    branch's share of weights) and the energetic one is :math:`\alpha M_{lm}`,
    :math:`M_{lm} = \mathbb{E}_z[(\partial_{\omega_l}\partial_{\omega_m}\ln\mathcal
    Z_K)^2]` (the multi-field form of Gardner & Derrida's :math:`\mathbb{E}(\partial^2_\omega
    \ln Z)^2`), :math:`\mathcal Z_K(\omega) = P_\eta(\#\{l: \omega_l +
    \sqrt{1-q}\,\eta_l > 0\} \ge (K+1)/2)`, :math:`\omega_l = \sqrt q z_l`. RS is
    stable while the K × K matrix :math:`-I/(K\gamma_{in}) + \alpha M` is negative
    definite, i.e. :math:`\lambda = 1 - \alpha K\gamma_{in}\mu_{max}(M) > 0`. By
    the symmetry of the units :math:`M = (A-B)I + B\,\mathbf 1\mathbf 1^T`
    (A = M_11, B = M_12 ≥ 0), eigenvalues A − B and A + (K − 1)B; B ≥ 0 makes the
    second the largest, so the replicon is the perceptron's with

    .. math:: \gamma_{out} = K[A + (K-1)B] = \mathbb{E}_z\|\nabla^2_\omega
              \ln\mathcal Z_K\|_F^2 .

    **Derivatives** (p_l = Φ(ω_l/σ), σ = √(1−q), m = (K+1)/2; 𝒵 is multilinear in
    p): :math:`\partial_l\mathcal Z = (\varphi_l/\sigma) P(N_{-l} = m-1)`,
    :math:`\partial_l^2\mathcal Z = -(\omega_l/\sigma^2)\partial_l\mathcal Z`,
    :math:`\partial_l\partial_k\mathcal Z = (\varphi_l\varphi_k/\sigma^2)
    [P(N_{-lk} = m-2) - P(N_{-lk} = m-1)]` (N_{−S}: positive units outside S), and
    :math:`\partial^2\ln\mathcal Z = \partial^2\mathcal Z/\mathcal Z -
    (\partial\mathcal Z)^2/\mathcal Z^2`, all as ratios of log-probabilities (stable
    where 𝒵 ~ e^{−huge}).

    **Checks.** K = 1 gives the perceptron's :math:`\mathbb{E}(\partial^2_\omega\ln
    H(-\omega/\sigma))^2`. K → ∞: with :math:`t = \sum_l m_l/\sqrt{K(1-Q)}`,
    m_l = 2p_l − 1 (CLT: 𝒵 → Φ(t)), :math:`\partial_l^2\ln\mathcal Z \simeq
    g'(t)\,m''_l/\sqrt{K(1-Q)}` and :math:`\partial_l\partial_k\ln\mathcal Z
    \simeq g''(t)\,m'_l m'_k/(K(1-Q))` (g = ln Φ; the variance's dependence on ω is
    one order smaller), so :math:`KA \to Q''\,\mathbb{E}g'^2/(1-Q)` and
    :math:`K^2B \to Q'^2\,\mathbb{E}g''^2/(1-Q)^2` by Price's theorem
    (:math:`\mathbb{E}_z m'(\sqrt q z)^2 = Q'(q)`, :math:`\mathbb{E}_z m''^2 = Q''(q)`,
    Q = (2/π) arcsin q): the sum is the K → ∞ channel's
    :math:`Q'^2\mathbb{E}(\partial^2\ln Z)^2 + Q''\mathbb{E}(\partial\ln Z)^2`
    (:meth:`WideCommitteeChannel.rs_gamma_out`). Numerically (tests/test_committee.py)
    γ_out(K) − γ_out(∞) falls like 1/K (K(γ_K − γ_∞) = 2.39, 1.84, 1.61, 1.66 at
    q = 0.5 for K = 3, 9, 21, 99).

    **AT line, spherical weights** (λ = 0 on the RS branch): α_AT = 1.7298 (q = 0.6003)
    at K = 3, 2.0822 (5), 2.3189 (7), 2.4714 (9), 2.7720 (21), 2.8764 (41), rising like
    2.9878 − 4.6/K to the K → ∞ value 2.9878 (q = 0.6303): finite at large K and far
    below the RS capacities (4.03 at K = 3, ∝ √K), as BHS 1992 state in their abstract
    ("instability ... at a value of alpha which remains finite in the large-K limit";
    RSB "far below the capacity limit" at K = 3; no number there to compare with).
    Binary weights: at the RS entropy-zero capacity of K = 3 (α = 0.9206, q = 0.384)
    λ = 0.523 > 0 (AT-stable, as the perceptron's 0.456 and K → ∞'s 0.737).

    **q → 1** (spherical weights, γ_in = (1 − q)²): ln 𝒵 ≃ −C(ω)/(2(1−q)) with C the
    min-cost of :class:`SignCommitteeMinCost`, whose gradient jumps where the two
    negative fields competing for the last needed flip have equal |z| (a rank
    exchange). Across it ln 𝒵 is locally :math:`\ln(e^{f_b} + e^{f_c}) + ` const,
    :math:`f = \ln\Phi(u) \simeq -u^2/2`, u = ω/σ, whose Hessian has the four entries
    ±π_bπ_c u² (π the two weights): they switch over
    :math:`\Delta(u_b^2 - u_c^2) \sim 1`, a width (1−q)/|z| in z. Integrating
    :math:`\int ds\,\mathrm{sech}^4(s/2)/16 = 1/6` across it (times 4 entries, times
    |z|³/(1−q)³ from u⁴, the width and ∂_ω = ∂_u/σ), over the C(K, 2) pairs, the pair at
    level |z| competing for the last flip when exactly m − 1 of the other K − 2 units
    are positive or negative with smaller |z| (probability Φ(z) each),

    .. math:: \gamma_{out} \simeq \frac{c_K}{(1-q)^3},\quad
              c_K = \tfrac23\binom K2\binom{K-2}{m-1}\int_0^\infty\varphi(z)^2 z^3
              \Phi(z)^{m-1}(1-\Phi(z))^{K-1-m}dz,\qquad
              \lambda_{AT} \simeq -\frac{\alpha_c c_K}{1-q} \to -\infty

    (c_3 = 2J, J = ∫_0^∞ φ² z³ Φ dz = 0.0704181; c_5 = 0.126658, c_9 = 0.097465), so the
    replicon is negative near the RS q → 1 capacity for every K ≥ 3 (unlike the
    perceptron at κ = 0, where it tends to 0). Numerically (the last unit's rule is
    refined around this ridge, :func:`solvers.committee.sign_replicon`): K = 3,
    (1−q)³γ_out = 0.14128, 0.140879, 0.140838 at 1 − q = 1e-3, 1e-4, 1e-5 against
    c_3 = 0.140836, and the capacity's approach gives (1−q)λ = −0.56582, −0.56677,
    −0.56687 against −α_c c_3 = −0.56689; at 1 − q = 1e-5, K = 5: 0.12657 ± 0.00011,
    K = 9: 0.0971 ± 0.0004 against c_5, c_9. The estimator's standard error (spread of
    the scramblings) is ≤ 1.2e-4 relative at K = 3 for q ≤ 1 − 1e-5 (9e-4 at K = 5,
    4.5e-3 at K = 9 there).

    Finite-K ReLU committees: :class:`ReluCommitteeReplicon` (two readout groups).
    """

    nargs = (2, 3)
    is_real = True

    @classmethod
    def eval(cls, q, K, kappa=None):
        if not (K.is_Integer and K >= 3 and K % 2 == 1):
            raise ValueError(f"SignCommitteeReplicon: K must be an odd integer ≥ 3, got {K}")
        if kappa is not None and kappa.is_Number:
            _check_kappa(K, kappa)
        return None

    def fdiff(self, argindex=1):
        raise NotImplementedError("SignCommitteeReplicon is an observable: its q-derivative "
                                  "is not needed by the solvers and not implemented")

    def _latex(self, printer, exp=None):
        q, K = self.args[:2]
        body = r"\mathbb{E}_{z}\|\nabla^2_\omega\ln\mathcal{Z}_{%s}(%s)\|_F^2" % (
            printer._print(K), "; ".join(printer._print(a) for a in (q,) + self.args[2:]))
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class ReluCommitteeReplicon(sp.Function):
    r"""Channel factor :math:`\gamma_{out}(q)` of the de Almeida–Thouless replicon of the
    ReLU tree committee at finite K ≥ 2: arguments ``(q, K)``, or ``(q, K, kappa)`` with
    the output margin (the same jets at the fixed rescaled threshold κσ_K/√(1−q):
    the derivation below holds for any threshold, and the two labels keep the same margin);
    evaluated by :func:`solvers.committee.relu_replicon`. Derived here (no paper formula
    found). With a margin, q → 1 at K = 2: finite limit for κ ≥ 0 (convex region; κ = 0.5:
    λ → 0.238, stable at α_c = 0.8060), diverging for κ < 0 (the region is a union,
    ``meta["replicon_q_to_one"] = "diverges for kappa < 0"``; the plain QMC estimate is
    then erratic near q → 1 and the capacity reports the stability as unknown unless the
    approach is monotone).

    **Replicon with two groups.** The tree argument of :class:`SignCommitteeReplicon`
    does not use the symmetry of the units: on replicon fluctuations
    :math:`\delta Q^l_{ab} = v_l\,\delta Q_{ab}` the stability matrix over the branches is
    :math:`-I/(K\gamma_{in}) + \alpha M`, :math:`M_{lm} = \mathbb{E}_y\mathbb{E}_z
    (\partial_{\omega_l}\partial_{\omega_m}\ln\mathcal Z_y)^2` (label-averaged, as the
    energetic term), and RS is stable while
    :math:`\lambda = 1 - \alpha\gamma_{in}K\mu_{max}(M) > 0`, so
    :math:`\gamma_{out} = K\mu_{max}(M)`. The Frobenius form
    :math:`\mathbb{E}\|\nabla^2\ln\mathcal Z\|_F^2 = K\,v^TMv` (v uniform, unit norm) is
    only a lower bound (Rayleigh quotient); it is the answer when the uniform vector is
    an eigenvector. Here the readout c_l = ±1 makes the units equivalent only within a
    group, P (⌈K/2⌉ units read +1) and N (⌊K/2⌋ read −1), so M has five distinct entries:
    the diagonals a_P, a_N, the within-group off-diagonals b_P, b_N, and the cross entry
    c. Its eigenvectors: within-group contrasts (zero sum inside one group, zero on the
    other), eigenvalues a_P − b_P and a_N − b_N; and the group-uniform modes, the 2 × 2
    matrix :math:`T = \begin{pmatrix} a_P+(p-1)b_P & \sqrt{pn}\,c\\ \sqrt{pn}\,c &
    a_N+(n-1)b_N\end{pmatrix}` (p = ⌈K/2⌉, n = ⌊K/2⌋, in the normalised basis). M is
    entrywise non-negative (squares), so by Perron–Frobenius its largest eigenvalue has a
    non-negative eigenvector, which cannot be a contrast:

    .. math:: \gamma_{out} = K\,\mu_{max}(T) = K\Big[\tfrac{t_{11}+t_{22}}2 +
              \sqrt{\tfrac{(t_{11}-t_{22})^2}4 + pn\,c^2}\Big].

    Label y = +1 makes P the winning side (P(Σ_P relu > Σ_N relu)), y = −1 the N side.
    Even K: the two labels are the same function with the groups swapped, so the
    label-averaged M is swap-symmetric (a_P = a_N, b_P = b_N), the uniform vector is an
    eigenvector and γ_out equals the Frobenius form. Odd K: t_11 ≠ t_22 and the top mode
    weights the groups unequally; γ_out exceeds the Frobenius form (K = 3, q = 0.5:
    2.5789 against 2.1989).

    **Derivatives.** With u = ω/√(1−q) (relu is positively homogeneous),
    :math:`\nabla^2_\omega\ln\mathcal Z = \nabla^2_u\ln P/(1-q)`; the Hessian in u comes by
    polarisation from second derivatives along e_l and e_l + e_m of the contour integrals
    of :class:`ReluCommitteeLogZ`, with the per-unit transforms differentiated in their
    own u_l only (∂_u g = θg + φ(u), ∂_u h = −θh + φ(u), ∂_u m = −φ(u)): the jets
    (ln X, X'/X, X''/X) of :func:`solvers.committee.relu_logz` along a direction d instead
    of z. Checks (tests/test_committee.py): K = 2 per point against the analytic Hessian of
    :math:`P = \int_0^\infty\varphi(s-u_1)\Phi(s-u_2)ds = \Phi_2(u_1, (u_1-u_2)/\sqrt2;
    1/\sqrt2)` and, in expectation, against a Gauss–Hermite product grid; K = 3 per point
    against finite differences of nested Gauss–Legendre integrals (no Laplace transform).

    **q → 1** (spherical weights, γ_in = (1−q)²): ln 𝒵 ≃ −C(ω)/(2(1−q)), C the squared
    distance to the output region. K = 2: the region {ω_1 > 0, ω_1 > ω_2} is convex, so
    C is C¹ with a bounded Hessian, and (1−q)²γ_out tends to a finite limit
    (``meta["replicon_q_to_one"]`` is not set). K ≥ 3: the region is a union (e.g.
    either plus unit may be switched on), C has a gradient jump where two ways of
    reaching it cost the same (label +1 at K = 3 with all fields negative:
    C = min(z_1², z_2²), a kink at |z_1| = |z_2|), and, by the ridge argument of
    :class:`SignCommitteeReplicon`, (1−q)²γ_out grows like 1/(1−q): ``"diverges"``.
    Measured: K = 3 spherical, λ = −236, −1.3e4, −4.1e5 at 1 − q = 1e-3, 1e-4, 1e-5 on
    the RS branch (negative and growing; the rate is not measurable with plain QMC,
    whose error there is of the order of the value: ``solvers.committee`` docstring).

    **Numbers** (QMC: 4 scramblings × 2¹¹ points, the production setting, unless said).
    Binary weights, at the RS entropy-zero capacities α_c = 0.5751, 0.6440, 0.8136
    (K = 2, 3, 4): λ = 0.459, 0.325, 0.341 > 0, RS stable there (as the perceptron,
    0.456, and the K → ∞ ReLU committee, λ = 0.349 at α_c = 0.9040).
    Spherical weights (:func:`solvers.diagrams.alpha_at`): K = 2 has λ > 0 on the
    whole RS branch and λ → 0 at α_c = 4/3 (marginal, as Gardner's perceptron at
    κ = 0): no AT point below capacity. With 4 × 2¹³ points: K = 3: α_AT = 1.274
    (q = 0.868), K = 4: 1.418 (q = 0.691), K = 6: 1.604 (q = 0.698); with the
    production points 1.2653, 1.4056, 1.6002 (q = 0.864, 0.686, 0.696): the QMC error
    of α_AT is ~0.01 at 2¹¹ points (the replicon's standard error at the AT point is
    2 %, 1.1 %, 0.5 % relative), a few 1e-3 at 2¹³. Against the RS capacities 1.5878, 2.4742, 2.7973 and
    the K → ∞ values α_AT = 1.7212, α_c = 2.9339: from K = 4 on α_AT/α_c ≈ 0.57–0.59
    and α_AT rises towards the K → ∞ value; K = 3 (odd: the two labels differ) sits at
    0.80 α_c, below the K = 2 capacity.
    """

    nargs = (2, 3)
    is_real = True

    @classmethod
    def eval(cls, q, K, kappa=None):
        if not (K.is_Integer and K >= 2):
            raise ValueError(f"ReluCommitteeReplicon: K must be an integer ≥ 2, got {K}")
        return None

    def fdiff(self, argindex=1):
        raise NotImplementedError("ReluCommitteeReplicon is an observable: its q-derivative "
                                  "is not needed by the solvers and not implemented")

    def _latex(self, printer, exp=None):
        q, K = self.args[:2]
        body = r"%s\,\mu_{\max}\,\mathbb{E}_{y,z}(\nabla^2_\omega\ln\mathcal{Z}^{\mathrm{ReLU}}_{%s}(%s))^{\circ 2}" % (
            printer._print(K), printer._print(K), "; ".join(printer._print(a) for a in (q,) + self.args[2:]))
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class TreeCommitteeChannel(Channel):
    r"""Finite-K tree committee, output margin 0 or κ (module docstring).

    K = 1 (sign) is the margin channel at κ = 0 (ordinary 1-D quadrature); K ≥ 3 (sign)
    uses the node :class:`SignCommitteeLogZ`, K ≥ 2 (ReLU) :class:`ReluCommitteeLogZ`.

    ``kappa``: None (output margin 0), or the name of the margin control (``"kappa"``)
    on the normalised output: sign units, odd K ≥ 3, :math:`(2j-K)/\sqrt K` (the count
    threshold m(κ) of :class:`SignCommitteeLogZ`); ReLU units, K ≥ 2,
    :math:`y\sum_l c_l\max(0,\lambda_l)/\sigma_K` with σ_K = √(K(1/2 − 1/(2π))), any
    real κ (:class:`ReluCommitteeLogZ`); K = 1 raises ValueError naming K.
    """

    name = "tree-committee"
    source = _BHS + ", eq. (2.9)"

    def __init__(self, K, activation="sign", kappa=None):
        self.K, self.activation = validate_committee(K, activation)
        self.kappa = None
        if kappa is not None:
            if self.activation == "relu":
                self.kappa = margin_control(kappa, "margin on the normalised committee output "
                                                   "y sum_l c_l relu(lambda_l)/sqrt(K(1/2 - 1/(2 pi))), "
                                                   "any real value")
                return
            if self.K == 1:
                raise ValueError("K: the output margin of the K = 1 committee (output ±1) is not the "
                                 "perceptron's field margin; use odd K >= 3 or inf here, or "
                                 "binary-perceptron / spherical-perceptron for a field margin, got K = 1")
            self.kappa = margin_control(kappa, "margin on the normalised committee output "
                                               "(2j - K)/sqrt(K), -sqrt(K) <= kappa < sqrt(K)")

    def controls(self):
        return () if self.kappa is None else (self.kappa,)

    def _extra(self):
        return () if self.kappa is None else (self.kappa,)

    def log_partition(self, omega, V):
        if self.K == 1:
            return LogH(-omega / sp.sqrt(V))
        raise NotImplementedError("the finite-K committee has no one-field partition function; "
                                  "use rs_energetic")

    def fp_energetic(self, q_ref, p, t, q1, alpha, reference):
        """Franz–Parisi energetic term around typical references (the hook of
        :func:`replica.franz_parisi.franz_parisi`): :mod:`replica.committee_fp` for sign
        units at K ≥ 3 and ReLU units at K ≥ 2; None for K = 1 (the perceptron's formula,
        with :meth:`posterior`). Other references raise ValueError naming them."""
        if self.K == 1:
            return None
        if self.kappa is not None:
            raise ValueError("kappa: the finite-K committee's Franz–Parisi term is derived for the "
                             "majority threshold (output margin 0) only; use the family without -margin")
        if reference is not self and not (isinstance(reference, TreeCommitteeChannel)
                                          and (reference.K, reference.activation, reference.kappa)
                                          == (self.K, self.activation, None)):
            raise ValueError(f"reference: the finite-K committee's Franz–Parisi term needs the "
                             f"same committee as reference (typical solutions), got {reference.name!r}")
        from .committee_fp import relu_committee_fp_energetic, sign_committee_fp_energetic
        if self.activation == "relu":
            return relu_committee_fp_energetic(self.K, q_ref, p, t, q1, alpha)
        return sign_committee_fp_energetic(self.K, q_ref, p, t, q1, alpha)

    def posterior(self, f, x, omega, V):
        """K = 1: the margin-0 reference measure x > −ω/√V (the perceptron's), so the
        Franz–Parisi ansatz takes the perceptron path."""
        if self.K != 1:
            raise NotImplementedError("finite-K committee: use fp_energetic")
        x0 = -omega / sp.sqrt(V)
        return GaussianAverage(f, x, x0, sp.oo) / H(x0)

    def rs_energetic(self, q, z):
        """α-free RS energetic term."""
        if self.K == 1:
            return GaussianAverage(LogH(-sp.sqrt(q) * z / sp.sqrt(1 - q)), z)
        if self.activation == "relu":
            return ReluCommitteeLogZ(q, self.K, 0, *self._extra())
        return SignCommitteeLogZ(q, self.K, 0, *self._extra())

    def rs_gamma_out(self, q, z):
        """Channel factor of the AT replicon, or None when not available."""
        if self.K == 1:
            d2 = sp.diff(LogH(-sp.Symbol("w") / sp.sqrt(1 - q)), sp.Symbol("w"), 2)
            return GaussianAverage(d2.subs(sp.Symbol("w"), sp.sqrt(q) * z)**2, z)
        if self.activation == "sign":
            return SignCommitteeReplicon(q, self.K, *self._extra())
        return ReluCommitteeReplicon(q, self.K, *self._extra())


class WideCommitteeChannel(Channel):
    r"""K → ∞ tree committee: Gaussian output with overlap Q(q) (module docstring).

    ``kappa``: None for output margin 0 (the ``tree-committee`` families), or the name
    of a margin control (``"kappa"``; ``"kappa_ref"`` for a Franz–Parisi reference) for
    the ``*-tree-committee-margin`` families. The margin is on the normalised output
    pre-activation :math:`y\,[\sum_l c_l g(\lambda_l) - K\mu]/\sqrt{K(k(1)-\mu^2)}`,
    unit variance under random patterns (sign: :math:`K^{-1/2}\sum_l
    \mathrm{sign}\,\lambda_l`; ReLU: :math:`\sum_l c_l\,\mathrm{relu}(\lambda_l)/
    \sqrt{K(1/2 - 1/(2\pi))}`), so the channel is the perceptron's margin channel on
    the Q-mapped overlaps, :math:`\ln H((\kappa-\omega)/\sqrt V)` (Gardner 1988 eq.
    (20) at the output). The spherical RS capacity is then
    :math:`Q'(1)\,lpha_G(\kappa)` for ReLU (α_G = Gardner's perceptron value,
    since 1 − Q ≃ Q'(1)(1 − q)) and infinite for sign (1 − Q ∝ √(1 − q)).
    """

    name = "wide-committee"

    def __init__(self, activation, kappa=None):
        _, self.activation = validate_committee(float("inf"), activation)
        self.source = (_BHS + ", sec. IV" if self.activation == "sign"
                       else _BMZ + " (K → ∞ kernel limit)")
        self.kappa = None
        if kappa is not None:
            self.kappa = margin_control(kappa, "margin on the normalised committee output, any real value")

    def controls(self):
        return () if self.kappa is None else (self.kappa,)

    def _margin(self):
        return sp.S.Zero if self.kappa is None else self.kappa

    def log_partition(self, omega, V):
        return LogH((self._margin() - omega) / sp.sqrt(V))

    def output_overlap(self, q):
        """Output overlap Q(q) of two replicas with hidden-weight overlap q: the map that
        :func:`replica.franz_parisi.franz_parisi` applies to every output overlap (its
        module docstring derives why the energetic term of any replica structure is the
        perceptron's at Q(q_ab), K → ∞ only)."""
        return KernelOverlap(q, ACTIVATIONS.index(self.activation), 0)

    def posterior(self, f, x, omega, V):
        r""":math:`\langle f(x)\rangle` over the output field's noise x given the cavity
        mean ω, under the output constraint :math:`\omega + \sqrt V x > \kappa` (κ = 0
        without a margin control): the truncated Gaussian :math:`x > (\kappa-\omega)/\sqrt V`
        (the reference measure of the Franz–Parisi energetic term, on the Q-mapped fields)."""
        x0 = (self._margin() - omega) / sp.sqrt(V)
        return GaussianAverage(f, x, x0, sp.oo) / H(x0)

    def rs_energetic(self, q, z):
        Q = kernel_overlap(self.activation, q)
        return GaussianAverage(LogH((self._margin() - sp.sqrt(Q) * z) / sp.sqrt(1 - Q)), z)

    def rs_gamma_out(self, q, z):
        Q = kernel_overlap(self.activation, q)
        w = sp.Symbol("w", real=True)
        lz = LogH((self._margin() - w) / sp.sqrt(1 - Q))
        d1 = sp.diff(lz, w).subs(w, sp.sqrt(Q) * z)
        d2 = sp.diff(lz, w, 2).subs(w, sp.sqrt(Q) * z)
        dQ = sp.diff(Q, q)
        return dQ**2 * GaussianAverage(d2**2, z) + sp.diff(dQ, q) * GaussianAverage(d1**2, z)


class WideCommitteeLossChannel(LossChannel):
    r"""Gibbs measure of a loss on the normalised output of the K → ∞ committee: the
    reference measure of ``local_entropy(..., reference="loss=ce:G" | "loss=hinge:K")``
    for the ``tree-committee`` families at K = inf (derived here).

    The loss acts on the normalised output pre-activation u (unit variance under random
    patterns; :class:`WideCommitteeChannel`), with weight :math:`e^{-\beta\ell(u)}` per
    pattern (:class:`replica.components.LossChannel`). Its energetic term, in any
    replica structure, is an average of a function of the outputs only, which are
    jointly Gaussian with covariance Q(q_ab) (the output-overlap map,
    :mod:`replica.franz_parisi`); so the RS term is the perceptron's at Q(q),

    .. math:: \mathbb{E}_z\ln\mathbb{E}_x\,e^{-\beta\ell(\sqrt{Q}z + \sqrt{1-Q}\,x)},
              \qquad Q = Q(q),

    and in the Franz–Parisi functional the reference's Gibbs measure is the tilted
    average over the output noise on the mapped overlaps (``posterior``, inherited).

    β = ∞ (the loss minimisers) is not implemented for committees. The T = 0
    construction of :mod:`replica.minimisers` needs the reference's *output* variance
    :math:`1-Q(\tilde q)` to be O(1/β) (Laplace: the Moreau envelope) while the bare
    :math:`1-\tilde q = \tilde x/\beta` balances the entropic part (O(β)) against the
    energetic one (O(β)). ReLU: :math:`1-Q(1-\epsilon) = Q'(1)\epsilon - \tfrac{2\sqrt2}
    {3(\pi-1)}\epsilon^{3/2}+\dots`, so the scaling works out (sketch, not implemented):
    the envelope is taken at :math:`Q'(1)\tilde x`, and in the Franz–Parisi field
    :math:`(Q(p)-Q(t))/\sqrt{1-Q(\tilde q)}\,x \to (Q'(p)/Q'(1))\,\rho\,v^*(z)` with
    ρ = (p − t)/(1 − q̃), :math:`Q(t)/\sqrt{Q(\tilde q)} \to Q(p)`, residual variance
    :math:`Q(q_1)-Q(p)^2`, V = 1 − Q(q_1); the corrections are O(β^{-1/2}) instead of
    O(1/β). Sign: :math:`1-Q = \tfrac2\pi\arccos q \simeq \tfrac{2\sqrt2}{\pi}
    \sqrt{1-q}`, so an O(1/β) output variance needs :math:`1-\tilde q \propto 1/\beta^2`,
    which makes the entropic part O(β²) against O(β) for the energetic part: no balance
    in that scaling, and the T = 0 limit is not derived. So
    :func:`solvers.local_entropy.local_entropy` raises ParameterError naming
    ``beta_ref`` for committees at β_ref = ∞. No replicon observable (``rs_gamma_out``
    is None).
    """

    name = "wide-committee-loss"

    def __init__(self, activation, loss, prefix=""):
        super().__init__(loss, prefix)
        _, self.activation = validate_committee(float("inf"), activation)
        self.source = self.source + "; on the K → ∞ committee output, " + (
            _BHS + ", sec. IV" if self.activation == "sign" else _BMZ)

    def output_overlap(self, q):
        """Q(q) (:meth:`WideCommitteeChannel.output_overlap`)."""
        return KernelOverlap(q, ACTIVATIONS.index(self.activation), 0)

    def rs_energetic(self, q, z):
        Q = self.output_overlap(q)
        om, V = sp.symbols("omega V", real=True)
        return GaussianAverage(self.log_partition(om, V).subs({om: sp.sqrt(Q) * z, V: 1 - Q}), z)

    def rs_gamma_out(self, q, z):
        return None


def _check_kappa(K, kappa):
    """A numeric output margin must give a count threshold 1 ≤ m(κ) ≤ K (module
    docstring): ValueError naming kappa otherwise (early check; the numerics,
    :func:`solvers.committee.margin_threshold`, decide at the steps)."""
    x = (float(K) + float(kappa) * float(K) ** 0.5) / 2
    if x < -1e-12 or x >= float(K) - 1e-12 * float(K):
        raise ValueError(f"kappa: the output margin of the K = {K} committee needs "
                         f"-sqrt(K) <= kappa < sqrt(K) (count threshold 1 <= m <= K), got {kappa}")


def validate_committee(K, activation):
    """Check (K, activation); returns (K as int or inf, activation). Raises ValueError
    naming the parameter (the solvers turn it into a ParameterError)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {activation!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}")
    try:
        Kf = float(K)
    except (TypeError, ValueError):
        raise ValueError(f"K: must be a positive integer or inf, got {K!r}") from None
    if Kf == float("inf"):
        return Kf, activation
    if not (Kf == int(Kf) and Kf >= 1):
        raise ValueError(f"K: must be a positive integer or inf, got {K!r}")
    Ki = int(Kf)
    if activation == "sign" and Ki % 2 == 0:
        raise ValueError(f"K: the sign committee needs an odd K (majority vote), got {Ki}")
    if activation == "relu" and Ki == 1:
        raise ValueError("K: the ReLU committee needs K ≥ 2 (with one unit read with +1 "
                         "the output can never be negative)")
    return Ki, activation


def committee_channel(K, activation, margin=False):
    """The channel for (K, activation): finite K or K = inf; ``margin``: with the output
    margin control ``kappa`` (K = inf; sign units at odd K ≥ 3: the count threshold
    m(κ) of :class:`SignCommitteeLogZ`; ReLU units at K ≥ 2: the threshold κσ_K on the
    raw output, :class:`ReluCommitteeLogZ`; ValueError naming K for K = 1)."""
    K, activation = validate_committee(K, activation)
    if K == float("inf"):
        return WideCommitteeChannel(activation, "kappa" if margin else None)
    return TreeCommitteeChannel(K, activation, "kappa" if margin else None)


def tree_committee(prior, K, activation, name=None, margin=False):
    """RS free entropy of the tree committee with the given weight prior.

    Parameters
    ----------
    prior : Prior
        ``SphericalPrior()`` or ``BinaryPrior()`` (weights of every branch).
    K : int or float("inf")
        Hidden units (odd for sign; ≥ 2 for relu); ``inf`` for the K → ∞ limit.
    activation : {"sign", "relu"}
    name : str, optional
        Family name (the model is named ``name[K=..,activation=..]``).
    margin : bool
        Add the output margin control ``kappa`` (:class:`WideCommitteeChannel` at
        K = inf; sign units at odd K ≥ 3 and ReLU units at K ≥ 2,
        :class:`TreeCommitteeChannel`).

    Examples
    --------
    >>> from replica.committee import tree_committee
    >>> from replica.components import SphericalPrior
    >>> fe = tree_committee(SphericalPrior(), 3, "sign", name="tree-committee")
    >>> fe.name, [c.name for c in fe.controls]
    ('tree-committee[K=3,activation=sign]', ['alpha'])
    >>> print(fe.term("energetic").expr)
    alpha*SignCommitteeLogZ(q, 3, 0)
    """
    from .ansatz import replica_symmetric
    ch = committee_channel(K, activation, margin)
    Ks = "inf" if ch.name == "wide-committee" else str(ch.K)
    name = name or f"{prior.name}-tree-committee" + ("-margin" if margin else "")
    fe = replica_symmetric(
        prior, ch, f"{name}[K={Ks},activation={activation}]",
        f"Tree committee machine, K={Ks} {activation} hidden units, {prior.name} weights, "
        f"output margin {'kappa' if margin else 0}, RS ({_BHS}; {_BMZ}).")
    fe.meta["committee"] = {"K": Ks, "activation": activation, "margin": bool(margin)}
    if isinstance(ch, TreeCommitteeChannel) and ch.K > 1:
        # the K-field average is a quasi-Monte Carlo estimate (solvers.committee): its
        # error (~1e-5 at K = 3, measured against a product quadrature) is far above
        # the 1e-7 alarm of the deterministic quadratures; doubling the points changes
        # it by ~1e-5, so the alarm is QMC_ALARM, and the numerical q -> 1 check of
        # the capacity (Richardson on α at 1-q = 1e-4, 1e-5, which amplifies the
        # error ~10x) is held to QMC_Q_TO_ONE_RTOL
        fe.meta["quadrature_alarm"] = QMC_ALARM
        fe.meta["q_to_one_check_rtol"] = QMC_Q_TO_ONE_RTOL
        # binary weights: the entropy-zero capacity is a smaller fraction of the RS
        # q -> 1 value than for the perceptron (0.36 at K = 3, falling with K, since the
        # q -> 1 value grows like √K): start the search at 0.15 of it
        fe.meta["capacity_start_fraction"] = 0.15
        if activation == "sign":
            # λ_AT ≃ −2α_c J/(1 − q) as q → 1 (SignCommitteeReplicon): no finite limit
            # to extrapolate; solvers.capacity reports −inf (unstable)
            fe.meta["replicon_q_to_one"] = "diverges"
        elif ch.K >= 3:
            # ReLU, K ≥ 3: the output region is a union, the min-cost has gradient jumps
            # and (1 − q)²γ_out grows like 1/(1 − q) (ReluCommitteeReplicon); K = 2 has a
            # convex region and a finite limit
            fe.meta["replicon_q_to_one"] = "diverges"
        elif margin:
            # K = 2 with an output margin: convex region {λ1 ≥ t + relu(λ2)} for κ ≥ 0
            # (finite limit), a union {λ2 ≤ |t|} ∪ {λ1 − λ2 ≥ −|t|} for κ < 0 (a ridge
            # where the two costs are equal: diverges); solvers.capacity reads κ
            fe.meta["replicon_q_to_one"] = "diverges for kappa < 0"
    if isinstance(ch, WideCommitteeChannel) and activation == "relu":
        # 1 - Q(1-ε) = Q'(1) ε - (2√2/(3(π-1))) ε^{3/2} + ...: the numerical q -> 1
        # approach has a leading √ε correction (solvers.capacity extrapolates with it)
        fe.meta["q_to_one_exponent"] = 0.5
    return fe


#: See tree_committee: accuracy statements for the QMC-estimated K-field average.
QMC_ALARM = 1e-3
QMC_Q_TO_ONE_RTOL = 2e-3
