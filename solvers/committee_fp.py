r"""Numerical routines behind :class:`replica.committee_fp.SignCommitteeFPLogZ` and
:class:`replica.committee_fp.ReluCommitteeFPLogZ`: the Franz–Parisi energetic term of the
finite-K tree committee with sign units and with ReLU units (derivation in
:mod:`replica.committee_fp`; ReLU units in the section "ReLU units" at the end). One
estimator serves both: per block of points the reference measure is a list of pieces
(draws x, weight, inner ln P with its u-gradient and Hessian) — the sign patterns, or the
ReLU labels with exact draws — and the antithetic pairs, the chain rule, the c → 0
handling, the control variates and the standard error below are shared.

:func:`sign_fp_logz` evaluates derivatives (multi-index over q̃, p, t, q1) of

.. math::
   G_K(\tilde q, p, t, q_1) = \mathbb{E}_z\,\mathbb{E}_{x\mid\mathrm{ref}}\,\mathbb{E}_y
      \ln P_\eta\big(\#\{l: u_l + \eta_l > 0\}\ge m\big),\quad
      u_l = s\,(a z_l + b x_l + c y_l),

:math:`a = t/\sqrt{\tilde q}`, :math:`b = (p-t)/\sqrt{1-\tilde q}`,
:math:`c^2 = q_1 - a^2 - b^2`, :math:`s = (1-q_1)^{-1/2}`, m = (K+1)/2, z, x, y ∈ R^K
(one component per branch), x | z the K independent reference fields restricted to a
positive reference majority.

Estimator (one fixed set of points, so the value and its derivatives are those of one
smooth function of (p, t, q1) at fixed q̃):

* **points**: scrambled Sobol in dimension 3K (``COMMITTEE_QMC_POINTS`` per
  randomisation × ``COMMITTEE_QMC_RANDOMIZATIONS``; K = 7, 9 use
  ``COMMITTEE_FP_POINTS_LARGE_K``): z and y by the inverse normal CDF, and a uniform
  v per branch for x; every y is used with −y too (antithetic pairs: the estimate is
  then even in c, a smooth function of c², see the chain rule below).
* **reference measure, summed exactly over sign patterns**: given z, unit l of the
  reference is positive with :math:`\tilde p_l = \Phi(\tilde a z_l)`,
  :math:`\tilde a = \sqrt{\tilde q/(1-\tilde q)}`. The measure of x given z is the sum
  over the :math:`2^{K-1}` patterns σ with a majority of positive units of the weight
  :math:`\prod_l \tilde p_l^{\sigma_l}(1-\tilde p_l)^{1-\sigma_l}/\tilde Z(z)` (normalised
  by the same sum, :math:`\tilde Z = P(\text{reference majority} \mid z)`) times the
  product of normals truncated to the side σ_l of the threshold :math:`-\tilde a z_l`;
  x_l is the truncated normal's inverse CDF at v_l, written on the tail that keeps
  its digits. No indicator is sampled, so the integrand is smooth in the uniforms.
* **inner probability, by enumeration in logs**: the constrained units are positive
  independently with :math:`\pi_l = \Phi(u_l)`; ln P is the log-sum-exp over the
  :math:`2^{K-1}` majority subsets S of :math:`\sum_{l\in S}\ln\Phi(u_l) +
  \sum_{l\notin S}\ln\Phi(-u_l)` (positive terms only: no cancellation, no underflow
  as q1 → 1). With :math:`w_S` the posterior of S given a majority,
  :math:`\hat\pi_l = \sum_S w_S S_l`, :math:`r^\pm_l = \varphi(u_l)/\Phi(\pm u_l)`,
  :math:`\rho_l = r^+_l + r^-_l`, the derivatives are conditional moments of bounded
  quantities: :math:`g_l = \partial_{u_l}\ln P = -r^-_l + \hat\pi_l\rho_l`,
  :math:`\partial^2_{u_lu_k}\ln P = \rho_l\rho_k\,\mathrm{Cov}_w(S_l, S_k) + \delta_{lk}
  [u r^- - (r^-)^2 + \hat\pi_l(-u r^+ - (r^+)^2 - u r^- + (r^-)^2)]_l`
  (the same quantities the Poisson-binomial recursion of :mod:`solvers.committee`
  carries; for K ≤ 9 the 2^{K−1} subsets are cheaper to enumerate than to recurse
  over, vectorised).
* **derivatives, exact**: per sample, u is bilinear in (a, b, c) and s; the gradient
  and Hessian of ln P in ψ = (a, b, c, s) follow from g and ∂²ln P, then the chain
  rule to (a, b, c², s) and to (p, t, q1). Because the antithetic estimate Ĝ is even in
  c, :math:`\partial_{c^2}Ĝ = Ĝ_c/(2c)`, :math:`\partial^2_{c^2}Ĝ = (Ĝ_{cc} -
  Ĝ_c/c)/(4c^2)`, :math:`\partial_{c^2}\partial_jĜ = Ĝ_{cj}/(2c)` are regular at c = 0
  (the typical point p = t = q1 = q̃, and the α = 0 saddle, have c = 0 exactly).
  Below ``FP_C_TAYLOR`` the first is replaced by its limit Ĝ_cc/2 (error O(c²)); below
  ``FP_C_HESSIAN`` the three c²-entries of the Hessian, whose rounding error grows like
  ε/c³, are taken from the same estimator at c = ``FP_C_HESSIAN`` (only the Newton
  steps use them). So the second derivatives are exact (those of the estimator) for
  c ≥ ``FP_C_HESSIAN``: they agree with central differences of the exact gradient to
  4e-10 relative at c = 2e-3, and to ≤ 3e-6 relative at c = 1e-4 … 3e-4, where the
  c² entries come from c = 1e-3 (K = 3, q̃ = 0.6, p = 0.8, t = 0.55). Derivatives
  in q̃ (not used by the saddle solver, whose variables are q1, t and the
  conjugates) are central differences of the
  exact (p, t, q1)-jet in q̃ (step ``FP_QREF_STEP``; the points are fixed, so the
  estimator is smooth in q̃).

Control variates. At the typical point θ0 = (q̃, q̃, q̃) the estimate is a QMC estimate
of :math:`\mathbb{E}_z\ln\mathcal Z_K(\tilde q; z)`, the RS energetic term, and its
exact gradient is (−2F', 2F', F') (F = the RS term; from G(p, p, q1) = F(q1) and the
RS structure at θ0). The RS node (:func:`solvers.committee.sign_logz`: K−1-dimensional
QMC, exact last unit, its own control variate; error 2e-5..6e-5 on F, ≤ 3e-4 on F')
is more accurate, and it is the one that fixed the reference's saddle q̂̃ = −2αF'(q̃).
So the node returns

.. math:: Ĝ(θ) - Ĝ(θ_0) + F_K(\tilde q)
          - \tau(θ)\,[\nabla Ĝ(θ_0) - (-2F', 2F', F')]\cdot(θ - θ_0),\qquad
          \tau = e^{-|θ-θ_0|^2/(2w^2)},

w = ``FP_TAPER_WIDTH``. Both corrections have zero mean, so the estimate stays
consistent; with them the typical point is an exact saddle of the *estimated*
functional, with Φ_FP equal to the RS entropy to rounding. This matters: near θ0 the
saddle hugs both boundaries c² = 0 and ĉ² = q̂1 − t̂²/q̂̃ = 0 (c², ĉ² = O((p − q̃)²)),
and without the gradient correction the QMC error of ∇Ĝ(θ0) (≲ 2e-3 at K = 3) tilts
the branch out of the domain on one side (K = 5 at α = 0.5 then had no saddle near
θ0). The taper fades the linear term out where the errors of Ĝ(θ) and ∇Ĝ(θ0) no longer
cancel. For the same reason Ĝ is extended to c² ∈ [−``FP_C2_EXTENSION``, 0) by its
second-order Taylor polynomial in c² at 0 (Newton steps may cross c² = 0), and the
march runs in the variance chart (:class:`solvers.local_entropy._Chart`, ±1 weights).
With spherical weights (x-space march) a saddle near the typical distance can come
out just outside, in the extension: c² = −2e-4 at d = 0.3 for K = 3, α = 1
(d_typ = 0.306; c² = 0.025 at d = 0.2 and 0.38) — inside the QMC noise of a variance
that is O((p − q̃)²) there, but not a physical point; the curve does not flag it.
:func:`sign_fp_logz_stderr` reports the spread of Ĝ(θ) − Ĝ(θ0) over the
randomisations, added in quadrature to the RS node's; ``SaddleResult.quadrature_error``
is the change with doubled points (as for the RS node; alarm QMC_ALARM = 1e-3).

Accuracy (measured; tests/test_committee_fp_finite.py). K = 3, interior point
(q̃, p, t, q1) = (0.6, 0.8, 0.55, 0.75): node −0.56558 ± 2.0e-4 against a 6-D
Gauss–Hermite product quadrature of the collapsed form, −0.565271 (converged to 5e-6),
and brute-force Monte Carlo, −0.56535 ± 3e-4 (4 × 10⁶ samples); gradient within
≤ 3.2e-3 of Monte Carlo (σ_MC ≈ 2e-3). S(d) along the K = 3, α = 0.5 curve changes by
≤ 4e-5 from 2^12 to 2^14 points per randomisation (d = 0.02 … 0.38; the reference
saddle recomputed with the RS node at the same points), which is the accuracy we state
for S(d) at K = 3: ~5e-5, within the 1e-4 target. K = 5 (2^12 points) and K = 7
(2^10): S(d) changes by ≤ 6e-5 and ≤ 7e-5 when the points are doubled (same
distances), so ~1e-4 — although the standard error of Ĝ itself at the interior point
above is larger (6e-4 at K = 5, 2e-3 at K = 7): along the curves the control variates
and the saddle's stationarity absorb most of it.

Cost (2-core machine shared with other jobs): one evaluation (value, gradient, Hessian)
0.09 s at K = 3, 0.7 s at K = 5, 1.6-2.2 s at K = 7 (2^10 points), 78 s at K = 9
(evaluated, but a curve would take hours: K = 9 is not practical); a 10-point K = 3
curve at α = 0.5 takes 16 s (63 evaluations in the variance chart), 5-point curves
117 s at K = 5 and 246 s at K = 7 (d = 0.02 … 0.3).

ReLU units
----------
:func:`relu_fp_logz` evaluates the same derivatives of

.. math::
   G_K = \tfrac12\sum_{y=\pm1}\mathbb{E}_z\,\mathbb{E}_{x\mid z,y}\,\mathbb{E}_{y'}
      \ln P_\eta\big(y\,D(u + \eta) > 0\big),\qquad D(u) = \sum_l c_l\,\mathrm{relu}(u_l),

(one label for even K; readout c_l as :class:`replica.committee.ReluCommitteeLogZ`), u as
above (relu is positively homogeneous, so the scale s = (1−q1)^{-1/2} enters as for sign
units), x | z, y the reference's fields given that it is a solution with label y. Per
label the winning group W (⌈K/2⌉ units read +1 for y = +1, the ⌊K/2⌋ read −1 for y = −1)
is put in the first columns; z is exchangeable, so the same points serve both labels
(as :func:`solvers.committee.relu_logz` does).

* **reference measure: exact draws**, not an importance weight 1{ref}/Z̃(z) under
  Gaussian x (its second moment E_z[1/Z̃] diverges for q̃ ≳ 1/2, Z̃ decaying like
  exp(−q̃ dist(z, cone)²/(2(1−q̃)))): :func:`solvers.relu_reference.sample_reference`
  maps the K uniforms v of each point to x | z, y by a sequential inverse CDF
  (closed forms in Φ and 1-D log-concave integrals; K = 4 with a per-row table), so
  every point has weight 1/labels. The draws depend on q̃ only and are cached per
  (q̃, K, points) (:func:`_relu_draws`); the derivatives in (p, t, q1) are those of one
  fixed estimator, as for sign units.
* **inner jet**: ln P(Σ_W relu(u + η) > Σ_L relu(u + η)) with its gradient and Hessian
  in u from the Bromwich contour of :mod:`solvers.committee` carrying jets along e_l and
  e_l + e_m (:func:`solvers.committee._relu_group_dirs`; Hessian by polarisation, as
  :func:`solvers.committee.relu_hessian_u`); K(K+1)/2 directions per point.
* **shared**: the antithetic y' ↔ −y', the chain rule to (a, b, c², s) and (p, t, q1),
  the c → 0 branches, the c² < 0 extension and the control variates, against the RS
  node :func:`solvers.committee.relu_logz` (value F_K(q̃), gradient (−2F', 2F', F'):
  G(p, p, q1) = F(q1) and the RS structure hold for any activation) and its stderr.

Accuracy (measured; tests/test_committee_fp_relu.py). Sampler: moments and activities
of the draws agree with rejection sampling and with a product quadrature within 5σ,
Z̃(z) with the contour integral to 3e-5 in ln Z̃ (5e-5 at K = 4) down to Z̃ ~ 1e-5.
Typical point (q̃ = 0.5): the raw estimator Ĝ(θ0) against F_K(q̃), −1.44313 vs
−1.44322 (K = 2, σ = 2.7e-4), −1.29481 vs −1.29465 (K = 3, σ = 2.3e-4), −1.02757 vs
−1.02713 (K = 4, σ = 3.5e-4); its gradient within 1.1e-3 (K = 2), 2.7e-3 (K = 3),
5.9e-3 (K = 4) of (−2F', 2F', F'). Interior point K = 2, (q̃, p, t, q1) = (0.3, 0.6,
0.25, 0.5): node −0.695080 ± 8e-5 (−0.695088 with 4× the points) against brute-force
Monte Carlo with per-z rejection, −0.69487 ± 5e-4 (10⁶ samples), gradient (1.8912,
−1.4409, −0.6767) against (1.8901, −1.4401, −0.6762) ± 3e-3. The gradient and Hessian
equal central differences of the estimator (1e-5, 1e-4 relative: the contour jets are
exact at fixed contours). Binary weights, K = 3, α = 0.5: S(d) at d = 0.02 … 0.2
changes by ≤ 1.4e-4 with doubled points (quadrature_error; below the committee alarm
1e-3), so the stated accuracy of S along ReLU curves is ~2e-4 (about 3× the sign
committee's: fewer points, each a contour integral).

Cost (2-core machine shared with other jobs): the draws once per q̃ — 0.3 s (K = 2),
~10 s (K = 3, two labels), ~75 s (K = 4: the per-row table of ln P(r0 + r1 > τ)) for
4 × 2^11 points; one evaluation (value, gradient, Hessian; ×2 at c < FP_C_HESSIAN)
0.8 s (K = 2), 2.5 s (K = 3), 12 s (K = 4). A 4-point K = 3 curve (binary, α = 0.5,
d = 0.02 … 0.2, with the doubled-points error estimate) took 475-600 s, a 2-point K = 4
curve (d = 0.05, 0.2; doubled-points change ≤ 7e-6) 19 min. At the interior point
(0.3, 0.6, 0.25, 0.5), K = 3: −0.648114 ± 1.1e-4, with doubled points −0.648180
± 6.5e-5 (gradient change ≤ 5e-4).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from scipy.special import log_ndtr, ndtri
from scipy.stats import qmc

from . import committee as _committee
from . import constants as C
from . import relu_reference as _relu_reference

__all__ = ["sign_fp_logz", "sign_fp_logz_stderr", "sign_fp_jet", "relu_fp_logz", "relu_fp_logz_stderr",
           "relu_fp_jet", "MAX_K", "RELU_MAX_K"]

#: Largest K evaluated: the cost grows like 4^K per point (2^{K-1} reference patterns
#: × 2^{K-1} inner subsets; timings in the module docstring: K = 9 takes 78 s per
#: evaluation, larger K would not finish a curve).
MAX_K = 9

#: Largest K of the ReLU node: the exact reference sampler's (solvers.relu_reference).
RELU_MAX_K = _relu_reference.MAX_K

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_CACHE = {}


def _n_points(K, act="sign"):
    if act == "relu":
        base = C.RELU_FP_POINTS
    else:
        base = C.COMMITTEE_QMC_POINTS if K <= 5 else C.COMMITTEE_FP_POINTS_LARGE_K
    return base * getattr(_committee._STATE, "scale", 1)


@functools.lru_cache(maxsize=8)
def _points(K, n, R):
    """(z, v, y) of shape (R, n, K) each: scrambled Sobol in dimension 3K."""
    z, v, y = (np.empty((R, n, K)) for _ in range(3))
    for r in range(R):
        u = qmc.Sobol(d=3 * K, scramble=True, seed=C.COMMITTEE_FP_QMC_SEED + r).random(n)
        u = np.clip(u, 2.0**-60, 1 - 2.0**-53)
        z[r], v[r], y[r] = ndtri(u[:, :K]), u[:, K:2 * K], ndtri(u[:, 2 * K:])
    for a in (z, v, y):
        a.setflags(write=False)
    return z, v, y


@functools.lru_cache(maxsize=8)
def _majority_subsets(K):
    """0/1 matrix (2^{K-1}, K) of the subsets with at least (K+1)/2 members."""
    S = np.array([s for s in itertools.product((0, 1), repeat=K) if sum(s) >= (K + 1) // 2],
                 dtype=float)
    S.setflags(write=False)
    return S


def _ratio(u):
    """φ(u)/Φ(u), stable for all u."""
    return np.exp(-0.5 * u * u - _LOG_SQRT_2PI - log_ndtr(u))


def _truncated_normal(v, lp, lq, positive):
    """Inverse CDF at v of N(0,1) restricted to x > x0 (``positive``) or x < x0, where
    ln P(x > x0) = lp and ln P(x < x0) = lq; evaluated on the tail that keeps digits."""
    if positive:   # x = -Φ^{-1}(v P(x>x0)) = Φ^{-1}((1-v) + v P(x<x0))
        w = v * np.exp(lp)
        other = (1 - v) + v * np.exp(lq)
        return np.where(w < 0.5, -ndtri(np.maximum(w, 1e-300)), ndtri(np.minimum(other, 1.0)))
    w = v * np.exp(lq)
    other = (1 - v) + v * np.exp(lp)
    return np.where(w < 0.5, ndtri(np.maximum(w, 1e-300)), -ndtri(np.minimum(other, 1.0)))


def _inner(u, S):
    """ln P(majority | u), its gradient g (N, K) and Hessian (N, K, K) in u."""
    lp, lq = log_ndtr(u), log_ndtr(-u)
    L = lp @ S.T + lq @ (1 - S).T                       # (N, nS)
    Lmax = L.max(axis=1, keepdims=True)
    e = np.exp(L - Lmax)
    tot = e.sum(axis=1, keepdims=True)
    lnP = Lmax[:, 0] + np.log(tot[:, 0])
    w = e / tot
    pi = w @ S                                           # (N, K)
    rp, rm = _ratio(u), _ratio(-u)
    rho = rp + rm
    g = -rm + pi * rho
    dev = (S[None, :, :] - pi[:, None, :]) * rho[:, None, :]     # (N, nS, K)
    H = np.matmul((dev * w[:, :, None]).transpose(0, 2, 1), dev)  # ρ_l ρ_k Cov_w(S_l, S_k)
    diag = (u * rm - rm * rm) + pi * ((-u * rp - rp * rp) - (u * rm - rm * rm))
    idx = np.arange(u.shape[1])
    H[:, idx, idx] += diag
    return lnP, g, H


def _sign_pieces(z, v, qr, K):
    """The sign reference measure on one block of points: per majority pattern σ, the
    draws x (truncated normals on the pattern's sides) and the pattern's normalised
    weight (module docstring), with the inner ln P of a majority."""
    S = _majority_subsets(K)
    at = math.sqrt(qr / (1 - qr))
    lpt, lqt = log_ndtr(at * z), log_ndtr(-at * z)       # reference unit positive / negative
    LW = lpt @ S.T + lqt @ (1 - S).T                     # (M, nS) pattern log-weights
    LW = LW - np.logaddexp.reduce(LW, axis=1, keepdims=True)
    xpos = _truncated_normal(v, lpt, lqt, True)
    xneg = _truncated_normal(v, lpt, lqt, False)
    inner = functools.partial(_inner, S=S)
    return [(np.where(sig > 0, xpos, xneg), np.exp(LW[:, k]), inner) for k, sig in enumerate(S)]


def _block(z, pieces, y, a, b, c, s):
    """Weighted sums over the rows of one block of points: (Σ w ℓ, Σ w ∇ψ ℓ, Σ w ∇²ψ ℓ)
    per row, ψ = (a, b, c, s), summed over the reference's pieces (draws x, weight,
    inner ln P with its u-gradient and Hessian) and the antithetic pair."""
    M = z.shape[0]
    val = np.zeros(M)
    grad = np.zeros((M, 4))
    hess = np.zeros((M, 4, 4))
    for x, wt, inner in pieces:
        for sgn in (1.0, -1.0):
            yy = sgn * y
            mfield = a * z + b * x + c * yy
            u = s * mfield
            lnP, g, H = inner(u)
            J = np.stack([s * z, s * x, s * yy, mfield], axis=2)   # (M, K, 4) = ∂u/∂ψ
            gr = np.matmul(g[:, None, :], J)[:, 0, :]
            hs = np.matmul(J.transpose(0, 2, 1), np.matmul(H, J))
            # ∂²u/∂a∂s = z, ∂²u/∂b∂s = x, ∂²u/∂c∂s = y
            cross = np.stack([(g * z).sum(1), (g * x).sum(1), (g * yy).sum(1)], axis=1)
            hs[:, :3, 3] += cross
            hs[:, 3, :3] += cross
            val += 0.5 * wt * lnP
            grad += 0.5 * wt[:, None] * gr
            hess += 0.5 * wt[:, None, None] * hs
    return val, grad, hess


def _relu_inner(u, n_w):
    """ln P(Σ_{l<n_w} relu(u_l + η_l) > Σ_{l≥n_w} relu(u_l + η_l)) per row, its gradient
    (N, K) and Hessian (N, K, K) in u: the contour jets of :mod:`solvers.committee`
    along e_l (gradient, diagonal) and e_l + e_m (polarisation)."""
    K = u.shape[1]
    D, pairs = _committee._relu_hess_directions(K)
    lp, d1, d2 = _committee._relu_group_dirs(u[:, :n_w], u[:, n_w:], D)
    H = np.empty((len(u), K, K))
    H[:, np.arange(K), np.arange(K)] = d2[:, :K]
    for j, (l, m) in enumerate(pairs):
        H[:, l, m] = H[:, m, l] = 0.5 * (d2[:, K + j] - d2[:, l] - d2[:, m])
    return lp, d1[:, :K], H


@functools.lru_cache(maxsize=8)
def _relu_draws(qr, K, n, R):
    """Exact draws of the ReLU reference fields x | z, label (:mod:`solvers.relu_reference`)
    on all points, shape (labels, R, n, K), read-only; q̃ is fixed along a curve."""
    z, v, _ = _points(K, n, R)
    at = math.sqrt(qr / (1 - qr))
    labels = _relu_reference.label_groups(K)
    out = np.empty((len(labels), R, n, K))
    with np.errstate(all="ignore"):
        for j, n_w in enumerate(labels):
            for r in range(R):
                out[j, r] = _relu_reference.sample_reference(at * z[r], v[r], n_w)[0]
    out.setflags(write=False)
    return out


def _relu_pieces(qr, K, n, r, sl):
    """The ReLU reference measure on one block of points: per label, the exact draws and
    the weight 1/labels, with the inner ln P of that label's winning group."""
    X = _relu_draws(qr, K, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
    labels = _relu_reference.label_groups(K)
    M = X[0, r, sl].shape[0]
    return [(X[j, r, sl], np.full(M, 1.0 / len(labels)), functools.partial(_relu_inner, n_w=n_w))
            for j, n_w in enumerate(labels)]


def _psi_jet(qr, a, b, c, s, K, act="sign"):
    """Estimates over all points: (mean ℓ, mean ∇ψ, mean ∇²ψ, per-randomisation means of ℓ)."""
    n = _n_points(K, act)
    z, v, y = _points(K, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
    R = z.shape[0]
    if act == "sign":
        step = max(64, C.COMMITTEE_FP_CHUNK // (2 ** (K - 1) * K))
    else:
        step = C.RELU_FP_CHUNK
    vals = np.empty((R, n))
    grad = np.zeros(4)
    hess = np.zeros((4, 4))
    with np.errstate(all="ignore"):
        for r in range(R):
            for i0 in range(0, n, step):
                sl = slice(i0, i0 + step)
                if act == "sign":
                    pieces = _sign_pieces(z[r, sl], v[r, sl], qr, K)
                else:
                    pieces = _relu_pieces(qr, K, n, r, sl)
                vb, gb, hb = _block(z[r, sl], pieces, y[r, sl], a, b, c, s)
                vals[r, sl] = vb
                grad += gb.sum(axis=0)
                hess += hb.sum(axis=0)
    N = R * n
    return vals.mean(), grad / N, hess / N, vals.mean(axis=1)


def _c2_jet(qr, a, b, c2, s, K, act="sign"):
    """Value, gradient and Hessian of Ĝ in φ = (a, b, c², s), and per-randomisation
    means of the value (module docstring: the c² entries at small c)."""
    c = math.sqrt(max(c2, 0.0))
    v, g, h, means = _psi_jet(qr, a, b, c, s, K, act)
    G = np.array([g[0], g[1], 0.0, g[3]])
    Hm = np.zeros((4, 4))
    Hm[np.ix_([0, 1, 3], [0, 1, 3])] = h[np.ix_([0, 1, 3], [0, 1, 3])]
    G[2] = g[2] / (2 * c) if c >= C.FP_C_TAYLOR else 0.5 * h[2, 2]
    if c >= C.FP_C_HESSIAN:
        hc, gc, cc = h, g, c
    else:
        _, gc, hc, _ = _psi_jet(qr, a, b, C.FP_C_HESSIAN, s, K, act)
        cc = C.FP_C_HESSIAN
    Hm[2, 2] = (hc[2, 2] - gc[2] / cc) / (4 * cc * cc)
    for j in (0, 1, 3):
        Hm[2, j] = Hm[j, 2] = hc[2, j] / (2 * cc)
    return v, G, Hm, means


def sign_fp_jet(qr, p, t, q1, K):
    """(value, gradient, Hessian in (p, t, q1), stderr of the value) of the node's
    estimate at one point (module docstring: Ĝ(θ) − Ĝ(θ0) + F_K(q̃)); cached. Points
    outside the domain (q̃, q1 ∉ (0, 1), c² < 0 beyond rounding) give NaN."""
    return _cached_jet(qr, p, t, q1, int(K), "sign")


def relu_fp_jet(qr, p, t, q1, K):
    """:func:`sign_fp_jet` for ReLU units (module docstring, section "ReLU units")."""
    K = int(K)
    _check_relu_k(K)
    return _cached_jet(qr, p, t, q1, K, "relu")


def _cached_jet(qr, p, t, q1, K, act):
    """:func:`_jet`, cached per (point, K, number of points, activation)."""
    key = (float(qr), float(p), float(t), float(q1), K, _n_points(K, act), act)
    hit = _committee._cache_get(_CACHE, key)
    if hit is not None:
        return hit
    return _committee._cache_put(_CACHE, key, _jet(*key[:5], act))


def _raw_jet(qr, p, t, q1, K, act="sign"):
    """(Ĝ, ∇Ĝ, ∇²Ĝ in (p, t, q1), per-randomisation means of Ĝ), or None outside the
    domain (q̃, q1 ∉ (0, 1), |p|, |t| > 1, c² < 0 beyond rounding)."""
    if not (0.0 < qr < 1.0 and 0.0 < q1 < 1.0 and -1.0 <= p <= 1.0 and abs(t) <= 1.0):
        return None
    ra, rb = 1 / math.sqrt(qr), 1 / math.sqrt(1 - qr)
    a, b = t * ra, (p - t) * rb
    c2 = q1 - a * a - b * b
    if c2 < -C.FP_C2_EXTENSION:
        return None
    s = 1 / math.sqrt(1 - q1)
    v, G, Hm, means = _c2_jet(qr, a, b, max(c2, 0.0), s, K, act)
    if c2 < 0:  # second-order extension in c² (module docstring)
        v = v + c2 * G[2] + 0.5 * c2 * c2 * Hm[2, 2]
        G = G + c2 * Hm[2]
    # chain rule φ = (a, b, c², s) -> θ = (p, t, q1)
    Jp = np.array([[0.0, ra, 0.0],                     # ∂a/∂(p, t, q1)
                   [rb, -rb, 0.0],                     # ∂b
                   [-2 * b * rb, -2 * a * ra + 2 * b * rb, 1.0],   # ∂c²
                   [0.0, 0.0, 0.5 * s**3]])            # ∂s
    D2 = np.zeros((4, 3, 3))
    D2[2] = -2 * np.array([[rb * rb, -rb * rb, 0.0], [-rb * rb, ra * ra + rb * rb, 0.0], [0.0, 0.0, 0.0]])
    D2[3, 2, 2] = 0.75 * s**5
    return v, Jp.T @ G, Jp.T @ Hm @ Jp + np.einsum("i,ijk->jk", G, D2), means


def _jet(qr, p, t, q1, K, act="sign"):
    raw = _raw_jet(qr, p, t, q1, K, act)
    if raw is None:
        return (np.nan, np.full(3, np.nan), np.full((3, 3), np.nan), np.nan)
    v, grad, hess, means = raw
    # control variates (module docstring): the estimator's own value and gradient at
    # the typical point θ0, against the RS node's F_K(q̃) and (−2F', 2F', F')
    v0, g0, means0 = _typical(qr, K, _n_points(K, act), act)
    rs = _committee.sign_logz if act == "sign" else _committee.relu_logz
    F, F1 = (float(rs(qr, K, n)) for n in (0, 1))
    delta = g0 - np.array([-2 * F1, 2 * F1, F1])
    D = np.array([p, t, q1]) - qr
    w2 = C.FP_TAPER_WIDTH**2
    tau = math.exp(-0.5 * float(D @ D) / w2)
    f = float(delta @ D)
    corr = tau * f
    dcorr = tau * (delta - f * D / w2)
    d2corr = tau * ((np.outer(D, D) / w2**2 - np.eye(3) / w2) * f
                    - (np.outer(D, delta) + np.outer(delta, D)) / w2)
    R = len(means)
    err = float(np.std(means - means0, ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
    rs_err = _committee.sign_logz_stderr if act == "sign" else _committee.relu_logz_stderr
    err = math.hypot(err, rs_err(qr, K))
    return float(v - v0 + F - corr), grad - dcorr, hess - d2corr, err


@functools.lru_cache(maxsize=64)
def _typical(qr, K, n, act="sign"):
    """Ĝ, its (p, t, q1)-gradient and its per-randomisation means at the typical point
    θ0 = (q̃, q̃, q̃) (the control variates; one evaluation per reference q̃)."""
    v0, g0, _, means0 = _raw_jet(qr, qr, qr, qr, K, act)
    return v0, g0, means0


def _derivative(qr, p, t, q1, K, i, j, k, l, act="sign"):
    """One entry of the jet; i > 0: central differences in q̃ (module docstring)."""
    if i + j + k + l > 2:
        raise NotImplementedError("derivatives of total order > 2 of the committee FP node")
    if i == 0:
        v, g, h, _ = (sign_fp_jet if act == "sign" else relu_fp_jet)(qr, p, t, q1, K)
        idx = [0] * j + [1] * k + [2] * l
        if not idx:
            return v
        if len(idx) == 1:
            return g[idx[0]]
        return h[idx[0], idx[1]]
    hq = C.FP_QREF_STEP
    up = _derivative(qr + hq, p, t, q1, K, i - 1, j, k, l, act)
    dn = _derivative(qr - hq, p, t, q1, K, i - 1, j, k, l, act)
    return (up - dn) / (2 * hq)


def sign_fp_logz(qr, p, t, q1, K, i, j, k, l):
    r"""∂^{i}_{q̃}∂^{j}_p∂^{k}_t∂^{l}_{q_1} of the finite-K sign committee's FP
    energetic term (module docstring), vectorised (broadcast) over the four
    overlaps; evaluated once per distinct point. Total order ≤ 2."""
    K, i, j, k, l = (int(a) for a in (K, i, j, k, l))
    if K > MAX_K:
        from .errors import ParameterError
        raise ParameterError("K", f"the finite-K Franz–Parisi committee term is evaluated for "
                                  f"K <= {MAX_K} (cost ~4^K per point); use K = inf")
    return _per_point(qr, p, t, q1, K, i, j, k, l, "sign")


def relu_fp_logz(qr, p, t, q1, K, i, j, k, l):
    r"""∂^{i}_{q̃}∂^{j}_p∂^{k}_t∂^{l}_{q_1} of the finite-K ReLU committee's FP
    energetic term (module docstring, section "ReLU units"), as :func:`sign_fp_logz`;
    2 ≤ K ≤ ``RELU_MAX_K``."""
    K, i, j, k, l = (int(a) for a in (K, i, j, k, l))
    _check_relu_k(K)
    return _per_point(qr, p, t, q1, K, i, j, k, l, "relu")


def _check_relu_k(K):
    if not 2 <= K <= RELU_MAX_K:
        from .errors import ParameterError
        raise ParameterError("K", f"the finite-K Franz–Parisi term of the ReLU committee is "
                                  f"evaluated for 2 <= K <= {RELU_MAX_K} (the exact reference "
                                  f"sampler, solvers.relu_reference, is written out per K up to "
                                  f"two units per readout group; larger K would also cost "
                                  f"K(K+1)/2 contour jets per point); use K = inf, got K = {K}")


def _per_point(qr, p, t, q1, K, i, j, k, l, act):
    """The node's entry over broadcast overlaps, evaluated once per distinct point."""
    arrs = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (qr, p, t, q1)))
    shape = arrs[0].shape
    flat = [a.ravel() for a in arrs]
    out = np.empty(flat[0].shape)
    seen = {}
    for n in range(out.size):
        key = tuple(float(f[n]) for f in flat)
        if key not in seen:
            seen[key] = _derivative(*key, K, i, j, k, l, act)
        out[n] = seen[key]
    return out.reshape(shape)


def sign_fp_logz_stderr(qr, p, t, q1, K):
    """Standard error of the node value (module docstring)."""
    return sign_fp_jet(float(qr), float(p), float(t), float(q1), int(K))[3]


def relu_fp_logz_stderr(qr, p, t, q1, K):
    """Standard error of the ReLU node value (module docstring)."""
    return relu_fp_jet(float(qr), float(p), float(t), float(q1), int(K))[3]
