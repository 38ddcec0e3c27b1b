"""API reference: the ``Examples`` in the docstrings of the public modules run and hold.

pytest collects only ``tests/`` (``testpaths``), so the doctests are run from here, one
test per module, with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``. The modules are listed
explicitly: a new public module joins the API reference by being added here.
"""

import doctest
import importlib

import pytest

MODULES = [
    "replica.ansatz", "replica.asymptotics", "replica.averages", "replica.catalogue",
    "replica.components", "replica.franz_parisi", "replica.free_energy", "replica.functions",
    "replica.symbols", "replica.prox", "replica.minimisers", "replica.committee_fp",
    "solvers", "solvers.capacity", "solvers.diagrams", "solvers.errors", "solvers.local_entropy",
    "solvers.saddle", "solvers.validation",
]

#: Modules that must carry at least one example (the main public functions).
WITH_EXAMPLES = {"replica.ansatz", "replica.asymptotics", "replica.catalogue", "replica.components",
                 "replica.franz_parisi", "replica.free_energy", "replica.functions",
                 "replica.prox", "replica.minimisers",
                 "solvers", "solvers.capacity", "solvers.local_entropy", "solvers.saddle",
                 "solvers.validation"}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    if name in WITH_EXAMPLES:
        assert result.attempted > 0, f"{name} lost its examples"


@pytest.mark.parametrize("qualname", [
    "solvers.solve_saddle", "solvers.capacity", "solvers.local_entropy",
    "replica.replica_symmetric", "replica.get_model", "replica.model_names",
    "replica.franz_parisi", "replica.FreeEnergy.saddle_equations", "replica.FreeEnergy.latex",
    "replica.Channel", "replica.H", "replica.LogH", "replica.FreeEnergy",
    "replica.q_to_one_capacity",
])
def test_main_functions_have_examples(qualname):
    mod, *attrs = qualname.split(".")
    obj = importlib.import_module(mod)
    for a in attrs:
        obj = getattr(obj, a)
    assert ">>> " in (obj.__doc__ or ""), f"{qualname} has no runnable example"
