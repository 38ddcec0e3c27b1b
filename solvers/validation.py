r"""Finite-N validation: the replica predictions against real random instances.

Two experiments, each returning a typed frozen result with statistical errors, counts,
seeds, sizes and loads (``to_dict()`` for JSON; nulls, never NaN).

Spherical perceptron (:func:`separability`)
    P = round(αN) patterns ξ^μ (i.i.d. N(0, 1) entries, or ±1) with random labels
    y^μ = ±1. A weight vector with :math:`|w|^2 = N` stores them with margin κ when every
    stability :math:`y^\mu w\cdot\xi^\mu/\sqrt N \ge \kappa` (the normalisation of the
    replica theory, Gardner, J. Phys. A 21, 257 (1988)). Per instance one *least-distance
    problem* is solved exactly,

    .. math:: \min_w \|w\|^2 \quad\text{s.t.}\quad y^\mu \xi^\mu\cdot w \ge 1,

    whose minimiser gives the largest margin :math:`\kappa_{\max} = 1/\|w^*\|` (rescale
    :math:`w^*` to :math:`|w|^2 = N`: its smallest stability is :math:`1/\|w^*\|`). So
    "separable with margin κ" ⇔ :math:`\kappa_{\max} \ge \kappa`, and one solve per
    instance gives the whole κ ≥ 0 dependence. The problem is solved by the
    Lawson–Hanson reduction to non-negative least squares (``scipy.optimize.nnls``;
    Lawson & Hanson, *Solving Least Squares Problems* (1974), ch. 23): NNLS of
    :math:`E = [A^T; \mathbf 1^T]` against :math:`f = e_{N+1}` with :math:`A_{\mu i} =
    y^\mu\xi^\mu_i`. Both outcomes are *certified*: a separating :math:`w` (all
    :math:`A w > 0`, checked) or a Gordan certificate :math:`u \ge 0`,
    :math:`\sum u = 1`, :math:`A^T u = 0` (no :math:`w` has all :math:`A w > 0`). At κ = 0
    a second, independent route — an L∞-normalised linear program (HiGHS,
    ``scipy.optimize.linprog``) — decides separability for a subset of instances, and
    Cover's exact count (Cover, IEEE Trans. Electron. Comput. EC-14, 326 (1965), Thm. 1)

    .. math:: P_{\rm sep}(N, P) = 2^{1-P}\sum_{k=0}^{N-1}\binom{P-1}{k}

    (patterns in general position: Gaussian, not ±1) checks the program itself.
    κ < 0 is rejected: with :math:`|w|^2 = N` the negative-margin problem is non-convex
    (the feasible set is the sphere minus a union of caps; the convex relaxation
    :math:`|w|^2 \le N` would be trivially satisfied by w = 0), so no LP/QP decides it.

Binary (±1) perceptron (:func:`enumerate_binary`)
    All :math:`2^N` weight vectors are enumerated exactly for ±1 patterns (N odd, so
    :math:`w\cdot\xi \ne 0`). Weight vector number j has :math:`w_i = 2\,\mathrm{bit}_i(j)-1`.
    The bits are split into a low block of b bits and a high block: for every pattern μ
    and every possible high-block field the set of low blocks whose total stability
    passes the threshold is a precomputed bit set (64 weight vectors per ``uint64``
    word), so the solution set of an instance is, for each high block, the AND of P
    precomputed words per 64 weight vectors — :math:`2^N P/64` word operations (N = 25,
    P = 12: about 0.1 s). From the solution set: the count :math:`\mathcal N`
    (entropy :math:`\frac1N\ln\mathcal N`, averaged over instances with
    :math:`\mathcal N > 0` — quenched — the instances with none reported separately,
    beside the annealed :math:`\frac1N\ln\langle\mathcal N\rangle` and its exact value
    :math:`\frac1N\ln[2^N p_1^P]`), compared with the RS entropy (Gardner & Derrida,
    J. Phys. A 21, 271 (1988)) from :func:`solvers.saddle.solve_saddle`, with a fit
    :math:`s_N - s_{RS} = a + b/N` for the finite-size trend; and, optionally, around
    reference solutions, the number :math:`\mathcal N_k` of solutions at Hamming distance
    k — the finite-N Franz–Parisi curve :math:`S(d = k/N)` (Huang & Kabashima, PRE 90,
    052813 (2014); Baldassi et al., PRL 127, 278301 (2021)) — for the references

    * ``typical``: uniform random solutions (isolation);
    * ``margin=K``: uniform random solutions whose every stability is ≥ K (the finite-N
      version of the reference of :func:`solvers.local_entropy.local_entropy`);
    * ``max-margin``: the solution of largest smallest stability;
    * ``densest``: the solution with the most solutions within Hamming radius r.

Examples
--------
>>> from solvers.validation import cover_probability, separability
>>> cover_probability(10, 20)
0.5
>>> r = separability(0.0, [20], [2.0], samples=20, seed=0, lp_checks=2)
>>> r.P, r.lp_disagreements
([[40]], 0)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np
from scipy.optimize import linprog, nnls

from . import constants as C
from .errors import ParameterError
from .saddle import _jsonable

__all__ = [
    "SeparabilityResult", "separability", "cover_probability", "max_margin", "lp_separable",
    "BinaryEnumerationResult", "enumerate_binary", "solution_bitset", "solution_indices",
    "count_solutions", "binary_annealed_count", "REFERENCES",
]

#: Reference kinds of the finite-N Franz–Parisi curves (``margin=K`` takes a number).
REFERENCES = ("typical", "margin=K", "max-margin", "densest")


# ------------------------------------------------------------------ input checking
def _int_list(name, values, lo):
    vals = [values] if np.isscalar(values) else list(values)
    if not vals:
        raise ParameterError(name, f"{name} must not be empty")
    out = []
    for v in vals:
        if isinstance(v, (bool, np.bool_)) or not float(v).is_integer() or int(v) < lo:
            raise ParameterError(name, f"{name} must be integers >= {lo}, got {v!r}")
        out.append(int(v))
    return out


def _float_list(name, values, lo, strict):
    vals = [values] if np.isscalar(values) else list(values)
    if not vals:
        raise ParameterError(name, f"{name} must not be empty")
    out = []
    for v in vals:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ParameterError(name, f"{name} must be numbers, got {v!r}") from None
        if not math.isfinite(f) or (f <= lo if strict else f < lo):
            raise ParameterError(name, f"{name} must be finite and {'>' if strict else '>='} {lo}, "
                                       f"got {v!r}")
        out.append(f)
    return out


def _wilson(k, n, z):
    """Wilson score interval of a binomial proportion k/n at z standard deviations."""
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def _loads(N, alphas):
    """P = round(αN) (at least 1) for every requested load."""
    return [max(1, int(round(a * N))) for a in alphas]


# ================================================================ spherical perceptron
def cover_probability(N, P) -> float:
    r"""Cover's probability that P random dichotomies of points in general position in
    :math:`\mathbb R^N` are linearly separable (through the origin).

    :math:`P_{\rm sep} = 2^{1-P}\sum_{k=0}^{N-1}\binom{P-1}{k}` (Cover 1965, Thm. 1),
    evaluated in exact rational arithmetic. It equals 1 for P ≤ N and exactly 1/2 at
    P = 2N.

    >>> cover_probability(3, 3), cover_probability(50, 100)
    (1.0, 0.5)
    """
    N, P = int(N), int(P)
    if N < 1:
        raise ParameterError("N", f"N must be >= 1, got {N}")
    if P < 1:
        raise ParameterError("P", f"P must be >= 1, got {P}")
    s = sum(math.comb(P - 1, k) for k in range(min(N, P)))
    return float(Fraction(s, 2 ** (P - 1)))


def max_margin(A):
    r"""Largest margin of the rows of A (stabilities :math:`A w/\|w\|`, A = y ξ).

    Solves :math:`\min\|w\|^2` s.t. :math:`A w \ge 1` exactly by NNLS (Lawson–Hanson
    least-distance programming) and certifies the outcome.

    Returns
    -------
    kappa_max : float or None
        :math:`\min_\mu (A w^*)_\mu/\|w^*\|` (> 0) if separable, None if not.
    certified : bool
        True if the separating vector (all :math:`A w > 0`) or the Gordan certificate
        (:math:`u \ge 0`, :math:`\sum u = 1`, :math:`\|A^T u\| \le` tol) was verified.
    """
    A = np.asarray(A, float)
    P, N = A.shape
    E = np.vstack([A.T, np.ones((1, P))])
    f = np.zeros(N + 1)
    f[-1] = 1.0
    u, _ = nnls(E, f, maxiter=C.VALIDATION_NNLS_MAXITER_FACTOR * max(P, N + 1))
    r = E @ u - f
    scale = np.sqrt(np.sum(A * A, axis=1)).max()
    if r[-1] != 0:
        w = -r[:N] / r[-1]
        st = A @ w
        nw = float(np.linalg.norm(w))
        if nw > 0 and np.all(st > 0):
            return float(st.min() / nw), True
    # Gordan's alternative: u >= 0, sum u = 1, A^T u = 0 => no w has A w > 0
    s = u.sum()
    if s > 0:
        g = np.linalg.norm(A.T @ (u / s)) / scale
        if g < C.VALIDATION_CERTIFICATE_TOL:
            return None, True
    return None, False


def lp_separable(A) -> bool:
    r"""κ = 0 separability by linear programming (HiGHS), an independent route.

    :math:`\max t` s.t. :math:`A w \ge t`, :math:`-1 \le w_i \le 1`, :math:`t \le 1`
    (always feasible and bounded); separable iff :math:`t^* >` tol.
    """
    A = np.asarray(A, float)
    P, N = A.shape
    c = np.zeros(N + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=np.hstack([-A, np.ones((P, 1))]), b_ub=np.zeros(P),
                  bounds=[(-1, 1)] * N + [(None, 1)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return bool(-res.fun > C.VALIDATION_LP_TOL)


def _patterns(rng, P, N, patterns):
    X = rng.standard_normal((P, N)) if patterns == "gaussian" else rng.choice([-1.0, 1.0], (P, N))
    y = rng.choice([-1.0, 1.0], P)
    return y[:, None] * X


@dataclass(frozen=True)
class SeparabilityResult:
    """Outcome of :func:`separability`. Indices: [kappa][N][alpha], or [N][alpha].

    Attributes
    ----------
    kappa, N, alpha : list
        Margins, sizes and requested loads α.
    P, alpha_eff : list of lists [N][alpha]
        Patterns used, P = round(αN), and the actual load P/N.
    samples, seed : int
    patterns : str
        "gaussian" or "binary" (±1 entries).
    separable : list [kappa][N][alpha] of int
        Instances separable with margin κ (κ_max ≥ κ).
    probability, stderr : [kappa][N][alpha]
        Fraction separable and its binomial standard error √(p(1−p)/n).
    ci_low, ci_high : [kappa][N][alpha]
        Wilson score interval at ±1 standard deviation (error bars, also at p = 0, 1).
    kappa_max_mean : [N][alpha]
        Mean largest margin over the separable instances (None if none).
    cover : [N][alpha] or None
        Cover's exact probability (κ = 0 requested and Gaussian patterns only).
    cover_z : [N][alpha] or None
        (measured − Cover)/√(Cover(1−Cover)/n) at κ = 0; None where Cover is 0 or 1.
    cover_pvalue : [N][alpha] or None
        Exact two-sided binomial p-value of the separable count under Cover's probability
        (``scipy.stats.binomtest``): the z-score misleads where Cover is close to 0 or 1
        (one non-separable instance in 100 at Cover's 5e-4 is z = −4, but p = 0.05).
    alpha_c : list [kappa]
        RS (Gardner) capacity from :func:`solvers.capacity.capacity`, None if it failed.
    alpha_c_status : list [kappa]
    alpha_half : [kappa][N]
        Load where the measured probability crosses 1/2 (linear interpolation between
        the bracketing grid points), None if the grid does not bracket it.
    lp_checked, lp_disagreements : int
        Instances decided also by the κ = 0 LP, and how many disagreed with NNLS.
    uncertified : int
        Instances whose NNLS outcome could not be certified (counted as not separable).
    status : str
        "ok", "lp_disagreement" or "uncertified".
    success : bool
    message : str
    seconds : float
    """

    kappa: list
    N: list
    alpha: list
    P: list
    alpha_eff: list
    samples: int
    seed: int
    patterns: str
    separable: list
    probability: list
    stderr: list
    ci_low: list
    ci_high: list
    kappa_max_mean: list
    cover: object
    cover_z: object
    cover_pvalue: object
    alpha_c: list
    alpha_c_status: list
    alpha_half: list
    lp_checked: int
    lp_disagreements: int
    uncertified: int
    status: str
    success: bool
    message: str
    seconds: float

    def to_dict(self):
        """JSON-able dict (non-finite floats become None)."""
        return _jsonable(asdict(self))


def _crossing(x, y, level=0.5):
    for i in range(len(x) - 1):
        a, b = y[i] - level, y[i + 1] - level
        if a == 0:
            return float(x[i])
        if a * b < 0:
            return float(x[i] + (x[i + 1] - x[i]) * a / (a - b))
    if y and y[-1] == level:
        return float(x[-1])
    return None


def separability(kappa, N, alpha, *, samples, seed, patterns="gaussian",
                 lp_checks=C.VALIDATION_LP_CHECKS) -> SeparabilityResult:
    r"""Probability that P = αN random labelled patterns are separable with margin κ.

    Parameters
    ----------
    kappa : float or sequence of float
        Margins κ ≥ 0 (one max-margin solve per instance serves all of them).
    N : int or sequence of int
        Input dimensions (≥ 2).
    alpha : float or sequence of float
        Loads α > 0; P = round(αN).
    samples : int
        Instances per (N, α).
    seed : int
        Instance (N, P) uses ``numpy.random.default_rng([seed, N, P])``, so a point
        does not depend on which other points are requested.
    patterns : {"gaussian", "binary"}
    lp_checks : int
        Instances per (N, α) also decided by the κ = 0 linear program.

    Returns
    -------
    SeparabilityResult

    Examples
    --------
    >>> r = separability([0.0, 0.5], [20], [0.5, 2.0], samples=10, seed=1, lp_checks=0)
    >>> r.probability[0][0][0]   # P = 10 < N: always separable at κ = 0
    1.0
    """
    t0 = time.perf_counter()
    if not np.isscalar(kappa) or isinstance(kappa, str):
        kappa = list(kappa)
    for k in ([kappa] if np.isscalar(kappa) else kappa):
        if isinstance(k, (int, float)) and k < 0:
            raise ParameterError("kappa", f"kappa = {k} < 0 is not supported: with |w|^2 = N the "
                                          "negative-margin problem is non-convex (no LP/QP decides it)")
    kappas = _float_list("kappa", kappa, 0.0, strict=False)
    Ns = _int_list("N", N, 2)
    alphas = _float_list("alpha", alpha, 0.0, strict=True)
    samples = _int_list("samples", samples, 1)[0]
    seed = _int_list("seed", seed, 0)[0]
    lp_checks = _int_list("lp_checks", lp_checks, 0)[0]
    if patterns not in ("gaussian", "binary"):
        raise ParameterError("patterns", f"patterns must be 'gaussian' or 'binary', got {patterns!r}")

    Ps = [_loads(n, alphas) for n in Ns]
    kmax_all = []  # [N][alpha] -> array of kappa_max (nan: not separable)
    lp_checked = lp_dis = uncert = 0
    for n, Pn in zip(Ns, Ps):
        row = []
        for P in Pn:
            rng = np.random.default_rng([seed, n, P])
            km = np.full(samples, np.nan)
            for s in range(samples):
                A = _patterns(rng, P, n, patterns)
                k, cert = max_margin(A)
                if not cert:
                    uncert += 1
                if k is not None:
                    km[s] = k
                if s < lp_checks:
                    lp_checked += 1
                    if lp_separable(A) != (k is not None):
                        lp_dis += 1
            row.append(km)
        kmax_all.append(row)

    sep, prob, se, lo, hi = [], [], [], [], []
    for kap in kappas:
        s1, p1, e1, l1, h1 = [], [], [], [], []
        for row in kmax_all:
            cnt = [int(np.sum(km >= kap)) if kap > 0 else int(np.sum(np.isfinite(km))) for km in row]
            s1.append(cnt)
            p1.append([c / samples for c in cnt])
            e1.append([math.sqrt(c / samples * (1 - c / samples) / samples) for c in cnt])
            w = [_wilson(c, samples, 1.0) for c in cnt]
            l1.append([a for a, _ in w])
            h1.append([b for _, b in w])
        sep.append(s1)
        prob.append(p1)
        se.append(e1)
        lo.append(l1)
        hi.append(h1)

    kmean = [[float(np.nanmean(km)) if np.any(np.isfinite(km)) else None for km in row]
             for row in kmax_all]
    cover = cover_z = cover_p = None
    if 0.0 in kappas and patterns == "gaussian":
        i0 = kappas.index(0.0)
        cover = [[cover_probability(n, P) for P in Pn] for n, Pn in zip(Ns, Ps)]
        cover_z = [[(prob[i0][j][a] - c) / math.sqrt(c * (1 - c) / samples) if 0 < c < 1 else None
                    for a, c in enumerate(cr)] for j, cr in enumerate(cover)]
        from scipy.stats import binomtest
        cover_p = [[float(binomtest(sep[i0][j][a], samples, c).pvalue) for a, c in enumerate(cr)]
                   for j, cr in enumerate(cover)]

    from .capacity import capacity
    from .codegen import compile_model
    sph = compile_model("spherical-perceptron")
    acs, acst = [], []
    for kap in kappas:
        cr = capacity(sph, {"kappa": kap})
        acs.append(cr.alpha_c if cr.success else None)
        acst.append(cr.status)
    half = [[_crossing([P / n for P in Pn], prob[k][j]) for j, (n, Pn) in enumerate(zip(Ns, Ps))]
            for k in range(len(kappas))]

    if lp_dis:
        status, msg = "lp_disagreement", f"{lp_dis} of {lp_checked} LP checks disagree with NNLS"
    elif uncert:
        status, msg = "uncertified", f"{uncert} instances without a verified certificate"
    else:
        status, msg = "ok", (f"{samples} instances per point, every outcome certified; "
                             f"{lp_checked} also decided by LP, all agree")
    return SeparabilityResult(
        kappa=kappas, N=Ns, alpha=alphas, P=Ps, alpha_eff=[[P / n for P in Pn] for n, Pn in zip(Ns, Ps)],
        samples=samples, seed=seed, patterns=patterns, separable=sep, probability=prob,
        stderr=se, ci_low=lo, ci_high=hi, kappa_max_mean=kmean, cover=cover, cover_z=cover_z, cover_pvalue=cover_p,
        alpha_c=acs, alpha_c_status=acst, alpha_half=half, lp_checked=lp_checked,
        lp_disagreements=lp_dis, uncertified=uncert, status=status, success=status == "ok",
        message=msg, seconds=time.perf_counter() - t0)


# ================================================================== binary perceptron
def _threshold(kappa, N):
    """Smallest integer field y w·ξ with y w·ξ/√N ≥ κ (fields are odd for odd N)."""
    return int(math.ceil(kappa * math.sqrt(N) - 1e-12))


def _pm1_bits(idx, nbits):
    """±1 matrix (len(idx), nbits): w_i = 2 bit_i(j) − 1."""
    idx = np.asarray(idx, np.int64)
    return (((idx[:, None] >> np.arange(nbits, dtype=np.int64)) & 1) * 2 - 1).astype(np.int8)


def _block(N):
    """Low-block width b: 2^b weight vectors per high block (≥ 64 bits when N ≥ 6)."""
    return min(N, max(6, N - C.VALIDATION_HIGH_BITS))


def solution_bitset(A, threshold):
    r"""All ±1 weight vectors w with every field :math:`(A w)_\mu \ge` ``threshold``.

    Parameters
    ----------
    A : (P, N) array of ±1 integers
        Patterns with the labels absorbed, :math:`A_{\mu i} = y^\mu\xi^\mu_i`.
    threshold : int

    Returns
    -------
    bits : (2^(N−b), W) uint64 array
        Bit l of row h (word l // 64, bit l % 64) is set iff weight vector
        :math:`j = h\,2^b + l` is a solution (:math:`w_i = 2\,\mathrm{bit}_i(j) - 1`).
    b : int
        The low-block width.
    """
    A = np.asarray(A)
    P, N = A.shape
    b = _block(N)
    nl, nh = 1 << b, 1 << (N - b)
    A16 = A.astype(np.int16)
    low = _pm1_bits(np.arange(nl), b).astype(np.int16) @ A16[:, :b].T          # (2^b, P)
    cs = np.arange(-b, b + 2, dtype=np.int16)                                   # thresholds
    W = max(1, nl // 64)
    mask = low.T[:, None, :] >= cs[None, :, None]                               # (P, 2b+2, 2^b)
    if nl < 64:
        mask = np.concatenate([mask, np.zeros(mask.shape[:2] + (64 - nl,), bool)], axis=2)
    table = np.packbits(mask, axis=2, bitorder="little").view(np.uint64)        # (P, 2b+2, W)
    high = _pm1_bits(np.arange(nh), N - b).astype(np.int16) @ A16[:, b:].T      # (2^(N−b), P)
    cidx = np.clip(threshold - high + b, 0, 2 * b + 1)
    out = np.empty((nh, W), np.uint64)
    step = max(1, C.VALIDATION_CHUNK_WORDS // W)
    for h0 in range(0, nh, step):
        ci = cidx[h0:h0 + step]
        acc = table[0, ci[:, 0]].copy()
        for mu in range(1, P):
            acc &= table[mu, ci[:, mu]]
        out[h0:h0 + step] = acc
    return out, b


def solution_indices(bits, b):
    """Sorted indices j of the solutions in a bit set from :func:`solution_bitset`."""
    h, w = np.nonzero(bits)
    if h.size == 0:
        return np.zeros(0, np.int64)
    by = np.unpackbits(bits[h, w].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    r, bit = np.nonzero(by)
    return (h[r].astype(np.int64) << b) | (w[r].astype(np.int64) * 64 + bit)


def count_solutions(A, kappa) -> int:
    """Number of ±1 weight vectors with every stability (A w)_μ/√N ≥ κ."""
    A = np.asarray(A)
    bits, _ = solution_bitset(A, _threshold(kappa, A.shape[1]))
    return int(np.bitwise_count(bits).sum())


def binary_annealed_count(N, P, kappa) -> float:
    r"""Exact :math:`\langle\mathcal N\rangle = 2^N p_1^P` for i.i.d. ±1 patterns and
    labels, :math:`p_1 = \Pr[\sum_{i\le N} s_i \ge \lceil\kappa\sqrt N\rceil]` for i.i.d.
    uniform signs :math:`s_i` (the stabilities of a fixed w are i.i.d. across patterns).
    At κ = 0 and odd N, :math:`p_1 = 1/2`: :math:`\langle\mathcal N\rangle = 2^{N-P}`."""
    t = _threshold(kappa, N)
    p1 = Fraction(sum(math.comb(N, k) for k in range(N + 1) if 2 * k - N >= t), 2 ** N)
    return float(2 ** N * p1 ** P)


def _bit_lookup(bits, b, idx):
    words = bits[idx >> b, (idx & ((1 << b) - 1)) >> 6]
    return ((words >> (idx & 63).astype(np.uint64)) & np.uint64(1)).astype(np.int64)


def _neighbour_counts(bits, b, sols, N, radius):
    """For each solution, the number of other solutions within Hamming distance radius."""
    masks = np.array([sum(1 << i for i in c) for r in range(1, radius + 1)
                      for c in combinations(range(N), r)], np.int64)
    out = np.zeros(len(sols), np.int64)
    step = max(1, C.VALIDATION_CHUNK_WORDS // max(1, len(masks)))
    for i in range(0, len(sols), step):
        s = sols[i:i + step]
        out[i:i + step] = _bit_lookup(bits, b, s[:, None] ^ masks[None, :]).sum(axis=1)
    return out


def _min_fields(A, sols):
    out = np.empty(len(sols), np.int64)
    A16 = np.asarray(A, np.int16)
    step = 1 << 15
    for i in range(0, len(sols), step):
        w = _pm1_bits(sols[i:i + step], A.shape[1]).astype(np.int16)
        out[i:i + step] = (w @ A16.T).min(axis=1)
    return out


def _distance_histogram(sols, ref, N):
    return np.bincount(np.bitwise_count(sols ^ ref).astype(np.int64), minlength=N + 1)


def _parse_refs(refs, kappa):
    out = []
    for r in refs:
        if r in ("typical", "max-margin", "densest"):
            out.append((r, None))
        elif isinstance(r, str) and r.startswith("margin="):
            try:
                k = float(r.split("=", 1)[1])
            except ValueError:
                raise ParameterError("references", f"reference margin must be a number: {r!r}") from None
            if not math.isfinite(k) or k < kappa:
                raise ParameterError("references", f"reference margin must be finite and >= kappa: {r!r}")
            out.append((r, k))
        else:
            raise ParameterError("references", f"unknown reference {r!r}; use typical, margin=K, "
                                               "max-margin or densest")
    return out


@dataclass(frozen=True)
class BinaryEnumerationResult:
    """Outcome of :func:`enumerate_binary`. Indices: [N][alpha].

    Attributes
    ----------
    kappa : float
    N, alpha : list
    P, alpha_eff : [N][alpha]
        P = round(αN) and P/N.
    samples, seed : int
    counts : [N][alpha] list of int
        Number of solutions of every instance.
    zero_fraction : [N][alpha]
        Fraction of instances with no solution.
    entropy, entropy_stderr : [N][alpha]
        Quenched (1/N)⟨ln 𝒩⟩ over the instances with 𝒩 > 0, and its standard error
        (None if fewer than two such instances).
    annealed, annealed_exact : [N][alpha]
        (1/N) ln⟨𝒩⟩ measured (None if all zero) and exact (:func:`binary_annealed_count`).
    annealed_z : [N][alpha]
        (⟨𝒩⟩ − exact)/(sample standard error): a diagnostic of the enumeration. The
        counts are heavy-tailed near capacity (rare instances with many solutions carry
        the mean), so |z| of 3–5 occurs there with a few tens of instances; a wrong
        enumeration shows up at small α, where the distribution is narrow.
    rs_entropy : [N][alpha]
        RS entropy at α_eff (Gardner & Derrida 1988), None where the saddle failed.
    rs_status : [N][alpha]
        The saddle status, or "no_rs_solution" where α_eff is at or beyond the RS q → 1
        value (no RS saddle exists there; not a failure).
    finite_size : list [alpha]
        Weighted fit of entropy − rs_entropy = a + b/N over N (needs ≥ 2 sizes with data):
        dict with ``intercept``, ``intercept_stderr``, ``slope``, ``slope_stderr``,
        ``n_sizes`` (None entries if not enough data).
    distances : dict or None
        reference → [N][alpha] dict of the finite-N Franz–Parisi curve around references:
        ``k``, ``distance`` (k/N), ``mean_count`` ⟨𝒩_k⟩ and ``count_stderr`` (over
        instances), ``annealed`` (1/N) ln⟨𝒩_k⟩ and ``annealed_stderr`` (delta method),
        ``quenched`` (1/N)⟨ln 𝒩_k⟩ over (instance, reference) pairs with 𝒩_k > 0 and
        ``quenched_stderr`` (cluster-robust: references of one instance are correlated),
        ``zero_fraction`` (pairs with 𝒩_k = 0),
        ``alpha0`` (1/N) ln C(N, k), ``n_references``, ``n_instances``,
        ``reference_margin`` (mean smallest stability of the references) — None when no
        instance had a reference.
    skipped_references : dict or None
        reference → [N][alpha] number of instances without a reference because listing
        their solutions (more than ``VALIDATION_MAX_LISTED``) or finding the densest one
        (more than ``VALIDATION_MAX_LOOKUPS`` bit look-ups) would be too costly.
    dense_radius : int or None
        Hamming radius r of the ``densest`` reference.
    status : str
        "ok" or "rs_failed" (an RS saddle point did not converge; see rs_status).
    success : bool
    message : str
    seconds : float
    """

    kappa: float
    N: list
    alpha: list
    P: list
    alpha_eff: list
    samples: int
    seed: int
    counts: list
    zero_fraction: list
    entropy: list
    entropy_stderr: list
    annealed: list
    annealed_exact: list
    annealed_z: list
    rs_entropy: list
    rs_status: list
    finite_size: list
    distances: object
    skipped_references: object
    dense_radius: object
    status: str
    success: bool
    message: str
    seconds: float

    def to_dict(self):
        """JSON-able dict (non-finite floats become None)."""
        return _jsonable(asdict(self))


def _fp_summary(hists, refmargins, N, n_inst):
    """Average distance histograms [(instance, hist)] into a finite-N FP curve."""
    if not hists:
        return None
    k = np.arange(N + 1)
    by_inst = {}
    for inst, h in hists:
        by_inst.setdefault(inst, []).append(h)
    per_inst = np.array([np.mean(v, axis=0) for v in by_inst.values()])  # mean count per instance
    mean = per_inst.mean(axis=0)
    sem = per_inst.std(axis=0, ddof=1) / math.sqrt(len(per_inst)) if len(per_inst) > 1 else None
    H = np.array([h for _, h in hists], float)
    inst = np.array([i for i, _ in hists])
    pos = H > 0
    lnH = np.log(np.where(pos, H, 1.0)) / N
    npos = pos.sum(axis=0)
    q = np.where(npos > 0, (lnH * pos).sum(axis=0) / np.maximum(npos, 1), np.nan)
    # references of one instance are correlated: cluster-robust (by instance) standard
    # error of the mean over the pairs with N_k > 0
    dev = np.where(pos, lnH - q, 0.0)
    clus = np.array([dev[inst == i].sum(axis=0) for i in by_inst])
    nclus = np.array([(pos[inst == i].any(axis=0)) for i in by_inst]).sum(axis=0)
    qse = np.where(nclus > 1, np.sqrt((clus ** 2).sum(axis=0) * nclus / np.maximum(nclus - 1, 1))
                   / np.maximum(npos, 1), np.nan)
    ann = np.where(mean > 0, np.log(np.where(mean > 0, mean, 1.0)) / N, np.nan)
    ann_se = (np.where(mean > 0, sem / (N * np.where(mean > 0, mean, 1.0)), np.nan)
              if sem is not None else None)
    return {
        "k": k.tolist(), "distance": (k / N).tolist(), "mean_count": mean.tolist(),
        "count_stderr": sem.tolist() if sem is not None else None,
        "annealed": ann.tolist(),
        "annealed_stderr": ann_se.tolist() if ann_se is not None else None,
        "quenched": q.tolist(), "quenched_stderr": qse.tolist(),
        "zero_fraction": (1 - npos / len(H)).tolist(),
        "alpha0": [math.log(math.comb(N, int(i))) / N for i in k],
        "n_references": len(H), "n_instances": len(by_inst),
        "reference_margin": float(np.mean(refmargins)) if refmargins else None,
    }


def _fit_finite_size(Ns, y, e):
    """Weighted least squares y = a + b/N; returns dict (None entries if < 2 points)."""
    # points with a vanishing standard error (P = 1: every instance has 2^(N-1)
    # solutions) carry no statistical weight information; they are left out
    pts = [(n, v, s) for n, v, s in zip(Ns, y, e) if v is not None and s is not None and s > 1e-9]
    if len(pts) < 2 or len({n for n, _, _ in pts}) < 2:
        return {"intercept": None, "intercept_stderr": None, "slope": None, "slope_stderr": None,
                "n_sizes": len(pts)}
    x = np.array([1 / n for n, _, _ in pts])
    Y = np.array([v for _, v, _ in pts])
    w = np.array([1 / s ** 2 for _, _, s in pts])
    X = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * Y)
    return {"intercept": float(beta[0]), "intercept_stderr": float(math.sqrt(cov[0, 0])),
            "slope": float(beta[1]), "slope_stderr": float(math.sqrt(cov[1, 1])), "n_sizes": len(pts)}


def enumerate_binary(kappa, N, alpha, *, samples, seed, references=(),
                     dense_radius=None) -> BinaryEnumerationResult:
    r"""Exact enumeration of the ±1 perceptron: solution counts and finite-N FP curves.

    Parameters
    ----------
    kappa : float
        Margin κ ≥ 0 of the constraints y w·ξ/√N ≥ κ.
    N : int or sequence of int
        Odd sizes, 3 ≤ N ≤ ``VALIDATION_MAX_N`` (``constants``).
    alpha : float or sequence of float
        Loads α > 0 (P = round(αN)).
    samples : int
        Instances per (N, α).
    seed : int
        Instance patterns from ``default_rng([seed, N, P])``; references from
        ``default_rng([seed, N, P, 1])``.
    references : sequence of str
        Any of "typical", "margin=K" (K ≥ κ), "max-margin", "densest" (empty: counts only).
    dense_radius : int, optional
        Hamming radius r for "densest" (required with it).

    Returns
    -------
    BinaryEnumerationResult

    Examples
    --------
    >>> r = enumerate_binary(0.0, [9], [0.5], samples=3, seed=0)
    >>> r.P, len(r.counts[0][0])
    ([[4]], 3)
    """
    t0 = time.perf_counter()
    kappa = _float_list("kappa", kappa, 0.0, strict=False)
    if len(kappa) != 1:
        raise ParameterError("kappa", "enumerate_binary takes one margin kappa")
    kappa = kappa[0]
    Ns = _int_list("N", N, 3)
    for n in Ns:
        if n % 2 == 0:
            raise ParameterError("N", f"N must be odd (then w·ξ ≠ 0 for ±1 patterns), got {n}")
        if n > C.VALIDATION_MAX_N:
            raise ParameterError("N", f"N must be <= {C.VALIDATION_MAX_N} for exact enumeration, got {n}")
    alphas = _float_list("alpha", alpha, 0.0, strict=True)
    samples = _int_list("samples", samples, 1)[0]
    seed = _int_list("seed", seed, 0)[0]
    refs = _parse_refs([references] if isinstance(references, str) else list(references), kappa)
    if any(r == "densest" for r, _ in refs):
        if dense_radius is None:
            raise ParameterError("dense_radius", "the densest reference needs dense_radius (--radius), its Hamming radius r")
        dense_radius = _int_list("dense_radius", dense_radius, 1)[0]
    elif dense_radius is not None:
        dense_radius = _int_list("dense_radius", dense_radius, 1)[0]

    Ps = [_loads(n, alphas) for n in Ns]
    counts, zf, ent, ent_se, ann, ann_ex, ann_z = [], [], [], [], [], [], []
    dist = {r: [] for r, _ in refs} if refs else None
    skips = {r: [] for r, _ in refs} if refs else None
    for n, Pn in zip(Ns, Ps):
        rows = [[] for _ in range(7)]
        drow = {r: [] for r, _ in refs}
        skip_row = {r: [] for r, _ in refs}
        for P in Pn:
            rng = np.random.default_rng([seed, n, P])
            rrng = np.random.default_rng([seed, n, P, 1])
            thr = _threshold(kappa, n)
            cnt = []
            hists = {r: [] for r, _ in refs}
            margins = {r: [] for r, _ in refs}
            skipped = {r: 0 for r, _ in refs}
            for s in range(samples):
                A = _patterns(rng, P, n, "binary").astype(np.int8)
                bits, b = solution_bitset(A, thr)
                M = int(np.bitwise_count(bits).sum())
                cnt.append(M)
                if not refs or M == 0:
                    continue
                if M > C.VALIDATION_MAX_LISTED:  # too many solutions to list: no references
                    for r, _ in refs:
                        skipped[r] += 1
                    continue
                sols = solution_indices(bits, b)
                mf = None  # smallest field of every solution, computed once if needed
                for r, K in refs:
                    if r != "typical" and mf is None:
                        mf = _min_fields(A, sols)
                    if r == "typical":
                        cand = np.arange(M)
                    elif K is not None:
                        cand = np.flatnonzero(mf >= _threshold(K, n))
                    elif r == "max-margin":
                        cand = np.flatnonzero(mf == mf.max())
                    else:
                        lookups = M * sum(math.comb(n, k) for k in range(1, dense_radius + 1))
                        if lookups > C.VALIDATION_MAX_LOOKUPS:
                            skipped[r] += 1
                            continue
                        nb = _neighbour_counts(bits, b, sols, n, dense_radius)
                        cand = np.flatnonzero(nb == nb.max())
                    if cand.size == 0:
                        continue
                    many = r == "typical" or K is not None
                    size = min(cand.size, C.VALIDATION_REFERENCES_PER_INSTANCE if many else 1)
                    pick = rrng.choice(cand, size=size, replace=False)
                    mfp = mf[pick] if mf is not None else _min_fields(A, sols[pick])
                    for j, f in zip(pick, mfp):
                        hists[r].append((s, _distance_histogram(sols, sols[j], n)))
                        margins[r].append(f / math.sqrt(n))
            c = np.array(cnt, float)
            pos = c[c > 0]
            rows[0].append(cnt)
            rows[1].append(float(np.mean(c == 0)))
            e = np.log(pos) / n
            rows[2].append(float(e.mean()) if len(e) else None)
            rows[3].append(float(e.std(ddof=1) / math.sqrt(len(e))) if len(e) > 1 else None)
            rows[4].append(float(math.log(c.mean()) / n) if c.mean() > 0 else None)
            ex = binary_annealed_count(n, P, kappa)
            rows[5].append(math.log(ex) / n)
            sd = c.std(ddof=1) / math.sqrt(samples) if samples > 1 else 0.0
            rows[6].append(float((c.mean() - ex) / sd) if sd > 0 else None)
            for r, _ in refs:
                drow[r].append(_fp_summary(hists[r], margins[r], n, samples))
                skip_row[r].append(skipped[r])
        for lst, row in zip((counts, zf, ent, ent_se, ann, ann_ex, ann_z), rows):
            lst.append(row)
        for r, _ in refs:
            dist[r].append(drow[r])
            skips[r].append(skip_row[r])

    from .capacity import rs_q_to_one_capacity
    from .codegen import compile_model
    from .saddle import solve_saddle
    bm = compile_model("binary-perceptron")
    # the RS saddle exists only below the RS q -> 1 value (2/π)·α_c^sph(κ) (4/π at κ = 0,
    # Gardner & Derrida 1988); beyond it there is no RS number to compare with
    a_q1 = rs_q_to_one_capacity(bm, {"kappa": kappa})
    rs, rs_st = [], []
    for n, Pn in zip(Ns, Ps):
        rr, rst = [], []
        for P in Pn:
            if P / n >= a_q1:
                rr.append(None)
                rst.append("no_rs_solution")
                continue
            sr = solve_saddle(bm, {"alpha": P / n, "kappa": kappa})
            rr.append(sr.free_entropy if sr.success else None)
            rst.append(sr.status)
        rs.append(rr)
        rs_st.append(rst)
    fits = []
    for a in range(len(alphas)):
        # the same requested α gives slightly different α_eff = P/N at each N: the fit is
        # on the difference to the RS entropy at each N's own α_eff
        y = [None if ent[j][a] is None or rs[j][a] is None else ent[j][a] - rs[j][a]
             for j in range(len(Ns))]
        fits.append(_fit_finite_size(Ns, y, [ent_se[j][a] for j in range(len(Ns))]))

    failed = sum(st not in ("converged", "no_rs_solution") for row in rs_st for st in row)
    status = "rs_failed" if failed else "ok"
    zmax = max((abs(z) for row in ann_z for z in row if z is not None), default=None)
    msg = (f"{failed} RS saddle points did not converge (rs_status)" if failed else
           f"{samples} instances per point; RS saddle converged at every alpha_eff") + (
           f"; largest |annealed_z| {zmax:.2f}" if zmax is not None else "")
    return BinaryEnumerationResult(
        kappa=kappa, N=Ns, alpha=alphas, P=Ps, alpha_eff=[[P / n for P in Pn] for n, Pn in zip(Ns, Ps)],
        samples=samples, seed=seed, counts=counts, zero_fraction=zf, entropy=ent,
        entropy_stderr=ent_se, annealed=ann, annealed_exact=ann_ex, annealed_z=ann_z,
        rs_entropy=rs, rs_status=rs_st, finite_size=fits, distances=dist, skipped_references=skips,
        dense_radius=dense_radius, status=status, success=status == "ok", message=msg,
        seconds=time.perf_counter() - t0)
