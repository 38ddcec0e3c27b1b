"""Scripts that regenerate the figures (``python -m figures`` runs them all).

Each script computes through the public API of :mod:`solvers`, saves its data next to
the image in ``figures/output/`` and draws with the ``plot_*`` helpers of
:mod:`figures.plotting`, which only read results.
"""

__all__ = ["FIGURES"]

#: name -> module path of the figure scripts, in the order ``python -m figures`` runs them
FIGURES = {"capacity": "figures.capacity", "local_entropy": "figures.local_entropy",
           "teacher_student": "figures.teacher_student",
           "validation": "figures.validation",
           "committee": "figures.committee",
           "phase_capacity": "figures.phase_capacity",
           "wide_flat_minima": "figures.wide_flat_minima",
           "margin_coalescence": "figures.margin_coalescence",
           "committee_local_entropy": "figures.committee_local_entropy"}
