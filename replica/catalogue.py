"""The model catalogue: named free energies ready to compile and solve.

Each entry is a function returning a fresh :class:`~replica.free_energy.FreeEnergy`;
``get_model(name)`` raises a ``KeyError`` naming the known models.
"""

from __future__ import annotations

from .ansatz import replica_symmetric
from .components import BinaryPrior, ErrorCountingChannel, MarginChannel, SphericalPrior
from .teacher_student import SignChannel, teacher_student_rs

__all__ = ["CATALOGUE", "FAMILIES", "get_model", "model_names"]


def binary_perceptron():
    """±1 weights, margin κ, replica symmetric (Gardner & Derrida 1988)."""
    return replica_symmetric(
        BinaryPrior(), MarginChannel(), "binary-perceptron",
        "Binary (±1) perceptron storing random patterns with margin kappa, RS "
        "(Gardner & Derrida 1988). Capacity: zero of the RS entropy (Krauth & Mezard 1989).")


def spherical_perceptron():
    """Spherical weights, margin κ, replica symmetric (Gardner 1988)."""
    return replica_symmetric(
        SphericalPrior(), MarginChannel(), "spherical-perceptron",
        "Spherical perceptron storing random patterns with margin kappa (any sign), RS "
        "(Gardner 1988). Capacity: q -> 1 limit; RS unstable (AT) near capacity for kappa < 0.")


def binary_perceptron_errors():
    """±1 weights, Gibbs measure of the number of margin violations at inverse temperature β."""
    return replica_symmetric(
        BinaryPrior(), ErrorCountingChannel(), "binary-perceptron-errors",
        "Binary perceptron at inverse temperature beta of the error-counting loss with "
        "margin kappa, RS (Engel & Van den Broeck 2001, ch. 6).")


def spherical_perceptron_errors():
    """Spherical weights, error-counting loss at inverse temperature β."""
    return replica_symmetric(
        SphericalPrior(), ErrorCountingChannel(), "spherical-perceptron-errors",
        "Spherical perceptron at inverse temperature beta of the error-counting loss "
        "with margin kappa, RS (Engel & Van den Broeck 2001, ch. 6).")


def teacher_student_binary_perceptron():
    """±1 student learning a ±1 sign teacher, Bayes-optimal RS on the Nishimori line
    (Györgyi 1990; Gardner & Derrida 1989): first-order transition to perfect
    generalisation at α ≈ 1.245, spinodal of the poor branch at α ≈ 1.493."""
    return teacher_student_rs(
        BinaryPrior(), SignChannel(), "teacher-student-binary-perceptron",
        "Binary (+-1) student learning a +-1 sign teacher (Gibbs = Bayes-optimal), RS on the "
        "Nishimori line q = m (Gyorgyi 1990). Free entropy = version-space entropy; first-order "
        "jump to perfect generalisation (m = 1, entropy 0) at alpha ~ 1.245.")


CATALOGUE = {
    "binary-perceptron": binary_perceptron,
    "spherical-perceptron": spherical_perceptron,
    "binary-perceptron-errors": binary_perceptron_errors,
    "spherical-perceptron-errors": spherical_perceptron_errors,
    "teacher-student-binary-perceptron": teacher_student_binary_perceptron,
}


def _committee_family(prior_cls, family, margin=False):
    """(builder, options) of a tree-committee family (``margin``: the output-margin variant)."""
    def build(K, activation):
        from .committee import tree_committee
        return tree_committee(prior_cls(), K, activation, name=family, margin=margin)
    K_doc = ("hidden units: odd integer >= 3 for sign (output margin kappa: count threshold "
             "j >= floor((K + kappa sqrt(K))/2) + 1 on the normalised output (2j - K)/sqrt(K), "
             "-sqrt(K) <= kappa < sqrt(K)); integer >= 2 for relu (output margin kappa on "
             "y sum_l c_l relu(lambda_l)/sqrt(K(1/2 - 1/(2 pi))), any real kappa); inf for "
             "K -> infinity" if margin
             else "hidden units: odd integer for sign, integer >= 2 for relu; inf for K -> infinity")
    return build, {"K": K_doc,
                   "activation": "hidden activation: sign (majority vote) or relu (balanced +-1 readout)"}


#: Model families: name -> (builder(**options), {option: description}). Their options
#: are structural (they change the free entropy itself, e.g. the number of hidden
#: units), so they are given when the model is built, never defaulted:
#: ``get_model("tree-committee", K=3, activation="sign")``. The ``-margin`` families are
#: the same machines with a margin control kappa on the normalised output (K = inf, sign
#: units at odd K >= 3 and ReLU units at K >= 2: replica.committee.WideCommitteeChannel,
#: TreeCommitteeChannel),
#: under new names so that the margin-0
#: families keep their controls (a required kappa would break their commands).
FAMILIES = {
    "tree-committee": _committee_family(SphericalPrior, "tree-committee"),
    "binary-tree-committee": _committee_family(BinaryPrior, "binary-tree-committee"),
    "tree-committee-margin": _committee_family(SphericalPrior, "tree-committee-margin", True),
    "binary-tree-committee-margin": _committee_family(BinaryPrior, "binary-tree-committee-margin", True),
}


def model_names():
    """Sorted names of the catalogue models.

    >>> from replica import model_names
    >>> "binary-perceptron" in model_names()
    True
    """
    return sorted(CATALOGUE)


def get_model(name, **options):
    """A fresh FreeEnergy for catalogue entry ``name`` (families need their options).

    Raises
    ------
    KeyError
        unknown name; ValueError: missing, unknown or invalid family option (the
        message starts with the option's name).

    Examples
    --------
    >>> from replica import get_model
    >>> fe = get_model("spherical-perceptron")
    >>> fe.variables, [c.name for c in fe.controls]
    ((q, qhat), ['alpha', 'kappa'])
    >>> get_model("no-such-model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    KeyError: "unknown model 'no-such-model'; known models: ..."
    """
    if name in FAMILIES:
        builder, opts = FAMILIES[name]
        for o in options:
            if o not in opts:
                raise ValueError(f"{o}: unknown option for {name}; its options are {', '.join(opts)}")
        for o in opts:
            if o not in options:
                raise ValueError(f"{o}: missing option {o} for {name} ({opts[o]})")
        return builder(**options)
    if options:
        raise ValueError(f"{sorted(options)[0]}: {name} takes no options")
    try:
        return CATALOGUE[name]()
    except KeyError:
        known = sorted(list(CATALOGUE) + list(FAMILIES))
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(known)}") from None
