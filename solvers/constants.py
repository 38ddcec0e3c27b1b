"""Numerical constants of the toolkit, in one place, each with the reason for its value.

Physics parameters never have defaults; these are numerical-method settings only.
"""

#: Gauss–Hermite nodes for a smooth full-line average E_z f(z). With 96 nodes the
#: rule integrates polynomials of degree 191 exactly; on the integrands of the RS
#: perceptrons (ln 2cosh, tanh², ln H away from q → 1) the error measured against
#: mpmath at 30 digits is below 1e-12 (tests/test_compile.py checks 1e-10).
HERMITE_NODES = 96

#: Gauss–Legendre nodes per piece when an average is split at kinks (zeros of the
#: linear arguments of ln H, G/H, ln 2cosh, tanh, |.|, θ) or truncated. Legendre nodes
#: cluster at the piece ends, where the near-kinks are; 64 per piece gives < 1e-11 on
#: ln H((κ-√q z)/√(1-q)) up to q = 1 - 1e-6 (see tests/test_compile.py).
LEGENDRE_NODES = 64

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
