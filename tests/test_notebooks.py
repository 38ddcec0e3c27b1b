"""Tier 6 (hygiene): the tutorial notebooks run top to bottom and assert their numbers.

Each notebook in ``notebooks/`` is executed in a fresh kernel with nbclient (the kernel
inherits ``REPLICA_CACHE_DIR`` from tests/conftest.py, so compiled code is shared with
the rest of the suite) and headless (``REPLICA_NOTEBOOK_HEADLESS=1``: no widgets). A
failing ``assert`` cell fails the test with the cell's traceback. The notebooks are
stored without outputs; a test checks it.
"""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: Seconds per cell before the run is abandoned (a cold cache compiles the Franz–Parisi
#: model inside a cell: about a minute on a loaded 2-core machine).
CELL_TIMEOUT = 600

#: Notebooks that take more than ~60 s (three Franz–Parisi curves continued down to small
#: distances): run by ``make test-slow``.
SLOW = {"03_wide_flat_minima.ipynb"}


def _params():
    for path in NOTEBOOKS:
        marks = [pytest.mark.slow] if path.name in SLOW else []
        yield pytest.param(path, marks=marks, id=path.stem)


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_quickstart.ipynb", "02_define_your_own_model.ipynb",
            "03_wide_flat_minima.ipynb", "04_phase_diagram_scan.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_stored_without_outputs(path):
    import nbformat
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has stored outputs"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"
    # every notebook checks what it shows
    assert any("assert " in c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_runs(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("REPLICA_NOTEBOOK_HEADLESS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert os.environ.get("REPLICA_CACHE_DIR"), "tests/conftest.py sets a private cache"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()   # raises CellExecutionError (with the traceback) on a failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
