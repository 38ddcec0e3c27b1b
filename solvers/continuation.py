r"""Branches of saddle points: pseudo-arclength continuation, folds and first-order transitions.

``continue_branch(model, start, parameter, stop=...)`` follows a branch of solutions of
the saddle-point equations

.. math:: F(x, \lambda) = \nabla_x \Phi(x; \lambda) = 0

in one control :math:`\lambda` (α, κ, …), the other controls fixed, through folds
(spinodals), and yields one :class:`ContinuationPoint` per accepted step;
:func:`run` collects them into a :class:`Branch`.

Method (Keller's pseudo-arclength continuation; Allgower & Georg, *Introduction to
Numerical Continuation Methods* (SIAM 2003), ch. 2; Kuznetsov, *Elements of Applied
Bifurcation Theory*, 3rd ed. (2004), ch. 10):

* unknowns :math:`y = (x, \lambda)`; Jacobian :math:`[F_x \mid F_\lambda]` with
  :math:`F_x` the symbolic Hessian of Φ (``CompiledModel.value_and_derivatives``) and
  :math:`F_\lambda = \partial_\lambda\nabla_x\Phi` differentiated **symbolically** from the
  model's :class:`~replica.free_energy.FreeEnergy` and compiled through
  ``CompiledModel.derived`` (no finite differences);
* tangent :math:`t` solving :math:`[F_x\ F_\lambda;\ t_{\mathrm{prev}}^T]\,t = (0, 1)`,
  normalised, oriented by continuity (:math:`t\cdot t_{\mathrm{prev}} > 0`);
* predictor :math:`y_p = y + \Delta s\, t`; Newton corrector on the bordered system
  :math:`F(y) = 0,\ t\cdot(y - y_p) = 0`;
* adaptive step: grown by ``CONTINUATION_GROWTH`` after an easy corrector, halved after
  a failed one; the branch ends with a status when the step falls below
  ``CONTINUATION_MIN_STEP`` or the budget of attempts is used up.

Folds (turning points in λ, spinodals of a first-order transition) are detected by a
sign change of the λ-component of the tangent and located with the *minimally
augmented system* (Govaerts, *Numerical Methods for Bifurcations of Dynamical
Equilibria* (SIAM 2000), sec. 4.2): :math:`F(x,\lambda)=0,\ g(x,\lambda)=0` where
:math:`g` is the last component of the solution of
:math:`\begin{pmatrix}F_x & b\\ b^T & 0\end{pmatrix}\begin{pmatrix}v\\ g\end{pmatrix}
=\begin{pmatrix}0\\1\end{pmatrix}` (g = 0 exactly where :math:`F_x` is singular;
:math:`F_x` is symmetric, so the left and right null vectors coincide and
:math:`\partial g = -v^T(\partial F_x)v`). :math:`\partial F_x\, v` is taken by central
differences of the symbolic Hessian (``FOLD_FD_STEP``): only the Newton *Jacobian* is
approximated, so the located fold satisfies the exact equations to the solver
tolerance (tested against an analytic fold to 1e-8).

First-order transitions: :func:`locate_transition` finds where the free entropies of
two branches cross (each branch interpolated by cubic Hermite polynomials with
:math:`d\Phi/d\lambda = \partial_\lambda\Phi` at the saddle — envelope theorem — then
refined by Newton in λ with fresh saddle solves). A branch that is a boundary state
rather than an interior saddle (e.g. perfect generalisation, m = 1, Φ = 0, of the
teacher–student perceptron) is given by :func:`boundary_branch`.

Example
-------
>>> from solvers.continuation import run
>>> b = run("teacher-student-binary-perceptron", {"alpha": 0.5}, "alpha", stop=1.6,
...         x0={"m": 0.3, "mhat": 0.3}, max_folds=1)        # doctest: +SKIP
>>> b.status, round(b.folds[0].value, 6)                    # doctest: +SKIP
('max_folds', 1.492632)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp
from scipy.interpolate import CubicHermiteSpline
from scipy.optimize import brentq

from replica.averages import canonical_radicals

from . import constants as C
from .codegen import CompiledModel, compile_model
from .errors import ParameterError
from .saddle import (SaddleResult, _bounds, _Counter, _jsonable, _newton,
                     solve_saddle, validate_controls)

__all__ = ["ContinuationPoint", "Fold", "Branch", "Transition", "continue_branch", "run",
           "locate_transition", "boundary_branch", "STOP_STATUSES"]

#: Why a continuation stopped. ``success`` is True for "reached_stop" and "max_folds".
STOP_STATUSES = {
    "reached_stop": "a point was computed exactly at the requested stop value",
    "max_folds": "the requested number of folds was located",
    "step_too_small": "the corrector failed down to the smallest step (the branch ends, "
                      "or the saddle is singular here)",
    "left_domain": "the branch leaves the domain of a saddle variable or of the control",
    "budget": "the budget of predictor-corrector attempts (max_steps) was used up",
    "start_failed": "no converged saddle point at the start",
}


# ----------------------------------------------------------------------- results
@dataclass(frozen=True)
class Fold:
    """A fold (turning point in the control; a spinodal) located on a branch.

    Attributes
    ----------
    parameter : str
    value : float
        The control at the fold (the located value; the interpolated estimate if
        ``status`` is "not_located").
    variables : dict
        Saddle variables at the fold.
    free_entropy : float
    status : str
        "located" (minimally augmented system converged) or "not_located".
    residual : float
        max(|∇Φ|, |g|) at the fold (g: the bordered determinant test function).
    iterations : int
    hessian_eigenvalues : list
        One of them is ~0 at a located fold.
    observables : dict
    quadrature_error : float or None
        Change of the free entropy and gradient with doubled quadrature nodes.
    after_index : int
        The fold lies between points ``after_index`` and ``after_index + 1``.
    direction_before, direction_after : int
        Sign of dλ/ds before and after the fold.
    message : str
    """

    parameter: str
    value: float
    variables: dict
    free_entropy: float
    status: str
    residual: float
    iterations: int
    hessian_eigenvalues: list
    observables: dict
    quadrature_error: object
    after_index: int
    direction_before: int
    direction_after: int
    message: str

    def to_dict(self):
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class ContinuationPoint:
    """One converged point of a branch (same fields for every point).

    Attributes
    ----------
    index : int
        0 for the start, then one per accepted step.
    parameter : str
    value : float
        The control λ.
    variables : dict
        Saddle variables (order parameters, then conjugates).
    free_entropy : float
    dfree_entropy : float
        :math:`d\\Phi/d\\lambda` along the branch (= ∂Φ/∂λ at a saddle).
    status : str
        "converged" (only converged points are yielded).
    residual : float
        max |∇Φ|.
    iterations : int
        Newton iterations of the corrector.
    stability : dict
        As in :class:`~solvers.saddle.SaddleResult`: ``indicator`` (the model's
        stability observable, e.g. the AT ``replicon``), ``value``, ``stable``,
        ``hessian_eigenvalues``; plus ``signature`` = [n_positive, n_negative, n_zero]
        of the Hessian of Φ in the saddle variables.
    observables : dict
    step : float
        Arclength step that produced this point (0 for the start).
    direction : int
        Sign of dλ/ds (the tangent's control component) at this point.
    tangent : tuple
        Unit tangent (variables..., λ).
    fold : Fold or None
        A fold located between the previous point and this one.
    """

    index: int
    parameter: str
    value: float
    variables: dict
    free_entropy: float
    dfree_entropy: float
    status: str
    residual: float
    iterations: int
    stability: dict
    observables: dict
    step: float
    direction: int
    tangent: tuple
    fold: object = None

    def to_dict(self):
        d = asdict(self)
        d["fold"] = self.fold.to_dict() if self.fold is not None else None
        return _jsonable(d)


@dataclass(frozen=True)
class Branch:
    """A branch of saddle points (from :func:`run`) or a boundary state
    (:func:`boundary_branch`). Every list has one entry per point.

    Attributes
    ----------
    model, parameter : str
    controls : dict
        The other controls (fixed).
    kind : str
        "traced" or "boundary".
    values : list of float
        The control λ.
    variables : dict
        name -> list.
    free_entropy, dfree_entropy, residual : list of float
    point_status : list of str
    stable : list of bool or None
    stability_indicator : str or None
    stability_value : list of float or None
    signature : list of [n_pos, n_neg, n_zero]
    hessian_eigenvalues : list of list
    observables : dict
        name -> list.
    step : list of float
    direction : list of int
    folds : list of Fold
    status : str
        One of :data:`STOP_STATUSES` (or "boundary").
    success : bool
    message : str
    n_attempts : int
        Predictor–corrector attempts used.
    seconds : float
    """

    model: str
    parameter: str
    controls: dict
    kind: str
    values: list
    variables: dict
    free_entropy: list
    dfree_entropy: list
    residual: list
    point_status: list
    stable: list
    stability_indicator: object
    stability_value: list
    signature: list
    hessian_eigenvalues: list
    observables: dict
    step: list
    direction: list
    folds: list
    status: str
    success: bool
    message: str
    n_attempts: int
    seconds: float
    compiled: object = field(default=None, repr=False, compare=False)

    def __len__(self):
        return len(self.values)

    def to_dict(self):
        d = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "compiled"}
        d["folds"] = [f.to_dict() for f in self.folds]
        return _jsonable(d)


@dataclass(frozen=True)
class Transition:
    """A first-order transition: where the free entropies of two branches cross.

    Attributes
    ----------
    parameter : str
    value : float or None
        The control at the crossing (None if ``status`` is "no_crossing").
    free_entropy_a, free_entropy_b : float or None
        Both free entropies there (equal within ``error``'s effect).
    slope_a, slope_b : float or None
        dΦ/dλ of both branches at the crossing (their difference is the jump of the
        conjugate quantity, a latent-heat analogue).
    variables_a, variables_b : dict
        The two states at the crossing.
    error : float or None
        Estimated error on ``value``: |Φ_a − Φ_b| / |slope_a − slope_b| at the final
        iterate plus the quadrature-error contribution.
    interpolation_estimate : float or None
        The crossing of the Hermite interpolants before refinement (shows how well the
        traced points alone determine it).
    status : str
        "located", "interpolated" (no model to refine with, or the refinement failed:
        the value is the interpolation estimate) or "no_crossing".
    message : str
    """

    parameter: str
    value: object
    free_entropy_a: object
    free_entropy_b: object
    slope_a: object
    slope_b: object
    variables_a: dict
    variables_b: dict
    error: object
    interpolation_estimate: object
    status: str
    message: str

    def to_dict(self):
        return _jsonable(asdict(self))


# ----------------------------------------------------------------------- numerics
class _System:
    """F(y) = ∇_x Φ(x; λ) with y = (x, λ), its Jacobian, and point diagnostics."""

    def __init__(self, m: CompiledModel, parameter, controls):
        self.m, self.p, self.c = m, parameter, dict(controls)
        self.n = len(m.variables)
        self.lo, self.hi = _bounds(m)
        plo, phi = m.domains[parameter]
        self.plo = -np.inf if plo is None else plo
        self.phi = np.inf if phi is None else phi
        fe = m.free_energy
        lam = fe.parameter(parameter)
        syms = list(fe.variables) + list(fe.controls)
        self._names = None
        self._dgrad = []
        for i, v in enumerate(fe.variables):
            def build(i=i):
                return canonical_radicals(sp.diff(fe.gradient()[i], lam)), syms
            self._dgrad.append(m.derived(f"dgrad-{v.name}-d-{parameter}", build))

        def build_v():
            return canonical_radicals(sp.diff(fe.expr, lam)), syms
        self._dvalue = m.derived(f"dvalue-d-{parameter}", build_v)

    def controls(self, lam):
        return {**self.c, self.p: float(lam)}

    def _args(self, f_names, y):
        vals = dict(zip(self.m.variables, y[:-1]))
        vals.update(self.controls(y[-1]))
        return [vals[n] for n in f_names]

    def f_lambda(self, y):
        return np.array([float(f(*self._args(names, y))) for f, names in self._dgrad])

    def dvalue(self, y):
        f, names = self._dvalue
        return float(f(*self._args(names, y)))

    def eval(self, y):
        """(Φ, F, F_x) at y."""
        v, g, h = self.m.value_and_derivatives(y[:-1], self.controls(y[-1]))
        return float(v), np.asarray(g, float), np.asarray(h, float)

    def inside(self, y):
        x, lam = y[:-1], y[-1]
        return bool(np.all(np.isfinite(y)) and np.all(x >= self.lo) and np.all(x <= self.hi)
                    and self.plo <= lam <= self.phi)

    def tangent(self, y, h, t_prev):
        A = np.zeros((self.n + 1, self.n + 1))
        A[:self.n, :self.n] = h
        A[:self.n, self.n] = self.f_lambda(y)
        A[self.n] = t_prev
        rhs = np.zeros(self.n + 1)
        rhs[-1] = 1.0
        t = np.linalg.solve(A, rhs)
        t /= np.linalg.norm(t)
        return t if t @ t_prev >= 0 else -t

    def corrector(self, y_pred, t, tol):
        """Newton on F(y) = 0, t·(y − y_pred) = 0. Returns (y, iterations) or (None, reason)."""
        y = y_pred.copy()
        prev_res = np.inf
        for it in range(1, C.CONTINUATION_CORRECTOR_MAXITER + 1):
            if not self.inside(y):
                return None, "domain"
            _, g, h = self.eval(y)
            if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
                return None, "non_finite"
            res = float(np.max(np.abs(g)))
            if res < tol:
                return y, it - 1
            if it > 2 and res > prev_res:
                return None, "diverging"
            prev_res = res
            A = np.zeros((self.n + 1, self.n + 1))
            A[:self.n, :self.n] = h
            A[:self.n, self.n] = self.f_lambda(y)
            A[self.n] = t
            rhs = -np.concatenate([g, [t @ (y - y_pred)]])
            try:
                dy = np.linalg.solve(A, rhs)
            except np.linalg.LinAlgError:
                return None, "singular"
            if not np.all(np.isfinite(dy)):
                return None, "singular"
            y = y + dy
        return None, "max_iterations"

    def point(self, y, t, index, step, iterations, fold=None):
        v, g, h = self.eval(y)
        x = y[:-1]
        c = self.controls(y[-1])
        obs = {k: float(val) for k, val in self.m.observables_at(x, c).items()}
        eig = [float(e) for e in np.linalg.eigvalsh(h)]
        stab = _stability(self.m, obs, eig)
        return ContinuationPoint(
            index=index, parameter=self.p, value=float(y[-1]),
            variables={k: float(val) for k, val in zip(self.m.variables, x)},
            free_entropy=v, dfree_entropy=self.dvalue(y), status="converged",
            residual=float(np.max(np.abs(g))), iterations=int(iterations), stability=stab,
            observables=obs, step=float(step), direction=_sign(t[-1]),
            tangent=tuple(float(a) for a in t), fold=fold)


def _sign(v):
    return int(np.sign(v)) if abs(v) > 0 else 0


def _stability(m, obs, eig):
    """The SaddleResult stability dict plus the Hessian signature."""
    scale = max([1.0] + [abs(e) for e in eig])
    zero = 1e-9 * scale
    sig = [sum(e > zero for e in eig), sum(e < -zero for e in eig),
           sum(abs(e) <= zero for e in eig)]
    out = {"indicator": None, "value": None, "stable": None, "hessian_eigenvalues": eig,
           "signature": sig}
    for name, rule in m.stable_if.items():
        if rule and name in obs:
            v = obs[name]
            stable = (v > -C.SOLVER_TOL * 10) if rule == "positive" else (v < C.SOLVER_TOL * 10)
            out.update(indicator=name, value=v, stable=bool(stable) if math.isfinite(v) else None)
            break
    return out


def _locate_fold(sysm: _System, y0, t0, y1, t1, tol):
    """Minimally augmented system F = 0, g = 0 from the bracketing points (y0, y1)."""
    n = sysm.n
    # where the tangent's λ-component vanishes, by linear interpolation
    th = t0[-1] / (t0[-1] - t1[-1])
    y = y0 + th * (y1 - y0)
    _, _, h = sysm.eval(y)
    w, V = np.linalg.eigh(h)
    b = V[:, int(np.argmin(np.abs(w)))]

    def bordered(h):
        M = np.zeros((n + 1, n + 1))
        M[:n, :n] = h
        M[:n, n] = b
        M[n, :n] = b
        rhs = np.zeros(n + 1)
        rhs[-1] = 1.0
        sol = np.linalg.solve(M, rhs)
        return sol[:n], sol[n]

    status, msg, it = "not_located", "", 0
    res = np.inf
    for it in range(1, C.FOLD_NEWTON_MAXITER + 1):
        if not sysm.inside(y):
            msg = "the fold iteration left the domain"
            break
        _, g, h = sysm.eval(y)
        try:
            v, gt = bordered(h)
        except np.linalg.LinAlgError:
            msg = "singular bordered matrix"
            break
        res = max(float(np.max(np.abs(g))), abs(gt))
        if res < tol:
            status, msg = "located", f"minimally augmented system converged (residual {res:.1e})"
            break
        # ∂g/∂y_k = −v^T (∂F_x/∂y_k) v, by central differences of the symbolic Hessian
        dg = np.empty(n + 1)
        for k in range(n + 1):
            hk = C.FOLD_FD_STEP * max(1.0, abs(y[k]))
            e = np.zeros(n + 1)
            e[k] = hk
            _, _, hp = sysm.eval(y + e)
            _, _, hm = sysm.eval(y - e)
            dg[k] = -v @ ((hp - hm) / (2 * hk)) @ v
        A = np.zeros((n + 1, n + 1))
        A[:n, :n] = h
        A[:n, n] = sysm.f_lambda(y)
        A[n] = dg
        try:
            dy = np.linalg.solve(A, -np.concatenate([g, [gt]]))
        except np.linalg.LinAlgError:
            msg = "singular augmented Jacobian"
            break
        if not np.all(np.isfinite(dy)):
            msg = "non-finite augmented Newton step"
            break
        y = y + dy
    else:
        msg = f"minimally augmented Newton did not converge in {C.FOLD_NEWTON_MAXITER} iterations"
    if status != "located":
        y = y0 + th * (y1 - y0)  # report the interpolated estimate, flagged
    v, g, h = sysm.eval(y)
    x, c = y[:-1], sysm.controls(y[-1])
    obs = {k: float(val) for k, val in sysm.m.observables_at(x, c).items()}
    qerr = None
    if status == "located":
        nodes = (2 * C.HERMITE_NODES, 2 * C.LEGENDRE_NODES)
        v2 = float(sysm.m.value(x, c, nodes=nodes))
        g2 = sysm.m.gradient(x, c, nodes=nodes)
        qerr = float(max(abs(v2 - v), np.max(np.abs(g2 - g))))
    return y, status, msg, it, res, h, obs, qerr


# ----------------------------------------------------------------------- driver
def _start_point(m, start, parameter, x0, tol):
    if parameter not in m.controls:
        raise ParameterError("parameter", f"{parameter!r} is not a control of {m.name}; "
                                          f"its controls are {', '.join(m.controls)}")
    if isinstance(start, SaddleResult):
        r = start
        if x0 is not None:
            raise ParameterError("x0", "x0 is taken from the SaddleResult given as start")
    else:
        if not isinstance(start, dict):
            raise ParameterError("start", "start must be a dict of controls or a SaddleResult")
        controls = validate_controls(m, start)
        r = solve_saddle(m, controls, x0=x0, tol=tol)
    return r


def continue_branch(model, start, parameter, *, stop, x0=None, step=None, max_step=None,
                    min_step=None, max_steps=None, max_folds=None, locate_folds=True, tol=None):
    r"""Follow a branch of saddle points in the control ``parameter`` (generator).

    Parameters
    ----------
    model : FreeEnergy, CompiledModel or str
    start : dict or SaddleResult
        Every control of the model at the starting point (solved with
        :func:`~solvers.saddle.solve_saddle` from ``x0``), or a converged result.
    parameter : str
        The control to vary.
    stop : float
        The control value to reach; the branch starts in its direction.
    x0 : dict, optional
        Starting guess for the first saddle (names -> values).
    step, max_step, min_step : float, optional
        Arclength steps (defaults ``CONTINUATION_STEP``, ``CONTINUATION_MAX_STEP``,
        ``CONTINUATION_MIN_STEP``); the largest step is ``max_step`` × max(1, |y|), with
        y = (variables, λ), so that branches along which a conjugate diverges are
        followed in a number of steps that grows only logarithmically.
    max_steps : int, optional
        Budget of predictor–corrector attempts (default ``CONTINUATION_MAX_STEPS``).
    max_folds : int, optional
        Stop (status "max_folds") after locating this many folds.
    locate_folds : bool
        Locate detected folds with the minimally augmented system (else only flag
        them with the interpolated estimate, status "not_located").
    tol : float, optional
        Residual tolerance on max |∇Φ| (default ``SOLVER_TOL``).

    Yields
    ------
    ContinuationPoint
        The start (index 0), then one per accepted step; ``point.fold`` carries a
        fold located between it and the previous point.

    Returns
    -------
    (status, message, attempts) : tuple
        As the generator's return value (``StopIteration.value``); :func:`run`
        stores them in :class:`Branch`. ``status`` is one of :data:`STOP_STATUSES`;
        ``attempts`` counts predictor-corrector attempts (accepted or not).

    Raises
    ------
    ParameterError
        Unknown parameter, bad controls, or non-finite ``stop``.
    """
    m = compile_model(model) if not isinstance(model, CompiledModel) else model
    state = {"attempts": 0}
    status, message = yield from _continue(m, start, parameter, stop, x0, step, max_step, min_step,
                                           max_steps, max_folds, locate_folds, tol, state)
    return status, message, state["attempts"]


def _continue(m, start, parameter, stop, x0, step, max_step, min_step, max_steps, max_folds,
              locate_folds, tol, state):
    tol = C.SOLVER_TOL if tol is None else float(tol)
    try:
        stop = float(stop)
    except (TypeError, ValueError):
        raise ParameterError("stop", f"stop must be a number, got {stop!r}") from None
    if not math.isfinite(stop):
        raise ParameterError("stop", f"stop must be finite, got {stop}")
    if parameter not in m.controls:
        raise ParameterError("parameter", f"{parameter!r} is not a control of {m.name}; "
                                          f"its controls are {', '.join(m.controls)}")
    lo, hi = m.domains[parameter]
    if (lo is not None and stop < lo) or (hi is not None and stop > hi):
        raise ParameterError("stop", f"stop {parameter}={stop} is outside the domain of {parameter}")
    ds = float(C.CONTINUATION_STEP if step is None else step)
    ds_max = float(C.CONTINUATION_MAX_STEP if max_step is None else max_step)
    ds_min = float(C.CONTINUATION_MIN_STEP if min_step is None else min_step)
    budget = int(max_steps if max_steps is not None else C.CONTINUATION_MAX_STEPS)
    if not (ds > 0 and ds_max > 0 and ds_min > 0):
        raise ParameterError("step", "step, max_step and min_step must be positive")
    if budget < 0:
        raise ParameterError("max_steps", f"max_steps must be >= 0, got {budget}")
    if max_folds is not None and not int(max_folds) >= 1:
        raise ParameterError("max_folds", f"max_folds must be >= 1 (or None), got {max_folds}")
    r0 = _start_point(m, start, parameter, x0, tol)
    if not r0.success:
        return "start_failed", f"no saddle at the start: {r0.status}: {r0.message}"
    others = {k: v for k, v in r0.controls.items() if k != parameter}
    sysm = _System(m, parameter, others)
    lam0 = r0.controls[parameter]
    y = np.array(list(r0.x) + [lam0], float)
    if stop == lam0:
        t = np.zeros(sysm.n + 1)
        t[-1] = 1.0
        yield sysm.point(y, t, 0, 0.0, r0.iterations)
        return "reached_stop", "the start is the stop value"
    t_dir = np.zeros(sysm.n + 1)
    t_dir[-1] = 1.0 if stop > lam0 else -1.0
    _, _, h = sysm.eval(y)
    try:
        t = sysm.tangent(y, h, t_dir)
    except np.linalg.LinAlgError:
        return "start_failed", "singular Jacobian at the start (a fold or bifurcation point)"
    yield sysm.point(y, t, 0, 0.0, r0.iterations)
    index, attempts, folds = 0, 0, 0
    last_fail = ""
    while True:
        if attempts >= budget:
            return "budget", f"{attempts} predictor-corrector attempts used (max_steps={budget})"
        attempts += 1
        state["attempts"] = attempts
        y_pred = y + ds * t
        if not sysm.inside(y_pred):
            y_new, info = None, "domain"
        else:
            y_new, info = sysm.corrector(y_pred, t, tol)
        if y_new is None:
            last_fail = info
            ds *= C.CONTINUATION_SHRINK
            if ds < ds_min:
                if last_fail == "domain":
                    return "left_domain", (f"the branch leaves the domain near {parameter}="
                                           f"{y[-1]:.10g} ({_describe(sysm, y)})")
                return "step_too_small", (f"corrector failed ({last_fail}) down to step {ds_min:g} "
                                          f"near {parameter}={y[-1]:.10g}")
            continue
        iters = info
        _, _, h_new = sysm.eval(y_new)
        try:
            t_new = sysm.tangent(y_new, h_new, t)
        except np.linalg.LinAlgError:
            ds *= C.CONTINUATION_SHRINK
            last_fail = "singular"
            if ds < ds_min:
                return "step_too_small", f"singular Jacobian near {parameter}={y[-1]:.10g}"
            continue
        fold = None
        if t[-1] * t_new[-1] < 0:
            if locate_folds:
                yf, st, msg, fit, fres, hf, obs, qerr = _locate_fold(sysm, y, t, y_new, t_new, tol)
            else:
                th = t[-1] / (t[-1] - t_new[-1])
                yf = y + th * (y_new - y)
                _, gf, hf = sysm.eval(yf)
                st, msg, fit, fres = "not_located", "fold location not requested", 0, float(np.max(np.abs(gf)))
                obs, qerr = {k: float(v) for k, v in m.observables_at(yf[:-1], sysm.controls(yf[-1])).items()}, None
            vf = float(m.value(yf[:-1], sysm.controls(yf[-1])))
            fold = Fold(parameter=parameter, value=float(yf[-1]),
                        variables={k: float(v) for k, v in zip(m.variables, yf[:-1])},
                        free_entropy=vf, status=st, residual=float(fres), iterations=int(fit),
                        hessian_eigenvalues=[float(e) for e in np.linalg.eigvalsh(hf)],
                        observables=obs, quadrature_error=qerr, after_index=index,
                        direction_before=_sign(t[-1]), direction_after=_sign(t_new[-1]),
                        message=msg)
            folds += 1
        elif (y_new[-1] - stop) * (y[-1] - stop) <= 0:
            # crossed the stop value: land exactly on it (Newton at fixed λ)
            th = (stop - y[-1]) / (y_new[-1] - y[-1])
            guess = y[:-1] + th * (y_new[:-1] - y[:-1])
            x, nit, st, msg = _newton(_Counter(m, sysm.controls(stop)), guess, tol,
                                      C.NEWTON_MAXITER)
            if st == "converged":
                y_stop = np.array(list(x) + [stop])
                _, _, h_s = sysm.eval(y_stop)
                try:
                    t_s = sysm.tangent(y_stop, h_s, t)
                except np.linalg.LinAlgError:  # the stop value sits on a singular point
                    t_s = t
                index += 1
                yield sysm.point(y_stop, t_s, index, abs(t @ (y_stop - y)), nit)
                return "reached_stop", f"reached {parameter}={stop:g}"
            ds *= C.CONTINUATION_SHRINK  # could not land: approach with shorter steps
            continue
        index += 1
        yield sysm.point(y_new, t_new, index, ds, iters, fold)
        y, t = y_new, t_new
        if max_folds is not None and folds >= max_folds:
            return "max_folds", f"{folds} fold(s) located"
        if iters <= 3:
            # the cap is relative to the size of the point: conjugates grow without
            # bound towards q -> 1 (e.g. the binary perceptron near 4/pi)
            ds = min(ds * C.CONTINUATION_GROWTH, ds_max * max(1.0, float(np.linalg.norm(y))))


def _describe(sysm, y):
    return ", ".join(f"{k}={v:.6g}" for k, v in zip(sysm.m.variables, y[:-1]))


def run(model, start, parameter, *, stop, **options) -> Branch:
    """Run :func:`continue_branch` to the end and collect a :class:`Branch`.

    Same arguments as :func:`continue_branch`.
    """
    t0 = time.perf_counter()
    m = compile_model(model) if not isinstance(model, CompiledModel) else model
    gen = continue_branch(m, start, parameter, stop=stop, **options)
    pts = []
    while True:
        try:
            pts.append(next(gen))
        except StopIteration as e:
            status, message, attempts = e.value
            break
    return _collect(m, parameter, start, pts, status, message, attempts, t0)


def _collect(m, parameter, start, pts, status, message, attempts, t0):
    if isinstance(start, SaddleResult):
        base = start.controls
    else:
        base = start
    others = {k: float(v) for k, v in base.items() if k != parameter}
    obs_names = sorted({k for p in pts for k in p.observables})
    return Branch(
        model=m.name, parameter=parameter, controls=others, kind="traced",
        values=[p.value for p in pts],
        variables={n: [p.variables[n] for p in pts] for n in m.variables},
        free_entropy=[p.free_entropy for p in pts],
        dfree_entropy=[p.dfree_entropy for p in pts],
        residual=[p.residual for p in pts],
        point_status=[p.status for p in pts],
        stable=[p.stability["stable"] for p in pts],
        stability_indicator=pts[0].stability["indicator"] if pts else None,
        stability_value=[p.stability["value"] for p in pts],
        signature=[p.stability["signature"] for p in pts],
        hessian_eigenvalues=[p.stability["hessian_eigenvalues"] for p in pts],
        observables={k: [p.observables.get(k) for p in pts] for k in obs_names},
        step=[p.step for p in pts], direction=[p.direction for p in pts],
        folds=[p.fold for p in pts if p.fold is not None],
        status=status, success=status in ("reached_stop", "max_folds"), message=message,
        n_attempts=attempts, seconds=time.perf_counter() - t0, compiled=m)


def boundary_branch(model, parameter, values, *, free_entropy, variables, controls=None,
                    message="") -> Branch:
    r"""A state on the boundary of the saddle variables' domain, with a known free
    entropy (constant in the control), as a :class:`Branch` for :func:`locate_transition`.

    Example: perfect generalisation of the teacher–student binary perceptron,
    ``boundary_branch(model, "alpha", [0, 2], free_entropy=0.0, variables={"m": 1.0})``
    (the version space is the teacher alone; Györgyi 1990).
    """
    m = compile_model(model) if not isinstance(model, CompiledModel) else model
    vals = [float(v) for v in values]
    fe = float(free_entropy)
    k = len(vals)
    return Branch(
        model=m.name, parameter=parameter, controls=dict(controls or {}), kind="boundary",
        values=vals, variables={n: [float(v)] * k for n, v in variables.items()},
        free_entropy=[fe] * k, dfree_entropy=[0.0] * k, residual=[0.0] * k,
        point_status=["boundary"] * k, stable=[None] * k, stability_indicator=None,
        stability_value=[None] * k, signature=[None] * k, hessian_eigenvalues=[[]] * k,
        observables={}, step=[0.0] * k, direction=[0] * k, folds=[], status="boundary",
        success=True, message=message or "boundary state with a constant free entropy",
        n_attempts=0, seconds=0.0, compiled=None)


# ----------------------------------------------------------------------- transitions
def _pieces(b: Branch, stable_only):
    """Monotone-in-λ pieces of a branch: lists of indices (split at folds and at
    unstable points when ``stable_only``)."""
    out, cur = [], []
    for i in range(len(b.values)):
        ok = b.point_status[i] in ("converged", "boundary") and not (
            stable_only and b.stable[i] is False)
        if cur and ok:
            j = cur[-1]
            if len(cur) >= 2 and (b.values[i] - b.values[j]) * (b.values[j] - b.values[cur[-2]]) <= 0:
                out.append(cur)
                cur = [j]
        if ok:
            cur.append(i)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return [p for p in out if len(p) >= 2]


def _interp(b: Branch, idx):
    lam = np.array([b.values[i] for i in idx])
    f = np.array([b.free_entropy[i] for i in idx])
    df = np.array([b.dfree_entropy[i] for i in idx])
    order = np.argsort(lam)
    lam, f, df = lam[order], f[order], df[order]
    keep = np.concatenate([[True], np.diff(lam) > 0])
    lam, f, df = lam[keep], f[keep], df[keep]
    if len(lam) < 2:
        return None
    return CubicHermiteSpline(lam, f, df), lam, [idx[i] for i in order[keep]]


def _state_at(b: Branch, lam, idx):
    """Saddle at λ on branch b by Newton from the interpolated neighbours."""
    if b.kind == "boundary":
        return {n: v[0] for n, v in b.variables.items()}, b.free_entropy[0], 0.0, 0.0, 0.0
    m = b.compiled
    vals = np.array([b.values[i] for i in idx])
    j = int(np.clip(np.searchsorted(vals, lam), 1, len(vals) - 1))
    i0, i1 = idx[j - 1], idx[j]
    th = (lam - b.values[i0]) / (b.values[i1] - b.values[i0])
    guess = np.array([b.variables[n][i0] + th * (b.variables[n][i1] - b.variables[n][i0])
                      for n in m.variables])
    c = {**b.controls, b.parameter: float(lam)}
    x, _, st, _ = _newton(_Counter(m, c), guess, C.SOLVER_TOL, C.NEWTON_MAXITER)
    if st != "converged":
        return None
    sysm = _System(m, b.parameter, b.controls)
    y = np.array(list(x) + [lam])
    v, g, _ = sysm.eval(y)
    nodes = (2 * C.HERMITE_NODES, 2 * C.LEGENDRE_NODES)
    qerr = abs(float(m.value(x, c, nodes=nodes)) - v)
    return ({k: float(a) for k, a in zip(m.variables, x)}, v, sysm.dvalue(y),
            float(np.max(np.abs(g))), qerr)


def locate_transition(a: Branch, b: Branch, *, stable_only=True, refine=True) -> Transition:
    r"""First crossing of the free entropies of branches ``a`` and ``b`` (a first-order
    transition when both are (meta)stable there).

    Parameters
    ----------
    a, b : Branch
        Traced branches (:func:`run`) or boundary states (:func:`boundary_branch`) in
        the same control.
    stable_only : bool
        Only compare points whose stability indicator does not say unstable.
    refine : bool
        Refine the interpolated crossing by Newton in λ with fresh saddle solves
        (needs the compiled model, which traced branches carry).

    Returns
    -------
    Transition
    """
    if a.parameter != b.parameter:
        raise ParameterError("parameter", f"branches vary different controls: {a.parameter}, {b.parameter}")
    none = Transition(parameter=a.parameter, value=None, free_entropy_a=None, free_entropy_b=None,
                      slope_a=None, slope_b=None, variables_a={}, variables_b={}, error=None,
                      interpolation_estimate=None, status="no_crossing",
                      message="the free entropies do not cross on the common range")
    best = None
    for pa in _pieces(a, stable_only):
        ia = _interp(a, pa)
        if ia is None:
            continue
        for pb in _pieces(b, stable_only):
            ib = _interp(b, pb)
            if ib is None:
                continue
            lo = max(ia[1][0], ib[1][0])
            hi = min(ia[1][-1], ib[1][-1])
            if not lo < hi:
                continue
            grid = np.unique(np.concatenate([ia[1], ib[1]]))
            grid = grid[(grid >= lo) & (grid <= hi)]
            grid = np.unique(np.concatenate([[lo], grid, [hi]]))
            d = ia[0](grid) - ib[0](grid)
            for k in range(len(grid) - 1):
                if d[k] == 0 or d[k] * d[k + 1] < 0:
                    lam = grid[k] if d[k] == 0 else brentq(
                        lambda s: float(ia[0](s) - ib[0](s)), grid[k], grid[k + 1], xtol=1e-14)
                    # the first crossing along branch a
                    pos = min(abs(lam - a.values[pa[0]]), abs(lam - a.values[pa[-1]]))
                    key = (pa[0], pos)
                    if best is None or key < best[0]:
                        best = (key, lam, ia, ib)
                    break
    if best is None:
        return none
    _, lam, ia, ib = best
    est = float(lam)
    if not refine or (a.kind == "traced" and a.compiled is None) or (
            b.kind == "traced" and b.compiled is None):
        fa, fb = float(ia[0](lam)), float(ib[0](lam))
        sa, sb = float(ia[0](lam, 1)), float(ib[0](lam, 1))
        return Transition(parameter=a.parameter, value=est, free_entropy_a=fa, free_entropy_b=fb,
                          slope_a=sa, slope_b=sb, variables_a={}, variables_b={},
                          error=None, interpolation_estimate=est, status="interpolated",
                          message="crossing of the Hermite interpolants (not refined)")
    # Newton in λ on Δ(λ) = Φ_a(λ) − Φ_b(λ), with dΔ/dλ = ∂_λΦ_a − ∂_λΦ_b
    sa = sb = None
    for _ in range(30):
        ra, rb = _state_at(a, lam, ia[2]), _state_at(b, lam, ib[2])
        if ra is None or rb is None:
            fa, fb = float(ia[0](est)), float(ib[0](est))
            return Transition(parameter=a.parameter, value=est, free_entropy_a=fa, free_entropy_b=fb,
                              slope_a=float(ia[0](est, 1)), slope_b=float(ib[0](est, 1)),
                              variables_a={}, variables_b={}, error=None,
                              interpolation_estimate=est, status="interpolated",
                              message=f"refinement lost the saddle at {a.parameter}={lam:.10g}")
        # (a saddle residual r changes Φ only at O(r²): not part of the error)
        (xa, fa, sa, _, qa), (xb, fb, sb, _, qb) = ra, rb
        delta, slope = fa - fb, sa - sb
        step = -delta / slope
        lam += step
        if abs(step) < 1e-13 * max(1.0, abs(lam)):
            break
    err = abs(delta / slope) + (qa + qb) / abs(slope)
    return Transition(parameter=a.parameter, value=float(lam), free_entropy_a=fa, free_entropy_b=fb,
                      slope_a=sa, slope_b=sb, variables_a=xa, variables_b=xb, error=float(err),
                      interpolation_estimate=est, status="located",
                      message=("free-entropy crossing refined by Newton in "
                               f"{a.parameter} (interpolation estimate {est:.10g})"))
