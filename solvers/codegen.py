r"""The one module that turns SymPy into numbers.

``compile_model(free_energy)`` returns a :class:`CompiledModel` whose bundles
(value, gradient, jacobian = gradient + Hessian, observables, fixed point) are built
lazily, on first request, and cached in memory and on disk.

How a bundle is compiled
------------------------
A list of expressions is turned into a tree of *levels*. A level is one flat Python
function (generated source, common subexpressions eliminated, printed with NumPy /
SciPy or mpmath calls) of the variables in scope and of placeholders standing for the
Gaussian averages at that level. Averages are grouped by measure (variable and limits)
and each group owns a child level that returns all of its integrands at once, so
integrands share subexpressions and one quadrature grid. Nesting maps to new trailing
array axes: batch axes first, then one axis per enclosing average.

Quadrature (NumPy back end)
---------------------------
* full-line averages of smooth integrands: Gauss–Hermite, ``HERMITE_NODES`` nodes;
* averages with kinks (zeros of *linear* arguments of ln H, G/H, H, ln 2cosh, tanh,
  |·|, θ — the margin step and its smoothed versions) or finite limits: the interval
  [max(lower, −L), min(upper, L)] (L = ``QUAD_CUTOFF``) is split at every kink and
  each piece gets ``LEGENDRE_NODES`` Gauss–Legendre nodes, with the Gaussian density
  in the weights. Kink positions depend on parameters and on outer variables, so the
  nodes are computed per batch element.

The mpmath back end evaluates the same tree at ``MPMATH_DPS`` digits with
``mpmath.quad`` split at the same kinks (independent of our rules: used in tests).

Compiled artefacts are plain source strings, so a :class:`CompiledModel` pickles
(process pools) and the disk cache makes a cold CLI call skip SymPy differentiation.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pathlib
import threading

import mpmath
import numpy as np
import scipy.special
import sympy as sp
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.pycode import MpmathPrinter

from replica.averages import GaussianAverage, LogMeanExp, TiltedAverage
from replica.free_energy import FixedPointUnavailable, FreeEnergy
from replica.functions import GH, H, LogCosh2, LogH

from . import committee as _committee
from . import committee_fp as _committee_fp
from . import constants as C
from . import prox as _prox
from . import special

__all__ = ["compile_model", "compile_expression", "CompiledModel", "cache_dir", "clear_memory_cache", "BUNDLES"]

#: Bundle name -> what it contains (see CompiledModel.evaluate).
BUNDLES = ("value", "gradient", "jacobian", "observables", "fixed_point")

_KINK_FUNCS = (LogH, GH, H, LogCosh2, sp.tanh, sp.Abs, sp.Heaviside)
_MEMORY = {}
_LOCK = threading.Lock()


# --------------------------------------------------------------------------- printing
#: replica special function -> name of its implementation in solvers.special (NumPy,
#: module alias `_rt`) and solvers.special.MP (mpmath, alias `_mp`)
_RUNTIME = {"LogH": "log_h", "H": "h", "GH": "gh", "Gauss": "gauss", "LogCosh2": "logcosh2"}


def _with_runtime(printer_cls, alias):
    """Give a SymPy printer one `_print_<Function>` method per special function."""
    for fname, impl in _RUNTIME.items():
        def method(self, e, impl=impl):
            return "%s.%s(%s)" % (alias, impl, self._print(e.args[0]))
        setattr(printer_cls, "_print_" + fname, method)
    return printer_cls


@functools.partial(_with_runtime, alias="_rt")
class _NumpyPrinter(SciPyPrinter):
    def _print_Heaviside(self, e):
        return "numpy.heaviside(%s, 0.5)" % self._print(e.args[0])

    def _print_Pow(self, e, rational=False):
        if e.exp == sp.S.Half:
            return "_rt.sqrt(%s)" % self._print(e.base)
        if e.exp == -sp.S.Half:
            return "(1/_rt.sqrt(%s))" % self._print(e.base)
        return super()._print_Pow(e, rational=rational)


def _print_committee_node(self, e):
    """Tree-committee K-field averages (replica.committee) -> solvers.committee (the
    optional 4th argument: the output margin κ, a control)."""
    q, K, n = e.args[:3]
    if len(e.args) == 4:
        return "_cm.sign_logz(%s, %d, %d, %s)" % (self._print(q), int(K), int(n), self._print(e.args[3]))
    return "_cm.sign_logz(%s, %d, %d)" % (self._print(q), int(K), int(n))


_NumpyPrinter._print_SignCommitteeLogZ = _print_committee_node
_NumpyPrinter._print_ReluCommitteeLogZ = lambda self, e: "_cm.relu_logz(%s, %d, %d%s)" % (
    self._print(e.args[0]), int(e.args[1]), int(e.args[2]), "".join(", " + self._print(a) for a in e.args[3:]))
_NumpyPrinter._print_ReluCommitteeMinCost = lambda self, e: "_cm.relu_min_cost(%d%s)" % (
    int(e.args[0]), "".join(", " + self._print(a) for a in e.args[1:]))
# finite-K sign committee, Franz–Parisi term (replica.committee_fp) -> solvers.committee_fp
_NumpyPrinter._print_SignCommitteeFPLogZ = lambda self, e: "_cmfp.sign_fp_logz(%s, %s)" % (
    ", ".join(self._print(a) for a in e.args[:4]), ", ".join(str(int(a)) for a in e.args[4:]))
# ... and its ReLU counterpart (same arguments)
_NumpyPrinter._print_ReluCommitteeFPLogZ = lambda self, e: "_cmfp.relu_fp_logz(%s, %s)" % (
    ", ".join(self._print(a) for a in e.args[:4]), ", ".join(str(int(a)) for a in e.args[4:]))
_NumpyPrinter._print_SignCommitteeReplicon = lambda self, e: "_cm.sign_replicon(%s, %d%s)" % (
    self._print(e.args[0]), int(e.args[1]), "".join(", " + self._print(a) for a in e.args[2:]))
_NumpyPrinter._print_ReluCommitteeReplicon = lambda self, e: "_cm.relu_replicon(%s, %d%s)" % (
    self._print(e.args[0]), int(e.args[1]), "".join(", " + self._print(a) for a in e.args[2:]))
# with the output margin κ (2 arguments) the min-cost stays opaque (m(κ) is numeric)
_NumpyPrinter._print_SignCommitteeMinCost = lambda self, e: "_cm.sign_min_cost(%d%s)" % (
    int(e.args[0]), "".join(", " + self._print(a) for a in e.args[1:]))


def _prox_printer(alias, impl):
    """Proximal-map nodes (replica.prox) -> solvers.prox (NumPy `_px`, mpmath `_px.MP`)."""
    def method(self, e):
        z, x, c, L = e.args
        return "%s.%s(%s, %s, %s, %d)" % (alias, impl, self._print(z), self._print(x),
                                          self._print(c), int(L))
    return method


@functools.partial(_with_runtime, alias="_mp")
class _MpPrinter(MpmathPrinter):
    def _print_Heaviside(self, e):
        return "(mpmath.mpf(1) if (%s) > 0 else mpmath.mpf(0))" % self._print(e.args[0])


for _node, _impl in (("MoreauEnvelope", "moreau"), ("ProxShift", "shift"), ("ProxCurvature", "curvature")):
    setattr(_NumpyPrinter, "_print_" + _node, _prox_printer("_px", _impl))
    setattr(_MpPrinter, "_print_" + _node, _prox_printer("_px.MP", _impl))


def _function_source(exprs, argsyms, printer):
    """Source of ``def f(*args): ... return (e0, e1, ...)`` with CSE."""
    reps, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("_c"), optimizations=None)
    lines = ["def f(%s):" % ", ".join(str(a) for a in argsyms)]
    for s, e in reps:
        lines.append("    %s = %s" % (s, printer.doprint(e)))
    body = ", ".join(printer.doprint(e) for e in reduced)
    lines.append("    return (%s,)" % body if reduced else "    return ()")
    return "\n".join(lines)


# --------------------------------------------------------------------------- tree build
_TILTED = (LogMeanExp, TiltedAverage)


def _top_averages(expr, acc):
    if isinstance(expr, (GaussianAverage,) + _TILTED):
        if expr not in acc:
            acc.append(expr)
        return
    for a in expr.args:
        _top_averages(a, acc)


def _add_kink(acc, root, slope, smoothed):
    """Record a kink; an exact kink at the position of a smoothed one replaces it (else
    the smoothed entry, dropped at run time where it is not sharp, would hide the exact
    kink: e.g. ln 2cosh(√q̂ z) of the entropic term and a smoothed step of the energetic
    term both at z = 0 in the RS loss model, whose z axis then fell back to Hermite)."""
    for i, (r, _, sm) in enumerate(acc):
        if r == root:
            if sm and not smoothed:
                acc[i] = (root, slope, False)
            return
    acc.append((root, slope, smoothed))


def _kinks(expr, var, acc, inner=()):
    """(zero, |slope|) of linear-in-var arguments of kink functions.

    Kinks inside inner averages count too, *smoothed*: an inner full-line average over
    u of a kink function of ``a + s·var + c·u`` is a smooth step in ``var`` centred at
    ``-a/s`` (u set to its mean 0) of width ~ sqrt(1 + c²)/|s|; it is reported with the
    effective slope |s|/sqrt(1 + c²), so that the outer average splits and grades
    there. (Without this the outer Gauss–Legendre rule converges slowly when the inner
    variance is small, e.g. the Franz–Parisi energetic term at small distance.)
    Entries are (zero, |slope|, smoothed); a smoothed step that is not sharp at run
    time needs no split and is dropped then (see ``_eval_numpy``).
    """
    if isinstance(expr, GaussianAverage):
        if expr.full_line and expr.integrand.has(var):
            _kinks(expr.integrand, var, acc, inner + (expr.var,))
        return
    if isinstance(expr, _TILTED):
        # a tilted average smooths kinks of its exponent like an inner average does
        if expr.exponent.has(var):
            _kinks(expr.exponent, var, acc, inner + (expr.var,))
        return
    if hasattr(expr, "kink_points") and expr.args[0].has(var):
        # nodes that are not smooth at known values of their first argument
        # (replica.prox: the hinge's proximal map), split where that argument is linear
        arg = expr.args[0]
        slope = sp.diff(arg, var)
        if not slope.has(var, *inner) and slope != 0 and not arg.has(*inner):
            for pt in expr.kink_points():
                root = sp.cancel((pt - arg.subs(var, 0)) / slope)
                _add_kink(acc, root, sp.Abs(slope), False)
    if isinstance(expr, _KINK_FUNCS):
        arg = expr.args[0]
        if arg.has(var):
            slope = sp.diff(arg, var)
            cs = [sp.diff(arg, u) for u in inner]
            linear = not slope.has(var, *inner) and not any(c.has(var, *inner) for c in cs)
            if linear and slope != 0:
                root = sp.cancel(-arg.subs({u: 0 for u in inner}).subs(var, 0) / slope)
                eff = sp.Abs(slope)
                if cs:
                    eff = eff / sp.sqrt(1 + sum(c**2 for c in cs))
                _add_kink(acc, root, eff, bool(inner))
    for a in expr.args:
        _kinks(a, var, acc, inner)


def _same_value(e1, e2, trials=3):
    """Whether two expressions agree numerically at random points (distinct algebraic
    forms of the same kink position, e.g. from the chain rule and from Stein's lemma)."""
    syms = sorted(e1.free_symbols | e2.free_symbols, key=str)
    f = sp.lambdify(syms, e1 - e2, modules="mpmath")
    g = sp.lambdify(syms, e1 + e2, modules="mpmath")
    state = 12345
    for _ in range(trials):
        vals = []
        for _s in syms:  # a fixed linear congruential sequence: reproducible builds
            state = (1103515245 * state + 12345) % 2**31
            vals.append(0.05 + 0.5 * state / 2**31)
        try:
            diff, tot = complex(f(*vals)), complex(g(*vals))
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            return False
        if not abs(diff) <= 1e-12 * max(1.0, abs(tot)):
            return False
    return True


def _dedupe_kinks(kinks):
    """Merge kinks with the same position and slope (the same argument in two algebraic
    forms, e.g. of ln H and of G/H): each duplicate would add empty pieces — whole
    blocks of wasted nodes in nested grids."""
    out = []
    for r, sl, sm in kinks:
        for i, (r2, sl2, sm2) in enumerate(out):
            if _same_value(r, r2) and _same_value(sl, sl2):
                out[i] = (r2, sl2, sm and sm2)
                break
        else:
            out.append((r, sl, sm))
    return out


def _build(exprs, scope, kind):
    """Symbolic tree -> JSON-able spec for one level. ``scope``: symbols in scope."""
    # nodes that define themselves as Gaussian averages (replica.committee) are
    # expanded here, so they get the ordinary quadratures
    exprs = [sp.sympify(e).replace(lambda x: hasattr(x, "as_average"), lambda x: x.as_average())
             for e in exprs]
    avgs = []
    for e in exprs:
        _top_averages(e, avgs)
    groups = {}
    for a in avgs:
        if isinstance(a, _TILTED):
            groups.setdefault(("tilt", a.var, a.exponent), []).append(a)
        else:
            groups.setdefault((a.var, a.lower, a.upper), []).append(a)
    placeholders = {}
    group_specs = []
    k = 0
    for key, members in groups.items():
        ph = []
        for m in members:
            s = sp.Symbol("_a%d" % k, real=True)
            k += 1
            placeholders[m] = s
            ph.append(s)
        if key[0] == "tilt":
            # tilted measure e^f Dz: the grid is placed where e^{f - z²/2} has its mass
            # (coarse scan of f alone), then one log-sum-exp quadrature serves ln E e^f
            # ("lme") and every tilted average ("avg") of the group
            _, var, f = key
            group_specs.append({
                "rule": "tilt",
                "kinds": ["lme" if isinstance(m, LogMeanExp) else "avg" for m in members],
                "tilt": _build([f], scope + [var], kind),
                "inner": _build([f] + [m.integrand for m in members if isinstance(m, TiltedAverage)],
                                scope + [var], kind),
                "n_out": len(members),
            })
            continue
        var, lo, up = key
        kinks = []
        for m in members:
            _kinks(m.integrand, var, kinks)
        kinks = _dedupe_kinks(kinks)
        lo_fin, up_fin = lo is not sp.S.NegativeInfinity, up is not sp.S.Infinity
        ruled = "hermite" if (not kinks and not lo_fin and not up_fin) else "legendre"
        bounds_exprs = ([lo if lo_fin else sp.S.Zero, up if up_fin else sp.S.Zero]
                        + [r for r, _, _ in kinks] + [sl for _, sl, _ in kinks])
        group_specs.append({
            "rule": ruled,
            "lower_finite": lo_fin,
            "upper_finite": up_fin,
            "n_kinks": len(kinks),
            "smoothed": [sm for _, _, sm in kinks],
            "bounds": _build(bounds_exprs, scope, kind) if ruled == "legendre" else None,
            "inner": _build([m.integrand for m in members], scope + [var], kind),
            "n_out": len(members),
        })
    reduced = [e.xreplace(placeholders) for e in exprs]
    # rename symbols to safe identifiers x0.. (scope) and a0.. (placeholders)
    ren = {s: sp.Symbol("x%d" % i, real=True) for i, s in enumerate(scope)}
    phs = list(placeholders.values())
    ren.update({s: sp.Symbol("a%d" % i, real=True) for i, s in enumerate(phs)})
    reduced = [e.xreplace(ren) for e in reduced]
    argsyms = [ren[s] for s in scope] + [ren[s] for s in phs]
    leftover = set().union(*[e.free_symbols for e in reduced]) - set(argsyms) if reduced else set()
    if leftover:
        raise ValueError(f"expression has symbols not in scope: {sorted(map(str, leftover))}")
    printer = _NumpyPrinter() if kind == "numpy" else _MpPrinter()
    return {"source": _function_source(reduced, argsyms, printer), "groups": group_specs,
            "n_scope": len(scope)}


# --------------------------------------------------------------------------- runtime
_NS_NUMPY = {"numpy": np, "scipy": scipy, "_rt": special, "_cm": _committee, "_px": _prox,
             "_cmfp": _committee_fp}
_NS_MP = {"mpmath": mpmath, "_mp": special.MP, "_px": _prox}


def _load(spec, kind):
    ns = dict(_NS_NUMPY if kind == "numpy" else _NS_MP)
    exec(compile(spec["source"], "<replica-generated>", "exec"), ns)  # noqa: S102
    spec = dict(spec)
    spec["func"] = ns["f"]
    spec["groups"] = [dict(g, inner=_load(g["inner"], kind),
                           bounds=_load(g["bounds"], kind) if g.get("bounds") else None,
                           tilt=_load(g["tilt"], kind) if g.get("tilt") else None)
                      for g in spec["groups"]]
    return spec


@functools.lru_cache(maxsize=16)
def _rules(n_hermite, n_legendre):
    t, w = np.polynomial.hermite_e.hermegauss(n_hermite)
    herm = (t, w / w.sum())
    leg = np.polynomial.legendre.leggauss(n_legendre)
    return herm, leg


def _expand(a):
    """Add the trailing axis of a new average (0-d constants broadcast as they are)."""
    a = np.asarray(a, dtype=float)
    return a[..., None] if a.ndim else a


def _full_rank(x, rank):
    return x.reshape((1,) * (rank - x.ndim) + x.shape) if x.ndim < rank else x


def _legendre_nodes(g, env, rules, rank):
    """Nodes and weights of a split/graded Gauss–Legendre rule for group ``g`` (see the
    module docstring), or None when a full-line group has no kink left to split at."""
    b = [np.asarray(v, dtype=float) for v in g["bounds"]["func"](*env)]
    L = C.QUAD_CUTOFF
    lo = np.clip(b[0], -L, L) if g["lower_finite"] else np.float64(-L)
    hi = np.clip(b[1], -L, L) if g["upper_finite"] else np.float64(L)
    hi = np.maximum(hi, lo)
    nk = g["n_kinks"]
    roots, slopes = b[2:2 + nk], b[2 + nk:]
    # a kink whose slope vanishes (e.g. a variance multiplying the variable is
    # zero at this point) has no position: its piece collapses onto `lo`
    roots = [np.where(np.isfinite(r), r, lo) for r in roots]
    slopes = [np.where(np.isfinite(sl), sl, 0.0) for sl in slopes]
    # a smoothed step (kink under an inner average) that is nowhere sharp is
    # resolved by the plain rule: no split (saves whole pieces of nested grids)
    kept = [(r, sl, sm) for r, sl, sm in zip(roots, slopes, g.get("smoothed", [False] * nk))
            if not sm or float(np.max(sl)) * C.SHARP_WIDTH > C.SHARP_TRANSITION]
    # ... and per batch element: where a kept smoothed step is not sharp, its split
    # collapses onto `lo` (zero-width piece), so each element's mesh is its own
    roots = [np.where(sl * C.SHARP_WIDTH > C.SHARP_TRANSITION, r, lo) if sm else r
             for r, sl, sm in kept]
    slopes = [sl for _, sl, _ in kept]
    smooth = [sm for _, _, sm in kept]
    if not roots and not g["lower_finite"] and not g["upper_finite"]:
        return None  # only smooth steps, full line: the Hermite rule is better
    kinks = list(roots)
    for r, sl, sm in zip(roots, slopes, smooth):
        # a sharp near-kink (transition width W/s below SHARP_WIDTH): grade the
        # mesh geometrically around it, r ± (W/s)·G^k, so that every piece is
        # a bounded multiple of its distance to the kink (exponential
        # convergence of Gauss–Legendre, as for hp-refinement at a corner)
        smax = float(np.max(sl))
        w0 = C.SHARP_TRANSITION / max(smax, 1e-300)
        if w0 < C.SHARP_WIDTH:
            levels = min(int(np.ceil(np.log(C.SHARP_WIDTH / w0) / np.log(C.GRADING))),
                         C.GRADING_MAX_LEVELS_SMOOTHED if sm else C.GRADING_MAX_LEVELS)
            with np.errstate(divide="ignore"):
                w = np.minimum(C.SHARP_TRANSITION / sl, C.SHARP_WIDTH)
            # a batch element that is not sharp itself gets no graded pieces (its
            # extra breakpoints collapse onto the kink, zero-width pieces): every
            # element's mesh is the one it has alone, whatever its batch companions
            # (scans solve many points in one batch and need batch-independent numbers)
            w = np.where(w < C.SHARP_WIDTH, w, 0.0)
            for j in range(levels + 1):
                wj = np.minimum(w * C.GRADING**j, C.SHARP_WIDTH)
                kinks += [r - wj, r + wj]
    kinks = [np.clip(k, lo, hi) for k in kinks]
    edges = np.stack(np.broadcast_arrays(lo, *_sorted_kinks(kinks), hi), axis=-1)
    t, w = rules[1]
    a_, b_ = edges[..., :-1, None], edges[..., 1:, None]
    half = 0.5 * (b_ - a_)
    x = a_ + half * (t + 1.0)
    wts = half * w * special.gauss(x)
    x = _full_rank(x.reshape(x.shape[:-2] + (-1,)), rank + 1)
    wts = wts.reshape(x.shape)
    return x, wts


def _eval_numpy(level, env, rules, rank):
    """Evaluate a level. Every array in ``env`` is 0-d or has exactly ``rank`` axes
    (batch axes, then one axis per enclosing average)."""
    avgs = []
    for g in level["groups"]:
        if g["rule"] == "tilt":
            avgs.extend(_eval_tilted(g, env, rules, rank))
            continue
        x = None
        if g["rule"] == "legendre":
            nw = _legendre_nodes(g, env, rules, rank)
            if nw is not None:
                x, wts = nw
        if x is None:
            t, w = rules[0]
            x = _full_rank(t, rank + 1)
            wts = w
        inner_env = [_expand(a) for a in env] + [x]
        vals = _eval_numpy(g["inner"], inner_env, rules, rank + 1)
        avgs.extend(np.sum(np.asarray(v, dtype=float) * wts, axis=-1) for v in vals)
    return level["func"](*env, *avgs)


def _tilt_support(lw, z, h):
    """[lo, hi] where the log-density ``lw`` (last axis on the points ``z`` with
    spacing h) is within TILT_TAIL of its maximum, widened by one spacing."""
    lw = np.where(np.isnan(lw), -np.inf, lw)
    inside = lw >= np.max(lw, axis=-1, keepdims=True) - C.TILT_TAIL
    lo = np.min(np.where(inside, z, np.inf), axis=-1) - h
    hi = np.max(np.where(inside, z, -np.inf), axis=-1) + h
    bad = ~np.isfinite(lo) | ~np.isfinite(hi)  # f = ±inf or NaN everywhere: say so below
    return np.where(bad, -1.0, lo), np.where(bad, 1.0, hi)


def _eval_tilted(g, env, rules, rank):
    """ln E_z e^f and the tilted averages <g_k>_f of one group (NumPy)."""
    inner_env = [_expand(a) for a in env]
    zc = np.linspace(-C.TILT_RANGE, C.TILT_RANGE, C.TILT_COARSE)
    xc = _full_rank(zc, rank + 1)
    fc = np.asarray(_eval_numpy(g["tilt"], inner_env + [xc], rules, rank + 1)[0], dtype=float)
    fc = np.broadcast_to(fc, np.broadcast_shapes(fc.shape, xc.shape))
    lo, hi = _tilt_support(fc - 0.5 * xc**2, xc, zc[1] - zc[0])
    t, w = rules[1]
    edges = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, C.TILT_PIECES + 1)
    a_, b_ = edges[..., :-1, None], edges[..., 1:, None]
    half = 0.5 * (b_ - a_)
    x = (a_ + half * (t + 1.0))
    logw = np.log(half * w) - 0.5 * x**2 - 0.5 * np.log(2 * np.pi)
    x = _full_rank(x.reshape(x.shape[:-2] + (-1,)), rank + 1)
    logw = logw.reshape(x.shape)
    vals = _eval_numpy(g["inner"], inner_env + [x], rules, rank + 1)
    lw = np.asarray(vals[0], dtype=float) + logw
    lme = scipy.special.logsumexp(lw, axis=-1)
    p = np.exp(lw - lme[..., None])
    out, j = [], 1
    for kind in g["kinds"]:
        if kind == "lme":
            out.append(lme)
        else:
            out.append(np.sum(np.asarray(vals[j], dtype=float) * p, axis=-1))
            j += 1
    return out


def _sorted_kinks(kinks):
    """Sort kink positions elementwise (they are arrays over the batch)."""
    if len(kinks) <= 1:
        return list(kinks)
    arr = np.sort(np.stack(np.broadcast_arrays(*kinks), axis=-1), axis=-1)
    return [arr[..., i] for i in range(arr.shape[-1])]


def _eval_mp_tilted(g, env):
    """mpmath version of :func:`_eval_tilted`: support from a coarse scan, then
    ``mpmath.quad`` of e^{f - M} on TILT_PIECES pieces (independent of the Legendre rule)."""
    f = lambda z: g["tilt"]["func"](*env, z)[0]  # noqa: E731
    zs = [mpmath.mpf(-C.TILT_RANGE) + i * mpmath.mpf(2 * C.TILT_RANGE) / (C.TILT_COARSE - 1)
          for i in range(C.TILT_COARSE)]
    lw = [f(z) - z**2 / 2 for z in zs]
    M = max(lw)
    inside = [z for z, v in zip(zs, lw) if v >= M - C.TILT_TAIL]
    h = zs[1] - zs[0]
    lo, hi = min(inside) - h, max(inside) + h
    pts = [lo + (hi - lo) * i / C.TILT_PIECES for i in range(C.TILT_PIECES + 1)]
    cache = {}

    def vals(z):
        if z not in cache:
            v = _eval_mp(g["inner"], env + [z])
            cache[z] = (mpmath.exp(v[0] - z**2 / 2 - M) / mpmath.sqrt(2 * mpmath.pi), v)
        return cache[z]

    norm = mpmath.quad(lambda z: vals(z)[0], pts)
    out, j = [], 1
    for kind in g["kinds"]:
        if kind == "lme":
            out.append(M + mpmath.log(norm))
        else:
            out.append(mpmath.quad(lambda z, j=j: vals(z)[0] * vals(z)[1][j], pts) / norm)
            j += 1
    return out


def _eval_mp(level, env):
    avgs = []
    for g in level["groups"]:
        if g["rule"] == "tilt":
            avgs.extend(_eval_mp_tilted(g, env))
            continue
        if g["rule"] == "hermite":
            pts = [-mpmath.inf, 0, mpmath.inf]
        else:
            b = g["bounds"]["func"](*env)
            lo = b[0] if g["lower_finite"] else -mpmath.inf
            hi = b[1] if g["upper_finite"] else mpmath.inf
            ks = sorted(k for k in b[2:] if lo < k < hi)
            pts = [lo] + ks + [hi]
        if not pts[0] < pts[-1]:
            avgs.extend([mpmath.mpf(0)] * g["n_out"])
            continue
        cache = {}

        def inner(x, g=g, cache=cache):
            if x not in cache:
                cache[x] = _eval_mp(g["inner"], env + [x])
            return cache[x]

        for i in range(g["n_out"]):
            avgs.append(mpmath.quad(lambda x, i=i: inner(x)[i] * special.MP.gauss(x), pts))
    return level["func"](*env, *avgs)


# --------------------------------------------------------------------------- model
def _version_salt():
    here = pathlib.Path(__file__).resolve().parent
    h = hashlib.sha256()
    files = sorted((here.parent / "replica").glob("*.py")) + [here / "codegen.py", here / "special.py"]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


_SALT = None


def cache_dir() -> pathlib.Path:
    """Disk cache of generated code: ``$REPLICA_CACHE_DIR`` or ``~/.cache/replica-toolkit``."""
    d = os.environ.get("REPLICA_CACHE_DIR")
    return pathlib.Path(d) if d else pathlib.Path.home() / ".cache" / "replica-toolkit"


def clear_memory_cache():
    _MEMORY.clear()


def _cached_spec(key, build):
    """Load a compiled spec from the disk cache, or build and store it."""
    global _SALT
    if _SALT is None:
        _SALT = _version_salt()
    path = cache_dir() / f"{key}-{_SALT}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass
    spec = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(spec))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is not an error: we just do not cache
    return spec


def _expression_function(level):
    rules = _rules(C.HERMITE_NODES, C.LEGENDRE_NODES)

    def f(*values):
        env = [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*values)]
        with np.errstate(all="ignore"):
            out = _eval_numpy(level, env, rules, env[0].ndim if env else 0)[0]
        return np.broadcast_to(np.asarray(out, dtype=float), env[0].shape if env else ())

    return f


class CompiledModel:
    """Numerical callables of a :class:`~replica.free_energy.FreeEnergy`.

    Packed convention: ``x`` has shape ``batch + (n_variables,)`` in the order of
    ``variables`` (order parameters, then conjugates); ``controls`` maps each control
    name to a float or an array broadcastable to ``batch``.

    A free energy may carry an equivalent cheaper form, ``meta["fast_form"]`` = {"terms":
    {term name: expression}, "valid_if": {name: expression}, "domain": {name: expression}}
    (e.g. the collapsed Franz–Parisi energetic term, :mod:`replica.franz_parisi`). The
    NumPy back end evaluates it for a batch where every ``valid_if`` expression exceeds
    its minimum in ``constants.FAST_FORM_MIN``, returns NaN without evaluating where every
    point has a negative ``domain`` variance, and evaluates the original form otherwise.
    The mpmath back end always evaluates the original form.

    Attributes
    ----------
    name, variables, controls, observables : names (tuples of str)
    has_fixed_point : bool
    """

    def __init__(self, fe: FreeEnergy, backend="numpy"):
        if backend not in ("numpy", "mpmath"):
            raise ValueError(f"unknown backend {backend!r}; use 'numpy' or 'mpmath'")
        self.free_energy = fe
        self.backend = backend
        self.name = fe.name
        self.variables = tuple(s.name for s in fe.variables)
        self.controls = tuple(s.name for s in fe.controls)
        self.observables = tuple(o.name for o in fe.observables)
        self.stable_if = {o.name: o.stable_if for o in fe.observables}
        self.domains = {s.name: s.domain for s in fe.variables + fe.controls}
        self.fingerprint = fe.fingerprint()
        self._specs = {}
        self._loaded = {}
        self._has_fp = None
        self._derived = {}
        ff = fe.meta.get("fast_form") if backend == "numpy" else None
        self._fast = None
        if ff:  # an equivalent cheaper form, valid where ff["valid_if"] > 0 (FAST_FORM_MIN)
            import dataclasses

            from replica.free_energy import Term
            terms = [Term(t.name, ff["terms"].get(t.name, t.expr), t.source) for t in fe.terms]
            meta = {k: v for k, v in fe.meta.items() if k != "fast_form"}
            self._fast = (CompiledModel(dataclasses.replace(  # not compile_model: holds _LOCK
                fe, name=fe.name + "/fast", terms=terms, meta=meta), backend), ff["valid_if"])

    @property
    def has_fixed_point(self) -> bool:
        """Whether the conventional fixed-point form exists (derived lazily, cached)."""
        if self._has_fp is None:
            try:
                self._spec("fixed_point")
                self._has_fp = True
            except FixedPointUnavailable:
                self._has_fp = False
        return self._has_fp

    # -- pickling: keep sources, drop executables -------------------------------
    def __getstate__(self):
        for b in BUNDLES:
            if b != "fixed_point" or self.has_fixed_point:
                self._spec(b)
        st = dict(self.__dict__)
        st["_loaded"] = {}
        st["_derived"] = {}
        return st

    def __setstate__(self, st):
        self.__dict__.update(st)

    # -- building ----------------------------------------------------------------
    def _bundle_exprs(self, bundle):
        fe = self.free_energy
        if bundle == "value":
            return [fe.expr]
        if bundle == "gradient":
            return list(fe.gradient())
        if bundle == "jacobian":
            n = len(fe.variables)
            hess = fe.hessian()
            return ([fe.expr] + list(fe.gradient())
                    + [hess[i][j] for i in range(n) for j in range(i, n)])
        if bundle == "observables":
            return [o.expr for o in fe.observables]
        if bundle == "fixed_point":
            fp = fe.fixed_point_form()
            return [fp[v] for v in fe.variables]
        raise ValueError(f"unknown bundle {bundle!r}; known: {BUNDLES}")

    def _spec(self, bundle):
        if bundle not in self._specs:
            scope = list(self.free_energy.variables) + list(self.free_energy.controls)
            self._specs[bundle] = _cached_spec(
                f"{self.fingerprint}-{self.backend}-{bundle}",
                lambda: _build(self._bundle_exprs(bundle), scope, self.backend))
        return self._specs[bundle]

    def derived(self, name, builder):
        """A derived expression of the model, compiled (NumPy) and cached on disk.

        ``builder()`` returns ``(expr, symbols)`` and runs only on a cache miss (it may
        be slow symbolic work, e.g. the q → 1 limit). Returns ``(f, names)`` with
        ``f(*arrays)`` evaluating the expression of the named symbols.
        """
        if name not in self._derived:
            names = []

            def build():
                expr, syms = builder()
                return {"names": [s.name for s in syms],
                        "level": _build([sp.sympify(expr)], list(syms), "numpy")}

            spec = _cached_spec(f"{self.fingerprint}-derived-{name}", build)
            names = spec["names"]
            level = _load(spec["level"], "numpy")
            self._derived[name] = (_expression_function(level), names)
        return self._derived[name]

    def _level(self, bundle):
        if bundle not in self._loaded:
            self._loaded[bundle] = _load(self._spec(bundle), self.backend)
        return self._loaded[bundle]

    def prepare(self, bundles=("value", "jacobian", "observables")):
        """Compile the given bundles now (otherwise done on first use)."""
        for b in bundles:
            self._level(b)
        return self

    # -- evaluation --------------------------------------------------------------
    def _env(self, x, controls):
        missing = [c for c in self.controls if c not in controls]
        if missing:
            raise KeyError(f"missing control parameter(s) {missing} for {self.name}")
        if self.backend == "mpmath":
            xs = [mpmath.mpf(v) for v in x]
            return xs + [mpmath.mpf(controls[c]) for c in self.controls]
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != len(self.variables):
            raise ValueError(f"x must end with {len(self.variables)} entries {self.variables}")
        cvals = [np.asarray(controls[c], dtype=float) for c in self.controls]
        parts = np.broadcast_arrays(*[x[..., i] for i in range(x.shape[-1])], *cvals)
        return [np.asarray(p, dtype=float) for p in parts]

    def evaluate(self, bundle, x, controls, nodes=None, fast_min=None):
        """Evaluate a bundle; returns a tuple of arrays of the batch shape.

        ``nodes`` = (hermite, legendre) node counts to override the defaults (used
        for the quadrature error estimate). ``fast_min``: minima of the cheaper form's
        ``valid_if`` expressions replacing ``FAST_FORM_MIN`` (looser ones give approximate
        Hessians for a Newton iteration whose residual is evaluated with the default
        dispatch: ``LOCAL_ENTROPY_HESSIAN_FAST_MIN``, solvers.local_entropy).
        """
        env = self._env(x, controls)
        if self._fast is not None and bundle in ("value", "gradient", "jacobian"):
            fast, valid_if = self._fast
            scope = list(self.free_energy.variables) + list(self.free_energy.controls)
            ok = True
            for key, expr in valid_if.items():
                f, _ = self.derived(f"fast_form_{key}", lambda e=expr: (e, scope))
                with np.errstate(all="ignore"):
                    v = np.asarray(f(*env), dtype=float)
                ok = ok and bool(np.all(v > (fast_min or C.FAST_FORM_MIN)[key]))  # NaN: False
            if ok:
                return fast.evaluate(bundle, x, controls, nodes=nodes)
            # ``domain``: variances under a square root in both forms; a negative one
            # (beyond rounding) gives NaN either way (special.sqrt): skip the evaluation
            for key, expr in self.free_energy.meta["fast_form"].get("domain", {}).items():
                f, _ = self.derived(f"fast_form_domain_{key}", lambda e=expr: (e, scope))
                with np.errstate(all="ignore"):
                    v = np.asarray(f(*env), dtype=float)
                if np.all(v < -C.SQRT_ROUNDING):
                    n = len(self.variables)
                    k = {"value": 1, "gradient": n, "jacobian": 1 + n + n * (n + 1) // 2}[bundle]
                    return tuple(np.full(np.shape(v), np.nan) for _ in range(k))
        level = self._level(bundle)
        if self.backend == "mpmath":
            with mpmath.workdps(C.MPMATH_DPS):
                return tuple(_eval_mp(level, env))
        nh, nl = nodes or (C.HERMITE_NODES, C.LEGENDRE_NODES)
        shape = env[0].shape if env else ()
        with np.errstate(all="ignore"), _committee.points_scale(2 if nh > C.HERMITE_NODES else 1):
            out = _eval_numpy(level, env, _rules(nh, nl), len(shape))
        return tuple(np.broadcast_to(np.asarray(o, dtype=float), shape) for o in out)

    def value(self, x, controls, **kw):
        return self.evaluate("value", x, controls, **kw)[0]

    def gradient(self, x, controls, **kw):
        return np.stack(self.evaluate("gradient", x, controls, **kw), axis=-1)

    def jacobian(self, x, controls, **kw):
        """(gradient, Hessian) with shapes batch+(n,) and batch+(n, n)."""
        return self.value_and_derivatives(x, controls, **kw)[1:]

    def value_and_derivatives(self, x, controls, **kw):
        """(value, gradient, Hessian) in one pass (shared subexpressions)."""
        out = self.evaluate("jacobian", x, controls, **kw)
        n = len(self.variables)
        v = out[0]
        out = out[1:]
        g = np.stack(out[:n], axis=-1)
        hess = np.empty(g.shape + (n,))
        k = n
        for i in range(n):
            for j in range(i, n):
                hess[..., i, j] = hess[..., j, i] = out[k]
                k += 1
        return v, g, hess

    def observables_at(self, x, controls, **kw):
        if not self.observables:
            return {}
        return dict(zip(self.observables, self.evaluate("observables", x, controls, **kw)))

    def fixed_point_map(self, x, controls, **kw):
        if not self.has_fixed_point:
            raise FixedPointUnavailable(f"{self.name} has no fixed-point form")
        return np.stack(self.evaluate("fixed_point", x, controls, **kw), axis=-1)


def compile_model(fe, backend="numpy") -> CompiledModel:
    """Compile a FreeEnergy (or catalogue name) once; cached per process by content."""
    if isinstance(fe, str):
        from replica.catalogue import get_model
        fe = get_model(fe)
    if isinstance(fe, CompiledModel):
        return fe
    if not isinstance(fe, FreeEnergy):
        raise TypeError(f"expected a FreeEnergy or a model name, got {type(fe).__name__}")
    key = (fe.fingerprint(), backend)
    with _LOCK:
        if key not in _MEMORY:
            _MEMORY[key] = CompiledModel(fe, backend)
        return _MEMORY[key]


def compile_expression(expr, symbols):
    """Compile a plain SymPy expression (averages allowed) of ``symbols`` into
    ``f(*arrays) -> array`` with the NumPy back end of this module (not cached)."""
    return _expression_function(_load(_build([sp.sympify(expr)], list(symbols), "numpy"), "numpy"))
