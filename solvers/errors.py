"""Exceptions of the numerical layer."""

from __future__ import annotations

__all__ = ["ParameterError", "ConvergenceError"]


class ParameterError(ValueError):
    """Bad user input; ``parameter`` names the offending parameter."""

    def __init__(self, parameter, message):
        super().__init__(message)
        self.parameter = parameter


class ConvergenceError(RuntimeError):
    """Raised by ``result.raise_for_status()``; carries the (partial) result."""

    def __init__(self, result):
        super().__init__(f"{result.model}: {result.status}: {result.message}")
        self.result = result
