r"""Vectorised saddle-point solves: many control points in one NumPy batch.

:func:`solve_batch` solves :math:`\nabla_x\Phi(x; c_b) = 0` for a batch of control
points :math:`c_b` at once, with the same algorithms as :func:`solvers.saddle.
solve_saddle` (Newton on the symbolic Hessian with fraction-to-boundary and Armijo
backtracking on :math:`\tfrac12|\nabla\Phi|^2`; damped fixed point), applied
*element by element*: every element has its own step length, iteration count and
status, and an element that has converged is frozen. The outcome of an element
therefore does not depend on the other elements of the batch (the compiled model
evaluates batch elements independently), so a scan gives the same numbers whatever
its blocks or its executor.

What is vectorised is only the evaluation: one call of the compiled bundle per
iteration for all still-active elements, instead of one Python round trip per point
(≈ 0.15 ms for one point, ≈ 1 ms for 100 points of the binary perceptron).

The default route (``method="auto"``) is tuned for warm starts along a scan line:

1. Newton from ``x0`` (the neighbour's solution);
2. for the elements where it failed and the model has a fixed-point form: the damped
   fixed point from ``x_cold`` (the variables' initial values, the robust basin), at
   most ``fixed_point_maxiter`` iterations down to ``AUTO_HANDOVER_RESIDUAL``, then
   Newton.

Diagnostics are those of :func:`solvers.saddle.solve_saddle`: residual, free
entropy, observables, stability indicator and the quadrature error (doubled nodes),
with the status ``quadrature_inaccurate`` above ``QUADRATURE_ALARM`` (or the model's own
``meta["quadrature_alarm"]``, e.g. the QMC committee averages).
"""

from __future__ import annotations

import numpy as np

from . import constants as C
from .codegen import CompiledModel
from .saddle import _bounds

__all__ = ["solve_batch", "sweep_lines", "BATCH_OPTIONS"]

#: Options of :func:`solve_batch` (unknown options raise TypeError).
BATCH_OPTIONS = ("maxiter", "fixed_point_maxiter", "damping")


def _sub(controls, idx):
    """Controls restricted to the batch elements ``idx`` (scalars stay scalars)."""
    return {k: (v[idx] if np.ndim(v) else v) for k, v in controls.items()}


class _Eval:
    """Counts evaluations per element (an evaluation of a bundle at one point)."""

    def __init__(self, model: CompiledModel, controls, n):
        self.m, self.c = model, controls
        self.nfev = np.zeros(n, dtype=np.int64)

    def jac(self, x, idx):
        self.nfev[idx] += 1
        return self.m.value_and_derivatives(x, _sub(self.c, idx))[1:]

    def fp(self, x, idx):
        self.nfev[idx] += 1
        return self.m.fixed_point_map(x, _sub(self.c, idx))


def _solve_linear(h, g):
    """Newton steps -H⁻¹g for a stack; singular elements get NaN steps."""
    try:
        return np.linalg.solve(h, -g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full_like(g, np.nan)
        for i in range(len(g)):
            try:
                out[i] = np.linalg.solve(h[i], -g[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _newton(ev: _Eval, x, idx, tol, maxiter, max_backtracks, boundary_stop=False):
    """Batched Newton for the elements ``idx`` from ``x`` (shape (len(idx), n)).

    With ``boundary_stop``, an element whose step is truncated by the
    fraction-to-boundary rule toward a bound closer than ``SCAN_BOUNDARY_GAP``
    (relative) stops with the status "boundary".

    Returns (x, status, iterations) for those elements."""
    lo, hi = _bounds(ev.m)
    x = np.array(x, dtype=float)
    k = len(idx)
    status = np.full(k, "max_iterations", dtype=object)
    nit = np.zeros(k, dtype=np.int64)
    active = np.ones(k, dtype=bool)
    g, h = ev.jac(x, idx)
    for it in range(1, maxiter + 2):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        ga, ha = g[a], h[a]
        bad = ~(np.all(np.isfinite(ga), axis=-1) & np.all(np.isfinite(ha), axis=(-2, -1)))
        res = np.max(np.abs(ga), axis=-1)
        conv = ~bad & (res < tol)
        status[a[bad]], nit[a[bad]] = "non_finite", it
        status[a[conv]], nit[a[conv]] = "converged", it - 1
        active[a[bad | conv]] = False
        if it > maxiter:  # the last pass only checks convergence
            nit[active] = maxiter
            break
        a = a[~(bad | conv)]
        if a.size == 0:
            break
        step = _solve_linear(h[a], g[a])
        sing = ~np.all(np.isfinite(step), axis=-1)
        status[a[sing]], nit[a[sing]] = "singular_jacobian", it
        active[a[sing]] = False
        a, step = a[~sing], step[~sing]
        if a.size == 0:
            continue
        xa = x[a]
        with np.errstate(divide="ignore", invalid="ignore"):
            down = np.where(step < 0, (lo - xa) / step, np.inf)
            up = np.where(step > 0, (hi - xa) / step, np.inf)
        both = np.concatenate([down, up], axis=-1)
        lim = np.min(both, axis=-1)
        trunc = lim < 1.0 / C.FRACTION_TO_BOUNDARY
        if boundary_stop and np.any(trunc):
            which = np.argmin(both, axis=-1)
            bound = np.concatenate([np.broadcast_to(lo, xa.shape), np.broadcast_to(hi, xa.shape)],
                                   axis=-1)[np.arange(a.size), which]
            xv = np.concatenate([xa, xa], axis=-1)[np.arange(a.size), which]
            with np.errstate(invalid="ignore"):
                near = trunc & (np.abs(xv - bound) < C.SCAN_BOUNDARY_GAP * np.maximum(1.0, np.abs(bound)))
            status[a[near]], nit[a[near]] = "boundary", it
            active[a[near]] = False
            keep = ~near
            a, step, xa, lim, trunc = a[keep], step[keep], xa[keep], lim[keep], trunc[keep]
            if a.size == 0:
                continue
        t = np.where(trunc, C.FRACTION_TO_BOUNDARY * lim, 1.0)
        merit = np.einsum("ij,ij->i", g[a], g[a])
        pending = np.ones(a.size, dtype=bool)
        for _ in range(max_backtracks):
            p = np.flatnonzero(pending)
            if p.size == 0:
                break
            xn = xa[p] + t[p, None] * step[p]
            gn, hn = ev.jac(xn, idx[a[p]])
            ok = np.all(np.isfinite(gn), axis=-1) & (
                np.einsum("ij,ij->i", gn, gn) <= (1 - 2e-4 * t[p]) * merit[p])
            acc = a[p[ok]]
            x[acc], g[acc], h[acc] = xn[ok], gn[ok], hn[ok]
            pending[p[ok]] = False
            t[p[~ok]] *= 0.5
        failed = a[pending]
        status[failed], nit[failed] = "line_search_failed", it
        active[failed] = False
    return x, status, nit


def _fixed_point(ev: _Eval, x, idx, tol, damping, maxiter):
    """Batched damped fixed point x <- (1-η)x + ηT(x), stopping per element when the
    step is below ``tol``. Returns (x, status, iterations)."""
    lo, hi = _bounds(ev.m)
    x = np.array(x, dtype=float)
    k = len(idx)
    status = np.full(k, "max_iterations", dtype=object)
    nit = np.full(k, maxiter, dtype=np.int64)
    active = np.ones(k, dtype=bool)
    for it in range(1, maxiter + 1):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        t = ev.fp(x[a], idx[a])
        fin = np.all(np.isfinite(t), axis=-1)
        status[a[~fin]], nit[a[~fin]] = "non_finite", it
        active[a[~fin]] = False
        a, t = a[fin], t[fin]
        new = np.clip((1 - damping) * x[a] + damping * t, lo, hi)
        stepsize = np.max(np.abs(new - x[a]), axis=-1)
        x[a] = new
        done = stepsize < tol
        status[a[done]], nit[a[done]] = "converged", it
        active[a[done]] = False
    return x, status, nit


def solve_batch(model: CompiledModel, controls: dict, x0, *, x_cold=None, tol=None,
                options=None) -> dict:
    r"""Solve the saddle-point equations at a batch of control points.

    Parameters
    ----------
    model : CompiledModel
    controls : dict
        Every control of the model: name -> float or array of shape ``(B,)``
        (already validated, e.g. by :func:`solvers.saddle.validate_controls`).
    x0 : array, shape (B, n_variables)
        Starting points (warm starts) in the packed order ``model.variables``.
    x_cold : array, shape (n_variables,), optional
        The start of the fixed-point fallback (default: the variables' initial values).
    tol : float, optional
        Threshold on max |∂Φ/∂x| (default ``constants.SOLVER_TOL``).
    options : dict, optional
        ``maxiter`` (Newton, default ``SCAN_NEWTON_MAXITER``), ``fixed_point_maxiter``
        (fallback budget, default ``SCAN_FIXED_POINT_MAXITER``; 0 disables the
        fallback), ``damping`` (default ``FIXED_POINT_DAMPING``).

    Returns
    -------
    dict of arrays of length B
        ``x`` (B, n), ``status`` (str), ``success``, ``free_entropy``, ``residual``,
        ``iterations``, ``evaluations``, ``quadrature_error`` and one entry per
        observable, ``stable`` (1, 0, or -1 when the model has no indicator or it is
        not finite), ``indicator`` (its name or None).

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import compile_model
    >>> m = compile_model("binary-perceptron")
    >>> out = solve_batch(m, {"alpha": np.array([0.6, 0.7]), "kappa": 0.0},
    ...                   np.array([[0.5, 1.0], [0.5, 1.0]]))
    >>> [str(s) for s in out["status"]], round(float(out["x"][0, 0]), 6)
    (['converged', 'converged'], 0.39105)
    """
    from .saddle import _initial_point
    m = model
    tol, maxiter, fp_max, damping = _parse_options(options, tol)
    x0 = np.array(x0, dtype=float)
    B, n = x0.shape
    controls = {k: (np.broadcast_to(np.asarray(v, float), (B,)) if np.ndim(v) else float(v))
                for k, v in controls.items()}
    x_cold = _initial_point(m, None) if x_cold is None else np.asarray(x_cold, float)
    ev = _Eval(m, controls, B)
    idx = np.arange(B)
    x, status, nit = _newton(ev, x0, idx, tol, maxiter, C.SCAN_MAX_BACKTRACKS)
    bad = np.flatnonzero(status != "converged")
    _rescue(ev, x, status, nit, bad, x_cold, tol, maxiter, damping, fp_max)
    return _diagnostics(m, controls, x, status, nit, ev.nfev, tol)


def _rescue(ev, x, status, nit, bad, x_cold, tol, maxiter, damping, fp_max):
    """Cold route for the elements ``bad`` (in place): damped fixed point from
    ``x_cold`` down to AUTO_HANDOVER_RESIDUAL, then Newton (solve_saddle's "auto")."""
    if not (bad.size and fp_max > 0 and ev.m.has_fixed_point):
        return
    xs = np.tile(x_cold, (bad.size, 1))
    x1, st1, n1 = _fixed_point(ev, xs, bad, C.AUTO_HANDOVER_RESIDUAL, damping, fp_max)
    x1 = np.where((st1 == "non_finite")[:, None], xs, x1)
    x2, st2, n2 = _newton(ev, x1, bad, tol, maxiter, C.SCAN_MAX_BACKTRACKS)
    x[bad], status[bad], nit[bad] = x2, st2, nit[bad] + n1 + n2


def _parse_options(options, tol):
    options = dict(options or {})
    unknown = set(options) - set(BATCH_OPTIONS)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {list(BATCH_OPTIONS)}")
    tol = C.SOLVER_TOL if tol is None else float(tol)
    return (tol, int(options.get("maxiter", C.SCAN_NEWTON_MAXITER)),
            int(options.get("fixed_point_maxiter", C.SCAN_FIXED_POINT_MAXITER)),
            float(options.get("damping", C.FIXED_POINT_DAMPING)))


def sweep_lines(model: CompiledModel, controls: dict, *, tol=None, options=None) -> dict:
    r"""Solve the saddle along lines of control points, each warm-started from its
    neighbour; the lines of a batch advance together (vectorised evaluation).

    Parameters
    ----------
    model : CompiledModel
    controls : dict
        Every control: name -> float or array of shape ``(L, A)`` (L lines of A
        points; point ``j`` of a line is warm-started from point ``j-1``).
    tol, options
        As in :func:`solve_batch`.

    Returns
    -------
    dict
        As :func:`solve_batch`, every array with leading shape ``(L, A)``.

    Notes
    -----
    The lines advance together, one point per step. At point ``j`` a line that has a
    converged point starts Newton from its latest one (the neighbour ``j-1`` unless
    that failed; a secant predictor when ``j-1`` and ``j-2`` converged; the last
    iterate of ``j-1`` if that ended on a boundary). If Newton is driven onto the boundary of a variable's domain (the
    fraction-to-boundary rule truncates a step toward a bound less than
    ``SCAN_BOUNDARY_GAP`` away, e.g. q → 1 beyond the end of an RS branch) the point
    gets the status ``"boundary"``: the branch followed along the line does not reach
    it (the first such point after a converged one is checked first: Newton from the
    converged neighbour without predictor, then the cold route; only if both fail is
    it reported as ``"boundary"``). Every point of a line that has no converged point yet gets the cold route of
    :func:`solve_batch` (damped fixed point from the initial values, then Newton),
    whose success seeds the next points. Any other failure right after a converged
    point gets the cold route too, after the sweep and in one batch for all lines (a
    point rescued there does not seed its successors; where the cold route fails as
    well, the warm attempt's status is reported). Each point's
    outcome depends only on its own line, never on the other lines of the batch.
    A saddle on a branch that is disconnected from the one followed along the line
    is therefore reported as ``"boundary"``; solve such points with
    :func:`solvers.saddle.solve_saddle`.
    """
    from .saddle import _initial_point
    m = model
    tol, maxiter, fp_max, damping = _parse_options(options, tol)
    shape = next((np.shape(v) for v in controls.values() if np.ndim(v)), None)
    if shape is None or len(shape) != 2:
        raise ValueError("sweep_lines needs at least one control of shape (L, A)")
    L, A = shape
    flat = {k: (np.broadcast_to(np.asarray(v, float), shape).ravel() if np.ndim(v) else float(v))
            for k, v in controls.items()}
    x_cold = _initial_point(m, None)
    ev = _Eval(m, flat, L * A)
    x = np.tile(x_cold, (L * A, 1))
    status = np.full(L * A, "max_iterations", dtype=object)
    nit = np.zeros(L * A, dtype=np.int64)
    have = np.zeros(L, dtype=bool)             # the line has a converged point
    last = np.tile(x_cold, (L, 1))             # ... and this is the latest one
    prev = np.full((L, len(x_cold)), np.nan)   # the one before, if it is point j-2
    prev_ok = np.zeros(L, dtype=bool)          # point j-1 converged
    prev_bd = np.zeros(L, dtype=bool)          # point j-1 ended on a domain boundary
    lo, hi = _bounds(m)
    lines = np.arange(L)
    deferred = []
    for j in range(A):
        idx = lines * A + j                    # flat (line, j) indices
        cold = ~have
        if np.any(have):
            # secant predictor from points j-2, j-1 where both converged (the grid
            # is uniform along a line), kept inside the domain by the
            # fraction-to-boundary rule; else the latest converged point
            start = last[have].copy()
            # past the end of a branch, go on from the previous point's last iterate
            # (on the boundary): one or two evaluations confirm that Newton is still
            # driven out of the domain, and a step back inside continues normally
            bd = prev_bd[have]
            start[bd] = x[idx[have][bd] - 1]
            sec = prev_ok[have] & np.all(np.isfinite(prev[have]), axis=-1)
            if np.any(sec):
                x1, d = start[sec], start[sec] - prev[have][sec]
                with np.errstate(divide="ignore", invalid="ignore"):
                    lim = np.min(np.concatenate([np.where(d < 0, (lo - x1) / d, np.inf),
                                                 np.where(d > 0, (hi - x1) / d, np.inf)], axis=-1),
                                 axis=-1)
                t = np.minimum(1.0, C.FRACTION_TO_BOUNDARY * lim)
                start[sec] = x1 + t[:, None] * d
            xi, st, it = _newton(ev, start, idx[have], tol, maxiter,
                                 C.SCAN_MAX_BACKTRACKS, boundary_stop=True)
            x[idx[have]], status[idx[have]], nit[idx[have]] = xi, st, it
            # a warm start that ran into a domain boundary marks the end of the
            # branch; any other failure right after a converged point gets the cold
            # route after the sweep (once per break: this bounds the cost of points
            # past the end of a branch)
            failed = (st != "converged") & (st != "boundary") & prev_ok[have]
            deferred.append(idx[have][failed])
            # the first boundary after a converged point is checked before it is
            # believed (a predictor or a long step can drive Newton out although the
            # saddle exists): Newton from the converged neighbour itself, then the
            # cold route; a success seeds the next points
            fb = idx[have][(st == "boundary") & prev_ok[have]]
            if fb.size:
                xi, st2, it2 = _newton(ev, last[fb // A], fb, tol, maxiter,
                                       C.SCAN_MAX_BACKTRACKS, boundary_stop=True)
                ok2 = st2 == "converged"
                x[fb[ok2]], status[fb[ok2]], nit[fb[ok2]] = xi[ok2], st2[ok2], nit[fb[ok2]] + it2[ok2]
                rest = fb[~ok2]
                if rest.size:
                    xb, sb, nb = x[rest].copy(), status[rest].copy(), nit[rest].copy()
                    _rescue(ev, x, status, nit, rest, x_cold, tol, maxiter, damping, fp_max)
                    keep = status[rest] != "converged"
                    x[rest[keep]], status[rest[keep]] = xb[keep], sb[keep]
                    nit[rest[keep]] = nb[keep]
        c_idx = idx[cold]
        if c_idx.size:
            if not m.has_fixed_point or fp_max <= 0:
                xi, st, it = _newton(ev, np.tile(x_cold, (c_idx.size, 1)), c_idx, tol, maxiter,
                                     C.SCAN_MAX_BACKTRACKS)
                x[c_idx], status[c_idx], nit[c_idx] = xi, st, nit[c_idx] + it
            else:
                _rescue(ev, x, status, nit, c_idx, x_cold, tol, maxiter, damping, fp_max)
        ok = status[idx] == "converged"
        prev_bd = status[idx] == "boundary"
        prev = np.where((ok & prev_ok)[:, None], last, np.nan)
        last[ok] = x[idx[ok]]
        have |= ok
        prev_ok = ok
    # the cold route for the failures right after a converged point, all in one batch
    # (one fixed-point run instead of one per step); these points do not seed others
    bad = np.concatenate(deferred) if deferred else np.zeros(0, dtype=np.int64)
    if bad.size:
        xb, sb = x[bad].copy(), status[bad].copy()
        _rescue(ev, x, status, nit, bad, x_cold, tol, maxiter, damping, fp_max)
        keep = status[bad] != "converged"   # report the warm attempt where both failed
        x[bad[keep]], status[bad[keep]] = xb[keep], sb[keep]
    out = _diagnostics(m, flat, x, status, nit, ev.nfev, tol)
    return {k: (v.reshape((L, A) + np.shape(v)[1:]) if isinstance(v, np.ndarray) else
                ({o: a.reshape(L, A) for o, a in v.items()} if isinstance(v, dict) else v))
            for k, v in out.items()}


def _diagnostics(m, controls, x, status, nit, nfev, tol):
    """Residual, value, observables, stability and quadrature error, batched (the
    same checks as solvers.saddle._finish)."""
    B = len(x)
    value, g, hess = m.value_and_derivatives(x, controls)
    value = np.asarray(value, float)
    fin = np.all(np.isfinite(g), axis=-1)
    residual = np.where(fin, np.max(np.abs(np.where(fin[:, None], g, 0.0)), axis=-1), np.inf)
    status = status.copy()
    conv = status == "converged"
    status[conv & ~(residual < tol)] = "max_iterations"
    status[(status == "converged") & ~np.isfinite(value)] = "non_finite"
    obs = {k: np.asarray(v, float) for k, v in m.observables_at(x, controls).items()}
    qerr = np.full(B, np.nan)
    c = np.flatnonzero(status == "converged")
    if c.size:
        nodes = (2 * C.HERMITE_NODES, 2 * C.LEGENDRE_NODES)
        cs = _sub(controls, c)
        v2 = np.asarray(m.value(x[c], cs, nodes=nodes), float)
        g2 = m.gradient(x[c], cs, nodes=nodes)
        qerr[c] = np.maximum(np.abs(v2 - value[c]), np.max(np.abs(g2 - g[c]), axis=-1))
        # models with a Monte Carlo average (tree committees) state their own alarm,
        # as in solve_saddle
        alarm = m.free_energy.meta.get("quadrature_alarm", C.QUADRATURE_ALARM)
        status[c[~(qerr[c] < alarm)]] = "quadrature_inaccurate"
    stable = np.full(B, -1, dtype=np.int8)
    indicator = None
    for name, rule in m.stable_if.items():
        if rule and name in obs:
            v = obs[name]
            s = (v > -C.SOLVER_TOL * 10) if rule == "positive" else (v < C.SOLVER_TOL * 10)
            stable = np.where(np.isfinite(v), s.astype(np.int8), np.int8(-1)).astype(np.int8)
            indicator = name
            break
    return {"x": x, "status": status.astype(str), "success": status == "converged",
            "free_entropy": value, "residual": residual, "iterations": nit,
            "evaluations": nfev, "quadrature_error": qerr, "observables": obs,
            "stable": stable, "indicator": indicator}
