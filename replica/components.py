r"""Priors (what the weights are) and channels (what each pattern imposes).

A replica free entropy of a one-layer model separates, in every ansatz, into an
*entropic* part that only knows the prior and an *energetic* part that only knows the
channel (Gardner 1988; Engel & Van den Broeck, *Statistical Mechanics of Learning*,
ch. 6; Zdeborová & Krzakala, Adv. Phys. 65, 453 (2016), sec. 4.2). We describe both
by their single-site partition functions:

* prior:   :math:`Z_{\mathrm{in}}(B) = \sum_w P(w)\,e^{Bw - \ldots}`, with RS entropic
  part :math:`\tfrac12 q\hat q + c(\hat q) + \mathbb{E}_z \ln Z_{\mathrm{in}}(\sqrt{\hat q}\,z)`;
* channel: :math:`Z_{\mathrm{out}}(\omega, V) = \int Dx\, P_{\mathrm{out}}(\omega+\sqrt V x)`,
  with RS energetic part :math:`\alpha\,\mathbb{E}_z\ln Z_{\mathrm{out}}(\sqrt q z, 1-q)`.

Ansätze (:mod:`replica.ansatz`) combine the two; new priors and channels (committee
machines, losses at inverse temperature β) subclass :class:`Prior` / :class:`Channel`.
"""

from __future__ import annotations

import sympy as sp

from .averages import LogMeanExp, TiltedAverage
from .functions import LogCosh2, LogH, H
from .symbols import Control

__all__ = ["Prior", "BinaryPrior", "SphericalPrior", "Channel", "MarginChannel",
           "ErrorCountingChannel", "LossChannel", "LOSSES", "PRIORS", "CHANNELS"]


class Prior:
    """Base class of weight priors.

    Attributes
    ----------
    name : str
    discrete : bool
        True when the entropy is bounded below by 0 (Ising weights): the capacity is
        then where the entropy vanishes, not where q → 1.
    alpha0_entropy : sympy number
        Entropy per weight of the whole weight space (ln 2 for ±1, 0 for the sphere
        measured against its own volume).
    """

    name = "prior"
    discrete = False
    alpha0_entropy = sp.S.Zero
    source = ""

    def log_partition(self, B, qhat):
        """:math:`\\ln Z_{\\mathrm{in}}(B)` at conjugate ``qhat``."""
        raise NotImplementedError

    def constant(self, qhat):
        """Term of the RS entropic part outside the Gaussian average."""
        raise NotImplementedError


class BinaryPrior(Prior):
    r"""Ising weights :math:`w_i = \pm 1` with equal probability.

    :math:`Z_{\mathrm{in}}(B) = 2\cosh B`; RS entropic part
    :math:`-\hat q(1-q)/2 + \mathbb{E}_z \ln 2\cosh(\sqrt{\hat q}z)`
    (Gardner & Derrida, J. Phys. A 21, 271 (1988), eq. (21); Krauth & Mézard,
    J. Phys. France 50, 3057 (1989), eq. (4)).
    """

    name = "binary"
    discrete = True
    alpha0_entropy = sp.log(2)
    source = "Gardner & Derrida, J. Phys. A 21, 271 (1988), eq. (21)"

    def log_partition(self, B, qhat):
        return LogCosh2(B)

    def constant(self, qhat):
        return -qhat / 2


class SphericalPrior(Prior):
    r"""Spherical weights :math:`|w|^2 = N`, volume measured relative to the sphere.

    With a Lagrange multiplier :math:`\hat\lambda` for the norm,
    :math:`Z_{\mathrm{in}}(B) = \int \frac{dw}{\sqrt{2\pi e}} e^{-A w^2/2 + Bw}`,
    :math:`A = \hat\lambda + \hat q`, and :math:`\hat\lambda` is eliminated exactly
    (its stationarity gives :math:`A^2 = A + \hat q`), leaving

    .. math:: A(\hat q) = \tfrac12\left(1+\sqrt{1+4\hat q}\right),\quad
              \ln Z_{\mathrm{in}} = -\tfrac12\ln A - \tfrac12 + \frac{B^2}{2A},\quad
              c(\hat q) = \tfrac12 (A - \hat q).

    Eliminating :math:`\hat q` too gives Gardner's
    :math:`\tfrac12\ln(1-q) + q/(2(1-q))` (Gardner, J. Phys. A 21, 257 (1988),
    eq. (20)); the test-suite checks this identity symbolically.
    """

    name = "spherical"
    discrete = False
    alpha0_entropy = sp.S.Zero
    source = "Gardner, J. Phys. A 21, 257 (1988), eq. (20), in conjugate form"

    @staticmethod
    def A(qhat):
        return (1 + sp.sqrt(1 + 4 * qhat)) / 2

    def log_partition(self, B, qhat):
        A = self.A(qhat)
        return -sp.log(A) / 2 - sp.S.Half + B**2 / (2 * A)

    def constant(self, qhat):
        return (self.A(qhat) - qhat) / 2


class Channel:
    """Base class of output channels (the constraint or loss on one pattern).

    ``controls()`` lists the Control symbols the channel needs (besides α).

    Examples
    --------
    A new channel only needs ``log_partition`` = ln Z_out(ω, V): here the margin
    constraint with each pattern's label flipped with probability ε (an illustration;
    ``notebooks/02_define_your_own_model.ipynb`` builds, solves and checks a hinge loss):

    >>> import sympy as sp
    >>> from replica import BinaryPrior, Channel, Control, H, replica_symmetric
    >>> class NoisyMargin(Channel):
    ...     name, source = "noisy-margin", "label noise eps on the margin channel (example)"
    ...     def __init__(self):
    ...         self.kappa = Control("kappa", domain=(None, None))
    ...         self.eps = Control("eps", domain=(0, 1))
    ...     def controls(self):
    ...         return (self.kappa, self.eps)
    ...     def log_partition(self, omega, V):
    ...         return sp.log(self.eps + (1 - 2 * self.eps) * H((self.kappa - omega) / sp.sqrt(V)))
    >>> fe = replica_symmetric(BinaryPrior(), NoisyMargin(), "noisy-binary-perceptron")
    >>> [c.name for c in fe.controls]
    ['alpha', 'kappa', 'eps']
    """

    name = "channel"
    source = ""

    def controls(self) -> tuple:
        return ()

    def log_partition(self, omega, V):
        """:math:`\\ln Z_{\\mathrm{out}}(\\omega, V)`."""
        raise NotImplementedError


def margin_control(name, description):
    r"""The Control of a margin named ``name`` (``"kappa"`` → κ; ``"kappa_ref"`` →
    :math:`\kappa_{\mathrm{ref}}`), any real value."""
    latex = r"\kappa" if name == "kappa" else r"\kappa_{\mathrm{%s}}" % name.split("_")[-1]
    return Control(name, domain=(None, None), latex=latex, description=description)


class MarginChannel(Channel):
    r"""Stability constraint :math:`y\,w\cdot\xi/\sqrt N \ge \kappa` (any real κ).

    :math:`Z_{\mathrm{out}}(\omega, V) = H\!\left((\kappa-\omega)/\sqrt V\right)`
    (Gardner, J. Phys. A 21, 257 (1988), eq. (20)).
    """

    name = "margin"
    source = "Gardner, J. Phys. A 21, 257 (1988), eq. (20)"

    def __init__(self, kappa="kappa"):
        self.kappa = margin_control(kappa, "margin (stability threshold), any real value")

    def controls(self):
        return (self.kappa,)

    def log_partition(self, omega, V):
        return LogH((self.kappa - omega) / sp.sqrt(V))


class ErrorCountingChannel(MarginChannel):
    r"""Number of margin violations at inverse temperature β (Gibbs measure of the
    error loss): :math:`Z_{\mathrm{out}} = e^{-\beta} + (1-e^{-\beta})\,H((\kappa-\omega)/\sqrt V)`
    (Engel & Van den Broeck, *Statistical Mechanics of Learning* (2001), eq. (6.27)).
    β → ∞ recovers :class:`MarginChannel`.
    """

    name = "errors"
    source = "Engel & Van den Broeck, Statistical Mechanics of Learning (2001), eq. (6.27)"

    def __init__(self, kappa="kappa"):
        super().__init__(kappa)
        self.beta = Control("beta", domain=(0, None), latex=r"\beta",
                            description="inverse temperature of the error-counting loss")

    def controls(self):
        return (self.kappa, self.beta)

    def log_partition(self, omega, V):
        b = self.beta
        return sp.log(sp.exp(-b) + (1 - sp.exp(-b)) * H((self.kappa - omega) / sp.sqrt(V)))


def _cross_entropy(x, gamma):
    r"""Cross-entropy with steepness γ, :math:`\ell_\gamma(x) = -\frac x2 +
    \frac1{2\gamma}\ln 2\cosh(\gamma x) = \frac1{2\gamma}\ln(1+e^{-2\gamma x})`
    (Baldassi, Pittorino, Zecchina, PNAS 117, 161 (2020), eq. (4)); γ → ∞ gives the
    hinge max(0, -x)."""
    return -x / 2 + LogCosh2(gamma * x) / (2 * gamma)


def _hinge(x, k):
    r"""Hinge with margin k, :math:`\ell(x) = \max(0, k - x)` = (|k-x| + k - x)/2."""
    return (sp.Abs(k - x) + k - x) / 2


#: loss name -> (function of the stability x and the loss parameter, parameter name,
#: description of the parameter)
LOSSES = {"ce": (_cross_entropy, "gamma", "steepness of the cross-entropy"),
          "hinge": (_hinge, "margin", "margin of the hinge")}


class LossChannel(Channel):
    r"""Gibbs measure :math:`e^{-\beta\,\ell(y\,w\cdot\xi/\sqrt N)}` of a loss per
    pattern at inverse temperature β (Engel & Van den Broeck (2001), ch. 4;
    for the cross-entropy Baldassi, Pittorino, Zecchina, PNAS 117, 161 (2020)):

    .. math:: \ln Z_{\mathrm{out}}(\omega, V) = \ln\mathbb{E}_x\,
              e^{-\beta\,\ell(\omega + \sqrt V x)},

    written as one :class:`~replica.averages.LogMeanExp` node, so large β (the
    zero-temperature limit that selects the loss minimisers) is evaluated in log space.
    The loss parameter (γ of the cross-entropy, k of the hinge) is a control named
    ``<prefix>gamma`` / ``<prefix>margin``; β is ``<prefix>beta``. The β → ∞ limit (the
    loss minimisers, Moreau envelope of ℓ) is built by :mod:`replica.minimisers` from the
    same channel (``loss``, ``param``).
    """

    name = "loss"

    def __init__(self, loss, prefix=""):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; known: {sorted(LOSSES)}")
        self.loss = loss
        fn, pname, pdesc = LOSSES[loss]
        self._fn = fn
        self.param = Control(prefix + pname, domain=(0, None) if loss == "ce" else (None, None),
                             latex=r"\gamma" if loss == "ce" else r"k",
                             description=pdesc)
        self.beta = Control(prefix + "beta", domain=(0, None), latex=r"\beta",
                            description=f"inverse temperature of the {loss} loss")
        self.source = ("Baldassi, Pittorino, Zecchina, PNAS 117, 161 (2020), eq. (4)" if loss == "ce"
                       else "Engel & Van den Broeck, Statistical Mechanics of Learning (2001), ch. 4")
        self._x = sp.Symbol("x_loss", real=True)

    def controls(self):
        return (self.param, self.beta)

    def exponent(self, omega, V):
        r"""Exponent f of :math:`\ln Z_{\mathrm{out}} = \ln\mathbb E_u e^{f(u)}` (u = ``self._x``,
        standard Gaussian).

        Cross-entropy: :math:`f = -\beta\ell(\omega + \sqrt V u)` (u the field's noise).
        Hinge (ℓ'' is a Dirac mass): u is the field itself,
        :math:`f = u^2/2 - (u-\omega)^2/(2V) - \tfrac12\ln V - \beta\ell(u)` (the change of
        variables u = ω + √V x, exact for V < 1), so that ω and V — hence the order
        parameters — only enter smooth factors and the Hessian needs no ℓ''."""
        u = self._x
        if self.loss == "hinge":
            return (u**2 / 2 - (u - omega)**2 / (2 * V) - sp.log(V) / 2
                    - self.beta * self._fn(u, self.param))
        return -self.beta * self._fn(omega + sp.sqrt(V) * u, self.param)

    def log_partition(self, omega, V):
        return LogMeanExp(self.exponent(omega, V), self._x)

    def posterior(self, f, x, omega, V):
        """<f(x)> over the field's noise x with weight P_out(ω + √V x)."""
        u = self._x
        fx = f.subs(x, (u - omega) / sp.sqrt(V)) if self.loss == "hinge" else f.subs(x, u)
        return TiltedAverage(fx, self.exponent(omega, V), u)


PRIORS = {"binary": BinaryPrior, "spherical": SphericalPrior}
CHANNELS = {"margin": MarginChannel, "errors": ErrorCountingChannel}
