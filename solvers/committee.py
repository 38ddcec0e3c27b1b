r"""Numerical routines behind the tree-committee nodes :class:`replica.committee.SignCommitteeLogZ`
and :class:`replica.committee.ReluCommitteeLogZ` (sign units first; ReLU units in the
section "ReLU committee at finite q" below).

:func:`sign_logz` evaluates the n-th q-derivative (n = 0, 1, 2) of

.. math:: F_K(q) = \mathbb{E}_{z\in\mathbb{R}^K}\ln P\big(\#\{l: \lambda_l > 0\} \ge m\big),
          \quad \lambda_l = \sqrt q z_l + \sqrt{1-q}\,x_l,\ m = (K+1)/2,

the energetic average of the sign tree committee (K odd). With the output margin κ of the
``*-tree-committee-margin`` families the threshold is m(κ) = ⌊(K + κ√K)/2⌋ + 1
(:func:`margin_threshold`; everything below holds for any 1 ≤ m ≤ K, the control variate
with the m smallest costs; checked at K = 3 for m = 3, three perceptrons, and m = 1 against a
product grid, tests/test_committee.py). No K-dimensional grid:

* inner probability (given z): the units are independent Bernoulli with
  :math:`p_l = \Phi(a z_l)`, :math:`a = \sqrt{q/(1-q)}`. The count distribution obeys
  the Poisson-binomial recursion :math:`P_j \leftarrow P_j(1-p_l) + P_{j-1}p_l`, a
  convex combination (values in [0, 1], positive terms: no cancellation), keeping
  P_0..P_{m-1} and the tail P(# ≥ m) (O(K m) per sample, no transcendental function:
  :func:`_tails_linear`); a-derivatives by the product rule; the band of states that
  are reachable and can still reach m − 1 is about half of the K·m pairs. Linear scale
  is exact where P(# ≥ m) cannot underflow: per row, the product of the m largest p_l
  (a lower bound) above e^-600 (:func:`_linear_rows`). The other rows (q → 1, P down
  to e^{-10^5}) and unanimity m = K run the recursion in logarithms: with the odds
  :math:`\rho_l = p_l/(1-p_l)`, :math:`P(\# \ge m) = \prod_l (1-p_l)\sum_{j\ge m}e_j(\rho)`,
  :math:`e_j \leftarrow e_j + \rho_l e_{j-1}` in logaddexp, derivatives as *ratios*
  e_j'/e_j and e_j''/e_j, which are conditional expectations of bounded quantities
  (e.g. :math:`\partial_a \ln\sum_{j\ge m}e_j = \sum_l \pi_l \partial_a\ln\rho_l`, π_l =
  P(unit l positive | output positive)). The two routes agree to ≤ 4e-12 on F, F', F''
  at moderate q (tests/test_committee_linear.py); where they differ, the linear one is
  the accurate one (mpmath, 40 digits: the log route loses ~1e-12 on ln P ≈ 0 and more
  on ∂²_a, e.g. F'' 44 % off at K = 99, 1 − q = 1e-6, 1.2 % with the linear rows, against
  finite differences of F'). The chain rule to q is applied at the end.
* the last unit is integrated exactly in 1-D (P(# ≥ m) is linear in p_K: B + (A−B)p_K
  with A, B the tails of the other K−1 units), on graded Gauss–Legendre pieces;
* outer average over the other K−1 fields: randomised quasi-Monte Carlo (scrambled
  Sobol points, ``COMMITTEE_QMC_POINTS`` per randomisation × ``COMMITTEE_QMC_RANDOMIZATIONS``
  independent scramblings, mapped to Gaussians by the inverse CDF), with a control
  variate: as q → 1, ln P ≃ −(a²/2) C(z), C the min-cost (sum of the m smallest
  (z_l⁻)²), whose exact mean is a 1-D integral; F = mean(ln P) + (a²/2)(mean C − E C).
  The point set is fixed, so F_K(q) and its derivatives are the exact derivatives of
  one smooth estimator: Newton converges on it.
* large K (K ≥ ``COMMITTEE_SUMLAW_MIN_K``, majority threshold): a second control
  variate, of the count's conditional mean :math:`S_1 = \sum_{l<K} p_l` and variance
  :math:`S_2 = \sum_{l<K} p_l(1-p_l)` over the K − 1 sampled units,
  :math:`g = \ln\Phi\big((S_1 + 1 - m)/\sqrt{S_2 + 1/4}\big)` (normal approximation of
  ln P(# ≥ m) with continuity correction, the last unit Bernoulli(1/2) on average), whose
  exact mean and a-derivatives come from the law of (S_1, S_2), the (K − 1)-fold
  convolution of the law of (p, p(1 − p)) (characteristic function on a 2-D grid raised
  to the power K − 1, inverse FFT: :func:`_sum_law_density`, E g to ≤ 1e-10). It is a
  function of the sampled units only, so it is consistent with the exact last unit:
  F = mean(ln P − w(g − E g) + (1 − w)(a²/2)(C − E C)), w(q) = 1 up to q = 0.85 and a C²
  step to 0 at q = 0.92 (``COMMITTEE_SUMLAW_Q``; near q = 1 the min-cost variate is the
  better one), differentiated exactly in q (value and both derivatives carry it).

Accuracy (stated, not hidden): measured at K = 3 against an independent 100³ product
quadrature (tests/test_committee.py), |ΔF| ≤ 5e-5 and |ΔF'| ≤ 3e-4 for q ∈ [0.3, 0.85];
the spread of the scramblings (:func:`sign_logz_stderr`) is 2e-5..6e-5 there, ~1e-4 at
K = 9 and ~5e-4 at K = 99 with the min-cost variate (fewer points), 2.7e-5 (q = 0.5) and
2e-4 (q = 0.8) with the sum-law variate of K ≥ 51. ``SaddleResult.quadrature_error`` reports the
change when the points are doubled; the models set their alarm to 1e-3
(replica.committee.QMC_ALARM).

Cost: O(M K m) per evaluation (M points): ~5 ns per (unit, state) pair and point in
linear scale, on about half of the K·m pairs (the band), against ~25 ns in logarithms.
Measured at q = 0.5 (benchmarks/committee.py; 2-core machine shared with other jobs,
load ~2.8): one evaluation (F, F', F'' on the production points) takes 0.022 s at K = 3,
0.066 s at K = 21, 0.18 s at K = 99 (0.094 s, 0.24 s, 1.1 s with the recursion in logs;
values equal to 4e-12). At *equal* accuracy the QMC error decides (with the min-cost
variate alone, as before the sum-law variate below): the scramblings' standard error
falls like n^-r, r ≈ 1.1 at K = 3 and 0.6..0.8 at K = 9..99, and to reach 1e-4 K = 99
needs ~13× the points of K = 3 (16 000 against 1 300 per scrambling): 1.2 s against
0.003 s, ~450× (in logs ~9 s against 0.03 s, ~300×, from the per-point
costs above: K = 3 gained as much as K = 99).
So, without it, not "K = 99 at the cost of K = 3": per point the work grows like K m/2
against the last unit's 64 nodes, and the points with the error, whose non-additive part
(functions of Σ_l p_l, i.e. of the count's mean and variance) Sobol points integrate at the Monte
Carlo rate. Tried and not kept: an orthogonal (Householder) map of the points putting
Σ z_l on the first Sobol coordinate (exact; variance ×0.2..2 at K = 9..99); control
variates polynomial (degree 5) in Σ_l p_l (their means are exact from cumulants;
measured with regressed coefficients): standard error ÷2..3 at K = 99 but ÷0.75..1.6 at
K = 51 (q = 0.5..0.95, n = 2048..8192), not worth the derivative bookkeeping. K > 21 uses
``COMMITTEE_QMC_POINTS_LARGE_K`` points (standard error 5e-4 at K = 99; more with
:func:`points_scale`). Far cheaper than a K-dimensional grid (n^K).
Kept: the sum-law variate g(S_1, S_2) above, *instead of* the min-cost one (the
polynomials in S_1 were tried on top of it, and the two variates' coefficients fight: g on
top of the min-cost estimate gained only ×5 at K = 99, q = 0.5, ×2 at q = 0.8). Measured
on the production points (2048 per scrambling, 16 scramblings; variance of the estimate
with the min-cost variate over that with g, coefficient 1): K = 51: ×221, ×106, ×25, ×8,
×2 at q = 0.3, 0.5, 0.8, 0.9, 0.95; K = 99: ×1940, ×393, ×40, ×12, ×5 (correlation of ln P
and g 0.999); K = 21 (4096 points): only ×17 at q = 0.5, ×2 at 0.8, ×0.45 at 0.9, hence
the threshold; the blend hands over to the min-cost variate above q = 0.85 because the FFT
law is checked up to a = 3.4 (q = 0.92) and ln P ≃ −(a²/2)C as q → 1. A first Edgeworth
(skewness) term would give ×4500 at K = 99, q = 0.5 (regressed coefficient) but needs the
law of Σ p_l(1 − p_l)(1 − 2p_l) too: not done. K = 99 at q = 0.5:
standard error 2.7e-5 with the production 2048 × 4 points (5.3e-4 before; both from the
spread of 16 scramblings); the extra cost is one 64 × 64 FFT per q (~0.03 s, cached) and
O(K) per point. At equal standard error (benchmarks/committee.py, q = 0.5, target 1e-4,
4 scramblings): K = 99 now needs ~150 points per scrambling (K = 3: ~1300), 0.048 s
against 0.0026 s, ratio ~18× (was ~475×), most of it the FFT of that q (2-core machine
shared with other jobs, load ~2.4).

ReLU committee at finite q
--------------------------
:func:`relu_logz` evaluates the n-th q-derivative (n = 0, 1, 2) of the label-averaged

.. math:: F_K(q) = \tfrac12\sum_{y=\pm1}\mathbb{E}_z\ln P\Big(y\sum_l c_l\,
          \mathrm{relu}(\lambda_l) > 0\Big)

with the readout of :class:`replica.committee.ReluCommitteeLogZ` (c_l = +1 on ⌈K/2⌉
units, −1 on the rest; even K has one label, by symmetry). Everything below is derived
here. Since relu is positively homogeneous, dividing λ_l by √(1−q) gives
:math:`P(D > 0)` with :math:`D = S_+ - S_-`, :math:`S_\pm = \sum_{l\in\pm} r_l`,
:math:`r_l = \mathrm{relu}(u_l + x_l)`, x iid N(0, 1), u = a z, a = √(q/(1−q)); the
units are independent given z, and no K-dimensional grid is used:

* **unit transforms.** r has an atom :math:`m = \Phi(-u)` at 0 and density φ(r − u)
  on r > 0, so :math:`g(\theta) = \mathbb{E}[e^{\theta r}; r>0] = e^{-u^2/2}\,
  e^{w^2/2}\Phi(w)` with w = u + θ, and :math:`h(\theta) = \mathbb{E}[e^{-\theta r};
  r>0]` is the same with w = u − θ. For complex w, :math:`e^{w^2/2}\Phi(w) =
  \tfrac12\mathrm{erfcx}(-w/\sqrt2)` (Faddeeva function), in logs: no overflow and no
  cancellation of the two huge factors e^{θu+θ²/2} and Φ(u+θ).
* **inversion (Bromwich).** For c > 0, :math:`\frac{1}{2\pi i}\int_{c-i\infty}^{c+i\infty}
  e^{\theta D}\theta^{-1}d\theta = 1\{D>0\} + \tfrac12 1\{D=0\}`. D = 0 has positive
  probability only when every unit is off, and on S_+ = 0 we have D ≤ 0; so with the
  atom of the plus group removed, :math:`G_+(\theta) = \mathbb{E}[e^{\theta S_+};
  S_+>0]`, :math:`P(D>0) = \frac{1}{2\pi i}\int M_-(\theta)G_+(\theta)\,\theta^{-1}
  d\theta` exactly, :math:`M_-(\theta) = \prod_{l\in-}(m_l + h_l(\theta))`. By conjugate
  symmetry :math:`P = \frac1\pi\int_0^\infty \mathrm{Re} f(c+iy)\,dy`. The integrand
  decays like 1/y² (the densities jump at r = 0), so y = b tan φ maps it to a smooth
  function on φ ∈ [0, π/2): Gauss–Legendre, ``RELU_CONTOUR_NODES``.
* **components and their contours.** :math:`G_+ = \sum_{k\ge1}G^{(k)}`, G^{(k)} the
  part with exactly k plus units active, :math:`\sum_{|A|=k}\prod_A g\prod_{A^c} m`
  by the elementary-symmetric recursion. Each component gets its own line Re θ = c_k,
  the minimum of the convex :math:`h_k(c) = \ln M_-(c) + \ln G^{(k)}(c) - \ln c`
  (log-moment-generating functions are convex; safeguarded Newton in ln c), and
  b_k = h_k''(c_k)^{-1/2}. Why: a plus unit far below threshold (u ≪ 0) is bimodal
  under the tilt e^{cr} (its atom against its active part near u + c); a single line
  through the global saddle then sits where two components of very different means
  balance, and the answer is ~e^{-30} of the integrand's size (seen at q = 0.999:
  negative sums). Components estimated (saddle-point) more than
  ``RELU_COMPONENT_SKIP`` below the largest are skipped.
* **complement.** Where the event is the typical one (the swapped event's saddle point
  lies further out, and P(all units off) < 1/2), the line integral of P ≈ 1
  oscillates at the frequency E D over a width ≫ 1/E D; there
  :math:`P = 1 - P(S_- > S_+) - \prod_l m_l`, with no cancellation (P > 1/4).
* **derivatives.** ∂_u g = θg + φ(u), ∂_u h = −θh + φ(u), ∂_u m = −φ(u) (and their u
  derivatives), times z_l for d/da; carried as jets (ln X, X'/X, X''/X) through the
  products and sums, then the chain rule to q as for sign units. They are the exact
  a-derivatives at fixed contours; the contours move with a, but the exact integral
  does not depend on them, so the difference is the a-derivative of the quadrature
  error (finite differences of the estimator agree to 1e-6 relative:
  tests/test_committee.py).
* **outer average.** The QMC machinery above (``RELU_QMC_POINTS`` × 4 scramblings,
  the same Sobol sequences), with the control variate of the q → 1 limit:
  :math:`\ln P \simeq -(a^2/2)C(z)`, C the ReLU min-cost of :func:`relu_min_cost`,
  whose mean is itself a QMC estimate on 4× the points (its first n points are these);
  its error, a common offset (a²/2)δ(E C), is added to the reported standard error.
  Because the same E C enters the analytic q → 1 capacity, the finite-q route
  reproduces it (relative discrepancy 2e-7..4e-7 at K = 2, 3, 4).

Accuracy (tests/test_committee.py): per point, ln P agrees with the K = 2 closed form
Φ₂(u₁, (u₁−u₂)/√2; 1/√2) (scipy) and with mpmath to 1e-9 relative for |u| up to 3000
(ln P down to −1e7), and with nested quadrature at K = 3 to 1e-6; F_K agrees with
product Gauss–Hermite grids within 2σ (σ = 1.2e-4..2.6e-4 at q = 0.3..0.9, K = 2, 3),
F_K' within ~1e-4..6e-4. A point whose contour sum is not positive (never observed)
makes the estimate NaN and the solver's status non-finite. At small q the chain rule
to q makes F'' the difference of two O(1/q) terms (F is even in a, but its QMC
estimate only nearly so): F'' is noisy for q ≲ 1e-3 (K = 3: −11.6 at q = 1e-4 against
≈ −1 from differences of F'), values and F' are not; the same holds for sign units.
Checked: F_2(0) = ln(3/8) (P(x₁ > max(0, x₂))), F_K(1 − 1e-7) finite with relative
standard error 7e-5.

Cost: per point and component, K complex erfcx on ``RELU_CONTOUR_NODES`` nodes; the
components are ⌈K/2⌉ (fewer after skipping), so the cost grows like K² (K³ for the
recursion) per point: one evaluation (value and two derivatives) takes 0.18 s at
K = 2, 0.71 s at K = 3 (two labels), 0.76 s at K = 4 and 3.2 s at K = 6
(benchmarks/committee.py, 2-core machine shared with other jobs). Large K (≳ 20) is not
practical this way; K → ∞ has its own closed channel (``K=inf``).

ReLU committee with an output margin
------------------------------------
The ``*-tree-committee-margin`` families at finite K ≥ 2 with ReLU units store a pattern
when :math:`y\sum_l c_l\,\mathrm{relu}(\lambda_l) > \kappa\sigma_K`,
:math:`\sigma_K = \sqrt{K(1/2 - 1/(2\pi))}` the standard deviation of the raw output
under random patterns (any real κ; the normalisation of the K = inf margin channel,
:class:`replica.committee.WideCommitteeChannel`). With odd K the readout mean
:math:`\sum_l c_l\,\mathbb{E}\,\mathrm{relu} = 1/\sqrt{2\pi}` is *not* subtracted (the
threshold is on y·output itself, as for κ = 0); that offset is O(1) against σ_K ∝ √K,
so the convention tends to the K = inf one (whose balanced readout has mean 0).
Everything below is derived here. In the rescaled variables of the section above the
event is :math:`D > \kappa'` (label +1; label −1 swaps the groups),
:math:`\kappa' = \kappa\sigma_K/\sqrt{1-q} = \kappa\sigma_K\sqrt{1+a^2}`.
:func:`relu_logz` with ``kappa`` (κ = 0 runs the margin-0 code, the same numbers):

* **Bromwich factor.** :math:`P(D > \kappa') = \frac{1}{2\pi i}\int E[e^{\theta(D-\kappa')}]
  \theta^{-1}d\theta`: every component gains :math:`e^{-\theta\kappa'}`, and its saddle
  c minimises :math:`h(c) = \ln(\ldots) - c\kappa' - \ln c` (still convex; it moves with
  κ').
* **atoms and jumps (bookkeeping).** D has an atom at 0 (all units off) and, on the
  vertical line, a component whose density jumps has a tail ~e^{−iyκ'}/y², which the
  tangent map cannot integrate once κ' ≠ 0 (it oscillates ever faster as φ → π/2).
  So the event is split by the numbers of active units (k plus, j minus), and the pieces
  whose density jumps are closed forms: one plus unit active and all minus units off,
  :math:`\pi_-\sum_l\prod_{l'\ne l}m_{l'}\,\Phi(u_l - \max(\kappa', 0))`; for κ' < 0
  (the output 0 now satisfies the event) also all off, :math:`\pi_+\pi_-`, and no plus
  unit with one minus unit active below |κ'|, :math:`\pi_+\sum_l\prod_{l'\ne l}m_{l'}
  [\Phi(|\kappa'|-u_l) - \Phi(-u_l)]` (m = Φ(−u) the atoms, π± their products). The
  contour pieces are k ≥ 2 (any minus units), k = 1 with j ≥ 1, and for κ' < 0, k = 0 with
  j ≥ 2; their densities are continuous (tails ≤ 1/y³), each on its own saddle line.
  For κ' > 0 no piece without a plus unit contributes (D ≤ 0 < κ').
* **bent lines.** The tail of e^{−θκ'} is made to decay: Re θ = c + sτ(√(B² + y²) − B)
  (s = sign κ', τ = ``RELU_MARGIN_BEND``, B = ``RELU_MARGIN_BEND_START``·b), vertical
  near the saddle and asymptotically at angle atan τ towards the side where e^{−θκ'}
  decays. The integrand is entire except the pole at θ = 0, which the deformation does
  not cross (Im θ > 0 on the swept region), and for τ < 1 every unit transform stays in
  the sector of algebraic decay of erfcx, so the arcs at infinity vanish;
  :math:`P = \frac1\pi\int_0^\infty\mathrm{Re}[f(\theta)\,\theta'(y)/i]\,dy`.
* **complement.** No atom sits at D = κ' ≠ 0, so :math:`P = 1 - P(S_- - S_+ > -\kappa')`
  exactly (the swapped groups with threshold −κ'); it is used where the saddle-point
  estimate of the event exceeds that of its complement (the computed probability is then
  ≤ ~1/2: no cancellation).
* **jets.** κ' depends on q: along a = √(q/(1−q)), :math:`\kappa'_a = \kappa\sigma_K
  a/\sqrt{1+a^2}`, :math:`\kappa'_{aa} = \kappa\sigma_K(1+a^2)^{-3/2}`, carried by the
  factor's jet :math:`(-\theta\kappa', -\theta\kappa'_a, \theta^2\kappa_a'^2 -
  \theta\kappa'_{aa})` and by the closed forms' arguments; then the chain rule to q as
  before. κ is a control: no κ-derivative is needed by the solvers, none is provided.
* **q → 1 and the control variate.** :math:`\ln P \simeq -C_\kappa(z)/(2(1-q))`,
  C_κ the squared distance from z to :math:`\{y\sum_l c_l\,\mathrm{relu}(\lambda_l)
  \ge \kappa\sigma_K\}` (in the unscaled fields: the threshold κσ_K does not move):
  the water-filling QP of :func:`relu_min_cost` with the deficit B − A + κσ_K; for κ < 0
  no plus unit needs to end up active. Spherical α_c(κ) = 1/E C_κ. The same C_κ is the
  control variate (exact mean not needed beyond its QMC estimate, as for κ = 0).
* **replicon.** :func:`relu_replicon` with ``kappa``: the same polarised jets at fixed κ'
  (the Hessian in ω is at fixed q), the two-group reduction unchanged (the margin is the
  same for both labels).

**The jump at κ = 0.** The atom π0 = P(all off) makes P(D > κ') jump by π0 at κ' = 0
(κ → 0− counts the output 0 as satisfying the margin), and in the q → 1 limit the
negative orthant becomes free: K = 2, E C jumps from 3/4 to 0.26246 (α_c from 4/3 to
3.809). κ = 0 is the strict inequality, the margin-0 family's numbers. Spherical α_c
at κ = 0−: 3.809, 2.864, 3.080, 2.942, 2.909 (K = 2, 3, 4, 6, 8) against the K = inf
2.934: the jump fades as K grows (π0 = 2^{−K} at z = 0).

Accuracy (tests/test_committee_relu_margin.py): per point against mpmath (K = 2, ln P down
to −130) ≤ 1.2e-10 relative with 128 nodes, ≤ 1.6e-5 with the production 32 (the level of
the κ = 0 rule); K = 3 against nested Gauss–Legendre: ≤ 2e-9 (128 nodes). With 32 nodes
the estimator's derivatives differ from finite differences of its value by up to 3e-5
(F') and 4e-4 (F'') relative (K = 2, 3, κ = ±0.5, q = 0.6: the contours move with q and
the bent lines resolve their tails less well than at κ = 0); with 128 nodes 5e-10 and
6e-7, so the jets are the exact derivatives and the rest is quadrature error, far
below the QMC error (6e-5 on F). F_2(q; κ) agrees with an 80² product grid within 4σ.
Cost: 1.1–1.5× the κ = 0 node (K = 2: 0.2 s, K = 3: 1.1 s per evaluation with
derivatives, 2-core machine shared with other jobs).

AT replicon of the sign committee
---------------------------------
:func:`sign_replicon` evaluates :math:`\gamma_{out} = K[A + (K-1)B]`,
A = E(∂²_{ω_K} ln 𝒵)², B = E(∂_{ω_l}∂_{ω_K} ln 𝒵)² (derivation:
:class:`replica.committee.SignCommitteeReplicon`), on the QMC points of
:func:`sign_logz` with the last unit K integrated in 1-D: A from unit K alone (exact
in its own field; the QMC units' (∂²_l ln 𝒵)² are 40× noisier), B averaged over the
K − 1 pairs (l, K). The counts of the other units without unit l (P(N = m−2),
P(N = m−1), P(N ≥ m)) come from prefix and suffix distributions (no deconvolution),
in linear scale on the rows where P(# ≥ m) cannot underflow (the criterion of
:func:`_linear_rows`; :func:`_replicon_rows_linear`), in logs on the others (same
numbers to ≤ 1e-13 of the largest, tests/test_committee_linear.py). Near q → 1 the squared Hessian is a spike of width ~(1−q)/|r| at the
last unit's rank-exchange ridge z_K = r (:func:`_ridge`); the 1-D rule gets graded
pieces around it on the rows where it is sharp. Accuracy: A, B within 2e-5 relative of
a finite-difference product grid at K = 3 (tests/test_committee.py); standard error
≤ 1.2e-4 relative at K = 3 for q up to 1 − 1e-5, 5e-4..1e-3 at K = 9..99 (q = 0.5);
(1 − q)³γ_out → 2J at K = 3 to 1.4e-5 at 1 − q = 1e-5 (the derived asymptote). Cost
at q = 0.5: 0.12 s (K = 3), 0.42 s (K = 21), 1.7 s (K = 99) (0.29 s, 2.6 s, 11 s with
the counts in logs, same machine and load, values equal to 1e-15).

AT replicon of the ReLU committee
---------------------------------
:func:`relu_replicon` evaluates :math:`\gamma_{out} = K\mu_{max}(M)`,
:math:`M_{lm} = \mathbb{E}(\partial_{\omega_l}\partial_{\omega_m}\ln\mathcal Z)^2`
label-averaged, reduced to the 2 × 2 group-uniform problem (derivation:
:class:`replica.committee.ReluCommitteeReplicon`), on the QMC points of
:func:`relu_logz`. Per point the Hessian of ln P in u comes by polarisation: the
contour integrals of :func:`relu_logz` carry jets along the K(K+1)/2 directions e_l,
e_l + e_m at once (a trailing axis; the erfcx and logs are shared), through the same
components, contours and complement. Accuracy (tests/test_committee.py): per point
within 1.3e-5 of the analytic K = 2 Hessian and 2.4e-6 of finite differences of nested
quadrature at K = 3 (the contour rule's own error on ln P is up to 7e-7 at |u| ~ 2);
K = 2 in expectation within 0.2σ of a Gauss–Hermite product grid of the analytic
Hessian (q = 0.3, 0.5; σ = 2.8e-5, 1.1e-4). Standard error at q = 0.5: 1.3e-4 relative
at K = 3, 2e-3 at K = 4, 1.1e-3 at K = 6. Near q → 1 (K ≥ 3) the squared Hessian has
ridge spikes of width ~(1−q) in z (where two ways to reach the output region cost the
same; the class docstring) which plain QMC does not resolve: at 1 − q = 1e-3 the
estimate's standard error is ~70 % of its value (no ridge refinement as for sign
units), so values there are indicative only; the AT points below lie at q ≤ 0.9.
K = 2 has no ridge: (1−q)²γ_out → 3/4 = 1/α_c (marginal, tested). Cost per q (value
only): 0.35 s (K = 2), 1.6 s (K = 3), 1.9 s (K = 4), 5.9 s (K = 6), 2-core machine.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr, ndtri
from scipy.stats import qmc

from . import constants as C

__all__ = ["sign_logz", "sign_logz_stderr", "sign_min_cost", "margin_threshold", "relu_min_cost", "relu_min_cost_stderr", "relu_logz",
           "relu_logz_stderr", "relu_margin_scale", "relu_margin_log_p", "points_scale", "qmc_points", "sign_replicon", "sign_replicon_parts",
           "relu_replicon", "relu_replicon_parts", "relu_hessian_u"]

_STATE = threading.local()
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@contextlib.contextmanager
def points_scale(factor):
    """Multiply the number of QMC points inside the block (quadrature-error estimate)."""
    old = getattr(_STATE, "scale", 1)
    _STATE.scale = int(factor)
    try:
        yield
    finally:
        _STATE.scale = old


def _n_points(K, relu=False):
    if relu:
        base = C.RELU_QMC_POINTS if K <= 21 else C.RELU_QMC_POINTS_LARGE_K
    else:
        base = C.COMMITTEE_QMC_POINTS if K <= 21 else C.COMMITTEE_QMC_POINTS_LARGE_K
    return base * getattr(_STATE, "scale", 1)


@functools.lru_cache(maxsize=16)
def qmc_points(K, n, randomizations):
    """Gaussian QMC points, shape (randomizations, n, K): scrambled Sobol, fixed seeds."""
    out = np.empty((randomizations, n, K))
    for r in range(randomizations):
        u = qmc.Sobol(d=K, scramble=True, seed=C.COMMITTEE_QMC_SEED + r).random(n)
        out[r] = ndtri(np.clip(u, 1e-300, 1 - 1e-16))
    out.setflags(write=False)
    return out


def _ratio(u):
    """φ(u)/Φ(u), stable for all u."""
    return np.exp(-0.5 * u * u - _LOG_SQRT_2PI - log_ndtr(u))


def _combine(terms):
    """Sum of positive terms given as (log, D1, D2); returns (log, D1, D2) of the sum."""
    L = terms[0][0]
    for t in terms[1:]:
        L = np.logaddexp(L, t[0])
    fin = np.isfinite(L)
    Ls = np.where(fin, L, 0.0)
    d1 = np.zeros_like(L)
    d2 = np.zeros_like(L)
    for lt, a1, a2 in terms:
        w = np.where(fin, np.exp(np.where(np.isfinite(lt), lt, -np.inf) - Ls), 0.0)
        d1 = d1 + w * a1
        d2 = d2 + w * a2
    return L, d1, d2


def _times_rho(term, lrho, g, h):
    """ρ·X for X = (log, D1, D2), with ∂ ln ρ = g, ∂² ln ρ = h."""
    lx, a1, a2 = term
    return lrho + lx, g + a1, (g * g + h) + 2 * g * a1 + a2


def _unit_terms(a, z):
    """Per-unit logs and a-derivatives: ln p, ln(1-p), ln ρ and their ∂_a, ∂_a²."""
    u = a * z
    lp, lq = log_ndtr(u), log_ndtr(-u)
    rp, rq = _ratio(u), _ratio(-u)
    gp, hp = rp * z, (-u * rp - rp * rp) * z * z
    gq, hq = -rq * z, (u * rq - rq * rq) * z * z
    return (lp, gp, hp), (lq, gq, hq), (lp - lq, gp - gq, hp - hq)


def _one_d_breaks(a):
    """Breakpoints of :func:`_one_d_rule`: 0, ±w0·GRADING^k, ±L (sorted)."""
    L = C.QUAD_CUTOFF
    w0 = min(C.SHARP_TRANSITION / max(a, 1e-300), C.SHARP_WIDTH)
    br = [0.0]
    w = w0
    while w < L:
        br += [w, -w]
        w *= C.GRADING
    return np.array(sorted(set(br + [-L, L])))


def _one_d_rule(a):
    """Gauss–Legendre nodes/weights (Gaussian density included) on [-L, L], split at
    0 and graded geometrically around it (the step of Φ(a z) has width 1/a)."""
    br = _one_d_breaks(a)
    t, wt = np.polynomial.legendre.leggauss(C.COMMITTEE_LAST_UNIT_NODES)
    lo, hi = br[:-1, None], br[1:, None]
    x = (lo + 0.5 * (hi - lo) * (t + 1)).ravel()
    wts = (0.5 * (hi - lo) * wt).ravel() * np.exp(-0.5 * x * x - _LOG_SQRT_2PI)
    return x, wts


def _per_a(a, z, m=None, route="auto"):
    """E over the last unit (1-D quadrature) of ln P(# ≥ m | z) and its first two
    a-derivatives, for every row of z (shape (M, K-1): the other units), and the control
    variate C(z); m is the count threshold (1 ≤ m ≤ K; default the majority (K+1)/2,
    :func:`margin_threshold`). ``route``: "auto" runs the Poisson-binomial recursion in
    linear scale (:func:`_per_a_linear`) on the rows where it cannot underflow
    (:func:`_linear_rows`) and in logarithms (:func:`_per_a_log`) on the others; "log"
    and "linear" force one route on every row (tests)."""
    M, K1 = z.shape
    K = K1 + 1
    m = (K + 1) // 2 if m is None else int(m)
    if route not in ("auto", "log", "linear"):
        raise ValueError(f"route must be 'auto', 'log' or 'linear', got {route!r}")
    step = max(1, C.COMMITTEE_ROW_BLOCK // max(1, K1))
    if M > step:              # blocks of rows (memory: several (K − 1) × rows arrays)
        parts = [_per_a(a, z[s0:s0 + step], m, route) for s0 in range(0, M, step)]
        return tuple(np.concatenate(v) for v in zip(*parts))
    x, w = _one_d_rule(a)
    val, d1, d2 = np.empty(M), np.empty(M), np.empty(M)
    lin = np.zeros(M, bool)
    if route != "log" and m < K:
        units = _unit_probs(a, np.ascontiguousarray(z.T))
        lin = _linear_rows(units[0], m) if route == "auto" else ~lin
        rows = np.nonzero(lin)[0]
        if len(rows) == M:
            val, d1, d2 = _per_a_linear(a, units, m, x, w)
        elif len(rows):
            val[rows], d1[rows], d2[rows] = _per_a_linear(a, [v[:, rows] for v in units], m, x, w)
    rows = np.nonzero(~lin)[0]
    if len(rows):
        val[rows], d1[rows], d2[rows] = _per_a_log(a, z[rows], m, x, w)
    # control variate: the min-cost C(z) (sum of the m smallest (z_l^-)^2), whose exact
    # mean is a 1-D integral, over the same points and the same last-unit rule
    bs = np.sort(np.maximum(-z, 0.0)**2, axis=1)
    # the m-th smallest cost of the K units is min(last unit's, m-th of the others); at
    # m = K (unanimity) the others have no m-th: every cost counts
    kth = bs[:, m - 1:m] if m <= K1 else np.full((M, 1), np.inf)
    cv = bs[:, :m - 1].sum(axis=1) + np.minimum(np.maximum(-x, 0.0)**2, kth) @ w
    return val, d1, d2, cv


def _unit_probs(a, zt):
    """p = Φ(u), 1 − p = Φ(−u), ∂_a p = z φ(u) and ∂²_a p = −u z² φ(u) for u = a z,
    ``zt`` unit-major (K − 1, M). One ndtr: the smaller of p, 1 − p is Φ(−|u|) and the
    other 1 − Φ(−|u|) (≥ 1/2, so exact to rounding)."""
    u = a * zt
    small = ndtr(-np.abs(u))
    big = 1.0 - small
    pos = u > 0
    p1 = zt * np.exp(-0.5 * u * u - _LOG_SQRT_2PI)
    return np.where(pos, big, small), np.where(pos, small, big), p1, -u * zt * p1


def _linear_rows(p, m):
    """Rows on which :func:`_per_a_linear` is exact, from p = Φ(a z) (shape (K − 1, M),
    unit-major): a lower bound of B = P(# ≥ m among the K − 1 units), the product of the
    m largest p_l (one way to reach m), above e^``COMMITTEE_LINEAR_LOG_FLOOR``. Then every
    node's P = B(1 − p_K) + A p_K ≥ B is a normal float, and what underflows along the
    recursion (terms below ~1e-308, each a share of a path probability ≤ 1) is < 1e-40
    relative to it. The product of all p_l, a cheaper bound, decides most rows first.
    m = K (unanimity: B ≡ 0, P = A p_K underflows with p_K far in the tail) takes the
    log route."""
    K1, M = p.shape
    if m > K1:
        return np.zeros(M, bool)
    with np.errstate(divide="ignore"):
        lp = np.log(p)
    lin = lp.sum(axis=0) > C.COMMITTEE_LINEAR_LOG_FLOOR
    rest = np.nonzero(~lin)[0]
    if len(rest) and m < K1:
        top = -np.partition(-lp[:, rest], m - 1, axis=0)[:m]
        lin[rest] = top.sum(axis=0) > C.COMMITTEE_LINEAR_LOG_FLOOR
    return lin


def _tails_linear(p, pq, p1, p2, m):
    r"""Truncated Poisson-binomial recursion in linear scale, with a-derivatives.

    ``p``, ``pq`` = 1 − p (computed as Φ(−u), not 1 − Φ(u)), ``p1`` = ∂_a p, ``p2`` =
    ∂²_a p: shape (n, M), unit-major (n units, M rows). The distribution of the count,
    :math:`P_j \leftarrow P_j(1-p_l) + P_{j-1}p_l` (a convex combination: all values in
    [0, 1], no cancellation in the values), is kept for j < m and the tail T = P(≥ m)
    absorbs :math:`P_{m-1}p_l`; the derivatives follow by the product rule,
    :math:`P_j' \leftarrow P_j'(1-p) + P_{j-1}'p + p'(P_{j-1}-P_j)`,
    :math:`P_j'' \leftarrow P_j''(1-p) + P_{j-1}''p + 2p'(P_{j-1}'-P_j') + p''(P_{j-1}-P_j)`.
    Band: after l units only j ≤ l are reachable, and states j < m − 1 − (units left)
    can no longer reach m − 1 (they are not updated, nor read again): about half of the
    n·m (unit, state) pairs at the majority. Returns (T, T', T'') and (P_{m−1},
    P_{m−1}', P_{m−1}''), each stacked (3, M); O(n m) per row, no transcendental
    function (~5 ns per pair and row, against ~25 ns in logarithms)."""
    n, M = p.shape
    E = np.zeros((3, m + 1, M))   # (value, ∂_a, ∂_a²) of P_j at row j + 1; row 0 stays 0
    E[0, 1] = 1.0
    T = np.zeros((3, M))
    new, D, t = np.empty((3, m, M)), np.empty((2, m, M)), np.empty((m, M))
    for l in range(n):
        pl, ql, d1, d2 = p[l], pq[l], p1[l], p2[l]
        lo = max(0, m - 1 - (n - 1 - l))
        hi = min(l + 1, m - 1)
        k = hi + 1 - lo
        if l + 1 >= m:            # P_{m-1} p_l flows into the tail (old values)
            e = E[:, m]
            T[2] += pl * e[2] + 2 * d1 * e[1] + d2 * e[0]
            T[1] += pl * e[1] + d1 * e[0]
            T[0] += pl * e[0]
        below, cur = E[:, lo:hi + 1], E[:, lo + 1:hi + 2]
        nk, Dk, tk = new[:, :k], D[:, :k], t[:k]
        np.subtract(below[:2], cur[:2], out=Dk)        # P_{j-1} − P_j, P'_{j-1} − P'_j
        np.multiply(cur, ql, out=nk)
        np.multiply(below, pl, out=cur)                # cur is read no more this step
        nk += cur
        np.multiply(Dk[0], d1, out=tk)
        nk[1] += tk
        np.multiply(Dk[1], 2 * d1, out=tk)
        nk[2] += tk
        np.multiply(Dk[0], d2, out=tk)
        nk[2] += tk
        cur[...] = nk
    return T, E[:, m].copy()


def _per_a_linear(a, units, m, x, w):
    """(ln P, ∂_a ln P, ∂²_a ln P) averaged over the last unit (nodes x, weights w) for
    the rows (columns of ``units`` = (p, 1 − p, ∂_a p, ∂²_a p), :func:`_unit_probs`) chosen
    by :func:`_linear_rows`, by :func:`_tails_linear`: :math:`P = B(1-p_K) + A p_K` and
    its a-derivatives by the product rule, as matrix products of the rows' (B, A,
    P_{m−1}) jets with the nodes' (1 − p_K, p_K, ∂_a p_K, ∂²_a p_K); ln P and the ratios
    P'/P, P''/P − (P'/P)² per node (one logarithm)."""
    M = units[0].shape[1]
    step = max(1, C.COMMITTEE_LINEAR_CHUNK // max(m, 2 * len(x)))
    pK, qK, pK1, pK2 = _unit_probs(a, x[None, :])
    G = np.concatenate([qK, pK, pK1, pK2])
    val, d1, d2 = np.empty(M), np.empty(M), np.empty(M)
    for s0 in range(0, M, step):
        sl = slice(s0, s0 + step)
        B, E = _tails_linear(*(v[:, sl] for v in units), m)
        A = B + E                 # P(≥ m − 1) of the K − 1 units; A − B = P_{m−1}
        P = np.stack([B[0], A[0]], axis=1) @ G[:2]
        P1 = np.stack([B[1], A[1], E[0]], axis=1) @ G[:3]
        P2 = np.stack([B[2], A[2], 2 * E[1], E[0]], axis=1) @ G
        iP = 1.0 / P
        P1 *= iP
        P2 *= iP
        val[sl] = np.log(P, out=P) @ w
        d1[sl] = P1 @ w
        P2 -= np.square(P1, out=P1)
        d2[sl] = P2 @ w
    return val, d1, d2


def _per_a_log(a, z, m, x, w):
    """(ln P, ∂_a ln P, ∂²_a ln P) averaged over the last unit (nodes x, weights w) for
    the rows of z, the recursion in logarithms (module docstring): for rows where
    P(# ≥ m) may underflow (q → 1) and for m = K."""
    M, K1 = z.shape
    _, (lq, gq, hq), (lrho, grho, hrho) = _unit_terms(a, z)
    zero = np.zeros(M)
    ninf = np.full(M, -np.inf)
    e = [(zero, zero, zero)] + [(ninf, zero, zero) for _ in range(m - 1)]
    tail = (ninf, zero, zero)  # sum_{j >= m} e_j;  e[m-1] + tail = sum_{j >= m-1} e_j
    for l in range(K1):
        lr, g, h = lrho[:, l], grho[:, l], hrho[:, l]
        tail = _combine([tail, _times_rho(tail, lr, g, h), _times_rho(e[m - 1], lr, g, h)])
        for j in range(m - 1, 0, -1):
            e[j] = _combine([e[j], _times_rho(e[j - 1], lr, g, h)])
    # P(# >= m) = prod_{l<K}(1-p_l) [ B (1-p_K) + A p_K ], A = tail + e_{m-1}, B = tail
    base = (lq.sum(axis=1), gq.sum(axis=1), hq.sum(axis=1))
    A = _combine([tail, e[m - 1]])
    (lpK, gpK, hpK), (lqK, gqK, hqK), _ = _unit_terms(a, x)

    def times(X, Y):  # product of two positive quantities (log, D1, D2)
        return (X[0][:, None] + Y[0][None, :], X[1][:, None] + Y[1][None, :],
                X[2][:, None] + Y[2][None, :] + 2 * X[1][:, None] * Y[1][None, :])

    # two positive terms: B (1-p_K) and A p_K, combined in logs (weights w1, 1 - w1)
    X, Y = times(tail, (lqK, gqK, gqK**2 + hqK)), times(A, (lpK, gpK, gpK**2 + hpK))
    LT = np.logaddexp(X[0], Y[0])
    w1 = np.exp(X[0] - LT)
    D1 = Y[1] + w1 * (X[1] - Y[1])
    D2 = Y[2] + w1 * (X[2] - Y[2])
    val = base[0] + (LT @ w)
    d1 = base[1] + (D1 @ w)
    d2 = base[2] + ((D2 - D1 * D1) @ w)
    return val, d1, d2


@functools.lru_cache(maxsize=64)
def _min_cost_exact(K, m=None):
    """E C_K = ∫_0^∞ ds 2s Σ_{j<m} (m-j) C(K,j) Φ(s)^j H(s)^{K-j}, C_K the sum of the m
    smallest (z_l⁻)² (replica.committee.SignCommitteeMinCost; here for the control
    variate and :func:`sign_min_cost`), Gauss–Legendre on [0, 12]; m defaults to the
    majority (K+1)/2."""
    m = (K + 1) // 2 if m is None else int(m)
    t, wt = np.polynomial.legendre.leggauss(60)
    br = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0])
    lo, hi = br[:-1, None], br[1:, None]
    s = (lo + 0.5 * (hi - lo) * (t + 1)).ravel()
    ws = (0.5 * (hi - lo) * wt).ravel()
    lP, lH = log_ndtr(s), log_ndtr(-s)
    tot = np.zeros_like(s)
    for j in range(m):
        lc = math.lgamma(K + 1) - math.lgamma(j + 1) - math.lgamma(K - j + 1)
        tot += (m - j) * np.exp(lc + j * lP + (K - j) * lH)
    return float(np.sum(2 * s * tot * ws))



def _sum_law_weight(q):
    """Weight w(q) of the sum-law control variate and its first two q-derivatives: 1 for
    q ≤ q0, 0 for q ≥ q1 (``COMMITTEE_SUMLAW_Q``), the quintic smoothstep between (C²:
    the estimator stays twice differentiable in q)."""
    q0, q1 = C.COMMITTEE_SUMLAW_Q
    if q <= q0:
        return 1.0, 0.0, 0.0
    if q >= q1:
        return 0.0, 0.0, 0.0
    d = q1 - q0
    s = (q - q0) / d
    return (1.0 - s**3 * (10 - 15 * s + 6 * s * s), -30 * s * s * (1 - s)**2 / d,
            -60 * s * (1 - s) * (1 - 2 * s) / d**2)


def _sum_law_g(s1, s2, m):
    """(g, t, ∂g/∂t, ∂²g/∂t²) for g = ln Φ(t), t = (S1 + 1 − m)/√(S2 + 1/4): the normal
    approximation (continuity-corrected) of ln P(# ≥ m) given K − 1 units with count mean
    S1 and variance S2, the last unit Bernoulli(1/2) on average (variance 1/4)."""
    t = (s1 + 1.0 - m) / np.sqrt(s2 + 0.25)
    r = _ratio(t)
    return log_ndtr(t), t, r, -r * (t + r)


def _sum_law_rule(a):
    """Gauss–Legendre rule in z (Gaussian density included) for the characteristic
    function of (p, p(1 − p)): [−9, 9] split at 0 and at ±w·r^k, w = min(1, 1/a)/8,
    geometric up to 9 (11 pieces a side), ``COMMITTEE_SUMLAW_NODES`` nodes per piece
    (finer than :func:`_one_d_rule`: e^{iω·p} oscillates up to ω ~ 30)."""
    half = np.geomspace(min(1.0, 1.0 / a) / 8, 9.0, 12)[:-1]
    br = np.concatenate([[-9.0], -half[::-1], [0.0], half, [9.0]])
    t, wt = np.polynomial.legendre.leggauss(C.COMMITTEE_SUMLAW_NODES)
    lo, hi = br[:-1, None], br[1:, None]
    x = (lo + 0.5 * (hi - lo) * (t + 1)).ravel()
    return x, (0.5 * (hi - lo) * wt).ravel() * np.exp(-0.5 * x * x - _LOG_SQRT_2PI)


def _sum_law_density(n, a):
    r"""Law of :math:`S_1 = \sum_{l\le n} p_l`, :math:`S_2 = \sum_{l\le n} p_l(1-p_l)`,
    p_l = Φ(a z_l), z iid N(0, 1) (n = K − 1 units) on a grid, with its a-derivatives:
    returns the grid (x1, x2) and the masses (three N × N arrays: the probability of each
    node's cell, ∂_a and ∂²_a of it), so that E f(S_1, S_2) ≈ Σ mass·f(x1, x2) (for
    :math:`\mathbb{E}\,g`, :func:`_sum_law_mean`).

    The law of (S_1, S_2) is the n-fold convolution of the law of (p, p(1 − p)): its
    characteristic function is ψ(ω)^n, :math:`\psi(\omega) = \mathbb{E}_z e^{i(\omega_1 p
    + \omega_2 p(1-p))}` (1-D graded Gauss–Legendre rule in z, :func:`_sum_law_rule`),
    sampled on an N × N grid of frequencies (N = ``COMMITTEE_SUMLAW_GRID``) dual to a
    spatial grid of ±``COMMITTEE_SUMLAW_SPAN`` standard deviations around the mean; a 2-D
    FFT gives the density on that grid, and an expectation is its trapezoid sum (spectrally
    accurate for a smooth density; E g converged to ≤ 1e-10 for n ≥ 50, a ≤ 3.4, see the
    constants).
    a-derivatives at fixed grid: ∂_a ψ^n = nψ^{n−1}∂_aψ, ∂²_a ψ^n = n(n−1)ψ^{n−2}(∂_aψ)²
    + nψ^{n−1}∂²_aψ, with ∂_a e^{iθ} = iθ_a e^{iθ}, θ_a = ω_1∂_a p + ω_2(1 − 2p)∂_a p."""
    N, L = C.COMMITTEE_SUMLAW_GRID, C.COMMITTEE_SUMLAW_SPAN
    z, w = _sum_law_rule(a)
    p, _, p1, p2 = _unit_probs(a, z)
    y, y1, y2 = p * (1 - p), (1 - 2 * p) * p1, (1 - 2 * p) * p2 - 2 * p1 * p1
    mu1, mu2 = float(w @ p), float(w @ y)
    sd1, sd2 = math.sqrt(n * float(w @ (p - mu1)**2)), math.sqrt(n * float(w @ (y - mu2)**2))
    h1, h2 = 2 * L * sd1 / N, 2 * L * sd2 / N
    c1, c2 = n * mu1 - L * sd1, n * mu2 - L * sd2
    k = np.fft.fftfreq(N) * N
    om1, om2 = 2 * np.pi * k / (N * h1), 2 * np.pi * k / (N * h2)
    f0, f1, f2 = (np.empty((N, N), complex) for _ in range(3))
    for i in range(N):       # one row of ω_1 at a time: (N, nodes) arrays
        th = om1[i] * p + om2[:, None] * y
        e = np.exp(1j * th) * w
        d = 1j * (om1[i] * p1 + om2[:, None] * y1)
        f0[i], f1[i] = e.sum(axis=1), (e * d).sum(axis=1)
        f2[i] = (e * (d * d + 1j * (om1[i] * p2 + om2[:, None] * y2))).sum(axis=1)
    pw = f0**(n - 2)
    phase = np.exp(-1j * (om1[:, None] * c1 + om2[None, :] * c2)) / (N * N)
    x1, x2 = c1 + h1 * np.arange(N), c2 + h2 * np.arange(N)
    mass = [np.fft.fft2(F * phase).real for F in
            (pw * f0 * f0, n * pw * f0 * f1, n * (n - 1) * pw * f1 * f1 + n * pw * f0 * f2)]
    return x1, x2, mass


@functools.lru_cache(maxsize=64)
def _sum_law_mean(n, a, m):
    """(E g, ∂_a E g, ∂²_a E g) for g of :func:`_sum_law_g` under the law of
    :func:`_sum_law_density` (n = K − 1 units, threshold m)."""
    x1, x2, mass = _sum_law_density(n, a)
    # grid nodes below S2 = 0 carry no mass (the density there is FFT round-off)
    g = _sum_law_g(x1[:, None], np.maximum(x2[None, :], 0.0), m)[0]
    return tuple(float(np.sum(w * g)) for w in mass)


def _sum_law_cv(a, z, m):
    """Per point (rows of z, the K − 1 sampled units) g of :func:`_sum_law_g` and its
    first two a-derivatives (chain rule through S_1, S_2)."""
    p, _, p1, p2 = _unit_probs(a, z)
    s1, s1a, s1aa = p.sum(axis=1), p1.sum(axis=1), p2.sum(axis=1)
    s2 = (p * (1 - p)).sum(axis=1)
    s2a = ((1 - 2 * p) * p1).sum(axis=1)
    s2aa = ((1 - 2 * p) * p2 - 2 * p1 * p1).sum(axis=1)
    g, t, r, r1 = _sum_law_g(s1, s2, m)
    V = s2 + 0.25
    c = s1 + 1.0 - m
    ta = s1a / np.sqrt(V) - 0.5 * c * s2a / V**1.5
    taa = (s1aa / np.sqrt(V) - s1a * s2a / V**1.5 - 0.5 * c * s2aa / V**1.5
           + 0.75 * c * s2a * s2a / V**2.5)
    return g, r * ta, r1 * ta * ta + r * taa



def _sum_law_args(q, z, m):
    """The ``law`` argument of :func:`_q_estimate` for the rows of z (the K − 1 sampled
    units) at threshold m, or None where the sum-law variate is not used (K <
    ``COMMITTEE_SUMLAW_MIN_K``, m not the majority, or weight 0 at q ≥
    ``COMMITTEE_SUMLAW_Q[1]``)."""
    K = z.shape[1] + 1
    sw = _sum_law_weight(q)
    if K < C.COMMITTEE_SUMLAW_MIN_K or m != (K + 1) // 2 or sw[0] == 0.0:
        return None
    a = math.sqrt(q / (1.0 - q))
    g, Eg = _sum_law_cv(a, z, m), _sum_law_mean(K - 1, a, m)
    return sw, tuple(gi - Ei for gi, Ei in zip(g, Eg))


_CACHE = {}
_CACHE_LOCK = threading.Lock()
#: entries per evaluation cache before it is emptied (each entry is one q, K, threshold)
_CACHE_SIZE = 256


def _cache_get(cache, key):
    """The cached evaluation for ``key`` or None (thread-safe)."""
    with _CACHE_LOCK:
        return cache.get(key)


def _cache_put(cache, key, out):
    """Store ``out`` under ``key`` (emptying the cache when full); returns ``out``."""
    with _CACHE_LOCK:
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        cache[key] = out
    return out


def _evaluate(q, K, m=None):
    """(F, F', F'', stderr of F) at scalar q (derivatives in q), cached; m the count
    threshold (default the majority, margin κ = 0)."""
    n = _n_points(K)
    m = (int(K) + 1) // 2 if m is None else int(m)
    key = (float(q), int(K), n, m)
    hit = _cache_get(_CACHE, key)
    if hit is not None:
        return hit
    if not 0.0 < q < 1.0:
        out = (np.nan, np.nan, np.nan, np.nan)
    else:
        z = qmc_points(int(K) - 1, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
        a = math.sqrt(q / (1.0 - q))
        v, d1, d2, cv = _per_a(a, z.reshape(-1, K - 1), m)
        law = _sum_law_args(q, z.reshape(-1, K - 1), m)
        out = _q_estimate(q, v, d1, d2, cv - _min_cost_exact(int(K), m), z.shape[0], law)
    return _cache_put(_CACHE, key, out)


def _q_estimate(q, v, d1, d2, dc, R, law=None):
    """(F, F', F'', stderr of F) in q from per-point ln P and its first two derivatives in
    a = √(q/(1−q)) (``v``, ``d1``, ``d2``; R scramblings of equal size, in order) and
    the control variate dc = C(z) − E C (sign and ReLU units alike).

    ``law`` (sign units, K ≥ ``COMMITTEE_SUMLAW_MIN_K``): ((w, w', w''), (dg, dg_a,
    dg_aa)), the weight of :func:`_sum_law_weight` and the per-point g − E g of
    :func:`_sum_law_cv`, :func:`_sum_law_mean` with its a-derivatives; then
    F = mean(ln P − w·(g − E g) + (1 − w)(a²/2)(C − E C)), unbiased for every w (both
    variates have exact means), differentiated in q exactly (w and a depend on q).

    F = mean(ln P) + (a²/2)(mean(C) − E C): ln P ≃ −(a²/2) C(z) + O(ln a) as q → 1, so
    the control variate removes the growing part of the variance (error 2e-3 → 3e-5 at
    q = 0.99, K = 3, sign); (a²)' = 1/(1−q)², (a²)'' = 2/(1−q)³, and the a-derivatives
    go to q by the chain rule with a' = ½ q^{−1/2}(1−q)^{−3/2}."""
    a = math.sqrt(q / (1.0 - q))
    a1 = 0.5 / (math.sqrt(q) * (1.0 - q) ** 1.5)
    a2 = 0.5 * (-0.5 * q ** -1.5 * (1.0 - q) ** -1.5 + 1.5 * q ** -0.5 * (1.0 - q) ** -2.5)
    b0, b1, b2 = 0.5 * a * a, 0.5 / (1.0 - q)**2, 1.0 / (1.0 - q)**3
    if law is not None:
        (w, w1, w2), (dg, dga, dgaa) = law
        vals = v - w * dg + (1.0 - w) * b0 * dc
        means = vals.reshape(R, -1).mean(axis=1)
        Fa, Faa, dcm = float(d1.mean()), float(d2.mean()), float(dc.mean())
        G, Ga, Gaa = float(dg.mean()), float(dga.mean()), float(dgaa.mean())
        Gq, Gqq = Ga * a1, Gaa * a1 * a1 + Ga * a2          # q-derivatives of mean(g) − E g
        F1 = Fa * a1 - w1 * G - w * Gq - w1 * b0 * dcm + (1.0 - w) * b1 * dcm
        F2 = (Faa * a1 * a1 + Fa * a2 - w2 * G - 2 * w1 * Gq - w * Gqq
              - w2 * b0 * dcm - 2 * w1 * b1 * dcm + (1.0 - w) * b2 * dcm)
        err = float(means.std(ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
        return float(vals.mean()), F1, F2, err
    vals = v + b0 * dc
    means = vals.reshape(R, -1).mean(axis=1)
    Fa, Faa, dcm = float(d1.mean()), float(d2.mean()), float(dc.mean())
    err = float(means.std(ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
    return float(vals.mean()), Fa * a1 + b1 * dcm, Faa * a1 * a1 + Fa * a2 + b2 * dcm, err


def _per_q(evaluate, q, K, n):
    """``evaluate(q_i, K)[n]`` over the array ``q``, once per distinct value (the
    compiled models broadcast the overlap over the quadrature grids)."""
    if n > 2:
        raise NotImplementedError("derivatives of order > 2 of the committee average")
    q = np.asarray(q, dtype=float)
    flat = q.ravel()
    vals = {}
    out = np.empty(flat.shape)
    for i, qi in enumerate(flat):
        if qi not in vals:
            vals[qi] = evaluate(qi, K)[n]
        out[i] = vals[qi]
    return out.reshape(q.shape)


def margin_threshold(K, kappa):
    r"""Count threshold m(κ) of the output margin κ at finite K (sign units).

    The normalised output is :math:`(2j-K)/\sqrt K`, j the number of positive hidden
    units (:class:`replica.committee.SignCommitteeLogZ`), so the pattern is stored when
    :math:`(2j-K)/\sqrt K > \kappa`, i.e. :math:`j \ge m(\kappa) = \lfloor(K +
    \kappa\sqrt K)/2\rfloor + 1` (κ = 0, K odd: the majority (K+1)/2). A value of
    (K + κ√K)/2 within ``COMMITTEE_MARGIN_STEP_TOL`` (relative) of an integer is taken
    as that integer (κ exactly at a step, e.g. 1/√3 at K = 3, up to rounding: the
    inequality is strict there, so m jumps). Raises ParameterError naming ``kappa``
    when m ≤ 0 (κ < −√K: every output satisfies the margin) or m > K (κ ≥ √K: none does),
    or κ is not finite.

    >>> margin_threshold(3, 0.0), margin_threshold(3, 0.6), margin_threshold(3, -0.6)
    (2, 3, 1)
    >>> margin_threshold(3, 1 / 3**0.5), margin_threshold(25, 0.3)
    (3, 14)
    """
    from .errors import ParameterError
    K, kappa = int(K), float(kappa)
    if not math.isfinite(kappa):
        raise ParameterError("kappa", f"the output margin kappa must be finite, got {kappa}")
    x = 0.5 * (K + kappa * math.sqrt(K))
    r = round(x)
    if abs(x - r) <= C.COMMITTEE_MARGIN_STEP_TOL * max(1.0, abs(x)):
        x = float(r)
    m = math.floor(x) + 1
    if m <= 0:
        raise ParameterError("kappa", f"kappa = {kappa} < -sqrt(K) = {-math.sqrt(K):.6g}: every output "
                                      f"(2j - K)/sqrt(K) >= -sqrt(K) satisfies the margin (K = {K})")
    if m > K:
        raise ParameterError("kappa", f"kappa = {kappa} >= sqrt(K) = {math.sqrt(K):.6g}: no output "
                                      f"(2j - K)/sqrt(K) <= sqrt(K) exceeds the margin (K = {K})")
    return m


def _per_q_kappa(evaluate, q, K, n, kappa, margin_arg=margin_threshold):
    """``evaluate(q_i, K, margin_arg(K, κ_i))[n]`` over ``q`` and ``kappa`` broadcast
    together, once per distinct (q, margin argument) (a scan over κ passes an array of
    margins). Sign units: the count threshold m(κ) (default); ReLU units pass κ itself."""
    if n > 2:
        raise NotImplementedError("derivatives of order > 2 of the committee average")
    q, kap = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(kappa, dtype=float))
    ms = {}
    vals = {}
    out = np.empty(q.shape)
    for idx, (qi, ki) in enumerate(zip(q.ravel(), kap.ravel())):
        if ki not in ms:
            ms[ki] = margin_arg(K, ki)
        key = (qi, ms[ki])
        if key not in vals:
            vals[key] = evaluate(qi, K, ms[ki])[n]
        out.flat[idx] = vals[key]
    return out


def sign_logz(q, K, n, kappa=None):
    """n-th q-derivative of F_K(q) (module docstring); vectorised over ``q``. ``kappa``
    (scalar or array, broadcast with ``q``): the output margin, i.e. the count threshold
    :func:`margin_threshold` instead of the majority; None is the margin-0 node (the
    same numbers as κ = 0)."""
    if kappa is None:
        return _per_q(_evaluate, q, int(K), int(n))
    return _per_q_kappa(_evaluate, q, int(K), int(n), kappa)


def sign_logz_stderr(q, K, kappa=None):
    """Standard error of the QMC estimate of F_K(q) across the independent scramblings."""
    m = None if kappa is None else margin_threshold(K, kappa)
    return _evaluate(float(q), int(K), m)[3]


def sign_min_cost(K, kappa=None):
    r""":math:`\mathbb{E}\,C_K`, the sum of the m(κ) smallest (z_l⁻)² (the q → 1 coefficient
    of F_K: :class:`replica.committee.SignCommitteeMinCost`); vectorised over ``kappa``."""
    if kappa is None:
        return _min_cost_exact(int(K))
    kap = np.asarray(kappa, dtype=float)
    out = np.empty(kap.shape)
    for idx, ki in enumerate(kap.ravel()):
        out.flat[idx] = _min_cost_exact(int(K), margin_threshold(K, ki))
    return out if out.ndim else float(out)


# --------------------------------------------------------------------------- ReLU, q -> 1
def _relu_cost(z, n_plus, t=0.0):
    """Smallest squared distance from each row of z (shape (M, K)) to the region where
    sum_{l < n_plus} relu(λ_l) - sum_{l >= n_plus} relu(λ_l) > t (infimum; t = κσ_K the
    output margin on the raw output, 0 without one).

    Moves: raise an active plus unit by u (cost u²); activate an inactive plus unit
    (z < 0) and raise it to v ≥ 0 (cost (|z| + v)²); lower an active minus unit by
    r ∈ [0, y] (cost r²). With the deficit D = B - A, for a fixed set of activated
    units the KKT conditions give a common level μ: u = μ, v = max(μ - |z|, 0),
    r = min(μ, y), Σ(contributions) = D (μ by bisection, monotone), cost
    n_active μ² + Σ_new max(μ, |z|)² + Σ min(μ, y)². Activating costs a fixed |z|², so
    the number k of activated units (the k least negative) is enumerated; at least
    one plus unit must end up active (otherwise the output is 0, not positive), unless
    t < 0: then the deficit is D = B - A + t and lowering minus units alone may do
    (the all-off point has output 0 > t).
    """
    M, K = z.shape
    zp, zm = z[:, :n_plus], z[:, n_plus:]
    A = np.maximum(zp, 0).sum(axis=1)
    y = np.maximum(zm, 0)
    B = y.sum(axis=1)
    D = B - A + t
    n_act = (zp > 0).sum(axis=1)
    a_in = np.sort(np.where(zp <= 0, -zp, np.inf), axis=1)  # inactive plus units, |z| ascending
    best = np.where(D < 0, 0.0, np.inf)
    need = D >= 0
    for k in range(0, n_plus + 1):
        if k > 0:
            ak = a_in[:, :k]
            ok = need & np.isfinite(ak[:, -1])
        else:
            ak = np.zeros((M, 0))
            ok = need.copy()
        if t >= 0:
            ok &= (n_act + k) >= 1
        if not np.any(ok):
            continue
        idx = np.nonzero(ok)[0]
        akk, yk, Dk, nk = ak[idx], y[idx], D[idx], n_act[idx]

        def supply(mu):
            return (nk * mu + np.maximum(mu[:, None] - akk, 0).sum(axis=1)
                    + np.minimum(mu[:, None], yk).sum(axis=1))

        lo = np.zeros(len(idx))
        hi = np.maximum(Dk, 1e-300) + (akk.max(axis=1) if k else 0.0) + 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            s = supply(mid)
            lo = np.where(s < Dk, mid, lo)
            hi = np.where(s < Dk, hi, mid)
        mu = 0.5 * (lo + hi)
        cost = (nk * mu**2 + (np.maximum(mu[:, None], akk)**2).sum(axis=1)
                + (np.minimum(mu[:, None], yk)**2).sum(axis=1))
        best[idx] = np.minimum(best[idx], cost)
    return best


@functools.lru_cache(maxsize=64)
def _relu_min_cost(K, t=0.0):
    n = C.COMMITTEE_QMC_POINTS * 4 if K <= 21 else C.COMMITTEE_QMC_POINTS_LARGE_K * 4
    # even K: balanced readout, both labels give the same average; odd K: label +1 has
    # ceil(K/2) units read with +1, label -1 floor(K/2) (the first columns win)
    means = _relu_costs(K, n, t).mean(axis=0).mean(axis=1)
    R = len(means)
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(R))


def relu_min_cost(K, kappa=None):
    r""":math:`\mathbb{E}_z C(z)` for the ReLU tree committee (ceil(K/2) units read with +1,
    the rest with −1; averaged over the two labels), :math:`\ln\mathcal Z_K \simeq
    -C(z)/(2(1-q))` as q → 1; QMC over z ∈ R^K (scrambled Sobol). Returns the estimate
    (broadcast like ``K``); :func:`relu_min_cost_stderr` gives its standard error across
    the independent randomisations. ``kappa`` (scalar or array): the output margin, C the
    squared distance to :math:`y\sum_l c_l\,\mathrm{relu}(\lambda_l) \ge \kappa\sigma_K`
    (:func:`relu_margin_scale`); None or 0 is the margin-0 value."""
    if kappa is None:
        return np.asarray(_relu_min_cost(int(K))[0])
    kap = np.asarray(kappa, dtype=float)
    out = np.empty(kap.shape)
    for idx, ki in enumerate(kap.ravel()):
        out.flat[idx] = _relu_min_cost(int(K), _margin_t(K, ki))[0]
    return out if out.ndim else np.asarray(float(out))


def _margin_t(K, kappa):
    """Threshold t = κσ_K on the raw output (0.0 for κ = 0: the margin-0 cache entries);
    ParameterError naming kappa if κ is not finite."""
    kappa = float(kappa)
    if not math.isfinite(kappa):
        from .errors import ParameterError
        raise ParameterError("kappa", f"the output margin kappa must be finite, got {kappa}")
    return 0.0 if kappa == 0 else kappa * relu_margin_scale(K)


# --------------------------------------------------------------------------- ReLU, finite q
# (derivation and accuracy: module docstring, section "ReLU committee at finite q")

def _log_scaled_ncdf(w):
    r""":math:`\ln(e^{w^2/2}\Phi(w))` for complex w (principal branch), without overflow:
    :math:`e^{w^2/2}\Phi(w) = \tfrac12\,\mathrm{erfcx}(-w/\sqrt2)`; where Re w ≫ 0 and
    :math:`e^{\zeta^2}` would overflow, :math:`\mathrm{erfcx}(\zeta) = 2e^{\zeta^2} -
    \mathrm{erfcx}(-\zeta)` in logs."""
    zeta = -np.asarray(w, dtype=complex) / math.sqrt(2.0)
    big = (zeta.real < 0) & ((zeta.real**2 - zeta.imag**2) > 300.0)
    with np.errstate(all="ignore"):
        if not big.any():
            return np.log(0.5 * erfcx(zeta))
        out = np.log(0.5 * erfcx(np.where(big, 0.0, zeta)))
        zb = zeta[big]
        out[big] = zb * zb + np.log1p(-0.5 * np.exp(-zb * zb) * erfcx(-zb))
    return out


def _log_scaled_ncdf_real(w):
    """Real-argument version of :func:`_log_scaled_ncdf`."""
    w = np.asarray(w, dtype=float)
    with np.errstate(all="ignore"):
        neg = np.log(0.5 * erfcx(-np.minimum(w, 0.0) / math.sqrt(2.0)))
        pos = 0.5 * w * w + log_ndtr(np.maximum(w, 0.0))
    return np.where(w < 0, neg, pos)


def _tilt_ratios(w):
    r"""k1 = w + φ(w)/Φ(w) > 0 and k2 = 1 + w k1, real w: for a plus unit,
    g'/g and g''/g in c at w = u + c (module docstring). For w < −30 the asymptotic
    series −(1/w)(1 − 2/w² + 10/w⁴) avoids the cancellation (only the contour's
    position uses them: its accuracy does not enter the estimate)."""
    with np.errstate(all="ignore"):
        k1 = w + math.sqrt(2.0 / math.pi) / erfcx(-w / math.sqrt(2.0))
    wa = np.minimum(w, -1.0)
    k1 = np.where(w < -30.0, -(1.0 - 2.0 / wa**2 + 10.0 / wa**4) / wa, k1)
    return k1, 1.0 + w * k1


def _relu_contour(up, um):
    r"""Saddle point c > 0 of the whole event's :math:`h(c) = \ln M_-(c) + \ln G_+(c) -
    \ln c` (convex) per row, by safeguarded Newton in ln c: it only decides between the
    event and its complement (:func:`_relu_group`); the integrals use the components'
    own contours (:func:`_relu_components`). ``up``, ``um``: (M, n±) means u = a z."""
    M = up.shape[0]
    up_, um_, lm_p_, lm_m_ = up, um, log_ndtr(-up), log_ndtr(-um)

    def derivs(c, rows):
        up, um, lm_p, lm_m = up_[rows], um_[rows], lm_p_[rows], lm_m_[rows]
        cc = c[:, None]
        w = um - cc                         # minus units: h'/h = -k1(u - c), h''/h = k2
        lh = -0.5 * um**2 + _log_scaled_ncdf_real(w)
        hM = np.exp(lh - np.logaddexp(lm_m, lh))
        k1, k2 = _tilt_ratios(w)
        d1m, d2m = -hM * k1, hM * k2
        w = up + cc                         # plus units: g'/g = k1(u + c), g''/g = k2
        lg = -0.5 * up**2 + _log_scaled_ncdf_real(w)
        lgM = lg - np.logaddexp(lm_p, lg)
        gM = np.exp(lgM)
        k1, k2 = _tilt_ratios(w)
        x = lg - lm_p
        s = -np.log1p(np.exp(x)).sum(axis=1)           # ln prod(m/M) <= 0
        # ln(1 - prod(m/M)) = ln(G_+/prod M), accurate also when it is tiny
        lneg = np.where(x.max(axis=1) < -30.0, np.logaddexp.reduce(x, axis=1),
                        np.log(-np.expm1(np.minimum(s, -1e-300))))
        wk = np.exp(lgM - lneg[:, None])    # (g_k/M_k) prod M / G_+
        G1 = (wk * k1).sum(axis=1)
        S1 = (gM * k1).sum(axis=1)
        G2 = (wk * k2).sum(axis=1) + G1 * S1 - (wk * gM * k1**2).sum(axis=1) - G1**2
        return (d1m.sum(axis=1) + G1 - 1.0 / c,
                (d2m - d1m**2).sum(axis=1) + G2 + 1.0 / c**2)

    return _log_newton(derivs, M)


def _log_newton(derivs, M):
    """Saddle points c > 0 of M rows: Newton in t = ln c on h'(c) = 0, with
    ``derivs(c, rows) -> (h', h'')``; steps capped at 2 (h is convex in c; far from the
    saddle the uncapped step in t is ~1 anyway), bisection if a step leaves the bracket
    [e^-25, e^25]; rows stop when |Δt| < 1e-9 (the position only moves the quadrature
    error)."""
    lo, hi, t = np.full(M, -25.0), np.full(M, 25.0), np.zeros(M)
    act = np.arange(M)
    with np.errstate(all="ignore"):
        for _ in range(C.RELU_CONTOUR_NEWTON_MAXITER):
            ta = t[act]
            hp, hpp = derivs(np.exp(ta), act)
            lo[act] = np.where(hp < 0, ta, lo[act])
            hi[act] = np.where(hp < 0, hi[act], ta)
            tn = ta - np.clip(hp / (hpp * np.exp(ta)), -2.0, 2.0)
            tn = np.where((tn > lo[act]) & (tn < hi[act]) & np.isfinite(tn), tn, 0.5 * (lo[act] + hi[act]))
            t[act] = tn
            act = act[np.abs(tn - ta) >= 1e-9]
            if len(act) == 0:
                break
        return np.exp(t)


@functools.lru_cache(maxsize=4)
def _contour_rule(n):
    """Gauss–Legendre on φ ∈ [0, π/2] for y = b tan φ."""
    t, w = np.polynomial.legendre.leggauss(n)
    phi = (t + 1) * math.pi / 4
    return np.tan(phi), w * math.pi / 4 / np.cos(phi)**2


def _jmul(A, B):
    """Product of two jets (ln X, X'/X, X''/X)."""
    return A[0] + B[0], A[1] + B[1], A[2] + B[2] + 2 * A[1] * B[1]


def _jadd(A, B):
    """Sum of two jets (complex logs: the larger real part is the scale)."""
    Lm = np.where(A[0].real >= B[0].real, A[0], B[0])
    Lm = np.where(np.isfinite(Lm.real), Lm, 0.0)
    ea, eb = np.exp(A[0] - Lm), np.exp(B[0] - Lm)
    tot = ea + eb
    wa, wb = ea / tot, eb / tot
    return Lm + np.log(tot), wa * A[1] + wb * B[1], wa * A[2] + wb * B[2]


def _m_jet(u, z):
    """Jet in a of m = Φ(−u), u = a z: m' = −z φ(u), m'' = z² u φ(u)."""
    lm = log_ndtr(-u)
    r = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - lm)
    return lm, -z * r, z * z * u * r


def _rjmul(A, B):
    """Product of two real c-jets (ln X, X'/X, X''/X)."""
    return A[0] + B[0], A[1] + B[1], A[2] + B[2] + 2 * A[1] * B[1]


def _esp(units, k, mul, add):
    """Jet of G^(k) = E[e^{θ S_+}; exactly k plus units active] = Σ_{|A|=k} Π_{A} g Π_{not A} m
    by the elementary-symmetric recursion E_j ← E_j m_l + E_{j-1} g_l (j ≤ k), on jets."""
    E = [None] * (k + 1)
    for n, (mj, gj) in enumerate(units):
        for j in range(min(n + 1, k), -1, -1):
            a = mul(E[j], mj) if (E[j] is not None) else None
            if j == 0:
                E[0] = mj if n == 0 else a
                continue
            if n == 0 and j == 1:
                E[1] = gj
                continue
            b = mul(E[j - 1], gj) if E[j - 1] is not None else None
            E[j] = b if a is None else (a if b is None else add(a, b))
    return E[k]


def _relu_components(up, um, k):
    r"""Saddle point c_k of :math:`h_k(c) = \ln M_-(c) + \ln G^{(k)}(c) - \ln c` (the
    component with exactly k plus units active; convex), its scale
    :math:`b_k = h_k''(c_k)^{-1/2}` and the saddle-point estimate of ln P_k (used only to
    skip negligible components). Safeguarded Newton in ln c, per row."""
    M = up.shape[0]
    lm_p, lm_m = log_ndtr(-up), log_ndtr(-um)

    def derivs(c, rows):
        cc = c[:, None]
        w = um[rows] - cc
        lh = -0.5 * um[rows]**2 + _log_scaled_ncdf_real(w)
        lM = np.logaddexp(lm_m[rows], lh)
        hM = np.exp(lh - lM)
        k1, k2 = _tilt_ratios(w)
        d1m, d2m = -hM * k1, hM * k2
        w = up[rows] + cc
        lg = -0.5 * up[rows]**2 + _log_scaled_ncdf_real(w)
        k1, k2 = _tilt_ratios(w)
        z0 = np.zeros(len(rows))
        units = [((lm_p[rows, l], z0, z0), (lg[:, l], k1[:, l], k2[:, l])) for l in range(up.shape[1])]
        L, D1, D2 = _esp(units, k, _rjmul, lambda A, B: _combine([A, B]))
        h = lM.sum(axis=1) + L - np.log(c)
        return (h, d1m.sum(axis=1) + D1 - 1.0 / c,
                (d2m - d1m**2).sum(axis=1) + D2 - D1**2 + 1.0 / c**2)

    c = _log_newton(lambda cc, rows: derivs(cc, rows)[1:], M)
    with np.errstate(all="ignore"):
        h, _, hpp = derivs(c, np.arange(M))
        b = 1.0 / np.sqrt(hpp)
        est = h - 0.5 * np.log(2 * np.pi * hpp) + np.log(c)  # ~ ln P_k (Gaussian saddle)
    b = np.where(np.isfinite(b) & (b > 0), b, c)
    return c, b, est


def _relu_direct(zp, zm, a):
    r"""ln P(Σ_+ relu > Σ_- relu | z) and its a-derivatives per row (module docstring):
    a sum over the number k of active plus units of contour integrals, each on its own
    line Re θ = c_k (y = b_k tan φ, Gauss–Legendre); components estimated below
    e^{-RELU_COMPONENT_SKIP} of the largest are skipped. (M, n±) fields, u = a z: the
    a-derivative is the directional derivative along z (row-dependent), so this is
    :func:`_relu_direct_dirs` with the one direction z per row."""
    lp, d1, d2 = _relu_direct_dirs(a * zp, a * zm, np.concatenate([zp, zm], axis=1)[:, :, None])
    return lp, d1[:, 0], d2[:, 0]


def _relu_group(zp, zm, a):
    r"""ln P(Σ_{plus} relu(λ) > Σ_{minus} relu(λ) | z) and its first two a-derivatives,
    per row. Direct contour integral, or, where the event is the typical one (the
    swapped event's saddle point lies further out, c_swap > c, and the all-off atom
    π0 < 1/2), the complement 1 − P(Σ_- > Σ_+) − π0 (module docstring):
    :func:`_relu_group_dirs` along the direction z of each row."""
    lp, d1, d2 = _relu_group_dirs(a * zp, a * zm, np.concatenate([zp, zm], axis=1)[:, :, None])
    return lp, d1[:, 0], d2[:, 0]


def _relu_labels(K):
    """(n_plus) per label: even K one label (K/2 units read +1); odd K the two labels,
    ⌈K/2⌉ then ⌊K/2⌋ units on the winning side (the columns split as in _relu_min_cost)."""
    return (K // 2,) if K % 2 == 0 else ((K + 1) // 2, K // 2)


@functools.lru_cache(maxsize=8)
def _relu_costs(K, n, t=0.0):
    """Per-point min-costs C(z) (q → 1 coefficient) on the QMC points, per label:
    shape (labels, R, n), read-only; t the output threshold κσ_K."""
    z = qmc_points(K, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
    out = np.array([[_relu_cost(zr, npl, t) for zr in z] for npl in _relu_labels(K)])
    out.setflags(write=False)
    return out


_RELU_CACHE = {}


def _relu_evaluate(q, K, kappa=0.0):
    """(F, F', F'', stderr of F, failed points) of the ReLU committee at scalar q, cached;
    ``kappa`` the output margin (0: the margin-0 node, the same cache entries)."""
    n = _n_points(K, relu=True)
    t = _margin_t(K, kappa)
    key = (float(q), int(K), n) if t == 0.0 else (float(q), int(K), n, float(kappa))
    hit = _cache_get(_RELU_CACHE, key)
    if hit is not None:
        return hit
    if not 0.0 < q < 1.0:
        out = (np.nan, np.nan, np.nan, np.nan, 0)
    else:
        z = qmc_points(K, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
        zf = z.reshape(-1, K)
        a = math.sqrt(q / (1.0 - q))
        labels = _relu_labels(K)
        n4 = 4 * (C.COMMITTEE_QMC_POINTS if K <= 21 else C.COMMITTEE_QMC_POINTS_LARGE_K)
        # the first n scrambled-Sobol points of the min-cost's 4n are these points
        if t == 0.0:
            costs = (_relu_costs(K, n4)[:, :, :n] if n <= n4 else _relu_costs(K, n)).reshape(len(labels), -1)
            EC = _relu_min_cost(K)[0]
        else:
            costs = (_relu_costs(K, n4, t)[:, :, :n] if n <= n4 else _relu_costs(K, n, t)).reshape(len(labels), -1)
            EC = _relu_min_cost(K, t)[0]
            kap, kap1, kap2 = _kappa_scaled(q, K, kappa)
        v = np.zeros(len(zf))
        d1 = np.zeros(len(zf))
        d2 = np.zeros(len(zf))
        cv = np.zeros(len(zf))
        step = C.RELU_CHUNK
        for j, npl in enumerate(labels):
            for s0 in range(0, len(zf), step):
                blk = zf[s0:s0 + step]
                if t == 0.0:
                    lp, g1, g2 = _relu_group(blk[:, :npl], blk[:, npl:], a)
                else:
                    # the a-derivative moves u = a z along z and the threshold κ'(a)
                    lp, g1, g2 = _relu_group_margin_dirs(a * blk[:, :npl], a * blk[:, npl:], blk[:, :, None],
                                                         kap, (np.array([kap1]), np.array([kap2])))
                    g1, g2 = g1[:, 0], g2[:, 0]
                v[s0:s0 + step] += lp / len(labels)
                d1[s0:s0 + step] += g1 / len(labels)
                d2[s0:s0 + step] += g2 / len(labels)
            cv += costs[j] / len(labels)
        bad = ~(np.isfinite(v) & np.isfinite(d1) & np.isfinite(d2))
        nbad = int(bad.sum())
        if nbad:
            out = (np.nan, np.nan, np.nan, np.nan, nbad)
        else:
            # control variate (as for sign): ln P ≃ -(a²/2) C(z) as q -> 1
            F, F1, F2, err = _q_estimate(q, v, d1, d2, cv - EC, z.shape[0])
            # the reference E C is itself a QMC estimate (4x the points): its error
            # enters F as a common offset (a²/2) δ(E C), which the spread of the
            # scramblings cannot see; added in quadrature
            ECerr = _relu_min_cost(K)[1] if t == 0.0 else _relu_min_cost(K, t)[1]
            out = (F, F1, F2, math.hypot(err, 0.5 * a * a * ECerr), 0)
    return _cache_put(_RELU_CACHE, key, out)


def _relu_margin_arg(K, kappa):
    """The ReLU nodes take the margin κ itself (:func:`_per_q_kappa`)."""
    return kappa


def relu_logz(q, K, n, kappa=None):
    """n-th q-derivative (n = 0, 1, 2) of the label-averaged ReLU committee average
    F_K(q) (module docstring); vectorised over ``q`` (and ``kappa``, the output margin on
    the normalised output, broadcast with ``q``; None is the margin-0 node, the same
    numbers as κ = 0). Points where the estimate failed (never observed; a non-positive
    contour sum) give NaN, which the solver reports as a non-finite status."""
    K, n = int(K), int(n)
    if K < 2:
        from .errors import ParameterError
        raise ParameterError("K", f"the ReLU committee needs K >= 2, got {K}")
    if kappa is None:
        return _per_q(_relu_evaluate, q, K, n)
    return _per_q_kappa(_relu_evaluate, q, K, n, kappa, _relu_margin_arg)


def relu_logz_stderr(q, K, kappa=0.0):
    """Standard error of the QMC estimate of the ReLU F_K(q) across the scramblings."""
    return _relu_evaluate(float(q), int(K), float(kappa))[3]


def relu_min_cost_stderr(K, kappa=0.0):
    t = _margin_t(K, kappa)
    return _relu_min_cost(int(K))[1] if t == 0.0 else _relu_min_cost(int(K), t)[1]


# --------------------------------------------------------------------------- ReLU, output margin
# (derivation: module docstring, section "ReLU committee with an output margin")

def relu_margin_scale(K):
    r""":math:`\sigma_K = \sqrt{K(1/2 - 1/(2\pi))}`, the standard deviation of
    :math:`\sum_l c_l\,\mathrm{relu}(\lambda_l)` under random patterns: the output margin
    of the ``*-tree-committee-margin`` families is κσ_K on the raw output (as at K = inf,
    :class:`replica.committee.WideCommitteeChannel`)."""
    return math.sqrt(int(K) * (0.5 - 0.5 / math.pi))


def _kappa_scaled(q, K, kappa):
    """(κ', dκ'/da, d²κ'/da²): the threshold in the rescaled variables, κ' = κσ_K/√(1−q)
    = κσ_K √(1 + a²), a = √(q/(1−q))."""
    s = float(kappa) * relu_margin_scale(K)
    a2 = q / (1.0 - q)
    r = math.sqrt(1.0 + a2)
    return s * r, s * math.sqrt(a2) / r, s / r**3


def _esp_all(units, mul, add):
    """Jets of E_j, j = 0..n: E_j = Σ_{|A|=j} Π_A t Π_{not A} m over the units [(m, t)]
    (exactly j active), by the elementary-symmetric recursion on jets."""
    E = [units[0][0], units[0][1]]
    for mj, tj in units[1:]:
        E = ([mul(E[0], mj)] + [add(mul(E[j], mj), mul(E[j - 1], tj)) for j in range(1, len(E))]
             + [mul(E[-1], tj)])
    return E


def _jsum(terms, add):
    out = terms[0]
    for t in terms[1:]:
        out = add(out, t)
    return out


def _margin_pieces(npl, nmi, kap):
    """Contour pieces (k plus units active, smallest number j0 of active minus units) of
    P(S_+ − S_- > κ') (module docstring): k ≥ 2 with any minus units; k = 1 with j ≥ 1
    (the j = 0 part, whose density jumps at D = 0, is a closed form); κ' < 0 also k = 0
    with j ≥ 2 (j = 0, 1 closed forms)."""
    pieces = [(k, 0) for k in range(2, npl + 1)] + [(1, 1)]
    if kap < 0 and nmi >= 2:
        pieces.append((0, 2))
    return pieces


def _margin_saddles(up, um, kap, pieces):
    """Per piece: (c, b, est) with c the saddle point of the convex
    h(c) = ln P_k(c) + ln N_{≥j0}(c) − cκ' − ln c, b = h''(c)^{-1/2} and the saddle-point
    estimate est = h − ½ ln(2πh'') of the piece's probability (only for skipping pieces and
    choosing the route)."""
    M, npl = up.shape
    lm_p, lm_m = log_ndtr(-up), log_ndtr(-um)
    add = lambda A, B: _combine([A, B])  # noqa: E731

    def derivs(c, rows, k, j0):
        cc = c[:, None]
        z0 = np.zeros(len(rows))
        w = um[rows] - cc
        lh = -0.5 * um[rows]**2 + _log_scaled_ncdf_real(w)
        k1, k2 = _tilt_ratios(w)
        mun = [((lm_m[rows, l], z0, z0), (lh[:, l], -k1[:, l], k2[:, l])) for l in range(um.shape[1])]
        EN = _esp_all(mun, _rjmul, add)
        LN, N1, N2 = _jsum(EN[j0:], add)
        if k == 0:
            LP, P1, P2 = lm_p[rows].sum(axis=1), z0, z0
        else:
            w = up[rows] + cc
            lg = -0.5 * up[rows]**2 + _log_scaled_ncdf_real(w)
            k1, k2 = _tilt_ratios(w)
            pun = [((lm_p[rows, l], z0, z0), (lg[:, l], k1[:, l], k2[:, l])) for l in range(npl)]
            LP, P1, P2 = _esp_all(pun, _rjmul, add)[k]
        h = LP + LN - c * kap - np.log(c)
        return h, P1 + N1 - kap - 1.0 / c, (P2 - P1**2) + (N2 - N1**2) + 1.0 / c**2

    out = []
    for k, j0 in pieces:
        c = _log_newton(lambda cc, rows: derivs(cc, rows, k, j0)[1:], M)
        with np.errstate(all="ignore"):
            h, _, hpp = derivs(c, np.arange(M), k, j0)
            b = 1.0 / np.sqrt(hpp)
            est = h - 0.5 * np.log(2 * np.pi * hpp)
        out.append((c, np.where(np.isfinite(b) & (b > 0), b, c), est))
    return out


def _phi_jet(v, v1, v2):
    """Jet (ln Φ(v), X'/X, X''/X) along a line with v' = v1, v'' = v2 (arrays (M, nd))."""
    lP = log_ndtr(v)
    r = np.exp(-0.5 * v * v - _LOG_SQRT_2PI - lP)
    return lP, r * v1, -v * r * v1 * v1 + r * v2


def _phi_diff_jet(b, b1, b2, a, a1, a2):
    """Jet of Φ(b) − Φ(a), b > a (as :func:`_phi_jet`), in logs without cancellation
    (upper tails where a > 0)."""
    with np.errstate(all="ignore"):
        lo = np.where(a > 0, log_ndtr(-b), log_ndtr(a))
        hi = np.where(a > 0, log_ndtr(-a), log_ndtr(b))
        lX = hi + np.log(-np.expm1(lo - hi))
        pb = np.exp(-0.5 * b * b - _LOG_SQRT_2PI - lX)
        pa = np.exp(-0.5 * a * a - _LOG_SQRT_2PI - lX)
    return lX, pb * b1 - pa * a1, -b * pb * b1 * b1 + pb * b2 + a * pa * a1 * a1 - pa * a2


def _m_jet_dir(u, d):
    """Jet of m = Φ(−u) along u' = d (u (M, 1), d (M or 1, nd))."""
    lm = log_ndtr(-u)
    r0 = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - lm)
    return lm + 0 * d, -d * r0, d * d * u * r0


def _margin_closed(up, um, D, kap, kd):
    """Closed-form pieces of P(S_+ − S_- > κ') along the directions D (module docstring):
    one plus unit active, all minus off: π_- Σ_l Π_{l'≠l} m_{l'} Φ(u_l − max(κ', 0));
    κ' < 0 also all off (π_+π_-) and one minus unit active below |κ'|:
    π_+ Σ_l Π_{l'≠l} m_{l'} [Φ(|κ'| − u_l) − Φ(−u_l)]. Returns a list of jets (log (M,),
    D1 (M, nd), D2 (M, nd))."""
    M, npl = up.shape
    nmi = um.shape[1]
    k1, k2 = kd
    mp = [_m_jet_dir(up[:, l, None], D[:, l, :]) for l in range(npl)]
    mm = [_m_jet_dir(um[:, l, None], D[:, npl + l, :]) for l in range(nmi)]
    allm = functools.reduce(_rjmul, mm)
    out = []
    for l in range(npl):
        d = D[:, l, :]
        if kap > 0:
            t = _phi_jet(up[:, l, None] - kap + 0 * d, d - k1, -k2 + 0 * d)
        else:
            t = _phi_jet(up[:, l, None] + 0 * d, d, 0 * d)
        for j in range(npl):
            if j != l:
                t = _rjmul(t, mp[j])
        out.append(_rjmul(t, allm))
    if kap < 0:
        allp = functools.reduce(_rjmul, mp)
        out.append(_rjmul(allp, allm))
        for l in range(nmi):
            d = D[:, npl + l, :]
            u = um[:, l, None] + 0 * d
            t = _phi_diff_jet(-kap - u, -k1 - d, -k2 + 0 * d, -u, -d, 0 * d)
            for j in range(nmi):
                if j != l:
                    t = _rjmul(t, mm[j])
            out.append(_rjmul(t, allp))
    return [(t[0][:, 0], t[1], t[2]) for t in out]


def _unit_jets(u, d, th, sign):
    """Jets of the atom m = Φ(−u) and of g (sign +1) or h (sign −1) at the contour nodes
    th, along the direction d (the per-unit factor of :func:`_relu_direct_dirs`)."""
    zero = np.zeros_like(th)
    lm = log_ndtr(-u)
    r0 = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - lm)
    L = _log_scaled_ncdf(u + sign * th)
    r = np.exp(-_LOG_SQRT_2PI - L)
    mj = (lm + zero, -d * r0 + zero, d * d * u * r0 + zero)
    tj = (-0.5 * u * u + L, d * (r + sign * th), d * d * (th * (th + sign * r) - u * r))
    return mj, tj


def _relu_margin_direct(up, um, D, kap, kd, saddles=None, nodes=None):
    r"""ln P(S_+ − S_- > κ' | u), κ' ≠ 0, and its directional derivatives along D (as
    :func:`_relu_direct_dirs`; the threshold moves along each direction as κ1 t + κ2 t²/2,
    ``kd`` = (κ1, κ2) arrays of shape (nd,)): the contour pieces of
    :func:`_margin_pieces` on bent lines (module docstring) plus the closed forms of
    :func:`_margin_closed`. Returns (ln P, D1, D2) with D1, D2 the first and second
    directional derivatives of ln P."""
    M, npl = up.shape
    nmi = um.shape[1]
    D = _dirs3(D, M)
    nd = D.shape[2]
    k1, k2 = (np.asarray(x, float).reshape(nd) for x in kd)
    pieces = _margin_pieces(npl, nmi, kap)
    sad = _margin_saddles(up, um, kap, pieces) if saddles is None else saddles
    closed = _margin_closed(up, um, D if len(D) == M else np.broadcast_to(D, (M,) + D.shape[1:]), kap, (k1, k2))
    est = np.array([e for _, _, e in sad] + [L for L, _, _ in closed])
    top = np.nanmax(np.where(np.isfinite(est), est, -np.inf), axis=0)
    tn, wn = _contour_rule(nodes or C.RELU_CONTOUR_NODES)
    s = 1.0 if kap > 0 else -1.0
    tau = C.RELU_MARGIN_BEND
    res = list(closed)
    add = _jadd
    for (k, j0), (c, b, e) in zip(pieces, sad):
        L0, D1, D2 = np.full(M, -np.inf), np.zeros((M, nd)), np.zeros((M, nd))
        rows = np.nonzero((e > top - C.RELU_COMPONENT_SKIP) | ~np.isfinite(e))[0]
        if len(rows):
            bb = b[rows, None]
            y = bb * tn[None, :]
            B = C.RELU_MARGIN_BEND_START * bb
            root = np.sqrt(B * B + y * y)
            th = (c[rows, None] + s * tau * (root - B) + 1j * y)[:, :, None]       # (R, nodes, 1)
            dth = (1.0 - 1j * s * tau * y / root)[:, :, None]                      # θ'(y)/i
            Dr = D[rows] if len(D) == M else D
            with np.errstate(all="ignore"):
                mun = [_unit_jets(um[rows, l, None, None], Dr[:, None, npl + l, :], th, -1.0) for l in range(nmi)]
                f = _jsum(_esp_all(mun, _jmul, add)[j0:], add)
                if k == 0:
                    f = _jmul(f, functools.reduce(_jmul, [m for m, _ in
                              (_unit_jets(up[rows, l, None, None], Dr[:, None, l, :], th, 1.0) for l in range(npl))]))
                else:
                    pun = [_unit_jets(up[rows, l, None, None], Dr[:, None, l, :], th, 1.0) for l in range(npl)]
                    f = _jmul(f, _esp_all(pun, _jmul, add)[k])
                f = _jmul(f, (-th * kap, -th * k1, th * th * k1 * k1 - th * k2))
                Lf = (f[0] - np.log(th) + np.log(dth)
                      + np.log(bb[:, :, None] * wn[None, :, None] / math.pi))
                S = Lf.real.max(axis=1, keepdims=True)
                ex = np.exp(Lf - S)
                V0 = ex.real.sum(axis=1)
                L0[rows] = S[:, 0, 0] + np.log(V0[:, 0])
                D1[rows] = (ex * f[1]).real.sum(axis=1) / V0
                D2[rows] = (ex * f[2]).real.sum(axis=1) / V0
        res.append((L0, D1, D2))
    with np.errstate(all="ignore"):
        Ls = np.array([r[0] for r in res])
        lp = np.logaddexp.reduce(Ls, axis=0)
        w = np.exp(Ls - lp)[:, :, None]
        d1 = (w * np.array([r[1] for r in res])).sum(axis=0)
        d2 = (w * np.array([r[2] for r in res])).sum(axis=0) - d1 * d1
    return lp, d1, d2


def _route_estimate(sad, up, um, kap):
    """Saddle-point estimate of ln P(S_+ − S_- > κ') (the pieces and closed forms)."""
    zd = np.zeros((1, up.shape[1] + um.shape[1], 1))
    closed = _margin_closed(up, um, np.broadcast_to(zd, (len(up),) + zd.shape[1:]), kap,
                            (np.zeros(1), np.zeros(1)))
    with np.errstate(all="ignore"):
        return np.logaddexp.reduce(np.array([e for _, _, e in sad] + [L for L, _, _ in closed]), axis=0)


def _complement_jet(lX, X1, X2):
    r"""Jet of ln(1 − X) from the jet of X (ln X (M,), X'/X and X''/X (M, D)): the
    complement route P = 1 − X (module docstring: used only where P > 1/4, so no
    cancellation). Returns (ln(1 − X), ∂ ln(1 − X), ∂² ln(1 − X)) along the D directions."""
    with np.errstate(all="ignore"):
        l1mX = np.log(-np.expm1(lX))
        ratio = np.exp(lX - l1mX)[:, None]
    p1, p2 = -ratio * X1, -ratio * X2
    return l1mX, p1, p2 - p1 * p1


def _relu_group_margin_dirs(up, um, D, kap, kd, nodes=None):
    r"""ln P(S_+ − S_- > κ' | u) and its directional derivatives (κ' ≠ 0; κ' = 0 is
    :func:`_relu_group_dirs`): the direct pieces where the event is the less likely one
    (saddle-point estimates of the event and of its complement S_- − S_+ > −κ'), else
    1 − P(S_- − S_+ > −κ') (no atom at D = κ' ≠ 0, so no π0 term)."""
    npl = up.shape[1]
    M = len(up)
    D = _dirs3(D, M)
    nd = D.shape[2]
    k1, k2 = (np.asarray(x, float).reshape(nd) for x in kd)
    pd, ps = _margin_pieces(npl, um.shape[1], kap), _margin_pieces(um.shape[1], npl, -kap)
    sd, ss = _margin_saddles(up, um, kap, pd), _margin_saddles(um, up, -kap, ps)
    swap = _route_estimate(ss, um, up, -kap) < _route_estimate(sd, up, um, kap)
    lp, d1, d2 = np.empty(M), np.empty((M, nd)), np.empty((M, nd))
    sel = lambda S, i: [(c[i], b[i], e[i]) for c, b, e in S]  # noqa: E731
    i = np.nonzero(~swap)[0]
    if len(i):
        lp[i], d1[i], d2[i] = _relu_margin_direct(up[i], um[i], D[i] if len(D) == M else D, kap,
                                                  (k1, k2), sel(sd, i), nodes)
    i = np.nonzero(swap)[0]
    if len(i):
        Di = D[i] if len(D) == M else D
        Ds = np.concatenate([Di[:, npl:], Di[:, :npl]], axis=1)
        sp_, s1, s2 = _relu_margin_direct(um[i], up[i], Ds, -kap, (-k1, -k2), sel(ss, i), nodes)
        lp[i], d1[i], d2[i] = _complement_jet(sp_, s1, s2 + s1 * s1)
    return lp, d1, d2


def relu_margin_log_p(up, um, kap, nodes=None):
    """ln P(Σ_{plus} relu(u_l + x_l) − Σ_{minus} relu(u_l + x_l) > κ' | u), x iid N(0, 1),
    per row (``up`` (M, n+), ``um`` (M, n−); κ' scalar, 0 allowed): the per-point
    probability of the margin node in the rescaled variables (module docstring);
    ``nodes`` overrides RELU_CONTOUR_NODES (accuracy checks)."""
    up, um = np.atleast_2d(np.asarray(up, float)), np.atleast_2d(np.asarray(um, float))
    Z = np.zeros((1, up.shape[1] + um.shape[1], 1))
    if kap == 0:
        return _relu_group_dirs(up, um, Z)[0]
    return _relu_group_margin_dirs(up, um, Z, float(kap), (np.zeros(1), np.zeros(1)), nodes)[0]


# --------------------------------------------------------------------------- sign, replicon
# Channel factor γ_out of the de Almeida–Thouless replicon at finite K (derivation:
# replica.committee.SignCommitteeReplicon). Everything here is new; the QMC points, the
# last-unit rule and the per-q vectorisation are those of sign_logz above.

def _log_counts(lp, lq, m):
    """Truncated Poisson-binomial distribution in logs, over the last axis of ``lp``
    (ln p_l) and ``lq`` (ln(1 − p_l)): returns (L, T), L[j] = ln P(N = j) for j < m
    (list of arrays) and T = ln P(N ≥ m). Recursion P'(j) = P(j)(1 − p) + P(j−1) p,
    P'(≥ m) = P(≥ m) + P(m−1) p: positive terms only, no cancellation, no underflow."""
    shape = lp.shape[:-1]
    L = [np.zeros(shape)] + [np.full(shape, -np.inf) for _ in range(m - 1)]
    T = np.full(shape, -np.inf)
    for l in range(lp.shape[-1]):
        a, b = lp[..., l], lq[..., l]
        T = np.logaddexp(T, L[m - 1] + a)
        for j in range(m - 1, 0, -1):
            L[j] = np.logaddexp(L[j] + b, L[j - 1] + a)
        L[0] = L[0] + b
    return L, T


def _leave_one_out(lp, lq, m):
    """For every unit l of the last axis (n units), the distribution of the count of
    the *other* n − 1 units, from prefix and suffix distributions (no division, so
    no deconvolution instability): returns ln P(N_{−l} = m−2), ln P(N_{−l} = m−1),
    ln P(N_{−l} ≥ m), each of shape lp.shape."""
    n = lp.shape[-1]
    shape = lp.shape[:-1]
    pre, suf = [None] * (n + 1), [None] * (n + 1)
    empty = ([np.zeros(shape)] + [np.full(shape, -np.inf) for _ in range(m - 1)], np.full(shape, -np.inf))
    pre[0] = suf[n] = empty
    for l in range(n):
        pre[l + 1] = _extend(pre[l], lp[..., l], lq[..., l], m)
    for l in range(n - 1, -1, -1):
        suf[l] = _extend(suf[l + 1], lp[..., l], lq[..., l], m)
    e2, e1, t0 = (np.empty(lp.shape) for _ in range(3))
    for l in range(n):
        (PL, PT), (SL, ST) = pre[l], suf[l + 1]
        # suffix tails ln P(S ≥ k), k = m, m−1, ..., 1
        stail = {m: ST}
        for k in range(m - 1, 0, -1):
            stail[k] = np.logaddexp(stail[k + 1], SL[k])
        e1[..., l] = np.logaddexp.reduce([PL[i] + SL[m - 1 - i] for i in range(m)], axis=0)
        # m = 1 (output margin below −1/√3 at K = 3): P(N = m − 2 = −1) = 0
        e2[..., l] = (np.logaddexp.reduce([PL[i] + SL[m - 2 - i] for i in range(m - 1)], axis=0)
                      if m >= 2 else -np.inf)
        t0[..., l] = np.logaddexp.reduce([PT] + [PL[i] + stail[m - i] for i in range(m)], axis=0)
    return e2, e1, t0


def _extend(dist, a, b, m):
    """One more unit (ln p = a, ln(1 − p) = b) in a truncated distribution (L, T)."""
    L, T = dist
    T = np.logaddexp(T, L[m - 1] + a)
    L = [L[0] + b] + [np.logaddexp(L[j] + b, L[j - 1] + a) for j in range(1, m)]
    return L, T


def _ridge(a, z, m):
    r"""Rank-exchange ridge of the last unit, per row of the other fields z: given
    n₊ positive fields among them, the last unit competes for the d = m − n₊-th flip,
    so for z_K < 0 the min-cost C has a kink at :math:`z_K = r = -(\text{d-th smallest
    } |z_l^-|)`, where ln 𝒵 switches between two log-probabilities over
    :math:`\Delta z \simeq 1/(a^2|r|)` and the squared Hessian is a spike of that width
    (replica.committee.SignCommitteeReplicon, q → 1). Returns (r, width, sharp): width
    = SHARP_TRANSITION/(a² max(|r|, 1/a)), sharp = a ridge exists and width <
    SHARP_WIDTH (the criterion of the margin kinks' grading)."""
    M, K1 = z.shape
    if K1 == 0 or m > K1:
        return np.zeros(M), np.ones(M), np.zeros(M, bool)
    d = m - (z > 0).sum(axis=1)
    negs = np.sort(np.where(z < 0, -z, np.inf), axis=1)
    r = -negs[np.arange(M), np.clip(d - 1, 0, K1 - 1)]
    sharp = (d >= 1) & np.isfinite(r)
    r = np.where(sharp, r, 0.0)
    width = C.SHARP_TRANSITION / (a * a * np.maximum(np.abs(r), 1.0 / a))
    return r, width, sharp & (width < C.SHARP_WIDTH)


def _ridge_rule(a, r, width):
    r"""Per-row last-unit rule: :func:`_one_d_rule`'s breakpoints plus r and
    r ± width·GRADING^k (below SHARP_WIDTH) for each row's ridge (:func:`_ridge`);
    rows with fewer levels are padded with zero-length pieces. Returns (x, w), (M, n)."""
    M = len(r)
    base = _one_d_breaks(a)
    L = C.QUAD_CUTOFF
    nlev = max(1, int(math.ceil(math.log(C.SHARP_WIDTH / width.min()) / math.log(C.GRADING))))
    steps = width[:, None] * C.GRADING ** np.arange(nlev)[None, :]
    steps = np.where(steps < C.SHARP_WIDTH, steps, np.nan)
    extra = np.concatenate([r[:, None], r[:, None] - steps, r[:, None] + steps], axis=1)
    extra = np.where(np.isfinite(extra), np.clip(extra, -L, L), L)
    br = np.sort(np.concatenate([np.broadcast_to(base, (M, len(base))), extra], axis=1), axis=1)
    t, wt = np.polynomial.legendre.leggauss(C.COMMITTEE_LAST_UNIT_NODES)
    lo, hi = br[:, :-1, None], br[:, 1:, None]
    x = (lo + 0.5 * (hi - lo) * (t + 1)).reshape(M, -1)
    wts = (0.5 * (hi - lo) * wt).reshape(M, -1) * np.exp(-0.5 * x * x - _LOG_SQRT_2PI)
    return x, wts


def _replicon_per_point(a, sig, z, m=None):
    r"""Per QMC point (rows of z, the first K − 1 fields): the last unit's
    :math:`\mathbb{E}_{z_K}(\partial^2_K\ln\mathcal Z)^2` and, for every other unit l,
    :math:`\mathbb{E}_{z_K}(\partial_l\partial_K\ln\mathcal Z)^2` (1-D rule in z_K:
    :func:`_one_d_rule`, refined around the row's rank-exchange ridge where it is sharp,
    :func:`_ridge`); m the count threshold (default the majority). Returns (A_K, B_lK)
    with shapes (M,), (M, K−1)."""
    M, K1 = z.shape
    m = (K1 + 2) // 2 if m is None else int(m)
    r, width, sharp = _ridge(a, z, m)
    AK, BlK = np.empty(M), np.empty((M, K1))
    i = np.nonzero(~sharp)[0]
    if len(i):
        AK[i], BlK[i] = _replicon_rows(a, sig, z[i], *_one_d_rule(a), m=m)
    i = np.nonzero(sharp)[0]
    if len(i):
        AK[i], BlK[i] = _replicon_rows(a, sig, z[i], *_ridge_rule(a, r[i], width[i]), m=m)
    return AK, BlK


def _replicon_rows(a, sig, z, x, w, m=None, route="auto"):
    """:func:`_replicon_per_point` on the rows z with the last-unit rule (x, w), shaped
    (nodes,) (shared) or (rows, nodes): in linear scale (:func:`_replicon_rows_linear`)
    on the rows where P(# ≥ m) cannot underflow (:func:`_linear_rows`), in logarithms
    (:func:`_replicon_rows_log`) on the others; ``route`` "log"/"linear" forces one."""
    M, K1 = z.shape
    K = K1 + 1
    m = (K + 1) // 2 if m is None else int(m)
    x, w = np.atleast_2d(x), np.atleast_2d(w)
    if route == "log" or m >= K:
        return _replicon_rows_log(a, sig, z, x, w, m)
    p, q = _unit_probs(a, z)[:2]
    lin = np.ones(M, bool) if route == "linear" else _linear_rows(p.T, m)
    if lin.all():
        return _replicon_rows_linear(a, sig, z, p, q, x, w, m)
    AK, BlK = np.empty(M), np.empty((M, K1))
    for rows, f in ((np.nonzero(lin)[0], "lin"), (np.nonzero(~lin)[0], "log")):
        if not len(rows):
            continue
        xr, wr = (x, w) if len(x) == 1 else (x[rows], w[rows])
        if f == "lin":
            AK[rows], BlK[rows] = _replicon_rows_linear(a, sig, z[rows], p[rows], q[rows], xr, wr, m)
        else:
            AK[rows], BlK[rows] = _replicon_rows_log(a, sig, z[rows], xr, wr, m)
    return AK, BlK


def _leave_one_out_linear(p, q, m):
    """:func:`_leave_one_out` in linear scale (rows where the tail cannot underflow):
    prefix and suffix count distributions (P_0..P_{m−1}, P(≥ m)) of the units of the
    last axis by the convex recursion, combined per unit l into P(N_{−l} = m−2),
    P(N_{−l} = m−1), P(N_{−l} ≥ m) (positive sums). Shapes (rows, n) in and out."""
    M, n = p.shape
    pt, qt = p.T, q.T
    pre, suf = np.zeros((n + 1, m + 1, M)), np.zeros((n + 1, m + 1, M))
    pre[0, 0] = suf[n, 0] = 1.0

    def extend(d, pl, ql, out):
        out[m] = d[m] + d[m - 1] * pl
        out[1:m] = d[1:m] * ql + d[:m - 1] * pl
        out[0] = d[0] * ql

    for l in range(n):
        extend(pre[l], pt[l], qt[l], pre[l + 1])
    for l in range(n - 1, -1, -1):
        extend(suf[l + 1], pt[l], qt[l], suf[l])
    PL, PT = pre[:n, :m], pre[:n, m]              # counts of units < l
    SL, ST = suf[1:, :m], suf[1:, m]              # counts of units > l
    e1 = (PL * SL[:, ::-1]).sum(axis=1)           # Σ_i P(pre = i) P(suf = m−1−i)
    e2 = (PL[:, :m - 1] * SL[:, m - 2::-1]).sum(axis=1) if m >= 2 else np.zeros((n, M))
    # suffix tails P(S ≥ k) for k = m, m−1, ..., 1 against prefix counts i = 0..m−1
    stail = ST[:, None] + np.cumsum(np.concatenate([np.zeros((n, 1, M)), SL[:, :0:-1]], axis=1), axis=1)
    t0 = PT + (PL * stail).sum(axis=1)
    return e2.T, e1.T, t0.T


def _replicon_rows_linear(a, sig, z, p, q, x, w, m):
    """:func:`_replicon_rows_log` in linear scale (same formulas, probabilities instead of
    their logarithms; rows chosen by :func:`_linear_rows`); p, q = Φ(±a z)."""
    M, K1 = z.shape
    u = a * z
    phi = np.exp(-0.5 * u * u - _LOG_SQRT_2PI) / sig              # φ(u_l)/σ
    uK = a * x
    pK, qK = _unit_probs(a, x)[:2]
    phiK = np.exp(-0.5 * uK * uK - _LOG_SQRT_2PI) / sig
    d = np.zeros((m + 1, M))                  # count of all K − 1 units: P_0..P_{m−1}, P(≥ m)
    d[0] = 1.0
    for l in range(K1):
        pl, ql = p[:, l], q[:, l]
        d[m] += d[m - 1] * pl
        d[1:m] = d[1:m] * ql + d[:m - 1] * pl
        d[0] *= ql
    T, E = d[m][:, None], d[m - 1][:, None]
    rK = phiK * E / (T + pK * E)                                    # ∂_K ln Z
    dKK = -(uK / sig) * rK - rK * rK
    AK = (dKK * dKK * w).sum(axis=-1)
    e2, e1, t0 = (v[:, :, None] for v in _leave_one_out_linear(p, q, m))
    pl, ql, phl = p[:, :, None], q[:, :, None], phi[:, :, None]
    pk, qk, phk = pK[:, None, :], qK[:, None, :], phiK[:, None, :]
    iZ = 1.0 / (t0 + e1 * (pl + ql * pk) + e2 * (pl * pk))
    rl = phl * (e1 * qk + e2 * pk) * iZ
    rk = phk * (e1 * ql + e2 * pl) * iZ
    dlk = (phl * phk) * (e2 - e1) * iZ - rl * rk
    return AK, (dlk * dlk * w[:, None, :]).sum(axis=-1)


def _replicon_rows_log(a, sig, z, x, w, m):
    """:func:`_replicon_rows` in logarithms (rows where P(# ≥ m) may underflow, m = K)."""
    M, K1 = z.shape
    u = a * z
    lp, lq = log_ndtr(u), log_ndtr(-u)
    lphi = -0.5 * u * u - _LOG_SQRT_2PI - math.log(sig)     # ln(φ(u_l)/σ)
    x, w = np.atleast_2d(x), np.atleast_2d(w)                # (1 or M, nodes)
    uK = a * x
    lpK, lqK = log_ndtr(uK), log_ndtr(-uK)
    lphiK = -0.5 * uK * uK - _LOG_SQRT_2PI - math.log(sig)
    # unit K against the count of all others: Z = T + p_K E, E = P(N_{-K} = m−1)
    L, T = _log_counts(lp, lq, m)
    E = L[m - 1][:, None]
    lZ = np.logaddexp(T[:, None], lpK + E)
    rK = np.exp(lphiK + E - lZ)                              # ∂_K ln Z
    dKK = -(uK / sig) * rK - rK * rK                         # ∂²_K ln Z
    AK = (dKK * dKK * w).sum(axis=-1)
    # units l < K with unit K: the count N'' of the other K − 2 units
    le2, le1, lt0 = (v[:, :, None] for v in _leave_one_out(lp, lq, m))
    lpl, lql, lphil = lp[:, :, None], lq[:, :, None], lphi[:, :, None]
    lpk, lqk, lphik = lpK[:, None, :], lqK[:, None, :], lphiK[:, None, :]
    # Z = T0 + e1 (1 − q_l q_K) + e2 p_l p_K, with 1 − q_l q_K = p_l + q_l p_K
    lZ = np.logaddexp.reduce(np.broadcast_arrays(
        lt0, le1 + np.logaddexp(lpl, lql + lpk), le2 + lpl + lpk), axis=0)
    # ∂Z/∂p_l = e1 q_K + e2 p_K, ∂Z/∂p_K = e1 q_l + e2 p_l, ∂²Z/∂p_l∂p_K = e2 − e1
    rl = np.exp(lphil + np.logaddexp(le1 + lqk, le2 + lpk) - lZ)
    rk = np.exp(lphik + np.logaddexp(le1 + lql, le2 + lpl) - lZ)
    dlk = np.exp(lphil + lphik + le2 - lZ) - np.exp(lphil + lphik + le1 - lZ) - rl * rk
    return AK, (dlk * dlk * w[:, None, :]).sum(axis=-1)


_REPLICON_CACHE = {}


def _replicon_evaluate(q, K, m=None):
    """(γ_out, A, B, stderr of γ_out) of the sign committee at scalar q, cached; m the
    count threshold (default the majority)."""
    n = _n_points(K)
    m = (int(K) + 1) // 2 if m is None else int(m)
    key = (float(q), int(K), n, m)
    hit = _cache_get(_REPLICON_CACHE, key)
    if hit is not None:
        return hit
    if not 0.0 < q < 1.0:
        out = (np.nan, np.nan, np.nan, np.nan)
    elif K == 1:
        # the perceptron at κ = 0 (a check of the route: no QMC, the 1-D rule only)
        A = float(_replicon_per_point(math.sqrt(q / (1.0 - q)), math.sqrt(1.0 - q), np.zeros((1, 0)))[0][0])
        out = (A, A, 0.0, 0.0)
    else:
        z = qmc_points(int(K) - 1, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
        R = z.shape[0]
        a, sig = math.sqrt(q / (1.0 - q)), math.sqrt(1.0 - q)
        zf = z.reshape(-1, K - 1)
        step = max(1, C.COMMITTEE_REPLICON_CHUNK // K)
        A_pt, B_pt = np.empty(len(zf)), np.empty(len(zf))
        for s0 in range(0, len(zf), step):
            AK, Bl = _replicon_per_point(a, sig, zf[s0:s0 + step], m)
            # unit symmetry: A from the last unit (exact in its own field: the QMC
            # units' (∂²_l ln Z)² are sharp in z_l and 40x noisier at K = 3, q = 0.5),
            # B as the mean over the K − 1 pairs (l, K)
            A_pt[s0:s0 + step] = AK
            B_pt[s0:s0 + step] = Bl.mean(axis=1)
        g_pt = K * A_pt + K * (K - 1) * B_pt
        means = g_pt.reshape(R, -1).mean(axis=1)
        err = float(means.std(ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
        out = (float(g_pt.mean()), float(A_pt.mean()), float(B_pt.mean()), err)
    return _cache_put(_REPLICON_CACHE, key, out)


def sign_replicon(q, K, kappa=None):
    r"""Channel factor :math:`\gamma_{out} = K\,[A + (K-1)B]` of the AT replicon of the
    sign tree committee (:class:`replica.committee.SignCommitteeReplicon`), vectorised
    over ``q`` (and ``kappa``, the output margin: count threshold
    :func:`margin_threshold`; None = majority); :func:`sign_replicon_parts` gives A, B
    and the standard error."""
    if kappa is None:
        return _per_q(_replicon_evaluate, q, int(K), 0)
    return _per_q_kappa(_replicon_evaluate, q, int(K), 0, kappa)


def sign_replicon_parts(q, K, kappa=None):
    """(γ_out, A, B, stderr of γ_out) at scalar q: :math:`A = \\mathbb{E}(\\partial^2_{\\omega_1}
    \\ln\\mathcal Z_K)^2`, :math:`B = \\mathbb{E}(\\partial_{\\omega_1}\\partial_{\\omega_2}
    \\ln\\mathcal Z_K)^2`, stderr from the spread of the scramblings."""
    return _replicon_evaluate(float(q), int(K), None if kappa is None else margin_threshold(K, kappa))


# --------------------------------------------------------------------------- ReLU, replicon
# Channel factor γ_out of the AT replicon of the finite-K ReLU committee (derivation:
# replica.committee.ReluCommitteeReplicon). New here; the contours, components, the
# complement and the QMC points are those of relu_logz above. The Hessian of ln P in the
# rescaled means u = ω/√(1−q) comes by polarisation: jets (ln X, X'/X, X''/X) along the
# directions e_l and e_l + e_m, all carried at once on a trailing axis (ln X does not
# depend on the direction, so the logs and erfcx are computed once per node).

def _relu_hess_directions(K):
    """(K, K(K+1)/2) direction matrix: e_l (l < K), then e_l + e_m (l < m)."""
    pairs = [(l, m) for l in range(K) for m in range(l + 1, K)]
    D = np.zeros((K, K + len(pairs)))
    D[np.arange(K), np.arange(K)] = 1.0
    for j, (l, m) in enumerate(pairs):
        D[[l, m], K + j] = 1.0
    return D, pairs


def _dirs3(D, M):
    """Direction array as (M or 1, units, nd): a (units, nd) matrix is the same for every
    row; a (M, units, nd) array has its own directions per row."""
    D = np.asarray(D, float)
    return D[None] if D.ndim == 2 else D


def _relu_direct_dirs(up, um, D):
    r"""ln P(Σ_+ relu > Σ_- relu | u) along the directions D in u-space (units: the plus
    units, then the minus units; columns: directions d; a (units, nd) matrix for all rows
    or (M, units, nd) per row): returns ln P (M,) and the first and second directional
    derivatives of ln P, d·∇ln P and dᵀ∇²ln P d, shapes (M, nd). A sum over the number k
    of active plus units of contour integrals, each on its own line Re θ = c_k
    (y = b_k tan φ, Gauss–Legendre); components estimated below
    e^{-RELU_COMPONENT_SKIP} of the largest are skipped (module docstring)."""
    M, npl = up.shape
    D = _dirs3(D, M)
    nd = D.shape[2]
    tn, wn = _contour_rule(C.RELU_CONTOUR_NODES)
    comps = [_relu_components(up, um, k) for k in range(1, npl + 1)]
    est = np.array([e for _, _, e in comps])
    keep = est > np.nanmax(np.where(np.isfinite(est), est, -np.inf), axis=0) - C.RELU_COMPONENT_SKIP
    keep |= ~np.isfinite(est)
    out = [np.full((npl, M), -np.inf), np.zeros((npl, M, nd)), np.zeros((npl, M, nd))]
    for k, (c, b, _) in enumerate(comps, start=1):
        rows = np.nonzero(keep[k - 1])[0]
        if len(rows) == 0:
            continue
        th = (c[rows, None] + 1j * b[rows, None] * tn[None, :])[:, :, None]   # (R, nodes, 1)
        Dr = D[rows] if len(D) == M else D                                    # (R or 1, units, nd)
        with np.errstate(all="ignore"):
            zero = np.zeros_like(th)

            def unit(u, d, sign):
                # jets of the atom m = Φ(−u) and of g (sign +1) or h (sign −1) along d
                lm = log_ndtr(-u)
                r0 = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - lm)
                L = _log_scaled_ncdf(u + sign * th)
                r = np.exp(-_LOG_SQRT_2PI - L)
                mj = (lm + zero, -d * r0 + zero, d * d * u * r0 + zero)
                tj = (-0.5 * u * u + L, d * (r + sign * th),
                      d * d * (th * (th + sign * r) - u * r))
                return mj, tj

            Mm = (zero, zero, zero)
            for l in range(um.shape[1]):
                mj, hj = unit(um[rows, l, None, None], Dr[:, None, npl + l, :], -1.0)
                Mm = _jmul(Mm, _jadd(mj, hj))
            units = [unit(up[rows, l, None, None], Dr[:, None, l, :], 1.0) for l in range(npl)]
            f = _jmul(Mm, _esp(units, k, _jmul, _jadd))
            Lf = f[0] - np.log(th) + np.log(b[rows, None, None] * wn[None, :, None] / math.pi)
            S = Lf.real.max(axis=1, keepdims=True)
            e = np.exp(Lf - S)
            V0 = e.real.sum(axis=1)                                  # (R, 1)
            out[0][k - 1, rows] = S[:, 0, 0] + np.log(V0[:, 0])
            out[1][k - 1, rows] = (e * f[1]).real.sum(axis=1) / V0
            out[2][k - 1, rows] = (e * f[2]).real.sum(axis=1) / V0
    with np.errstate(all="ignore"):
        lp = np.logaddexp.reduce(out[0], axis=0)
        w = np.exp(out[0] - lp)[:, :, None]
        d1 = (w * out[1]).sum(axis=0)
        d2 = (w * out[2]).sum(axis=0) - d1 * d1
    return lp, d1, d2


def _relu_group_dirs(up, um, D):
    """ln P(Σ_{plus} relu > Σ_{minus} relu | u) along the directions D (as in
    :func:`_relu_direct_dirs`): (ln P, directional first and second derivatives of ln P).
    Direct contour integral, or, where the event is the typical one (the swapped event's
    saddle point lies further out, c_swap > c, and the all-off atom π0 < 1/2), the
    complement 1 − P(Σ_- > Σ_+) − π0 (module docstring)."""
    npl = up.shape[1]
    D = _dirs3(D, len(up))
    c = _relu_contour(up, um)
    cs = _relu_contour(um, up)
    uu = np.concatenate([up, um], axis=1)
    lm = log_ndtr(-uu)
    swap = (cs > c) & (lm.sum(axis=1) < -math.log(2.0))
    M, nd = len(up), D.shape[2]
    lp, d1, d2 = np.empty(M), np.empty((M, nd)), np.empty((M, nd))
    i = np.nonzero(~swap)[0]
    if len(i):
        lp[i], d1[i], d2[i] = _relu_direct_dirs(up[i], um[i], D[i] if len(D) == M else D)
    i = np.nonzero(swap)[0]
    if len(i):
        Di = D[i] if len(D) == M else D
        Ds = np.concatenate([Di[:, npl:], Di[:, :npl]], axis=1)
        sp_, s1, s2 = _relu_direct_dirs(um[i], up[i], Ds)
        u = uu[i]
        r0 = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - lm[i])            # φ(u)/Φ(−u)
        m1 = -r0[:, :, None] * Di                                     # per unit, per direction
        m2 = (u * r0)[:, :, None] * Di**2
        S1 = m1.sum(axis=1)
        p0 = (lm[i].sum(axis=1)[:, None], S1, m2.sum(axis=1) + S1**2 - (m1**2).sum(axis=1))
        X = _jadd((sp_[:, None] + 0j, s1 + 0j, s2 + s1 * s1 + 0j), (p0[0] + 0j, p0[1] + 0j, p0[2] + 0j))
        lp[i], d1[i], d2[i] = _complement_jet(X[0].real[:, 0], X[1].real, X[2].real)
    return lp, d1, d2


def relu_hessian_u(up, um, kap=0.0):
    r"""Hessian of ln P(Σ_{plus} relu(u_l + x_l) − Σ_{minus} relu(u_l + x_l) > κ') in the
    means u (x iid N(0, 1)), per row: ``up`` (M, n+), ``um`` (M, n−), ``kap`` the
    rescaled threshold κ' (0: no margin); returns (ln P (M,), Hessian (M, K, K), plus
    units first). Polarisation of the directional jets (:func:`_relu_group_dirs`,
    :func:`_relu_group_margin_dirs` at fixed κ'): H_ll along e_l,
    H_lm = (∂²_{e_l+e_m} − H_ll − H_mm)/2."""
    up, um = np.atleast_2d(np.asarray(up, float)), np.atleast_2d(np.asarray(um, float))
    K = up.shape[1] + um.shape[1]
    D, pairs = _relu_hess_directions(K)
    if kap == 0:
        lp, _, d2 = _relu_group_dirs(up, um, D)
    else:
        z = np.zeros(D.shape[1])
        lp, _, d2 = _relu_group_margin_dirs(up, um, D, float(kap), (z, z))
    H = np.empty((len(up), K, K))
    H[:, np.arange(K), np.arange(K)] = d2[:, :K]
    for j, (l, m) in enumerate(pairs):
        H[:, l, m] = H[:, m, l] = 0.5 * (d2[:, K + j] - d2[:, l] - d2[:, m])
    return lp, H


def relu_replicon_matrix(blocks, K):
    r"""γ_out = K μ_max(M) from the block means of :math:`M_{lm} = \mathbb{E}(\partial_{\omega_l}
    \partial_{\omega_m}\ln\mathcal Z)^2` (:class:`replica.committee.ReluCommitteeReplicon`):
    ``blocks`` = (a_P, b_P, a_N, b_N, c) (diagonal and within-group off-diagonal of the
    groups read +1 (⌈K/2⌉ units) and −1 (⌊K/2⌋), and across); the largest eigenvalue of
    the 2 × 2 matrix of the group-uniform modes (Perron: M ≥ 0 entrywise)."""
    aP, bP, aN, bN, c = blocks
    p, n = (K + 1) // 2, K // 2
    t11, t22, t12 = aP + (p - 1) * bP, aN + (n - 1) * bN, math.sqrt(p * n) * c
    return K * (0.5 * (t11 + t22) + math.sqrt(0.25 * (t11 - t22)**2 + t12 * t12))


def _relu_block_means(H2, ncol_p):
    """Per-row block means (a_P, b_P, a_N, b_N, c) of the squared Hessian H2 (M, K, K)
    whose first ``ncol_p`` columns are the +1 group (the rest −1)."""
    K = H2.shape[1]
    P, N = np.arange(ncol_p), np.arange(ncol_p, K)
    diag = np.diagonal(H2, axis1=1, axis2=2)

    def within(idx):
        if len(idx) < 2:
            return np.zeros(len(H2))
        S = H2[:, idx][:, :, idx]
        return (S.sum(axis=(1, 2)) - np.diagonal(S, axis1=1, axis2=2).sum(axis=1)) / (len(idx) * (len(idx) - 1))

    return np.stack([diag[:, P].mean(axis=1), within(P), diag[:, N].mean(axis=1), within(N),
                     H2[:, P][:, :, N].mean(axis=(1, 2))], axis=1)


_RELU_REPLICON_CACHE = {}


def _relu_replicon_evaluate(q, K, kappa=0.0):
    """(γ_out, block means (a_P, b_P, a_N, b_N, c) of E(∂_l∂_m ln Z)² in ω, stderr of
    γ_out, E‖∇²_ω ln Z‖²_F) of the ReLU committee at scalar q, cached; ``kappa`` the
    output margin (the Hessian in ω at the fixed threshold κσ_K)."""
    n = _n_points(K, relu=True)
    t = _margin_t(K, kappa)
    key = (float(q), int(K), n) if t == 0.0 else (float(q), int(K), n, float(kappa))
    hit = _cache_get(_RELU_REPLICON_CACHE, key)
    if hit is not None:
        return hit
    nan5 = (np.nan,) * 5
    if not 0.0 < q < 1.0:
        out = (np.nan, nan5, np.nan, np.nan)
    else:
        z = qmc_points(K, n, C.COMMITTEE_QMC_RANDOMIZATIONS)
        R = z.shape[0]
        zf = z.reshape(-1, K)
        a = math.sqrt(q / (1.0 - q))
        kap = 0.0 if t == 0.0 else _kappa_scaled(q, K, kappa)[0]
        p = (K + 1) // 2
        blk_pt = np.zeros((len(zf), 5))
        frob = np.zeros(len(zf))
        # label +1: the winning (first) columns are the +1 group; label −1 (odd K): the
        # winning ⌊K/2⌋ columns are the −1 group. Even K: one label computed, the other
        # is the same Hessian with the groups' roles swapped (label average, exact)
        # plan: (winning columns, [is the +1 group first?] per label they stand for)
        if K % 2 == 0:
            plan = [(K // 2, (True, False))]
        else:
            plan = [(p, (True,)), (K // 2, (False,))]
        nlab = 2
        step = max(1, C.RELU_CHUNK // 4)
        for npl, pcols in plan:
            for s0 in range(0, len(zf), step):
                u = a * zf[s0:s0 + step]
                _, H = relu_hessian_u(u[:, :npl], u[:, npl:], kap)
                H2 = H * H
                for p_first in pcols:
                    if p_first:          # +1 group in the first npl columns
                        blk_pt[s0:s0 + step] += _relu_block_means(H2, npl) / nlab
                    else:                # +1 group in the last K − npl columns: reorder
                        order = np.r_[npl:K, 0:npl]
                        blk_pt[s0:s0 + step] += _relu_block_means(H2[:, order][:, :, order], K - npl) / nlab
                frob[s0:s0 + step] += H2.sum(axis=(1, 2)) * len(pcols) / nlab
        scale = 1.0 / (1.0 - q) ** 2           # ∂_ω = ∂_u/√(1−q)
        if not np.all(np.isfinite(blk_pt)):
            out = (np.nan, nan5, np.nan, np.nan)
        else:
            blocks = blk_pt.mean(axis=0) * scale
            per_r = blk_pt.reshape(R, -1, 5).mean(axis=1) * scale
            g_r = np.array([relu_replicon_matrix(b, K) for b in per_r])
            err = float(g_r.std(ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
            out = (relu_replicon_matrix(blocks, K), tuple(float(x) for x in blocks), err,
                   float(frob.mean() * scale))
    return _cache_put(_RELU_REPLICON_CACHE, key, out)


def relu_replicon(q, K, kappa=None):
    r"""Channel factor :math:`\gamma_{out} = K\mu_{max}(M)` of the AT replicon of the
    finite-K ReLU committee (:class:`replica.committee.ReluCommitteeReplicon`),
    vectorised over ``q`` (and ``kappa``, the output margin, broadcast with ``q``);
    :func:`relu_replicon_parts` gives the blocks and the error."""
    K = int(K)
    if K < 2:
        from .errors import ParameterError
        raise ParameterError("K", f"the ReLU committee needs K >= 2, got {K}")
    if kappa is None:
        return _per_q(_relu_replicon_evaluate, q, K, 0)
    return _per_q_kappa(_relu_replicon_evaluate, q, K, 0, kappa, _relu_margin_arg)


def relu_replicon_parts(q, K, kappa=0.0):
    """(γ_out, (a_P, b_P, a_N, b_N, c), stderr of γ_out, E‖∇²_ω ln 𝒵‖²_F) at scalar q:
    block means of E(∂_{ω_l}∂_{ω_m} ln 𝒵)² (label-averaged; P the ⌈K/2⌉ units read +1,
    N the others), stderr from the spread of the scramblings."""
    return _relu_replicon_evaluate(float(q), int(K), float(kappa))
