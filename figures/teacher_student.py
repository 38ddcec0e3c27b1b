r"""Figure: the first-order transition of the teacher–student binary perceptron.

Gibbs (= Bayes-optimal) learning of a ±1 sign teacher by a ±1 student, RS on the
Nishimori line (catalogue ``teacher-student-binary-perceptron``; Györgyi, PRA 41, 7097
(1990); Gardner & Derrida, J. Phys. A 22, 1983 (1989)). The poor-generalisation branch
is traced by pseudo-arclength continuation in α through its spinodal (a fold, located
by the minimally augmented system) and back along the unstable branch; the perfect
state (m = 1, entropy 0) is a boundary state. Left: generalisation error
ε_g = arccos(m)/π; right: the version-space entropy. The transition is where the poor
branch's entropy crosses 0 (α ≈ 1.2447), the spinodal where the branch folds (α ≈ 1.4926).

Run: ``python -m figures teacher_student`` (data: figures/output/teacher_student.json).
"""

from __future__ import annotations

import math

import numpy as np

from solvers import compile_model
from solvers.continuation import boundary_branch, locate_transition, run

from .plotting import new_figure, output_dir, save

__all__ = ["compute", "main", "plot_teacher_student"]

MODEL = "teacher-student-binary-perceptron"


def compute(quick=False):
    m = compile_model(MODEL)
    start = 0.2 if quick else 0.05
    b = run(m, {"alpha": start}, "alpha", stop=2.0, x0={"m": 0.05, "mhat": 0.05},
            max_steps=80 if quick else 2000)
    perfect = boundary_branch(m, "alpha", [0.0, 2.0], free_entropy=0.0, variables={"m": 1.0},
                              message="perfect generalisation: the teacher alone (m = 1)")
    tr = locate_transition(b, perfect)
    return {"model": MODEL, "branch": b.to_dict(), "transition": tr.to_dict(),
            "perfect_state": {"m": 1.0, "free_entropy": 0.0, "generalisation_error": 0.0}}


def plot_teacher_student(data: dict, axes):
    """Draw ε_g(α) and the entropy s(α) from the saved data (reads only)."""
    b = data["branch"]
    a = list(b["values"])
    m = list(b["variables"]["m"])
    s = list(b["free_entropy"])
    stable = [v is True for v in b["stable"]]
    for f in reversed(b["folds"]):  # the fold point joins the stable and unstable parts
        k = f["after_index"] + 1
        a[k:k] = [f["value"]] * 2
        m[k:k] = [f["variables"]["m"]] * 2
        s[k:k] = [f["free_entropy"]] * 2
        stable[k:k] = [True, False]
    a, m, s, stable = (np.asarray(v, float) for v in (a, m, s, stable))
    stable = stable.astype(bool)
    eg = np.arccos(np.clip(m, -1, 1)) / math.pi
    tr = data["transition"]["value"]
    folds = [f["value"] for f in b["folds"] if f["status"] == "located"]
    ax1, ax2 = axes
    for ax, y, lab in ((ax1, eg, r"generalisation error $\varepsilon_g$"),
                       (ax2, s, "version-space entropy per weight")):
        ax.plot(np.where(stable, a, np.nan), np.where(stable, y, np.nan), "-", color="C0",
                label="poor generalisation (metastable beyond the transition)")
        ax.plot(np.where(~stable, a, np.nan), np.where(~stable, y, np.nan), "--", color="C0",
                label="unstable branch")
        ax.set_xlabel(r"$\alpha = P/N$")
        ax.set_ylabel(lab)
        if tr is not None:
            ax.axvline(tr, color="C3", lw=1, label=rf"first-order transition $\alpha$={tr:.4f}")
        for f in folds:
            ax.axvline(f, color="0.4", lw=1, ls=":", label=rf"spinodal $\alpha$={f:.4f}")
    amax = max(2.0, float(np.nanmax(a)))
    if tr is not None:
        ax1.plot([tr, amax], [0, 0], "-", color="C2", lw=2.5, label="perfect generalisation (m = 1)")
        ax1.plot([0, tr], [0, 0], ":", color="C2", lw=1.5)
        ax2.plot([0, amax], [0, 0], "-", color="C2", lw=1.5, label="perfect state, entropy 0")
    ax1.set_xlim(0, amax)
    ax2.set_xlim(0, amax)
    ax1.legend(fontsize=7)
    return axes


def main(quick=False, outdir=None):
    data = compute(quick)
    fig, axes = new_figure(width=11, height=4.4, ncols=2)
    plot_teacher_student(data, axes)
    fig.suptitle("Teacher–student binary perceptron (RS, Nishimori line): first-order "
                 "transition to perfect generalisation")
    out = save(fig, data, outdir, "teacher_student")
    pdf = output_dir(outdir) / "teacher_student.pdf"
    fig.savefig(pdf)
    out["pdf"] = pdf
    b, tr = data["branch"], data["transition"]
    out["ok"] = (tr["status"] == "located" and len(b["folds"]) >= 1
                 and b["folds"][0]["status"] == "located")
    return out
