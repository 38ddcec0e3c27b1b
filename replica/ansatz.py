r"""Ansätze: how a prior and a channel are combined into a free entropy.

Replica symmetric (RS), for a prior with :math:`Z_{\mathrm{in}}` and a channel with
:math:`Z_{\mathrm{out}}` (see :mod:`replica.components`):

.. math::
    \Phi_{RS}(q,\hat q) = \tfrac12 q\hat q + c(\hat q)
        + \mathbb{E}_z\ln Z_{\mathrm{in}}(\sqrt{\hat q}z)
        + \alpha\,\mathbb{E}_z\ln Z_{\mathrm{out}}(\sqrt q z, 1-q)

(Gardner, J. Phys. A 21, 257 (1988); Gardner & Derrida, J. Phys. A 21, 271 (1988);
in this general form Zdeborová & Krzakala, Adv. Phys. 65, 453 (2016), eq. (92)).

The de Almeida–Thouless (replicon) eigenvalue of the RS saddle is

.. math::
    \lambda_{AT} = 1 - \alpha\,
        \mathbb{E}_z\!\left[(\partial_B^2\ln Z_{\mathrm{in}})^2\right]
        \mathbb{E}_z\!\left[(\partial_\omega^2\ln Z_{\mathrm{out}})^2\right],

RS being stable for :math:`\lambda_{AT} > 0` (de Almeida & Thouless, J. Phys. A 11,
983 (1978); for the spherical perceptron Gardner & Derrida 1988, eq. (38)).

Other ansätze (Franz–Parisi around a reference, replicated local entropy, 1RSB)
are further functions here with the same signature: ``(prior, channel, name, ...)``
→ :class:`~replica.free_energy.FreeEnergy`.
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage
from .components import Channel, Prior
from .free_energy import FreeEnergy, Observable, Term
from .symbols import Conjugate, Control, GaussVar, OrderParameter

__all__ = ["replica_symmetric", "ANSATZE"]


def _alpha():
    return Control("alpha", domain=(0, None), latex=r"\alpha",
                   description="load: number of patterns per weight, P/N")


def replica_symmetric(prior: Prior, channel: Channel, name: str, description: str = "") -> FreeEnergy:
    """Build the RS free entropy of ``prior`` with ``channel`` (see module docstring).

    Parameters
    ----------
    prior : Prior
        The weights (:class:`~replica.components.BinaryPrior`, ``SphericalPrior``, or a
        subclass of :class:`~replica.components.Prior`).
    channel : Channel
        What each pattern imposes (``MarginChannel``, ``ErrorCountingChannel``, or a
        subclass of :class:`~replica.components.Channel`); its controls are added to α.
    name : str
        Model identifier (used in results and as part of the compilation cache key).
    description : str, optional

    Returns
    -------
    FreeEnergy
        Order parameter q, conjugate q̂, controls (α, channel controls...), terms
        "coupling", "entropic", "energetic", and the AT ``replicon`` observable.

    Examples
    --------
    >>> from replica import BinaryPrior, MarginChannel, replica_symmetric
    >>> fe = replica_symmetric(BinaryPrior(), MarginChannel(), "my-binary-perceptron")
    >>> [t.name for t in fe.terms], [c.name for c in fe.controls]
    (['coupling', 'entropic', 'energetic'], ['alpha', 'kappa'])
    >>> fe.saddle_equations()[0]
    Eq(q, E[tanh(sqrt(qhat)*z)**2, z])
    """
    q = OrderParameter("q", domain=(0, 1), latex="q",
                       description="overlap between two solutions (replicas)", initial=0.5)
    qh = Conjugate("qhat", domain=(0, None), latex=r"\hat q", partner="q",
                   description="conjugate of q", initial=1.0)
    alpha = _alpha()
    z = GaussVar("z")
    B, om, V = sp.symbols("B omega V", real=True)

    lzin = prior.log_partition(B, qh)
    # channels whose energetic term is not E_z ln Z_out(√q z, 1-q) of one field (tree
    # committees: K fields, or an overlap map q -> Q(q)) provide it as rs_energetic(q, z)
    # and the channel factor of the replicon as rs_gamma_out(q, z) (None: no replicon)
    energetic = channel.rs_energetic(q, z) if hasattr(channel, "rs_energetic") else None
    if energetic is None:
        lzout = channel.log_partition(om, V)
        energetic = GaussianAverage(lzout.subs({om: sp.sqrt(q) * z, V: 1 - q}), z)
        d2out = sp.diff(lzout, om, 2).subs({om: sp.sqrt(q) * z, V: 1 - q})
        gamma_out = GaussianAverage(d2out**2, z)
    else:
        gamma_out = channel.rs_gamma_out(q, z)
    terms = [
        Term("coupling", q * qh / 2,
             "RS ansatz, Zdeborová & Krzakala, Adv. Phys. 65, 453 (2016), eq. (92)"),
        Term("entropic", prior.constant(qh) + GaussianAverage(lzin.subs(B, sp.sqrt(qh) * z), z),
             prior.source),
        Term("energetic", alpha * energetic, channel.source),
    ]
    d2in = sp.diff(lzin, B, 2).subs(B, sp.sqrt(qh) * z)
    observables = []
    if gamma_out is not None:
        replicon = 1 - alpha * GaussianAverage(d2in**2, z) * gamma_out
        observables.append(Observable(
            "replicon", replicon,
            "de Almeida & Thouless, J. Phys. A 11, 983 (1978); Gardner & Derrida (1988) eq. (38)",
            "de Almeida–Thouless eigenvalue; RS is stable where it is positive",
            stable_if="positive"))
    return FreeEnergy(
        name=name,
        terms=terms,
        order_parameters=(q,),
        conjugates=(qh,),
        controls=(alpha,) + tuple(channel.controls()),
        observables=observables,
        description=description,
        meta={"ansatz": "rs", "prior": prior, "channel": channel, "load": "alpha",
              "overlap": "q", "conjugate": "qhat"},
    )


ANSATZE = {"rs": replica_symmetric}
