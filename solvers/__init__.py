"""Numerical layer: compilation, saddle-point solvers, derived quantities.

>>> from solvers import solve_saddle, capacity
>>> r = solve_saddle("binary-perceptron", {"alpha": 0.6, "kappa": 0.0})
>>> round(r.order_parameters["q"], 6)
0.39105
>>> round(capacity("spherical-perceptron", {"kappa": 0.0}).alpha_c, 12)
2.0
"""

from .capacity import CapacityResult, capacity, rs_q_to_one_capacity
from .codegen import CompiledModel, compile_expression, compile_model
from .continuation import (Branch, ContinuationPoint, Fold, Transition, boundary_branch,
                           continue_branch, locate_transition)
from .errors import ConvergenceError, ParameterError
from .local_entropy import LocalEntropyCurve, local_entropy
from .saddle import METHODS, STATUSES, SaddleResult, solve_saddle, validate_controls
from .scan import QUANTITIES, Quantity, register_quantity, scan
from .validation import (BinaryEnumerationResult, SeparabilityResult, cover_probability,
                         enumerate_binary, separability)

__all__ = [
    "CapacityResult", "capacity", "rs_q_to_one_capacity",
    "CompiledModel", "compile_expression", "compile_model",
    "ConvergenceError", "ParameterError", "LocalEntropyCurve", "local_entropy",
    "METHODS", "STATUSES", "SaddleResult", "solve_saddle", "validate_controls",
    "Branch", "ContinuationPoint", "Fold", "Transition", "boundary_branch", "continue_branch",
    "locate_transition",
    "BinaryEnumerationResult", "SeparabilityResult", "cover_probability", "enumerate_binary",
    "separability",
    "QUANTITIES", "Quantity", "register_quantity", "scan",
]
