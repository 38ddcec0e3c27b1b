r"""Storage capacity of RS models: q → 1 limit (continuous weights) or entropy zero (±1).

* Continuous priors (spherical): the capacity is where the typical overlap q → 1,
  :math:`\alpha_c = -c_S/c_E` with the coefficients derived symbolically by
  :func:`replica.asymptotics.q_to_one_capacity` (Gardner, J. Phys. A 21, 257 (1988),
  eq. (33): :math:`\alpha_c(\kappa) = 1/\int_{-\kappa}^\infty Dt\,(t+\kappa)^2`).
  Cross-check: the saddle is solved at fixed :math:`q = 1-\varepsilon` for the α that
  makes it stationary (Φ is affine in α), for ε = 1e-3 … 1e-5; α(ε) is linear in ε
  to leading order and its Richardson extrapolation must agree with the analytic
  value. The de Almeida–Thouless replicon is reported along the same approach (RS is
  unstable near capacity for κ < 0, marginal at κ = 0; Gardner & Derrida 1988).
* Discrete priors (±1): the RS entropy reaches zero before q → 1; the capacity is the
  α where the RS free entropy of the branch connected to small α vanishes
  (Krauth & Mézard, J. Phys. France 50, 3057 (1989): 0.833 at κ = 0, which the
  frozen-1RSB solution confirms). The RS q → 1 value (4/π at κ = 0, Gardner &
  Derrida 1988) is reported as ``alpha_rs_q_to_1`` for contrast: it is not the
  capacity.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import brentq

from replica.asymptotics import q_to_one_capacity

from . import constants as C
from .codegen import CompiledModel, compile_model
from .errors import ConvergenceError, ParameterError
from .saddle import SaddleResult, _bounds, _initial_point, _jsonable, solve_saddle, validate_controls

__all__ = ["CapacityResult", "capacity", "rs_q_to_one_capacity"]


@dataclass(frozen=True)
class CapacityResult:
    """Outcome of :func:`capacity` (same fields for every criterion).

    Attributes
    ----------
    model : str
    controls : dict
        The controls other than the load α.
    alpha_c : float
    status : str
        "converged", "check_failed" (the independent numerical route disagrees),
        "branch_ended" (the RS branch was lost before the entropy vanished),
        "no_root" or "non_finite".
    success : bool
    message : str
    criterion : str
        "q_to_1" or "entropy_zero".
    rs_stable : bool or None
        de Almeida–Thouless stability of the RS solution at (or approaching) capacity.
    replicon : float or None
        The AT eigenvalue there (−inf where it diverges as q → 1: finite-K sign
        committees; null in JSON).
    alpha_rs_q_to_1 : float or None
        The RS q → 1 value (the capacity itself for continuous weights; only a wrong
        RS bound for ±1 weights).
    check : dict
        The independent numerical route and its agreement.
    saddle : dict or None
        The saddle point at capacity (entropy-zero criterion), as ``SaddleResult.to_dict``.
    seconds : float
    """

    model: str
    controls: dict
    alpha_c: float
    status: str
    success: bool
    message: str
    criterion: str
    rs_stable: object
    replicon: object
    alpha_rs_q_to_1: object
    check: dict
    saddle: object
    seconds: float

    def raise_for_status(self):
        if not self.success:
            raise ConvergenceError(self)
        return self

    def to_dict(self):
        return _jsonable(asdict(self))


def rs_q_to_one_capacity(model: CompiledModel, controls: dict):
    """The RS q → 1 capacity, from the symbolically derived limit (vectorised: array
    controls give an array). The derivation runs once and is cached with the model."""
    fe = model.free_energy

    def build():
        others = [s for s in fe.controls if s.name != fe.meta["load"]]
        return q_to_one_capacity(fe), others

    f, names = model.derived("q_to_one_capacity", build)
    out = np.asarray(f(*[controls[n] for n in names]), dtype=float)
    return float(out) if out.ndim == 0 else out


def _load_affine_alpha(model, x, controls, load):
    """α making ∂Φ/∂q vanish at fixed (q, q̂): Φ is affine in α."""
    g0 = model.gradient(x, {**controls, load: 0.0})[0]
    g1 = model.gradient(x, {**controls, load: 1.0})[0]
    return float(-g0 / (g1 - g0))


def rs_branch_point(model, controls, load, q):
    """The RS saddle at overlap q, parametrised by q: ([q, q̂], α). The conjugate
    equation ∂Φ/∂q̂ = 0 does not involve the load (it is the prior's), so q̂ follows by
    brentq in ln q̂ at α = 0; then α makes q stationary (:func:`_load_affine_alpha`).
    Raises ValueError when the conjugate equation has no root in q̂ ∈ [e^-30, e^80]."""
    def g_hat(lq):
        return float(model.gradient([q, math.exp(lq)], {**controls, load: 0.0})[1])

    lq = brentq(g_hat, -30.0, 80.0, xtol=1e-13)
    x = [q, math.exp(lq)]
    return x, _load_affine_alpha(model, x, controls, load)


def _approach(model, controls, load, eps_list):
    """Solve the conjugate equation at q = 1 - ε and the α that makes q stationary."""
    alphas, replicons = [], []
    for eps in eps_list:
        x, a = rs_branch_point(model, controls, load, 1.0 - eps)
        alphas.append(a)
        replicons.append(float(model.observables_at(x, {**controls, load: a}).get("replicon", np.nan)))
    return alphas, replicons


def capacity(model, controls, *, tol=1e-9) -> CapacityResult:
    r"""RS storage capacity :math:`\alpha_c` of ``model`` at the given controls.

    Parameters
    ----------
    model : FreeEnergy, CompiledModel or str
        An RS model built by :func:`replica.ansatz.replica_symmetric`.
    controls : dict
        All controls except the load α (e.g. ``{"kappa": 0.5}``).
    tol : float
        Absolute tolerance on α_c for the entropy-zero root.

    Returns
    -------
    CapacityResult
        ``alpha_c`` with its ``status``, the ``criterion`` used ("q_to_1" or
        "entropy_zero"), the AT stability ``rs_stable`` and the independent ``check``.

    Raises
    ------
    ParameterError
        The load α is given (it is the output), or another control is missing or bad.

    Examples
    --------
    Gardner's α_c(0) = 2 for spherical weights (J. Phys. A 21, 257 (1988), eq. (33)),
    and the Krauth–Mézard value 0.833 for ±1 weights (J. Phys. France 50, 3057 (1989)),
    where the RS q → 1 value 4/π is reported for contrast only:

    >>> from solvers import capacity
    >>> c = capacity("spherical-perceptron", {"kappa": 0.0})
    >>> c.criterion, round(c.alpha_c, 10)
    ('q_to_1', 2.0)
    >>> b = capacity("binary-perceptron", {"kappa": 0.0})
    >>> b.criterion, round(b.alpha_c, 6), round(b.alpha_rs_q_to_1, 6)
    ('entropy_zero', 0.833079, 1.27324)
    """
    t0 = time.perf_counter()
    m = compile_model(model) if not isinstance(model, CompiledModel) else model
    fe = m.free_energy
    if fe.meta.get("ansatz") != "rs" or "load" not in fe.meta:
        raise ValueError(f"capacity() needs an RS model from replica_symmetric(); {m.name} is not")
    load = fe.meta["load"]
    if load in controls:
        raise ParameterError(load, f"capacity() computes {load}; do not set it")
    controls = validate_controls(m, controls, allow_missing=(load,))
    try:
        a_q1 = rs_q_to_one_capacity(m, controls)
    except NotImplementedError:
        a_q1 = None
    if a_q1 is not None and not math.isfinite(a_q1):
        a_q1 = None
    if fe.meta["prior"].discrete:
        return _entropy_zero(m, controls, load, tol, a_q1, t0)
    return _q_to_one(m, controls, load, a_q1, t0)


def _q_to_one(m, controls, load, a_q1, t0):
    common = dict(model=m.name, controls=dict(controls), criterion="q_to_1", saddle=None,
                  alpha_rs_q_to_1=a_q1)
    if a_q1 is None:
        return CapacityResult(alpha_c=float("nan"), status="non_finite", success=False,
                              message="the q → 1 limit is not finite here", rs_stable=None,
                              replicon=None, check={}, seconds=time.perf_counter() - t0, **common)
    if m.free_energy.meta.get("q_to_one_check", True) is False:
        # models without a finite-q evaluation (meta["q_to_one_check"] = False; none in
        # the catalogue: the finite-K ReLU committees have one since their contour
        # estimator): the limit alone, said so in the message and in `check`
        return CapacityResult(
            alpha_c=a_q1, status="converged", success=True,
            message="q → 1 limit (no finite-q numerical cross-check for this model)",
            rs_stable=None, replicon=None, check={"skipped": "no finite-q evaluation"},
            seconds=time.perf_counter() - t0, **common)
    eps = [1e-3, 1e-4, 1e-5]
    alphas, reps = _approach(m, controls, load, eps)
    # α(ε) = α_c + a ε + o(ε) and λ_AT(ε) = λ_AT(0) + b √ε + o(√ε) (both measured):
    # Richardson extrapolation on the last two points
    # (a model whose α(ε) has a leading ε^p correction with p ≠ 1 states p in
    # meta["q_to_one_exponent"]: the ReLU committee at K → ∞ has p = 1/2)
    p = m.free_energy.meta.get("q_to_one_exponent", 1.0)
    extrap = alphas[-1] + (alphas[-1] - alphas[-2]) * eps[-1]**p / (eps[-2]**p - eps[-1]**p)
    s1, s2 = math.sqrt(eps[-2]), math.sqrt(eps[-1])
    rep_lim = reps[-1] + (reps[-1] - reps[-2]) * s2 / (s1 - s2)
    rq = m.free_energy.meta.get("replicon_q_to_one")
    if rq == "diverges" or (rq == "diverges for kappa < 0" and float(controls.get("kappa", 0.0)) < 0):
        # finite-K sign committees: λ_AT ≃ −c/(1 − q) (replica.committee.
        # SignCommitteeReplicon), no finite limit: −inf when the approach says so
        # (the K = 2 ReLU margin family only at κ < 0, where its output region is a union)
        rep_lim = -math.inf if reps[-1] < reps[-2] < 0 else math.nan
    rel = abs(extrap - a_q1) / abs(a_q1)
    # 1e-4: the o(ε) remainder after Richardson at ε = 1e-5 (measured: < 2e-5 for
    # κ in [-1, 3]); a wrong limit derivation would be off by O(1). Models whose
    # energetic term is a Monte Carlo estimate (tree committees) state their own
    # tolerance in meta["q_to_one_check_rtol"].
    ok = rel < m.free_energy.meta.get("q_to_one_check_rtol", 1e-4)
    # AT: for the spherical perceptron λ_AT → 1 - α_c(κ) H(-κ) (tested), which is 0
    # at κ = 0 (marginal), > 0 for κ > 0, < 0 for κ < 0. The extrapolation error is
    # ~1e-4, so values above -C.AT_MARGINAL count as (marginally) stable.
    stable = bool(rep_lim > -C.AT_MARGINAL) if (math.isfinite(rep_lim) or rep_lim == -math.inf) else None
    check = {"one_minus_q": eps, "alpha": alphas, "extrapolated": extrap,
             "relative_discrepancy": rel, "replicon": reps, "replicon_limit": rep_lim}
    return CapacityResult(
        alpha_c=a_q1, status="converged" if ok else "check_failed", success=ok,
        message=("analytic q → 1 limit, confirmed by the numerical approach "
                 f"(relative discrepancy {rel:.1e})") if ok else
                f"numerical approach disagrees with the analytic limit (rel. {rel:.1e})",
        rs_stable=stable, replicon=rep_lim, check=check,
        seconds=time.perf_counter() - t0, **common)


def _inner_solve(m, c, x, fixed_point=True):
    """Lean saddle solve at controls ``c`` from ``x`` (no diagnostics): Newton, and
    if Newton is lost (and ``fixed_point``), the damped fixed point (robust basin)
    handing over to Newton."""
    from .saddle import _Counter, _fixed_point, _newton
    cnt = _Counter(m, c)
    x = np.asarray(x, float)
    xn, _, status, _ = _newton(cnt, x, C.SOLVER_TOL, C.NEWTON_MAXITER, max_backtracks=8)
    if status == "converged":
        return xn
    if fixed_point and m.has_fixed_point:
        x1, _, st, _ = _fixed_point(cnt, x, C.AUTO_HANDOVER_RESIDUAL, C.FIXED_POINT_DAMPING, 500)
        if st == "converged":
            xn, _, status, _ = _newton(cnt, x1, C.SOLVER_TOL, C.NEWTON_MAXITER)
            if status == "converged":
                return xn
    return None


def _newton_in_load(m, controls, load, x, a, a_max, tol):
    """Root of Φ(α) on the RS branch: safeguarded Newton in α.

    By the envelope theorem dΦ/dα = ∂Φ/∂α = (Φ(x;α) - Φ(x;0))/α at the saddle (Φ is
    affine in α), and dx/dα = -H⁻¹ ∂_α∇Φ gives a predictor for the next saddle.
    Φ(α) is concave and decreasing on the branch, so Newton converges monotonically
    once past the root; steps are kept inside the bracket [Φ > 0, Φ < 0 or a_max]
    (bisection otherwise). Returns (α, x) or None.
    """
    lo, hi = a, a_max
    cap = 0.25 * (a_max - a)  # trust region on the α step, adapted as we go
    for _ in range(80):
        c, c0 = {**controls, load: a}, {**controls, load: 0.0}
        v, g, h = m.value_and_derivatives(x, c)
        v, v0 = float(v), float(m.value(x, c0))
        dv = (v - v0) / a
        if v > 0:
            lo = max(lo, a)
        else:
            hi = min(hi, a)
        if abs(v) < 1e-13 or hi - lo < tol:
            return a, x
        a_new = a - v / dv if dv < 0 else 0.5 * (lo + hi)
        a_new = min(max(a_new, a - cap), a + cap)
        if not lo < a_new < hi:
            a_new = 0.5 * (lo + hi)
        try:
            dx = -np.linalg.solve(h, (g - m.gradient(x, c0)) / a)
        except np.linalg.LinAlgError:
            dx = np.zeros_like(x)
        lo_b, hi_b = _bounds(m)
        guess = np.clip(x + (a_new - a) * dx, lo_b + 1e-12, hi_b - 1e-12)
        # Newton from the predictor, then from the last solution; if both fail the
        # step was too long, and shortening it is cheaper than rescuing it
        c_new = {**controls, load: a_new}
        xn = _inner_solve(m, c_new, guess, fixed_point=False)
        if xn is None:
            xn = _inner_solve(m, c_new, x, fixed_point=False)
        if xn is None:
            cap = 0.25 * abs(a_new - a)  # predictor too far: shorter steps
            if cap < tol:
                return None
            continue
        cap *= 2
        a, x = a_new, xn
    return None


def _entropy_zero(m, controls, load, tol, a_q1, t0):
    common = dict(model=m.name, controls=dict(controls), criterion="entropy_zero",
                  alpha_rs_q_to_1=a_q1)
    # Fast route: RS saddle at a fraction of the RS q -> 1 value (inside the branch
    # that starts at small alpha, with positive entropy), then Newton in alpha.
    if a_q1 is not None:
        a0 = m.free_energy.meta.get("capacity_start_fraction", C.CAPACITY_START_FRACTION) * a_q1
        x0 = _inner_solve(m, {**controls, load: a0}, _initial_point(m, None))
        if x0 is not None and float(m.value(x0, {**controls, load: a0})) > 0:
            out = _newton_in_load(m, controls, load, x0, a0, a_q1, tol)
            if out is not None:
                r = solve_saddle(m, {**controls, load: out[0]}, x0=out[1], method="newton")
                if r.success and abs(r.free_entropy) < 1e-8:
                    return CapacityResult(
                        alpha_c=float(out[0]), status="converged", success=True,
                        message=("zero of the RS entropy (Krauth–Mézard criterion), Newton in "
                                 f"{load} along the RS branch from {load}={a0:.4g}"),
                        rs_stable=r.stability["stable"], replicon=r.stability["value"],
                        check={"free_entropy_at_alpha_c": r.free_entropy, "residual": r.residual,
                               "quadrature_error": r.quadrature_error, "start": a0},
                        saddle=r.to_dict(), seconds=time.perf_counter() - t0, **common)
    # Robust route: continuation in alpha from small alpha, then bracketing.

    def fail(status, msg, saddle=None):
        return CapacityResult(alpha_c=float("nan"), status=status, success=False, message=msg,
                              rs_stable=None, replicon=None, check={},
                              saddle=saddle.to_dict() if saddle else None,
                              seconds=time.perf_counter() - t0, **common)

    a = C.CAPACITY_ALPHA_START
    prev = solve_saddle(m, {**controls, load: a})
    if not prev.success:
        return fail("branch_ended", f"no RS saddle at {load}={a}: {prev.message}", prev)
    if prev.free_entropy <= 0:
        return fail("no_root", f"the RS entropy is already ≤ 0 at {load}={a}", prev)
    solved = {a: prev}
    step = C.CAPACITY_ALPHA_STEP
    while True:
        a_new = a + step * max(a, 0.05)
        r = solve_saddle(m, {**controls, load: a_new}, x0=prev, method="newton")
        if not r.success:
            r = solve_saddle(m, {**controls, load: a_new}, x0=prev)
        if not r.success:
            step /= 2
            if step < 1e-6:
                return fail("branch_ended",
                            f"the RS branch ends near {load}={a:.6g} before the entropy vanishes",
                            prev)
            continue
        solved[a_new] = r
        if r.free_entropy < 0:
            break
        a, prev = a_new, r
        if a > C.CAPACITY_ALPHA_MAX:
            return fail("no_root", f"entropy still positive at {load}={a:.4g}", r)
        step = min(step * 1.5, C.CAPACITY_ALPHA_STEP)

    def phi(alpha):
        near = min(solved, key=lambda k: abs(k - alpha))
        r = solve_saddle(m, {**controls, load: alpha}, x0=solved[near], method="newton")
        if not r.success:
            raise ConvergenceError(r)
        solved[alpha] = r
        return r.free_entropy

    try:
        ac = brentq(phi, a, a_new, xtol=tol, rtol=4 * np.finfo(float).eps)
    except ConvergenceError as exc:
        return fail("branch_ended", f"lost the saddle while refining: {exc}", exc.result)
    r: SaddleResult = solve_saddle(m, {**controls, load: ac}, x0=solved[min(solved, key=lambda k: abs(k - ac))],
                                   method="newton")
    ok = r.success and abs(r.free_entropy) < 1e-8
    return CapacityResult(
        alpha_c=float(ac), status="converged" if ok else r.status, success=ok,
        message=("zero of the RS entropy on the branch continued from small "
                 f"{load} (Krauth–Mézard criterion)") if ok else r.message,
        rs_stable=r.stability["stable"], replicon=r.stability["value"],
        check={"free_entropy_at_alpha_c": r.free_entropy, "residual": r.residual,
               "quadrature_error": r.quadrature_error},
        saddle=r.to_dict(), seconds=time.perf_counter() - t0, **common)
