r"""Replicated local entropy: the large-deviation measure of dense regions.

A centre :math:`\tilde w` is weighted by the y-th power of the number of solutions at
overlap p with it (distance :math:`d = (1-p)/2` for ±1 weights),

.. math:: \phi(y, p) = \frac1N\,\mathbb{E}\ln\sum_{\tilde w}\mathcal N(\tilde w, p)^y,
   \qquad S_I = \partial_y\phi,\quad \Sigma = \phi - yS_I,

(Baldassi, Ingrosso, Lucibello, Saglietti, Zecchina, PRL 115, 128101 (2015),
arXiv:1509.05753, eqs. (2)–(4); JSTAT 2016, 023301, arXiv:1511.05634, sec. 2). For
y → ∞ the measure concentrates on the centres with the most solutions around them:
:math:`S_I(d)` is the local entropy of the densest regions, and where it stops being
monotonic in d (at :math:`\alpha_U`) the dense regions break up.

RS ansatz, centre free (not itself required to be a solution: the "EdMC" variant of
JSTAT 2016; in the PRL the centre is a solution too, which changes φ by O(1) against
O(y)). Overlaps: within one block (centre + its y replicas) :math:`q_1`, between
blocks :math:`q_0`, centre–replica p (fixed, conjugate :math:`\hat S`). This derivation
is ours (the papers print the y → ∞ form only); notation: with the O(1) variables of
the large-y limit, :math:`\delta q = y(q_1-q_0)`, :math:`\delta\hat q = y(\hat q_1-\hat q_0)`,

.. math::
   \frac{\phi}{y} = \frac{\hat q_1 q_1}2 - \frac{\hat q_1}2 - \frac{\hat q_1\delta q + q_1\delta\hat q}2
     + \frac{\delta q\,\delta\hat q}{2y} - \hat S p
     + \frac1y\,\mathbb{E}_{z_0}\ln\sum_{\tilde w=\pm1}\mathbb{E}_{z_1}
        e^{y\ln 2\cosh(\hat S\tilde w + \sqrt{\hat q_0}z_0 + \sqrt{\delta\hat q/y}\,z_1)}
     + \frac{\alpha}{y}\,\mathbb{E}_{z_0}\ln\mathbb{E}_{z_1}
        e^{y\ln Z_{\mathrm{out}}(\sqrt{q_0}z_0 + \sqrt{\delta q/y}\,z_1,\;1-q_1)},

:math:`q_0 = q_1 - \delta q/y`, :math:`\hat q_0 = \hat q_1 - \delta\hat q/y`. At the
saddle :math:`S_I = \partial_y\phi = \Phi + y\,\partial_y\Phi` with
:math:`\Phi = \phi/y` at fixed (δq, δq̂, …) (the observable ``local_entropy``), and
:math:`\Sigma = -y^2\partial_y\Phi` (``external_entropy``).

**K → ∞ tree committees** (``channel.output_overlap``, :class:`replica.committee.WideCommitteeChannel`;
derived here, the same output-overlap map as :mod:`replica.franz_parisi`). The centre is
free: the patterns constrain the y replicas of each block, never the centre, which enters
only through the entropic part (the coupling :math:`\hat S\sum_a w^a\cdot\tilde w` and
the sum over :math:`\tilde w`). The energetic part is the average of a function of the
replicas' outputs; on branch l their hidden fields are jointly Gaussian with covariance
the replica overlap matrix (1 on the diagonal, :math:`q_1` within a block, :math:`q_0`
between blocks), independently across branches, so as K → ∞ (CLT) the normalised outputs
are jointly Gaussian with covariance :math:`Q(q_{ab})` elementwise: 1, :math:`Q_1 =
Q(q_1)`, :math:`Q_0 = Q(q_0)`. Writing the output of replica a of block b as
:math:`\sqrt{Q_0}z_0 + \sqrt{Q_1-Q_0}\,z_1^b + \sqrt{1-Q_1}\,x^a` gives the energetic term
above with :math:`\sqrt{q_0}\to\sqrt{Q_0}`, :math:`\sqrt{\delta q/y}\to\sqrt{Q_1-Q_0}`,
:math:`1-q_1\to 1-Q_1`; the centre–replica overlap p stays in the entropic part only (in
the PRL variant, where the centre is a solution too, its output would be correlated
with the replicas' through Q(p): not implemented). Q is increasing, so
:math:`Q_1 \ge Q_0`; :math:`Q_0 \ge 0` needs :math:`q_0 \ge 0`, the perceptron's domain.
At y = 1, :math:`\mathbb{E}_{z_1}Z_{\mathrm{out}}(\sqrt{Q_0}z_0+\sqrt{Q_1-Q_0}z_1, 1-Q_1)
= Z_{\mathrm{out}}(\sqrt{Q_0}z_0, 1-Q_0)` (Gaussian convolution), so
:math:`\phi(y=1) = s_{RS}(\alpha) + H_2(d)` with the committee's RS entropy
(tests/test_committee_dense.py). For large y, :math:`Q_1 - Q_0 \simeq Q'(q_1)\,\delta q/y`.

Checks (tests/test_dense.py): α = 0 gives :math:`S_I = -d\ln d-(1-d)\ln(1-d)` for every
y; at α = 0.5, κ = 0, d = 0.05 it agrees with an independent NumPy prototype at y = 40
(uniform-grid log-sum-exp, different variables), and tends to the y = ∞ value
0.164771662777 as :math:`S_I(y) \approx S_\infty - c/y^2`.
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage, LogMeanExp
from .components import Channel, Prior
from .free_energy import FreeEnergy, Observable, Term
from .functions import LogCosh2
from .symbols import Conjugate, Control, GaussVar, OrderParameter

__all__ = ["replicated_local_entropy"]

_SRC = ("Baldassi, Ingrosso, Lucibello, Saglietti, Zecchina, PRL 115, 128101 (2015) eqs. (2)-(4); "
        "JSTAT (2016) 023301; RS at finite y, derivation in replica/dense.py")


def replicated_local_entropy(prior: Prior, channel: Channel, name: str,
                             description: str = "", y_free: bool = False) -> FreeEnergy:
    """Build Φ = φ/y of the replicated local entropy at finite y (module docstring).

    Controls: alpha, the channel's (kappa), ``y`` (number of real replicas per centre,
    y ≥ 1 — the local entropy of the *densest* regions is the y → ∞ limit) and ``p``
    (centre–replica overlap, d = (1-p)/2). ±1 weights only.

    ``y_free=True``: y is a saddle-point variable instead of a control (the y* measure,
    module docstring): stationarity of Φ in y is Σ = -y² ∂_yΦ = 0.
    """
    if prior.name != "binary":
        raise NotImplementedError(f"replicated local entropy is derived for ±1 weights, not {prior.name!r}")
    Sh = Conjugate("shat", domain=(None, None), latex=r"\hat S", partner="p", initial=1.0,
                   description="conjugate of the centre-replica overlap p")
    q1 = OrderParameter("q1", domain=(0, 1), latex="q_1", initial=0.8,
                        description="overlap of two replicas around the same centre")
    dq = OrderParameter("dq", domain=(0, None), latex=r"\delta q", initial=2.0,
                        description="y (q1 - q0), q0 = overlap of replicas around different centres")
    q1h = Conjugate("q1hat", domain=(0, None), latex=r"\hat q_1", partner="q1", initial=0.1,
                    description="conjugate of q1")
    dqh = Conjugate("dqhat", domain=(0, None), latex=r"\delta\hat q", partner="dq", initial=0.4,
                    description="y (q1hat - q0hat)")
    alpha = Control("alpha", domain=(0, None), latex=r"\alpha", description="load P/N")
    if y_free:
        y = OrderParameter("y", domain=(1, None), latex="y^*", initial=10.0,
                           description="replicas per centre at which the external entropy "
                                       "vanishes (Sigma(y*) = 0: the densest centres that exist)")
    else:
        y = Control("y", domain=(1, None), latex="y",
                    description="replicas per centre (large-deviation exponent); y -> oo: densest regions")
    p = Control("p", domain=(-1, 1), latex="p", description="centre-replica overlap, d = (1-p)/2")
    z0, z1 = GaussVar("z0"), GaussVar("z1")
    om, V = sp.symbols("omega V", real=True)

    q0 = q1 - dq / y
    q0h = q1h - dqh / y
    h = sp.sqrt(q0h) * z0 + sp.sqrt(dqh / y) * z1
    A = LogMeanExp(y * LogCosh2(Sh + h), z1)   # centre +1
    B = LogMeanExp(y * LogCosh2(-Sh + h), z1)  # centre -1
    # ln(e^A + e^B), written stably; it is even in z0 (z0, z1, w̃ -> -z0, -z1, -w̃) and
    # at large y has a kink at z0 = 0 (the sign of the best centre flips there): the
    # average is taken as 2 ∫_0^∞ Dz0 so that the kink sits on the boundary; B turns
    # from the -1 centre's side to the +1's at z0 = Ŝ/√q̂0 (the field crosses zero,
    # amplified by y): a second boundary there
    F = (A + B) / 2 + LogCosh2((A - B) / 2)
    zc = sp.Abs(Sh) / sp.sqrt(q0h)
    entropic = 2 * (GaussianAverage(F, z0, 0, zc) + GaussianAverage(F, z0, zc, sp.oo)) / y
    lzout = channel.log_partition(om, V)
    # the replicas' output overlaps (K = inf committees; identity for perceptrons, where
    # Q1 - Q0 = dq/y exactly: the expression is then the one above, unchanged)
    Q = getattr(channel, "output_overlap", None) or (lambda u: u)
    Q1, Q0 = Q(q1), Q(q0)
    energetic = alpha * GaussianAverage(
        LogMeanExp(y * lzout.subs({om: sp.sqrt(Q0) * z0 + sp.sqrt(Q1 - Q0) * z1, V: 1 - Q1}), z1),
        z0) / y
    coupling = (q1h * q1 / 2 - q1h / 2 - (q1h * dq + q1 * dqh) / 2 + dq * dqh / (2 * y) - Sh * p)
    terms = [
        Term("coupling", coupling, _SRC),
        Term("entropic", entropic, _SRC + "; " + prior.source),
        Term("energetic", energetic, _SRC + "; " + channel.source),
    ]
    Phi = coupling + entropic + energetic
    dPhi_dy = sp.diff(Phi, y)
    observables = [
        Observable("local_entropy", Phi + y * dPhi_dy, _SRC,
                   "local entropy S_I = d phi / dy around the centres"),
        Observable("external_entropy", -y**2 * dPhi_dy, _SRC,
                   "external entropy Sigma = phi - y S_I (log-number of centres); "
                   "negative values mean the centres are exponentially rare"),
    ]
    return FreeEnergy(
        name=name, terms=terms,
        order_parameters=(q1, dq) + ((y,) if y_free else ()), conjugates=(Sh, q1h, dqh),
        controls=(alpha,) + tuple(channel.controls()) + (() if y_free else (y,)) + (p,),
        observables=observables,
        description=description,
        meta={"ansatz": "replicated-local-entropy", "prior": prior, "channel": channel,
              "load": "alpha", "overlap_control": "p"},
    )
