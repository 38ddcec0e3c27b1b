r"""Phase-diagram scans: a grid of controls -> an ``xarray.Dataset``, resumable, parallel.

``scan(model, grid, quantity, controls=..., out=..., executor=..., workers=...,
resume=..., progress=...)`` evaluates a *quantity* at every point of a rectangular
grid of control values and returns an :class:`xarray.Dataset` with one coordinate per
scanned control, the fixed controls as scalar coordinates, a per-point ``status``
beside the values, and attributes naming the model, the quantity, the fixed controls
and the package version.

Quantities (registered in :data:`QUANTITIES`, see :func:`register_quantity`)
------------------------------------------------------------------------------
``free_entropy``
    The RS saddle point: ``free_entropy``, ``residual``, ``iterations``,
    ``evaluations``, ``quadrature_error``, the order parameters and conjugates, the
    model's observables (e.g. ``replicon``) and ``stable`` (1/0, -1 unknown). Lines
    along the first grid control (or ``along=``) are solved by continuation
    (:func:`solvers.batch.sweep_lines`): each point is warm-started from its
    neighbour, the lines of a block advance together in one NumPy batch.
``capacity``
    :func:`solvers.capacity.capacity` at every point of a grid of the controls other
    than the load α: ``alpha_c``, ``rs_stable``, ``replicon``, ``alpha_rs_q_to_1``,
    ``residual`` and the saddle variables at α_c (entropy-zero criterion).
``local_entropy``
    :func:`solvers.local_entropy.local_entropy` at one distance (option ``distance``)
    around ``reference`` (option: ``"typical"``, ``"margin=K"``, ``"dense:y=Y"``):
    ``local_entropy``, ``alpha0_bound``, ``gap`` (bound − S), ``residual``. Models with
    controls alpha and kappa (``binary-perceptron``).
``local_entropy_shape``
    The shape of the curve over the option ``distances``
    (:func:`solvers.diagrams.curve_shape`): ``monotonic`` (1/0, -1 unknown),
    ``min_slope``, ``argmin_distance``, ``local_entropy_small``, ``gap_small`` and
    ``relative_gap_small`` at the smallest distance, ``n_converged``, ``alpha_c``.
    Both local-entropy quantities skip points with α ≥ α_c(κ) (status
    ``"above_capacity"``: no solutions; option ``skip_unsat=False`` computes them).

Values are NaN exactly where ``status`` is not ``"converged"``; the status says why:
one of :data:`solvers.saddle.STATUSES`, ``"boundary"`` (Newton continued from the
neighbour was driven onto the boundary of a variable's domain and the cold route
failed too: the branch followed along the line ends before this point, e.g. q → 1
beyond the RS q → 1 limit of the binary perceptron), a :class:`CapacityResult`
status for ``capacity``, a :class:`LocalEntropyCurve` status (or ``"above_capacity"``)
for the local-entropy quantities, or ``"pending"`` (an interrupted scan's point not computed yet).

Blocks, parallelism, determinism
--------------------------------
The grid is cut into blocks of whole lines (``block_size`` lines per block; for
quantities without warm starts, blocks of points). A block is the unit of work sent
to an executor (any :class:`concurrent.futures.Executor`: a process pool for
``workers=N``, a ``dask.distributed`` client's ``get_executor()``, ...), so warm
starts survive parallelism. The block layout depends only on the grid and
``block_size``, never on the executor, so serial, process-pool and dask runs give
identical datasets (bit for bit). Every point's solve depends only on its own line
(the generated code gives every batch element the quadrature mesh it has alone); other
block sizes agree up to rounding (~1e-14: sums grouped differently), not bit for bit.

Journal and resume
------------------
With ``out=PATH``, every finished block is appended to ``PATH.journal`` as one line
``<json>\t<crc32>\n``, flushed and ``fsync``-ed before the next one is accepted. The
first line identifies the scan (model fingerprint, quantity, grid, controls, layout,
options). ``resume=True`` reads the journal, ignores a torn or corrupt record (a
``kill -9`` during a write) and truncates it, recomputes only the blocks it lacks,
and assembles the dataset into ``PATH`` (NetCDF, written to a temporary file and
renamed) at the start of a resumed run and at the end. The journal stays beside the
dataset (it is what makes ``resume`` idempotent); delete it when the scan is done.

Dependencies: ``xarray`` and ``h5netcdf`` (extra ``[scan]``), ``tqdm`` for the progress
bar, ``dask[distributed]`` for clusters (extra ``[distributed]``); imported lazily.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
import pathlib
import zlib
from dataclasses import dataclass, field

import numpy as np

from .codegen import CompiledModel, compile_model
from .errors import ParameterError
from .saddle import validate_controls

__all__ = ["scan", "Quantity", "QUANTITIES", "register_quantity", "parse_grid_spec",
           "read_journal", "STATUS_PENDING"]

#: Status of a point that has not been computed (interrupted scan).
STATUS_PENDING = "pending"
JOURNAL_FORMAT = "replica-scan-journal/1"
#: Fill values of not-computed points, per kind of output variable.
_FILL = {"float": np.nan, "int": -1, "flag": -1, "str": STATUS_PENDING}
_DTYPE = {"float": np.float64, "int": np.int64, "flag": np.int8, "str": object}


def _need(module, extra):
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"solvers.scan needs the package {module.split('.')[0]!r}: "
                          f"pip install 'replica-toolkit[{extra}]'") from None


# =========================================================================== quantities
@dataclass(frozen=True)
class Quantity:
    """A quantity that :func:`scan` can map over a grid.

    Attributes
    ----------
    name, description : str
    outputs : callable
        ``outputs(model) -> dict name -> (kind, description)``, kind one of
        "float", "int", "flag" (int8 with -1 = unknown) and "str" (the status).
        Must contain ``"status"``.
    solve : callable
        ``solve(model, controls, options) -> dict name -> array (L, A)``: ``controls``
        maps every control the quantity needs to a float or an (L, A) array (L lines
        of A points, warm-startable along axis 1).
    excluded : callable
        ``excluded(model) -> tuple`` of controls the quantity computes itself
        (e.g. the load for ``capacity``); they may not be scanned or set.
    warm_start : bool
        Whether points along a line warm-start each other (then blocks hold whole
        lines along the ``along`` control).
    options : tuple of str
        Accepted keys of ``options`` (unknown keys raise ``TypeError``).
    check_options : callable or None
        ``check_options(options)``, raising ParameterError on bad values; called by
        :func:`scan` before any file is written (a bad option leaves no journal).
    """

    name: str
    description: str
    outputs: object
    solve: object
    excluded: object = field(default=lambda model: ())
    warm_start: bool = False
    options: tuple = ()
    check_options: object = None


#: name -> Quantity; add new ones with :func:`register_quantity`.
QUANTITIES: dict = {}


def register_quantity(quantity: Quantity, *, replace=False) -> Quantity:
    """Make ``quantity`` available to :func:`scan` and ``replica scan --quantity``.

    The ``solve`` function must be importable by worker processes (a module-level
    function) when the scan runs on a process pool or a cluster.
    """
    if not isinstance(quantity, Quantity):
        raise TypeError(f"expected a Quantity, got {type(quantity).__name__}")
    if quantity.name in QUANTITIES and not replace:
        raise ValueError(f"quantity {quantity.name!r} is already registered")
    QUANTITIES[quantity.name] = quantity
    return quantity


# -- free entropy -------------------------------------------------------------------
def _fe_outputs(m: CompiledModel):
    out = {"free_entropy": ("float", "RS free entropy (per weight, nats) at the saddle"),
           "status": ("str", "saddle status (solvers.saddle.STATUSES, 'boundary', 'pending')"),
           "residual": ("float", "max |dPhi/dx| at the last iterate"),
           "iterations": ("int", "solver iterations"),
           "evaluations": ("int", "evaluations of compiled bundles at this point"),
           "quadrature_error": ("float", "change of value and gradient with doubled nodes")}
    for v in m.variables:
        out[v] = ("float", f"saddle-point value of {v}")
    for o in m.observables:
        out[o] = ("float", f"observable {o} at the saddle")
    ind = next((o for o, r in m.stable_if.items() if r), None)
    out["stable"] = ("flag", f"stability by {ind}: 1 stable, 0 unstable, -1 unknown" if ind
                     else "no stability indicator: -1")
    return out


def _fe_solve(m, controls, options):
    from .batch import sweep_lines
    options = dict(options or {})
    tol = options.pop("tol", None)
    r = sweep_lines(m, controls, tol=tol, options=options)
    ok = r["success"]
    out = {"status": r["status"], "residual": r["residual"], "iterations": r["iterations"],
           "evaluations": r["evaluations"], "quadrature_error": r["quadrature_error"],
           "free_entropy": np.where(ok, r["free_entropy"], np.nan),
           "stable": np.where(ok, r["stable"], -1).astype(np.int8)}
    for i, v in enumerate(m.variables):
        out[v] = np.where(ok, r["x"][..., i], np.nan)
    for o, a in r["observables"].items():
        out[o] = np.where(ok, a, np.nan)
    return out


# -- capacity -----------------------------------------------------------------------
def _cap_excluded(m):
    load = m.free_energy.meta.get("load")
    return (load,) if load else ()


def _cap_outputs(m: CompiledModel):
    out = {"alpha_c": ("float", "RS storage capacity (solvers.capacity)"),
           "status": ("str", "capacity status (CapacityResult.status)"),
           "rs_stable": ("flag", "AT stability at capacity: 1 stable, 0 unstable, -1 unknown"),
           "replicon": ("float", "AT replicon eigenvalue at capacity"),
           "alpha_rs_q_to_1": ("float", "RS q -> 1 value (the capacity for continuous weights)"),
           "residual": ("float", "saddle residual at alpha_c (entropy-zero criterion)")}
    for v in m.variables:
        out[v] = ("float", f"saddle-point value of {v} at alpha_c (entropy-zero criterion)")
    return out


def _cap_solve(m, controls, options):
    from .capacity import capacity
    from .errors import ConvergenceError
    shape = next(np.shape(v) for v in controls.values() if np.ndim(v))
    names = list(_cap_outputs(m))
    out = {k: np.full(shape, _FILL[_cap_outputs(m)[k][0]],
                      dtype=_DTYPE[_cap_outputs(m)[k][0]]) for k in names}
    for ij in np.ndindex(*shape):
        c = {k: float(v[ij]) if np.ndim(v) else float(v) for k, v in controls.items()}
        try:
            r = capacity(m, c, **options)
        except (ArithmeticError, np.linalg.LinAlgError, ConvergenceError) as exc:
            out["status"][ij] = "solver_error"
            out["residual"][ij] = np.nan
            del exc
            continue
        out["status"][ij] = r.status
        f = lambda v: np.nan if v is None else float(v)  # noqa: E731
        if r.success:
            out["alpha_c"][ij] = r.alpha_c
            out["replicon"][ij] = f(r.replicon)
            out["rs_stable"][ij] = -1 if r.rs_stable is None else int(bool(r.rs_stable))
        out["alpha_rs_q_to_1"][ij] = f(r.alpha_rs_q_to_1)
        out["residual"][ij] = f(r.check.get("residual")) if r.check else np.nan
        if r.success and r.saddle:
            for v in m.variables:
                out[v][ij] = f(r.saddle["order_parameters"].get(v, r.saddle["conjugates"].get(v)))
    out["status"] = out["status"].astype(str)
    return out


register_quantity(Quantity(
    "free_entropy", "RS saddle point: free entropy, order parameters, stability",
    _fe_outputs, _fe_solve, warm_start=True,
    options=("tol", "maxiter", "fixed_point_maxiter", "damping")))
register_quantity(Quantity(
    "capacity", "RS storage capacity alpha_c as a function of the other controls",
    _cap_outputs, _cap_solve, excluded=_cap_excluded, warm_start=False, options=("tol",)))


# -- local entropy --------------------------------------------------------------------
def _le_options(options, need):
    """Validate the local-entropy quantities' options; returns (reference, distances)."""
    from .local_entropy import parse_dense, parse_loss, parse_reference
    ref = options.get("reference")
    if ref is None:
        raise ParameterError("reference", "the local-entropy quantities need the option "
                                          "reference ('typical', 'margin=K' or 'dense:y=Y')")
    if parse_dense(ref) is None and parse_loss(ref) is None:
        parse_reference(ref, 0.0)  # raises ParameterError on an unknown kind
    key = "distance" if need == "one" else "distances"
    if key not in options:
        raise ParameterError(key, f"the quantity needs the option {key}")
    d = np.atleast_1d(np.asarray(options[key], dtype=float)).ravel()
    if d.size == 0 or (need == "one" and d.size != 1) or (need == "many" and d.size < 2) \
            or not np.all(np.isfinite(d)) or np.any(d <= 0) or np.any(d >= 0.5):
        raise ParameterError(key, f"{key} must be {'one distance' if need == 'one' else 'at least two distances'} "
                                  f"in (0, 0.5), got {options[key]!r}")
    return ref, [float(v) for v in d]


def _le_outputs(m):
    return {"local_entropy": ("float", "Franz–Parisi / dense local entropy S(d) at the option distance"),
            "status": ("str", "status of that point of the curve (LocalEntropyCurve.status), "
                              "'above_capacity' (alpha > alpha_c(kappa): no solutions, skipped) "
                              "or 'solver_error'"),
            "alpha0_bound": ("float", "the alpha = 0 bound (log-volume at distance d)"),
            "gap": ("float", "alpha0_bound - local_entropy"),
            "residual": ("float", "max |gradient| of the functional at the point")}


def _le_shape_outputs(m):
    return {"monotonic": ("flag", "S(d) non-decreasing over the distances: 1 yes, 0 no, -1 unknown"),
            "status": ("str", "'converged' (every distance converged), the curve's first failure "
                              "status, 'above_capacity' or 'solver_error'"),
            "min_slope": ("float", "smallest finite-difference slope dS/dd (negative: a dip)"),
            "argmin_distance": ("float", "distance of that slope (where the dip is)"),
            "local_entropy_small": ("float", "S at the smallest distance"),
            "gap_small": ("float", "alpha = 0 bound minus S at the smallest distance"),
            "relative_gap_small": ("float", "gap_small / bound at the smallest distance"),
            "n_converged": ("int", "converged points of the curve"),
            "alpha_c": ("float", "capacity alpha_c(kappa) used for the above_capacity test")}


def _le_points(m, controls):
    shape = next((np.shape(v) for v in controls.values() if np.ndim(v)), ())
    for ij in np.ndindex(*shape):
        yield ij, {k: float(v[ij]) if np.ndim(v) else float(v) for k, v in controls.items()}


def _alpha_c_cached(m, cache, kappa):
    from .capacity import capacity
    if kappa not in cache:
        r = capacity(m, {"kappa": kappa})
        cache[kappa] = r.alpha_c if r.success else None
    return cache[kappa]


def _le_model_name(m):
    name = m.name
    if "/" in name:
        raise ParameterError("model", f"local entropy scans take a catalogue RS model, got {name}")
    return name


def _le_solve(m, controls, options):
    from .local_entropy import local_entropy
    ref, (d,) = _le_options(options, "one")
    outs = _le_outputs(m)
    shape = next((np.shape(v) for v in controls.values() if np.ndim(v)), ())
    out = {k: np.full(shape, _FILL[kind], dtype=_DTYPE[kind]) for k, (kind, _) in outs.items()}
    cache = {}
    for ij, c in _le_points(m, controls):
        ac = _alpha_c_cached(m, cache, c["kappa"]) if options.get("skip_unsat", True) else None
        if ac is not None and c["alpha"] >= ac:
            out["status"][ij] = "above_capacity"
            continue
        try:
            r = local_entropy(_le_model_name(m), c, reference=ref, distances=[d])
        except (ArithmeticError, np.linalg.LinAlgError) as exc:
            out["status"][ij] = "solver_error"
            del exc
            continue
        out["status"][ij] = r.status[0]
        out["alpha0_bound"][ij] = r.alpha0_bound[0]
        if r.residual[0] is not None:
            out["residual"][ij] = r.residual[0]
        if r.status[0] == "converged":
            out["local_entropy"][ij] = r.local_entropy[0]
            out["gap"][ij] = r.alpha0_bound[0] - r.local_entropy[0]
    out["status"] = out["status"].astype(str)
    return out


def _le_shape_solve(m, controls, options):
    from .diagrams import curve_shape
    from .local_entropy import local_entropy
    ref, ds = _le_options(options, "many")
    outs = _le_shape_outputs(m)
    shape = next((np.shape(v) for v in controls.values() if np.ndim(v)), ())
    out = {k: np.full(shape, _FILL[kind], dtype=_DTYPE[kind]) for k, (kind, _) in outs.items()}
    cache = {}
    for ij, c in _le_points(m, controls):
        ac = _alpha_c_cached(m, cache, c["kappa"]) if options.get("skip_unsat", True) else None
        if ac is not None:
            out["alpha_c"][ij] = ac
        if ac is not None and c["alpha"] >= ac:
            out["status"][ij] = "above_capacity"
            out["n_converged"][ij] = 0
            continue
        try:
            sh = curve_shape(local_entropy(_le_model_name(m), c, reference=ref, distances=ds))
        except (ArithmeticError, np.linalg.LinAlgError) as exc:
            out["status"][ij] = "solver_error"
            del exc
            continue
        out["status"][ij] = sh.status
        out["n_converged"][ij] = sh.n_converged
        if sh.status == "converged":
            out["monotonic"][ij] = int(sh.monotonic)
            out["min_slope"][ij] = sh.min_slope
            out["argmin_distance"][ij] = sh.argmin_distance
            out["local_entropy_small"][ij] = sh.local_entropy_small
            out["gap_small"][ij] = sh.gap_small
            out["relative_gap_small"][ij] = sh.gap_small / sh.bound_small
    out["status"] = out["status"].astype(str)
    return out


register_quantity(Quantity(
    "local_entropy", "local entropy S(d) at one distance (option distance) around a reference "
                     "(option reference), with the gap to the alpha = 0 bound",
    _le_outputs, _le_solve, warm_start=False, options=("reference", "distance", "skip_unsat"),
    check_options=lambda options: _le_options(options, "one")))
register_quantity(Quantity(
    "local_entropy_shape", "shape of the local-entropy curve over the option distances: "
                           "monotonic flag, smallest slope, gap to the alpha = 0 bound at the "
                           "smallest distance",
    _le_shape_outputs, _le_shape_solve, warm_start=False,
    options=("reference", "distances", "skip_unsat"),
    check_options=lambda options: _le_options(options, "many")))

# =========================================================================== grid & layout
def parse_grid_spec(spec: str):
    """``"alpha=0:1:101"`` -> ("alpha", numpy.linspace(0, 1, 101)) (inclusive ends);
    ``"kappa=0.5"`` gives one point. Raises ParameterError naming the control."""
    if "=" not in spec:
        raise ParameterError("grid", f"--grid expects NAME=START:STOP:NUM, got {spec!r}")
    name, rng = (s.strip() for s in spec.split("=", 1))
    parts = rng.split(":")
    try:
        if len(parts) == 1:
            vals = np.array([float(parts[0])])
        elif len(parts) == 3:
            a, b = float(parts[0]), float(parts[1])
            n = int(parts[2])
            if n < 1:
                raise ValueError
            if not (math.isfinite(a) and math.isfinite(b)):
                raise ParameterError(name, f"grid of {name} must have finite ends, got {rng!r}")
            vals = np.linspace(a, b, n)
        else:
            raise ValueError
    except ValueError:
        raise ParameterError(name, f"grid of {name} must be START:STOP:NUM (NUM >= 1 integer) "
                                   f"or one value, got {rng!r}") from None
    return name, vals


def _normalise_grid(m, quantity, grid, controls):
    if isinstance(grid, str):
        grid = [grid]
    if isinstance(grid, (list, tuple)):
        grid = dict(parse_grid_spec(s) if isinstance(s, str) else s for s in grid)
    if not isinstance(grid, dict) or not grid:
        raise ParameterError("grid", "grid must be a non-empty dict name -> values")
    controls = dict(controls or {})
    excluded = set(quantity.excluded(m))
    out = {}
    for name, vals in grid.items():
        if name in excluded:
            raise ParameterError(name, f"the quantity {quantity.name} computes {name}; do not scan it")
        if name in controls:
            raise ParameterError(name, f"{name} is both scanned and fixed")
        try:
            v = np.asarray(vals, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ParameterError(name, f"grid of {name} must be numbers") from None
        if v.size == 0:
            raise ParameterError(name, f"grid of {name} is empty")
        for x in (v.min(), v.max()) if np.all(np.isfinite(v)) else (v[~np.isfinite(v)][0],):
            validate_controls(m, {name: x}, allow_missing=m.controls)
        out[name] = v
    for name in controls:
        if name in excluded:
            raise ParameterError(name, f"the quantity {quantity.name} computes {name}; do not set it")
    fixed = validate_controls(m, controls, allow_missing=tuple(out) + tuple(excluded))
    return out, fixed


def _layout(grid, along, warm, block_size):
    """Blocks of flat indices into the internal (n_lines, n_along) array."""
    dims = list(grid)
    if warm:
        along = dims[0] if along is None else along
        if along not in grid:
            raise ParameterError("along", f"along={along!r} is not a scanned control {dims}")
        others = [d for d in dims if d != along]
    else:
        if along is not None:
            raise ParameterError("along", "this quantity does not continue along lines")
        along, others = None, dims
    n_lines = int(np.prod([len(grid[d]) for d in others])) if others else 1
    n_along = len(grid[along]) if along else 1
    if block_size is None:
        block_size = max(1, min(32 if warm else 8, math.ceil(n_lines / 8)))
    block_size = int(block_size)
    if block_size < 1:
        raise ParameterError("block_size", f"block_size must be >= 1, got {block_size}")
    blocks = [np.arange(s, min(s + block_size, n_lines)) for s in range(0, n_lines, block_size)]
    return {"dims": dims, "along": along, "others": others, "n_lines": n_lines,
            "n_along": n_along, "block_size": block_size, "blocks": blocks}


def _block_controls(grid, lay, fixed, lines):
    """Controls of the block's lines: (len(lines), n_along) arrays."""
    shape_o = [len(grid[d]) for d in lay["others"]]
    multi = np.unravel_index(lines, shape_o) if lay["others"] else ()
    c = dict(fixed)
    A = lay["n_along"]
    for d, ix in zip(lay["others"], multi):
        c[d] = np.repeat(grid[d][ix][:, None], A, axis=1)
    if lay["along"]:
        c[lay["along"]] = np.broadcast_to(grid[lay["along"]], (len(lines), A)).copy()
    return c


# =========================================================================== workers
_WORKER_MODELS = {}


def _run_block(model, quantity_name, controls, options, block_id):
    """Executed in a worker: solve one block. The compiled model is cached per
    process by fingerprint, so its generated code is loaded once per worker."""
    m = _WORKER_MODELS.setdefault(model.fingerprint, model)
    q = QUANTITIES[quantity_name]
    out = q.solve(m, controls, options)
    return block_id, {k: np.asarray(v).ravel().tolist() for k, v in out.items()}


class _SerialExecutor(cf.Executor):
    """Runs each submitted call at once, in this process."""

    def submit(self, fn, *args, **kwargs):
        f = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            f.set_exception(exc)
        return f


# =========================================================================== journal
def _crc(b: bytes) -> str:
    return "%08x" % (zlib.crc32(b) & 0xFFFFFFFF)


def _record(obj) -> bytes:
    payload = json.dumps(obj, separators=(",", ":")).encode()
    return payload + b"\t" + _crc(payload).encode() + b"\n"


def read_journal(path):
    """Read a scan journal: returns (header, {block_id: data}, valid_bytes, discarded).

    A record is valid when its line is complete (ends in a newline) and its CRC-32
    matches; reading stops at the first invalid record (a torn write after
    ``kill -9``), whose bytes are counted in ``discarded``."""
    raw = pathlib.Path(path).read_bytes()
    header, blocks, pos, discarded = None, {}, 0, 0
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        if nl < 0:
            break
        line = raw[pos:nl]
        payload, _, crc = line.rpartition(b"\t")
        if not payload or _crc(payload).encode() != crc:
            break
        try:
            obj = json.loads(payload)
        except ValueError:
            break
        if header is None:
            header = obj
        else:
            blocks[int(obj["block"])] = obj["data"]
        pos = nl + 1
    discarded = len(raw) - pos
    return header, blocks, pos, discarded


class _Journal:
    def __init__(self, path, header, resume):
        self.path = pathlib.Path(path)
        self.done, self.discarded = {}, 0
        if self.path.exists() and resume:
            old, blocks, valid, self.discarded = read_journal(self.path)
            if old is None:
                valid = 0
            elif old != header:
                diff = sorted(k for k in set(old) | set(header) if old.get(k) != header.get(k))
                raise ParameterError("resume", f"{self.path} belongs to a different scan "
                                               f"(differs in: {', '.join(diff)})")
            self.done = blocks
            with open(self.path, "r+b") as f:  # drop a torn last record
                f.truncate(valid)
                f.flush()
                os.fsync(f.fileno())
            self.f = open(self.path, "ab")
            if old is None:
                self._write(header)
        else:
            if self.path.exists():
                raise ParameterError("out", f"{self.path} exists (an earlier scan's journal): "
                                            "resume it (resume=True / --resume) or delete it")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.f = open(self.path, "wb")
            self._write(header)
            _fsync_dir(self.path.parent)

    def _write(self, obj):
        self.f.write(_record(obj))
        self.f.flush()
        os.fsync(self.f.fileno())

    def add(self, block_id, data):
        self._write({"block": int(block_id), "data": data})

    def close(self):
        self.f.close()


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# =========================================================================== assembly
def _package_version():
    try:
        from importlib.metadata import version
        return version("replica-toolkit")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"


def _assemble(m, quantity, grid, fixed, lay, done, attrs):
    xr = _need("xarray", "scan")
    outs = quantity.outputs(m)
    L, A = lay["n_lines"], lay["n_along"]
    arrays = {k: np.full((L, A), _FILL[kind], dtype=_DTYPE[kind]) for k, (kind, _) in outs.items()}
    for b, data in done.items():
        lines = lay["blocks"][b]
        for k in outs:
            arrays[k][lines] = np.asarray(data[k], dtype=_DTYPE[outs[k][0]]).reshape(len(lines), A)
    other_shape = [len(grid[d]) for d in lay["others"]]
    if lay["along"]:
        order = lay["others"] + [lay["along"]]
        shape = other_shape + [A]
    else:
        order, shape = lay["others"], other_shape
    perm = [order.index(d) for d in lay["dims"]]
    data_vars = {}
    for k, (kind, desc) in outs.items():
        a = arrays[k].reshape(shape).transpose(perm)
        if kind == "str":
            a = a.astype(str)
        data_vars[k] = (lay["dims"], a, {"description": desc})
    coords = {d: (d, grid[d]) for d in lay["dims"]}
    coords.update({k: v for k, v in fixed.items()})
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _write_netcdf(ds, path):
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    ds.to_netcdf(tmp, engine="h5netcdf")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


# =========================================================================== front end
def scan(model, grid, quantity="free_entropy", *, controls=None, out=None, executor=None,
         workers=None, resume=False, progress=True, along=None, block_size=None, options=None):
    r"""Evaluate ``quantity`` over a grid of controls of ``model``.

    Parameters
    ----------
    model : FreeEnergy, CompiledModel or str
        A model or catalogue name (e.g. ``"binary-perceptron"``).
    grid : dict or list of str
        name -> 1-d values, or specs ``"alpha=0:1:101"`` (START:STOP:NUM, inclusive
        like ``numpy.linspace``). Dataset dimensions follow this order.
    quantity : str
        A key of :data:`QUANTITIES` (``"free_entropy"``, ``"capacity"``,
        ``"local_entropy"``, ``"local_entropy_shape"``).
    controls : dict
        The controls that are not scanned (no defaults: every control of the model
        must be scanned or set, except those the quantity computes).
    out : path, optional
        NetCDF file of the result; its journal ``out + ".journal"`` is written as
        blocks finish. Without ``out`` nothing is written and nothing can resume.
    executor : concurrent.futures.Executor, optional
        Where blocks run (e.g. ``distributed.Client(...).get_executor()``).
    workers : int, optional
        Without ``executor``: ``None``/1 runs in this process, N > 1 on a process pool
        of N workers.
    resume : bool
        Continue the scan recorded in ``out``'s journal (finished blocks are not
        recomputed); without it an existing journal is an error.
    progress : bool or callable
        A tqdm progress bar (``tqdm.auto``: terminal or Jupyter), or a callable
        ``progress(points_done, points_total)`` called after each block.
    along : str, optional
        For warm-starting quantities: the control along which lines are continued
        (default: the first grid control).
    block_size : int, optional
        Lines (points for quantities without warm starts) per block; the default
        makes about 8 blocks, at most 32 lines (8 points) each.
    options : dict, optional
        Quantity options (free_entropy: ``tol``, ``maxiter``, ``fixed_point_maxiter``,
        ``damping``; capacity: ``tol``; local_entropy: ``reference``, ``distance``,
        ``skip_unsat``; local_entropy_shape: ``reference``, ``distances``, ``skip_unsat``).

    Returns
    -------
    xarray.Dataset
        Dimensions: the grid controls; scalar coordinates: the fixed controls;
        variables: the quantity's outputs (see :data:`QUANTITIES`) with ``status``;
        attrs: ``model``, ``quantity``, ``fixed_controls`` (JSON), ``along``,
        ``package_version``, ``blocks_total``, ``blocks_resumed``,
        ``blocks_computed``, ``journal_discarded_bytes``, ``complete``.

    Examples
    --------
    >>> ds = scan("binary-perceptron", {"alpha": [0.2, 0.4, 0.6]}, "free_entropy",
    ...           controls={"kappa": 0.0}, progress=False)
    >>> [str(s) for s in ds.status.values]
    ['converged', 'converged', 'converged']
    >>> round(float(ds.q.sel(alpha=0.6)), 6)
    0.39105
    """
    m = compile_model(model) if not isinstance(model, CompiledModel) else model
    if quantity not in QUANTITIES:
        raise ParameterError("quantity", f"unknown quantity {quantity!r}; known: {', '.join(QUANTITIES)}")
    q = QUANTITIES[quantity]
    options = dict(options or {})
    unknown = set(options) - set(q.options)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for quantity {quantity!r}; "
                        f"allowed: {list(q.options)}")
    if q.check_options is not None:
        q.check_options(options)
    grid, fixed = _normalise_grid(m, q, grid, controls)
    lay = _layout(grid, along, q.warm_start, block_size)
    if resume and out is None:
        raise ParameterError("resume", "resume needs out= (the scan's file)")
    if workers is not None and (int(workers) != workers or workers < 1):
        raise ParameterError("workers", f"workers must be a positive integer, got {workers}")
    if executor is not None and workers not in (None, 1):
        raise ParameterError("workers", "give either executor= or workers=, not both")
    _need("xarray", "scan")

    header = {"format": JOURNAL_FORMAT, "model": m.name, "fingerprint": m.fingerprint,
              "quantity": quantity, "grid": {k: v.tolist() for k, v in grid.items()},
              "controls": fixed, "along": lay["along"], "block_size": lay["block_size"],
              "options": options}
    attrs = {"model": m.name, "quantity": quantity, "fixed_controls": json.dumps(fixed),
             "along": lay["along"] or "", "options": json.dumps(options),
             "package_version": _package_version(), "blocks_total": len(lay["blocks"])}
    journal = None
    done = {}
    if out is not None:
        out = pathlib.Path(out)
        if out.exists() and not resume:
            raise ParameterError("out", f"{out} exists; resume it (--resume) or choose another file")
        journal = _Journal(str(out) + ".journal", header, resume)
        done = dict(journal.done)
    resumed = len(done)
    todo = [b for b in range(len(lay["blocks"])) if b not in done]
    total_pts = lay["n_lines"] * lay["n_along"]

    def final_attrs(computed):
        return dict(attrs, blocks_resumed=resumed, blocks_computed=computed,
                    journal_discarded_bytes=journal.discarded if journal else 0,
                    complete=int(len(done) == len(lay["blocks"])))

    if journal is not None and resumed and todo:
        _write_netcdf(_assemble(m, q, grid, fixed, lay, done, final_attrs(0)), out)

    bar, report = None, None
    pts_done = sum(len(lay["blocks"][b]) for b in done) * lay["n_along"]
    if callable(progress):
        report = progress
    elif progress:
        tqdm = _need("tqdm.auto", "scan").tqdm
        bar = tqdm(total=total_pts, initial=pts_done, unit="pt", desc=f"scan {m.name} {quantity}")

    own_pool = None
    if executor is None:
        if workers in (None, 1) or len(todo) <= 1:
            executor = _SerialExecutor()
        else:
            import multiprocessing
            ctx = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
            if os.name == "posix":  # workers fork from a server that imported us once
                ctx.set_forkserver_preload(["solvers.scan"])
            executor = own_pool = cf.ProcessPoolExecutor(max_workers=int(workers), mp_context=ctx)
    computed = 0

    def results():
        """(block, data) as blocks finish. In this process (serial executor) one block
        at a time, so that the journal and the progress advance per block (submitting
        all blocks first would run them all before the first report)."""
        if isinstance(executor, _SerialExecutor):
            for b in todo:
                yield _run_block(m, quantity, _block_controls(grid, lay, fixed, lay["blocks"][b]),
                                 options, b)
            return
        futures = [executor.submit(_run_block, m, quantity,
                                   _block_controls(grid, lay, fixed, lay["blocks"][b]), options, b)
                   for b in todo]
        for fut in cf.as_completed(futures):
            yield fut.result()

    try:
        for b, data in results():
            if journal is not None:
                journal.add(b, data)
            done[b] = data
            computed += 1
            n = len(lay["blocks"][b]) * lay["n_along"]
            pts_done += n
            if bar is not None:
                bar.update(n)
            if report is not None:
                report(pts_done, total_pts)
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
        if journal is not None:
            journal.close()
    ds = _assemble(m, q, grid, fixed, lay, done, final_attrs(computed))
    if out is not None:
        _write_netcdf(ds, out)
    return ds
