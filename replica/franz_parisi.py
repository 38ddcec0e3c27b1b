r"""Franz–Parisi (FP) ansatz: solutions at fixed overlap p with a reference solution.

A reference :math:`\tilde w` is drawn from the equilibrium measure of a *reference
problem* (same prior; channel ``reference`` — e.g. margin :math:`\tilde\kappa`); we count
the solutions :math:`w` of the *constrained problem* (channel ``channel``, margin κ) at
overlap :math:`p = w\cdot\tilde w/N` (distance :math:`d = (1-p)/2`). Replica symmetric,
quenched over the reference (Franz & Parisi, J. Phys. I 5, 1401 (1995); for the binary
perceptron Huang & Kabashima, PRE 90, 052813 (2014), arXiv:1408.1784, and Baldassi et al.,
PRL 127, 278301 (2021), arXiv:2107.01163, eq. (3)):

.. math::
   \Phi_{FP}(p) = \tfrac12 q_1\hat q_1 + c(\hat q_1) - \hat p\,p + \hat t\,t
      + \mathbb{E}_z\Big\langle \mathbb{E}_\eta \ln Z_{\mathrm{in}}\big(
          \tfrac{\hat t}{\sqrt{\tilde{\hat q}}}z + \sqrt{\hat q_1 - \hat t^2/\tilde{\hat q}}\,\eta
          + (\hat p - \hat t)\,s\big)\Big\rangle_{s\sim P(s\mid\sqrt{\tilde{\hat q}}z)}
      + \alpha\,\mathbb{E}_z\frac{\int Dx\,P^{\mathrm{ref}}_{\mathrm{out}}(\sqrt{\tilde q}z+\sqrt{1-\tilde q}x)\,
          \mathbb{E}_y\ln Z_{\mathrm{out}}(m, 1-q_1)}
         {Z^{\mathrm{ref}}_{\mathrm{out}}(\sqrt{\tilde q}z, 1-\tilde q)},

with :math:`m = \frac{t}{\sqrt{\tilde q}}z + \frac{p-t}{\sqrt{1-\tilde q}}x
+ \sqrt{q_1 - \frac{t^2}{\tilde q} - \frac{(p-t)^2}{1-\tilde q}}\,y`.
Order parameters: :math:`q_1` (overlap of two constrained replicas around the same
reference), :math:`t` (constrained replica vs another reference); conjugates
:math:`\hat q_1, \hat t, \hat p`. The reference's own RS saddle :math:`(\tilde q,
\tilde{\hat q})` is not affected by the constrained replicas (n → 0 for the references,
s → 0 for the constrained ones): it enters as the controls ``q_ref``, ``qhat_ref``, filled
in by :func:`solvers.local_entropy.local_entropy` from the RS reference problem.

Notation differs from Huang–Kabashima (their :math:`R` is our p, their :math:`\hat R` our
:math:`\hat p`) only in names. Checks (tests/test_franz_parisi.py): at α = 0 the FP
entropy is the log-volume at fixed overlap (binary :math:`-d\ln d-(1-d)\ln(1-d)`);
with :math:`\tilde\kappa = \kappa` and :math:`p = \tilde q`, the point :math:`q_1 = t =
\tilde q`, :math:`\hat q_1 = \hat t = \hat p = \tilde{\hat q}` is stationary with
:math:`\Phi_{FP}` equal to the RS entropy.

**Output-overlap map (committee machines).** A channel may define
``output_overlap(q)``: the correlation of two replicas' *output* pre-activations when
their weights have overlap q. It is the identity for the perceptron channels (absent:
the expressions are then exactly the ones above), and
:func:`replica.committee.kernel_overlap` for the K → ∞ tree committee
(:class:`replica.committee.WideCommitteeChannel`). Derivation: in the committee the
hidden fields :math:`\lambda_l^a` of branch l, over all replicas a (references and
constrained ones), are jointly Gaussian with covariance the overlap matrix
:math:`q_{ab}` (equal on all branches in RS), independently across branches; the
output :math:`u^a = K^{-1/2}\sum_l c_l g(\lambda^a_l)` is, by the CLT as K → ∞, jointly
Gaussian with covariance :math:`Q(q_{ab})` elementwise (BHS 1992 sec. IV for sign
units; Baldassi, Malatesta & Zecchina, PRL 123, 170602 (2019), arXiv 1907.07578, for
ReLU). The energetic term is the average of a function of the outputs only, so it is
the perceptron's functional of the overlap matrix evaluated at :math:`Q(q_{ab})`: in
the formula above :math:`\tilde q \to Q(\tilde q)`, :math:`q_1 \to Q(q_1)`,
:math:`t \to Q(t)`, :math:`p \to Q(p)` (the reference's output channel, a margin-0
constraint, becomes the truncated Gaussian on the mapped fields). The entropic term
counts weights, and keeps the bare p, q_1, t. Q(q) is the kernel formula on all of
[−1, 1]: odd for sign, not odd for ReLU (Q(−1) = −1/(π−1)); t < 0 only occurs far from
the reference (p < 0), where the formula applies unchanged. The mapped overlap matrix
is a valid covariance (Schur: Q has non-negative Taylor coefficients), so the residual
variance under the square root stays ≥ 0. Finite K is not covered by this map (the
outputs are then not Gaussian): a channel may instead define
``fp_energetic(q_ref, p, t, q1, alpha, reference)``, which returns the whole energetic
term (the finite-K sign committee, :mod:`replica.committee_fp`) or None for the
formula above.
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage
from .functions import H
from .components import Channel, MarginChannel, Prior
from .free_energy import FreeEnergy, Term
from .symbols import Conjugate, Control, GaussVar, OrderParameter

__all__ = ["franz_parisi", "output_overlap_map", "posterior_average", "reference_average"]

_SRC = ("Franz & Parisi, J. Phys. I 5, 1401 (1995); Huang & Kabashima, PRE 90, 052813 (2014); "
        "Baldassi et al., PRL 127, 278301 (2021) eq. (3)")


def posterior_average(prior: Prior, f, s, g):
    r""":math:`\langle f(s)\rangle` over the reference weight :math:`s` with law
    :math:`\propto P(s)e^{gs}` (the reference's RS cavity field is g).

    Binary: :math:`\sum_{s=\pm1}\frac{e^{gs}}{2\cosh g}f(s)`.
    """
    if prior.name == "binary":
        th = sp.tanh(g)
        return ((1 + th) * f.subs(s, 1) + (1 - th) * f.subs(s, -1)) / 2
    raise NotImplementedError(f"Franz–Parisi entropic term not available for prior {prior.name!r}")


def reference_average(channel: Channel, f, x, omega, V):
    r""":math:`\int Dx\,P_{\mathrm{out}}(\omega+\sqrt V x) f(x) / Z_{\mathrm{out}}(\omega, V)`:
    the average over the reference's pattern field given its cavity mean ω.

    Margin channel: the truncated Gaussian :math:`x > x_0 = (\tilde\kappa-\omega)/\sqrt V`.
    """
    if type(channel) is MarginChannel:
        x0 = (channel.kappa - omega) / sp.sqrt(V)
        from .functions import H
        return GaussianAverage(f, x, x0, sp.oo) / H(x0)
    if hasattr(channel, "posterior"):  # Gibbs measure of a loss (LossChannel): tilted average
        return channel.posterior(f, x, omega, V)
    raise NotImplementedError(f"reference channel {channel.name!r} not available for Franz–Parisi")


def _identity(q):
    return q


def output_overlap_map(channel: Channel, reference: Channel):
    r"""The output-overlap map :math:`q \mapsto Q(q)` shared by ``channel`` and ``reference``
    (module docstring): ``channel.output_overlap`` if defined, else the identity.

    Raises ValueError when the two channels map overlaps differently (a reference of
    another architecture: the overlap matrix would have no single output covariance).

    >>> import sympy as sp
    >>> from replica import MarginChannel
    >>> from replica.committee import WideCommitteeChannel
    >>> q = sp.Symbol("q")
    >>> output_overlap_map(MarginChannel(), MarginChannel("kappa_ref"))(q)
    q
    >>> ch = WideCommitteeChannel("sign")
    >>> output_overlap_map(ch, ch)(q)
    KernelOverlap(q, 0, 0)
    """
    maps = [getattr(c, "output_overlap", None) or _identity for c in (channel, reference)]
    u = sp.Symbol("u_overlap", real=True)
    if sp.simplify(maps[0](u) - maps[1](u)) != 0:
        raise ValueError(f"reference: channel {channel.name!r} and reference channel "
                         f"{reference.name!r} have different output-overlap maps")
    return maps[0]


def _collapsed_energetic(channel, ref_avg, x, alpha, z, V, a, b, c2):
    r"""The energetic term with the (x, y) pair reduced to one Gaussian direction, when
    the reference measure is a truncated Gaussian (margin references); else None.

    With the constrained field :math:`m = a z + b x + c y` (c ≥ 0) and
    :math:`r = \sqrt{b^2 + c^2}`, rotating (x, y) to :math:`u = (bx + cy)/r` and the
    orthogonal :math:`v` (x = (b u + c v)/r) and integrating v over x > x0 exactly:

    .. math::
       \int_{x_0}^\infty Dx\int Dy\, F(az + bx + cy)
         = \int Du\, H\!\left(\frac{x_0 r - b u}{c}\right) F(az + ru).

    Here :math:`r^2 = q_1 - t^2/\tilde q` (on the output overlaps), independent of p. One
    level of quadrature fewer (the Huang–Kabashima form, PRE 90, 052813 (2014)); it is
    exact for c > 0 but 0/0 where c = 0 (the typical point p = q̃, q1 = t = q̃, and the
    α = 0 saddle), and its derivatives lose digits where r → 0 too (near the typical
    point r, b, c all vanish like |p − q̃| and 1/r, 1/c terms cancel), and where the
    weight is a step much narrower than the Gaussian (c/|b| small: its derivatives are
    spikes of that width). So it is returned as ``meta["fast_form"]`` with c², r² and
    c²/b², which must stay away from 0: the compiled model uses it where all three
    exceed ``FAST_FORM_MIN``
    (:mod:`solvers.constants`) and the 3-level form elsewhere; the mpmath back end
    always uses the 3-level form, which makes the 30-digit cross-check an independent
    route.
    """
    facs = sp.Mul.make_args(ref_avg)
    avgs = [f for f in facs if isinstance(f, GaussianAverage) and f.var == x]
    if len(avgs) != 1 or avgs[0].upper != sp.oo or avgs[0].lower == -sp.oo:
        return None
    outer = avgs[0]
    x0 = outer.lower
    if sp.simplify(ref_avg * H(x0) - outer) != 0:
        return None
    u = GaussVar("u")
    r = sp.sqrt(c2 + b**2)
    om, VV = sp.symbols("omega V", real=True)
    lz_u = channel.log_partition(om, VV).subs({om: a * z + r * u, VV: V})
    inner = GaussianAverage(H((x0 * r - b * u) / sp.sqrt(c2)) * lz_u, u) / H(x0)
    return {"terms": {"energetic": alpha * GaussianAverage(inner, z)},
            "valid_if": {"residual_variance": c2, "collapsed_variance": c2 + b**2,
                         "step_width": c2 / b**2},
            # the constrained field's residual variance, under a square root in both forms
            "domain": {"residual_variance": c2},
            "description": "energetic term with the (x, y) pair collapsed to one direction"}


def franz_parisi(prior: Prior, channel: Channel, reference: Channel, name: str,
                 description: str = "") -> FreeEnergy:
    """Build the RS Franz–Parisi free entropy (see module docstring).

    ``reference`` is the channel of the reference problem, with its own control names
    (e.g. ``MarginChannel("kappa_ref")``); it may share the constrained channel's margin
    (pass the same instance) for references of the same problem.

    Examples
    --------
    Solutions of margin κ around references of margin κ̃ (Baldassi et al., PRL 127,
    278301 (2021)); ``q_ref``, ``qhat_ref`` are the reference's RS saddle, which
    :func:`solvers.local_entropy.local_entropy` fills in:

    >>> from replica import BinaryPrior, MarginChannel, franz_parisi
    >>> fp = franz_parisi(BinaryPrior(), MarginChannel(), MarginChannel("kappa_ref"), "fp")
    >>> [v.name for v in fp.variables]
    ['q1', 't', 'q1hat', 'that', 'phat']
    >>> [c.name for c in fp.controls]
    ['alpha', 'kappa', 'kappa_ref', 'p', 'q_ref', 'qhat_ref']
    """
    q1 = OrderParameter("q1", domain=(0, 1), latex="q_1", initial=0.5,
                        description="overlap of two constrained replicas (same reference)")
    t = OrderParameter("t", domain=(-1, 1), latex="t", initial=0.3,
                       description="overlap of a constrained replica with another reference")
    q1h = Conjugate("q1hat", domain=(0, None), latex=r"\hat q_1", partner="q1", initial=1.0)
    th = Conjugate("that", domain=(None, None), latex=r"\hat t", partner="t", initial=0.5)
    ph = Conjugate("phat", domain=(None, None), latex=r"\hat p", partner="p", initial=0.5,
                   description="conjugate of the overlap p with the reference")
    alpha = Control("alpha", domain=(0, None), latex=r"\alpha", description="load P/N")
    p = Control("p", domain=(-1, 1), latex="p", description="overlap with the reference, d = (1-p)/2")
    qr = Control("q_ref", domain=(0, 1), latex=r"\tilde q",
                 description="RS overlap of the reference problem (filled in by local_entropy)")
    qhr = Control("qhat_ref", domain=(0, None), latex=r"\tilde{\hat q}",
                  description="RS conjugate of the reference problem (filled in by local_entropy)")
    z, eta, x, y = GaussVar("z"), GaussVar("eta"), GaussVar("x"), GaussVar("y")
    s = sp.Symbol("s", real=True)
    B = sp.Symbol("B", real=True)

    # entropic part
    if prior.name == "spherical":
        # Gaussian weights: the log-volume of the constrained replicas given the
        # references is a log-determinant; with the conjugates eliminated exactly,
        # ½[ln(1-q1) + (q1-γ)/(1-q1)], γ = [(p²-t²)(1-q̃) - q̃(p-t)²]/(1-q̃)²
        # (γ is the part of q1 explained by the references). α = 0 gives ½ ln(1-p²)
        # and p = q1 = t = q̃ gives Gardner's ½ln(1-q̃) + q̃/(2(1-q̃)) (tested).
        gamma = ((p**2 - t**2) * (1 - qr) - qr * (p - t)**2) / (1 - qr)**2
        entropic = (sp.log(1 - q1) + (q1 - gamma) / (1 - q1)) / 2
        coupling = sp.S.Zero
        conjugates = ()
    else:
        field = th / sp.sqrt(qhr) * z + sp.sqrt(q1h - th**2 / qhr) * eta + (ph - th) * s
        inner = GaussianAverage(prior.log_partition(B, q1h).subs(B, field), eta)
        entropic = prior.constant(q1h) + GaussianAverage(
            posterior_average(prior, inner, s, sp.sqrt(qhr) * z), z)
        coupling = q1 * q1h / 2 - ph * p + th * t
        conjugates = (q1h, th, ph)

    # a channel whose output is not one Gaussian field (finite-K committee) builds its
    # own energetic term (``fp_energetic``: None when it takes the path below)
    hook = getattr(channel, "fp_energetic", None)
    energetic = hook(qr, p, t, q1, alpha, reference) if hook is not None else None
    fast = None
    if energetic is None:
        # energetic part, on the output overlaps (identity for perceptrons; module docstring)
        Q = output_overlap_map(channel, reference)
        oq1, ot, op, oqr = Q(q1), Q(t), Q(p), Q(qr)
        V = 1 - oq1
        resid = sp.sqrt(oq1 - ot**2 / oqr - (op - ot)**2 / (1 - oqr))
        m = ot / sp.sqrt(oqr) * z + (op - ot) / sp.sqrt(1 - oqr) * x + resid * y
        om, VV = sp.symbols("omega V", real=True)
        lz = channel.log_partition(om, VV).subs({om: m, VV: V})
        ref_avg = reference_average(reference, GaussianAverage(lz, y), x, sp.sqrt(oqr) * z, 1 - oqr)
        energetic = alpha * GaussianAverage(ref_avg, z)
        fast = _collapsed_energetic(channel, ref_avg, x, alpha, z, V,
                                    a=ot / sp.sqrt(oqr), b=(op - ot) / sp.sqrt(1 - oqr), c2=resid**2)

    terms = [
        Term("coupling", coupling, _SRC),
        Term("entropic", entropic, _SRC + "; " + prior.source),
        Term("energetic", energetic, _SRC + "; " + channel.source),
    ]
    ref_controls = tuple(c for c in reference.controls() if c not in channel.controls())
    return FreeEnergy(
        name=name, terms=terms, order_parameters=(q1, t), conjugates=conjugates,
        controls=(alpha,) + tuple(channel.controls()) + ref_controls + (p, qr, qhr),
        description=description,
        meta={"ansatz": "franz-parisi", "prior": prior, "channel": channel, "reference": reference,
              "load": "alpha", "overlap_control": "p", "reference_controls": ("q_ref", "qhat_ref"),
              "reference_channel_controls": tuple(c.name for c in ref_controls),
              **({"fast_form": fast} if fast is not None else {})},
    )
