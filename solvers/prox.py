r"""Numbers behind the proximal-map nodes of :mod:`replica.prox` (NumPy and mpmath).

For a loss ℓ with parameter c and x > 0, the proximal shift
:math:`v^*(z) = \mathrm{argmin}_v[v^2/(2x) + \ell(z+v)]`, the Moreau envelope
:math:`M(z) = v^{*2}/(2x) + \ell(z+v^*)` and the curvature ratio
:math:`K = x\ell''(h^*)/(1+x\ell''(h^*))`, :math:`h^* = z + v^*`.

* Cross-entropy :math:`\ell_\gamma(h) = \ln(1+e^{-2\gamma h})/(2\gamma)`:
  :math:`\ell' = -\sigma(-2\gamma h)`, :math:`\ell'' = 2\gamma\sigma(1-\sigma)`
  (σ the logistic function). The stationarity condition
  :math:`G(v) = v - x\sigma(-2\gamma(z+v)) = 0` has G increasing (G' = 1 + xℓ'' ≥ 1)
  with G(0) < 0 < G(x): the root is bracketed in (0, x). NumPy: Newton on G,
  vectorised, safeguarded by bisection whenever a step leaves the current bracket or
  fails to halve the previous step (the bracket shrinks with the sign of G at every
  iterate); it stops when every
  element's step is below ``PROX_TOL`` relative to x, or after ``PROX_MAXITER``
  iterations (then the elements not converged are NaN, never a silently wrong number).
  mpmath: 20 bisections of the bracket, then Newton at the working precision.
* Hinge :math:`\ell(h) = \max(0, k-h)`: closed form (see :mod:`replica.prox`).

``L`` is the index of the loss in :data:`replica.prox.PROX_LOSSES` (0 = ce, 1 = hinge).
"""

from __future__ import annotations

import mpmath
import numpy as np
from scipy.special import expit

from . import constants as C

__all__ = ["shift", "moreau", "curvature", "MP"]


def _ce_shift(z, x, g):
    z, x, g = np.broadcast_arrays(np.asarray(z, float), np.asarray(x, float), np.asarray(g, float))
    lo, hi = np.zeros_like(z), x.copy()
    v = x * expit(-2 * g * z)  # one fixed-point step from v = 0: inside (0, x)
    done = np.zeros(z.shape, bool)
    prev = 2 * x
    for _ in range(C.PROX_MAXITER):
        s = expit(-2 * g * (z + v))
        G = v - x * s
        lo = np.where(G < 0, v, lo)
        hi = np.where(G > 0, v, hi)
        dG = 1 + x * 2 * g * s * (1 - s)
        newton = G / dG
        small = np.abs(newton) <= C.PROX_TOL * x  # converged: the Newton correction is negligible
        vn = v - newton
        # bisect when Newton leaves the bracket or does not halve the previous step
        # (rtsafe's rule: Newton zigzags where xℓ'' is large and steep)
        out = ~((vn > lo) & (vn < hi)) | (np.abs(newton) > 0.5 * prev)
        vn = np.where(out, 0.5 * (lo + hi), vn)
        prev = np.abs(vn - v)
        v = np.where(done, v, np.where(small, v - newton, vn))
        done |= small | (hi - lo <= C.PROX_TOL * x)
        if done.all():
            break
    return np.where(done & (x > 0), v, np.nan)


def _hinge_shift(z, x, k):
    z, x, k = np.broadcast_arrays(np.asarray(z, float), np.asarray(x, float), np.asarray(k, float))
    return np.where(z >= k, 0.0, np.where(z < k - x, x, k - z))


def shift(z, x, c, L):
    """Proximal shift v*(z; x) of loss ``L`` with parameter ``c`` (NumPy, vectorised)."""
    return _ce_shift(z, x, c) if int(L) == 0 else _hinge_shift(z, x, c)


def moreau(z, x, c, L):
    """Moreau envelope M(z; x) = v*²/(2x) + ℓ(z + v*)."""
    v = shift(z, x, c, L)
    h = np.asarray(z, float) + v
    if int(L) == 0:
        loss = np.logaddexp(0.0, -2 * c * h) / (2 * c)
    else:
        loss = np.maximum(0.0, c - h)
    return v * v / (2 * x) + loss


def curvature(z, x, c, L):
    """K = xℓ''(h*)/(1 + xℓ''(h*)) (hinge: 1 on k − x ≤ z < k, 0 elsewhere)."""
    if int(L) == 0:
        v = shift(z, x, c, L)
        s = expit(-2 * c * (np.asarray(z, float) + v))
        xl2 = x * 2 * c * s * (1 - s)
        return xl2 / (1 + xl2)
    z, x, k = np.broadcast_arrays(np.asarray(z, float), np.asarray(x, float), np.asarray(c, float))
    return np.where((z >= k - x) & (z < k), 1.0, 0.0)


class MP:
    """mpmath versions (working precision of the caller; an independent route)."""

    @staticmethod
    def _sig(u):
        return 1 / (1 + mpmath.exp(-u))

    @staticmethod
    def shift(z, x, c, L):
        z, x, c = mpmath.mpf(z), mpmath.mpf(x), mpmath.mpf(c)
        if int(L) == 1:
            return mpmath.mpf(0) if z >= c else (x if z < c - x else c - z)
        if x <= 0:
            return mpmath.nan
        G = lambda v: v - x * MP._sig(-2 * c * (z + v))  # noqa: E731
        # bisection to ~1e-6 of the bracket, then plain Newton at the working precision
        lo, hi = mpmath.mpf(0), x
        for _ in range(20):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if G(mid) < 0 else (lo, mid)
        v = (lo + hi) / 2
        eps = mpmath.mpf(10) ** (-mpmath.mp.dps)
        for _ in range(100):
            s = MP._sig(-2 * c * (z + v))
            dv = G(v) / (1 + x * 2 * c * s * (1 - s))
            v -= dv
            if abs(dv) <= eps * x:
                return v
        return mpmath.nan

    @staticmethod
    def moreau(z, x, c, L):
        v = MP.shift(z, x, c, L)
        h = mpmath.mpf(z) + v
        c = mpmath.mpf(c)
        loss = (mpmath.log1p(mpmath.exp(-2 * c * h)) / (2 * c) if int(L) == 0
                else max(mpmath.mpf(0), c - h))
        return v * v / (2 * x) + loss

    @staticmethod
    def curvature(z, x, c, L):
        z, x, c = mpmath.mpf(z), mpmath.mpf(x), mpmath.mpf(c)
        if int(L) == 1:
            return mpmath.mpf(1) if (c - x <= z < c) else mpmath.mpf(0)
        s = MP._sig(-2 * c * (z + MP.shift(z, x, c, L)))
        xl2 = x * 2 * c * s * (1 - s)
        return xl2 / (1 + xl2)
