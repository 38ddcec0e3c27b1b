"""Hygiene: the dependency direction replica <- solvers <- figures, and the public API."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _imports(pkg):
    out = set()
    for f in (ROOT / pkg).glob("*.py"):
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out |= {(f.name, a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.add((f.name, node.module.split(".")[0]))
    return out


@pytest.mark.parametrize("pkg,forbidden", [
    ("replica", {"numpy", "scipy", "mpmath", "matplotlib", "solvers", "figures"}),
    ("solvers", {"matplotlib", "figures"}),
])
def test_layering(pkg, forbidden):
    bad = {(f, m) for f, m in _imports(pkg) if m in forbidden}
    assert not bad, f"{pkg} imports {bad}"


def test_public_api_pinned():
    import replica
    assert sorted(replica.__all__) == sorted([
        "ANSATZE", "replica_symmetric", "q_to_one_capacity", "q_to_one_coefficients",
        "E", "GaussianAverage", "averages_in", "correlated", "integrate_by_parts",
        "CATALOGUE", "get_model", "model_names",
        "CHANNELS", "PRIORS", "BinaryPrior", "Channel", "ErrorCountingChannel",
        "MarginChannel", "Prior", "SphericalPrior",
        "FixedPointUnavailable", "FreeEnergy", "Observable", "Term", "franz_parisi",
        "GH", "Gauss", "H", "LogCosh2", "LogH",
        "Conjugate", "Control", "GaussVar", "OrderParameter", "Parameter",
        "SignChannel", "teacher_student_rs",
        "LogMeanExp", "TiltedAverage", "LOSSES", "LossChannel", "replicated_local_entropy"])
    for name in replica.__all__:
        assert hasattr(replica, name)
    import solvers
    assert sorted(solvers.__all__) == sorted([
        "CapacityResult", "capacity", "rs_q_to_one_capacity",
        "CompiledModel", "compile_expression", "compile_model",
        "ConvergenceError", "ParameterError", "LocalEntropyCurve", "local_entropy",
        "METHODS", "STATUSES", "SaddleResult", "solve_saddle", "validate_controls",
        "Branch", "ContinuationPoint", "Fold", "Transition", "boundary_branch", "continue_branch",
        "locate_transition",
        "BinaryEnumerationResult", "SeparabilityResult", "cover_probability", "enumerate_binary",
        "separability",
        "QUANTITIES", "Quantity", "register_quantity", "scan"])
    for name in solvers.__all__:
        assert hasattr(solvers, name)
