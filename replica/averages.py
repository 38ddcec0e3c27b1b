r"""Unevaluated Gaussian averages: the integrals of replica free energies.

``GaussianAverage(f, z, lower, upper)`` stands for

.. math::  \int_{\mathrm{lower}}^{\mathrm{upper}} Dz\, f(z), \qquad Dz = G(z)\,dz,

i.e. the *unnormalised* integral against the standard Gaussian measure; with the
default limits (−∞, ∞) it is the expectation :math:`\mathbb{E}_z f(z)`. Averages nest
(the integrand may contain other averages over other variables), and correlated
Gaussian variables are written through their Cholesky factors with :func:`correlated`.

Differentiation goes *under* the average (Leibniz rule, with boundary terms for finite
limits), so :meth:`replica.free_energy.FreeEnergy.saddle_equations` is exact. After
differentiation :func:`integrate_by_parts` applies Stein's lemma
:math:`\mathbb{E}[z f(z)] = \mathbb{E}[f'(z)]` on full-line averages; this removes the
spurious :math:`1/\sqrt{\hat q}` singularities of the chain rule and yields the
conventional forms, e.g. :math:`q = \mathbb{E}_z\tanh^2(\sqrt{\hat q}z)`
(Gardner & Derrida, J. Phys. A 21, 271 (1988)).
"""

from __future__ import annotations

import sympy as sp

from .functions import H, Gauss

__all__ = ["GaussianAverage", "E", "integrate_by_parts", "canonical_radicals", "correlated",
           "averages_in", "LogMeanExp", "TiltedAverage"]


class GaussianAverage(sp.Expr):
    r"""Unevaluated :math:`\int_{\mathrm{lower}}^{\mathrm{upper}} Dz\, f(z)`.

    Parameters
    ----------
    integrand : sympy expression
        The function :math:`f`; may contain other averages (nesting).
    var : sympy.Symbol
        The integration variable (bound: it is not a free symbol of the average).
    lower, upper : sympy expression, optional
        Integration limits; default (−∞, ∞). Finite limits give a truncated Gaussian
        measure (not normalised: divide by :math:`H(\mathrm{lower})` yourself).

    Notes
    -----
    The constructor is canonicalising: terms of an ``Add`` are averaged separately and
    factors independent of ``var`` are pulled out, so an integrand free of ``var``
    evaluates to ``f * (H(lower) - H(upper))``.
    """

    is_commutative = True
    is_real = True

    def __new__(cls, integrand, var, lower=-sp.oo, upper=sp.oo):
        integrand = sp.sympify(integrand)
        lower, upper = sp.sympify(lower), sp.sympify(upper)
        if not isinstance(var, sp.Symbol):
            raise TypeError(f"GaussianAverage: var must be a sympy Symbol, got {var!r}")
        mass = H(lower) - H(upper)
        if integrand == 0:
            return sp.S.Zero
        if isinstance(integrand, sp.Add):
            return sp.Add(*[cls(t, var, lower, upper) for t in integrand.args])
        const, dep = integrand.as_independent(var, as_Add=False)
        if dep == 1:
            return const * mass
        base, ex = dep.as_base_exp()
        if (base == var and ex.is_Integer and ex > 0 and lower is sp.S.NegativeInfinity
                and upper is sp.S.Infinity):
            # exact Gaussian moments: E z^k = (k-1)!! for even k, 0 for odd k
            return const * (sp.factorial2(ex - 1) if ex % 2 == 0 else sp.S.Zero)
        if const != 1 and dep != integrand:
            return const * cls(dep, var, lower, upper)
        return sp.Expr.__new__(cls, dep, var, lower, upper)

    @property
    def integrand(self):
        return self.args[0]

    @property
    def var(self):
        return self.args[1]

    @property
    def lower(self):
        return self.args[2]

    @property
    def upper(self):
        return self.args[3]

    @property
    def full_line(self) -> bool:
        return self.lower is sp.S.NegativeInfinity and self.upper is sp.S.Infinity

    @property
    def free_symbols(self):
        return ((self.integrand.free_symbols - {self.var})
                | self.lower.free_symbols | self.upper.free_symbols)

    def _eval_derivative(self, s):
        f, z, lo, up = self.args
        out = GaussianAverage(sp.diff(f, s), z, lo, up)
        if up is not sp.S.Infinity and up.has(s):
            out += Gauss(up) * f.subs(z, up) * sp.diff(up, s)
        if lo is not sp.S.NegativeInfinity and lo.has(s):
            out -= Gauss(lo) * f.subs(z, lo) * sp.diff(lo, s)
        return out

    def _eval_subs(self, old, new):
        if old == self.var:
            return self
        return None

    def integrate_symbolically(self):
        """Try to integrate with SymPy; return ``self`` when SymPy cannot.

        (Not ``doit``: SymPy's simplifiers call ``doit`` freely, and symbolic
        integration of a generic integrand is slow.)
        """
        f, z, lo, up = self.args
        dens = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
        res = sp.integrate(f.rewrite(sp.exp) * dens, (z, lo, up))
        if res.has(sp.Integral):
            return self
        return res

    def _latex(self, printer, exp=None):
        f = printer._print(self.integrand)
        z = printer._print(self.var)
        if self.full_line:
            body = r"\mathbb{E}_{%s}\left[%s\right]" % (z, f)
        else:
            body = r"\int_{%s}^{%s} D%s\, \left[%s\right]" % (
                printer._print(self.lower), printer._print(self.upper), z, f)
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)

    def _sympystr(self, printer):
        lim = "" if self.full_line else ", %s, %s" % (printer._print(self.lower),
                                                   printer._print(self.upper))
        return "E[%s, %s%s]" % (printer._print(self.integrand), printer._print(self.var), lim)


def E(integrand, *variables):
    """Shorthand for nested full-line averages: ``E(f, z, x)`` = E_z E_x f (x inner)."""
    out = sp.sympify(integrand)
    for v in reversed(variables):
        out = GaussianAverage(out, v)
    return out


def averages_in(expr):
    """All :class:`GaussianAverage` nodes of ``expr`` at the top nesting level."""
    found = []

    def walk(e):
        if isinstance(e, GaussianAverage):
            if e not in found:
                found.append(e)
            return
        for a in e.args:
            walk(a)

    walk(sp.sympify(expr))
    return found


def _powers_of(term, z):
    """Split ``term`` into [(c_k, k)] with term = sum c_k z**k, expanding only the
    factors that are polynomials in z (the rest is kept intact, never deep-expanded)."""
    out = [(sp.S.One, 0)]
    for fac in sp.Mul.make_args(term):
        base, ex = fac.as_base_exp()
        if base == z and ex.is_Integer and ex > 0:
            out = [(c, k + int(ex)) for c, k in out]
        elif fac.has(z) and fac.is_polynomial(z) and not fac.is_Symbol:
            coeffs = sp.Poly(fac, z).all_coeffs()[::-1]
            out = [(c * ck, k + j) for c, k in out for j, ck in enumerate(coeffs) if ck != 0]
        else:
            out = [(c * fac, k) for c, k in out]
    return out


def _regenerates(c, z):
    """Whether differentiating ``c`` in z brings back a polynomial factor of z: a
    Gaussian density whose argument depends on z (Gauss(a + b z)' = -(a + b z) Gauss),
    e.g. the derivative of an H(a + b z) weight. Stein's lemma would then loop
    (each round adds a power) and bury the term under a degree-8 polynomial."""
    return any(g.args[0].has(z) for g in c.atoms(Gauss))


def _stein(f, z, max_rounds):
    """Rewrite E_z[f] so that no term carries an explicit polynomial factor of z
    (terms that would regenerate it, see :func:`_regenerates`, are left as they are)."""
    for _ in range(max_rounds):
        changed = False
        new_terms = []
        for t in sp.Add.make_args(f):
            for c, k in _powers_of(t, z):
                if k == 0 or _regenerates(c, z):
                    new_terms.append(c * z**k)
                else:  # E[z^k c] = E[d/dz (z^(k-1) c)]
                    new_terms.append(sp.diff(c * z**(k - 1), z))
                    changed = True
        f = sp.Add(*new_terms)
        if not changed:
            break
    return f


def canonical_radicals(expr):
    """Rewrite the base of every non-integer power in one canonical form (expanded,
    over a common denominator), so that √R · R^(-1/2) cancels even when the two
    factors were produced in different algebraic forms (e.g. by the chain rule and
    by Stein's lemma). Without this, 0 · ∞ appears where a variance vanishes."""
    expr = sp.sympify(expr)
    cache = {}

    def canon(b):
        if b not in cache:
            cache[b] = sp.together(sp.expand(b))
        return cache[b]

    return expr.replace(
        lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer and not e.base.is_Atom,
        lambda e: sp.Pow(canon(e.base), e.exp))


def integrate_by_parts(expr, max_rounds=8):
    r"""Apply Stein's lemma :math:`\mathbb{E}_z[z f] = \mathbb{E}_z[f']` everywhere.

    Only full-line averages are rewritten (truncated ones would need boundary terms).
    Inner averages are processed first. The result is mathematically identical.
    """
    expr = sp.sympify(expr)

    def rule(avg):
        f, z, lo, up = avg.args
        f = integrate_by_parts(f, max_rounds)
        if avg.full_line:
            f = canonical_radicals(_stein(canonical_radicals(f), z, max_rounds))
        return GaussianAverage(f, z, lo, up)

    return canonical_radicals(expr.replace(lambda e: isinstance(e, GaussianAverage), rule))


def correlated(integrand, variables, covariance, name="xi"):
    r"""Average over Gaussian variables with a given covariance matrix.

    ``variables`` (u_1..u_n) are replaced by :math:`u = L\xi` with :math:`LL^T = C`
    (symbolic Cholesky factor) and :math:`\xi` independent standard Gaussians
    named ``{name}1..{name}n``; the returned expression is the nested average.
    """
    C = sp.Matrix(covariance)
    n = len(variables)
    if C.shape != (n, n):
        raise ValueError(f"covariance must be {n}x{n}, got {C.shape}")
    L = C.cholesky(hermitian=False)
    xis = sp.symbols(f"{name}1:{n + 1}", real=True)
    sub = {v: sum(L[i, j] * xis[j] for j in range(i + 1)) for i, v in enumerate(variables)}
    return E(sp.sympify(integrand).xreplace(sub), *xis)


class LogMeanExp(sp.Expr):
    r"""Unevaluated :math:`\ln \mathbb{E}_z\, e^{f(z)}` (full line, standard Gaussian z).

    The building block of large-deviation (tilted) measures: the replicated local
    entropy at finite y has :math:`\mathbb{E}_{z_0}\ln\mathbb{E}_{z_1}[Z(z_0,z_1)^y]`
    (Baldassi et al., PRL 115, 128101 (2015); JSTAT 2016, 023301), and 1RSB free
    energies have the same form with the Parisi parameter. Written as one node, it is
    evaluated in log space (log-sum-exp on a grid placed where the tilted mass is, see
    :mod:`solvers.codegen`), so :math:`e^{f}` may be astronomically large or small.

    Derivative: :math:`\partial_s \ln\mathbb{E}e^{f} = \langle \partial_s f\rangle_f`
    (:class:`TiltedAverage`). Constructor canonicalises: terms of f free of z are
    pulled out, and an f free of z returns f itself.
    """

    is_commutative = True
    is_real = True

    def __new__(cls, f, var):
        f = sp.sympify(f)
        if not isinstance(var, sp.Symbol):
            raise TypeError(f"LogMeanExp: var must be a sympy Symbol, got {var!r}")
        const, dep = f.as_independent(var, as_Add=True)
        if dep == 0:
            return f
        if const != 0:
            return const + cls(dep, var)
        return sp.Expr.__new__(cls, dep, var)

    @property
    def exponent(self):
        return self.args[0]

    @property
    def var(self):
        return self.args[1]

    @property
    def free_symbols(self):
        return self.exponent.free_symbols - {self.var}

    def _eval_derivative(self, s):
        return TiltedAverage(sp.diff(self.exponent, s), self.exponent, self.var)

    def _eval_subs(self, old, new):
        if old == self.var:
            return self
        return None

    def _latex(self, printer, exp=None):
        body = r"\ln \mathbb{E}_{%s}\, e^{%s}" % (printer._print(self.var), printer._print(self.exponent))
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)

    def _sympystr(self, printer):
        return "LogMeanExp(%s, %s)" % (printer._print(self.exponent), printer._print(self.var))


class TiltedAverage(sp.Expr):
    r"""Unevaluated tilted average :math:`\langle g\rangle_f = \mathbb{E}_z[g\,e^{f}]/\mathbb{E}_z[e^{f}]`.

    Closed under differentiation:
    :math:`\partial_s\langle g\rangle_f = \langle \partial_s g + g\,\partial_s f\rangle_f
    - \langle g\rangle_f\langle\partial_s f\rangle_f`. Linear in g (canonicalised: terms
    are split, factors free of z pulled out, ``<c>_f = c``).
    """

    is_commutative = True
    is_real = True

    def __new__(cls, g, f, var):
        g, f = sp.sympify(g), sp.sympify(f)
        if not isinstance(var, sp.Symbol):
            raise TypeError(f"TiltedAverage: var must be a sympy Symbol, got {var!r}")
        f = f.as_independent(var, as_Add=True)[1]  # constants in f cancel
        if g == 0:
            return sp.S.Zero
        if isinstance(g, sp.Add):
            return sp.Add(*[cls(t, f, var) for t in g.args])
        const, dep = g.as_independent(var, as_Add=False)
        if dep == 1:
            return const
        if f == 0:
            return const * GaussianAverage(dep, var)
        if const != 1:
            return const * cls(dep, f, var)
        return sp.Expr.__new__(cls, dep, f, var)

    @property
    def integrand(self):
        return self.args[0]

    @property
    def exponent(self):
        return self.args[1]

    @property
    def var(self):
        return self.args[2]

    @property
    def free_symbols(self):
        return (self.integrand.free_symbols | self.exponent.free_symbols) - {self.var}

    def _eval_derivative(self, s):
        g, f, z = self.args
        fs = sp.diff(f, s)
        return (TiltedAverage(sp.diff(g, s) + g * fs, f, z)
                - TiltedAverage(g, f, z) * TiltedAverage(fs, f, z))

    def _eval_subs(self, old, new):
        if old == self.var:
            return self
        return None

    def _latex(self, printer, exp=None):
        body = r"\left\langle %s\right\rangle_{%s;\,e^{%s}}" % (
            printer._print(self.integrand), printer._print(self.var), printer._print(self.exponent))
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)

    def _sympystr(self, printer):
        return "Tilted(%s, %s, %s)" % tuple(printer._print(a) for a in self.args)
