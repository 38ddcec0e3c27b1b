"""Benchmarks: the toolkit against the naive route a user writes, in the same run.

``python -m benchmarks [--quick]`` (or ``make bench``) prints a table and writes
``benchmarks/results.json``. Measured:

1. compile time (SymPy derivation + code generation, cold disk cache) and the first
   call, separately;
2. the binary-perceptron capacity at κ ∈ {0, 0.5, 1} (entropy zero): toolkit vs
   :mod:`benchmarks.naive` (nested ``quad`` + damped fixed point + ``brentq``);
3. a 50-point spherical α_c(κ) curve, κ ∈ [−1, 3]: toolkit (``capacity()`` with its
   numerical cross-check, and the vectorised derived limit alone) vs the naive route;
4. the cold CLI call (fresh process) with a warm and a cold compilation cache;
5. the Franz–Parisi local entropy (binary, α = 0.4, κ = 0, typical reference): one
   evaluation of the 3-level nested energetic average, toolkit vs ``scipy.integrate.
   tplquad`` of the same integrand (the naive route's building block), and the time of
   a 51-point curve d ∈ [0.001, 0.3] after compilation (best of CURVE_REPEATS, wall and
   CPU) next to a lower bound for the naive route (51 points x 2 Newton steps x 5
   derivative integrals x one tplquad);
6. tree committees (:mod:`benchmarks.committee`): the K-field average at K = 3 … 99 (one
   evaluation, and the cost at equal standard error 1e-4, K = 3 … 99, with the ratio
   K = 99 / K = 3) vs ``tplquad`` at K = 3, and the K = 3 capacities; the finite-K Franz–Parisi node at
   K = 3, 5, 7 vs plain Monte Carlo at K = 3 (equal standard error), a 10-point K = 3
   curve, and the AT replicon nodes (sign K = 3 … 99, ReLU K = 2 … 4).

Accuracy is reported next to speed: the reference for the spherical curve is
Gardner's formula by ``scipy.integrate.quad`` at 1e-13, for the binary capacity the
toolkit's own value (verified to 1e-6 against an independent computation in tests).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import integrate
from scipy.stats import norm

from . import naive

HERE = pathlib.Path(__file__).resolve().parent


def gardner(k):
    v, _ = integrate.quad(lambda t: (t + k)**2 * norm.pdf(t), -k, np.inf, epsabs=1e-14, epsrel=1e-13)
    return 1 / v


def timed(f, *a, **kw):
    t = time.perf_counter()
    out = f(*a, **kw)
    return out, time.perf_counter() - t


def bench_compile():
    from solvers import codegen
    from solvers.capacity import capacity
    with tempfile.TemporaryDirectory() as d:
        os.environ["REPLICA_CACHE_DIR"] = d
        codegen.clear_memory_cache()
        m, t_build = timed(codegen.compile_model, "binary-perceptron")
        _, t_compile = timed(m.prepare, ("value", "gradient", "jacobian", "observables", "fixed_point"))
        _, t_first = timed(capacity, m, {"kappa": 0.0})
        _, t_second = timed(capacity, m, {"kappa": 0.0})
        codegen.clear_memory_cache()
        m2 = codegen.compile_model("binary-perceptron")
        _, t_disk = timed(m2.prepare, ("value", "gradient", "jacobian", "observables", "fixed_point"))
    os.environ.pop("REPLICA_CACHE_DIR")
    return {"model_build_s": t_build, "compile_cold_s": t_compile,
            "compile_from_disk_cache_s": t_disk, "first_capacity_call_s": t_first,
            "steady_capacity_call_s": t_second}


def bench_binary(kappas):
    from solvers import capacity, compile_model
    m = compile_model("binary-perceptron")
    capacity(m, {"kappa": 0.0})  # after compilation
    rows = []
    t_ours = t_naive = 0.0
    for k in kappas:
        r, t = timed(capacity, m, {"kappa": k})
        nv = naive.naive_binary_capacity(k)
        t_ours += t
        t_naive += nv["seconds"]
        rows.append({"kappa": k, "ours": r.alpha_c, "ours_status": r.status, "ours_s": t,
                     "naive": nv["alpha_c"], "naive_ok": nv["ok"], "naive_s": nv["seconds"],
                     "naive_abs_error": abs(nv["alpha_c"] - r.alpha_c) if nv["ok"] else None,
                     "naive_message": nv["message"]})
    return {"rows": rows, "ours_total_s": t_ours, "naive_total_s": t_naive,
            "speedup": t_naive / t_ours}


def bench_spherical(kappas):
    from solvers import capacity, compile_model, rs_q_to_one_capacity
    m = compile_model("spherical-perceptron")
    capacity(m, {"kappa": 0.0})
    rs_q_to_one_capacity(m, {"kappa": 0.0})
    ref = np.array([gardner(k) for k in kappas])
    res, t_full = timed(lambda: [capacity(m, {"kappa": float(k)}) for k in kappas])
    ours = np.array([r.alpha_c for r in res])
    vec, t_vec = timed(rs_q_to_one_capacity, m, {"kappa": np.asarray(kappas)})
    nv = naive.naive_spherical_curve([float(k) for k in kappas])
    t_naive = sum(r["seconds"] for r in nv)
    nva = np.array([r["alpha_c"] if r["ok"] else np.nan for r in nv])
    fails = [{"kappa": r["kappa"], "message": r["message"]} for r in nv if not r["ok"]]
    nrel = np.abs(nva / ref - 1)
    return {
        "n": len(kappas),
        "ours_full_s": t_full, "ours_vectorised_limit_s": t_vec, "naive_s": t_naive,
        "speedup_full": t_naive / t_full, "speedup_vectorised": t_naive / t_vec,
        "ours_max_rel_error": float(np.max(np.abs(ours / ref - 1))),
        "ours_vectorised_max_rel_error": float(np.max(np.abs(np.asarray(vec) / ref - 1))),
        "naive_max_rel_error": float(np.nanmax(nrel)) if np.any(np.isfinite(nrel)) else None,
        "naive_points_worse_than_1pct": int(np.sum(~(nrel < 0.01))),
        "naive_failures": fails,
    }


def bench_cli():
    cmd = [sys.executable, "-m", "solvers.cli", "capacity", "binary-perceptron", "--set", "kappa=0.5", "--json"]
    out = {}
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, REPLICA_CACHE_DIR=d)
        for label in ("cold_cache", "warm_cache"):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            out[f"cli_{label}_s"] = time.perf_counter() - t
    return out


#: Runs of the 51-point curve (the machine is shared: the minimum is reported with all runs).
CURVE_REPEATS = 3


def bench_local_entropy():
    from solvers.codegen import compile_expression
    from solvers.local_entropy import fp_model, local_entropy
    _, m = fp_model("binary-perceptron")
    fe = m.free_energy
    syms = list(fe.variables) + list(fe.controls)
    q1, t, qr, p, ka, kr = 0.6, 0.3, 0.4, 0.5, 0.1, 0.3
    vals = [q1, t, 1.0, 0.5, 0.5, 1.0, ka, kr, p, qr, 1.0]
    f = compile_expression(fe.term("energetic").expr, syms)
    f(*vals)
    ours, t_ours = timed(f, *vals)
    naive_val, t_naive = timed(naive.naive_fp_energetic, q1, t, qr, p, ka, kr, epsabs=1e-10)
    local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0}, reference="typical",
                  distances=[0.2])  # compile everything first
    walls, cpus = [], []
    for _ in range(CURVE_REPEATS):
        c0 = time.process_time()
        curve, t_curve = timed(local_entropy, "binary-perceptron", {"alpha": 0.4, "kappa": 0.0},
                               reference="typical", distances=np.linspace(0.001, 0.3, 51))
        walls.append(t_curve)
        cpus.append(time.process_time() - c0)
    # the same curve by the naive route: the energetic term depends on (q1, t), so a
    # Newton step needs its 2 first and 3 second derivatives, each a nested triple
    # integral like the one timed above; with >= 2 Newton steps per point, a lower bound
    # (the entropic double integrals and the value not counted)
    naive_curve = 51 * 2 * 5 * t_naive
    return {"energetic_eval_ours_s": t_ours, "energetic_eval_tplquad_s": t_naive,
            "energetic_abs_diff": abs(float(ours) - naive_val), "speedup_per_eval": t_naive / t_ours,
            "curve_51_points_s": min(walls), "curve_51_points_runs_s": walls,
            "curve_51_points_cpu_s": min(cpus), "curve_all_converged": curve.success,
            "curve_naive_lower_bound_s": naive_curve, "curve_speedup_vs_naive_bound": naive_curve / min(walls),
            "target_curve_s": 1.0}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    p.add_argument("--quick", action="store_true", help="10-point spherical curve")
    args = p.parse_args(argv)
    results = {"compile": bench_compile()}
    c = results["compile"]
    print(f"compile (cold): build {c['model_build_s']:.2f}s + codegen {c['compile_cold_s']:.2f}s; "
          f"from disk cache {c['compile_from_disk_cache_s']:.3f}s; first capacity call "
          f"{c['first_capacity_call_s']:.3f}s, then {c['steady_capacity_call_s']:.4f}s", flush=True)
    b = results["binary"] = bench_binary([0.0, 0.5, 1.0])
    print("\nbinary perceptron capacity (entropy zero), after compilation")
    print(f"{'kappa':>6} {'ours':>12} {'ours s':>8} {'naive':>12} {'naive s':>8}  naive |err|")
    for r in b["rows"]:
        err = "FAILED: " + r["naive_message"] if not r["naive_ok"] else f"{r['naive_abs_error']:.1e}"
        print(f"{r['kappa']:>6} {r['ours']:>12.8f} {r['ours_s']:>8.4f} {r['naive']:>12.8f} {r['naive_s']:>8.3f}  {err}")
    print(f"total: ours {b['ours_total_s']:.3f}s, naive {b['naive_total_s']:.2f}s -> {b['speedup']:.0f}x", flush=True)
    ks = np.linspace(-1.0, 3.0, 10 if args.quick else 50)
    s = results["spherical"] = bench_spherical(ks)
    print(f"\nspherical alpha_c(kappa), {s['n']} points in [-1, 3]")
    print(f"  ours, capacity() with numerical check: {s['ours_full_s']:.3f}s  (max rel err {s['ours_max_rel_error']:.1e})"
          f"  -> {s['speedup_full']:.0f}x")
    print(f"  ours, vectorised derived limit:        {s['ours_vectorised_limit_s']*1e3:.2f}ms (max rel err "
          f"{s['ours_vectorised_max_rel_error']:.1e})  -> {s['speedup_vectorised']:.0f}x")
    print(f"  naive: {s['naive_s']:.1f}s, max rel err {s['naive_max_rel_error']}, "
          f"{s['naive_points_worse_than_1pct']} points worse than 1% or failed")
    for f in s["naive_failures"]:
        print(f"    naive failure at kappa={f['kappa']:.3f}: {f['message']}")
    le = results["local_entropy"] = bench_local_entropy()
    print(f"\nFranz–Parisi energetic average, one evaluation: ours {le['energetic_eval_ours_s']*1e3:.1f}ms, "
          f"tplquad {le['energetic_eval_tplquad_s']:.2f}s ({le['speedup_per_eval']:.0f}x, |diff| "
          f"{le['energetic_abs_diff']:.1e}); 51-point S(d) curve {le['curve_51_points_s']:.2f}s "
          f"(best of {CURVE_REPEATS}, CPU {le['curve_51_points_cpu_s']:.2f}s; target 1 s; all converged: "
          f"{le['curve_all_converged']}; naive-route lower bound {le['curve_naive_lower_bound_s']:.0f}s)",
          flush=True)
    from .committee import bench_committee, report as report_committee
    results["committee"] = bench_committee()
    report_committee(results["committee"])
    results["cli"] = bench_cli()
    print(f"\nCLI `replica capacity binary-perceptron --set kappa=0.5`: cold cache "
          f"{results['cli']['cli_cold_cache_s']:.2f}s, warm cache {results['cli']['cli_warm_cache_s']:.2f}s")
    (HERE / "results.json").write_text(json.dumps(results, indent=1, default=float))
    print(f"\nwritten {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
