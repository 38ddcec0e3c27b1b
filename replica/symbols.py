"""Symbols with metadata: order parameters, their conjugates, and control parameters.

They are ordinary (real) SymPy symbols, so a theorist writes free energies with plain
arithmetic, and carry what the solvers need: the physical domain (used to keep Newton
steps inside it and to validate user input), the conjugate partner, a LaTeX name and a
one-line description.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["Parameter", "OrderParameter", "Conjugate", "Control", "GaussVar"]


class Parameter(sp.Symbol):
    """A real symbol with a domain ``(lower, upper)``, LaTeX name and description.

    Parameters
    ----------
    name : str
        Identifier used in results, the CLI (``--set name=value``) and JSON.
    domain : tuple
        Open interval (lower, upper) of physically meaningful values; ``None`` for
        an unbounded side.
    latex : str, optional
        LaTeX rendering (defaults to SymPy's).
    description : str, optional
        One line shown by ``replica models``.
    partner : str, optional
        Name of the conjugate partner.
    initial : float, optional
        Default *numerical* starting point for solvers (order parameters and
        conjugates only; controls never have defaults).
    """

    kind = "parameter"

    def __new__(cls, name, *, domain=(None, None), latex=None, description="", partner=None,
                initial=None):
        obj = sp.Symbol.__xnew__(cls, name, real=True)
        obj.domain = tuple(domain)
        obj.initial = initial
        obj.latex_name = latex
        obj.description = description
        obj.partner = partner
        return obj

    def __getnewargs_ex__(self):
        return ((self.name,), {"domain": self.domain, "latex": self.latex_name,
                               "description": self.description, "partner": self.partner,
                               "initial": self.initial})

    def _latex(self, printer, exp=None):
        s = self.latex_name or sp.latex(sp.Symbol(self.name))
        return s if exp is None else "{%s}^{%s}" % (s, exp)

    def contains(self, value) -> bool:
        """Whether ``value`` lies in the closed hull of the domain."""
        lo, hi = self.domain
        return (lo is None or value >= lo) and (hi is None or value <= hi)


class OrderParameter(Parameter):
    """An overlap-type order parameter (saddle-point variable), e.g. q."""

    kind = "order"


class Conjugate(Parameter):
    """A conjugate (Lagrange multiplier) of an order parameter, e.g. q̂."""

    kind = "conjugate"


class Control(Parameter):
    """A control parameter fixed by the user (α, κ, distance, β, y, K, ...)."""

    kind = "control"


class GaussVar(sp.Symbol):
    """A standard-Gaussian integration variable (bound inside averages)."""

    def __new__(cls, name):
        return sp.Symbol.__xnew__(cls, name, real=True)

    def __getnewargs_ex__(self):
        return ((self.name,), {})
