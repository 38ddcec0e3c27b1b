r"""Figure: Franz–Parisi local entropy S(d) of the binary perceptron around references.

α = 0.4, κ = 0: references drawn from the typical solutions (κ̃ = κ; Huang & Kabashima,
PRE 90, 052813 (2014): S < 0 at small d, typical solutions are isolated) and from
solutions of larger margin κ̃ (Baldassi et al., PRL 127, 278301 (2021), Fig. 1: the
curves rise toward the α = 0 bound −d ln d − (1−d) ln(1−d) as κ̃ grows — high-margin
solutions lie in wide flat minima); around minimisers of the cross-entropy (Baldassi,
Pittorino, Zecchina, PNAS 117, 161 (2020), Fig. 2 shape: they sit in wide flat minima;
the zero-temperature limit β_ref = ∞, :mod:`replica.minimisers`; RS at T = 0 for ±1
weights is the RS q → 1 limit, an approximation: the minimiser's margins are those of
the RS bound); and the replicated local entropy of the densest
regions at y = 20 (Baldassi et al., PRL 115, 128101 (2015), Fig. 1 shape: at this load
it hugs the α = 0 bound at small d). Points that did not converge are not drawn and are
listed in the data file with their status. Differences from the papers: RS throughout,
finite y for the dense curve (the papers show y → ∞), free (not constrained) centre.

Run: ``python -m figures local_entropy`` (data: figures/output/local_entropy.json).
"""

from __future__ import annotations

import numpy as np

from solvers.local_entropy import local_entropy

from .plotting import as_float, finish_local_entropy_axes, new_figure, save

__all__ = ["compute", "main"]

ALPHA = 0.4
REFERENCES = ("typical", "margin=0.25", "margin=0.5")
DENSE = "dense:y=20"
#: minimisers of the cross-entropy with steepness γ = 5 (Baldassi, Pittorino, Zecchina,
#: PNAS 2020): the zero-temperature limit of its Gibbs measure (beta_ref = inf)
LOSS, BETA_REF = "loss=ce:5", float("inf")
#: the T = 0 RS branch around them ends near d = 0.00196 (α = 0.4): the curve starts above
LOSS_MIN_DISTANCE = 0.0025


def compute(quick=False):
    ds = np.geomspace(0.001, 0.35, 8 if quick else 40)
    refs = REFERENCES[::2] if quick else REFERENCES
    curves = {ref: local_entropy("binary-perceptron", {"alpha": ALPHA, "kappa": 0.0},
                                 reference=ref, distances=ds).to_dict() for ref in refs}
    # a few seconds: also in quick mode
    curves[LOSS] = local_entropy("binary-perceptron",
                                 {"alpha": ALPHA, "kappa": 0.0, "beta_ref": BETA_REF},
                                 reference=LOSS, distances=ds[ds >= LOSS_MIN_DISTANCE]).to_dict()
    # the dense branch is followed from d = 0.005 (below, q1 -> 1 and the RS large-y
    # saddle becomes stiff) up to d = 0.2 (near its top Ŝ -> 0 and it degenerates)
    dd = np.geomspace(0.005, 0.2, 4 if quick else 16)
    curves[DENSE] = local_entropy("binary-perceptron", {"alpha": ALPHA, "kappa": 0.0},
                                  reference=DENSE, distances=dd).to_dict()
    return {"alpha": ALPHA, "kappa": 0.0, "curves": curves}


def plot_local_entropy(data, ax):
    """Draw S(d) for each reference and the α = 0 bound (reads results only)."""
    first = next(iter(data["curves"].values()))
    ax.plot(first["distance"], first["alpha0_bound"], "k:", label=r"$\alpha=0$ bound")
    for i, (ref, c) in enumerate(data["curves"].items()):
        d = np.array(c["distance"])
        s = as_float(c["local_entropy"])
        if ref.startswith("dense"):
            label, style = f"densest regions (y = {ref.split('=')[1]})", "--"
        elif ref.startswith("loss="):
            label, style = rf"cross-entropy minimisers ($\gamma$ = {ref.split(':')[1]}, $\beta\to\infty$)", "-."
        else:
            label = "typical reference" if ref == "typical" else ref.replace("margin=", r"$\tilde\kappa$ = ")
            style = "-"
        ax.plot(d, s, style, color=f"C{i}", label=label)
    return finish_local_entropy_axes(
        ax, "distance $d$ from the reference",
        rf"binary perceptron, $\alpha={data['alpha']}$, $\kappa=0$ (RS Franz–Parisi)")


def main(quick=False, outdir=None):
    data = compute(quick)
    fig, ax = new_figure()
    plot_local_entropy(data, ax)
    out = save(fig, data, outdir, "local_entropy")
    out["ok"] = all(c["success"] for c in data["curves"].values())
    return out


if __name__ == "__main__":
    print(main())
