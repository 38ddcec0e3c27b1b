"""Numerical implementations of the special functions of :mod:`replica.functions`.

NumPy versions are stable far in the tails (|x| ≥ 40 and beyond): ln H uses
``scipy.special.log_ndtr``, G/H uses ``erfcx``, ln 2cosh never overflows. mpmath
versions compute at the current working precision (for checks).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from scipy import special as sc

from . import constants as C

__all__ = ["gauss", "h", "log_h", "gh", "logcosh2", "sqrt", "MP"]

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def sqrt(x):
    """√x, with arguments in (-SQRT_ROUNDING, SQRT_FLOOR) read as SQRT_FLOOR.

    Variances such as q1 - t²/q̃ - (p-t)²/(1-q̃) vanish exactly at physical points
    (the typical overlap of a Franz–Parisi potential) and come out as ±1e-17 in
    floating point, where derivative expressions contain √V·(a/√V) forms that are
    finite but read 0·∞. With a tiny positive floor (√ = 1e-50) these evaluate to
    their limit and plain √V terms to 1e-50 ≈ 0. Genuinely negative arguments still
    give NaN.
    """
    x = np.asarray(x, dtype=float)
    return np.sqrt(np.where((x < C.SQRT_FLOOR) & (x > -C.SQRT_ROUNDING), C.SQRT_FLOOR, x))


def gauss(x):
    """Standard Gaussian density."""
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / _SQRT2PI


def h(x):
    """H(x) = P(z > x) = ndtr(-x)."""
    return sc.ndtr(-np.asarray(x, dtype=float))


def log_h(x):
    """ln H(x), accurate for all x (log_ndtr handles the far tail)."""
    return sc.log_ndtr(-np.asarray(x, dtype=float))


def gh(x):
    """G(x)/H(x) = sqrt(2/pi)/erfcx(x/sqrt2) for x > -8, and G/H directly below
    (where H ≈ 1 and erfcx would overflow)."""
    x = np.asarray(x, dtype=float)
    xs = np.maximum(x, -8.0)
    out = _SQRT_2_OVER_PI / sc.erfcx(xs / _SQRT2)
    low = x < -8.0
    if np.any(low):
        xl = np.minimum(x, -8.0)
        out = np.where(low, np.exp(-0.5 * xl * xl) / _SQRT2PI / sc.ndtr(-xl), out)
    return out


def logcosh2(x):
    """ln(2 cosh x) = |x| + log1p(exp(-2|x|)), no overflow."""
    a = np.abs(np.asarray(x, dtype=float))
    return a + np.log1p(np.exp(-2.0 * a))


class MP:
    """mpmath implementations (working precision set by the caller)."""

    @staticmethod
    def gauss(x):
        return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)

    @staticmethod
    def h(x):
        return mpmath.erfc(x / mpmath.sqrt(2)) / 2

    @staticmethod
    def log_h(x):
        return mpmath.log(mpmath.erfc(x / mpmath.sqrt(2)) / 2)

    @staticmethod
    def gh(x):
        return MP.gauss(x) / MP.h(x)

    @staticmethod
    def logcosh2(x):
        return mpmath.log(2 * mpmath.cosh(x))
