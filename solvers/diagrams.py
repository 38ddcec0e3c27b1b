r"""Lines of the phase diagrams: local entropy of the binary perceptron, and the AT line.

* :func:`curve_shape` — the shape of one local-entropy curve S(d): whether it is
  monotonic (non-decreasing in d), its smallest finite-difference slope, and the gap
  to the α = 0 bound at the smallest distance;
* :func:`kappa_max` — κ_max(α), the largest margin at which solutions exist at load α:
  the root in κ of α_c(κ) = α (entropy-zero capacity, :func:`solvers.capacity.capacity`;
  Krauth & Mézard, J. Phys. France 50, 3057 (1989));
* :func:`alpha_u` — α_U(κ), the load where the local-entropy curve of the densest
  regions (``"dense:y=Y"``; Baldassi et al., PRL 115, 128101 (2015)) or of solutions
  of margin κ̃ → κ_max(α) (Baldassi, Lauditi, Malatesta, Perugini, Zecchina, PRL 127,
  278301 (2021), "Unveiling the structure of wide flat minima", arXiv 2107.01163,
  Fig. 2 and the "alternative analytical method" of its abstract) stops being
  monotonic in d: below it wide flat minima exist, above it the dense regions break
  up;
* :func:`alpha_at` — α_AT, the de Almeida–Thouless line of any RS model with a replicon
  observable (perceptrons, tree committees): the load where the RS replicon vanishes.

The monotonic flag of a curve sampled at a finite list of distances is the sign of
its smallest finite-difference slope; that slope is a continuous function of α, so
α_U is bracketed on the flag and then refined by ``brentq`` on the slope — the same
root as a bisection on the flag, in fewer curves. Every result carries a ``status``
and the list of curves evaluated (α, slope, flag, status), never a bare NaN.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import ParameterError
from .saddle import _jsonable

__all__ = ["CurveShape", "curve_shape", "KappaMaxResult", "kappa_max", "AlphaUResult",
           "alpha_u", "margin_reference", "AlphaATResult", "alpha_at", "DENSE_DISTANCES",
           "MARGIN_DISTANCES"]

#: Points of the default distance grids (solvers/constants.py is owned elsewhere; this
#: diagram setting lives here): 24 geometric points resolve the dip at α_U, see below.
DISTANCE_POINTS = 24
#: Default distances of the dense (y = 20) curves for α_U: the dip that appears at
#: α_U sits at d ≈ 0.02–0.04 for κ = 0 (measured at α = 0.76); 24 geometric points on
#: [0.005, 0.2] resolve it (below 0.005 the large-y saddle stiffens, q1 → 1; above 0.2
#: Ŝ → 0, see figures/local_entropy.py). Doubling this grid moves α_U(κ = 0) by less
#: than the bisection tolerance (checked in tests/test_diagrams.py, slow tier).
DENSE_DISTANCES = tuple(float(v) for v in np.geomspace(0.005, 0.2, DISTANCE_POINTS))
#: Default distances of the margin-reference curves: from d = 0.001 (the small-d gap)
#: to 0.3.
MARGIN_DISTANCES = tuple(float(v) for v in np.geomspace(0.001, 0.3, DISTANCE_POINTS))


# ============================================================================ curve shape
@dataclass(frozen=True)
class CurveShape:
    """Shape of a local-entropy curve.

    Attributes
    ----------
    status : str
        "converged" (every point converged) or the curve's first failure status
        ("branch_ended", "start_failed", "reference_failed", ...).
    monotonic : bool or None
        S non-decreasing in d over all converged points; None unless ``status`` is
        "converged".
    min_slope : float or None
        min over neighbouring points of ΔS/Δd (negative: not monotonic).
    argmin_distance : float or None
        Midpoint of the interval where that slope is attained (where the dip is).
    small_distance, local_entropy_small, bound_small, gap_small : float or None
        The smallest requested distance, S there, the α = 0 bound there and
        bound − S (≥ 0).
    n_converged : int
    """

    status: str
    monotonic: object
    min_slope: object
    argmin_distance: object
    small_distance: float
    local_entropy_small: object
    bound_small: float
    gap_small: object
    n_converged: int

    def to_dict(self):
        return _jsonable(asdict(self))


def curve_shape(curve) -> CurveShape:
    """The :class:`CurveShape` of a :class:`solvers.local_entropy.LocalEntropyCurve`.

    The slope is taken over the converged points with d ≤ the curve's typical
    distance (margin and typical references: beyond it S(d) falls, the reference's
    typical neighbours being at that distance), over all points for dense references
    (no typical distance) — the same points as ``curve.monotonic``, whose flag this
    reproduces (tests/test_diagrams.py), with the slope added.
    """
    d = np.asarray(curve.distance, float)
    order = np.argsort(d)
    ok = np.array([s == "converged" for s in curve.status])
    n_ok = int(ok.sum())
    i0 = int(order[0])
    bound0 = float(curve.alpha0_bound[i0])
    status = "converged" if n_ok == len(d) else next(s for s in curve.status if s != "converged")
    d_top = curve.typical_distance if curve.typical_distance is not None else math.inf
    order = [i for i in order if d[i] <= d_top]
    if status == "converged" and len(order) < 2:
        status = "too_few_distances"
    if status != "converged":
        return CurveShape(status, None, None, None, float(d[i0]), None, bound0, None, n_ok)
    s = np.array([curve.local_entropy[i] for i in order], float)
    ds = d[order]
    slope = np.diff(s) / np.diff(ds)
    j = int(np.argmin(slope))
    s0 = float(curve.local_entropy[i0])
    return CurveShape("converged", bool(np.all(np.diff(s) >= -1e-12)), float(slope[j]),
                      float(0.5 * (ds[j] + ds[j + 1])), float(d[i0]), s0, bound0,
                      float(bound0 - s0), n_ok)


# ============================================================================ kappa_max
@dataclass(frozen=True)
class KappaMaxResult:
    """Outcome of :func:`kappa_max`.

    Attributes
    ----------
    alpha : float
    kappa_max : float or None
        κ with α_c(κ) = α; None unless ``status`` is "converged".
    status : str
        "converged", "no_bracket" (α_c(κ) − α does not change sign on the searched
        κ interval) or "capacity_failed" (a capacity evaluation failed).
    success : bool
    message : str
    evaluations : int
        Capacity computations used.
    seconds : float
    """

    alpha: float
    kappa_max: object
    status: str
    success: bool
    message: str
    evaluations: int
    seconds: float

    def to_dict(self):
        return _jsonable(asdict(self))


def kappa_max(model, alpha, *, tol=1e-7, kappa_bracket=(-1.0, 3.0)) -> KappaMaxResult:
    r"""Largest margin at load α: the root κ_max of :math:`\alpha_c(\kappa) = \alpha`.

    α_c(κ) (entropy-zero capacity of the ±1 perceptron, Krauth & Mézard 1989) is
    decreasing in κ, so the root is unique; it is found by ``brentq`` on
    ``capacity(model, {"kappa": κ}).alpha_c − α``.

    Parameters
    ----------
    model : str or CompiledModel
        ``"binary-perceptron"`` (any RS model with controls alpha, kappa).
    alpha : float
        The load, > 0.
    tol : float
        Absolute tolerance on κ_max.
    kappa_bracket : (float, float)
        The κ interval searched.

    Returns
    -------
    KappaMaxResult

    Examples
    --------
    >>> from solvers.diagrams import kappa_max
    >>> r = kappa_max("binary-perceptron", 0.6)
    >>> r.status, round(r.kappa_max, 4)
    ('converged', 0.2627)
    """
    from scipy.optimize import brentq

    from .capacity import capacity
    from .codegen import compile_model
    t0 = time.perf_counter()
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise ParameterError("alpha", f"alpha must be a finite number > 0, got {alpha!r}")
    m = compile_model(model) if isinstance(model, str) else model
    count = [0]

    class _Fail(Exception):
        pass

    def f(k):
        count[0] += 1
        r = capacity(m, {"kappa": float(k)})
        if not r.success:
            raise _Fail(f"capacity at kappa={k:.6g}: {r.status} ({r.message})")
        return r.alpha_c - alpha

    def out(k, status, msg):
        return KappaMaxResult(float(alpha), k, status, status == "converged", msg, count[0],
                              time.perf_counter() - t0)
    lo, hi = (float(v) for v in kappa_bracket)
    try:
        flo, fhi = f(lo), f(hi)
        if flo * fhi > 0:
            return out(None, "no_bracket", f"alpha_c(kappa) - alpha has one sign on "
                                           f"[{lo}, {hi}] ({flo:.3g}, {fhi:.3g})")
        k = brentq(f, lo, hi, xtol=tol)
    except _Fail as exc:
        return out(None, "capacity_failed", str(exc))
    return out(float(k), "converged", f"alpha_c({k:.6g}) = {alpha}")


def margin_reference(fraction, *, tol=1e-7):
    """A reference factory for :func:`alpha_u`: α ↦ ``"margin=K"`` with
    K = ``fraction`` · κ_max(α) (κ_max of the binary perceptron). Raises
    ParameterError if κ_max(α) cannot be found."""
    if not (0 <= fraction < 1):
        raise ParameterError("fraction", f"the margin fraction must be in [0, 1), got {fraction!r}")

    def ref(alpha, model="binary-perceptron"):
        r = kappa_max(model, alpha, tol=tol)
        if not r.success:
            raise ParameterError("alpha", f"no kappa_max at alpha={alpha}: {r.message}")
        return f"margin={fraction * r.kappa_max!r}"
    ref.fraction = fraction
    return ref


# ============================================================================ alpha_U
@dataclass(frozen=True)
class AlphaUResult:
    """Outcome of :func:`alpha_u`.

    Attributes
    ----------
    kappa : float
    reference : str
        The reference spec (``"dense:y=20"``) or ``"margin=<fraction>*kappa_max"``.
    alpha_u : float or None
        Load where the curve stops being monotonic; None unless ``status`` is
        "converged".
    bracket : (float, float) or None
        Last α with a monotonic curve and first α with a non-monotonic one.
    status : str
        "converged"; "monotonic_up_to_hi" (monotonic at every α tried up to the top of
        the search interval); "not_monotonic_at_lo"; "curve_failed" (a curve needed for
        the bracket did not converge: the failing α and status are in
        ``evaluations``; on the upward search a failed curve is first bisected
        against the last monotonic one, and the status is returned only if no
        complete non-monotonic curve lies between them to within ``tol`` — then
        ``bracket`` is (last monotonic α, first failed α)).
    success : bool
    message : str
    evaluations : list of dict
        Every curve computed: alpha, reference, status, monotonic, min_slope,
        argmin_distance, gap_small, seconds.
    distances : list of float
    tol : float
    seconds : float
    """

    kappa: float
    reference: str
    alpha_u: object
    bracket: object
    status: str
    success: bool
    message: str
    evaluations: list = field(default_factory=list)
    distances: list = field(default_factory=list)
    tol: float = 0.0
    seconds: float = 0.0

    def to_dict(self):
        return _jsonable(asdict(self))


def alpha_u(model, kappa, *, reference="dense:y=20", distances=None, tol=1e-3,
            alpha_range=None, step=None) -> AlphaUResult:
    r"""α_U(κ): the load where the local-entropy curve stops being monotonic.

    Parameters
    ----------
    model : str
        ``"binary-perceptron"``.
    kappa : float
        Margin of the solutions whose local entropy is measured.
    reference : str or callable
        ``"dense:y=Y"`` (densest regions at finite y; default y = 20: the
        finite-y curve is lower than y → ∞ by O(1/y²), and so is α_U) or a callable
        ``alpha -> reference spec`` such as :func:`margin_reference` (κ̃ a fixed
        fraction of κ_max(α), the PRL 2021 route).
    distances : sequence of float, optional
        Where each curve is sampled (default :data:`DENSE_DISTANCES` for dense,
        :data:`MARGIN_DISTANCES` otherwise).
    tol : float
        Absolute tolerance on α_U (``brentq`` xtol on the smallest slope).
    alpha_range : (float, float), optional
        Search interval; default (0.5 α_c(κ), α_c(κ) − 1e-3).
    step : float, optional
        Step of the search for a bracket (default (hi − lo)/8): upward from ``lo``
        to the first non-monotonic curve, or downward from ``lo`` if ``lo`` is
        already non-monotonic. Curves are memoised by α (brentq reuses the ends).

    Returns
    -------
    AlphaUResult

    Raises
    ------
    ParameterError
        A bad reference, tolerance or interval, or no capacity at κ.

    Notes
    -----
    Cost: one curve (~3–5 s for 24 dense distances) per α tried: the upward search
    (≤ ~8 curves) and about 4–6 brentq steps.
    """
    from scipy.optimize import brentq

    from .capacity import capacity
    from .local_entropy import local_entropy, parse_dense
    t0 = time.perf_counter()
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ParameterError("tol", f"tol must be > 0, got {tol!r}")
    if callable(reference):
        ref_fn = reference
        label = f"margin={getattr(reference, 'fraction', '?')}*kappa_max"
        default_d = MARGIN_DISTANCES
    else:
        if parse_dense(reference) is None:
            raise ParameterError("reference", f"alpha_u takes 'dense:y=Y' or a callable "
                                              f"alpha -> reference, got {reference!r}")
        ref_fn, label, default_d = (lambda a: reference), reference, DENSE_DISTANCES
    dist = [float(v) for v in (default_d if distances is None else distances)]
    if alpha_range is None:
        cap = capacity(model, {"kappa": float(kappa)})
        if not cap.success:
            raise ParameterError("kappa", f"no capacity at kappa={kappa}: {cap.message}")
        alpha_range = (0.5 * cap.alpha_c, cap.alpha_c - 1e-3)
    lo, hi = (float(v) for v in alpha_range)
    if not 0 < lo < hi:
        raise ParameterError("alpha_range", f"alpha_range must be 0 < lo < hi, got {alpha_range}")
    step = (hi - lo) / 8 if step is None else float(step)
    evals = []

    def shape(a):
        t = time.perf_counter()
        ref = ref_fn(a)
        c = local_entropy(model, {"alpha": float(a), "kappa": float(kappa)},
                          reference=ref, distances=dist)
        sh = curve_shape(c)
        evals.append({"alpha": float(a), "reference": ref, "status": sh.status,
                      "monotonic": sh.monotonic, "min_slope": sh.min_slope,
                      "argmin_distance": sh.argmin_distance, "gap_small": sh.gap_small,
                      "seconds": time.perf_counter() - t})
        return sh

    def out(value, bracket, status, msg):
        return AlphaUResult(float(kappa), label, value, bracket, status, status == "converged",
                            msg, evals, dist, float(tol), time.perf_counter() - t0)

    memo = {}

    def shape_m(a):
        a = float(a)
        if a not in memo:
            memo[a] = shape(a)
        return memo[a]

    # 1. bracket: from lo upward (or downward if lo is already non-monotonic) in steps
    s_lo = shape_m(lo)
    if s_lo.status != "converged":
        return out(None, None, "curve_failed", f"curve at alpha={lo:.6g}: {s_lo.status}")
    a_lo = a_hi = None
    if s_lo.monotonic:
        a_lo = a = lo
        while a < hi:
            a = min(hi, a + step)
            sh = shape_m(a)
            if sh.status != "converged":
                # the dip appears below the load where the dense branch starts to end
                # inside the distance window (kappa = 0, y = 20: alpha_U = 0.758, the
                # 24-point curve ends from 0.768): bisect between the last monotonic
                # curve and the failed one for a complete, non-monotonic curve
                a_fail, st_fail = a, sh.status
                while a_fail - a_lo > tol:
                    mid = 0.5 * (a_lo + a_fail)
                    sm = shape_m(mid)
                    if sm.status != "converged":
                        a_fail, st_fail = mid, sm.status
                    elif sm.monotonic:
                        a_lo = mid
                    else:
                        a_hi = mid
                        break
                if a_hi is None:
                    return out(None, (a_lo, a_fail), "curve_failed",
                               f"curves monotonic up to alpha={a_lo:.6g} and {st_fail} from "
                               f"alpha={a_fail:.6g} (within tol): no complete non-monotonic "
                               f"curve in between")
                break
            if not sh.monotonic:
                a_hi = a
                break
            a_lo = a
        if a_hi is None:
            return out(None, (a_lo, None), "monotonic_up_to_hi", f"monotonic up to alpha={hi:.6g}")
    else:
        a_hi = a = lo
        while a_lo is None:
            a = a - step
            if a <= 0:
                return out(None, (None, a_hi), "not_monotonic_at_lo",
                           f"not monotonic at any alpha tried down to {a + step:.6g}")
            sh = shape_m(a)
            if sh.status != "converged":
                return out(None, (a, a_hi), "curve_failed", f"curve at alpha={a:.6g}: {sh.status}")
            if sh.monotonic:
                a_lo = a
            else:
                a_hi = a

    class _Fail(Exception):
        pass

    def g(a):
        sh = shape_m(a)
        if sh.status != "converged":
            raise _Fail(a, sh.status)
        return sh.min_slope

    # 2. refine: the smallest slope is >= 0 (flag True) at a_lo and < 0 at a_hi
    try:
        root = brentq(g, a_lo, a_hi, xtol=tol)
    except _Fail as exc:
        return out(None, (a_lo, a_hi), "curve_failed",
                   f"curve at alpha={exc.args[0]:.6g}: {exc.args[1]} inside the bracket")
    good = [e["alpha"] for e in evals if e["monotonic"] is True]
    bad = [e["alpha"] for e in evals if e["monotonic"] is False]
    br = (max(a for a in good if a <= root + tol), min(a for a in bad if a >= root - tol))
    return out(float(root), br, "converged",
               f"alpha_U = {root:.5g} (curves monotonic up to {br[0]:.5g}, not from {br[1]:.5g})")


# ============================================================================ AT line
@dataclass(frozen=True)
class AlphaATResult:
    """Outcome of :func:`alpha_at`.

    Attributes
    ----------
    model : str
    controls : dict
        The controls other than the load.
    alpha_at : float or None
        Load where the replicon vanishes on the RS branch; None unless ``status`` is
        "converged".
    q_at, qhat_at : float or None
        The RS saddle there.
    status : str
        "converged"; "stable_on_branch" (replicon > 0 at every q scanned, up to
        ``q_max``); "unstable_at_q_min" (already negative at the first q);
        "non_finite" (a saddle or replicon evaluation was not finite: its q is in
        ``message``).
    success : bool
    message : str
    scan : dict
        The q grid of the bracketing scan with α(q) and the replicon there.
    seconds : float
    """

    model: str
    controls: dict
    alpha_at: object
    q_at: object
    qhat_at: object
    status: str
    success: bool
    message: str
    scan: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self):
        return _jsonable(asdict(self))


#: q grid of the bracketing scan of :func:`alpha_at`: 1 − q geometric from 1 − q_min
#: to 1 − q_max, this many points (the replicon is smooth in q; the root is then
#: refined by brentq, so the grid only has to separate sign changes).
AT_SCAN_POINTS = 16


def alpha_at(model, controls=None, *, q_min=0.02, q_max=0.999, tol=1e-10) -> AlphaATResult:
    r"""The de Almeida–Thouless line: the load α_AT where the RS replicon vanishes.

    The RS branch is parametrised by its overlap q: the conjugate equation
    :math:`\partial_{\hat q}\Phi = 0` does not involve α (it is the prior's), so it gives
    :math:`\hat q(q)`, and since Φ is affine in α, :math:`\partial_q\Phi = 0` gives
    :math:`\alpha(q)` in closed form (:func:`solvers.capacity.rs_branch_point`, the route
    of :func:`solvers.capacity.capacity` towards q → 1). The replicon :math:`\lambda(q) = 1 - \alpha\gamma_{in}\gamma_{out}`
    (de Almeida & Thouless, J. Phys. A 11, 983 (1978); Gardner & Derrida, J. Phys. A
    21, 271 (1988) eq. (38); the model's ``replicon`` observable) is scanned on
    :data:`AT_SCAN_POINTS` values of q in [q_min, q_max]; its first sign change from
    positive to negative is refined by ``brentq`` in q, and α_AT = α(q_AT). Any RS
    model with a ``replicon`` observable (perceptrons, tree committees) works.

    Parameters
    ----------
    model : str, FreeEnergy or CompiledModel
    controls : dict
        Every control except the load (e.g. ``{"kappa": 0.0}``); ``{}`` if there is
        none. No default: a missing control raises ParameterError naming it.
    q_min, q_max : float
        The part of the branch scanned, 0 < q_min < q_max < 1.
    tol : float
        Absolute tolerance on q_AT.

    Returns
    -------
    AlphaATResult

    Examples
    --------
    The binary perceptron's RS solution becomes unstable at α_AT ≈ 1.015, beyond its
    capacity 0.833 (Gardner & Derrida 1988):

    >>> from solvers.diagrams import alpha_at
    >>> r = alpha_at("binary-perceptron", {"kappa": 0.0})
    >>> r.status, round(r.alpha_at, 3)
    ('converged', 1.015)
    """
    from scipy.optimize import brentq

    from .capacity import rs_branch_point
    from .codegen import compile_model
    from .saddle import validate_controls
    t0 = time.perf_counter()
    m = compile_model(model) if not hasattr(model, "observables_at") else model
    fe = m.free_energy
    load = fe.meta.get("load", "alpha")
    if fe.meta.get("ansatz") != "rs" or list(m.variables) != ["q", "qhat"]:
        raise ParameterError("model", f"alpha_at needs an RS model with variables (q, qhat), got "
                                      f"{fe.name!r}")
    if "replicon" not in {o.name for o in fe.observables}:
        raise ParameterError("model", f"model {fe.name!r} has no replicon observable")
    if controls is None:
        raise ParameterError("controls", "controls: give every control except the load (e.g. {'kappa': 0.0}, "
                                         "or {} if there is none)")
    if load in controls:
        raise ParameterError(load, f"{load}: the load is what alpha_at finds; do not give it")
    ctl = validate_controls(m, {**controls, load: 1.0})
    ctl.pop(load)
    for name, v in (("q_min", q_min), ("q_max", q_max)):
        if not (isinstance(v, (int, float)) and 0 < v < 1):
            raise ParameterError(name, f"{name} must be in (0, 1), got {v!r}")
    if not q_min < q_max:
        raise ParameterError("q_max", f"q_max must exceed q_min, got {q_max!r} <= {q_min!r}")

    class _Fail(Exception):
        pass

    memo = {}

    def branch(q):
        """(λ, α, q̂) on the RS branch at overlap q."""
        if q in memo:
            return memo[q]

        try:
            x, a = rs_branch_point(m, ctl, load, q)
        except ValueError as exc:
            raise _Fail(q, f"no conjugate qhat at q={q:.6g} ({exc})") from None
        lam = float(m.observables_at(x, {**ctl, load: a})["replicon"])
        if not (math.isfinite(a) and math.isfinite(lam)):
            raise _Fail(q, f"non-finite alpha={a!r} or replicon={lam!r} at q={q:.6g}")
        memo[q] = (lam, a, x[1])
        return memo[q]

    qs = [float(v) for v in 1 - np.geomspace(1 - q_min, 1 - q_max, AT_SCAN_POINTS)]
    scan = {"q": [], "alpha": [], "replicon": []}

    def out(a, q, qh, status, msg):
        return AlphaATResult(fe.name, dict(ctl), a, q, qh, status, status == "converged", msg,
                             scan, time.perf_counter() - t0)
    try:
        prev = None
        for q in qs:
            lam, a, _ = branch(q)
            scan["q"].append(q), scan["alpha"].append(a), scan["replicon"].append(lam)
            if lam <= 0:
                if prev is None:
                    return out(None, None, None, "unstable_at_q_min",
                               f"replicon {lam:.3g} <= 0 already at q = {q:.6g} (alpha = {a:.6g})")
                break
            prev = q
        else:
            return out(None, None, None, "stable_on_branch",
                       f"replicon > 0 on the RS branch up to q = {q_max} (alpha = {scan['alpha'][-1]:.6g})")
        q_at = brentq(lambda q: branch(q)[0], prev, q, xtol=tol)
    except _Fail as exc:
        return out(None, None, None, "non_finite", exc.args[1])
    lam, a, qh = branch(q_at)
    return out(float(a), float(q_at), float(qh), "converged",
               f"replicon = 0 at q = {q_at:.8g}, alpha_AT = {a:.8g}")
