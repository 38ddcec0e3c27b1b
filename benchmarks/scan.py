"""Scan benchmarks: ``python -m benchmarks.scan [--quick]``.

Measured on the binary-perceptron RS free entropy over a 100 x 100 grid
(alpha in [0, 1], kappa in [0, 2]; about 58 % of it lies beyond the RS q -> 1 limit,
where no saddle exists and every point must fail with a status):

1. ``scan()`` serial, and on a process pool of 2 workers (target: < 60 s on 2 cores);
2. the speed-up on a real local ``dask.distributed`` cluster, 1 vs 2 worker processes
   (and the CPU time of the serial run: on a machine shared with other jobs the
   wall-clock speed-up says little, CPU-seconds / 2 is the 2-core estimate);
3. the cost per point against the naive route: a point-by-point loop calling
   ``solve_saddle`` (cold start, method "auto") on a random sample of grid points,
   extrapolated to the grid; the values of the two routes are compared on the points
   both converge.

Results are written to ``benchmarks/scan_results.json`` (``python -m benchmarks``
rewrites ``results.json`` whole, so the scan numbers live beside it), with the
load average of the machine at the start and at the end (the timings are wall-clock
on a machine that may be shared).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def _grid(n):
    return {"alpha": np.linspace(0.0, 1.0, n), "kappa": np.linspace(0.0, 2.0, n)}


def _timed_scan(m, grid, **kw):
    from solvers.scan import scan
    t, c = time.perf_counter(), time.process_time()
    ds = scan(m, grid, "free_entropy", progress=False, **kw)
    _timed_scan.cpu = time.process_time() - c   # this process only (serial runs)
    return ds, time.perf_counter() - t


def _counts(ds):
    return dict(collections.Counter(str(s) for s in ds.status.values.ravel()))


def bench(n=100, sample=100, seed=0):
    import distributed

    from solvers import compile_model, solve_saddle
    m = compile_model("binary-perceptron")
    m.prepare(("value", "gradient", "jacobian", "observables", "fixed_point"))
    grid = _grid(n)
    out = {"grid": {k: [float(v[0]), float(v[-1]), len(v)] for k, v in grid.items()},
           "loadavg_start": os.getloadavg()}
    ds, t_serial = _timed_scan(m, grid)
    out.update(serial_s=t_serial, serial_cpu_s=_timed_scan.cpu, status_counts=_counts(ds),
               evaluations_per_point=float(ds.evaluations.mean()),
               serial_s_per_point=t_serial / ds.status.size)
    print(f"serial: {t_serial:.1f} s wall, {out['serial_cpu_s']:.1f} s CPU for {ds.status.size} "
          f"points  {out['status_counts']}", flush=True)
    ds2, t_pool = _timed_scan(m, grid, workers=2)
    out.update(pool2_s=t_pool, pool2_identical=bool(ds2.equals(ds)), target_s=60.0)
    print(f"process pool, 2 workers: {t_pool:.1f} s (identical to serial: {out['pool2_identical']})",
          flush=True)
    for w in (1, 2):
        with distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cl, distributed.Client(cl) as c:
            dsd, t = _timed_scan(m, grid, executor=c.get_executor(), block_size=max(1, n // 8))
        out[f"dask{w}_s"] = t
        print(f"dask LocalCluster, {w} worker(s): {t:.1f} s", flush=True)
    out["dask_speedup_2_vs_1"] = out["dask1_s"] / out["dask2_s"]
    # point-by-point loop on a random sample
    rng = np.random.default_rng(seed)
    ia, ik = rng.integers(0, n, sample), rng.integers(0, n, sample)
    t, c = time.perf_counter(), time.process_time()
    naive = [solve_saddle(m, {"alpha": float(grid["alpha"][i]), "kappa": float(grid["kappa"][k])})
             for i, k in zip(ia, ik)]
    t_loop = time.perf_counter() - t
    out["loop_cpu_s_per_point"] = (time.process_time() - c) / sample
    both = [(r, ds.isel(alpha=i, kappa=k)) for r, i, k in zip(naive, ia, ik)
            if r.success and str(ds.status.values[i, k]) == "converged"]
    diff = max((abs(r.free_entropy - float(p.free_entropy)) for r, p in both), default=None)
    out.update(loop_sample=sample, loop_s=t_loop, loop_s_per_point=t_loop / sample,
               loop_extrapolated_grid_s=t_loop / sample * ds.status.size,
               loop_converged=sum(r.success for r in naive),
               scan_converged_on_sample=int(sum(str(ds.status.values[i, k]) == "converged"
                                                for i, k in zip(ia, ik))),
               loop_vs_scan_max_abs_diff=diff,
               speedup_per_point_serial=(t_loop / sample) / out["serial_s_per_point"])
    print(f"point-by-point solve_saddle loop: {t_loop / sample * 1e3:.1f} ms/point "
          f"(scan {out['serial_s_per_point'] * 1e3:.2f} ms/point serial, "
          f"{out['speedup_per_point_serial']:.0f}x); converged {out['loop_converged']} vs scan "
          f"{out['scan_converged_on_sample']} of {sample}; max |diff| {diff}", flush=True)
    out["loadavg_end"] = os.getloadavg()
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.scan")
    p.add_argument("--quick", action="store_true", help="30 x 30 grid, 20 loop points")
    args = p.parse_args(argv)
    res = bench(30, 20) if args.quick else bench()
    path = HERE / ("scan_results.json" if not args.quick else "scan_results_quick.json")
    path.write_text(json.dumps(res, indent=1, default=float))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
