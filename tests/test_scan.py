"""Scans (solvers.scan, solvers.batch): values against the point-by-point solver and the
literature, statuses on failing points, NetCDF round trip, executors (process pool and a
real local dask cluster) equal to the serial run, resume after kill -9, the CLI."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

xr = pytest.importorskip("xarray")

from solvers import compile_model, solve_saddle  # noqa: E402
from solvers.capacity import rs_q_to_one_capacity  # noqa: E402
from solvers.errors import ParameterError  # noqa: E402
from solvers.scan import (QUANTITIES, Quantity, STATUS_PENDING, read_journal,  # noqa: E402
                          register_quantity, scan)

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMALL = {"alpha": np.linspace(0.0, 0.8, 9), "kappa": np.linspace(0.0, 1.0, 4)}


@pytest.fixture(scope="module")
def small_serial(binary):
    return scan(binary, SMALL, "free_entropy", progress=False, block_size=1)


def test_free_entropy_matches_solve_saddle_and_the_q_to_1_limit(binary):
    """Every point well inside the RS branch equals solve_saddle's cold-started solution;
    no point beyond the RS q -> 1 limit converges (there is no RS saddle there:
    alpha_{q->1}(kappa) = (2/pi) / int_{-kappa}^inf Dt (t+kappa)^2, Gardner & Derrida
    1988; Nakajima 2025 proves no solution exists beyond it for kappa >= 0)."""
    grid = {"alpha": np.linspace(0.05, 1.45, 15), "kappa": np.array([-0.5, 0.0, 0.5])}
    ds = scan(binary, grid, "free_entropy", progress=False)
    assert ds.free_entropy.dims == ("alpha", "kappa")
    a_q1 = {k: rs_q_to_one_capacity(binary, {"kappa": k}) for k in grid["kappa"]}
    checked = 0
    for a in grid["alpha"]:
        for k in grid["kappa"]:
            p = ds.sel(alpha=a, kappa=k)
            st = str(p.status.values)
            if a < a_q1[k] - 0.15:
                # inside the branch (0.15 = two grid steps away from its end, where the
                # continuation may lose the steepening branch; see sweep_lines)
                assert st == "converged", (a, k, st)
                r = solve_saddle(binary, {"alpha": float(a), "kappa": float(k)})
                assert r.success
                # both converge to |grad| < 1e-10 with an O(1)-conditioned Hessian, so
                # the saddles agree to ~1e-9; 1e-8 leaves room for the conditioning
                assert abs(float(p.q) - r.order_parameters["q"]) < 1e-8
                assert abs(float(p.qhat) - r.conjugates["qhat"]) < 1e-8 * max(1, r.conjugates["qhat"])
                assert abs(float(p.free_entropy) - r.free_entropy) < 1e-9
                assert float(p.residual) < 1e-10
                checked += 1
            elif a > a_q1[k]:
                assert st != "converged", (a, k)
                assert np.isnan(float(p.free_entropy)) and np.isnan(float(p.q))
    assert checked >= 15
    # literature anchor through the scan itself: q(alpha=0.6, kappa=0) = 0.391049501
    # (tests/test_cli.py, solve_saddle), and s(alpha=0) = ln 2 exactly
    assert abs(float(ds.sel(alpha=0.65, kappa=0.0).q) - solve_saddle(
        binary, {"alpha": 0.65, "kappa": 0.0}).order_parameters["q"]) < 1e-8
    assert ds.attrs["model"] == "binary-perceptron" and ds.attrs["quantity"] == "free_entropy"
    assert "replicon" in ds and "stable" in ds and "evaluations" in ds


def test_alpha_zero_is_ln2(binary):
    ds = scan(binary, {"alpha": [0.0, 0.01]}, controls={"kappa": 0.3}, progress=False)
    assert str(ds.status.values[0]) == "converged"
    assert abs(float(ds.free_entropy[0]) - np.log(2)) < 1e-12


def test_capacity_quantity_literature_values(spherical, binary):
    """alpha_c through the scan: spherical, Gardner 1988 eq. (33) (4.770099, 2, 0.961205,
    /work/scratch/literature.md recomputed at 1e-6, exact at kappa=0), RS unstable for
    kappa < 0 (de Almeida-Thouless); binary, Krauth-Mezard entropy zero 0.833079 and
    0.455665 (independent quad computation, tests/test_physics.py)."""
    ds = scan(spherical, {"kappa": [-0.5, 0.0, 0.5]}, "capacity", progress=False)
    assert list(ds.status.values) == ["converged"] * 3
    assert np.allclose(ds.alpha_c.values, [4.770099, 2.0, 0.961205], rtol=0, atol=2e-6)
    assert int(ds.rs_stable.sel(kappa=-0.5)) == 0 and int(ds.rs_stable.sel(kappa=0.5)) == 1
    db = scan(binary, {"kappa": [0.0, 0.5]}, "capacity", progress=False)
    assert np.allclose(db.alpha_c.values, [0.833079, 0.455665], rtol=0, atol=2e-6)
    assert np.allclose(db.alpha_rs_q_to_1.values[0], 4 / np.pi, atol=1e-10)
    with pytest.raises(ParameterError) as e:
        scan(binary, {"alpha": [0.5]}, "capacity", controls={"kappa": 0.0}, progress=False)
    assert e.value.parameter == "alpha"


def test_statuses_on_failing_points(binary):
    """A forced tiny budget: nothing converges, every point says why, values are NaN
    only where the status is not converged, and no point is left pending."""
    ds = scan(binary, {"alpha": [0.3, 0.6], "kappa": [0.0, 0.5]}, progress=False,
              options={"maxiter": 1, "fixed_point_maxiter": 1})
    st = ds.status.values
    assert STATUS_PENDING not in st and "converged" not in st
    assert set(st.ravel()) <= {"max_iterations", "line_search_failed", "boundary"}
    assert np.all(np.isnan(ds.free_entropy.values)) and np.all(ds.residual.values > 1e-10)
    assert np.all(ds.stable.values == -1)


@pytest.mark.parametrize("kwargs,param", [
    ({"grid": {"alpha": [-0.1, 0.5]}, "controls": {"kappa": 0.0}}, "alpha"),
    ({"grid": {"alpha": [0.1, np.nan]}, "controls": {"kappa": 0.0}}, "alpha"),
    ({"grid": {"alpha": [0.1]}}, "kappa"),
    ({"grid": {"alpha": [0.1], "K": [1.0]}, "controls": {"kappa": 0.0}}, "K"),
    ({"grid": {"alpha": [0.1]}, "controls": {"kappa": 0.0}, "quantity": "nope"}, "quantity"),
    ({"grid": ["alpha=0:1:x"], "controls": {"kappa": 0.0}}, "alpha"),
])
def test_bad_input_names_the_parameter(binary, kwargs, param):
    kwargs = dict(kwargs)
    grid = kwargs.pop("grid")
    with pytest.raises(ParameterError) as e:
        scan(binary, grid, kwargs.pop("quantity", "free_entropy"), progress=False, **kwargs)
    assert e.value.parameter == param


def test_netcdf_round_trip_and_no_silent_overwrite(binary, tmp_path, small_serial):
    out = tmp_path / "d.nc"
    ds = scan(binary, SMALL, "free_entropy", out=out, progress=False, block_size=1)
    xr.testing.assert_identical(ds, small_serial)
    back = xr.load_dataset(out, engine="h5netcdf")
    xr.testing.assert_identical(back, ds)
    assert back.attrs["complete"] == 1 and json.loads(back.attrs["fixed_controls"]) == {}
    with pytest.raises(ParameterError) as e:
        scan(binary, SMALL, "free_entropy", out=out, progress=False, block_size=1)
    assert e.value.parameter == "out"
    # resuming a finished scan computes nothing and returns the same data
    again = scan(binary, SMALL, "free_entropy", out=out, resume=True, progress=False, block_size=1)
    assert again.attrs["blocks_computed"] == 0 and again.attrs["blocks_resumed"] == 4
    xr.testing.assert_equal(again, ds)
    # a journal of another scan is refused
    with pytest.raises(ParameterError) as e:
        scan(binary, {**SMALL, "alpha": SMALL["alpha"][:-1]}, "free_entropy", out=out,
             resume=True, progress=False, block_size=1)
    assert e.value.parameter == "resume"


def test_blocks_do_not_change_results(binary, small_serial):
    """Each point depends only on its own line: other block sizes give the same saddles,
    up to rounding (a batch's quadrature sums are grouped differently; measured 1e-14)."""
    ds = scan(binary, SMALL, "free_entropy", progress=False, block_size=4)
    assert np.array_equal(ds.status.values, small_serial.status.values)
    assert np.array_equal(ds.iterations.values, small_serial.iterations.values)
    for v in ("free_entropy", "q", "qhat", "replicon"):
        np.testing.assert_allclose(ds[v].values, small_serial[v].values, rtol=1e-12, atol=1e-14)


def test_process_pool_equals_serial(binary, small_serial):
    ds = scan(binary, SMALL, "free_entropy", progress=False, block_size=1, workers=2)
    xr.testing.assert_identical(ds, small_serial)


def test_dask_local_cluster_equals_serial(binary, small_serial, tmp_path):
    """A real dask.distributed cluster: two worker processes on this machine."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ds = scan(binary, SMALL, "free_entropy", progress=False, block_size=1,
                  executor=client.get_executor())
        pids = set(client.run(os.getpid).values())
        # the CLI on the same cluster: replica scan --scheduler ADDRESS
        from solvers.cli import main
        out = tmp_path / "dask.nc"
        assert main(["scan", "binary-perceptron", "--grid", "alpha=0:0.8:9", "--grid",
                     "kappa=0:1:4", "--out", str(out), "--scheduler", cluster.scheduler_address,
                     "--block-size", "1", "--no-progress"]) == 1   # some points beyond q->1
    assert len(pids) == 2 and os.getpid() not in pids
    xr.testing.assert_identical(ds, small_serial)
    xr.testing.assert_equal(xr.load_dataset(out, engine="h5netcdf"), small_serial)


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    from solvers.scan import scan
    def slow(done, total):
        time.sleep(0.5)   # make room for the kill between blocks
    scan("binary-perceptron", {"alpha": np.linspace(0, 0.8, 9), "kappa": np.linspace(0, 1, 4)},
         "free_entropy", out=sys.argv[1], progress=slow, block_size=1)
""")


def test_resume_after_kill_9_repeats_nothing(binary, tmp_path, small_serial):
    out = tmp_path / "killed.nc"
    journal = pathlib.Path(str(out) + ".journal")
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as ferr:
        proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(out)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=ferr)
        try:
            deadline = time.time() + 240
            while time.time() < deadline:
                if journal.exists() and journal.read_bytes().count(b"\n") >= 3:  # header + 2
                    break
                if proc.poll() is not None:
                    pytest.fail(f"scan ended before the kill: {err.read_text()[-2000:]}")
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == -signal.SIGKILL
    _, before, valid, _ = read_journal(journal)
    assert 2 <= len(before) < 4
    # a record torn by the kill (half a line, no newline) must be ignored
    with open(journal, "ab") as f:
        f.write(b'{"block":3,"data":{"status":["conv')
    calls = []
    ds = scan(binary, SMALL, "free_entropy", out=out, resume=True, block_size=1,
              progress=lambda done, total: calls.append(done))
    assert ds.attrs["blocks_resumed"] == len(before)
    assert ds.attrs["blocks_computed"] == 4 - len(before) == len(calls)
    assert ds.attrs["journal_discarded_bytes"] > 0
    # the first callback already counts the resumed points: nothing finished is redone
    assert calls[0] == (len(before) + 1) * 9
    _, after, _, discarded = read_journal(journal)
    assert discarded == 0 and sorted(after) == [0, 1, 2, 3]
    raw = journal.read_bytes().split(b"\n")
    assert sum(line.startswith(b'{"block"') for line in raw) == 4   # no block written twice
    for b in before:                                                 # finished ones untouched
        assert after[b] == before[b]
    xr.testing.assert_equal(ds, small_serial)
    xr.testing.assert_equal(xr.load_dataset(out, engine="h5netcdf"), small_serial)


def _alpha_times(m, controls, options):
    a = controls["alpha"] * controls["kappa"]
    return {"value": a, "status": np.full(a.shape, "converged")}


def test_register_a_quantity(binary):
    q = Quantity("test-product", "alpha * kappa", lambda m: {
        "value": ("float", "alpha*kappa"), "status": ("str", "status")}, _alpha_times)
    register_quantity(q, replace=True)
    try:
        with pytest.raises(ValueError):
            register_quantity(q)
        ds = scan(binary, {"alpha": [1.0, 2.0], "kappa": [0.5, 3.0]}, "test-product", progress=False)
        assert np.array_equal(ds.value.values, [[0.5, 3.0], [1.0, 6.0]])
    finally:
        QUANTITIES.pop("test-product")


_SOLVED = []


def _count_blocks(m, controls, options):
    _SOLVED.append(np.size(controls["alpha"]))
    a = np.asarray(controls["alpha"], float) + 0 * np.asarray(controls["kappa"], float)
    return {"value": a, "status": np.full(a.shape, "converged")}


def test_serial_progress_advances_per_block(binary):
    """Serial mode: the progress callback fires after each block, before the next one is
    computed (it used to fire only after all blocks had run)."""
    q = Quantity("test-blocks", "alpha", lambda m: {
        "value": ("float", "alpha"), "status": ("str", "status")}, _count_blocks,
        warm_start=False)
    register_quantity(q, replace=True)
    calls = []
    _SOLVED.clear()
    try:
        scan(binary, {"alpha": [0.1, 0.2, 0.3], "kappa": [0.0, 1.0]}, "test-blocks",
             block_size=2, progress=lambda done, total: calls.append((done, total, sum(_SOLVED))))
    finally:
        QUANTITIES.pop("test-blocks")
    assert [c[1] for c in calls] == [6] * len(calls) and len(calls) == 3
    # points done == points solved so far at every call, increasing
    assert [c[0] for c in calls] == [c[2] for c in calls] == [2, 4, 6]


def test_cli_scan_quantity_options(tmp_path, capsys):
    """--option passes the local-entropy quantities' options (reference, distance); a
    point above alpha_c(kappa) is skipped with its status; bad options name 'option'."""
    from solvers.cli import main
    out = tmp_path / "le.nc"
    assert main(["scan", "binary-perceptron", "--grid", "alpha=0.5:0.9:2", "--set", "kappa=0",
                 "--quantity", "local_entropy", "--option", "reference=dense:y=20",
                 "--option", "distance=0.03", "--out", str(out), "--no-progress", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["status_counts"] == {"converged": 1, "above_capacity": 1}
    ds = xr.load_dataset(out, engine="h5netcdf")
    s, b = ds.local_entropy.values, ds.alpha0_bound.values
    assert 0 < s[0] < b[0] and np.isnan(s[1])
    # the same point through the API
    api = scan("binary-perceptron", {"alpha": [0.5]}, "local_entropy", controls={"kappa": 0.0},
               progress=False, options={"reference": "dense:y=20", "distance": 0.03})
    assert float(api.local_entropy.values[0]) == pytest.approx(float(s[0]), abs=1e-10)
    # a list of distances for the shape quantity
    out2 = tmp_path / "sh.nc"
    assert main(["scan", "binary-perceptron", "--grid", "alpha=0.5:0.5:1", "--set", "kappa=0",
                 "--quantity", "local_entropy_shape", "--option", "reference=dense:y=20",
                 "--option", "distances=0.01,0.02,0.03", "--out", str(out2), "--no-progress"]) == 0
    capsys.readouterr()
    assert int(xr.load_dataset(out2, engine="h5netcdf").monotonic.values[0]) == 1
    for opts, word in [(["--option", "distanse=0.03", "--option", "reference=typical"], "option"),
                       (["--option", "reference"], "option"),
                       (["--option", "reference=dense:y=20"], "distance"),
                       (["--option", "reference=dense:y=20", "--option", "distance=0.7"], "distance")]:
        assert main(["scan", "binary-perceptron", "--grid", "alpha=0.5:0.5:1", "--set", "kappa=0",
                     "--quantity", "local_entropy", *opts, "--out", str(tmp_path / "e.nc"),
                     "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("replica: error:") and word in err[0], err


def test_cli_scan_exit_codes(tmp_path, capsys):
    from solvers.cli import main
    ok = tmp_path / "ok.nc"
    assert main(["scan", "binary-perceptron", "--grid", "alpha=0.2:0.6:3", "--set", "kappa=0",
                 "--out", str(ok), "--no-progress", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status_counts"] == {"converged": 3} and d["all_converged"]
    assert xr.load_dataset(ok, engine="h5netcdf").sizes["alpha"] == 3
    # beyond the RS q -> 1 limit 4/pi = 1.273 at kappa = 0: statuses in the file, exit 1
    bad = tmp_path / "bad.nc"
    assert main(["scan", "binary-perceptron", "--grid", "alpha=1.0:1.4:3", "--set", "kappa=0",
                 "--out", str(bad), "--no-progress"]) == 1
    st = xr.load_dataset(bad, engine="h5netcdf").status.values
    assert st[0] == "converged" and st[-1] != "converged"
    for args, word in [(["--grid", "alpha=-1:1:3", "--set", "kappa=0"], "alpha"),
                       (["--grid", "alpha=0:1:x", "--set", "kappa=0"], "alpha"),
                       (["--grid", "alpha=0:1:3"], "kappa"),
                       (["--grid", "alpha=0:1:3", "--set", "kappa=0", "--quantity", "x"], "quantity")]:
        assert main(["scan", "binary-perceptron", *args, "--out", str(tmp_path / "e.nc"),
                     "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("replica: error:") and word in err[0]


def test_cli_entry_point_subprocess(tmp_path):
    out = tmp_path / "cap.nc"
    p = subprocess.run([sys.executable, "-m", "solvers.cli", "scan", "spherical-perceptron",
                        "--grid", "kappa=0:1:3", "--quantity", "capacity", "--out", str(out),
                        "--json"], capture_output=True, text=True, timeout=300,
                       cwd=ROOT)
    assert p.returncode == 0, p.stderr
    ds = xr.load_dataset(out, engine="h5netcdf")
    assert abs(float(ds.alpha_c.sel(kappa=0.0)) - 2.0) < 1e-10   # Gardner 1988: exactly 2


@pytest.mark.slow
def test_binary_phase_diagram_100x100(binary):
    """The benchmark grid: the converged region is the RS branch, bounded by the
    q -> 1 line (Gardner-Derrida), up to the steep end of the branch."""
    grid = {"alpha": np.linspace(0, 1, 100), "kappa": np.linspace(0, 2, 100)}
    ds = scan(binary, grid, "free_entropy", progress=False, workers=2)
    a_q1 = rs_q_to_one_capacity(binary, {"kappa": grid["kappa"]})
    conv = ds.status.values == "converged"
    A = ds.alpha.values[:, None]
    assert not np.any(conv & (A > a_q1[None, :]))
    assert np.all(conv[A[:, 0] < 0.8 * a_q1.min()])
    # the end of the converged region along alpha follows alpha_{q->1}(kappa): at most
    # 5 grid steps (0.05) short of it (measured: up to 4.3 near kappa = 0.1; the branch
    # steepens, qhat ~ (1-q)^-2, and continuation loses its last points; they lie at
    # negative entropy, beyond the Krauth-Mezard capacity)
    last = np.array([ds.alpha.values[conv[:, j]].max() for j in range(len(grid["kappa"]))])
    gap = np.minimum(a_q1, 1.0) - last
    assert np.all(gap >= 0) and np.all(gap <= 5 * (grid["alpha"][1] - grid["alpha"][0]))
    # the capacity line itself lies inside the converged region, where the entropy
    # changes sign (Krauth-Mezard 0.833079 at kappa = 0)
    s0 = ds.free_entropy.sel(kappa=0.0)
    assert float(s0.sel(alpha=0.8282828, method="nearest")) > 0 > float(
        s0.sel(alpha=0.8383838, method="nearest"))


def test_phase_capacity_figure_quick(tmp_path):
    """The capacity diagram from scan datasets: spherical alpha_c (Gardner 1988 eq. (33):
    2 at kappa = 0, 4.770099 at -0.5), RS unstable exactly for kappa < 0, and the AT
    line at alpha_AT(-1) = 7.873560, alpha_AT(-0.5) = 3.950701 (q_AT = 0.701860,
    0.895923), computed independently in /work/scratch/literature.md from
    alpha E[(d^2 ln H)^2] = 1 with q/(1-q) = alpha E[G^2] (Gauss-Hermite, 201-801 nodes;
    6 digits quoted, so 2e-6)."""
    from figures import FIGURES, phase_capacity
    assert FIGURES["phase_capacity"] == "figures.phase_capacity"
    out = phase_capacity.main(quick=True, outdir=tmp_path)
    assert out["ok"]
    assert out["png"].stat().st_size > 10_000 and out["pdf"].stat().st_size > 5_000
    sph = xr.load_dataset(out["data_spherical"], engine="h5netcdf")
    assert abs(float(sph.alpha_c.sel(kappa=0.0)) - 2.0) < 1e-10
    assert abs(float(sph.alpha_c.sel(kappa=-0.5)) - 4.770099) < 2e-6
    k = sph.kappa.values
    assert np.all(sph.rs_stable.values[k < 0] == 0) and np.all(sph.rs_stable.values[k > 0] == 1)
    at = xr.load_dataset(out["data_at"], engine="h5netcdf")
    assert list(at.status.values) == ["converged", "converged"]
    assert abs(float(at.alpha_at.sel(kappa=-1.0)) - 7.873560) < 2e-6
    assert abs(float(at.alpha_at.sel(kappa=-0.5)) - 3.950701) < 2e-6
    assert abs(float(at.q_at.sel(kappa=-1.0)) - 0.701860) < 2e-6
    assert abs(float(at.q_at.sel(kappa=-0.5)) - 0.895923) < 2e-6
    # the AT line lies below the RS capacity: RS breaks before alpha_c for kappa < 0
    assert float(at.alpha_at.sel(kappa=-0.5)) < float(sph.alpha_c.sel(kappa=-0.5))


def test_cli_scan_model_families(tmp_path, capsys):
    """``replica scan`` takes the tree-committee families with their options among the
    --set items, as solve and capacity do: the K = 3 sign committee's RS saddle over α
    equals solve_saddle (QMC committee average: the model's own quadrature alarm 1e-3
    applies, not the 1e-7 of the deterministic rules), and the capacity over the output
    margin κ is the staircase of replica.committee (κ = 0 and 0.3: the majority,
    0.920608; κ = 0.6: unanimity, 0.833079/3 = 0.277693)."""
    from replica.catalogue import get_model
    from solvers.cli import main
    out = tmp_path / "k3.nc"
    assert main(["scan", "binary-tree-committee", "--set", "K=3", "--set", "activation=sign",
                 "--grid", "alpha=0.2:0.6:3", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    ds = xr.load_dataset(out, engine="h5netcdf")
    assert ds.attrs["model"] == "binary-tree-committee[K=3,activation=sign]"
    fe = get_model("binary-tree-committee", K=3, activation="sign")
    for a in (0.2, 0.6):
        r = solve_saddle(fe, {"alpha": a})
        assert abs(float(ds.q.sel(alpha=a)) - r.order_parameters["q"]) < 1e-8
    out2 = tmp_path / "kappa.nc"
    assert main(["scan", "binary-tree-committee-margin", "--set", "K=3", "--set", "activation=sign",
                 "--grid", "kappa=0:0.6:3", "--quantity", "capacity", "--out", str(out2),
                 "--no-progress"]) == 0
    capsys.readouterr()
    ac = xr.load_dataset(out2, engine="h5netcdf").alpha_c.values
    assert abs(ac[0] - 0.920608) < 1e-5 and ac[1] == ac[0] and abs(ac[2] - 0.833079 / 3) < 1e-5
    assert main(["scan", "binary-tree-committee", "--set", "K=3", "--set", "activation=tanh",
                 "--grid", "alpha=0.2:0.6:3", "--out", str(tmp_path / "e.nc"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "activation" in err[0]
