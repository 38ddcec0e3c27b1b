"""Numerical layer: compilation, saddle-point solvers, derived quantities."""
