"""Naive ("by hand") replica-symmetric capacity computations -- BASELINE ONLY.

This module is the reference point for the speed/robustness benchmarks.  It
deliberately reproduces what a theorist would type into a notebook, with none
of the numerical care of the toolkit:

* every Gaussian average ``E_z f(z) = int Dz f(z)`` is one call of
  ``scipy.integrate.quad`` over ``(-inf, inf)`` with default tolerances;
* ``H(x) = 0.5*erfc(x/sqrt(2))`` and ``G(x) = exp(-x^2/2)/sqrt(2 pi)`` are
  evaluated literally, ``ln H`` as ``log(0.5*erfc(...))`` and the ratio
  ``G/H`` as a plain division (no ``log_ndtr``, no ``erfcx``, no asymptotics);
* saddle points by a damped fixed-point iteration or ``brentq``; the capacity
  by scanning ``alpha`` upward and polishing with ``brentq``.

Nothing here is imported from the project; only numpy/scipy are used and all
results are deterministic (timings of course are not).  Do not use these
functions to produce physics numbers.

Known failure modes (they are the point of the baseline)
--------------------------------------------------------
``quad`` on an infinite interval maps it onto ``(0, 1]``; its very first
15-point Kronrod rule already samples ``z ~ +-233`` and ``z ~ +-37.9``.  There
``G(z)`` is 0 (or denormal) while ``u = (kappa - sqrt(q) z)/sqrt(1-q)`` is
huge, so ``H(u)`` underflows to 0: ``log(0) = -inf``, ``G(u)/H(u) = 0/0 = nan``
and ``0 * (-inf) = nan``.  The ``guard`` argument selects how the "user" reacts:

``guard="none"``
    Integrand exactly as written.  The averages come back ``nan`` for every
    ``q`` and ``kappa``: the route fails everywhere.
``guard="weight"``
    The first patch a user adds: ``if G(z) == 0: return 0``.  Still fails as
    soon as ``q >~ 0.5`` (the node ``z = -37.9`` has denormal weight but
    ``H(u) = 0``), i.e. before the binary capacity is reached.
``guard="skip"`` (default)
    The usual notebook hack: any non-finite integrand value is replaced by 0
    (and counted, see ``n_nonfinite`` in the result).  Harmless in the binary
    problem (the skipped points carry weight ~1e-312), but near ``q -> 1`` it
    silently throws away the region that dominates the spherical capacity.

Every public function catches all exceptions and non-convergence and reports
them through ``ok=False`` and ``message``; it never raises.

Result dictionaries have the keys ``alpha_c``, ``ok``, ``message``,
``seconds``, ``n_quad_calls`` plus two informational extras ``kappa`` and
``n_nonfinite`` (number of non-finite integrand values seen by ``quad``).
``ok=True`` only means "the naive route ran to completion with a finite
answer"; it says nothing about accuracy.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import erfc

__all__ = [
    "naive_binary_capacity",
    "naive_spherical_capacity",
    "naive_spherical_curve",
]

_SQRT2 = np.sqrt(2.0)
_SQRT2PI = np.sqrt(2.0 * np.pi)
_GUARDS = ("none", "weight", "skip")


def _G(x):
    """Gaussian density, written literally."""
    return np.exp(-0.5 * x * x) / _SQRT2PI


def _H(x):
    """Gaussian tail H(x) = int_x^inf Dz, written literally (underflows at x ~ 38)."""
    return 0.5 * erfc(x / _SQRT2)


class _NaiveFailure(Exception):
    """Raised internally; converted into ok=False by the public functions."""


class _Averager:
    """Gaussian averages by quad over (-inf, inf), with call/non-finite counting."""

    def __init__(self, guard):
        if guard not in _GUARDS:
            raise _NaiveFailure(f"unknown guard {guard!r}; use one of {_GUARDS}")
        self.guard = guard
        self.n_quad = 0
        self.n_nonfinite = 0
        self.first_bad = None  # (label, z, value) of the first non-finite integrand value

    def E(self, f, label):
        """E_z f(z) = int Dz f(z), one quad call."""
        self.n_quad += 1
        guard = self.guard

        def integrand(z):
            w = _G(z)
            if guard != "none" and w == 0.0:
                return 0.0
            v = w * f(z)
            if not np.isfinite(v):
                self.n_nonfinite += 1
                if self.first_bad is None:
                    self.first_bad = (label, z, v)
                if guard == "skip":
                    return 0.0
            return v

        val = quad(integrand, -np.inf, np.inf)[0]
        if not np.isfinite(val):
            msg = f"{label} = {val}"
            if self.first_bad is not None:
                lab, z, v = self.first_bad
                msg += f" (first non-finite integrand value {v} in {lab} at z={z:.4g})"
            raise _NaiveFailure(msg)
        return val


def _result(kappa, t0, av, alpha_c=float("nan"), ok=False, message=""):
    try:
        kappa = float(kappa)
    except Exception:  # noqa: BLE001 - reporting must not raise either
        kappa = float("nan")
    return {
        "alpha_c": float(alpha_c),
        "ok": bool(ok),
        "message": message,
        "seconds": time.perf_counter() - t0,
        "n_quad_calls": av.n_quad if av is not None else 0,
        "kappa": kappa,
        "n_nonfinite": av.n_nonfinite if av is not None else 0,
    }


def _notes(av, caught):
    parts = []
    n_int = sum(1 for w in caught if "Integration" in type(w.message).__name__)
    if n_int:
        parts.append(f"{n_int} quad IntegrationWarning(s)")
    if av is not None and av.n_nonfinite:
        lab, z, v = av.first_bad
        action = "zeroed" if av.guard == "skip" else "seen"
        parts.append(
            f"{av.n_nonfinite} non-finite integrand value(s) {action} "
            f"(first: {v} in {lab} at z={z:.4g})"
        )
    return "; ".join(parts)


def _u_of(kappa, q):
    sq, s1 = np.sqrt(q), np.sqrt(1.0 - q)
    return lambda z: (kappa - sq * z) / s1


# ---------------------------------------------------------------------------
# 1. Binary (Ising) perceptron, RS, Gardner-Derrida 1988
# ---------------------------------------------------------------------------

def naive_binary_capacity(
    kappa,
    *,
    guard="skip",
    damping=0.5,
    tol=1e-8,
    max_iter=2000,
    q0=0.1,
    alpha_step=0.05,
    alpha_max=5.0,
):
    """RS capacity of the binary +-1 perceptron with margin ``kappa``, naive route.

    Entropy  s(q, qh) = -qh(1-q)/2 + E_z ln 2cosh(sqrt(qh) z)
                        + alpha E_z ln H(u),   u = (kappa - sqrt(q) z)/sqrt(1-q).
    Saddle   q  = E_z tanh^2(sqrt(qh) z),
             qh = alpha/(1-q) E_z [G(u)/H(u)]^2,
    solved by simultaneous damped fixed-point iteration (damping 0.5, stop when
    |dq| + |dqh| < tol, at most ``max_iter`` sweeps).  The first solve starts at
    q = q0 = 0.1 with qh from its equation; later solves warm-start from the
    previous saddle.  alpha_c (Krauth-Mezard criterion) is the zero of s at the
    saddle: alpha is scanned upward from 0.05 in steps of 0.05 until s <= 0, then
    ``brentq`` (default tolerances) on the last bracket.  ~0.8331 at kappa=0.

    Returns a dict (see module docstring); never raises.
    """
    t0 = time.perf_counter()
    av = None
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            av = _Averager(guard)
            kappa = float(kappa)
            state = {"q": float(q0), "qh": None}

            def saddle(alpha):
                q, qh = state["q"], state["qh"]
                if qh is None:
                    u = _u_of(kappa, q)
                    qh = alpha / (1 - q) * av.E(
                        lambda z: (_G(u(z)) / _H(u(z))) ** 2, "E[(G/H)^2(u)]")
                for it in range(1, max_iter + 1):
                    u = _u_of(kappa, q)
                    qh_new = alpha / (1 - q) * av.E(
                        lambda z: (_G(u(z)) / _H(u(z))) ** 2, "E[(G/H)^2(u)]")
                    sqh = np.sqrt(qh)
                    q_new = av.E(lambda z: np.tanh(sqh * z) ** 2, "E[tanh^2]")
                    q_next = (1 - damping) * q + damping * q_new
                    qh_next = (1 - damping) * qh + damping * qh_new
                    delta = abs(q_next - q) + abs(qh_next - qh)
                    q, qh = q_next, qh_next
                    if not (0.0 <= q < 1.0) or not np.isfinite(qh):
                        raise _NaiveFailure(
                            f"fixed point left the domain at alpha={alpha:.6g}: "
                            f"q={q}, qh={qh}")
                    if delta < tol:
                        state["q"], state["qh"] = q, qh
                        return q, qh
                raise _NaiveFailure(
                    f"fixed point not converged in {max_iter} iterations at "
                    f"alpha={alpha:.6g} (last |dq|+|dqh|={delta:.3g}, q={q:.6g})")

            def entropy(alpha):
                q, qh = saddle(alpha)
                u = _u_of(kappa, q)
                sqh = np.sqrt(qh)
                e_cosh = av.E(lambda z: np.log(2 * np.cosh(sqh * z)), "E[ln 2cosh]")
                e_lnh = av.E(lambda z: np.log(_H(u(z))), "E[ln H(u)]")
                return -qh * (1 - q) / 2 + e_cosh + alpha * e_lnh

            a_lo = alpha_step
            s_lo = entropy(a_lo)
            if not s_lo > 0:
                raise _NaiveFailure(f"s(alpha={a_lo}) = {s_lo} is not positive")
            while True:
                a_hi = a_lo + alpha_step
                if a_hi > alpha_max + 1e-12:
                    raise _NaiveFailure(f"no sign change of s(alpha) up to alpha={alpha_max}")
                s_hi = entropy(a_hi)
                if s_hi <= 0:
                    break
                a_lo = a_hi
            alpha_c = brentq(entropy, a_lo, a_hi)
            notes = _notes(av, caught)
            return _result(kappa, t0, av, alpha_c, True,
                           "converged" + (f"; {notes}" if notes else ""))
        except Exception as exc:  # noqa: BLE001 - the baseline must never raise
            notes = _notes(av, caught)
            msg = f"{type(exc).__name__}: {exc}"
            return _result(kappa, t0, av, message=msg + (f"; {notes}" if notes else ""))


# ---------------------------------------------------------------------------
# 2. Spherical perceptron, RS, Gardner 1988
# ---------------------------------------------------------------------------

def naive_spherical_capacity(
    kappa,
    *,
    one_minus_q=1e-2,
    guard="skip",
    alpha_step=0.05,
    alpha_max=10.0,
    q_min=1e-8,
    q_max=1.0 - 1e-12,
):
    """RS capacity of the spherical perceptron with margin ``kappa``, naive route.

    Entropy  s(q) = 1/2 ln(1-q) + q/(2(1-q)) + alpha E_z ln H(u),
             u = (kappa - sqrt(q) z)/sqrt(1-q).
    Its derivative, with the Gaussian average done by quad of the analytic
    integrand (after the usual integration by parts),
             ds/dq = q/(2(1-q)^2) - alpha/(2(1-q)) E_z [G(u)/H(u)]^2 .

    Route:
    * q(alpha): ``brentq`` of ds/dq in q on [q_min, q_max] = [1e-8, 1-1e-12];
      if ds/dq has no sign change there (alpha beyond capacity) q(alpha) is
      taken as q_max ("q has gone to 1").
    * Stand-in for q -> 1: alpha_c is defined as the alpha where
      q(alpha) = 1 - one_minus_q, with one_minus_q = 1e-2 by default (q = 0.99).
      This target has an intrinsic O(one_minus_q) bias (about -1.8% at kappa=0
      even with exact arithmetic).  Smaller targets are *not* better here: with
      the literal G/H, u = (kappa - z)/sqrt(1-q) exceeds ~38 where H(u)
      underflows, and for one_minus_q <= 3e-3 the route returns garbage (and for
      the "natural" 1e-6 it finds no capacity at all below alpha_max).
    * alpha is scanned upward from 0.05 in steps of 0.05 until
      q(alpha) > 1 - one_minus_q (at most up to alpha_max = 10), then
      ``brentq`` (default tolerances) on q(alpha) - (1 - one_minus_q).

    Returns a dict (see module docstring); never raises.
    """
    t0 = time.perf_counter()
    av = None
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            av = _Averager(guard)
            kappa = float(kappa)
            target = 1.0 - float(one_minus_q)

            def dsdq(q, alpha):
                u = _u_of(kappa, q)
                e = av.E(lambda z: (_G(u(z)) / _H(u(z))) ** 2, "E[(G/H)^2(u)]")
                return q / (2 * (1 - q) ** 2) - alpha / (2 * (1 - q)) * e

            def q_of_alpha(alpha):
                if dsdq(q_max, alpha) < 0:
                    return q_max
                return brentq(dsdq, q_min, q_max, args=(alpha,))

            def g(alpha):
                return q_of_alpha(alpha) - target

            a_lo = alpha_step
            g_lo = g(a_lo)
            if not g_lo < 0:
                raise _NaiveFailure(f"q(alpha={a_lo}) - target = {g_lo} is not negative")
            while True:
                a_hi = a_lo + alpha_step
                if a_hi > alpha_max + 1e-12:
                    raise _NaiveFailure(
                        f"q(alpha) never reached 1-{one_minus_q:g} for alpha <= {alpha_max}")
                if g(a_hi) >= 0:
                    break
                a_lo = a_hi
            alpha_c = brentq(g, a_lo, a_hi)
            notes = _notes(av, caught)
            return _result(kappa, t0, av, alpha_c, True,
                           f"converged (q target 1-{one_minus_q:g})"
                           + (f"; {notes}" if notes else ""))
        except Exception as exc:  # noqa: BLE001 - the baseline must never raise
            notes = _notes(av, caught)
            msg = f"{type(exc).__name__}: {exc}"
            return _result(kappa, t0, av, message=msg + (f"; {notes}" if notes else ""))


def naive_spherical_curve(kappas, **kwargs):
    """``naive_spherical_capacity`` for each kappa (independent solves, no warm start).

    Extra keyword arguments are passed through.  Returns a list of dicts in the
    order of ``kappas``; never raises.
    """
    return [naive_spherical_capacity(k, **kwargs) for k in kappas]


# ---------------------------------------------------------------------------

if __name__ == "__main__":
    def _gardner(kappa):
        # Reference only (closed form of 1/int_{-kappa}^inf Dt (t+kappa)^2);
        # NOT part of the naive route.
        return 1.0 / ((1 + kappa ** 2) * _H(-kappa) + kappa * _G(kappa))

    def _row(r, ref=None):
        a = r["alpha_c"]
        ref_s = ""
        if ref is not None:
            rel = (a - ref) / ref if np.isfinite(a) else float("nan")
            ref_s = f" ref={ref:9.6f} rel.err={rel:+.2e}"
        print(f"  kappa={r['kappa']:+5.2f} alpha_c={a:10.6f}{ref_s} ok={r['ok']!s:5} "
              f"t={r['seconds']:7.3f}s quad={r['n_quad_calls']:6d} "
              f"nonfinite={r['n_nonfinite']}")
        print(f"      {r['message']}")

    T0 = time.perf_counter()
    kap_sph = [-0.5, 0.0, 0.5, 1.0, 2.0]

    print("Spherical perceptron, naive route (q target 1-1e-2, guard='skip') "
          "vs Gardner 1/int Dt (t+k)^2:")
    for r in naive_spherical_curve(kap_sph):
        _row(r, _gardner(r["kappa"]))

    print("Spherical perceptron, naive route with the 'natural' target q = 1-1e-6:")
    for k in (0.0, 1.0):
        _row(naive_spherical_capacity(k, one_minus_q=1e-6), _gardner(k))

    print("Binary perceptron, naive route (guard='skip'); Krauth-Mezard: 0.8331 at kappa=0:")
    for k in (0.0, 0.5, 1.0):
        _row(naive_binary_capacity(k))

    print("Binary perceptron at kappa=0 with stricter guards (literal integrand):")
    for gd in ("none", "weight"):
        print(f" guard={gd!r}:")
        _row(naive_binary_capacity(0.0, guard=gd))

    print(f"total wall time: {time.perf_counter() - T0:.1f}s")


def naive_fp_energetic(q1, t, q_ref, p, kappa, kappa_ref, *, epsabs=1e-10):
    """Franz–Parisi energetic average by ``scipy.integrate.tplquad`` of the integrand
    written by hand (the naive building block; also the independent reference for the
    toolkit's nested quadrature in tests):

    E_z [∫_{x>x0} Dx E_y ln H((κ - m)/√(1-q1))] / H(x0),
    m = t z/√q̃ + (p-t) x/√(1-q̃) + √(q1 - t²/q̃ - (p-t)²/(1-q̃)) y,
    x0 = (κ̃ - √q̃ z)/√(1-q̃). Returns the value (cut at |z|, |y| < 10, x < 12).
    """
    import math

    from scipy.integrate import tplquad
    from scipy.special import log_ndtr, ndtr

    res = math.sqrt(q1 - t**2 / q_ref - (p - t)**2 / (1 - q_ref))
    sq, sq1 = math.sqrt(q_ref), math.sqrt(1 - q_ref)

    def G(u):
        return math.exp(-u * u / 2) / math.sqrt(2 * math.pi)

    def f(y, x, z):
        m = t / sq * z + (p - t) / sq1 * x + res * y
        x0 = (kappa_ref - sq * z) / sq1
        return G(z) * G(x) * G(y) * log_ndtr(-(kappa - m) / math.sqrt(1 - q1)) / ndtr(-x0)

    val, _ = tplquad(f, -10, 10, lambda z: (kappa_ref - sq * z) / sq1, lambda z: 12,
                     lambda z, x: -10, lambda z, x: 10, epsabs=epsabs, epsrel=epsabs)
    return val
