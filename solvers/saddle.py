r"""Saddle-point solver: one front end, private per-method routines, one result type.

``solve_saddle(model, controls, x0=None, method="auto", tol=..., options=None)``
extremises a replica free entropy :math:`\Phi(x; c)`, i.e. solves
:math:`\nabla_x\Phi = 0` for the order parameters and conjugates :math:`x`.

Methods
-------
``"fixed-point"``
    Damped iteration :math:`x \leftarrow (1-\eta)x + \eta T(x)` of the conventional
    map :math:`q = F(\hat q)`, :math:`\hat q = G(q)` derived symbolically by
    :meth:`replica.free_energy.FreeEnergy.fixed_point_form`.
    Options: ``damping`` (η), ``maxiter``.
``"newton"``
    Newton on :math:`\nabla\Phi` with the symbolic Hessian, a fraction-to-boundary
    rule keeping every variable inside its domain, and backtracking on the residual.
    Options: ``maxiter``.
``"hybr"``
    MINPACK's hybrid Powell method (``scipy.optimize.root``) with the symbolic
    Jacobian. Options: ``maxiter``, ``factor`` (initial step bound).
``"auto"``
    Fixed point until the residual is small (robust basin), then Newton (fast,
    accurate); Newton alone where no fixed-point form exists.

Every outcome is a :class:`SaddleResult` with the same fields; non-convergence is a
status, never a silently wrong number. The quadrature error of the converged point is
estimated by re-evaluating with twice the nodes.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.optimize

from . import constants as C
from .codegen import CompiledModel, compile_model
from .errors import ConvergenceError, ParameterError

__all__ = ["SaddleResult", "solve_saddle", "validate_controls", "METHODS", "STATUSES"]

METHODS = ("auto", "fixed-point", "newton", "hybr")

#: Status codes. Only "converged" has success=True.
STATUSES = {
    "converged": "the residual is below tol",
    "max_iterations": "the iteration cap was reached before tol",
    "singular_jacobian": "the Hessian of the free entropy is singular",
    "non_finite": "a non-finite value (NaN/inf) appeared; the point left the region "
                  "where the free entropy is defined",
    "line_search_failed": "no step reduced the residual (no saddle nearby or a spinodal)",
    "quadrature_inaccurate": "converged, but doubling the quadrature nodes changes the "
                             "result by more than QUADRATURE_ALARM",
    "solver_error": "the underlying routine reported failure",
}

_OPTIONS = {
    "fixed-point": {"damping", "maxiter"},
    "newton": {"maxiter"},
    "hybr": {"maxiter", "factor"},
    "auto": {"damping", "maxiter", "fixed_point_maxiter"},
}


@dataclass(frozen=True)
class SaddleResult:
    """Outcome of :func:`solve_saddle` (same fields for every method and status).

    Attributes
    ----------
    model : str
    controls : dict
        name -> value, exactly as solved.
    order_parameters, conjugates : dict
        name -> value at the last iterate (meaningful only if ``success``).
    free_entropy : float
        :math:`\\Phi` at the last iterate (per weight, nats).
    status : str
        One of :data:`STATUSES`.
    success : bool
    message : str
    iterations, nfev : int
    residual : float
        max-norm of the gradient of the free entropy at the last iterate.
    stability : dict
        ``indicator`` (e.g. "replicon"), ``value``, ``stable`` (bool or None), and
        ``hessian_eigenvalues`` of :math:`\\Phi` in the saddle variables.
    observables : dict
        All model observables at the last iterate.
    quadrature_error : float
        max |change| of value and gradient when the quadrature nodes are doubled.
    method : str
        The method(s) actually used.
    seconds : float
    """

    model: str
    controls: dict
    order_parameters: dict
    conjugates: dict
    free_entropy: float
    status: str
    success: bool
    message: str
    iterations: int
    nfev: int
    residual: float
    stability: dict
    observables: dict
    quadrature_error: float
    method: str
    seconds: float
    x: tuple = field(repr=False, default=())

    @property
    def variables(self) -> dict:
        """Order parameters and conjugates together, in packed order."""
        return {**self.order_parameters, **self.conjugates}

    def raise_for_status(self):
        """Raise :class:`ConvergenceError` unless the saddle point converged."""
        if not self.success:
            raise ConvergenceError(self)
        return self

    def to_dict(self) -> dict:
        """JSON-able dict (non-finite floats become None)."""
        d = asdict(self)
        d.pop("x")
        return _jsonable(d)


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (float, np.floating)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


# ----------------------------------------------------------------------- validation
def validate_controls(model: CompiledModel, controls: dict, *, allow_missing=()):
    """Check control values: known names, present, finite, inside their domain.

    Raises
    ------
    ParameterError
        naming the offending parameter.
    """
    if not isinstance(controls, dict):
        raise ParameterError("controls", f"controls must be a dict name -> value, got {type(controls).__name__}")
    out = {}
    for name, v in controls.items():
        if name not in model.controls:
            raise ParameterError(name, f"unknown parameter {name!r} for model {model.name}; "
                                       f"its controls are {', '.join(model.controls)}")
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise ParameterError(name, f"parameter {name} must be a number, got {v!r}") from None
        if not math.isfinite(fv):
            raise ParameterError(name, f"parameter {name} must be finite, got {fv}")
        lo, hi = model.domains[name]
        if (lo is not None and fv < lo) or (hi is not None and fv > hi):
            raise ParameterError(name, f"parameter {name}={fv} is outside its domain "
                                       f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]")
        out[name] = fv
    missing = [c for c in model.controls if c not in out and c not in allow_missing]
    if missing:
        raise ParameterError(missing[0], f"missing parameter {missing[0]} for model {model.name} "
                                         f"(set it with --set {missing[0]}=VALUE)")
    return out


def _initial_point(model: CompiledModel, x0):
    fe = model.free_energy
    if x0 is None:
        vals = []
        for s in fe.variables:
            if s.initial is not None:
                vals.append(float(s.initial))
            else:
                lo, hi = s.domain
                if lo is not None and hi is not None:
                    vals.append(0.5 * (lo + hi))
                elif lo is not None:
                    vals.append(lo + 1.0)
                elif hi is not None:
                    vals.append(hi - 1.0)
                else:
                    vals.append(0.0)
        return np.array(vals)
    if isinstance(x0, SaddleResult):
        x0 = x0.variables
    if isinstance(x0, dict):
        unknown = set(x0) - set(model.variables)
        if unknown:
            raise ParameterError(sorted(unknown)[0], f"x0 names unknown variable(s) {sorted(unknown)}; "
                                                     f"variables are {model.variables}")
        base = _initial_point(model, None)
        return np.array([float(x0.get(n, base[i])) for i, n in enumerate(model.variables)])
    x = np.asarray(x0, dtype=float).ravel()
    if x.size != len(model.variables):
        raise ParameterError("x0", f"x0 must have {len(model.variables)} entries {model.variables}")
    return x


def _bounds(model):
    lo = np.array([-np.inf if model.domains[n][0] is None else model.domains[n][0]
                   for n in model.variables], dtype=float)
    hi = np.array([np.inf if model.domains[n][1] is None else model.domains[n][1]
                   for n in model.variables], dtype=float)
    return lo, hi


class _Counter:
    """Counts model evaluations; ``nodes`` overrides the quadrature node counts (a
    coarse rule for continuation predictors, see solvers.local_entropy)."""

    def __init__(self, model, controls, nodes=None):
        self.model, self.controls, self.n = model, controls, 0
        self.kw = {"nodes": nodes} if nodes else {}

    def grad(self, x):
        self.n += 1
        return self.model.gradient(x, self.controls, **self.kw)

    def jac(self, x):
        self.n += 1
        return self.model.jacobian(x, self.controls, **self.kw)

    def fp(self, x):
        self.n += 1
        return self.model.fixed_point_map(x, self.controls)


# ----------------------------------------------------------------------- methods
def _fixed_point(cnt, x, tol, damping, maxiter):
    lo, hi = _bounds(cnt.model)
    for it in range(1, maxiter + 1):
        t = cnt.fp(x)
        if not np.all(np.isfinite(t)):
            return x, it, "non_finite", "fixed-point map returned non-finite values"
        new = (1 - damping) * x + damping * t
        new = np.clip(new, lo, hi)
        step = np.max(np.abs(new - x))
        x = new
        if step < tol:
            return x, it, "converged", f"fixed point converged (step {step:.2e})"
    return x, maxiter, "max_iterations", f"fixed point did not converge in {maxiter} iterations"


def _newton(cnt, x, tol, maxiter, max_backtracks=40):
    lo, hi = _bounds(cnt.model)
    g, hess = cnt.jac(x)
    for it in range(1, maxiter + 1):
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(hess))):
            return x, it, "non_finite", "gradient or Hessian not finite"
        res = np.max(np.abs(g))
        if res < tol:
            return x, it - 1, "converged", f"Newton converged (residual {res:.2e})"
        try:
            step = np.linalg.solve(hess, -g)
        except np.linalg.LinAlgError:
            return x, it, "singular_jacobian", "singular Hessian in Newton step"
        if not np.all(np.isfinite(step)):
            return x, it, "singular_jacobian", "ill-conditioned Hessian in Newton step"
        # fraction to boundary
        t = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            down = np.where(step < 0, (lo - x) / step, np.inf)
            up = np.where(step > 0, (hi - x) / step, np.inf)
        lim = np.min(np.concatenate([down, up]))
        if lim < 1.0 / C.FRACTION_TO_BOUNDARY:
            t = C.FRACTION_TO_BOUNDARY * lim
        # backtracking (Armijo) on the merit ½|∇Φ|², for which the Newton step is a
        # descent direction whenever the Hessian is non-singular; the trial point is
        # evaluated with its Hessian, which the next iteration reuses
        merit = float(g @ g)
        for _ in range(max_backtracks):
            xn = x + t * step
            gn, hn = cnt.jac(xn)
            if np.all(np.isfinite(gn)) and float(gn @ gn) <= (1 - 2e-4 * t) * merit:
                break
            t *= 0.5
        else:
            return x, it, "line_search_failed", f"no Newton step reduced the residual {res:.2e}"
        x, g, hess = xn, gn, hn
    res = np.max(np.abs(g))
    if res < tol:
        return x, maxiter, "converged", f"Newton converged (residual {res:.2e})"
    return x, maxiter, "max_iterations", f"Newton did not converge in {maxiter} iterations"


def _hybr(cnt, x, tol, maxiter, factor):
    def fun(y):
        g, h = cnt.jac(y)
        return g, h

    sol = scipy.optimize.root(fun, x, jac=True, method="hybr",
                              options={"maxfev": maxiter * (len(x) + 1), "xtol": 1e-14,
                                       "factor": factor})
    g = cnt.grad(sol.x)
    res = np.max(np.abs(g)) if np.all(np.isfinite(g)) else np.inf
    if res < tol:
        return sol.x, sol.nfev, "converged", f"hybr converged (residual {res:.2e})"
    if not np.isfinite(res):
        return sol.x, sol.nfev, "non_finite", "hybr ended at a non-finite point"
    return sol.x, sol.nfev, "solver_error", f"hybr: {sol.message} (residual {res:.2e})"


# ----------------------------------------------------------------------- front end
def solve_saddle(model, controls, x0=None, method="auto", tol=None, options=None) -> SaddleResult:
    r"""Solve the saddle-point equations :math:`\nabla_x\Phi(x; c) = 0`.

    Parameters
    ----------
    model : FreeEnergy, CompiledModel or str
        A free energy (compiled on first use and cached), or a catalogue name.
    controls : dict
        Every control parameter of the model (e.g. ``alpha``, ``kappa``); no defaults.
    x0 : dict, sequence or SaddleResult, optional
        Starting point (names -> values, packed array, or a previous result for a warm
        start). Default: the ``initial`` value of each variable.
    method : {"auto", "fixed-point", "newton", "hybr"}
    tol : float, optional
        Convergence threshold on max |∂Φ/∂x| (default ``constants.SOLVER_TOL``).
    options : dict, optional
        Method options (see module docstring). Unknown options raise ``TypeError``.

    Returns
    -------
    SaddleResult
        Same fields for every method and outcome; non-convergence is a ``status``.

    Raises
    ------
    ParameterError
        A control is missing, unknown, not finite or outside its domain
        (``error.parameter`` names it).
    TypeError
        An option that ``method`` does not know.

    Examples
    --------
    The binary perceptron at α = 0.6, κ = 0 (Gardner & Derrida, J. Phys. A 21, 271
    (1988)); ``notebooks/01_quickstart.ipynb`` checks this point against an independent
    ``quad`` evaluation of the stationarity conditions:

    >>> from solvers import solve_saddle
    >>> r = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0})
    >>> r.status, round(r.order_parameters["q"], 5), r.stability["stable"]
    ('converged', 0.39105, True)

    A warm start from a previous result needs only a few Newton steps:

    >>> r2 = solve_saddle("binary-perceptron", {"alpha": 0.62, "kappa": 0.0}, x0=r, method="newton")
    >>> r2.success, r2.iterations < 10
    (True, True)

    Physics parameters have no defaults:

    >>> solve_saddle("binary-perceptron", {"alpha": 0.6})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    solvers.errors.ParameterError: missing parameter kappa for model binary-perceptron ...
    """
    t0 = time.perf_counter()
    m = compile_model(model) if not isinstance(model, CompiledModel) else model
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    options = dict(options or {})
    unknown = set(options) - _OPTIONS[method]
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for method {method!r}; "
                        f"allowed: {sorted(_OPTIONS[method])}")
    if method == "fixed-point" and not m.has_fixed_point:
        raise ValueError(f"{m.name} has no fixed-point form; use method='newton'")
    tol = C.SOLVER_TOL if tol is None else float(tol)
    if not tol > 0:
        raise ParameterError("tol", f"tol must be positive, got {tol}")
    controls = validate_controls(m, controls)
    x = x_start = _initial_point(m, x0)
    cnt = _Counter(m, controls)
    damping = float(options.get("damping", C.FIXED_POINT_DAMPING))
    if not 0 < damping <= 1:
        raise ParameterError("damping", f"damping must be in (0, 1], got {damping}")

    if method == "fixed-point":
        x, nit, status, msg = _fixed_point(cnt, x, tol * 1e-2, damping,
                                           int(options.get("maxiter", C.FIXED_POINT_MAXITER)))
        used = "fixed-point"
    elif method == "newton":
        x, nit, status, msg = _newton(cnt, x, tol, int(options.get("maxiter", C.NEWTON_MAXITER)))
        used = "newton"
    elif method == "hybr":
        x, nit, status, msg = _hybr(cnt, x, tol, int(options.get("maxiter", C.NEWTON_MAXITER)),
                                    float(options.get("factor", C.HYBR_FACTOR)))
        used = "hybr"
    else:
        nit, used = 0, []
        xs = x
        if m.has_fixed_point:
            fp_max = int(options.get("fixed_point_maxiter", 300))
            x1, n1, st1, _ = _fixed_point(cnt, x, C.AUTO_HANDOVER_RESIDUAL, damping, fp_max)
            nit += n1
            used.append("fixed-point")
            if st1 in ("converged", "max_iterations"):
                xs = x1
        x, n2, status, msg = _newton(cnt, xs, tol, int(options.get("maxiter", C.NEWTON_MAXITER)))
        nit += n2
        used.append("newton")
        if status != "converged" and m.has_fixed_point:
            x, n3, status, msg = _fixed_point(cnt, x_start, tol * 1e-2, damping,
                                              C.FIXED_POINT_MAXITER)
            nit += n3
            used.append("fixed-point")
        used = "auto(" + "→".join(used) + ")"

    return _finish(m, controls, x, status, msg, nit, cnt, used, tol, t0)


def _finish(m, controls, x, status, msg, nit, cnt, used, tol, t0):
    x = np.asarray(x, dtype=float)
    value, g, hess = m.value_and_derivatives(x, controls)
    value = float(value)
    residual = float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else float("inf")
    if status == "converged" and not residual < tol:
        # fixed point converged in step size but not in gradient: say so
        status, msg = "max_iterations", f"step converged but residual {residual:.2e} > tol {tol:.1e}"
    if status == "converged" and not math.isfinite(value):
        status, msg = "non_finite", "free entropy is not finite at the converged point"
    obs = {k: float(v) for k, v in m.observables_at(x, controls).items()}
    qerr = float("nan")
    if status == "converged":
        nodes = (2 * C.HERMITE_NODES, 2 * C.LEGENDRE_NODES)
        v2 = float(m.value(x, controls, nodes=nodes))
        g2 = m.gradient(x, controls, nodes=nodes)
        qerr = float(max(abs(v2 - value), np.max(np.abs(g2 - g))))
        # models with a Monte Carlo average (tree committees) state their own alarm
        if not qerr < m.free_energy.meta.get("quadrature_alarm", C.QUADRATURE_ALARM):
            status = "quadrature_inaccurate"
            msg += f"; quadrature error estimate {qerr:.1e}"
    try:
        eig = [float(e) for e in np.linalg.eigvalsh(hess)] if np.all(np.isfinite(hess)) else []
    except np.linalg.LinAlgError:
        eig = []
    stability = {"indicator": None, "value": None, "stable": None, "hessian_eigenvalues": eig}
    for name, rule in m.stable_if.items():
        if rule and name in obs:
            v = obs[name]
            stable = (v > -C.SOLVER_TOL * 10) if rule == "positive" else (v < C.SOLVER_TOL * 10)
            stability.update(indicator=name, value=v, stable=bool(stable) if math.isfinite(v) else None)
            break
    n = len(m.free_energy.order_parameters)
    names = m.variables
    return SaddleResult(
        model=m.name, controls=dict(controls),
        order_parameters={k: float(v) for k, v in zip(names[:n], x[:n])},
        conjugates={k: float(v) for k, v in zip(names[n:], x[n:])},
        free_entropy=value, status=status, success=status == "converged", message=msg,
        iterations=int(nit), nfev=int(cnt.n), residual=residual, stability=stability,
        observables=obs, quadrature_error=qerr, method=used,
        seconds=time.perf_counter() - t0, x=tuple(float(v) for v in x))

