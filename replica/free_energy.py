r"""Free energies as named sums of terms, and their symbolic saddle-point equations.

A :class:`FreeEnergy` is the (replica) free entropy per weight
:math:`\Phi(x; c) = \sum_t \mathrm{term}_t(x; c)` as a function of the saddle-point
variables :math:`x` (order parameters and conjugates) and of control parameters
:math:`c`. Each :class:`Term` names the paper and equation it comes from. Everything
here is exact SymPy: derivatives go under the Gaussian averages and are cleaned with
Stein's lemma (:func:`replica.averages.integrate_by_parts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sympy as sp

from .averages import GaussianAverage, integrate_by_parts
from .symbols import Parameter

__all__ = ["Term", "Observable", "FreeEnergy", "FixedPointUnavailable", "tidy"]


def tidy(expr):
    """Simplify the coefficients of the Gaussian averages of ``expr`` (not the averages).

    The averages are frozen as symbols, the result is simplified as a rational
    function of them, and they are put back: cheap, and it turns e.g.
    ``1/(-2q√(1-q) + 2√(1-q))`` into ``1/(2(1-q)^{3/2})``.
    """
    expr = sp.sympify(expr)
    avgs = list(expr.atoms(GaussianAverage))
    if not avgs:
        return sp.simplify(expr)
    frozen = {a: sp.Dummy("A%d" % i) for i, a in enumerate(avgs)}
    e = sp.expand(expr.xreplace(frozen))
    e = sp.collect(e, list(frozen.values()), evaluate=False)
    out = sp.Add(*[sp.simplify(c) * k for k, c in e.items()])
    return out.xreplace({v: k for k, v in frozen.items()})


class FixedPointUnavailable(ValueError):
    """The free energy has no bilinear coupling from which q = F(q̂), q̂ = G(q) follows."""


@dataclass(frozen=True)
class Term:
    """One named contribution to a free energy.

    Attributes
    ----------
    name : str
        "coupling", "entropic", "energetic", ... (unique within a free energy).
    expr : sympy.Expr
        The term itself.
    source : str
        Paper and equation it comes from (shown in ``replica equations``).
    """

    name: str
    expr: sp.Expr
    source: str

    def __post_init__(self):
        object.__setattr__(self, "expr", sp.sympify(self.expr))
        if not self.source:
            raise ValueError(f"term {self.name!r}: cite the paper and equation in `source`")


@dataclass(frozen=True)
class Observable:
    """A quantity evaluated at the saddle point (e.g. the AT replicon eigenvalue).

    ``stable_if`` is "positive", "negative" or None: how the sign reads as stability.
    """

    name: str
    expr: sp.Expr
    source: str
    description: str = ""
    stable_if: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "expr", sp.sympify(self.expr))


@dataclass(eq=False)
class FreeEnergy:
    r"""A replica free entropy :math:`\Phi` (to be extremised), as named terms.

    Parameters
    ----------
    name : str
        Model identifier (``binary-perceptron``...).
    terms : sequence of Term
        Summed in order.
    order_parameters, conjugates : sequence of Parameter
        The saddle-point variables, in the packed order used by compiled functions
        (order parameters first, then conjugates).
    controls : sequence of Control
        Parameters the user must set (no silent defaults).
    observables : sequence of Observable, optional
        Evaluated at the solution (stability indicators, energies, ...).
    description : str
        One paragraph for ``replica models``.
    meta : dict
        Free-form information for derived quantities (e.g. ``load`` = name of α,
        ``discrete_prior``, the q → 1 limit); not used by the compiler.

    Examples
    --------
    The binary perceptron written by hand (Gardner & Derrida, J. Phys. A 21, 271 (1988),
    eq. (21)); ``solvers.solve_saddle(fe, {"alpha": 0.6, "kappa": 0.0})`` solves it:

    >>> import sympy as sp
    >>> from replica import (Conjugate, Control, E, FreeEnergy, GaussVar, LogCosh2, LogH,
    ...                      OrderParameter, Term)
    >>> q = OrderParameter("q", domain=(0, 1), initial=0.5)
    >>> qh = Conjugate("qhat", domain=(0, None), initial=1.0)
    >>> alpha, kappa = Control("alpha", domain=(0, None)), Control("kappa")
    >>> z = GaussVar("z")
    >>> fe = FreeEnergy("my-perceptron", [
    ...     Term("coupling", -qh * (1 - q) / 2, "Gardner & Derrida 1988, eq. (21)"),
    ...     Term("entropic", E(LogCosh2(sp.sqrt(qh) * z), z), "ibid."),
    ...     Term("energetic", alpha * E(LogH((kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)), z),
    ...          "ibid.")],
    ...     order_parameters=[q], conjugates=[qh], controls=[alpha, kappa])
    >>> fe.saddle_equations()[0]
    Eq(q, E[tanh(sqrt(qhat)*z)**2, z])
    """

    name: str
    terms: tuple
    order_parameters: tuple
    conjugates: tuple
    controls: tuple
    observables: tuple = ()
    description: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.terms = tuple(self.terms)
        self.order_parameters = tuple(self.order_parameters)
        self.conjugates = tuple(self.conjugates)
        self.controls = tuple(self.controls)
        self.observables = tuple(self.observables)
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate term names in {self.name}: {names}")
        syms = self.variables + self.controls
        if len({s.name for s in syms}) != len(syms):
            raise ValueError(f"duplicate parameter names in {self.name}")
        for s in syms:
            if not isinstance(s, Parameter):
                raise TypeError(f"{s!r} must be an OrderParameter, Conjugate or Control")
        allowed = set(syms)
        for t in self.terms:
            extra = {s for s in t.expr.free_symbols if s not in allowed}
            if extra:
                raise ValueError(
                    f"term {t.name!r} of {self.name} uses undeclared symbols "
                    f"{sorted(map(str, extra))}")
        self._cache = {}

    # -- structure ---------------------------------------------------------------
    @property
    def variables(self) -> tuple:
        """Saddle-point variables in packed order: order parameters, then conjugates."""
        return self.order_parameters + self.conjugates

    @property
    def expr(self) -> sp.Expr:
        """The whole free entropy :math:`\\Phi` (sum of the terms)."""
        return sp.Add(*[t.expr for t in self.terms])

    def term(self, name) -> Term:
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(f"{self.name} has no term {name!r}; terms: {[t.name for t in self.terms]}")

    def parameter(self, name) -> Parameter:
        for s in self.variables + self.controls:
            if s.name == name:
                return s
        raise KeyError(name)

    def fingerprint(self) -> str:
        """Stable hash of the mathematical content (used as the compilation cache key)."""
        parts = [self.name, sp.srepr(self.expr)]
        parts += [s.name for s in self.variables] + ["|"] + [s.name for s in self.controls]
        parts += [o.name + "=" + sp.srepr(o.expr) for o in self.observables]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    # -- derivatives -------------------------------------------------------------
    def gradient(self) -> list:
        r""":math:`\partial\Phi/\partial x_i` for every saddle variable, Stein-cleaned."""
        if "grad" not in self._cache:
            e = self.expr
            self._cache["grad"] = [integrate_by_parts(sp.diff(e, v)) for v in self.variables]
        return self._cache["grad"]

    def hessian(self) -> list:
        r""":math:`\partial^2\Phi/\partial x_i\partial x_j` (symmetric, lists of lists)."""
        if "hess" not in self._cache:
            g = self.gradient()
            n = len(self.variables)
            h = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(i, n):
                    h[i][j] = h[j][i] = integrate_by_parts(sp.diff(g[i], self.variables[j]))
            self._cache["hess"] = h
        return self._cache["hess"]

    def saddle_equations(self) -> list:
        r"""The stationarity conditions :math:`\partial\Phi/\partial x = 0` as ``Eq`` objects.

        Where the coupling is bilinear they are returned in the conventional
        fixed-point form ``Eq(x, F(...))`` (see :meth:`fixed_point_form`).

        Examples
        --------
        Gardner's spherical perceptron: :math:`q = F(\hat q)` is algebraic, and
        :math:`\hat q` is an average of :math:`(G/H)` terms (Gardner 1988, eq. (20)):

        >>> from replica import get_model
        >>> eqs = get_model("spherical-perceptron").saddle_equations()
        >>> [eq.lhs for eq in eqs]
        [q, qhat]
        >>> eqs[0].rhs.has(eqs[0].lhs), sorted(map(str, eqs[1].rhs.free_symbols))
        (False, ['alpha', 'kappa', 'q'])
        """
        try:
            fp = self.fixed_point_form()
            return [sp.Eq(v, fp[v]) for v in self.variables]
        except FixedPointUnavailable:
            return [sp.Eq(g, 0) for g in self.gradient()]

    def fixed_point_form(self) -> dict:
        r"""Solve the stationarity conditions into :math:`q = F(\hat q)`, :math:`\hat q = G(q)`.

        The condition :math:`\partial\Phi/\partial\hat q_k = 0` is linear in the order
        parameters when they enter only through a bilinear coupling
        :math:`\sum c_{kl} q_l\hat q_k`; it is then solved for the order parameters,
        and :math:`\partial\Phi/\partial q_k = 0` for the conjugates. This is the
        iteration of Gardner & Derrida (1988) generalised to any such functional.

        Raises
        ------
        FixedPointUnavailable
            When the structure is not bilinear (e.g. more conjugates than order
            parameters, as in Franz–Parisi with p̂): use Newton.
        """
        if "fp" in self._cache:
            if isinstance(self._cache["fp"], Exception):
                raise self._cache["fp"]
            return self._cache["fp"]
        try:
            out = self._derive_fixed_point()
        except FixedPointUnavailable as exc:
            self._cache["fp"] = exc
            raise
        self._cache["fp"] = out
        return out

    def _derive_fixed_point(self):
        q, qh = list(self.order_parameters), list(self.conjugates)
        if not q or len(q) != len(qh):
            raise FixedPointUnavailable(
                f"{self.name}: fixed-point form needs one conjugate per order parameter "
                f"(has {len(q)} order parameters, {len(qh)} conjugates)")
        grad = dict(zip(self.variables, self.gradient()))
        out = {}
        for solve_for, eq_vars in ((q, qh), (qh, q)):
            eqs = [grad[v] for v in eq_vars]
            try:
                A, b = sp.linear_eq_to_matrix(eqs, solve_for)
            except (sp.polys.polyerrors.PolynomialError, ValueError) as exc:
                raise FixedPointUnavailable(f"{self.name}: {exc}") from exc
            if any(a.free_symbols & set(solve_for) for a in A):
                raise FixedPointUnavailable(f"{self.name}: coupling is not bilinear")
            if A.det() == 0:
                raise FixedPointUnavailable(f"{self.name}: singular coupling matrix")
            sol = A.LUsolve(b)
            for v, s in zip(solve_for, sol):
                out[v] = tidy(s)
        return out

    # -- presentation ------------------------------------------------------------
    def latex(self) -> str:
        r"""LaTeX: the free entropy term by term (with sources), then the saddle equations.

        Examples
        --------
        >>> from replica import get_model
        >>> print(get_model("binary-perceptron").latex().splitlines()[0])
        \Phi = \Phi_{\mathrm{coupling}} + \Phi_{\mathrm{entropic}} + \Phi_{\mathrm{energetic}}
        """
        lines = [r"\Phi = " + " + ".join(r"\Phi_{\mathrm{%s}}" % t.name for t in self.terms)]
        for t in self.terms:
            lines.append(r"\Phi_{\mathrm{%s}} = %s \quad \text{[%s]}" % (
                t.name, sp.latex(t.expr), t.source.replace("&", r"\&")))
        lines.append(r"\text{saddle-point equations:}")
        for eq in self.saddle_equations():
            lines.append(sp.latex(eq))
        for o in self.observables:
            lines.append(r"\text{%s} = %s \quad \text{[%s]}" % (
                o.name.replace("_", r"\_"), sp.latex(o.expr), o.source))
        return "\n".join(lines)

    def describe(self) -> dict:
        """A JSON-able summary (used by ``replica models``)."""
        def info(s):
            return {"name": s.name, "kind": s.kind, "domain": list(s.domain),
                    "description": s.description}
        return {
            "name": self.name,
            "description": self.description,
            "controls": [info(s) for s in self.controls],
            "order_parameters": [info(s) for s in self.order_parameters],
            "conjugates": [info(s) for s in self.conjugates],
            "terms": [{"name": t.name, "source": t.source} for t in self.terms],
            "observables": [o.name for o in self.observables],
        }

