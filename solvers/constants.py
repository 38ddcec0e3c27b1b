"""Numerical constants of the toolkit, in one place, each with the reason for its value.

Physics parameters never have defaults; these are numerical-method settings only.
"""

#: Gauss–Hermite nodes for a smooth full-line average E_z f(z). With 96 nodes the
#: rule integrates polynomials of degree 191 exactly; on the integrands of the RS
#: perceptrons (ln 2cosh, tanh², ln H away from q → 1) the error measured against
#: mpmath at 30 digits is below 1e-12 (tests/test_compile.py checks 1e-10).
HERMITE_NODES = 96

#: Gauss–Legendre nodes per piece when an average is split at kinks (zeros of the
#: linear arguments of ln H, G/H, ln 2cosh, tanh, |.|, θ) or truncated. With the
#: graded pieces below, 40 per piece gives < 5e-13 (relative) on values, gradients and
#: Hessians of the RS perceptrons at 400 random points (q up to 0.995, q̂ up to 200,
#: κ in [-1.5, 3]) against 256 nodes; 32 would give 1e-9.
LEGENDRE_NODES = 40

#: Gaussian averages are cut to [-QUAD_CUTOFF, QUAD_CUTOFF]: the Gaussian mass beyond
#: 11 is H(11) = 1.9e-28, far below the 1e-10 target even for integrands growing
#: like z^4 (the ln H terms grow like z^2).
QUAD_CUTOFF = 11.0

#: Default convergence tolerance on the max-norm of the gradient of the free entropy.
SOLVER_TOL = 1e-10

#: Default iteration caps.
NEWTON_MAXITER = 100
FIXED_POINT_MAXITER = 5000

#: Default damping of the fixed-point iteration x <- (1-η) x + η T(x).
FIXED_POINT_DAMPING = 0.5

#: In method 'auto' the fixed point hands over to Newton once the residual is below
#: this value (Newton's basin is reached well before the fixed point's slow tail).
AUTO_HANDOVER_RESIDUAL = 1e-4

#: A Newton step never moves a variable more than this fraction of the way to the
#: boundary of its domain (fraction-to-boundary rule, as in interior-point methods).
FRACTION_TO_BOUNDARY = 0.9

#: Precision (decimal digits) of the mpmath back end used for checks.
MPMATH_DPS = 30

#: The quadrature error estimate (difference with doubled nodes) above which a result
#: is flagged ``quadrature_inaccurate`` instead of ``converged``.
QUADRATURE_ALARM = 1e-7

#: A kink whose argument has slope s (transition width 1/s in the variable) is
#: "sharp" when SHARP_TRANSITION/s < SHARP_WIDTH (4: without grading, Hessians at
#: q = 0.976 or q̂ = 45 were off by 1e-8 with 64 nodes). The mesh is then graded around it:
#: breakpoints at r ± (SHARP_TRANSITION/s)·GRADING^k up to SHARP_WIDTH. Beyond 10
#: units of the argument ln H, G/H, tanh and ln 2cosh are smooth asymptotes plus
#: 1/u corrections, whose pole at the kink is what the grading resolves. Needed as
#: q → 1 (slope √q/√(1-q)); tests check 1e-10 (relative) against mpmath at 1-q = 1e-4
#: and 1e-9 at 1-q = 1e-6 (where double-precision summation of ~1e12 terms limits).
SHARP_TRANSITION = 10.0
SHARP_WIDTH = 4.0
GRADING = 4.0
GRADING_MAX_LEVELS = 12

#: Grading levels around a *smoothed* kink (a kink function under an inner Gaussian
#: average, e.g. the Franz–Parisi energetic term at small distance, where the inner
#: variance 1 - q1 is small): the step is analytic with width ~ 1/slope, so one level
#: (pieces r ± w, r ± 4w) suffices. Measured on the binary FP value at α = 0.4, d = 0.001:
#: error 1.2e-7 without the split, < 1e-12 with it (against 80 nodes per piece).
GRADING_MAX_LEVELS_SMOOTHED = 1

#: Tilted averages <g>_f = E[g e^f]/E[e^f] and ln E e^f (replica.averages.LogMeanExp):
#: the mass of e^{f(z) - z²/2} may sit far from z = 0 (the replicated local entropy at
#: y = 40 puts it near z ≈ 15 for |z0| ≈ 4, growing like √y) and may be bimodal. A
#: coarse scan of f on TILT_COARSE points of [-TILT_RANGE, TILT_RANGE] (spacing 0.2)
#: finds where the log-density is within TILT_TAIL of its maximum (e^-60: relative
#: mass 1e-26 left out); that interval gets TILT_PIECES equal pieces of LEGENDRE_NODES
#: Gauss–Legendre nodes, and the sums are taken in log space (log-sum-exp).
TILT_RANGE = 60.0
TILT_COARSE = 601
TILT_TAIL = 60.0
TILT_PIECES = 12

#: Entropy-zero capacity search: first load, relative step, and the largest load
#: tried. Binary perceptrons with κ ≤ 3 have α_c > 0.005 (RS entropy zero), so 1e-3
#: starts below every capacity of interest; a larger α_c than 50 means κ ≪ -3.
CAPACITY_ALPHA_START = 1e-3
CAPACITY_ALPHA_STEP = 0.25
CAPACITY_ALPHA_MAX = 50.0

#: Replicon values above -AT_MARGINAL count as (marginally) RS-stable at the
#: q -> 1 capacity: the extrapolation of the replicon to q = 1 has an error of about
#: 1e-4 (it converges like sqrt(1-q)); at kappa = 0 the exact limit is 0.
AT_MARGINAL = 5e-4

#: The fast entropy-zero route starts from the RS saddle at this fraction of the RS
#: q -> 1 value; the binary capacity is 0.55-0.85 of that value for kappa in
#: [-0.5, 1] (0.654 at kappa = 0), so 0.4 lies on the small-alpha branch with
#: positive entropy. The result is only accepted if it lies above the start.
CAPACITY_START_FRACTION = 0.4

#: Initial step bound of MINPACK hybr (scipy default 100): the saddle variables live
#: on O(1) scales next to domain walls (q < 1), and a first step of 100 × |x| leaves
#: the domain, after which hybr reports "not making good progress".
HYBR_FACTOR = 0.1

#: Square roots read arguments in (-SQRT_ROUNDING, 0) as 0 (solvers.special.sqrt):
#: variances that vanish exactly at physical points (the residual variance of the
#: constrained field at the typical Franz–Parisi point) come out as -1e-17; 1e-12 is
#: ~1e4 ulps of an O(1) variance and far below any physical one.
SQRT_ROUNDING = 1e-12
#: ... and read as SQRT_FLOOR, so that √V = 1e-50: forms √V·(a/√V) evaluate to a,
#: and up to third inverse powers of √V stay far from overflow (1e150).
SQRT_FLOOR = 1e-100

#: Local-entropy continuation in the overlap p: largest step (small enough for the
#: secant predictor to stay inside the region where the residual variance of the
#: constrained field is positive), smallest step before a branch is declared ended,
#: and the number of steps of the continuation in the reference margin. The smallest
#: step must stay 1e-5: around high-margin references the domain where the residual
#: variance is positive is thin at small d (c² ~ 1e-7 at d = 0.003) and the
#: κ̃ = 0.5 curve at α = 0.4 ends at d = 0.005 with 1e-4; the price is paid at genuine
#: branch ends (a typical curve ending at α = 0.7 takes ~55 s with 1e-5, 18 s with 1e-4).
LOCAL_ENTROPY_MAX_STEP = 0.02
LOCAL_ENTROPY_MIN_STEP = 1e-5
LOCAL_ENTROPY_KAPPA_STEPS = 10
#: Newton iterations per continuation point (a warm start converges in 3-6).
LOCAL_ENTROPY_NEWTON_MAXITER = 15
#: Continuation steps per direction before giving up: near the end of the RS branch
#: (q1 -> 1) each evaluation needs finely graded meshes and steps keep halving; the
#: remaining points are then reported as branch_ended at the last distance reached.
#: (A 40-point curve down to d = 0.001 around a high-margin reference takes ~300.)
LOCAL_ENTROPY_MAX_SOLVES = 1000

#: Quadrature (Hermite, Legendre-per-piece) nodes on the continuation path between the
#: requested distances of a local-entropy curve: half the default rule. Its saddle
#: differs from the full rule's by ~1e-3 at most (binary FP, α = 0.4, d in
#: [0.001, 0.3]), well inside Newton's basin, so it serves as a predictor; every
#: requested distance is re-solved with the full rule (2–3 Newton steps) and only those
#: values are reported. The 3-level Franz–Parisi grid is ~8x cheaper on this rule.
LOCAL_ENTROPY_MARCH_NODES = (HERMITE_NODES // 2, 30)

#: A free energy may carry an equivalent, cheaper form (``meta["fast_form"]``, e.g. the
#: Franz–Parisi energetic term with the (x, y) pair collapsed to one direction, one
#: quadrature level fewer, ~10x cheaper) that is exact only where the expressions of
#: its ``valid_if`` are positive. The compiled model uses it for a batch whose values
#: all exceed these minima, and the original form otherwise. Measured against the
#: 3-level form at converged points of binary (typical, κ̃ = 0.25) curves at α = 0.4:
#: * residual_variance c²: the form is 0/0 at c² = 0 (the typical point);
#: * collapsed_variance r²: near the typical point r, b, c → 0 together and 1/r terms
#:   cancel: gradient error 4.5e-12 at r² = 0.027, 1e-10 at r² = 0.012;
#: * step_width c²/b²: the weight H((x0 r − b u)/c) is a step of relative width c/|b|
#:   whose derivatives are spikes: gradient error 3e-12 at 1.1e-3 (typical, d = 0.001),
#:   5e-11 at 1.8e-3 (κ̃ = 0.25, d = 0.03), 3e-9 at 7.5e-5.
#: With these minima the gradient error stays ≲ 5e-11, below the 1e-10 solver tolerance
#: (a saddle displaced by 5e-11/|Hessian| moves S by O(1e-20)); the value agrees to
#: 1e-13 wherever the form is used. Elsewhere the 3-level form is used, exactly.
#: collapsed_variance was 0.05; 0.02 since session 4, measured against the 3-level form
#: at 2x nodes at 60 converged points with 0.018 < r² < 0.06 (α = 0.2/0.4/0.6 typical,
#: κ̃ = 0.25/0.5 at α = 0.4, κ̃ = 0.2 at α = 0.6): the value agrees to ≤ 2.3e-11 (the
#: 3-level full rule: ≤ 1.7e-11), the gradient to ≤ 4e-11 on typical curves and up to
#: 7e-10 around margin references at 0.2 < d < 0.32 — the full rule resolving the
#: collapsed integrand less well there, independently of r² (1.7e-8 at r² = 0.052,
#: κ̃ = 0.5, d = 0.22, under the old minimum too; the 2x rule agrees to 1e-11). A
#: gradient error δ displaces the saddle by δ/|Hessian| and S by O(δ²): values stay
#: within ~2e-11. It puts the whole α = 0.4 typical curve d ≤ 0.3 on the collapsed form.
FAST_FORM_MIN = {"residual_variance": 1e-10, "collapsed_variance": 0.02, "step_width": 1e-3}

#: ... but only farther than this from the start of the march in p: near the typical
#: point the variance q1 - t²/q̃ - (p-t)²/(1-q̃) of the constrained field vanishes, and a
#: saddle displaced by the coarse rule's error (~1e-6) can fall where it is negative.
LOCAL_ENTROPY_COARSE_FROM = 0.02

#: Residual tolerance of the coarse-rule solves on the continuation path (their
#: solutions are predictors only).
LOCAL_ENTROPY_MARCH_TOL = 1e-8

#: Continuation of Franz–Parisi curves around margin references in the variance chart
#: (solvers.local_entropy._Chart: Newton in ln c², ln ĉ², where every iterate has
#: positive residual variances, so steps need not be small to stay in the domain):
#: * CHART_MAX_STEP: largest step in p. From the exact typical point the first
#:   requested distance is usually reached in one step (α = 0.4: p = q̃ → q̃ + 0.144 in
#:   4 coarse Newton iterations; in 0.02-steps 44 iterations);
#: * LOG_STEP: largest step in ln(1 − p) (the variables vary like powers of 1 − p at
#:   small d; the last requested gap of a linear grid, d = 0.007 → 0.001, is 1.9);
#: * START_FLOORS: the first guesses off the typical point, where c² = ĉ² = 0, set
#:   c² = ĉ² = f·b² (b² = (p−t)²/(1−q̃)), tried in this order (f ≈ 0.15 on the binary
#:   branch at α = 0.4; to d = 0.3 from the typical point: 3–12 coarse iterations for
#:   binary α = 0.2–0.7, κ = 0, 0.5 and spherical α = 1; with 0.1 first, 72 at α = 0.7);
#: * SWITCH_STEP: a Newton step shorter than this (max-norm in the chart) switches from
#:   coarse-rule Hessian and gradient to the full rule's gradient with that Hessian
#:   (chord steps; the coarse Hessian's relative error is ~1e-8 in the bulk);
#: * BACKTRACKS: halvings of a Newton step before the solve fails (the step is then
#:   halved in p instead, cheaper than rescuing a poor predictor);
#: * CHART_MAX_LOG: cap on ln ĉ² in the chart (ĉ² is O(1) on the branches; keeps a wild
#:   iterate from overflowing).
LOCAL_ENTROPY_CHART_MAX_STEP = 0.15
LOCAL_ENTROPY_LOG_STEP = 0.5
LOCAL_ENTROPY_START_FLOORS = (0.2, 0.05, 0.8)
LOCAL_ENTROPY_SWITCH_STEP = 1e-4
LOCAL_ENTROPY_BACKTRACKS = 6
LOCAL_ENTROPY_CHART_MAX_LOG = 30.0
#: Minima of the collapsed Franz–Parisi form (cf. FAST_FORM_MIN) for the Hessians of the
#: chart march: near the typical point (r² ~ 1.3 (p − q̃)², binary α = 0.4) the collapsed
#: Hessian is accurate to far better than the 1e-4 a chord step needs, and ~10x cheaper
#: than the 3-level one; below step_width 1e-5 (c²/b² → 1e-11 at small d around
#: high-margin references) its H weight is narrower than the coarse mesh resolves.
LOCAL_ENTROPY_HESSIAN_FAST_MIN = {"residual_variance": 1e-12, "collapsed_variance": 1e-4,
                                  "step_width": 1e-5}
#: ... and its (Hermite, Legendre-per-piece) nodes, also the rule of the path points
#: between requested distances (predictors only). CPU time of the 51-point α = 0.4
#: typical curve: (48, 30) 0.92 s, (40, 24) 0.66 s, (32, 20) 0.79 s (more chord steps,
#: the coarse saddle lies farther from the full one), (24, 16) 1.26 s; spherical κ = −0.5
#: around κ̃ = −0.25: 2.70 s with (48, 30), 2.02 s with (40, 24).
LOCAL_ENTROPY_HESSIAN_NODES = (40, 24)

#: Steps of the homotopy in (alpha, kappa, 1/y, p) from the dense functional's anchor
#: point to the first requested distance (halved on failure). 8 keeps every step's
#: predictor within Newton's basin for alpha in [0.3, 0.7], y in [5, 100] (measured).
DENSE_HOMOTOPY_STEPS = 8

#: Pseudo-arclength continuation (solvers/continuation.py). Arclength is measured in
#: the packed (saddle variables, control) space, whose entries are O(1)–O(10) for the
#: perceptron models. Initial, largest and smallest step: 0.02 keeps the tangent
#: predictor within Newton's basin at the start of every catalogue branch tried;
#: 0.1 (times max(1, |y|): the cap is relative) bounds the chord error near folds
#: (curvature radii there are ~0.1–1 in units of |y|); below
#: 1e-7 a failing corrector means the branch really ends (or leaves its domain),
#: not that the step is too long.
CONTINUATION_STEP = 0.02
CONTINUATION_MAX_STEP = 0.1
CONTINUATION_MIN_STEP = 1e-7
#: Step growth after an easy corrector (≤ 3 Newton iterations) and shrink factor after
#: a failure (step halving).
CONTINUATION_GROWTH = 1.5
CONTINUATION_SHRINK = 0.5
#: Newton iterations of the bordered corrector: from a tangent predictor a regular
#: point converges quadratically in 2–4; more means the step was too long.
CONTINUATION_CORRECTOR_MAXITER = 8
#: Predictor–corrector attempts (accepted or not) before the status "budget".
CONTINUATION_MAX_STEPS = 2000
#: Newton iterations for the minimally augmented fold system (linear convergence is
#: possible because d(det-test)/dy uses central differences of the symbolic Hessian,
#: relative step FOLD_FD_STEP: truncation error ~1e-10 relative, round-off ~1e-11; only
#: the Jacobian is approximated, the located fold satisfies the exact equations).
FOLD_NEWTON_MAXITER = 40
FOLD_FD_STEP = 1e-5

#: Tree committees (solvers.committee): scrambled-Sobol points per randomisation for
#: the average over the K hidden fields, and independent randomisations (their spread
#: is the reported standard error). 2^13 × 4 gives ~1e-5 absolute on the K = 3
#: energetic term and its q-derivative for q ≤ 0.9 (tests/test_committee.py, against
#: a 3-D product quadrature); K > 21 uses fewer points per randomisation (cost O(K²)
#: per point; the integrand is smoother there).
COMMITTEE_QMC_POINTS = 2**12
COMMITTEE_QMC_POINTS_LARGE_K = 2**11
COMMITTEE_QMC_RANDOMIZATIONS = 4
COMMITTEE_QMC_SEED = 20190417
#: Sign committee, sum-law control variate (solvers.committee._sum_law_mean): used for
#: K ≥ this at the majority threshold (at K = 21, q = 0.8 it gained only ×1.9 in
#: variance, and below K − 1 ≈ 50 the FFT law of (S1, S2) is not converged at q = 0.92:
#: 1e-4 at K − 1 = 22, ≤ 1e-10 at 50, 98); g = ln Φ((S1 + 1 − m)/√(S2 + 1/4)) of the
#: count's mean and variance, variance of the estimate ÷40..400 at K = 99, q = 0.8..0.5
#: (measured, 16 scramblings).
COMMITTEE_SUMLAW_MIN_K = 51
#: ... its weight is 1 for q ≤ the first value, 0 for q ≥ the second (C² smoothstep in
#: between, blended with the min-cost control variate, which takes over as q → 1; the FFT
#: law is checked up to a = 3.4, q = 0.92; at q = 0.95 g alone still gains ×2..5 only).
COMMITTEE_SUMLAW_Q = (0.85, 0.92)
#: ... FFT grid per dimension of the law of (S1, S2) and its half-width in standard
#: deviations (E g and its a-derivatives converged to ≤ 1e-10 at K − 1 = 50, 98,
#: a ≤ 3.4: 64 vs 96 points, 12 vs 14 widths).
COMMITTEE_SUMLAW_GRID = 64
COMMITTEE_SUMLAW_SPAN = 12.0
#: ... Gauss–Legendre nodes per piece of its 1-D rule in z (16, 40 and 60 agree to
#: ≤ 1e-11 on E g and its a-derivatives at K − 1 = 50, 98; 0.03 s per q).
COMMITTEE_SUMLAW_NODES = 16
#: Sign committee (solvers.committee._linear_rows): the Poisson-binomial recursion runs in
#: linear scale on the rows where a lower bound of P(# ≥ m) exceeds e^-600 (≈ 1e-261: far
#: above the smallest normal float 2.2e-308, so what underflows is < 1e-40 relative);
#: other rows (q → 1, far tails) keep the recursion in logarithms.
COMMITTEE_LINEAR_LOG_FLOOR = -600.0
#: Sign committee, linear recursion: states × rows, and 2 × last-unit nodes × rows, per
#: vectorised block (2^17 doubles, 1 MB per array, stays in cache; the second bound keeps
#: the (rows × 4) @ (4 × nodes) products under OpenBLAS's threading threshold of 2^18
#: multiply-adds: waking its threads per product made K = 3 8x slower on a loaded machine).
COMMITTEE_LINEAR_CHUNK = 2**17
#: Sign committee: QMC rows × (K − 1) units per block of solvers.committee._per_a (the
#: unit arrays, 16 MB each; the production point sets stay in one block up to K = 99).
COMMITTEE_ROW_BLOCK = 2**21
#: Output margin at finite K (solvers.committee.margin_threshold): (K + κ√K)/2 within
#: this relative distance of an integer is taken as that integer, so κ given at a step
#: of the staircase m(κ) (e.g. 1/√3 at K = 3, not exact in floating point) lands on it.
COMMITTEE_MARGIN_STEP_TOL = 1e-12

#: Scans (solvers.scan / solvers.batch): budget of the damped fixed point that
#: rescues a point where Newton from the neighbour's solution failed (from the cold
#: start, down to AUTO_HANDOVER_RESIDUAL, then Newton) — the same budget as the first
#: phase of solve_saddle(method="auto"). Points with no saddle (e.g. beyond the RS
#: q -> 1 limit of the binary perceptron, where q -> 1 and qhat -> inf) spend the
#: whole budget, so it bounds the cost of a failing point (~300 evaluations).
SCAN_FIXED_POINT_MAXITER = 300

# --- finite-N validation (solvers/validation.py) ---------------------------------
#: NNLS iteration cap per instance, as a multiple of max(P, N+1) (scipy's default is 3n;
#: the Lawson–Hanson active set needs about P iterations near the separability
#: transition, so 5·max(P, N+1) never binds in the measured runs, N ≤ 400, P ≤ 1000).
VALIDATION_NNLS_MAXITER_FACTOR = 5
#: Gordan certificate of non-separability accepted when ‖Aᵀu‖/max‖A_μ‖ < 1e-8 for the
#: NNLS u ≥ 0, Σu = 1 (NNLS residuals are ~1e-13 relative; a separable instance has
#: ‖Aᵀu‖ ≥ κ_max·‖row‖-scale, and κ_max < 1e-8 occurs with negligible probability).
VALIDATION_CERTIFICATE_TOL = 1e-8
#: The κ = 0 LP (L∞-normalised margin t) calls an instance separable when t* > 1e-9
#: (HiGHS primal feasibility tolerance 1e-7 on O(1) rows; separable instances near the
#: transition have t* ~ κ_max/√N ≳ 1e-5 at N ≤ 400).
VALIDATION_LP_TOL = 1e-9
#: Instances per (N, α) also decided by the LP (HiGHS takes ~1 s at N = 400, P = 800,
#: NNLS 0.06 s: the LP is a check, not the workhorse).
VALIDATION_LP_CHECKS = 5
#: Exact enumeration: the high block has N − b = 10 bits (1024 rows of 2^b bits); the
#: low-block table is P × (2b+2) × 2^b bits (N = 28: 18 MB).
VALIDATION_HIGH_BITS = 10
#: Words (uint64) processed per vectorised chunk (16 MB working set).
VALIDATION_CHUNK_WORDS = 1 << 21
#: Largest N enumerated (2^29 weight vectors: 64 MB of solution bits, ~10 s per instance).
VALIDATION_MAX_N = 29
#: Random references (typical, margin=K) per instance for the finite-N FP curves; each
#: costs one pass over the solution list, and the instance is the statistical unit.
VALIDATION_REFERENCES_PER_INSTANCE = 8
#: Finite-N FP curves list the solutions of an instance (8 bytes each): at most 2^22
#: (32 MB; N = 29 at α ≥ 0.3 stays below it, small α at N ≥ 25 may not) ...
VALIDATION_MAX_LISTED = 1 << 22
#: ... and the densest reference costs M·Σ_{k≤r} C(N, k) bit look-ups (~30 ns each):
#: at most 2^27 (a few seconds per instance).
VALIDATION_MAX_LOOKUPS = 1 << 27
#: Gauss–Legendre nodes per graded piece for the last hidden unit, which the
#: committee routine integrates exactly in 1-D (conditioning: P(# ≥ m) is linear in
#: its p_K); same grading as the margin kinks above.
COMMITTEE_LAST_UNIT_NODES = 16
#: Sign tree committee, AT replicon (solvers.committee.sign_replicon): QMC points × K
#: per vectorised block (arrays of points × (K−1) × last-unit nodes, ~20 of them:
#: 2^13 keeps each below ~15 MB at the ~200 nodes of q = 1 − 1e-5).
COMMITTEE_REPLICON_CHUNK = 2**13
#: ReLU tree committee at finite q (solvers.committee, contour integral per QMC
#: point): Gauss–Legendre nodes per component on the tangent-mapped Bromwich line.
#: Measured against 128 nodes (K = 3, q = 0.3..0.999): 32 nodes give per-point
#: |Δ ln P| ≤ 1.3e-5 and a mean over points (what F_K sees) ≤ 1e-7, far below the QMC
#: error; 64 nodes give < 1e-10 against mpmath at K = 2 for rescaled means |u| from 1 to
#: 3000. Safeguarded-Newton budget for the contour's saddle point (its
#: position only moves the quadrature error, which is why 1e-10 in ln c is ample);
#: rows per vectorised block (memory: ~20 complex (rows × nodes) arrays).
RELU_CONTOUR_NODES = 32
RELU_CONTOUR_NEWTON_MAXITER = 80
RELU_CHUNK = 2048
#: ReLU committee at finite q: scrambled-Sobol points per randomisation (× the
#: COMMITTEE_QMC_RANDOMIZATIONS above). Half the sign committee's: each point costs a
#: complex contour integral per component. Reported standard error at q = 0.5
#: (scramblings + control-variate reference): 1.0e-4, 3.6e-5, 2.2e-4, 2.7e-4 at
#: K = 2, 3, 4, 6 (benchmarks/committee.py); the K > 21 value is nominal (such K are
#: not practical for ReLU units at finite q).
RELU_QMC_POINTS = 2**11
RELU_QMC_POINTS_LARGE_K = 2**9
#: ... and the components (k plus units active) whose saddle-point estimate lies more
#: than 40 below the largest (relative weight < e^-40 = 4e-18) are not integrated.
RELU_COMPONENT_SKIP = 40.0
#: ReLU committee with an output margin κ' ≠ 0 (rescaled): the Bromwich line is bent
#: to Re θ = c ± τ(√(B² + y²) − B), asymptotic angle atan(τ) off the vertical towards
#: the side where e^{−θκ'} decays (module docstring of solvers.committee); τ < 1 keeps
#: every unit transform in the sector where erfcx decays algebraically (|arg| < 3π/4).
RELU_MARGIN_BEND = 0.5
#: ... and the bend starts beyond y ≈ B = 6 b (b the saddle's width): vertical through the
#: saddle, so |f| never exceeds its saddle value there. Measured per point at K = 2
#: against mpmath (κ' = ±0.7, 32 / 64 / 128 nodes): τ = 0.5, B = 6 b: 1.6e-5 / 7.6e-8 /
#: 1.1e-10; B = b: 1.1e-3 / 1.6e-5 / 2.2e-9; the vertical line (τ = 0): 4.5e-4 / 1.3e-4 /
#: 5.1e-5 (its oscillating tail); τ = 0.8 is worse near the saddle.
RELU_MARGIN_BEND_START = 6.0
#: Newton budget per attempt in scans, and backtracking halvings per Newton step: a
#: warm start from the neighbour's solution converges in 3-8 iterations and from the
#: fixed point's hand-over residual in 3-5; a point where Newton has not converged
#: after 30 iterations is not in its basin, and 8 halvings (step 1/256) are as many as
#: capacity's inner solver uses. They bound the cost of points with no saddle.
SCAN_NEWTON_MAXITER = 30
SCAN_MAX_BACKTRACKS = 8
#: Scans: a warm-started Newton step that the fraction-to-boundary rule truncates
#: toward a bound closer than this (relative to max(1, |bound|)) marks the end of the
#: branch followed along the scan line (status "boundary"; e.g. q -> 1 beyond the RS
#: q -> 1 limit of the binary perceptron, where qhat -> inf). Each truncated step
#: divides the gap by 10, so the stop comes a few iterations after the branch is
#: lost; saddles closer than 1e-8 to a bound are beyond the quadrature's accuracy
#: anyway (1e-9 relative at 1 - q = 1e-6, see SHARP_TRANSITION).
SCAN_BOUNDARY_GAP = 1e-8
#: Proximal map of the cross-entropy (solvers.prox): safeguarded Newton on the
#: stationarity condition stops when the step is below PROX_TOL·x (x the envelope
#: parameter; the root lies in (0, x)). Newton converges quadratically from the first
#: fixed-point step: 4-8 iterations reach 1e-15 on z in [-11, 11], γ up to 50, x in
#: [0.01, 100] (tests/test_loss_zero_t.py checks 1e-13 against mpmath at 30 digits);
#: bisection fallbacks halve the bracket, so 200 iterations cannot be exhausted by a
#: convergent element (elements still not converged are NaN).
PROX_TOL = 1e-15
PROX_MAXITER = 200
#: Zero-temperature loss reference (solvers.local_entropy._ground_state): the x̃
#: equation α E v*(z; x̃)² = 2/π is bracketed from [0.1, 10] by factors of 8 up to
#: LOSS_T0_X_MAX. x̃ grows like exp(4γ sqrt(2/(πα)))-ish for the cross-entropy at small α
#: (6256 at α = 0.4, γ = 5); beyond 1e9 the reference is not isolated in practice.
LOSS_T0_X_BRACKET = (0.1, 10.0)
LOSS_T0_X_MAX = 1e9
#: Franz–Parisi term of the finite-K sign committee (solvers.committee_fp): K ≤ 5 use
#: COMMITTEE_QMC_POINTS per randomisation (dimension 3K), K = 7, 9 this many (each
#: point costs 4^{K-1} inner evaluations); its own Sobol seed (the points are
#: independent of the RS node's, whose estimate enters as a control variate);
#: elements (points × subsets × K) per vectorised block.
COMMITTEE_FP_POINTS_LARGE_K = 2**10
COMMITTEE_FP_QMC_SEED = 20261125
COMMITTEE_FP_CHUNK = 2**21
#: Regularity at c → 0 (c² = q1 − t²/q̃ − (p−t)²/(1−q̃), zero at the typical point):
#: below FP_C_TAYLOR the c²-derivative Ĝ_c/(2c) is replaced by its limit Ĝ_cc/2 (error
#: O(c²) = 1e-12; the quotient's rounding error ε/c is 1e-10 there); below
#: FP_C_HESSIAN the c²-entries of the Hessian (rounding ε/c³) are taken at c =
#: FP_C_HESSIAN (relative error ~c² = 1e-6: Newton steps only).
FP_C_TAYLOR = 1e-6
FP_C_HESSIAN = 1e-3
#: Central-difference step in q̃ for the node's q̃-derivatives (not used by the saddle
#: solver): truncation ~1e-8 relative, rounding ~1e-12.
FP_QREF_STEP = 1e-4
#: Width (in (p, t, q1), Euclidean) of the Gaussian taper of the first-order control
#: variate of solvers.committee_fp (the estimator's gradient at the typical point
#: against the RS node's): it makes the typical point an exact saddle of the
#: estimated functional and fades out where the two estimates decorrelate.
FP_TAPER_WIDTH = 0.1
#: solvers.committee_fp: the estimate is extended to c² ∈ [−FP_C2_EXTENSION, 0) by its
#: second-order Taylor polynomial in c² at 0 (the estimator is smooth in c² ≥ 0 and
#: the physical saddles near the typical point have c² = O((p − q̃)²), within the
#: QMC noise of the boundary: Newton steps may cross it).
FP_C2_EXTENSION = 1e-3
#: Franz–Parisi term of the finite-K ReLU committee (solvers.committee_fp, "ReLU units"):
#: scrambled-Sobol points per randomisation (dimension 3K; each point costs a contour
#: integral with K(K+1)/2 directional jets per label and antithetic sign, as the RS
#: node's RELU_QMC_POINTS), and rows per vectorised block of the contour jets.
RELU_FP_POINTS = 2**11
RELU_FP_CHUNK = 512
