r"""Proximal map and Moreau envelope of a loss: opaque nodes for zero-temperature limits.

At inverse temperature β → ∞ the Gaussian smoothing of a Gibbs factor becomes a
minimisation (Laplace's method). For a pattern field ω with noise variance V = x/β,

.. math::
   \frac1\beta\ln\mathbb E_v\,e^{-\beta\ell(\omega+\sqrt{x/\beta}\,v)}
   \;\xrightarrow{\beta\to\infty}\; -M_\ell(\omega; x),\qquad
   M_\ell(z; x) = \min_v\Big[\frac{v^2}{2x} + \ell(z+v)\Big],

the Moreau envelope of ℓ with parameter x (Moreau 1965; Rockafellar & Wets,
*Variational Analysis* (1998), def. 1.22). Its minimiser :math:`v^*(z; x)` (the
*proximal shift*; :math:`h^*(z) = z + v^*` is the proximal point
:math:`\mathrm{prox}_{x\ell}(z)`) solves the stationarity condition

.. math:: v^*/x + \ell'(z + v^*) = 0 .

For convex ℓ (the cross-entropy and the hinge are convex) the minimiser is unique.
Three nodes carry these as functions of ``(z, x, c, L)``, with ``c`` the loss
parameter and ``L`` the index of the loss in :data:`PROX_LOSSES`:

* :class:`MoreauEnvelope` — the value :math:`M`;
* :class:`ProxShift` — :math:`v^*`;
* :class:`ProxCurvature` — :math:`K = x\ell''(h^*)/(1 + x\ell''(h^*)) \in [0, 1]`.

Derivatives (derived here; the numbers are in :mod:`solvers.prox`):

* envelope theorem (the minimiser's own variation drops out):
  :math:`\partial_z M = \ell'(h^*) = -v^*/x`, :math:`\partial_x M = -v^{*2}/(2x^2)`,
  :math:`\partial_c M = \partial_c\ell(h^*; c)`;
* implicit function theorem on :math:`F(v) = v/x + \ell'(z+v) = 0`,
  :math:`\partial_v F = 1/x + \ell''`: :math:`\partial_z v^* = -\ell''/(1/x+\ell'') = -K`,
  :math:`\partial_x v^* = (v^*/x^2)/(1/x + \ell'') = (v^*/x)(1-K)`,
  :math:`\partial_c v^* = -x(1-K)\,\partial_c\ell'(h^*)`.

For the hinge :math:`\ell = \max(0, k-h)` (c = k) the closed forms are
:math:`v^* = x` (z < k − x), :math:`k - z` (k − x ≤ z < k), 0 (z ≥ k); K is 1 on the
middle piece and 0 elsewhere (ℓ'' is a Dirac mass at the kink: K is its limit); and
:math:`\partial_k M = -\partial_h\ell = v^*/x`, :math:`\partial_k v^* = K`. Its kinks in z
(``kink_points``) let the quadrature split there.

Third derivatives (derivatives of K) are not provided: saddle-point Jacobians need
second derivatives of the free entropy, i.e. of M up to order 2 only.
"""

from __future__ import annotations

import sympy as sp

from .functions import LogCosh2

__all__ = ["PROX_LOSSES", "MoreauEnvelope", "ProxShift", "ProxCurvature", "prox_loss_index"]

#: losses with a proximal map (index = the node argument L)
PROX_LOSSES = ("ce", "hinge")


def prox_loss_index(loss):
    """Index of ``loss`` in :data:`PROX_LOSSES` (ValueError naming the known ones)."""
    if loss not in PROX_LOSSES:
        raise ValueError(f"loss: no proximal map for {loss!r}; known: {', '.join(PROX_LOSSES)}")
    return sp.Integer(PROX_LOSSES.index(loss))


def _ce_dloss(h, g):
    r""":math:`\ell_\gamma'(h) = (\tanh(\gamma h) - 1)/2` (cross-entropy,
    :func:`replica.components._cross_entropy`)."""
    return (sp.tanh(g * h) - 1) / 2


class _ProxNode(sp.Function):
    nargs = 4
    is_real = True

    @classmethod
    def eval(cls, z, x, c, L):
        if not (L.is_Integer and 0 <= L < len(PROX_LOSSES)):
            raise ValueError(f"{cls.__name__}: loss index L must be an integer in "
                             f"[0, {len(PROX_LOSSES)}), got {L}")
        return None

    @property
    def loss(self):
        return PROX_LOSSES[int(self.args[3])]

    def kink_points(self):
        r"""Positions, in the first argument z, where the node is not smooth, or nearly so
        (quadrature split points). Hinge: z = k and z = k − x, where the proximal point
        enters / leaves the kink. Cross-entropy: smooth, but for γx ≫ 1 the proximal
        point sticks near h = 0 (where xℓ'' ≫ 1) and leaves it over a width ~1/γ: the
        near-kinks are where xℓ''(h) = 1, i.e. :math:`h_\pm = \pm\,\mathrm{arccosh}
        (\sqrt{\gamma x/2})/\gamma`, at :math:`z = h_\pm + x\ell'(h_\pm)` (the inverse
        of the proximal map, closed form); for γx ≤ 2 both collapse to h = 0 (a
        harmless split)."""
        z, x, c, L = self.args
        if self.loss == "hinge":
            return [c, c - x]
        u = sp.sqrt(c * x / 2)
        hs = sp.acosh((1 + u + sp.Abs(u - 1)) / 2) / c  # max(1, u), printable everywhere
        return [h + x * _ce_dloss(h, c) for h in (hs, -hs)]

    def _shift(self):
        return ProxShift(*self.args)

    def _curv(self):
        return ProxCurvature(*self.args)

    def _latex(self, printer, exp=None):
        z, x, c, _ = self.args
        body = r"%s_{\mathrm{%s}}(%s; %s, %s)" % (self._symbol, self.loss, printer._print(z),
                                                 printer._print(x), printer._print(c))
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


class MoreauEnvelope(_ProxNode):
    r""":math:`M_\ell(z; x) = \min_v [v^2/(2x) + \ell(z+v; c)]` (module docstring).

    >>> import sympy as sp
    >>> z, x, g = sp.symbols("z x gamma", positive=True)
    >>> m = MoreauEnvelope(z, x, g, prox_loss_index("ce"))
    >>> sp.diff(m, x)
    -ProxShift(z, x, gamma, 0)**2/(2*x**2)
    """

    _symbol = "M"

    def fdiff(self, argindex=1):
        z, x, c, L = self.args
        v = self._shift()
        if argindex == 1:
            return -v / x
        if argindex == 2:
            return -v**2 / (2 * x**2)
        if argindex == 3:
            if self.loss == "hinge":
                return v / x
            h = z + v
            # d/dγ of -h/2 + ln2cosh(γh)/(2γ) at fixed h
            return h * sp.tanh(c * h) / (2 * c) - LogCosh2(c * h) / (2 * c**2)
        raise sp.ArgumentIndexError(self, argindex)


class ProxShift(_ProxNode):
    r""":math:`v^*(z; x) = \mathrm{argmin}_v [v^2/(2x) + \ell(z+v; c)]`; the proximal point
    is z + v* (module docstring)."""

    _symbol = "v^*"

    def fdiff(self, argindex=1):
        z, x, c, L = self.args
        K = self._curv()
        if argindex == 1:
            return -K
        if argindex == 2:
            return self / x * (1 - K)
        if argindex == 3:
            if self.loss == "hinge":
                return K
            h = z + self
            # ∂_γ ℓ'(h) = h sech²(γh)/2
            return -x * (1 - K) * h * (1 - sp.tanh(c * h)**2) / 2
        raise sp.ArgumentIndexError(self, argindex)


class ProxCurvature(_ProxNode):
    r""":math:`K = x\ell''(h^*)/(1 + x\ell''(h^*))` at the proximal point (module
    docstring); :math:`\partial_z v^* = -K`."""

    _symbol = "K"

    def fdiff(self, argindex=1):
        raise NotImplementedError("ProxCurvature: third derivatives of the Moreau envelope are "
                                  "not provided (saddle-point Jacobians need order 2 only)")
