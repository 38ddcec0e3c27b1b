"""Plot helpers: each takes result data and an Axes, draws, and returns the Axes.

They only read results (dicts as saved next to the figures); they never compute.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from matplotlib.figure import Figure

__all__ = ["new_figure", "plot_capacity_curve", "save", "output_dir", "as_float",
           "finish_local_entropy_axes"]


def output_dir(outdir=None) -> pathlib.Path:
    d = pathlib.Path(outdir) if outdir else pathlib.Path(__file__).resolve().parent / "output"
    d.mkdir(parents=True, exist_ok=True)
    return d


def new_figure(width=6.4, height=4.4, ncols=1, width_ratios=None, nrows=1):
    """A constrained-layout Figure and its Axes: one Axes, a row of ``ncols`` Axes, or an
    (nrows, ncols) array of Axes when ``nrows`` > 1."""
    fig = Figure(figsize=(width, height), layout="constrained")
    if ncols == 1 and nrows == 1:
        return fig, fig.add_subplot()
    if nrows == 1:
        return fig, fig.subplots(1, ncols, width_ratios=width_ratios)
    return fig, fig.subplots(nrows, ncols, width_ratios=width_ratios, squeeze=False)


def as_float(values):
    """A result list with ``None`` (no value: failed point) as NaN, for plotting."""
    return np.array([np.nan if v is None else v for v in values], float)


def finish_local_entropy_axes(ax, xlabel, title, *, title_size=None, legend_size=8):
    """The common frame of the S(d) plots: zero line, log distance axis, labels, legend."""
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("local entropy $S(d)$")
    ax.set_title(title, **({} if title_size is None else {"fontsize": title_size}))
    ax.legend(fontsize=legend_size)
    return ax


def plot_capacity_curve(curve: dict, ax, *, label, color, bound_label=None):
    """Draw α_c(κ) from a curve dict (keys kappa, alpha_c, rs_stable, success,
    and optionally alpha_rs_q_to_1). RS-unstable points are drawn dashed; failed
    points are marked with crosses on the κ axis (never silently dropped)."""
    k = np.asarray(curve["kappa"], float)
    a = as_float(curve["alpha_c"])
    ok = np.asarray(curve["success"], bool)
    stable = np.array([s is not False for s in curve["rs_stable"]])
    good = ok & stable
    ax.plot(np.where(good, k, np.nan), np.where(good, a, np.nan), "-", color=color, label=label)
    if np.any(ok & ~stable):
        # include the boundary point so the dashed part joins the solid one
        sel = ok & ~stable
        idx = np.flatnonzero(sel)
        j = np.unique(np.clip(np.concatenate([idx, idx + 1]), 0, len(k) - 1))
        ax.plot(k[j], a[j], "--", color=color, label=f"{label}: RS unstable (AT)")
    if np.any(~ok):
        ax.plot(k[~ok], np.zeros(np.sum(~ok)), "x", color=color, label=f"{label}: not converged")
    if bound_label and "alpha_rs_q_to_1" in curve:
        b = as_float(curve["alpha_rs_q_to_1"])
        ax.plot(k, b, ":", color=color, label=bound_label)
    return ax


def save(fig, data: dict, outdir, stem):
    """Write ``stem``.png (150 dpi), ``stem``.pdf and the data ``stem``.json."""
    d = output_dir(outdir)
    png, pdf, js = d / f"{stem}.png", d / f"{stem}.pdf", d / f"{stem}.json"
    fig.savefig(png, dpi=150)
    fig.savefig(pdf)
    js.write_text(json.dumps(data, indent=1))
    return {"png": png, "pdf": pdf, "data": js}
