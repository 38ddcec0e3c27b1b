"""The ``replica scan`` subcommand (registered by :func:`solvers.cli.build_parser`).

::

    replica scan MODEL --grid alpha=0:1:101 --grid kappa=0:2:41 --quantity free_entropy \\
        --out diagram.nc [--workers N | --scheduler ADDRESS] [--resume] [--set NAME=VALUE] \\
        [--along NAME] [--block-size N] [--option NAME=VALUE] [--no-progress] [--json]

    replica scan binary-perceptron --grid alpha=0.5:0.8:4 --grid kappa=0:0.2:3 \
        --quantity local_entropy --option reference=dense:y=20 --option distance=0.01 \
        --out le.nc

``--option`` passes a quantity option (repeatable; the allowed names are the
quantity's, e.g. ``reference``, ``distance``, ``distances``, ``skip_unsat`` for the
local-entropy quantities): a number, a comma-separated list of numbers
(``distances=0.01,0.02,0.05``), ``true``/``false``, or a string
(``reference=margin=0.3``: only the first ``=`` separates the name).

Exit codes: 0 every point converged, 1 some did not (their statuses are in the file),
2 bad input (one line naming the parameter).
"""

from __future__ import annotations

import collections
import json
import time

from .errors import ParameterError

__all__ = ["add_scan_parser", "cmd_scan"]


def _sets(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ParameterError("set", f"--set expects NAME=VALUE, got {item!r}")
        name, val = (s.strip() for s in item.split("=", 1))
        try:
            out[name] = float(val)
        except ValueError:
            raise ParameterError(name, f"parameter {name} must be a number, got {val!r}") from None
        if out[name] != out[name] or out[name] in (float("inf"), float("-inf")):
            raise ParameterError(name, f"parameter {name} must be finite, got {val!r}")
    return out


def _option_value(text):
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    parts = [v.strip() for v in t.split(",")]
    try:
        nums = [float(v) for v in parts]
    except ValueError:
        return t
    return nums[0] if len(nums) == 1 else nums


def _options(items, quantity):
    """--option NAME=VALUE items -> the quantity's options dict (names checked)."""
    from .scan import QUANTITIES
    allowed = QUANTITIES[quantity].options
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ParameterError("option", f"--option expects NAME=VALUE, got {item!r}")
        name, val = item.split("=", 1)
        name = name.strip()
        if name not in allowed:
            raise ParameterError("option", f"unknown option {name!r} for quantity {quantity!r}; "
                                           f"allowed: {', '.join(allowed)}")
        if name in out:
            raise ParameterError("option", f"--option {name} given twice")
        out[name] = _option_value(val)
    return out


def cmd_scan(args):
    from replica.catalogue import CATALOGUE, FAMILIES

    from .scan import QUANTITIES, _need, parse_grid_spec, scan
    model, sets = args.model, args.set
    if args.model in FAMILIES:
        # a model family (tree committees): its options (K, activation) among the --set
        # items build the model, as for solve and capacity; the rest are controls
        from .cli import _model_and_sets
        model, sets = _model_and_sets(args.model, args.set)
    elif args.model not in CATALOGUE:
        raise ParameterError("model", f"unknown model {args.model!r}; known models: "
                                      f"{', '.join(sorted(list(CATALOGUE) + list(FAMILIES)))}")
    if args.quantity not in QUANTITIES:
        raise ParameterError("quantity", f"unknown quantity {args.quantity!r}; known: "
                                         f"{', '.join(QUANTITIES)}")
    grid = {}
    for spec in args.grid:
        name, vals = parse_grid_spec(spec)
        if name in grid:
            raise ParameterError(name, f"--grid {name} given twice")
        grid[name] = vals
    controls = _sets(sets)
    if args.workers is not None and args.workers < 1:
        raise ParameterError("workers", f"--workers must be >= 1, got {args.workers}")
    options = _options(args.option, args.quantity)
    if args.tol is not None:
        if "tol" in options:
            raise ParameterError("tol", "give the tolerance once (--tol or --option tol=...)")
        options["tol"] = args.tol
    executor, client = None, None
    if args.scheduler:
        distributed = _need("distributed", "distributed")
        try:
            client = distributed.Client(args.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError("scheduler", f"cannot connect to the dask scheduler "
                                              f"{args.scheduler!r}: {exc}") from None
        executor = client.get_executor()
    t0 = time.perf_counter()
    try:
        ds = scan(model, grid, args.quantity, controls=controls, out=args.out,
                  executor=executor, workers=args.workers, resume=args.resume,
                  progress=not args.no_progress, along=args.along, block_size=args.block_size,
                  options=options)
    finally:
        if client is not None:
            client.close()
    counts = collections.Counter(str(s) for s in ds["status"].values.ravel())
    ok = set(counts) == {"converged"}
    summary = {"out": str(args.out), "model": args.model, "quantity": args.quantity,
               "dims": {d: int(ds.sizes[d]) for d in ds["status"].dims},
               "points": int(ds["status"].size), "status_counts": dict(counts),
               "all_converged": ok, "blocks_total": int(ds.attrs["blocks_total"]),
               "blocks_resumed": int(ds.attrs["blocks_resumed"]),
               "blocks_computed": int(ds.attrs["blocks_computed"]),
               "seconds": time.perf_counter() - t0}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        dims = " x ".join(f"{d}[{n}]" for d, n in summary["dims"].items())
        print(f"{args.model} {args.quantity} over {dims}: {summary['points']} points -> {args.out}")
        for s, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {s:<22} {n}")
        print(f"  blocks: {summary['blocks_computed']} computed, {summary['blocks_resumed']} "
              f"resumed, of {summary['blocks_total']}; {summary['seconds']:.1f} s")
    return 0 if ok else 1


def add_scan_parser(sub):
    sc = sub.add_parser("scan", help="map a quantity over a grid of controls (NetCDF, resumable)")
    sc.add_argument("model")
    sc.add_argument("--grid", action="append", required=True, metavar="NAME=START:STOP:NUM",
                    help="scanned control, NUM points from START to STOP inclusive (repeatable)")
    sc.add_argument("--quantity", default="free_entropy",
                    help="free_entropy (RS saddle; default), capacity, local_entropy or "
                         "local_entropy_shape (these two need --option reference=... and "
                         "--option distance=... / distances=...)")
    sc.add_argument("--set", action="append", metavar="NAME=VALUE", help="fixed control")
    sc.add_argument("--out", required=True, metavar="FILE.nc",
                    help="NetCDF output; FILE.nc.journal records finished blocks")
    par = sc.add_mutually_exclusive_group()
    par.add_argument("--workers", type=int, default=None, help="process-pool workers (default 1)")
    par.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="dask.distributed scheduler, e.g. tcp://127.0.0.1:8786")
    sc.add_argument("--resume", action="store_true", help="continue an interrupted scan")
    sc.add_argument("--along", default=None, help="continuation axis (default: first --grid)")
    sc.add_argument("--block-size", type=int, default=None, help="lines per block")
    sc.add_argument("--tol", type=float, default=None, help="saddle tolerance")
    sc.add_argument("--option", action="append", metavar="NAME=VALUE",
                    help="quantity option (repeatable), e.g. reference=dense:y=20, "
                         "distance=0.01, distances=0.01,0.02,0.05")
    sc.add_argument("--no-progress", action="store_true", help="no progress bar")
    sc.add_argument("--json", action="store_true")
    sc.set_defaults(func=cmd_scan)
    return sc
