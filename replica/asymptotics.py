r"""The q → 1 limit of RS free entropies, derived symbolically.

Near the point where the solution space shrinks to zero (q → 1) the RS free entropy
diverges as :math:`\Phi \simeq [c_S + \alpha\, c_E(\kappa)]/(1-q)`. The RS capacity is
where the coefficient vanishes, :math:`\alpha_c = -c_S/c_E` (Gardner, J. Phys. A 21,
257 (1988), sec. 4). We obtain both coefficients from the model's own expressions with
two exact leading-order rules, with :math:`\varepsilon = 1-q`:

* :math:`\varepsilon\,\ln H(a/\sqrt\varepsilon) \to -\tfrac12 a^2\,\theta(a)`,
* :math:`\varepsilon\,\ln 2\cosh(a/\varepsilon) \to |a|`,

and the conjugate scaling :math:`\hat q = x/\varepsilon^2` (maximised over x > 0).
Heaviside factors with a linear argument become integration limits and the remaining
Gaussian averages are integrated by SymPy. For the spherical perceptron this yields
Gardner's :math:`\alpha_c(\kappa) = 1/\int_{-\kappa}^\infty Dt\,(t+\kappa)^2`; for
±1 weights it yields the (wrong, above-capacity) RS value :math:`(2/\pi)\alpha_c^{sph}`,
i.e. :math:`4/\pi` at κ = 0 (Gardner & Derrida 1988, eq. (28)).
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage
from .functions import LogCosh2, LogH

__all__ = ["q_to_one_coefficients", "q_to_one_capacity"]

_eps = sp.Symbol("varepsilon", positive=True)
_x = sp.Symbol("x", positive=True)


def _leading(expr, eps):
    """Replace LogH and LogCosh2 by their leading singular behaviour as eps → 0+."""

    def rule_logh(e):
        a = sp.limit(e.args[0] * sp.sqrt(eps), eps, 0, "+")
        if a.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or a == 0:
            raise NotImplementedError(f"ln H argument {e.args[0]} does not scale as eps^-1/2")
        return -a**2 * sp.Heaviside(a) / (2 * eps)

    def rule_lc(e):
        a = sp.limit(e.args[0] * eps, eps, 0, "+")
        if a.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or a == 0:
            raise NotImplementedError(f"ln 2cosh argument {e.args[0]} does not scale as 1/eps")
        return sp.Abs(a) / eps

    # nodes that know their own leading behaviour (replica.committee.SignCommitteeLogZ)
    expr = expr.replace(lambda e: hasattr(e, "q_to_one_leading"), lambda e: e.q_to_one_leading(eps))
    expr = expr.replace(lambda e: isinstance(e, LogH), rule_logh)
    return expr.replace(lambda e: isinstance(e, LogCosh2), rule_lc)


def _heaviside_to_limits(expr):
    """∫Dz f(z) θ(c - z) → ∫_{-∞}^{c} Dz f; ∫Dz f θ(z - c) → ∫_c^∞ Dz f (linear args)."""

    def rule(avg):
        f, z, lo, up = avg.args
        for h in f.atoms(sp.Heaviside):
            arg = h.args[0]
            slope = sp.diff(arg, z)
            if slope.has(z) or slope == 0:
                continue
            root = sp.solve(arg, z)[0]
            g = f.subs(h, 1)
            if slope.is_negative:
                return GaussianAverage(g, z, lo, root)
            if slope.is_positive:
                return GaussianAverage(g, z, root, up)
        return avg

    return expr.replace(lambda e: isinstance(e, GaussianAverage), rule)


def _integrate_averages(expr):
    return expr.replace(lambda e: isinstance(e, GaussianAverage), lambda e: e.integrate_symbolically())


def q_to_one_coefficients(fe):
    r"""Return :math:`(c_S, c_E)` with :math:`\Phi \simeq (c_S + \alpha c_E)/(1-q)`.

    ``fe`` must be an RS free energy built by :func:`replica.ansatz.replica_symmetric`.
    :math:`c_S` is already maximised over the scaled conjugate.
    """
    if fe.meta.get("ansatz") != "rs":
        raise NotImplementedError("the q → 1 limit is derived for RS free energies only")
    q = fe.parameter(fe.meta["overlap"])
    qh = fe.parameter(fe.meta["conjugate"])
    alpha = fe.parameter(fe.meta["load"])
    entropic = (fe.term("coupling").expr + fe.term("entropic").expr).subs(
        {q: 1 - _eps, qh: _x / _eps**2})
    energetic = (fe.term("energetic").expr / alpha).subs(q, 1 - _eps)

    cs = sp.limit(sp.expand(_eps * _integrate_averages(_heaviside_to_limits(
        _leading(entropic, _eps)))), _eps, 0, "+")
    crit = [r for r in sp.solve(sp.diff(cs, _x), _x) if r.is_positive]
    if len(crit) != 1:
        raise NotImplementedError(f"could not maximise the entropic coefficient {cs}")
    cs = sp.simplify(cs.subs(_x, crit[0]))
    ce = sp.limit(sp.expand(_eps * _integrate_averages(_heaviside_to_limits(
        _leading(energetic, _eps)))), _eps, 0, "+")
    return cs, sp.simplify(ce)


def q_to_one_capacity(fe):
    r""":math:`\alpha_c = -c_S/c_E` as a SymPy expression in the channel's controls.

    Examples
    --------
    Gardner's :math:`\alpha_c(\kappa) = 1/\int_{-\kappa}^\infty Dt\,(t+\kappa)^2`
    (J. Phys. A 21, 257 (1988), eq. (33)), derived from the free entropy:

    >>> from replica import get_model, q_to_one_capacity
    >>> a = q_to_one_capacity(get_model("spherical-perceptron"))
    >>> sorted(map(str, a.free_symbols)), a.subs({k: 0 for k in a.free_symbols})
    (['kappa'], 2)
    """
    cs, ce = q_to_one_coefficients(fe)
    return sp.simplify(-cs / ce)
