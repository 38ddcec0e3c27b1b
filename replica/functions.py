"""Special functions of replica theory, as SymPy functions with exact derivatives.

Every function here is *unevaluated* symbolically (no numerics are imported in this
layer); the numerical implementations that are stable far in the tails live in
:mod:`solvers.special` and are attached by the single compilation module
:mod:`solvers.codegen`.

Notation (used throughout the toolkit and in the seed papers, e.g. Baldassi, Pittorino,
Zecchina, PNAS 117, 161 (2020), arXiv:1905.07833, eqs. (3)-(6)):

* ``Gauss(x)``  :math:`G(x) = e^{-x^2/2}/\\sqrt{2\\pi}`, the standard Gaussian density;
* ``H(x)``      :math:`H(x) = \\int_x^\\infty Dz = \\tfrac12\\operatorname{erfc}(x/\\sqrt2)`;
* ``LogH(x)``   :math:`\\ln H(x)`;
* ``GH(x)``     :math:`G(x)/H(x)`, the inverse Mills ratio, :math:`-\\tfrac{d}{dx}\\ln H(x)`;
* ``LogCosh2(x)`` :math:`\\ln 2\\cosh x`.

Derivatives (exact): :math:`G' = -xG`, :math:`H' = -G`, :math:`(\\ln H)' = -G/H`,
:math:`(G/H)' = (G/H)\\,(G/H - x)`, :math:`(\\ln 2\\cosh x)' = \\tanh x`.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["Gauss", "H", "LogH", "GH", "LogCosh2", "SPECIAL_FUNCTIONS"]


class _Special(sp.Function):
    """Base class: one real argument, real valued, LaTeX via ``_latex_name``."""

    nargs = 1
    is_real = True
    _latex_name = ""

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        body = r"%s\left(%s\right)" % (self._latex_name, arg)
        if exp is not None:
            return r"\left[%s\right]^{%s}" % (body, exp)
        return body


class Gauss(_Special):
    r"""Standard Gaussian density :math:`G(x) = e^{-x^2/2}/\sqrt{2\pi}`."""

    _latex_name = "G"

    def fdiff(self, argindex=1):
        x = self.args[0]
        return -x * Gauss(x)

    @classmethod
    def eval(cls, x):
        if x in (sp.S.Infinity, sp.S.NegativeInfinity):
            return sp.S.Zero
        return None

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)

    def _eval_is_positive(self):
        return True


class H(_Special):
    r"""Gaussian tail :math:`H(x) = \int_x^\infty Dz = \tfrac12\,\mathrm{erfc}(x/\sqrt2)`.

    Examples
    --------
    >>> import sympy as sp
    >>> from replica import H
    >>> x = sp.Symbol("x")
    >>> H(0), H(x).diff(x), H(x).rewrite(sp.erfc)
    (1/2, -Gauss(x), erfc(sqrt(2)*x/2)/2)
    """

    _latex_name = "H"

    def fdiff(self, argindex=1):
        return -Gauss(self.args[0])

    @classmethod
    def eval(cls, x):
        if x is sp.S.Zero:
            return sp.S.Half
        if x is sp.S.Infinity:
            return sp.S.Zero
        if x is sp.S.NegativeInfinity:
            return sp.S.One
        return None

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(x / sp.sqrt(2)) / 2


class LogH(_Special):
    r""":math:`\ln H(x)`; evaluated numerically with ``log_ndtr(-x)`` (stable for |x| ≫ 1).

    Examples
    --------
    >>> import sympy as sp
    >>> from replica import LogH
    >>> x = sp.Symbol("x")
    >>> LogH(0), LogH(x).diff(x)
    (-log(2), -GH(x))
    """

    _latex_name = r"\ln H"

    def fdiff(self, argindex=1):
        return -GH(self.args[0])

    @classmethod
    def eval(cls, x):
        if x is sp.S.Zero:
            return -sp.log(2)
        if x is sp.S.NegativeInfinity:
            return sp.S.Zero
        return None

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.log(sp.erfc(x / sp.sqrt(2)) / 2)


class GH(_Special):
    r"""Inverse Mills ratio :math:`G(x)/H(x) = -\tfrac{d}{dx}\ln H(x)` (via ``erfcx``)."""

    _latex_name = r"\frac{G}{H}"

    def fdiff(self, argindex=1):
        x = self.args[0]
        return GH(x) * (GH(x) - x)

    @classmethod
    def eval(cls, x):
        if x is sp.S.Zero:
            return sp.sqrt(2 / sp.pi)
        return None

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return 2 * sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi) / sp.erfc(x / sp.sqrt(2))


class LogCosh2(_Special):
    r""":math:`\ln 2\cosh x`, evaluated as :math:`|x| + \ln(1+e^{-2|x|})` (no overflow)."""

    _latex_name = r"\ln 2\cosh"

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    @classmethod
    def eval(cls, x):
        if x is sp.S.Zero:
            return sp.log(2)
        if x.could_extract_minus_sign():
            return cls(-x)
        return None

    def _eval_rewrite_as_cosh(self, x, **kwargs):
        return sp.log(2 * sp.cosh(x))


#: Functions whose argument's zero is a (near-)kink of the integrand: the compiler
#: splits a Gaussian average there when the argument is linear in the variable.
SPECIAL_FUNCTIONS = (Gauss, H, LogH, GH, LogCosh2)
