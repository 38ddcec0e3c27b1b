"""Command line interface ``replica``.

Commands (``--json`` prints one JSON object on stdout)::

    replica models [--json]
    replica solve MODEL --set alpha=0.6 --set kappa=0 [--method auto] [--tol T] [--x0 q=0.3] [--json]
    replica capacity MODEL --set kappa=0.5 [--json]
    replica equations MODEL [--ansatz rs|franz-parisi]
    replica local-entropy MODEL --set alpha=0.6 --set kappa=0 [--set beta_ref=B|inf] \
        --reference typical|margin=K|dense:y=Y|loss=NAME:PARAM \
        --distances START:STOP:NUM [--json]
    replica local-entropy binary-tree-committee --set K=inf --set activation=relu \
        --set alpha=0.5 --reference typical|dense:y=Y|loss=NAME:PARAM [--set beta_ref=B] \
        --distances 0.001:0.3:30 [--json]
    replica continue MODEL [--set kappa=0] --start alpha=0.5 --stop alpha=1.6 [--x0 m=0.3] \
        [--max-folds N] [--max-steps N] [--step DS] [--boundary] [--json]
    replica validate spherical --set kappa=0 --N 50,100,200 --alpha 1.5:2.5:11 --samples 200 --seed 0
    replica validate binary --set kappa=0 --N 15,17,19,21 --alpha 0.3:0.7:5 --samples 100 --seed 0 \
        [--distances | --references typical,margin=0.3,max-margin,densest --radius 2] [--json]
    replica scan MODEL --grid alpha=0:1:101 --grid kappa=0:2:41 --quantity free_entropy \
        --out diagram.nc [--workers N | --scheduler ADDRESS] [--resume] [--set NAME=VALUE]

Bad input (unknown model or parameter, missing parameter, NaN, out-of-domain value)
prints one line ``replica: error: ...`` naming the parameter and exits with code 2.
Exit code 1 means the computation ran but did not converge (the status says why).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"replica: error: {message}\n")
        raise SystemExit(2)


class UsageError(Exception):
    pass


def _parse_sets(items, what="--set", allow_inf=()):
    """NAME=VALUE items -> {name: float}; only the names in ``allow_inf`` may be +inf
    (``beta_ref=inf``: the zero-temperature loss reference)."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"{what} expects NAME=VALUE, got {item!r}")
        name, val = item.split("=", 1)
        name = name.strip()
        try:
            v = float(val)
        except ValueError:
            raise UsageError(f"parameter {name} must be a number, got {val!r}") from None
        if not math.isfinite(v) and not (name in allow_inf and v == math.inf):
            raise UsageError(f"parameter {name} must be finite, got {val!r}")
        if name in out:
            raise UsageError(f"parameter {name} set twice")
        out[name] = v
    return out


def _model(name):
    from replica.catalogue import CATALOGUE, FAMILIES, get_model
    if name in FAMILIES:
        opts = " ".join(f"--set {o}=..." for o in FAMILIES[name][1])
        raise UsageError(f"{name} is a model family: give its options with {opts} "
                         "(available for solve, capacity and equations)")
    if name not in CATALOGUE:
        known = sorted(list(CATALOGUE) + list(FAMILIES))
        raise UsageError(f"unknown model {name!r}; known models: {', '.join(known)}")
    return get_model(name)


def _model_and_sets(name, items):
    """The model and the remaining --set items. For a model family (tree-committee, ...)
    the items naming its options (K, activation) build the model: their values may be
    words (activation=relu) or inf (K=inf); the others stay numeric controls."""
    from replica.catalogue import FAMILIES, get_model
    if name not in FAMILIES:
        return _model(name), items
    opts, rest = {}, []
    for item in items or []:
        key = item.split("=", 1)[0].strip()
        if "=" in item and key in FAMILIES[name][1]:
            if key in opts:
                raise UsageError(f"parameter {key} set twice")
            opts[key] = item.split("=", 1)[1].strip()
        else:
            rest.append(item)
    try:
        return get_model(name, **opts), rest
    except ValueError as exc:  # the message starts with the option's name
        raise UsageError(f"parameter {exc}") from None


def _header(r):
    """First line of a text report: the model and its controls."""
    print(f"{r.model}  {', '.join(f'{k}={_fmt(v)}' for k, v in r.controls.items())}")


def _fmt(v):
    return "nan" if v is None else (f"{v:.12g}" if isinstance(v, float) else str(v))


def cmd_models(args):
    from replica.catalogue import CATALOGUE, get_model
    infos = [get_model(n).describe() for n in sorted(CATALOGUE)]
    from replica.catalogue import FAMILIES
    for n, (build, opts) in sorted(FAMILIES.items()):
        # a family is described through one member (the K = 1 perceptron, or K = inf
        # where K = 1 is not a member), with its options
        try:
            member = build(K=1, activation="sign")
        except ValueError:
            member = build(K="inf", activation="sign")
        d = dict(member.describe(), name=n,
                 description=f"model family: {n} with options {', '.join(opts)}")
        d["options"] = [{"name": o, "description": t} for o, t in opts.items()]
        infos.append(d)
    if args.json:
        print(json.dumps({"models": infos}, indent=2))
        return 0
    for d in infos:
        print(d["name"])
        print("    " + d["description"])
        print("    controls: " + ", ".join(c["name"] for c in d["controls"]))
        print("    order parameters: " + ", ".join(
            c["name"] for c in d["order_parameters"] + d["conjugates"]))
    return 0


def cmd_solve(args):
    fe, items = _model_and_sets(args.model, args.set)
    controls = _parse_sets(items)
    x0 = _parse_sets(args.x0, "--x0") or None
    from solvers.saddle import solve_saddle
    r = solve_saddle(fe, controls, x0=x0, method=args.method, tol=args.tol)
    d = r.to_dict()
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        _header(r)
        print(f"  status        {r.status}: {r.message}")
        for k, v in r.variables.items():
            print(f"  {k:<13} {_fmt(v)}")
        print(f"  free entropy  {_fmt(r.free_entropy)}")
        print(f"  residual      {r.residual:.2e}   iterations {r.iterations}   method {r.method}")
        st = r.stability
        if st["indicator"]:
            print(f"  {st['indicator']:<13} {_fmt(st['value'])}  (RS {'stable' if st['stable'] else 'UNSTABLE'})")
    return 0 if r.success else 1


def cmd_capacity(args):
    fe, items = _model_and_sets(args.model, args.set)
    controls = _parse_sets(items)
    from solvers.capacity import capacity
    from solvers.errors import ParameterError
    try:
        r = capacity(fe, controls)
    except ValueError as exc:  # a model without an RS capacity criterion (e.g. teacher-student)
        if isinstance(exc, ParameterError):
            raise
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(r.to_dict(), indent=2))
    else:
        _header(r)
        print(f"  alpha_c       {_fmt(r.alpha_c)}   ({r.criterion})")
        print(f"  status        {r.status}: {r.message}")
        if r.rs_stable is not None:
            print(f"  RS stability  {'stable' if r.rs_stable else 'UNSTABLE (AT)'}  replicon {_fmt(r.replicon)}")
        if r.criterion == "entropy_zero" and r.alpha_rs_q_to_1 is not None:
            print(f"  RS q->1 value {_fmt(r.alpha_rs_q_to_1)}  (not the capacity: RS bound only)")
    return 0 if r.success else 1


def cmd_at_line(args):
    fe, items = _model_and_sets(args.model, args.set)
    controls = _parse_sets(items)
    from solvers.diagrams import alpha_at
    r = alpha_at(fe, controls)
    if args.json:
        print(json.dumps(r.to_dict(), indent=2))
    else:
        _header(r)
        print(f"  alpha_AT      {_fmt(r.alpha_at)}   (RS replicon = 0; q = {_fmt(r.q_at)})")
        print(f"  status        {r.status}: {r.message}")
    return 0 if r.success else 1


def cmd_equations(args):
    fe, rest = _model_and_sets(args.model, args.set)
    if rest:
        raise UsageError(f"equations takes model options only, got {rest[0]!r}")
    if args.ansatz == "franz-parisi":
        from solvers.local_entropy import fp_model
        options = dict(tuple(t.strip() for t in i.split("=", 1)) for i in (args.set or [])) or None
        fe = fp_model(args.model, options)[1].free_energy
    elif args.ansatz != "rs":
        raise UsageError(f"unknown ansatz {args.ansatz!r} for {args.model}; available: rs, franz-parisi")
    print(fe.latex())
    return 0


def _parse_distances(spec):
    import numpy as np
    parts = spec.split(":")
    if len(parts) != 3:
        raise UsageError(f"--distances expects START:STOP:NUM, got {spec!r}")
    try:
        a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise UsageError(f"--distances expects START:STOP:NUM with numbers, got {spec!r}") from None
    if n < 1 or not (0 < a < 0.5 and 0 < b < 0.5):
        raise UsageError(f"distances must lie in (0, 0.5) and NUM >= 1, got {spec!r}")
    return np.linspace(a, b, n)


def cmd_local_entropy(args):
    # families (binary-tree-committee --set K=inf --set activation=relu): the items naming
    # model options are passed as options=, the others are numeric controls
    _, rest = _model_and_sets(args.model, args.set)
    options = dict(tuple(t.strip() for t in i.split("=", 1))
                   for i in (args.set or []) if i not in rest) or None
    controls = _parse_sets(rest, allow_inf=("beta_ref",))
    ds = _parse_distances(args.distances)
    from solvers.local_entropy import local_entropy
    r = local_entropy(args.model, controls, reference=args.reference, distances=ds,
                      options=options)
    if args.json:
        print(json.dumps(r.to_dict(), indent=2))
    else:
        print(f"{r.model}  {', '.join(f'{k}={_fmt(v)}' for k, v in r.controls.items())}  "
              f"reference {r.reference}")
        extra = (f"; typical distance {r.typical_distance:.6g}" if r.typical_distance is not None
                 else "")
        print(f"  {r.message}{extra}")
        dense = any(v is not None for v in r.external_entropy)
        print(f"  {'d':>10} {'S(d)':>14} {'alpha=0 bound':>14}  "
              + (f"{'Sigma (ext.)':>14}  " if dense else "") + "status")
        for i, dd in enumerate(r.distance):
            sig = f"{_fmt(r.external_entropy[i]):>14}  " if dense else ""
            print(f"  {dd:>10.6g} {_fmt(r.local_entropy[i]):>14} {r.alpha0_bound[i]:>14.8g}  "
                  f"{sig}{r.status[i]}")
    return 0 if r.success else 1


def _parse_list(spec, name, kind):
    """'a,b,c' (or, for floats, 'START:STOP:NUM') -> list; errors name the parameter."""
    import numpy as np
    try:
        if kind is float and ":" in spec:
            a, b, n = spec.split(":")
            if int(n) < 1:
                raise ValueError
            return [float(v) for v in np.linspace(float(a), float(b), int(n))]
        vals = [kind(v) for v in spec.split(",") if v.strip()]
    except ValueError:
        form = "START:STOP:NUM or a comma list of numbers" if kind is float else "a comma list of integers"
        raise UsageError(f"parameter {name} expects {form}, got {spec!r}") from None
    if not vals:
        raise UsageError(f"parameter {name} is empty")
    return vals


def _validate_kappas(items, multi):
    kap = None
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        name, val = (t.strip() for t in item.split("=", 1))
        if name != "kappa":
            raise UsageError(f"unknown parameter {name!r} for validate; its control is kappa")
        if kap is not None:
            raise UsageError("parameter kappa set twice")
        kap = _parse_list(val, "kappa", float)
        if not all(math.isfinite(k) for k in kap):
            raise UsageError(f"parameter kappa must be finite, got {val!r}")
        if not multi and len(kap) != 1:
            raise UsageError("parameter kappa takes one value for validate binary")
    if kap is None:
        raise UsageError("missing parameter kappa (set it with --set kappa=VALUE)")
    return kap


def _row(vals, fmt="{:>10.4g}"):
    return " ".join("{:>10}".format("-") if v is None else fmt.format(v) for v in vals)


def cmd_validate(args):
    from solvers import validation as V
    Ns = _parse_list(args.N, "N", int)
    alphas = _parse_list(args.alpha, "alpha", float)
    if args.experiment == "spherical":
        kap = _validate_kappas(args.set, multi=True)
        for flag in ("references", "radius"):
            if getattr(args, flag) is not None:
                raise UsageError(f"parameter {flag} applies to validate binary only")
        if args.distances:
            raise UsageError("parameter distances applies to validate binary only")
        from solvers.constants import VALIDATION_LP_CHECKS
        r = V.separability(kap, Ns, alphas, samples=args.samples, seed=args.seed,
                           patterns=args.patterns or "gaussian",
                           lp_checks=VALIDATION_LP_CHECKS if args.lp_checks is None else args.lp_checks)
        if args.json:
            print(json.dumps(r.to_dict(), indent=2))
            return 0 if r.success else 1
        print(f"spherical perceptron, {r.patterns} patterns, {r.samples} instances per point, "
              f"seed {r.seed}: {r.status}: {r.message}")
        for i, k in enumerate(r.kappa):
            print(f"kappa={k:g}  replica alpha_c={_fmt(r.alpha_c[i])} ({r.alpha_c_status[i]})")
            for j, n in enumerate(r.N):
                h = r.alpha_half[i][j]
                print(f"  N={n}  alpha_half={'not bracketed by the grid' if h is None else _fmt(h)}")
                print("    alpha_eff  " + _row(r.alpha_eff[j]))
                print("    P_sep      " + _row(r.probability[i][j]))
                print("    stderr     " + _row(r.stderr[i][j]))
                if r.cover is not None and k == 0:
                    print("    Cover      " + _row(r.cover[j]))
        return 0 if r.success else 1
    kap = _validate_kappas(args.set, multi=False)[0]
    for flag in ("patterns", "lp_checks"):
        if getattr(args, flag) is not None:
            raise UsageError(f"parameter {flag} applies to validate spherical only")
    refs = []
    if args.references is not None:
        refs = [t.strip() for t in args.references.split(",") if t.strip()]
    elif args.distances:
        refs = ["typical", "max-margin"]
    r = V.enumerate_binary(kap, Ns, alphas, samples=args.samples, seed=args.seed,
                           references=refs, dense_radius=args.radius)
    if args.json:
        print(json.dumps(r.to_dict(), indent=2))
        return 0 if r.success else 1
    print(f"binary perceptron, kappa={r.kappa:g}, +-1 patterns, {r.samples} instances per point, "
          f"seed {r.seed}: {r.status}: {r.message}")
    for j, n in enumerate(r.N):
        print(f"  N={n}")
        print("    alpha_eff     " + _row(r.alpha_eff[j]))
        print("    zero_fraction " + _row(r.zero_fraction[j]))
        print("    entropy       " + _row(r.entropy[j]))
        print("    stderr        " + _row(r.entropy_stderr[j]))
        print("    RS entropy    " + _row(r.rs_entropy[j]))
        print("    annealed      " + _row(r.annealed[j]))
        print("    ann. exact    " + _row(r.annealed_exact[j]))
    for a, fit in zip(r.alpha, r.finite_size):
        print(f"  alpha={a:g}: entropy - RS = a + b/N: a={_fmt(fit['intercept'])} "
              f"+- {_fmt(fit['intercept_stderr'])} ({fit['n_sizes']} sizes)")
    for ref, rows in (r.distances or {}).items():
        for j, n in enumerate(r.N):
            for a, c in zip(r.alpha_eff[j], rows[j]):
                if c is None:
                    print(f"  reference {ref}, N={n}, alpha_eff={a:.4g}: no reference found")
                    continue
                kk = [k for k in c["k"] if 0 < k <= n // 2]
                print(f"  reference {ref}, N={n}, alpha_eff={a:.4g}, {c['n_references']} references, "
                      f"mean margin {_fmt(c['reference_margin'])}")
                print("    d             " + _row([c["distance"][k] for k in kk]))
                print("    (1/N)ln<N_k>  " + _row([c["annealed"][k] for k in kk]))
                print("    <(1/N)lnN_k>  " + _row([c["quenched"][k] for k in kk]))
                print("    P(N_k = 0)    " + _row([c["zero_fraction"][k] for k in kk]))
    return 0 if r.success else 1


def _parse_one(item, flag):
    d = _parse_sets([item] if item else [], flag)
    if len(d) != 1:
        raise UsageError(f"{flag} expects NAME=VALUE, got {item!r}")
    return next(iter(d.items()))


def cmd_continue(args):
    fe = _model(args.model)
    controls = _parse_sets(args.set)
    pname, pstart = _parse_one(args.start, "--start")
    sname, pstop = _parse_one(args.stop, "--stop")
    if sname != pname:
        raise UsageError(f"--stop must vary the same parameter as --start ({pname}), got {sname}")
    if pname in controls:
        raise UsageError(f"parameter {pname} is set by --start; do not also --set it")
    x0 = _parse_sets(args.x0, "--x0") or None
    for name, val, flag in ((("max_folds", args.max_folds, "--max-folds"),
                             ("max_steps", args.max_steps, "--max-steps"))):
        if val is not None and val < (1 if name == "max_folds" else 0):
            raise UsageError(f"parameter {name} must be a non-negative integer, got {val}")
    if args.step is not None and not (math.isfinite(args.step) and args.step > 0):
        raise UsageError(f"parameter step must be positive, got {args.step}")
    boundary = fe.meta.get("boundary_free_entropy")
    if args.boundary and not boundary:
        raise UsageError(f"--boundary: model {args.model} declares no boundary state")
    from solvers.continuation import boundary_branch, locate_transition, run
    b = run(fe, {**controls, pname: pstart}, pname, stop=pstop, x0=x0, max_folds=args.max_folds,
            max_steps=args.max_steps, step=args.step)
    tr = None
    if args.boundary and len(b) >= 2:
        fixed = {k: [v] for k, v in boundary.items() if k not in ("free_entropy", "meaning")}
        lo, hi = min(b.values), max(b.values)
        bb = boundary_branch(b.compiled, pname, [lo, hi], free_entropy=float(boundary["free_entropy"]),
                             variables={k: float(v[0]) for k, v in fixed.items()},
                             controls=b.controls, message=boundary.get("meaning", ""))
        tr = locate_transition(b, bb)
    if args.json:
        d = b.to_dict()
        d["transition"] = tr.to_dict() if tr is not None else None
        print(json.dumps(d, indent=2))
    else:
        print(f"{b.model}  {', '.join(f'{k}={_fmt(v)}' for k, v in b.controls.items())}  "
              f"continuation in {pname} from {pstart:g} towards {pstop:g}")
        print(f"  status        {b.status}: {b.message}  ({len(b)} points, {b.n_attempts} attempts)")
        names = list(b.variables)
        print("  " + " ".join(f"{h:>14}" for h in [pname] + names + ["free entropy", "stable"]))
        for i in range(len(b)):
            row = [b.values[i]] + [b.variables[n][i] for n in names] + [b.free_entropy[i]]
            print("  " + " ".join(f"{v:>14.8g}" for v in row) + f" {str(b.stable[i]):>14}")
        for f in b.folds:
            print(f"  fold ({f.status}) at {pname} = {f.value:.12g}: "
                  + ", ".join(f"{k}={v:.10g}" for k, v in f.variables.items())
                  + f", free entropy {f.free_entropy:.10g}, residual {f.residual:.1e}")
        if tr is not None:
            if tr.status == "no_crossing":
                print(f"  transition    none: {tr.message}")
            else:
                print(f"  transition ({tr.status}) at {pname} = {tr.value:.12g} "
                      f"(error {_fmt(tr.error)}): free entropies {tr.free_entropy_a:.3e} / "
                      f"{tr.free_entropy_b:.3e}")
    return 0 if b.success else 1


def build_parser():
    p = _Parser(prog="replica", description="Replica calculations for perceptrons: "
                "solve saddle points, capacities, print equations.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    m = sub.add_parser("models", help="list the model catalogue")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)
    s = sub.add_parser("solve", help="solve the saddle-point equations")
    s.add_argument("model")
    s.add_argument("--set", action="append", metavar="NAME=VALUE", help="control parameter")
    s.add_argument("--x0", action="append", metavar="NAME=VALUE", help="starting point")
    s.add_argument("--method", default="auto", choices=["auto", "fixed-point", "newton", "hybr"])
    s.add_argument("--tol", type=float, default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_solve)
    c = sub.add_parser("capacity", help="RS storage capacity alpha_c")
    c.add_argument("model")
    c.add_argument("--set", action="append", metavar="NAME=VALUE")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_capacity)
    at = sub.add_parser("at-line", help="de Almeida-Thouless load alpha_AT where the RS replicon vanishes")
    at.add_argument("model")
    at.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="control (every one but alpha) or family option (K=3, activation=sign)")
    at.add_argument("--json", action="store_true")
    at.set_defaults(func=cmd_at_line)
    e = sub.add_parser("equations", help="print the free entropy and saddle equations as LaTeX")
    e.add_argument("model")
    e.add_argument("--ansatz", default="rs")
    e.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="model option of a family (e.g. K=3, activation=sign)")
    e.set_defaults(func=cmd_equations)
    le = sub.add_parser("local-entropy", help="Franz-Parisi local entropy S(d) around references")
    le.add_argument("model")
    le.add_argument("--set", action="append", metavar="NAME=VALUE")
    le.add_argument("--reference", required=True,
                    help="typical | margin=K | dense:y=Y | loss=ce:GAMMA or loss=hinge:K "
                         "(with --set beta_ref=B, the inverse temperature of the loss's Gibbs "
                         "measure; --set beta_ref=inf: its minimisers, the zero-temperature limit); "
                         "K = inf tree committees: typical, dense:y=Y, dense:y=*, loss=... with a finite "
                         "beta_ref")
    le.add_argument("--distances", required=True, metavar="START:STOP:NUM")
    le.add_argument("--json", action="store_true")
    le.set_defaults(func=cmd_local_entropy)
    co = sub.add_parser("continue", help="follow a branch of saddle points in one control "
                        "(pseudo-arclength), locate folds and first-order transitions")
    co.add_argument("model")
    co.add_argument("--set", action="append", metavar="NAME=VALUE", help="the other controls")
    co.add_argument("--start", required=True, metavar="NAME=VALUE", help="varied control, first value")
    co.add_argument("--stop", required=True, metavar="NAME=VALUE", help="value to reach")
    co.add_argument("--x0", action="append", metavar="NAME=VALUE", help="starting guess")
    co.add_argument("--max-folds", type=int, default=None, help="stop after locating N folds")
    co.add_argument("--max-steps", type=int, default=None, help="budget of continuation attempts")
    co.add_argument("--step", type=float, default=None, help="initial arclength step")
    co.add_argument("--boundary", action="store_true",
                    help="locate the free-entropy crossing with the model's boundary state "
                         "(teacher-student: perfect generalisation)")
    co.add_argument("--json", action="store_true")
    co.set_defaults(func=cmd_continue)
    v = sub.add_parser("validate", help="finite-N experiments against the replica predictions")
    v.add_argument("experiment", choices=["spherical", "binary"])
    v.add_argument("--set", action="append", metavar="kappa=VALUE",
                   help="margin (spherical: a comma list or START:STOP:NUM is allowed)")
    v.add_argument("--N", required=True, help="sizes, comma list (binary: odd, <= 29)")
    v.add_argument("--alpha", required=True, metavar="START:STOP:NUM|A,B,...", help="loads P/N")
    v.add_argument("--samples", required=True, type=int, help="instances per (N, alpha)")
    v.add_argument("--seed", required=True, type=int)
    v.add_argument("--patterns", default=None, choices=["gaussian", "binary"],
                   help="spherical only, default gaussian (binary always uses +-1 patterns)")
    v.add_argument("--lp-checks", type=int, default=None,
                   help="spherical: instances per point also decided by the kappa=0 LP")
    v.add_argument("--distances", action="store_true",
                   help="binary: Franz-Parisi counts around typical and max-margin references")
    v.add_argument("--references", default=None,
                   help="binary: comma list of typical, margin=K, max-margin, densest")
    v.add_argument("--radius", type=int, default=None, help="binary: Hamming radius of 'densest'")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_validate)
    from solvers.scan_cli import add_scan_parser
    add_scan_parser(sub)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    from solvers.errors import ParameterError
    try:
        return args.func(args)
    except (UsageError, ParameterError) as exc:
        sys.stderr.write(f"replica: error: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
