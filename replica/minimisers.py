r"""Zero-temperature limit of a loss reference: minimisers of a differentiable loss.

The Franz–Parisi potential around references drawn from the Gibbs measure
:math:`e^{-\beta\sum_\mu\ell(\tilde w\cdot\xi^\mu/\sqrt N)}` over ±1 weights
(:class:`replica.components.LossChannel`, :func:`replica.franz_parisi.franz_parisi`)
is taken here at β → ∞: the references are the minimisers of the loss (Baldassi,
Pittorino & Zecchina, PNAS 117, 161 (2020), arXiv 1905.07833, sec. "Cross-entropy
minimisers"; the same Laplace/Moreau construction as their zero-temperature equations).
Everything below is **derived here**; each step is checked numerically in
``tests/test_loss_zero_t.py`` (finite β → ∞, α = 0, the typical point, mpmath).

1. The reference at T = 0
-------------------------
RS free entropy of the reference (β finite):

.. math:: \phi_\beta = -\tfrac12\tilde{\hat q}(1-\tilde q) + \mathbb E_z\ln 2\cosh(\sqrt{\tilde{\hat q}}z)
          + \alpha\,\mathbb E_z\ln\mathbb E_x e^{-\beta\ell(\sqrt{\tilde q}z+\sqrt{1-\tilde q}x)} .

Scaling (the ground state is isolated, q̃ → 1): :math:`\tilde q = 1 - \tilde x/\beta`,
:math:`\tilde{\hat q} = \beta^2\hat r^2` with x̃, r̂ finite. Then

* :math:`\ln 2\cosh u = |u| + \ln(1+e^{-2|u|})`, so
  :math:`\mathbb E_z\ln2\cosh(\beta\hat r z) = \beta\hat r\sqrt{2/\pi} + O(1/\beta)`, and the
  entropic part is :math:`\beta[-\hat r^2\tilde x/2 + \hat r\sqrt{2/\pi}] + O(1)`;
* with :math:`v = \sqrt{1-\tilde q}\,x` (variance x̃/β), Laplace's method gives
  :math:`\ln\mathbb E_x e^{-\beta\ell(z+v)} = -\beta M_\ell(z;\tilde x) + O(\ln\beta)`,
  :math:`M_\ell(z;\tilde x) = \min_v[v^2/(2\tilde x) + \ell(z+v)]` (Moreau envelope,
  :mod:`replica.prox`; √q̃ z → z at leading order).

So :math:`\phi_\beta/\beta \to \phi_0(\tilde x, \hat r) = -\hat r^2\tilde x/2 + \hat r\sqrt{2/\pi}
- \alpha\,\mathbb E_z M_\ell(z;\tilde x)` (:func:`loss_ground_state`). Stationarity:
:math:`\hat r = \sqrt{2/\pi}/\tilde x` and (envelope theorem, :math:`\partial_x M = -v^{*2}/(2x^2)`)
:math:`\alpha\,\mathbb E_z v^*(z)^2 = 2/\pi`. At the saddle
:math:`\phi_0 = 1/(\pi\tilde x) - \alpha\mathbb E[v^{*2}]/(2\tilde x) - \alpha\mathbb E\ell(h^*)
= -\alpha\,\mathbb E_z\ell(z + v^*(z))`: minus the ground-state loss per weight (observable
``energy``). The reference's pattern field given its cavity field z concentrates on the
proximal point :math:`\tilde h(z) = z + v^*(z)` (the posterior of v is
:math:`\propto e^{-\beta[v^2/(2\tilde x)+\ell(z+v)]}`, of width :math:`O(\beta^{-1/2})`), and its
weight given the cavity field :math:`\sqrt{\tilde{\hat q}}z` is :math:`\mathrm{sign}(z)`.

2. The Franz–Parisi functional at β = ∞
---------------------------------------
Start from the finite-β functional of :mod:`replica.franz_parisi` (binary weights):

.. math::
   \Phi = \tfrac12 q_1\hat q_1 - \tfrac12\hat q_1 - \hat p p + \hat t t
     + \mathbb E_z\langle\mathbb E_\eta\ln2\cosh(\tfrac{\hat t}{\sqrt{\tilde{\hat q}}}z
       + \sqrt{\hat q_1 - \hat t^2/\tilde{\hat q}}\,\eta + (\hat p-\hat t)s)\rangle_s
     + \alpha\,\mathbb E_z\langle\mathbb E_y\ln H(\tfrac{\kappa - m}{\sqrt{1-q_1}})\rangle_x,
   \quad m = \tfrac{t}{\sqrt{\tilde q}}z + \tfrac{p-t}{\sqrt{1-\tilde q}}x
     + \sqrt{q_1 - \tfrac{t^2}{\tilde q} - \tfrac{(p-t)^2}{1-\tilde q}}\,y .

All references have mutual overlap q̃ → 1, so a constrained replica's overlap t with
*another* reference tends to its overlap p with its own: :math:`p - t = O(1/\beta)`.
Finite combinations (the new order parameters) and the limits:

* :math:`\rho = (p-t)/(1-\tilde q)` (finite; :math:`\beta(p-t) = \rho\tilde x`). In m,
  :math:`\frac{p-t}{\sqrt{1-\tilde q}}x = \rho\sqrt{1-\tilde q}\,x = \rho\,v` and v concentrates
  on :math:`v^*(z)`; :math:`t/\sqrt{\tilde q}\to p`; the residual variance
  :math:`\to q_1 - p^2` (the term :math:`(p-t)^2/(1-\tilde q) = \rho^2\tilde x/\beta \to 0`). So
  :math:`m \to p z + \rho\,v^*(z) + \sqrt{q_1-p^2}\,y`: the constrained field is correlated
  with the references' common cavity field z and with its own reference's proximal shift.
* :math:`\tau = \hat t/\sqrt{\tilde{\hat q}}` (finite, i.e. :math:`\hat t = O(\beta)`) and
  :math:`\hat\epsilon = \hat p - \hat t` (finite); s → sign(z).
* coupling: :math:`-\hat p p + \hat t t = -\hat t(p-t) - \hat\epsilon p
  = -\sqrt{\tilde{\hat q}}\,\tau\,\rho\,(1-\tilde q) - \hat\epsilon p \to -\hat r\tilde x\,\tau\rho - \hat\epsilon p`
  (:math:`\sqrt{\tilde{\hat q}}(1-\tilde q) = \beta\hat r\cdot\tilde x/\beta`; = √(2/π) τρ at the
  reference's saddle).

Result (:func:`franz_parisi_minimisers`), with variables :math:`(q_1, \rho, \hat q_1, \tau, \hat\epsilon)`:

.. math::
   \Phi_\infty(p) = \tfrac12 q_1\hat q_1 - \tfrac12\hat q_1 - \hat r\tilde x\,\tau\rho - \hat\epsilon p
     + 2\int_0^\infty\!Dz\;\mathbb E_\eta\ln2\cosh(\tau z + \hat\epsilon + \sqrt{\hat q_1-\tau^2}\,\eta)
     + \alpha\,\mathbb E_{z,y}\ln H\Big(\frac{\kappa - pz - \rho v^*(z) - \sqrt{q_1-p^2}\,y}{\sqrt{1-q_1}}\Big)

(the s = sign(z) average folded onto z > 0 by the symmetry z, η → −z, −η). The
corrections are O(1/β) (the posterior of v has variance O(1/β) about a mean O(1/β) from
v*; tanh(β r̂ z) differs from sign z on |z| ≲ 1/β).

Checks (tests/test_loss_zero_t.py): (i) α = 0: at τ = ρ = 0, q̂1 = 0, ε̂ = atanh p, the
entropic part is :math:`\ln2\cosh\hat\epsilon - \hat\epsilon p = -d\ln d-(1-d)\ln(1-d)`;
(ii) the typical point of the constrained problem: with its RS saddle (q, q̂), the point
ρ = 0 = ε̂, q1 = q, q̂1 = q̂ leaves :math:`\Phi_\infty = s_{RS}(\alpha,\kappa)` for any τ and p
(m ~ N(0, q) whatever p); stationarity in ρ and ε̂ fixes τ and p* (the overlap of a
typical solution with the minimiser), where :math:`d\Phi_\infty/dp = 0`: the maximum
of the curve is the RS entropy; (iii) the finite-β curves converge to these values like
1/β.
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage
from .components import LossChannel, MarginChannel, Prior
from .free_energy import FreeEnergy, Observable, Term
from .functions import LogCosh2
from .prox import MoreauEnvelope, ProxShift, prox_loss_index
from .symbols import Conjugate, Control, GaussVar, OrderParameter

__all__ = ["loss_ground_state", "franz_parisi_minimisers"]

_SRC = ("derived here (replica.minimisers): β → ∞ of the Franz–Parisi functional around the "
        "Gibbs measure of a loss; Baldassi, Pittorino, Zecchina, PNAS 117, 161 (2020)")


def _binary_only(prior):
    if prior.name != "binary":
        raise NotImplementedError(f"the zero-temperature loss reference is derived for ±1 weights; "
                                  f"got prior {prior.name!r}")


def loss_ground_state(prior: Prior, loss: LossChannel, name: str) -> FreeEnergy:
    r"""Zero-temperature RS free entropy per β of the Gibbs measure of ``loss``
    (module docstring, part 1): :math:`\phi_0(\tilde x, \hat r) = -\hat r^2\tilde x/2
    + \hat r\sqrt{2/\pi} - \alpha\,\mathbb E_z M_\ell(z;\tilde x)`; order parameter ``x``
    (:math:`\lim\beta(1-\tilde q)`), conjugate ``rhat`` (:math:`\lim\sqrt{\tilde{\hat q}}/\beta`);
    controls α and the loss parameter. Observable ``energy``: the ground-state loss per
    weight :math:`\alpha\mathbb E_z\ell(z+v^*(z))` (= −φ0 at the saddle).

    >>> from replica import BinaryPrior
    >>> from replica.components import LossChannel
    >>> fe = loss_ground_state(BinaryPrior(), LossChannel("ce"), "ce-T0")
    >>> [v.name for v in fe.variables], [c.name for c in fe.controls]
    (['x', 'rhat'], ['alpha', 'gamma'])
    """
    _binary_only(prior)
    x = OrderParameter("x", domain=(0, None), latex=r"\tilde x", initial=1.0,
                       description="lim β(1 − q) of the loss Gibbs measure (β → ∞)")
    rh = Conjugate("rhat", domain=(0, None), latex=r"\hat r", partner="x", initial=1.0,
                   description="lim sqrt(qhat)/β")
    alpha = Control("alpha", domain=(0, None), latex=r"\alpha", description="load P/N")
    c, L = loss.param, prox_loss_index(loss.loss)
    z = GaussVar("z")
    h = z + ProxShift(z, x, c, L)
    terms = [
        Term("coupling", -rh**2 * x / 2, _SRC),
        Term("entropic", rh * sp.sqrt(2 / sp.pi), _SRC + "; E_z ln 2cosh(β r z)/β → r E|z|"),
        Term("energetic", -alpha * GaussianAverage(MoreauEnvelope(z, x, c, L), z),
             _SRC + "; Laplace: (1/β) ln E_x e^{-βℓ} → −Moreau envelope; " + loss.source),
    ]
    energy = Observable("energy", alpha * GaussianAverage(loss._fn(h, c), z), _SRC,
                        "ground-state loss per weight α E_z ℓ(z + v*(z)) (= −φ0 at the saddle)")
    return FreeEnergy(
        name=name, terms=terms, order_parameters=(x,), conjugates=(rh,),
        controls=(alpha, c), observables=[energy],
        description=f"{prior.name} weights, minimisers of the {loss.loss} loss (β → ∞)",
        meta={"ansatz": "rs-zero-temperature", "prior": prior, "channel": loss, "load": "alpha"},
    )


def franz_parisi_minimisers(prior: Prior, channel: MarginChannel, reference: LossChannel,
                            name: str) -> FreeEnergy:
    r"""Franz–Parisi free entropy :math:`\Phi_\infty(p)` around minimisers of the loss of
    ``reference`` (module docstring, part 2). Variables ``q1, rho, q1hat, tau, ehat``;
    controls ``alpha``, the channel's, the reference's loss parameter (prefixed as in
    ``reference``), ``p``, and the reference's T = 0 saddle ``x_ref``, ``rhat_ref``.

    >>> from replica import BinaryPrior, MarginChannel
    >>> from replica.components import LossChannel
    >>> fe = franz_parisi_minimisers(BinaryPrior(), MarginChannel(), LossChannel("ce", "ref_"), "fp")
    >>> [v.name for v in fe.variables]
    ['q1', 'rho', 'q1hat', 'tau', 'ehat']
    >>> [c.name for c in fe.controls]
    ['alpha', 'kappa', 'ref_gamma', 'p', 'x_ref', 'rhat_ref']
    """
    _binary_only(prior)
    q1 = OrderParameter("q1", domain=(0, 1), latex="q_1", initial=0.5,
                        description="overlap of two constrained replicas (same reference)")
    rho = OrderParameter("rho", domain=(None, None), latex=r"\rho", initial=0.0,
                         description="(p − t)/(1 − q_ref) at β → ∞, t the overlap with another reference")
    q1h = Conjugate("q1hat", domain=(0, None), latex=r"\hat q_1", partner="q1", initial=1.0)
    tau = Conjugate("tau", domain=(None, None), latex=r"\tau", partner="rho", initial=0.5,
                    description="that/sqrt(qhat_ref) at β → ∞")
    eh = Conjugate("ehat", domain=(None, None), latex=r"\hat\epsilon", partner="p", initial=0.0,
                   description="phat − that at β → ∞")
    alpha = Control("alpha", domain=(0, None), latex=r"\alpha", description="load P/N")
    p = Control("p", domain=(-1, 1), latex="p", description="overlap with the reference, d = (1-p)/2")
    xr = Control("x_ref", domain=(0, None), latex=r"\tilde x",
                 description="lim β(1 − q_ref) of the reference (filled in by local_entropy)")
    rr = Control("rhat_ref", domain=(0, None), latex=r"\hat r",
                 description="lim sqrt(qhat_ref)/β of the reference (filled in by local_entropy)")
    z, eta, y = GaussVar("z"), GaussVar("eta"), GaussVar("y")
    c, L = reference.param, prox_loss_index(reference.loss)

    field = tau * z + eh + sp.sqrt(q1h - tau**2) * eta
    entropic = -q1h / 2 + 2 * GaussianAverage(GaussianAverage(LogCosh2(field), eta), z, 0, sp.oo)
    m = p * z + rho * ProxShift(z, xr, c, L) + sp.sqrt(q1 - p**2) * y
    om, VV = sp.symbols("omega V", real=True)
    lz = channel.log_partition(om, VV).subs({om: m, VV: 1 - q1})
    energetic = alpha * GaussianAverage(GaussianAverage(lz, y), z)
    terms = [
        Term("coupling", q1 * q1h / 2 - rr * xr * tau * rho - eh * p, _SRC),
        Term("entropic", entropic, _SRC + "; " + prior.source),
        Term("energetic", energetic, _SRC + "; " + channel.source),
    ]
    return FreeEnergy(
        name=name, terms=terms, order_parameters=(q1, rho), conjugates=(q1h, tau, eh),
        controls=(alpha,) + tuple(channel.controls()) + (c, p, xr, rr),
        description=f"Franz–Parisi entropy around minimisers of the {reference.loss} loss (β → ∞)",
        meta={"ansatz": "franz-parisi-minimisers", "prior": prior, "channel": channel,
              "reference": reference, "load": "alpha", "overlap_control": "p",
              "reference_controls": ("x_ref", "rhat_ref"),
              "reference_channel_controls": (c.name,)},
    )
