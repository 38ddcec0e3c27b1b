r"""Exact sampler of the reference fields of the finite-K ReLU tree committee given the
shared fields z and the label (the reference measure of the Franz–Parisi term,
:mod:`solvers.committee_fp`; derivation of the term in :mod:`replica.committee_fp`).

Given z the reference's rescaled fields are ũ_l + x_l, ũ_l = ã z_l, ã = √(q̃/(1−q̃)),
x iid N(0, 1) (relu is positively homogeneous). Label y makes a group W (the ⌈K/2⌉
units read +1 for y = +1, the ⌊K/2⌋ units read −1 for y = −1; even K has one label)
the winning side: the reference is a solution iff :math:`S_W > S_L`,
:math:`S_G = \sum_{l\in G}\mathrm{relu}(\tilde u_l + x_l)`. :func:`sample_reference`
maps K uniforms v per point to a draw of x from N(0, I) restricted to that event,
exactly (up to quadrature error ~1e-10) and continuously in v on each of the
pieces below, so quasi-Monte Carlo keeps its rate: no importance weight 1/Z̃(z),
whose second moment E_z[1/Z̃] diverges for q̃ ≳ 1/2.

Construction (sequential inverse CDF, Rosenblatt), K ≤ 3, derived here. One group is a
single unit A (K = 2: the minus unit; K = 3: the group of size one, L for y = +1,
W for y = −1), the other group B (one or two units) is drawn first. Given the sum s
of the B group, the event is a half-line in x_A: for A ∈ W, r_A > s ⇔ x_A > s − ũ_A,
probability :math:`P_A(s) = \Phi(\tilde u_A - s)`; for A ∈ L, r_A < s ⇔ x_A < s − ũ_A
(needs s > 0), :math:`P_A(s) = \Phi(s - \tilde u_A)` for s > 0 and 0 at s = 0 (the tie
D = 0 of an all-off committee is not a solution). So x_A is the last draw, a truncated
normal, and B's draws have densities φ(x)·(probability of the rest):

* the last B unit b, given the B sum s0 of the units already drawn: density
  :math:`\varphi(x)P_A(s_0 + \mathrm{relu}(\tilde u_b + x))`; below the kink x < −ũ_b it
  is φ(x)P_A(s0) (mass Φ(−ũ_b)P_A(s0), inverted in closed form), above it
  :math:`\varphi(x)\Phi(c - \sigma_A x)`, c = σ_A(ũ_A − s0 − ũ_b), whose integrals
  :math:`\int\varphi(x)\Phi(c\pm x)dx` (:func:`_log_int`) are log-concave 1-D
  integrals done in logs on a window of ±9 around the integrand's mode (48
  Gauss–Legendre nodes; the curvature is in [−2, −1], so the window loses < e^{-40});
  inverted by safeguarded Newton on the log upper-tail mass.
* the first B unit (K = 3): density :math:`\varphi(x)H(\mathrm{relu}(\tilde u_1+x))`,
  H(r) the mass of the previous item at s0 = r. Below the kink it is φ(x)H(0) (closed
  form); above it H is smooth, and the mass is located by a coarse scan (40 points over
  a width 14 + Σ|ũ|), integrated on 16 Gauss–Legendre panels of 8 nodes over the
  region where the log-density is within 44 of its maximum, and inverted per point by
  the panel CDF and Newton on the exact within-panel integral (:func:`_numeric_draw`,
  shared with K = 4).

K = 4 (one label; W = units 0, 1, L = units 2, 3). Given the losing pair's sum τ the
winning pair needs r0 + r1 > τ, probability
:math:`W_2(\tau) = \Phi(\tilde u_0-\tau) + \Phi(-\tilde u_0)\Phi(\tilde u_1-\tau) +
\int_{-\tilde u_0}^{\tau-\tilde u_0}\varphi(x)\Phi(\tilde u_1-\tau+\tilde u_0+x)dx`
(unit 0 above τ, off, or in between). Order x2, x3, x0, x1:

* x2 has density φ(x)H(relu(ũ2 + x)), H(r) = E_{x3} W₂(r + relu(ũ3 + x3)) (a 1-D
  integral: 16 panels of 8 nodes over a window holding the mass), x3 | x2 the density
  φ(x)W₂(r2 + relu(ũ3 + x)); both by :func:`_numeric_draw`. W₂ enters both through one
  per-row table of ln W₂ (``_W2_TABLE`` points on [0, 40 + Σ|ũ|], 4-point Lagrange
  interpolation, ≤ 2e-5 in ln W₂ measured), so the draws follow exactly a law whose
  density differs from the target by a factor 1 + O(2e-5);
* x0 | τ from φ(x)P(r1 > τ − r0) (three pieces: off — closed form; 0 < r0 < τ — the
  1-D integral above, Newton on its log; r0 > τ — closed form), then x1 truncated
  normal (x1 > τ − r0 − ũ1), or free when r0 > τ.

The masses give Z̃(z) = P(reference is a solution | z) (:func:`log_reference_mass`);
the estimator does not need it (the draws are exact), the tests compare it with the
contour integral of :mod:`solvers.committee`. K ≥ 5 (readout groups of three) would
need another nesting level and is not implemented (``MAX_K``).

Accuracy (tests/test_committee_fp_relu.py): moments and unit activities of the draws
against brute-force rejection (K = 2, 3, 4) and a product quadrature (also at rare z,
Z̃ ≈ 1e-4 … 1e-5 and 9e-4 at K = 4, where rejection is impractical) within 5σ; Z̃
against the contour integral to 3e-5 in ln Z̃ (5e-5 at K = 4) and against the product
quadrature to 1e-7 relative (5e-5 at K = 4). The draws are continuous and monotone in
each uniform within a piece (tested along a line of v).

Cost: per point, K = 2 a few 48-node integrals; K = 3 ~170 density values (each one)
plus ~4 Newton steps; K = 4 the table (512 integrals) and ~2 × 170 density values of
128 interpolations each: 4 × 2^11 points take ~0.3 s, ~10 s, ~75 s (K = 2, 3, 4).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import log_ndtr, ndtr, ndtri

__all__ = ["sample_reference", "log_reference_mass", "label_groups", "MAX_K"]

#: Largest K with an exact reference sampler (module docstring: the constructions are
#: written out for readout groups of at most two units).
MAX_K = 4

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_HALF_WINDOW = 9.0       # half-width of the window of _log_int (curvature ≤ −1: e^{-40.5})
_LI_NODES = 48           # Gauss–Legendre nodes of _log_int on that window
_SCAN_POINTS = 40        # coarse scan of the first unit's density
_SCAN_DROP = 44.0        # panels cover the log-density within this of its maximum
_PANELS, _PANEL_NODES = 16, 8
_NEWTON_ITER = 60
_W2_TABLE = 512          # grid of ln W₂(τ) per row (K = 4), spacing ≲ 0.1-0.2
_ROWS = 256              # rows per vectorised block of the first unit (memory)


@functools.lru_cache(maxsize=4)
def _gl(n):
    t, w = np.polynomial.legendre.leggauss(n)
    return t, w


def _ratio(w):
    """φ(w)/Φ(w), stable for all w."""
    return np.exp(-0.5 * w * w - _LOG_SQRT_2PI - log_ndtr(w))


def _log_int_plus(lo, hi, c):
    """ln ∫_lo^hi φ(x) Φ(c + x) dx (arrays; −inf where hi ≤ lo)."""
    x = np.maximum(0.0, -0.5 * c)
    for _ in range(8):    # mode of g = −x²/2 + ln Φ(c + x): g' = −x + r, g'' = −1 − r(w + r)
        w = c + x
        r = _ratio(w)
        x = x - (-x + r) / (-1.0 - r * (w + r))
    m = np.clip(x, lo, hi)
    a = np.maximum(lo, m - _HALF_WINDOW)
    b = np.minimum(hi, m + _HALF_WINDOW)
    t, wt = _gl(_LI_NODES)
    h = 0.5 * (b - a)
    with np.errstate(all="ignore"):
        xs = a[..., None] + h[..., None] * (t + 1)
        lf = -0.5 * xs * xs + log_ndtr(c[..., None] + xs)
        mx = lf.max(axis=-1)
        mx = np.where(np.isfinite(mx), mx, 0.0)
        out = mx + np.log((np.exp(lf - mx[..., None]) @ wt) * h) - _LOG_SQRT_2PI
    return np.where(b > a, out, -np.inf)


def _log_int(lo, hi, c, sg):
    """ln ∫_lo^hi φ(x) Φ(c + sg·x) dx, sg = ±1 (x → −x for sg = −1)."""
    lo, hi, c = np.broadcast_arrays(*(np.asarray(a, float) for a in (lo, hi, c)))
    if sg > 0:
        return _log_int_plus(lo, hi, c)
    return _log_int_plus(-hi, -lo, c)


def _log_pa(s, uA, sigA):
    """ln P_A(s) (module docstring): A ∈ W (σ_A = +1) Φ(ũ_A − s); A ∈ L Φ(s − ũ_A), 0 at s = 0."""
    lp = log_ndtr(sigA * (uA - s))
    return lp if sigA > 0 else np.where(s > 0, lp, -np.inf)


def _below_kink(w, u):
    """Φ^{-1}(w) for w ≤ Φ(−u) (the draw below a unit's kink x = −u), on the tail that
    keeps its digits: ndtri(w) for w < 1/2, else −ndtri(Φ(u) + (Φ(−u) − w))."""
    return np.where(w < 0.5, ndtri(np.clip(w, 1e-300, 0.5)),
                    -ndtri(np.clip(ndtr(u) + (ndtr(-u) - w), 1e-300, 1.0)))


def _last_b_masses(ub, s0, uA, sigA):
    """(ln mass below the kink, ln mass above, c) of the last B unit's density."""
    lpa = _log_pa(s0, uA, sigA)
    m1 = log_ndtr(-ub) + lpa
    c = sigA * (uA - s0 - ub)
    m2 = _log_int(-ub, np.inf, c, -sigA)
    return m1, m2, c, lpa


def _last_b(ub, s0, uA, sigA, v):
    """Draw of the last B unit (module docstring) at uniforms v; returns (x, ln mass)."""
    m1, m2, c, lpa = _last_b_masses(ub, s0, uA, sigA)
    lZ = np.logaddexp(m1, m2)
    with np.errstate(all="ignore"):
        lv = np.log(v) + lZ
        below = lv < m1
        # below the kink: Φ(x) P_A(s0) = v Z̃
        xb = _below_kink(np.exp(lv - lpa), ub)
        # above: ln ∫_x^∞ φ Φ(c − σ_A t) dt = ln((1 − v) Z̃), Newton with a bracket
        U = np.log1p(-v) + lZ
    x = np.where(below, np.minimum(xb, -ub), np.nan)
    idx = np.nonzero(~below)[0]
    if len(idx):
        x[idx] = _solve_upper(-ub[idx], c[idx], -sigA, U[idx], m2[idx])
    return x, lZ


def _solve_upper(lo, c, sg, U, top, end=None):
    """x ≥ lo with ln ∫_x^{end} φ(t)Φ(c + sg t) dt = U (≤ top, the value at lo; end = ∞
    by default): safeguarded Newton on the log mass (decreasing in x), bracket [lo, hi]
    with hi = end or found by doubling."""
    a = lo.copy()
    if end is None:
        end = np.full(len(lo), np.inf)
        hi = np.maximum(lo, 0.0) + np.abs(c) + 12.0
        for _ in range(8):
            bad = _log_int(hi, np.inf, c, sg) > U
            if not bad.any():
                break
            hi = np.where(bad, hi + 2 * (hi - lo) + 1.0, hi)
    else:
        hi = end.copy()
    b = hi.copy()
    # start: linear in the log mass between the bracket ends is poor; begin at the lower end
    x = np.where(U >= top, lo, lo + 1e-3 * (b - a))
    act = np.arange(len(x))
    with np.errstate(all="ignore"):
        for _ in range(_NEWTON_ITER):
            xa = x[act]
            L = _log_int(xa, end[act], c[act], sg)
            lf = -0.5 * xa * xa - _LOG_SQRT_2PI + log_ndtr(c[act] + sg * xa)
            h = L - U[act]
            a[act] = np.where(h > 0, xa, a[act])
            b[act] = np.where(h > 0, b[act], xa)
            xn = xa + h * np.exp(L - lf)          # h' = −f/mass
            xn = np.where(np.isfinite(xn) & (xn >= a[act]) & (xn <= b[act]), xn, 0.5 * (a[act] + b[act]))
            x[act] = xn
            keep = np.abs(xn - xa) > 1e-12 * (1 + np.abs(xa))
            act = act[keep]
            if len(act) == 0:
                break
    return np.where(U >= top, lo, x)


def _log_h(r, u2, uA, sigA):
    """ln H(r): the last B unit's total mass at s0 = r (module docstring)."""
    m1, m2, _, _ = _last_b_masses(u2, r, uA, sigA)
    return np.logaddexp(m1, m2)


def _first_b(u1, u2, uA, sigA, v):
    """Draw of the first of two B units (K = 3) at uniforms v; returns (x, ln Z̃)."""

    def log_g(r, rows):
        sh = r.shape
        return _log_h(r.ravel(), np.broadcast_to(u2[rows, None], sh).ravel(),
                      np.broadcast_to(uA[rows, None], sh).ravel(), sigA).reshape(sh)

    return _numeric_draw(u1, log_g, 14.0 + np.abs(u1) + np.abs(u2) + np.abs(uA), v)


def _numeric_draw(u1, log_g, width, v):
    """Draw of a unit whose density is φ(x) g(relu(ũ₁ + x)) at uniforms v (None: masses
    only), g(r) = probability of the rest of the event (``log_g(r, rows)`` on arrays
    (len(rows), n), rows the global row indices); the mass above the kink lies within
    ``width`` of it. Returns (x, ln ∫φ g)."""
    M = len(u1)
    x = np.empty(M)
    lZ = np.empty(M)
    for s0 in range(0, M, _ROWS):
        rows = np.arange(s0, min(M, s0 + _ROWS))
        x[rows], lZ[rows] = _numeric_rows(u1[rows], log_g, width[rows], None if v is None else v[rows], rows)
    return x, lZ


def _numeric_rows(u1, log_g, W, v, grows):
    M = len(u1)
    lo = -u1
    lh0 = log_g(np.zeros((M, 1)), grows)[:, 0]
    m1 = log_ndtr(-u1) + lh0

    def logf(xx, rows=slice(None)):
        """ln of the density above the kink at xx (rows × n)."""
        r = np.maximum(u1[rows, None] + xx, 0.0)
        return -0.5 * xx * xx - _LOG_SQRT_2PI + log_g(r, grows[rows])

    grid = lo[:, None] + W[:, None] * (np.arange(1, _SCAN_POINTS + 1) / _SCAN_POINTS)
    with np.errstate(all="ignore"):
        lg = logf(grid)
    mx = lg.max(axis=1, keepdims=True)
    keep = lg > mx - _SCAN_DROP
    first = np.argmax(keep, axis=1)
    last = _SCAN_POINTS - 1 - np.argmax(keep[:, ::-1], axis=1)
    rows = np.arange(M)
    a = np.where(first > 0, grid[rows, np.maximum(first - 1, 0)], lo)
    b = np.where(last < _SCAN_POINTS - 1, grid[rows, np.minimum(last + 1, _SCAN_POINTS - 1)], lo + W)
    t, wt = _gl(_PANEL_NODES)
    edges = a[:, None] + (b - a)[:, None] * (np.arange(_PANELS + 1) / _PANELS)
    hp = 0.5 * (b - a) / _PANELS
    nodes = edges[:, :-1, None] + hp[:, None, None] * (t + 1)          # (M, P, n)
    with np.errstate(all="ignore"):
        lf = logf(nodes.reshape(M, -1)).reshape(nodes.shape)
    ref = lf.max(axis=(1, 2))
    pm = (np.exp(lf - ref[:, None, None]) * wt).sum(axis=2) * hp[:, None]   # panel masses / e^ref
    tot = pm.sum(axis=1)
    m2 = ref + np.log(tot)
    lZ = np.logaddexp(m1, m2)
    if v is None:
        return np.full(M, np.nan), lZ
    with np.errstate(all="ignore"):
        lv = np.log(v) + lZ
        below = lv < m1
        xb = _below_kink(np.exp(lv - lh0), u1)
        T = np.exp(lv - ref) - np.exp(m1 - ref)                 # target above the kink
    x = np.where(below, np.minimum(xb, lo), np.nan)
    idx = np.nonzero(~below)[0]
    if len(idx):
        C = np.concatenate([np.zeros((M, 1)), np.cumsum(pm, axis=1)], axis=1)
        Ti = np.clip(T[idx], 0.0, tot[idx])
        j = np.clip((C[idx] <= Ti[:, None]).sum(axis=1) - 1, 0, _PANELS - 1)
        lo_j, hi_j = edges[idx, j], edges[idx, j + 1]
        need = Ti - C[idx, j]
        frac = np.clip(need / np.maximum(pm[idx, j], 1e-300), 0.0, 1.0)
        xi = lo_j + frac * (hi_j - lo_j)
        A, B = lo_j.copy(), hi_j.copy()
        act = np.arange(len(idx))
        with np.errstate(all="ignore"):
            for _ in range(_NEWTON_ITER):
                rr = idx[act]
                xa = xi[act]
                hh = 0.5 * (xa - lo_j[act])
                sub = lo_j[act, None] + hh[:, None] * (t + 1)
                both = np.concatenate([sub, xa[:, None]], axis=1)
                lfs = logf(both, rr) - ref[rr, None]
                I = (np.exp(lfs[:, :-1]) * wt).sum(axis=1) * hh
                fx = np.exp(lfs[:, -1])
                g = I - need[act]
                A[act] = np.where(g < 0, xa, A[act])
                B[act] = np.where(g < 0, B[act], xa)
                # converged: the CDF residual (relative to the piece's mass; in the tails
                # f is tiny and the residual's rounding would make steps big), or the step
                done = np.abs(g) <= 1e-14 * tot[rr]
                xn = xa - g / fx
                xn = np.where(np.isfinite(xn) & (xn >= A[act]) & (xn <= B[act]), xn, 0.5 * (A[act] + B[act]))
                xn = np.where(done, xa, xn)
                xi[act] = xn
                act = act[~done & (np.abs(xn - xa) > 1e-12 * (1 + np.abs(xa)))]
                if len(act) == 0:
                    break
        x[idx] = xi
    return x, lZ


# ----------------------------------------------------------------------------- K = 4
# Two groups of two (W = units 0, 1; L = units 2, 3). Order: x2, x3 (the L units), then
# x0 | τ = S_L and x1 | x0, τ (module docstring, "K = 4").

def _log_w2(tau, u0, u1):
    """ln W₂(τ) = ln P(relu(u0 + x0) + relu(u1 + x1) > τ), τ ≥ 0 (arrays): unit 0 off
    (Φ(−u0)Φ(u1 − τ)), 0 < r0 < τ (∫φ(x)Φ(u1 − τ + u0 + x) over (−u0, τ − u0)), r0 > τ."""
    t = np.maximum(tau, 0.0)
    a = log_ndtr(-u0) + log_ndtr(u1 - t)
    b = _log_int(-u0, t - u0, u1 - t + u0, 1.0)
    c = log_ndtr(u0 - t)
    return np.logaddexp(a, np.logaddexp(b, c))


def _w2_table(u0, u1, tmax):
    """ln W₂ on the grid τ_k = k h, k < _W2_TABLE, h = tmax/(_W2_TABLE − 1), per row."""
    h = tmax / (_W2_TABLE - 1)
    tau = h[:, None] * np.arange(_W2_TABLE)
    return _log_w2(tau, u0[:, None], u1[:, None]), h


def _w2_interp(tab, h, tau, rows):
    """ln W₂(τ) from the table by 4-point Lagrange interpolation (τ ≥ 0; shape of τ,
    whose leading axis runs over ``rows``)."""
    k = tau / h[rows].reshape((-1,) + (1,) * (tau.ndim - 1))
    i = np.clip(np.floor(k).astype(int), 1, _W2_TABLE - 3)
    f = np.minimum(k - i, 2.0)
    T = tab[rows]
    flat = i.reshape(len(T), -1)
    y = [np.take_along_axis(T, flat + d, axis=1).reshape(i.shape) for d in (-1, 0, 1, 2)]
    return (-f * (f - 1) * (f - 2) / 6 * y[0] + (f + 1) * (f - 1) * (f - 2) / 2 * y[1]
            - (f + 1) * f * (f - 2) / 2 * y[2] + (f + 1) * f * (f - 1) / 6 * y[3])


def _log_hw(r, rows, u0, u1, u3, tab, h):
    """ln H(r) = ln E_{x3} W₂(r + relu(u3 + x3)) (the x2 density's rest), W₂ from the
    table; the x3 integral on 16 Gauss–Legendre panels of 8 nodes over a window that
    holds its mass (φ on [max(−u3, −12), 12], pushed down to the mode of φ(x)W₂(·) when
    W₂ is small there)."""
    u0, u1, u3 = (a[rows].reshape((-1,) + (1,) * (r.ndim - 1)) for a in (u0, u1, u3))
    lo = -u3
    xc = np.minimum(0.0, np.minimum(-(r + u3 - u0 - u1) / 3, -(r + u3 - np.maximum(u0, u1)) / 2))
    a = np.maximum(lo, np.minimum(xc, 0.0) - 12.0)
    b = np.maximum(a, np.maximum(lo, 0.0)) + 12.0
    t, wt = _gl(8)
    P = 16
    hp = 0.5 * (b - a) / P
    nodes = a[..., None] + (2 * hp)[..., None] * np.arange(P)
    nodes = (nodes[..., None] + hp[..., None, None] * (t + 1)).reshape(nodes.shape[:-1] + (-1,))
    lw = _w2_interp(tab, h, r[..., None] + u3[..., None] + nodes, rows)
    lf = -0.5 * nodes * nodes - _LOG_SQRT_2PI + lw + np.log(np.tile(wt, P) * hp[..., None])
    mx = lf.max(axis=-1)
    inner = mx + np.log(np.exp(lf - mx[..., None]).sum(axis=-1))
    return np.logaddexp(log_ndtr(-u3) + _w2_interp(tab, h, r, rows), inner)


def _w_pair(u0, u1, tau, v0, v1):
    """Draws (x0, x1) of the W pair given S_L = τ: x0 from φ(x)P(r1 > τ − r0) (pieces:
    unit 0 off, 0 < r0 < τ, r0 > τ), then x1 truncated (free if r0 > τ)."""
    ma = log_ndtr(-u0) + log_ndtr(u1 - tau)
    cb = u1 - tau + u0
    mb = _log_int(-u0, tau - u0, cb, 1.0)
    mc = log_ndtr(u0 - tau)
    lZ = np.logaddexp(ma, np.logaddexp(mb, mc))
    with np.errstate(all="ignore"):
        lv = np.log(v0) + lZ
        U = np.log1p(-v0) + lZ
        w1 = np.exp(lv - log_ndtr(u1 - tau))
        xa = np.minimum(_below_kink(w1, u0), -u0)
        wc = np.exp(U)
        xc = np.maximum(np.where(wc < 0.5, -ndtri(np.clip(wc, 1e-300, 0.5)), ndtri(np.clip(1 - wc, 1e-300, 1.0))),
                        tau - u0)
        Ub = np.log(np.maximum(np.exp(U) - np.exp(mc), 0.0))
    ina, inc = lv < ma, U < mc
    x0 = np.where(ina, xa, np.where(inc, xc, np.nan))
    idx = np.nonzero(~ina & ~inc)[0]
    if len(idx):
        x0[idx] = _solve_upper(-u0[idx], cb[idx], 1.0, np.minimum(Ub[idx], mb[idx]), mb[idx],
                               end=(tau - u0)[idx])
    r0 = np.maximum(u0 + x0, 0.0)
    x0t = tau - r0 - u1                                # x1 > x0t when r0 < τ
    with np.errstate(all="ignore"):
        lp, lq = log_ndtr(-x0t), log_ndtr(x0t)
        w = v1 * np.exp(lp)
        x1 = np.where(w < 0.5, -ndtri(np.maximum(w, 1e-300)), ndtri(np.minimum((1 - v1) + v1 * np.exp(lq), 1.0)))
    x1 = np.where(inc, ndtri(np.clip(v1, 1e-300, 1.0)), x1)
    return x0, x1, lZ


def _sample_k4(ut, v):
    """K = 4 (one label): draws and ln Z̃ (module docstring, "K = 4")."""
    u0, u1, u2, u3 = ut.T
    M = len(ut)
    width = 14.0 + np.abs(ut).sum(axis=1)
    tab, h = _w2_table(u0, u1, 40.0 + np.abs(ut).sum(axis=1))
    x = np.empty((M, 4))
    x[:, 2], lZ = _numeric_draw(u2, lambda r, rows: _log_hw(r, rows, u0, u1, u3, tab, h), width,
                                None if v is None else v[:, 2])
    if v is None:
        return x, lZ
    r2 = np.maximum(u2 + x[:, 2], 0.0)

    def log_g3(r, rows):   # the same tabulated W₂ as x2's marginal: one consistent law
        return _w2_interp(tab, h, r2[rows].reshape((-1,) + (1,) * (r.ndim - 1)) + r, rows)

    x[:, 3], _ = _numeric_draw(u3, log_g3, width, v[:, 3])
    tau = r2 + np.maximum(u3 + x[:, 3], 0.0)
    x[:, 0], x[:, 1], _ = _w_pair(u0, u1, tau, v[:, 0], v[:, 1])
    return x, lZ


def label_groups(K):
    """Per label, the number n_w of winning units (columns 0..n_w−1 of the fields; the
    rest lose): even K one label (K/2), odd K the labels +1 (⌈K/2⌉) and −1 (⌊K/2⌋),
    as :func:`solvers.committee._relu_labels`."""
    return (K // 2,) if K % 2 == 0 else ((K + 1) // 2, K // 2)


def _check_k(K):
    if not 2 <= K <= MAX_K:
        from .errors import ParameterError
        raise ParameterError("K", f"the exact reference sampler of the finite-K ReLU committee "
                                  f"is implemented for 2 <= K <= {MAX_K} (readout groups of at "
                                  f"most two units), got K = {K}")


def _plan(K, n_w):
    """(A column, σ_A, B columns): the single-unit group A and the other group B."""
    if K - n_w == 1:
        return K - 1, -1.0, list(range(n_w))
    return 0, 1.0, list(range(1, K))


def sample_reference(ut, v, n_w):
    """Draws x (M, K) of N(0, I) restricted to Σ_{l<n_w} relu(ũ_l + x_l) > Σ_{l≥n_w}
    relu(ũ_l + x_l), one per row of the means ``ut`` = ã z (M, K), from the uniforms
    ``v`` (M, K) (module docstring); returns (x, ln Z̃)."""
    ut = np.asarray(ut, float)
    v = np.asarray(v, float)
    M, K = ut.shape
    _check_k(K)
    if K == 4:
        return _sample_k4(ut, v)
    iA, sigA, Bc = _plan(K, n_w)
    uA = ut[:, iA]
    x = np.empty((M, K))
    if len(Bc) == 1:
        x[:, Bc[0]], lZ = _last_b(ut[:, Bc[0]], np.zeros(M), uA, sigA, v[:, Bc[0]])
    else:
        b1, b2 = Bc
        x[:, b1], lZ = _first_b(ut[:, b1], ut[:, b2], uA, sigA, v[:, b1])
        r1 = np.maximum(ut[:, b1] + x[:, b1], 0.0)
        x[:, b2], _ = _last_b(ut[:, b2], r1, uA, sigA, v[:, b2])
    s = np.maximum(ut[:, Bc] + x[:, Bc], 0.0).sum(axis=1)
    x0 = s - uA                     # A ∈ W: x_A > x0; A ∈ L: x_A < x0
    vA = v[:, iA]
    with np.errstate(all="ignore"):
        lp, lq = log_ndtr(-x0), log_ndtr(x0)
        if sigA > 0:
            w = vA * np.exp(lp)
            x[:, iA] = np.where(w < 0.5, -ndtri(np.maximum(w, 1e-300)),
                                ndtri(np.minimum((1 - vA) + vA * np.exp(lq), 1.0)))
        else:
            w = vA * np.exp(lq)
            x[:, iA] = np.where(w < 0.5, ndtri(np.maximum(w, 1e-300)),
                                -ndtri(np.minimum((1 - vA) + vA * np.exp(lp), 1.0)))
    return x, lZ


def log_reference_mass(ut, n_w):
    """ln Z̃(z) = ln P(Σ_{l<n_w} relu(ũ_l + x_l) > Σ_{l≥n_w} relu(ũ_l + x_l)) per row of
    ``ut`` (M, K), from the sampler's masses (module docstring)."""
    ut = np.asarray(ut, float)
    M, K = ut.shape
    _check_k(K)
    if K == 4:
        return _sample_k4(ut, None)[1]
    iA, sigA, Bc = _plan(K, n_w)
    if len(Bc) == 1:
        m1, m2, _, _ = _last_b_masses(ut[:, Bc[0]], np.zeros(M), ut[:, iA], sigA)
        return np.logaddexp(m1, m2)
    return _first_b(ut[:, Bc[0]], ut[:, Bc[1]], ut[:, iA], sigA, None)[1]
