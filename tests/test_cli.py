"""The CLI contract: commands, JSON fields, exit codes, one-line errors."""

import json
import subprocess
import sys

import pytest


def run(*args):
    p = subprocess.run([sys.executable, "-m", "solvers.cli", *args], capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def test_models_lists_the_catalogue():
    code, out, _ = run("models", "--json")
    assert code == 0
    names = {m["name"] for m in json.loads(out)["models"]}
    assert {"binary-perceptron", "spherical-perceptron"} <= names


def test_solve_json_fields():
    code, out, _ = run("solve", "binary-perceptron", "--set", "alpha=0.6", "--set", "kappa=0", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("status", "free_entropy", "order_parameters", "residual", "iterations"):
        assert key in d
    assert d["status"] == "converged"
    assert abs(d["order_parameters"]["q"] - 0.391049501) < 1e-8
    assert d["residual"] < 1e-10


@pytest.mark.parametrize("model,kappa,alpha_c", [
    ("spherical-perceptron", "0.5", 0.9612050528),   # Gardner 1988
    ("binary-perceptron", "0.5", 0.4556646),         # entropy zero, see test_physics
])
def test_capacity_json_fields(model, kappa, alpha_c):
    code, out, _ = run("capacity", model, "--set", f"kappa={kappa}", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("alpha_c", "status", "criterion", "rs_stable"):
        assert key in d
    assert abs(d["alpha_c"] - alpha_c) < 1e-6
    assert d["status"] == "converged"


def test_equations_prints_latex():
    code, out, _ = run("equations", "binary-perceptron")
    assert code == 0
    assert r"\hat q" in out and r"\tanh" in out


@pytest.mark.parametrize("args,word", [
    (["solve", "binary-perceptron", "--set", "alpha=-1", "--set", "kappa=0"], "alpha"),
    (["solve", "binary-perceptron", "--set", "alpha=nan", "--set", "kappa=0"], "alpha"),
    (["solve", "binary-perceptron", "--set", "alpha=0.5"], "kappa"),
    (["solve", "binary-perceptron", "--set", "alpha=0.5", "--set", "kappa=0", "--set", "K=3"], "K"),
    (["solve", "no-such-model", "--set", "alpha=0.5"], "no-such-model"),
    (["capacity", "binary-perceptron", "--set", "kappa=abc"], "kappa"),
    (["capacity", "binary-perceptron", "--set", "kappa=0", "--set", "alpha=1"], "alpha"),
    (["solve", "binary-perceptron", "--set", "alpha"], "NAME=VALUE"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    code, out, err = run(*args)
    assert code == 2
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and word in lines[0]
