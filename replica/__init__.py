"""Symbolic layer of the replica toolkit (SymPy only; never imports numerics).

Write a replica free entropy with order parameters, conjugates, controls, Gaussian
averages and the special functions of replica theory; derive its saddle-point
equations exactly; or pick a model from the catalogue. Compile and solve it with
:mod:`solvers`.
"""

from .ansatz import ANSATZE, replica_symmetric
from .asymptotics import q_to_one_capacity, q_to_one_coefficients
from .averages import (E, GaussianAverage, LogMeanExp, TiltedAverage, averages_in, correlated,
                       integrate_by_parts)
from .catalogue import CATALOGUE, get_model, model_names
from .components import (CHANNELS, LOSSES, PRIORS, BinaryPrior, Channel, ErrorCountingChannel,
                         LossChannel, MarginChannel, Prior, SphericalPrior)
from .dense import replicated_local_entropy
from .franz_parisi import franz_parisi
from .free_energy import FixedPointUnavailable, FreeEnergy, Observable, Term
from .functions import GH, Gauss, H, LogCosh2, LogH
from .symbols import Conjugate, Control, GaussVar, OrderParameter, Parameter
from .teacher_student import SignChannel, teacher_student_rs

__all__ = [
    "ANSATZE", "replica_symmetric", "q_to_one_capacity", "q_to_one_coefficients",
    "E", "GaussianAverage", "averages_in", "correlated", "integrate_by_parts",
    "CATALOGUE", "get_model", "model_names",
    "CHANNELS", "PRIORS", "BinaryPrior", "Channel", "ErrorCountingChannel", "MarginChannel",
    "Prior", "SphericalPrior",
    "FixedPointUnavailable", "FreeEnergy", "Observable", "Term", "franz_parisi",
    "GH", "Gauss", "H", "LogCosh2", "LogH",
    "Conjugate", "Control", "GaussVar", "OrderParameter", "Parameter",
    "SignChannel", "teacher_student_rs",
    "LogMeanExp", "TiltedAverage", "LOSSES", "LossChannel", "replicated_local_entropy",
]
