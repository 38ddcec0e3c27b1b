r"""Local entropy around reference solutions: Franz–Parisi curves S(d).

``local_entropy(model, controls, reference=..., distances=...)`` computes the
Franz–Parisi entropy :math:`S(d)` (:mod:`replica.franz_parisi`) of the solutions of
``model`` at distance :math:`d = (1-p)/2` from a reference drawn from

* ``"typical"``: the equilibrium solutions of the same problem (κ̃ = κ) —
  Huang & Kabashima, PRE 90, 052813 (2014): for ±1 weights S(d) < 0 at small d
  (typical solutions are isolated);
* ``"margin=K"``: the equilibrium solutions of margin κ̃ = K (K > κ) — Baldassi et
  al., PRL 127, 278301 (2021): S(d) at small d rises toward its α = 0 bound as κ̃
  grows (high-margin solutions sit in wide flat minima);
* ``"dense:y=Y"``: centres weighted by the Y-th power of the number of solutions
  around them (replicated local entropy, :mod:`replica.dense`; Baldassi et al.,
  PRL 115, 128101 (2015)); the curve is the local entropy :math:`S_I = \partial_y\phi`
  at finite y (y → ∞ selects the densest regions; S_I(y) approaches it like 1/y²).
  ``external_entropy`` gives Σ = φ − yS_I (negative: such centres are exponentially
  rare, the RS large-y result then overestimates; see the module replica.dense);
* ``"dense:y=*"``: at every d the y* with Σ(y*) = 0, the densest centres that exist
  (:func:`_dense_ystar_curve`; y is then a saddle-point variable, reported in
  ``variables["y"]``).

K → ∞ tree committees (``binary-tree-committee`` with ``options={"K": "inf",
"activation": ...}``) take ``"typical"``, ``"dense:y=Y"`` (the energetic term on the
replicas' output overlaps Q(q1), Q(q0), :mod:`replica.dense`; started by a homotopy in
alpha from the alpha = 0 saddle, :func:`_committee_dense_start`) and ``"loss=NAME:PARAM"``
at finite ``beta_ref`` (the loss on the normalised output,
:class:`replica.committee.WideCommitteeLossChannel`), and ``"dense:y=*"``;
``beta_ref=inf`` is not available for them, and finite K raises ParameterError naming
``K`` (:func:`_committee_reference_curve`).

Algorithm: the reference's RS saddle (q̃, q̂̃) is solved first (catalogue RS model of
the same prior at margin κ̃); the curve then starts from the typical point p = q̃,
where :math:`q_1 = t = \tilde q`, :math:`\hat q_1 = \hat t = \hat p = \tilde{\hat q}`
(exact, S = RS entropy), is continued in κ̃ (at fixed p) for margin references, and
then in p in both directions through the requested distances, each point warm-started
from a predictor; a failed Newton solve halves the step, and a branch that cannot be
continued below ``MIN_STEP`` is reported as ended (``branch_ended``, with the last
distance reached as ``spinodal``) instead of returning a number. For typical and
margin references the march runs in the variance chart (:class:`_Chart`, Newton on the
same equations in ln c², ln ĉ² where an x step would leave the domain; coarse-rule
Hessians, full-rule residual), and so do finite-K committees with ±1 weights; other
references (dense, loss) and the other committees use the x-space march
(:func:`_march_plain`).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from replica.catalogue import get_model
from replica.components import MarginChannel
from replica.franz_parisi import franz_parisi

from . import committee_fp as _committee_fp
from . import constants as C
from .codegen import compile_model
from .errors import ParameterError
from .saddle import _Counter, _jsonable, _newton, solve_saddle, validate_controls

__all__ = ["LocalEntropyCurve", "local_entropy", "parse_reference", "parse_dense", "parse_loss",
           "fp_model", "dense_model", "fp_loss_model", "alpha0_bound"]


@dataclass(frozen=True)
class LocalEntropyCurve:
    """A local-entropy curve; every list has one entry per requested distance.

    Attributes
    ----------
    model, reference : str
    controls : dict
    distance, overlap : list of float
    local_entropy : list of float or None
        None exactly where ``status`` is not "converged" (never a bare NaN).
    status : list of str
        "converged", "branch_ended" (beyond the end of the RS branch reached by
        continuation), or a solver status.
    residual : list of float or None
    variables : dict
        name -> list of the saddle-point values (order parameters and conjugates).
    alpha0_bound : list of float
        Log-volume at fixed distance (the α = 0 value): binary
        :math:`-d\\ln d-(1-d)\\ln(1-d)`.
    reference_saddle : dict
        The reference problem's RS solution (q_ref, qhat_ref, entropy, kappa_ref).
    typical_distance : float
        :math:`(1-\\tilde q)/2`, where the curve starts.
    isolation_distance : float or None
        Largest converged distance below ``typical_distance`` where S < 0 (the
        isolated regime of Huang–Kabashima), None if S ≥ 0 on all converged points.
    monotonic : bool or None
        Whether S increases with d on the converged points with d ≤ typical distance.
    spinodal : float or None
        Distance where a branch ended.
    external_entropy : list of float or None
        Dense references only (None entries otherwise): Σ(d) = φ − y S_I.
    success : bool
    message : str
    seconds : float
    quadrature_error : list of float or None
        Models whose energetic term is a quasi-Monte Carlo estimate (finite-K tree
        committees, ``meta["quadrature_alarm"]``): per converged point, the change of S
        when the QMC points (and Gauss rules) are doubled; a point whose change exceeds
        the model's alarm gets the status "quadrature_inaccurate" and no S. None
        entries for the deterministic quadratures (their accuracy is checked against
        independent routes in the tests) and for points that did not converge.
    """

    model: str
    reference: str
    controls: dict
    distance: list
    overlap: list
    local_entropy: list
    status: list
    residual: list
    variables: dict
    alpha0_bound: list
    reference_saddle: dict
    typical_distance: float
    isolation_distance: object
    monotonic: object
    spinodal: object
    external_entropy: list
    success: bool
    message: str
    seconds: float
    quadrature_error: list = field(default_factory=list)

    def to_dict(self):
        return _jsonable(asdict(self))


def parse_reference(spec: str, kappa: float):
    """'typical' -> κ̃ = κ; 'margin=K' -> κ̃ = K. Other kinds raise ParameterError."""
    if not isinstance(spec, str):
        raise ParameterError("reference", f"reference must be a string, got {spec!r}")
    if spec == "typical":
        return float(kappa)
    if spec.startswith("margin="):
        try:
            k = float(spec.split("=", 1)[1])
        except ValueError:
            raise ParameterError("reference", f"reference margin must be a number: {spec!r}") from None
        if not math.isfinite(k):
            raise ParameterError("reference", f"reference margin must be finite: {spec!r}")
        return k
    raise ParameterError("reference", f"unknown reference {spec!r}; use typical, margin=K or dense:y=Y")


def parse_loss(spec):
    """'loss=NAME:PARAM' -> (NAME, PARAM) (ce: steepness γ > 0; hinge: margin k);
    None for other references."""
    from replica.components import LOSSES
    if not (isinstance(spec, str) and spec.startswith("loss=")):
        return None
    name, _, val = spec[len("loss="):].partition(":")
    if name not in LOSSES:
        raise ParameterError("reference", f"unknown loss {name!r} in {spec!r}; known: {sorted(LOSSES)}")
    try:
        par = float(val)
    except ValueError:
        par = float("nan")
    if not math.isfinite(par) or (name == "ce" and par <= 0):
        raise ParameterError("reference", f"loss reference must be loss={name}:{LOSSES[name][1].upper()} "
                                          f"with a finite {LOSSES[name][1]}"
                                          + (" > 0" if name == "ce" else "") + f", got {spec!r}")
    return name, par


#: The ``dense:y=*`` reference: y chosen at every distance so that the external entropy
#: vanishes (the densest centres that exist; see :func:`_dense_ystar_curve`).
DENSE_YSTAR = "*"


def parse_dense(spec):
    """'dense:y=Y' -> Y (float ≥ 1); 'dense:y=*' -> DENSE_YSTAR; None for other references."""
    if not (isinstance(spec, str) and spec.startswith("dense")):
        return None
    head, _, val = spec.partition(":y=")
    if head == "dense" and val.strip() == DENSE_YSTAR:
        return DENSE_YSTAR
    try:
        y = float(val) if head == "dense" else float("nan")
    except ValueError:
        y = float("nan")
    if not math.isfinite(y) or y < 1:
        hint = " (y = inf is not available: use a large finite y; S_I(y) - S_inf ~ 1/y²)" \
            if val.strip().lower() in ("inf", "infinity", "oo") else ""
        raise ParameterError("reference", f"dense reference must be dense:y=Y with finite Y >= 1 "
                                          f"or dense:y=* (Sigma = 0), got {spec!r}{hint}")
    return y


_FP_CACHE = {}


def _rs_model(name, options):
    """The catalogue RS model ``name`` (a family needs ``options``); bad names or
    options raise ParameterError naming ``model`` or the option."""
    from replica.catalogue import FAMILIES
    if not isinstance(name, str):
        raise ParameterError("model", "local_entropy takes a catalogue model name "
                                      "(families with options=...)")
    if options is not None and not isinstance(options, dict):
        raise ParameterError("options", f"options must be a dict of family options, got {options!r}")
    try:
        return get_model(name, **(options or {}))
    except KeyError as exc:
        raise ParameterError("model", str(exc.args[0])) from None
    except ValueError as exc:  # the message starts with the option's name
        opt = str(exc).split(":", 1)[0]
        if name in FAMILIES and opt not in FAMILIES[name][1]:
            opt = "options"
        raise ParameterError(opt, str(exc)) from None


def _is_committee(rs):
    """Whether the RS model ``rs`` (FreeEnergy) is a tree committee with margin-0 output
    (the ``-margin`` families, with a kappa control, take the perceptrons' path)."""
    return "committee" in rs.meta and not rs.meta["committee"].get("margin")


def fp_model(name, options=None):
    """The compiled (RS, Franz–Parisi) models for catalogue RS model ``name``.

    ``options``: family options, e.g. ``{"K": "inf", "activation": "relu"}`` for
    ``binary-tree-committee`` / ``tree-committee``. Committee models: K → ∞ (the FP
    energetic term is the perceptron's on the kernel-mapped output overlaps,
    :mod:`replica.franz_parisi`) and finite K with sign units (:mod:`replica.committee_fp`;
    K = 1 is the perceptron's formula) or ReLU units (2 ≤ K ≤ 4); the reference is the
    committee itself (typical solutions); ReLU units at K ≥ 5 raise ParameterError naming
    ``K``.
    """
    key = (name, tuple(sorted((k, str(v)) for k, v in (options or {}).items())))
    if key not in _FP_CACHE:
        rs = _rs_model(name, options)
        meta = rs.meta
        ch = meta.get("channel")
        if "committee" in meta:
            from replica.committee import WideCommitteeChannel
            if not isinstance(ch, WideCommitteeChannel) and ch.activation == "relu":
                _committee_fp._check_relu_k(ch.K)   # before building: ParameterError naming K
            if getattr(ch, "kappa", None) is None:
                fe = franz_parisi(meta["prior"], ch, ch, f"{rs.name}/franz-parisi",
                                  f"Franz–Parisi entropy around typical solutions, {rs.name}")
                if "quadrature_alarm" in meta:  # finite K: a QMC estimate, as the RS node
                    fe.meta["quadrature_alarm"] = meta["quadrature_alarm"]
                if not isinstance(ch, WideCommitteeChannel) and meta["prior"].name == "binary":
                    # finite K: the perceptron's unmapped c², so the march's variance chart
                    # (spherical weights: the x-space march converges where the chart did
                    # not, K = 3 at α = 1)
                    fe.meta["variance_chart"] = True
            else:  # a -margin family: references of margin kappa_ref, as for perceptrons
                if not isinstance(ch, WideCommitteeChannel):
                    raise ParameterError("K", f"the Franz–Parisi ansatz of the committee with an "
                                              f"output margin is derived for K = inf only (finite K: "
                                              f"majority threshold, family without -margin); got "
                                              f"K = {meta['committee']['K']}")
                fe = franz_parisi(meta["prior"], ch, WideCommitteeChannel(ch.activation, "kappa_ref"),
                                  f"{rs.name}/franz-parisi",
                                  f"Franz–Parisi entropy around reference solutions, {rs.name}")
        elif type(ch) is not MarginChannel:
            raise ParameterError("model", f"local entropy needs a margin-channel model; {name} is not")
        else:
            fe = franz_parisi(meta["prior"], ch, MarginChannel("kappa_ref"),
                              f"{name}/franz-parisi",
                              f"Franz–Parisi entropy around reference solutions, {name}")
        _FP_CACHE[key] = (compile_model(rs), compile_model(fe))
    return _FP_CACHE[key]


_DENSE_CACHE = {}
_LOSS_CACHE = {}


def fp_loss_model(name, loss, zero_temperature=False, options=None):
    """(compiled RS model ``name``, compiled RS model of the reference — same prior, Gibbs
    measure of ``loss`` — and the compiled Franz–Parisi model around it).

    ``zero_temperature=True``: the β → ∞ limit (:mod:`replica.minimisers`): the reference
    model is the zero-temperature RS free entropy per β (variables x, rhat) and the
    Franz–Parisi model has variables (q1, rho, q1hat, tau, ehat); ±1 weights only.

    ``options``: a K → ∞ tree-committee family (``{"K": "inf", "activation": ...}``):
    the loss acts on the normalised committee output
    (:class:`replica.committee.WideCommitteeLossChannel`), finite β only."""
    key = (name, loss, bool(zero_temperature),
           tuple(sorted((k, str(v)) for k, v in (options or {}).items())))
    if key not in _LOSS_CACHE:
        from replica.ansatz import replica_symmetric
        from replica.components import LossChannel
        rs = _rs_model(name, options) if options is not None else get_model(name)
        meta = rs.meta
        if "committee" in meta:
            _LOSS_CACHE[key] = _committee_loss_models(rs, loss, zero_temperature)
            return _LOSS_CACHE[key]
        if type(meta.get("channel")) is not MarginChannel:
            raise ParameterError("model", f"local entropy needs a margin-channel model; {name} is not")
        if zero_temperature:
            from replica.minimisers import franz_parisi_minimisers, loss_ground_state
            if meta["prior"].name != "binary":
                raise ParameterError("beta_ref", f"beta_ref = inf (loss minimisers) is derived for "
                                                 f"±1 weights; {name} has {meta['prior'].name} weights")
            ref = loss_ground_state(meta["prior"], LossChannel(loss), f"{meta['prior'].name}-{loss}-T0")
            fe = franz_parisi_minimisers(meta["prior"], meta["channel"], LossChannel(loss, prefix="ref_"),
                                         f"{name}/franz-parisi-{loss}-T0")
        else:
            ref = replica_symmetric(meta["prior"], LossChannel(loss), f"{meta['prior'].name}-{loss}",
                                    f"{meta['prior'].name} weights, Gibbs measure of the {loss} loss")
            fe = franz_parisi(meta["prior"], meta["channel"], LossChannel(loss, prefix="ref_"),
                              f"{name}/franz-parisi-{loss}",
                              f"Franz–Parisi entropy around minimisers of the {loss} loss, {name}")
        _LOSS_CACHE[key] = (compile_model(rs), compile_model(ref), compile_model(fe))
    return _LOSS_CACHE[key]


def _wide_committee(rs, what):
    """The WideCommitteeChannel of the margin-0 committee RS model ``rs``; ParameterError
    naming ``K`` at finite K (``what``: the reference, for the message)."""
    from replica.committee import WideCommitteeChannel
    ch = rs.meta["channel"]
    if not isinstance(ch, WideCommitteeChannel) or ch.kappa is not None:
        raise ParameterError("K", f"{what} of the tree committee is derived for K = inf only "
                                  f"(the outputs are then jointly Gaussian with covariance Q(q_ab)); "
                                  f"got K = {rs.meta['committee']['K']}")
    return ch


def _committee_loss_models(rs, loss, zero_temperature):
    """fp_loss_model for a K → ∞ committee: the reference is the committee with the loss
    on its normalised output, the FP model the committee around it (output-overlap map)."""
    from replica.ansatz import replica_symmetric
    from replica.committee import WideCommitteeLossChannel
    ch = _wide_committee(rs, "the loss reference")
    if zero_temperature:
        raise ParameterError("beta_ref", "beta_ref = inf (loss minimisers) is not derived for tree "
                                         "committees (sign: 1 - Q ~ sqrt(1 - q) changes the T = 0 "
                                         "scaling; see replica.committee.WideCommitteeLossChannel): "
                                         "use a finite beta_ref")
    prior = rs.meta["prior"]
    ref = replica_symmetric(prior, WideCommitteeLossChannel(ch.activation, loss),
                            f"{rs.name}/{loss}",
                            f"{rs.name} with the Gibbs measure of the {loss} loss on its output")
    fe = franz_parisi(prior, ch, WideCommitteeLossChannel(ch.activation, loss, prefix="ref_"),
                      f"{rs.name}/franz-parisi-{loss}",
                      f"Franz–Parisi entropy around minimisers of the {loss} loss, {rs.name}")
    return compile_model(rs), compile_model(ref), compile_model(fe)


def dense_model(name, y_free=False, options=None):
    """(compiled RS model, compiled replicated-local-entropy model) for catalogue ``name``;
    ``y_free``: the variant with y a saddle-point variable (the ``dense:y=*`` measure).

    ``options``: a K → ∞ tree-committee family (``{"K": "inf", "activation": ...}``; the
    energetic term on the replicas' output overlaps, :mod:`replica.dense`); finite K
    raises ParameterError naming ``K``."""
    key = (name, bool(y_free), tuple(sorted((k, str(v)) for k, v in (options or {}).items())))
    if key not in _DENSE_CACHE:
        from replica.dense import replicated_local_entropy
        rs = _rs_model(name, options) if options is not None else get_model(name)
        meta = rs.meta
        if "committee" in meta and meta["prior"].name == "binary":
            _wide_committee(rs, "the dense reference")
        elif type(meta.get("channel")) is not MarginChannel or meta["prior"].name != "binary":
            raise ParameterError("model", f"the dense reference is derived for ±1 weights with a "
                                          f"margin channel; {name} is not")
        fe = replicated_local_entropy(meta["prior"], meta["channel"],
                                      f"{name}/dense" + ("-ystar" if y_free else ""),
                                      f"replicated local entropy (dense regions), {name}"
                                      + (", y at Sigma = 0" if y_free else ""), y_free=y_free)
        _DENSE_CACHE[key] = (compile_model(rs), compile_model(fe))
    return _DENSE_CACHE[key]


def alpha0_bound(prior, p):
    """Log-volume at overlap p with a point (the α = 0 local entropy)."""
    p = np.asarray(p, float)
    if prior.name == "binary":
        d = (1 - p) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((d > 0) & (d < 1), -d * np.log(d) - (1 - d) * np.log1p(-d), 0.0)
    if prior.name == "spherical":
        return 0.5 * np.log1p(-p * p)
    raise NotImplementedError(prior.name)


def _check_distances(distances):
    """The requested distances as a float array; ParameterError unless all in (0, 1/2)."""
    d = np.asarray(distances, float).ravel()
    if d.size == 0 or not np.all(np.isfinite(d)) or np.any(d <= 0) or np.any(d >= 0.5):
        raise ParameterError("distances", "distances must be finite and in (0, 0.5)")
    return d


def _make_curve(model, reference, controls, d, prior, names, status, S, res, xs, refsad,
                d_typ, message, t0, spinodal=None, ext=None, qerr=None):
    """The :class:`LocalEntropyCurve` of per-distance results (``d_typ`` None for dense
    references: no typical distance; isolation and monotonicity are then judged on all
    converged points)."""
    n = len(d)
    qerr = [None] * n if qerr is None else qerr
    p_req = 1 - 2 * d
    conv = [i for i in range(n) if status[i] == "converged"]
    below = [i for i in conv if d_typ is None or d[i] <= d_typ]
    iso = [d[i] for i in below if S[i] < 0]
    mono = None
    if len(below) >= 2:
        vals = [S[i] for i in sorted(below, key=lambda i: d[i])]
        mono = bool(all(b >= a - 1e-12 for a, b in zip(vals, vals[1:])))
    return LocalEntropyCurve(
        model=model, reference=reference, controls=controls,
        distance=[float(v) for v in d], overlap=[float(v) for v in p_req],
        local_entropy=[float(S[i]) if status[i] == "converged" else None for i in range(n)],
        status=list(status),
        residual=[float(res[i]) if res[i] is not None else None for i in range(n)],
        variables={nm: [float(xs[i][k]) if xs[i] is not None else None for i in range(n)]
                   for k, nm in enumerate(names)},
        alpha0_bound=[float(v) for v in alpha0_bound(prior, p_req)],
        reference_saddle=refsad,
        typical_distance=float(d_typ) if d_typ is not None else None,
        isolation_distance=float(max(iso)) if iso else None, monotonic=mono,
        spinodal=spinodal,
        external_entropy=[float(ext[i]) if ext is not None and status[i] == "converged"
                          else None for i in range(n)],
        success=all(st == "converged" for st in status),
        message=message, seconds=time.perf_counter() - t0,
        quadrature_error=[float(v) if v is not None and status[i] == "converged" else None
                          for i, v in enumerate(qerr)])


def _solve(m, c, guess, coarse=False):
    """Newton from ``guess``; if the Jacobian there is singular/non-finite (e.g. exactly
    on the typical point, where two variances vanish), from slightly perturbed guesses.

    ``coarse``: solve the saddle of the coarse-quadrature functional
    (``LOCAL_ENTROPY_MARCH_NODES``), used for the continuation path between requested
    distances; every reported point is then re-solved with the full rule.
    """
    guess = np.asarray(guess, float)
    nodes = C.LOCAL_ENTROPY_MARCH_NODES if coarse else None
    tol = C.LOCAL_ENTROPY_MARCH_TOL if coarse else C.SOLVER_TOL
    for scale in (0.0, 1e-6):
        g = guess * (1 + scale * np.resize([1.0, -1.0, 2.0, -1.0, 0.5], len(guess)))
        # a good predictor converges in a few iterations; a bad one is cheaper to
        # replace by a shorter continuation step than to rescue
        x, it, status, _ = _newton(_Counter(m, c, nodes), g, tol, C.LOCAL_ENTROPY_NEWTON_MAXITER,
                                   max_backtracks=8)
        if status == "converged":
            return x
        if not (it <= 1 and status in ("non_finite", "singular_jacobian")):
            # the perturbed retry is for a guess sitting exactly on a singular point
            # (the typical point); a Newton run that failed later would fail again
            return None
    return None


def _march_values(m, base, x0, p0, targets, max_step):
    """Continue in p from (p0, x0) through ``targets`` (monotone). Returns
    {p: x or None}, the p where the branch ended (or None), and {p: (value, residual)}
    of the full rule at the requested points where the march computed them
    (Franz–Parisi models in the variance chart; empty otherwise)."""
    if _Chart.applies(m, base):
        return _march_chart(m, base, x0, p0, targets)
    out, ended = _march_plain(m, base, x0, p0, targets, max_step)
    return out, ended, {}


class _Chart:
    """Coordinates of the march's Newton iterations for Franz–Parisi models with margin
    references (typical or margin-κ̃; perceptron energetic term, identity output map).

    y = (ln c², t, ln ĉ², t̂, p̂) with c² = q1 − t²/q̃ − (p−t)²/(1−q̃), the residual
    variance of the constrained field, and ĉ² = q̂1 − t̂²/q̂̃, that of the entropic field
    (spherical weights: y = (ln c², t)). Both variances sit under square roots and
    vanish at the typical point (c ~ ĉ ~ |p − q̃|) and, around high-margin references, at
    small d (c² ~ 1e-11 at d = 0.001, κ̃ = 0.5): in x a Newton step points through
    c² = 0 and the iteration stalls at the boundary or evaluates NaN, in y every iterate
    is inside. The equations solved are the same, ∇_x Φ = 0 (Newton in y uses the
    Jacobian H·∂x/∂y), with the same residual and tolerance."""

    def __init__(self, m, c):
        names = tuple(m.variables)
        self.lo = np.array([-np.inf if m.domains[n][0] is None else m.domains[n][0] for n in names])
        self.hi = np.array([np.inf if m.domains[n][1] is None else m.domains[n][1] for n in names])
        self.p, self.qr, self.qhr = c["p"], c["q_ref"], c.get("qhat_ref")
        self.conj = len(names) == 5

    @staticmethod
    def applies(m, c):
        meta = m.free_energy.meta
        names = tuple(m.variables)
        return (meta.get("ansatz") == "franz-parisi" and names[:2] == ("q1", "t")
                and names[2:] in ((), ("q1hat", "that", "phat"))
                and (type(meta.get("reference")) is MarginChannel
                     and type(meta.get("channel")) is MarginChannel
                     or meta.get("variance_chart", False))
                and "q_ref" in c and (len(names) == 2 or "qhat_ref" in c))

    def at(self, p):
        ch = object.__new__(_Chart)
        ch.__dict__.update(self.__dict__)
        ch.p = p
        return ch

    def base(self, t):
        return t * t / self.qr + (self.p - t) ** 2 / (1 - self.qr)

    def variances(self, x):
        return x[0] - self.base(x[1]), (x[2] - x[3] ** 2 / self.qhr if self.conj else 1.0)

    def to_y(self, x):
        """y of x, or None where a variance is not positive (the typical point)."""
        c2, ch2 = self.variances(x)
        if not (c2 > 0 and ch2 > 0):
            return None
        y = np.array(x, float)
        y[0] = math.log(c2)
        if self.conj:
            y[2] = math.log(ch2)
        return y

    def to_x(self, y):
        x = np.array(y, float)
        x[0] = self.base(y[1]) + math.exp(min(y[0], 0.0))  # c² ≤ 1 (q1 < 1 anyway)
        if self.conj:
            x[2] = y[3] ** 2 / self.qhr + math.exp(min(y[2], C.LOCAL_ENTROPY_CHART_MAX_LOG))
        return x

    def dxdy(self, y):
        M = np.eye(len(y))
        t = y[1]
        M[0, 0] = math.exp(min(y[0], 0.0))
        M[0, 1] = 2 * t / self.qr - 2 * (self.p - t) / (1 - self.qr)
        if self.conj:
            M[2, 2] = math.exp(min(y[2], C.LOCAL_ENTROPY_CHART_MAX_LOG))
            M[2, 3] = 2 * y[3] / self.qhr
        return M

    def inside(self, x):
        if not (np.all(x > self.lo) and np.all(x < self.hi)):
            return False
        c2, ch2 = self.variances(x)
        return bool(c2 > 0 and ch2 >= 0)


#: Hessians of the chart march: a coarse rule (LOCAL_ENTROPY_HESSIAN_NODES), with the
#: collapsed form under looser minima (``LOCAL_ENTROPY_HESSIAN_FAST_MIN``; an
#: approximate Hessian only makes the last Newton steps chords). The residual is always
#: the full rule's, default dispatch.
_MARCH_HESSIAN = {"nodes": C.LOCAL_ENTROPY_HESSIAN_NODES, "fast_min": C.LOCAL_ENTROPY_HESSIAN_FAST_MIN}


def _chart_hessian(m, x, c, kw):
    _, g, H = m.value_and_derivatives(x, c, **kw)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return None
    return g, H


def _chart_newton(m, c, x, full, hkw=None):
    """Newton in the chart's coordinates on ∇Φ = 0 from ``x``.

    The Hessian is the rule ``hkw``'s (default ``_MARCH_HESSIAN``), evaluated anew at
    every iterate until a step is shorter than ``LOCAL_ENTROPY_SWITCH_STEP``; then, for a
    requested point (``full``), the iteration continues with the full rule's gradient
    and that Hessian (chord steps; refreshed with the full rule if a step contracts the
    residual less than 100-fold, also when ``hkw`` is the full rule's own) until
    max|∇Φ| < SOLVER_TOL, as in ``solve_saddle``.
    Path points (not ``full``) stop at LOCAL_ENTROPY_MARCH_TOL on the Hessian's rule, or
    after a Newton step shorter than SWITCH_STEP.
    Returns (x, value, residual) — value None for path points — or None on failure."""
    hkw = _MARCH_HESSIAN if hkw is None else hkw
    ch = _Chart(m, c)
    y = ch.to_y(x)
    if y is None or not ch.inside(x):
        return None
    gH = _chart_hessian(m, x, c, hkw)
    if gH is None:
        return None
    g, H = gH
    A = H @ ch.dxdy(y)  # the Jacobian of ∇_x Φ in y
    exact = full and not hkw  # the Hessian's rule is the full rule: g is final from the start
    final = exact
    for _ in range(C.LOCAL_ENTROPY_NEWTON_MAXITER):
        res = float(np.max(np.abs(g)))
        if final and res < C.SOLVER_TOL:
            return x, float(m.value(x, c)), res
        if not full and res < C.LOCAL_ENTROPY_MARCH_TOL:
            return x, None, res
        # the Newton step in x where it stays inside (quadratic convergence where the
        # equations are smooth in x: the bulk, and small d where c² is tiny but the
        # iterates approach it from above), else in y (near the typical point the x step
        # points through c² = 0)
        try:
            sx = np.linalg.solve(H, -g)
            s = np.linalg.solve(A, -g)
        except np.linalg.LinAlgError:
            return None
        if not (np.all(np.isfinite(s)) and np.all(np.isfinite(sx))):
            return None
        in_x = ch.inside(x + sx) and ch.to_y(x + sx) is not None  # (a convex domain)
        if in_x:
            t = 1.0
        else:
            t = 1.0
            while not ch.inside(ch.to_x(y + t * s)):  # q1 < 1 and the variable domains
                t *= 0.5
                if t < 1e-6:
                    return None
        merit = float(g @ g)
        small = t == 1.0 and float(np.max(np.abs(sx if in_x else s))) < C.LOCAL_ENTROPY_SWITCH_STEP
        if small and not full:
            # a path point (a predictor for the next one): the Newton step from a point
            # within SWITCH_STEP of the saddle lands within ~SWITCH_STEP² of it
            xn = x + sx if in_x else ch.to_x(y + s)
            return xn, None, res
        switch = small and full and not final
        for _ in range(C.LOCAL_ENTROPY_BACKTRACKS):
            if in_x:
                xn = x + t * sx
                yn = ch.to_y(xn)
            else:
                yn = y + t * s
                xn = ch.to_x(yn)
            if final or switch:
                gn, Hn = m.gradient(xn, c), H
                if not np.all(np.isfinite(gn)):
                    gn = None
            else:
                gH = _chart_hessian(m, xn, c, hkw)
                gn, Hn = (None, None) if gH is None else gH
            # the first full-rule gradient has no full-rule merit to compare with
            if gn is not None and (switch or float(gn @ gn) <= (1 - 2e-4 * t) * merit):
                break
            t *= 0.5
        else:
            return None
        if final and float(gn @ gn) > 1e-4 * merit:
            gH = _chart_hessian(m, xn, c, {})  # a poor chord step: the full Hessian here
            if gH is None:
                return None
            Hn = gH[1]
        x, y, g, H = xn, yn, gn, Hn
        A = H @ ch.dxdy(y)
        final = final or switch
    return None


def _chart_guesses(ch, hist, p_try):
    """Predictors at ``p_try`` from the solved points ``hist`` [(p, x, y)]: Lagrange
    extrapolation in u = ln(1 − p) (the variables vary like powers of 1 − p at small d)
    of degree ≤ 3 in the chart's y (x where a point has a vanishing variance: the
    typical point), then the last point itself. A guess with a vanishing variance gets
    the last point's variance, or from the typical point LOCAL_ENTROPY_START_FLOORS × b²
    (b² = (p−t)²/(1−q̃), the variance the reference explains; c², ĉ² ≈ 0.15 b² near the
    typical point of the binary perceptron at α = 0.4), one guess per floor."""
    out = []
    ut = math.log1p(-p_try)
    for deg in sorted({min(3, len(hist) - 1), 0}, reverse=True):
        pts = hist[-(deg + 1):]
        use_y = all(h[2] is not None for h in pts)
        u = [math.log1p(-h[0]) for h in pts]
        z = 0.0
        for i in range(len(pts)):
            w = 1.0
            for j in range(len(pts)):
                if j != i:
                    w *= (ut - u[j]) / (u[i] - u[j])
            z = z + w * (pts[i][2] if use_y else pts[i][1])
        x = ch.to_x(z) if use_y else np.array(z, float)
        if ch.inside(x):
            out.append(x)
            continue
        pl, xl, _ = hist[-1]
        c2l, ch2l = ch.at(pl).variances(xl)
        b2 = (p_try - x[1]) ** 2 / (1 - ch.qr)
        floors = ((c2l, ch2l),) if c2l > 0 and ch2l > 0 else \
            tuple((f * b2, f * b2) for f in C.LOCAL_ENTROPY_START_FLOORS)
        for c2f, ch2f in floors:
            xg = np.array(x, float)
            c2, ch2 = ch.variances(xg)
            if not c2 > 0:
                xg[0] = ch.base(xg[1]) + c2f
            if ch.conj and not ch2 > 0:
                xg[2] = xg[3] ** 2 / ch.qhr + ch2f
            if ch.inside(xg):
                out.append(xg)
    return out


def _march_chart(m, base, x0, p0, targets):
    """:func:`_march_values` for models of :class:`_Chart` (returns the full-rule value and
    residual at the requested points too). Steps are at most
    LOCAL_ENTROPY_CHART_MAX_STEP in p (grown by 1.5 after a full step, halved on
    failure; a step cut short to land on a requested point leaves the step length as it
    was) and LOCAL_ENTROPY_LOG_STEP in ln(1 − p); each point is solved by
    :func:`_chart_newton` from :func:`_chart_guesses`, then with the full-rule Hessian
    from the first guess; a branch that cannot be continued below LOCAL_ENTROPY_MIN_STEP
    (or within LOCAL_ENTROPY_MAX_SOLVES steps) ends there."""
    out, vals = {}, {}
    x0 = np.asarray(x0, float)
    ch0 = _Chart(m, {**base, "p": p0})
    hist = [(p0, x0, ch0.to_y(x0))]
    p_cur, x_cur = p0, x0
    ended = None
    budget = C.LOCAL_ENTROPY_MAX_SOLVES
    h = max_step = C.LOCAL_ENTROPY_CHART_MAX_STEP
    for pt in targets:
        if pt == p_cur:
            out[pt] = x_cur
            continue
        while ended is None:
            hl = h
            if pt > p_cur:
                hl = min(h, (1 - p_cur) * -math.expm1(-C.LOCAL_ENTROPY_LOG_STEP))
            step = pt - p_cur
            if abs(step) > hl:
                step = math.copysign(hl, step)
            cut = False
            while True:
                p_try = pt if abs(pt - (p_cur + step)) < 1e-14 else p_cur + step
                full = p_try == pt
                cc = {**base, "p": p_try}
                guesses = _chart_guesses(ch0.at(p_try), hist, p_try)
                r = None
                for g in guesses:
                    r = _chart_newton(m, cc, g, full)
                    if r is not None:
                        break
                if r is None and guesses:
                    # the coarse rule can be too coarse (q1 -> 1): the full rule decides
                    r = _chart_newton(m, cc, guesses[0], full, hkw={})
                budget -= 1
                if r is not None:
                    break
                cut = True
                step /= 2
                h = abs(step)
                if abs(step) < C.LOCAL_ENTROPY_MIN_STEP or budget <= 0:
                    ended = p_cur
                    break
            if ended is not None:
                break
            if not cut and abs(step) >= hl:
                h = min(max_step, 1.5 * h)
            p_cur, x_cur = p_try, r[0]
            hist.append((p_cur, x_cur, ch0.at(p_cur).to_y(x_cur)))
            if full:
                out[pt], vals[pt] = x_cur, (r[1], r[2])
                break
        if ended is not None:
            break
    for pt in targets:
        out.setdefault(pt, None)
    return out, ended, vals


def _march_plain(m, base, x0, p0, targets, max_step):
    """Continue in p from (p0, x0) through ``targets`` (monotone) by x-space Newton
    (:func:`_solve`), for models without a :class:`_Chart` (dense, loss references,
    committees). Returns {p: x or None}, and the p where the branch ended (or None)."""
    out = {}
    hist = [(p0, np.asarray(x0, float))]
    p_cur, x_cur = p0, np.asarray(x0, float)
    ended = None
    budget = C.LOCAL_ENTROPY_MAX_SOLVES
    h = max_step  # adaptive step: halved on failure, grown by 1.5 on success
    for pt in targets:
        if pt == p_cur:
            out[pt] = x_cur
            continue
        while True:
            step = pt - p_cur
            if abs(step) > h:
                step = math.copysign(h, step)
            p_try = p_cur + step
            x = None
            while True:
                if len(hist) >= 2:  # secant predictor
                    (pa, xa), (pb, xb) = hist[-2], hist[-1]
                    guess = xb + (xb - xa) * (p_try - pb) / (pb - pa)
                else:
                    guess = x_cur
                cc = {**base, "p": p_try}
                # the coarse rule only away from the start: near the typical point the
                # domain is thin (a variance vanishes there), and the coarse saddle,
                # displaced by the rule's error, can fall outside it
                coarse = len(hist) >= 2 and abs(p_try - p0) > C.LOCAL_ENTROPY_COARSE_FROM
                x = _solve(m, cc, guess, coarse=coarse)
                if x is None and len(hist) >= 2:
                    x = _solve(m, cc, x_cur, coarse=coarse)
                if x is None and coarse:
                    # near the end of a branch (q1 -> 1) the coarse rule can be too
                    # coarse: the full rule decides before the step is halved
                    x = _solve(m, cc, guess)
                    coarse = False
                if x is not None and p_try == pt and coarse:
                    x = _solve(m, cc, x)  # a requested distance: the full rule
                budget -= 1
                if x is not None:
                    h = min(max_step, 1.5 * abs(step))
                    break
                step /= 2
                h = abs(step)
                if abs(step) < C.LOCAL_ENTROPY_MIN_STEP or budget <= 0:
                    ended = p_cur
                    break
                p_try = p_cur + step
            if ended is not None:
                break
            p_cur, x_cur = p_try, x
            hist.append((p_cur, x_cur))
            if p_try == pt:
                out[pt] = x
                break
        if ended is not None:
            break
    for pt in targets:
        out.setdefault(pt, None)
    return out, ended


def local_entropy(model, controls, *, reference, distances, options=None) -> LocalEntropyCurve:
    """Franz–Parisi local entropy S(d) around ``reference`` solutions of ``model``.

    Parameters
    ----------
    model : str
        Catalogue RS model with a margin channel (``binary-perceptron``), or a
        committee family (``binary-tree-committee``, ``tree-committee``) with
        ``options``.
    controls : dict
        ``alpha`` and ``kappa`` (committees: ``alpha`` only, their output margin is 0;
        the ``*-tree-committee-margin`` families: ``alpha`` and ``kappa``);
        loss references also ``beta_ref``: a number > 0, or ``float("inf")`` for the loss
        minimisers (zero-temperature limit, :mod:`replica.minimisers`).
    reference : str
        ``"typical"``, ``"margin=K"``, ``"dense:y=Y"``, ``"dense:y=*"`` or ``"loss=NAME:PARAM"``;
        committees: ``"typical"`` (and ``"margin=K"`` for the ``-margin`` families);
        at K = inf the margin-0 families also take ``"dense:y=Y"``, ``"dense:y=*"`` and
        ``"loss=NAME:PARAM"`` with a finite ``beta_ref``.
    distances : sequence of float
        Distances d = (1-p)/2 in (0, 1/2).
    options : dict, optional
        Family options as for :func:`replica.catalogue.get_model`, e.g.
        ``{"K": "inf", "activation": "relu"}``. The tree committee has a Franz–Parisi
        ansatz at K = inf (K → ∞ tree committee: Baldassi, Malatesta & Zecchina,
        PRL 123, 170602 (2019)) and at finite odd K with sign units
        (:mod:`replica.committee_fp`, a quasi-Monte Carlo estimate) and with ReLU units at
        2 ≤ K ≤ 4 (exact reference draws, :mod:`solvers.relu_reference`); ReLU units at
        K ≥ 5 raise ParameterError naming ``K``.

    Returns
    -------
    LocalEntropyCurve
        One entry per distance in every list, with a per-point ``status``
        (``local_entropy`` is None where it is not "converged").

    Raises
    ------
    ParameterError
        Unknown model, reference or control; a distance outside (0, 1/2).

    Examples
    --------
    Around typical solutions of the binary perceptron at α = 0.4 (Huang & Kabashima,
    PRE 90, 052813 (2014)); the curve starts at the typical distance (1 − q̃)/2, where
    S equals the RS entropy, and stays below the α = 0 bound:

    >>> from solvers import local_entropy
    >>> c = local_entropy("binary-perceptron", {"alpha": 0.4, "kappa": 0.0},
    ...                   reference="typical", distances=[0.2, 0.3])
    >>> c.status, round(c.typical_distance, 4)
    (['converged', 'converged'], 0.3721)
    >>> all(s < b for s, b in zip(c.local_entropy, c.alpha0_bound))
    True

    ``notebooks/01_quickstart.ipynb`` continues it down to d = 0.001, where S < 0
    (isolated typical solutions).

    The K → ∞ binary tree committee with ReLU hidden units, around its typical
    solutions (the ``model`` field carries the options):

    >>> c = local_entropy("binary-tree-committee", {"alpha": 0.5}, reference="typical",
    ...                   distances=[0.05], options={"K": "inf", "activation": "relu"})
    >>> c.model, c.status
    ('binary-tree-committee[K=inf,activation=relu]', ['converged'])
    """
    t0 = time.perf_counter()
    if not isinstance(model, str):
        raise ParameterError("model", "local_entropy takes a catalogue model name")
    label = model
    if options is not None or model in _committee_families():
        rs_fe = _rs_model(model, options)
        if _is_committee(rs_fe):
            if parse_dense(reference) is not None or parse_loss(reference) is not None:
                return _committee_reference_curve(model, options, controls, reference, distances, t0)
            return _committee_curve(model, options, controls, reference, distances, t0)
        if "committee" in rs_fe.meta:  # a -margin family: typical and margin=K references
            if parse_dense(reference) is not None or parse_loss(reference) is not None:
                raise ParameterError("reference", f"committee models take reference=typical or "
                                                  f"margin=K, got {reference!r}")
            label = rs_fe.name  # then the perceptrons' path, with the family options
    y_dense, loss = parse_dense(reference), parse_loss(reference)
    if y_dense is not None:
        rs, m = dense_model(model, y_free=y_dense == DENSE_YSTAR)
    elif loss is None:
        rs, m = fp_model(model, options)
    controls = dict(controls) if isinstance(controls, dict) else controls
    extra = {}
    if loss is not None:
        beta = _check_beta_ref(controls)
        # JSON has no infinity: the minimisers' curve says "inf"
        extra = {"beta_ref": beta if math.isfinite(beta) else "inf",
                 f"{loss[0]}_{_loss_param(loss[0])}": loss[1]}
        controls.pop("beta_ref")
        rs, ref_rs, m = fp_loss_model(model, loss[0], zero_temperature=math.isinf(beta))
    controls = validate_controls(rs, controls)
    kref = (parse_reference(reference, controls["kappa"])
            if y_dense is None and loss is None else None)
    d = _check_distances(distances)
    prior = rs.free_energy.meta["prior"]
    p_req = 1 - 2 * d
    n = len(d)

    curve_controls = ({**controls, "y": y_dense} if y_dense is not None else
                      {**controls, **extra} if loss is not None else {**controls, "kappa_ref": kref})

    def result(status_list, S, res, xs, refsad, d_typ, message, spinodal=None, ext=None):
        return _make_curve(label, reference, curve_controls, d, prior, m.variables, status_list,
                           S, res, xs, refsad, d_typ if y_dense is None else None, message, t0,
                           spinodal=spinodal, ext=ext)

    if y_dense == DENSE_YSTAR:
        return _dense_ystar_curve(model, m, controls, d, p_req, result)
    if y_dense is not None:
        return _dense_curve(m, controls, y_dense, d, p_req, result)
    if loss is not None and math.isinf(beta):
        return _loss_curve_zero_t(rs, ref_rs, m, controls, loss, p_req, result)
    if loss is not None:
        return _loss_curve(rs, ref_rs, m, controls, loss, beta, p_req, result)

    # 1. the reference problem
    a = controls["alpha"]
    ref = solve_saddle(rs, {**controls, "kappa": kref})
    refsad = {"q_ref": ref.order_parameters.get("q"), "qhat_ref": ref.conjugates.get("qhat"),
              "entropy": ref.free_entropy, "kappa_ref": kref, "status": ref.status}
    if not ref.success:
        st = ["reference_failed"] * n
        return result(st, [None] * n, [None] * n, [None] * n, refsad, float("nan"),
                      f"the reference RS problem did not converge: {ref.message}")
    qt, qht = refsad["q_ref"], refsad["qhat_ref"]
    base = {"alpha": a, "kappa": controls["kappa"], "kappa_ref": kref, "q_ref": qt, "qhat_ref": qht}

    # 2. starting point at the typical overlap of the *constrained* problem's reference
    nvar = len(m.variables)  # 5 for ±1 weights (q1, t, q̂1, t̂, p̂); 2 for spherical
    if kref == controls["kappa"]:
        p0 = qt
        x0 = np.array([qt, qt, qht, qht, qht][:nvar])
    else:
        # continue in κ̃ from κ at fixed p = q̃(κ), updating the reference saddle
        r0 = solve_saddle(rs, controls)
        if not r0.success:
            st = ["reference_failed"] * n
            return result(st, [None] * n, [None] * n, [None] * n, refsad, float("nan"),
                          f"the RS problem at kappa did not converge: {r0.message}")
        q0, qh0 = r0.order_parameters["q"], r0.conjugates["qhat"]
        p0, x = q0, np.array([q0, q0, qh0, qh0, qh0][:nvar])
        k_path = np.linspace(controls["kappa"], kref, C.LOCAL_ENTROPY_KAPPA_STEPS + 1)[1:]
        prev = r0
        for kk in k_path:
            rr = solve_saddle(rs, {**controls, "kappa": float(kk)}, x0=prev, method="newton")
            if not rr.success:
                rr = solve_saddle(rs, {**controls, "kappa": float(kk)})
            if not rr.success:
                st = ["reference_failed"] * n
                return result(st, [None] * n, [None] * n, [None] * n, refsad, float("nan"),
                              f"no RS reference at kappa_ref={kk:.4g}: {rr.message}")
            prev = rr
            cc = {**base, "kappa_ref": float(kk), "q_ref": rr.order_parameters["q"],
                  "qhat_ref": rr.conjugates["qhat"], "p": p0}
            xn = _solve(m, cc, x, coarse=kk != k_path[-1])
            if xn is None:
                st = ["branch_ended"] * n
                return result(st, [None] * n, [None] * n, [None] * n, refsad, (1 - p0) / 2,
                              f"lost the Franz–Parisi saddle continuing kappa_ref to {kk:.4g}")
            x = xn
        x0 = x

    d_typ = (1 - p0) / 2
    # 3. continuation in p, both directions
    status, S, res, xs, _, spin, msg = _march_both(m, base, p0, x0, p_req, _fp_point)
    return result(status, S, res, xs, refsad, d_typ, msg, spinodal=spin)


def _committee_families():
    from replica.catalogue import FAMILIES
    return tuple(FAMILIES)


def _committee_curve(model, options, controls, reference, distances, t0):
    """Typical-reference FP curve of a tree committee, K → ∞, or finite K with sign units
    or ReLU units (K ≤ 4) (see :func:`local_entropy`).

    Same algorithm as the perceptron's typical curve: the RS saddle (q̃, q̂̃) of the
    committee, the exact starting point p = q1 = t = q̃, q̂1 = t̂ = p̂ = q̂̃ (stationary
    with S = RS entropy: the replica structure is the perceptron's, tests/test_committee_fp.py),
    then continuation in p in both directions.
    """
    if reference != "typical":
        raise ParameterError("reference", f"committee models have output margin 0 and no kappa: "
                                          f"only reference='typical' is available, got {reference!r} "
                                          f"(the -margin families take margin=K references)")
    rs, m = fp_model(model, options)
    controls = validate_controls(rs, dict(controls) if isinstance(controls, dict) else controls)
    d = _check_distances(distances)
    prior = rs.free_energy.meta["prior"]
    p_req = 1 - 2 * d
    n = len(d)
    ref = solve_saddle(rs, controls)
    refsad = {"q_ref": ref.order_parameters.get("q"), "qhat_ref": ref.conjugates.get("qhat"),
              "entropy": ref.free_entropy, "status": ref.status}
    if ref.success:
        qt, qht = refsad["q_ref"], refsad["qhat_ref"]
        base = {"alpha": controls["alpha"], "q_ref": qt, "qhat_ref": qht}
        nvar = len(m.variables)
        x0 = np.array([qt, qt, qht, qht, qht][:nvar])
        status, S, res, xs, _, spin, msg = _march_both(m, base, qt, x0, p_req, _fp_point)
        d_typ = (1 - qt) / 2
    else:
        status, S, res, xs = ["reference_failed"] * n, [None] * n, [None] * n, [None] * n
        spin, d_typ = None, float("nan")
        msg = f"the reference RS problem did not converge: {ref.message}"
    qerr = _qmc_errors(m, base if ref.success else None, p_req, status, S, xs)
    return _make_curve(rs.free_energy.name, reference, dict(controls), d, prior, m.variables,
                       status, S, res, xs, refsad, d_typ, msg, t0, spinodal=spin, qerr=qerr)


def _qmc_errors(m, base, p_req, status, S, xs):
    """Per point, |S(doubled QMC points and rules) − S| for models with a QMC energetic
    term (``meta["quadrature_alarm"]``, finite-K committees); points above the alarm
    become "quadrature_inaccurate" (``status`` is updated in place). None elsewhere."""
    alarm = m.free_energy.meta.get("quadrature_alarm")
    out = [None] * len(p_req)
    if alarm is None or base is None:
        return out
    nodes = (2 * C.HERMITE_NODES, 2 * C.LEGENDRE_NODES)
    for i, p in enumerate(p_req):
        if status[i] != "converged":
            continue
        v2 = float(m.value(np.asarray(xs[i], float), {**base, "p": float(p)}, nodes=nodes))
        out[i] = abs(v2 - S[i]) if math.isfinite(v2) else float("inf")
        if not out[i] < alarm:
            status[i] = "quadrature_inaccurate"
    return out


def _fp_point(m, x, c):
    v, g, _ = m.value_and_derivatives(x, c)
    return float(v), float(np.max(np.abs(g))), None


def _dense_point(m, x, c):
    _, g, _ = m.value_and_derivatives(x, c)
    obs = m.observables_at(x, c)
    return float(obs["local_entropy"]), float(np.max(np.abs(g))), float(obs["external_entropy"])


def _march_both(m, base, p0, x0, p_req, point):
    """Continue from (p0, x0) through the requested overlaps in both directions and
    evaluate each point with ``point(m, x, controls) -> (S, residual, extra)``."""
    up = sorted({float(p) for p in p_req if p > p0})
    down = sorted({float(p) for p in p_req if p <= p0}, reverse=True)
    sols, ends, vals = {}, [], {}
    for targets in (up, down):
        if targets:
            got, ended, v = _march_values(m, base, x0, p0, targets, C.LOCAL_ENTROPY_MAX_STEP)
            sols.update(got)
            vals.update(v)
            if ended is not None:
                ends.append((1 - ended) / 2)
    status, S, res, xs, ext = [], [], [], [], []
    for p in p_req:
        x = sols.get(float(p))
        if x is None:
            status.append("branch_ended")
            S.append(None), res.append(None), xs.append(None), ext.append(None)
            continue
        if point is _fp_point and float(p) in vals:  # evaluated by the march's last Newton step
            (v, r), e = vals[float(p)], None
        else:
            v, r, e = point(m, x, {**base, "p": float(p)})
        status.append("converged" if r < C.SOLVER_TOL and math.isfinite(v) else "non_finite")
        S.append(v), res.append(r), xs.append(x), ext.append(e)
    spin = min(ends) if ends else None
    msg = "all points converged" if all(st == "converged" for st in status) else (
        f"RS branch ended near d = {spin:.4g}" if spin is not None else "some points failed")
    return status, S, res, xs, ext, spin, msg


# ----------------------------------------------------------------------------- dense
#: A solved point of the dense (replicated local entropy) functional that every curve
#: starts from by homotopy in (alpha, kappa, 1/y, p): binary perceptron, alpha = 0.5,
#: kappa = 0, y = 40, d = 0.05. The guess is refined by Newton each time (it is a
#: starting point, not a result); an independent NumPy prototype gives S_I = 0.1638970
#: there (tests/test_dense.py).
_DENSE_ANCHOR = ({"alpha": 0.5, "kappa": 0.0, "y": 40.0, "p": 0.9},
                 {"q1": 0.8114, "dq": 2.412, "shat": 0.919, "q1hat": 0.0896, "dqhat": 0.407})


#: Fallback start distances of a dense curve (tried in this order when the straight
#: homotopy from the anchor to the requested distance closest to d = 0.05 fails). At
#: high load the RS dense branch reached from the anchor folds back in alpha at fixed
#: d, first at small d: at kappa = 0, y = 20 the fold is at alpha = 0.779 for
#: d = 0.05, 0.856 for d = 0.1 (beyond alpha_c = 0.833), none up to 0.9 for d = 0.2
#: (pseudo-arclength in alpha; the branch then turns forward again at 0.767 onto a
#: second sheet with q1 -> 1, not the one continued from the anchor). Starting at a
#: larger d and marching toward small d reaches the fold in d instead, reported as
#: branch_ended with its distance.
DENSE_START_DISTANCES = (0.05, 0.1, 0.2)
#: Smallest homotopy step (in the path parameter s in [0, 1] of one leg) of a start
#: attempt that still has a fallback: a regular leg takes DENSE_HOMOTOPY_STEPS = 8
#: steps without halving, so a step that must shrink below a quarter of that is at
#: (or next to) a fold of the branch, which the next start path avoids; creeping up to
#: the fold in ever smaller steps costs ~10 s per attempt (the last attempt uses
#: LOCAL_ENTROPY_MIN_STEP).
DENSE_START_MIN_STEP = 1 / 32
#: Solved starts kept per process (controls, saddle): a request near one of them (a
#: sequence of curves at nearby loads, as in solvers.diagrams.alpha_u) starts by a
#: straight homotopy from it instead of from the anchor (saddles agree to the solver
#: tolerance); on failure the anchor paths are used.
DENSE_START_CACHE_SIZE = 32
#: ... if it is this close in max(|Δalpha|, |Δkappa|, |Δp|, 20 |Δ(1/y)|) (a fraction
#: of the distance between the anchor and the usual targets, small enough that no fold
#: lies in between for the loads of a bisection step).
DENSE_START_CACHE_RADIUS = 0.05

_DENSE_STARTS = []  # [(controls, x)], most recent last


#: Newton iterations (and backtracks) of one coarse-rule step on a dense start path: a
#: step inside the basin converges in 3-5 (measured on the anchor paths); one that does
#: not is halved, and failing early keeps a path that ends at a fold cheap.
DENSE_PATH_NEWTON = (8, 4)


def _dense_anchor(m):
    """The saddle of the fixed-y dense functional ``m`` at :data:`_DENSE_ANCHOR`
    (Newton from its stored guess), or None."""
    c_a, g_a = _DENSE_ANCHOR
    return _solve(m, c_a, np.array([g_a[v] for v in m.variables]))


def _solve_path(m, c, guess):
    """One coarse-rule Newton solve on a homotopy path (no perturbed retries: the dense
    saddle has no exactly singular point like the FP typical point); x or None."""
    it, bt = DENSE_PATH_NEWTON
    x, _, status, _ = _newton(_Counter(m, c, C.LOCAL_ENTROPY_MARCH_NODES),
                              np.asarray(guess, float), C.LOCAL_ENTROPY_MARCH_TOL, it,
                              max_backtracks=bt)
    return x if status == "converged" else None


def _homotopy(m, c_from, c_to, x, steps, min_step=None, trace=None):
    """Follow the saddle from controls ``c_from`` (solution x) to ``c_to`` along a
    straight line in (controls, 1/y); halve the step on failure. Returns x or None.

    ``trace`` (a list) receives where the path stopped: (s, controls at the last
    solved point, controls of the failed step)."""
    min_step = C.LOCAL_ENTROPY_MIN_STEP if min_step is None else min_step

    def at(s):
        c = {k: (1 - s) * c_from[k] + s * c_to[k] for k in c_from}
        if "y" in c_from:  # (the y* functional has no y control)
            c["y"] = 1.0 / ((1 - s) / c_from["y"] + s / c_to["y"])
        return c

    s_cur, ds, budget = 0.0, 1.0 / steps, C.LOCAL_ENTROPY_MAX_SOLVES
    while s_cur < 1.0 and budget > 0:
        s_try = min(1.0, s_cur + ds)
        # the coarse rule on the path (a failed full-rule solve costs ~3x more, and a
        # path that fails is at a fold: cheap failures matter); the end point is then
        # refined with the full rule
        xn = _solve_path(m, at(s_try), x)
        if xn is not None and s_try >= 1.0:
            xn = _solve(m, at(1.0), xn)
        budget -= 1
        if xn is None:
            ds /= 2
            if ds < min_step:
                if trace is not None:
                    trace.append((s_cur, at(s_cur), at(s_try)))
                return None
            continue
        s_cur, x = s_try, xn
        ds = min(2 * ds, 1.0 / steps)
    return x if s_cur >= 1.0 else None


def _path(m, waypoints, x, min_step, trace):
    """Homotopy through a list of controls (the first solved by x)."""
    for c_from, c_to in zip(waypoints, waypoints[1:]):
        if all(abs(c_from[k] - c_to[k]) < 1e-15 for k in c_from):
            continue
        x = _homotopy(m, c_from, c_to, x, C.DENSE_HOMOTOPY_STEPS, min_step=min_step, trace=trace)
        if x is None:
            return None
    return x


def _start_gap(c1, c2):
    return max(abs(c1["alpha"] - c2["alpha"]), abs(c1["kappa"] - c2["kappa"]),
               abs(c1["p"] - c2["p"]), 20 * abs(1 / c1["y"] - 1 / c2["y"]))


def _dense_start(m, base, p_first, x_a):
    """A solved point of the dense functional at ``base`` (alpha, kappa, y) and some p.

    Start overlaps, in order: ``p_first`` (the requested distance closest to 0.05),
    then ``DENSE_START_DISTANCES``. For each: (a) a straight homotopy from the nearest
    cached start at that overlap and y (``_DENSE_STARTS``, within
    ``DENSE_START_CACHE_RADIUS``); (b) from the anchor: for ``p_first`` the straight
    line in (alpha, kappa, 1/y, p) (the original path, unchanged where it worked);
    otherwise a staged path — move p while lowering alpha to min(alpha_anchor, alpha)
    (staying below capacity), then kappa and 1/y, then raise alpha last: at larger d
    the branch continues to higher alpha (see ``DENSE_START_DISTANCES``).

    Returns (p0, x0, attempts): x0 None if every path failed; ``attempts`` lists each
    path with where it stopped.
    """
    c_a = _DENSE_ANCHOR[0]
    attempts = []
    a_low = min(c_a["alpha"], base["alpha"])
    plan = [(float(p_first), "straight", [c_a, {**base, "p": float(p_first)}])]
    for ds in DENSE_START_DISTANCES:
        p0 = 1 - 2 * ds
        plan.append((p0, f"staged d={ds:.3g}", [
            c_a, {**c_a, "alpha": a_low, "p": p0}, {**base, "alpha": a_low, "p": p0},
            {**base, "p": p0}]))
    for k, (p0, name, way) in enumerate(plan):
        goal = {**base, "p": p0}
        # the nearest cached start at this start overlap (same y)
        near = [(c, x) for c, x in _DENSE_STARTS if c["p"] == p0 and c["y"] == goal["y"]
                and _start_gap(c, goal) <= DENSE_START_CACHE_RADIUS]
        if near:
            c, xc = min(near, key=lambda cx: _start_gap(cx[0], goal))
            tr = []
            x = _homotopy(m, c, goal, xc, C.DENSE_HOMOTOPY_STEPS,
                          min_step=DENSE_START_MIN_STEP, trace=tr)
            attempts.append({"path": f"cache ({name})", "p": p0, "stopped": tr[0] if tr else None})
            if x is not None:
                return p0, x, attempts
        tr = []
        last = k == len(plan) - 1
        x = _path(m, way, x_a, None if last else DENSE_START_MIN_STEP, tr)
        attempts.append({"path": name, "p": p0, "stopped": tr[0] if tr else None})
        if x is not None:
            _DENSE_STARTS.append((goal, x))
            del _DENSE_STARTS[:-DENSE_START_CACHE_SIZE]
            return p0, x, attempts
    return None, None, attempts


def _describe_stop(att):
    st = att["stopped"]
    if st is None:
        return f"{att['path']}: failed"
    s, c_ok, c_bad = st
    moved = [k for k in c_ok if abs(c_ok[k] - c_bad[k]) > 1e-12]
    return (f"{att['path']}: stopped at s={s:.4g} moving {'/'.join(moved)}, last solved "
            + ", ".join(f"{k}={v:.4g}" for k, v in c_ok.items()))


def _dense_curve(m, controls, y, d, p_req, result):
    n = len(d)
    base = {"alpha": controls["alpha"], "kappa": controls["kappa"], "y": y}
    c_a = _DENSE_ANCHOR[0]
    x_a = _dense_anchor(m)
    refsad = {"kind": "dense", "y": y, "anchor_controls": dict(c_a)}
    fail = [None] * n
    if x_a is None:
        return result(["start_failed"] * n, fail, fail, fail, refsad, 0.5,
                      "could not solve the dense functional at its anchor point")
    # start at the requested distance closest to d = 0.05, where the dense saddle is
    # regular (q1 < 1, Ŝ > 0) for every alpha below alpha_U; beyond, at larger d
    i0 = int(np.argmin(np.abs(d - 0.05)))
    p0, x0, attempts = _dense_start(m, base, float(p_req[i0]), x_a)
    refsad["start_distance"] = None if p0 is None else (1 - p0) / 2
    if x0 is None:
        return result(["start_failed"] * n, fail, fail, fail, refsad, 0.5,
                      "lost the dense saddle on every start path from the anchor "
                      f"{c_a} to {base} (the RS dense branch folds back before the "
                      "target: " + "; ".join(_describe_stop(a) for a in attempts) + ")")
    status, S, res, xs, ext, spin, msg = _march_both(m, base, p0, x0, p_req, _dense_point)
    if abs(p0 - p_req[i0]) > 1e-15:
        msg += f" (started at d = {(1 - p0) / 2:.3g}, {attempts[-1]['path']})"
    return result(status, S, res, xs, refsad, 0.5, msg, spinodal=spin, ext=ext)


# ------------------------------------------------------------------------ dense, y*
#: Start of a ``dense:y=*`` curve: a fixed-y saddle at y = 10, d = 0.03 (reached from
#: the anchor by :func:`_dense_start`), moved to Σ = 0 there (κ = 0, alpha = 0.76:
#: y* = 8.38), at the load min(alpha, DENSE_YSTAR_SAFE_FRACTION × alpha_c(κ)); then
#: along the y* branch in alpha to the requested load, and only then in d. Near
#: alpha_U the RS dense functional has a second sheet (at κ = 0, alpha = 0.78,
#: d = 0.05: y* = 22.4, S = 0.0251, against y* = 15.7, S = 0.0277 on the branch
#: continued from low load), which a start solved directly at high load can land on.
DENSE_YSTAR_START = {"y": 10.0, "d": 0.03}
#: ... (0.9 α_c: below every α_U we find, 0.91 α_c at y = 20).
DENSE_YSTAR_SAFE_FRACTION = 0.9
#: A y* this large at the end of a curve means the branch ended because y* diverges
#: (Σ > 0 for every y beyond), not at a fold: the message says so (κ = 0, alpha 0.76:
#: y* = 335 at d = 0.12, the last point before d_oo ≈ 0.125).
DENSE_YSTAR_LARGE = 100.0
#: Step in ln y of the scan that brackets Σ = 0 at fixed distance when Newton on the
#: y-free functional from the fixed-y start does not converge (halved on a failed
#: solve), and the largest number of scan steps (0.25 × 24: y from 20 down to ~0.05
#: or up to ~8000, i.e. past every y* of the curves we compute).
DENSE_YSTAR_LOGY_STEP = 0.25
DENSE_YSTAR_SCAN_STEPS = 24


def _sigma(m, x, c):
    return float(m.observables_at(x, c)["external_entropy"])


def _ystar_from(m_y, m_free, c, x, y):
    """The y-free saddle (Σ = 0) at controls ``c`` (alpha, kappa, p) from the fixed-y
    saddle ``x`` at ``y``: Newton on the y-free functional; if that fails, a scan in
    ln y with warm-started fixed-y solves brackets the sign change of Σ and Newton
    starts from its secant point. None if Σ keeps its sign over the scan."""
    def free(xv, yv):
        vals = dict(zip(m_y.variables, xv), y=yv)
        return np.array([vals[v] for v in m_free.variables])
    xf = _solve(m_free, c, free(x, y))
    if xf is not None:
        return xf
    sig, step = _sigma(m_y, x, {**c, "y": y}), DENSE_YSTAR_LOGY_STEP
    for _ in range(DENSE_YSTAR_SCAN_STEPS):
        y2 = y * math.exp(step if sig > 0 else -step)  # Σ decreases with y
        x2 = _solve(m_y, {**c, "y": y2}, x) if y2 >= 1 else None
        if x2 is None:
            step /= 2
            if step < C.LOCAL_ENTROPY_MIN_STEP:
                return None
            continue
        sig2 = _sigma(m_y, x2, {**c, "y": y2})
        if sig2 * sig <= 0:
            yc = y + (y2 - y) * sig / (sig - sig2)
            return _solve(m_free, c, free(x if abs(yc - y) < abs(yc - y2) else x2, yc))
        y, x, sig = y2, x2, sig2
    return None


def _dense_ystar_curve(model, m_free, controls, d, p_req, result):
    r"""The ``dense:y=*`` curve: at every distance y = y*(d) with Σ(y*) = 0.

    The external entropy :math:`\Sigma = \phi - yS_I` is the log-number of centres
    per N; where Σ < 0 at large y (small d, high load) the centres the y → ∞ measure
    describes do not exist in a typical sample, and the densest centres that do are
    those at y*, where Σ = 0 — the same argument that fixes the Parisi parameter m* of
    threshold states (Monasson, PRL 75, 2847 (1995)); for the local-entropy measure,
    Baldassi et al., JSTAT (2016) 023301, sec. 4. Since at the saddle
    :math:`\Sigma = -y^2\,\partial_y\Phi`, Σ = 0 is stationarity of Φ in y: y is
    one more saddle-point variable (:func:`replica.dense.replicated_local_entropy`
    with ``y_free=True``), and the curve is continued in d like the fixed-y one. The
    local entropy at the saddle is then Φ itself. Where Σ > 0 for every y the densest
    centres are typical for the y → ∞ measure (y* = ∞): the curve ends there
    (``branch_ended``), and ``dense:y=Y`` with a large Y continues it.
    """
    from .capacity import capacity
    n = len(d)
    rs, m_y = dense_model(model)
    base = {"alpha": controls["alpha"], "kappa": controls["kappa"]}
    fail = [None] * n
    a_c = capacity(rs, {"kappa": controls["kappa"]}).alpha_c
    a_s = min(base["alpha"], DENSE_YSTAR_SAFE_FRACTION * a_c)
    y_s, p_s = DENSE_YSTAR_START["y"], 1 - 2 * DENSE_YSTAR_START["d"]
    refsad = {"kind": "dense", "y": DENSE_YSTAR, "start_controls": {**base, "alpha": a_s, "p": p_s}}
    x_a = _dense_anchor(m_y)
    if x_a is None:
        return result(["start_failed"] * n, fail, fail, fail, refsad, 0.5,
                      "could not solve the dense functional at its anchor point")
    p0, x0, attempts = _dense_start(m_y, {**base, "alpha": a_s, "y": y_s}, p_s, x_a)
    xf = None if x0 is None else _ystar_from(m_y, m_free, {**base, "alpha": a_s, "p": p0}, x0, y_s)
    if x0 is None:
        why = "lost the dense saddle on every start path: " + "; ".join(
            _describe_stop(a) for a in attempts)
    elif xf is None:
        why = f"no y with Sigma = 0 at the start (alpha = {a_s:.4g}, d = {(1 - p0) / 2:.3g})"
    elif a_s < base["alpha"]:
        tr = []
        xf = _homotopy(m_free, {**base, "alpha": a_s, "p": p0}, {**base, "p": p0}, xf,
                       C.DENSE_HOMOTOPY_STEPS, trace=tr)
        why = (f"the y* branch at d = {(1 - p0) / 2:.3g} folds between alpha = {a_s:.4g} and "
               f"{base['alpha']:.4g}" + (f" (last solved alpha = {tr[0][1]['alpha']:.5g})" if tr else ""))
    if xf is None:
        return result(["start_failed"] * n, fail, fail, fail, refsad, 0.5, why)
    refsad["start_distance"] = (1 - p0) / 2
    status, S, res, xs, ext, spin, msg = _march_both(m_free, base, p0, xf, p_req, _dense_point)
    if spin is not None:
        iy = m_free.variables.index("y")
        ys = [x[iy] for x in xs if x is not None]
        if ys and max(ys) > DENSE_YSTAR_LARGE:
            msg += (f" (y* grows to {max(ys):.3g} toward the end: where Sigma > 0 at every y, "
                    "y* = oo and dense:y=Y with a large Y gives the curve)")
    return result(status, S, res, xs, refsad, 0.5, msg, spinodal=spin, ext=ext)


# ------------------------------------------------------------------------------ loss
def _loss_param(loss):
    from replica.components import LOSSES
    return LOSSES[loss][1]


def _loss_curve(rs, ref_rs, m, controls, loss, beta, p_req, result):
    """Franz–Parisi curve around references drawn from the Gibbs measure of a loss
    (perceptrons, and K → ∞ committees with the loss on their output).

    Start: with the reference's RS saddle (q̃, q̂̃) and the constrained problem's
    (q, q̂), the point q1 = q, t = p = p0 with Q(p0) = √(Q(q̃) Q(q)), q̂1 = q̂,
    t̂ = p̂ = √(q̂̃ q̂) (Q the output-overlap map: the identity for perceptrons, so
    p0 = √(q̃ q); the kernel overlap for committees). There the constrained output field
    is √Q(q) z' exactly (its residual variance Q(q) − Q(t)²/Q(q̃) − (Q(p) −
    Q(t))²/(1 − Q(q̃)) vanishes) and the entropic field is √q̂ z', so Φ_FP = s_RS(α)
    exactly — the generalisation of the typical point (exactly stationary when q̂̃ = q̂;
    otherwise the gradient there is O(|q̂̃ − q̂|²)-small, ~1e-4, and the first Newton
    solve lands on the nearby saddle). The reference is the RS Gibbs measure at inverse
    temperature ``beta_ref``; the minimisers themselves (``beta_ref = inf``, perceptrons)
    are :func:`_loss_curve_zero_t`.
    """
    n = len(p_req)
    fail = [None] * n
    a, pname = controls["alpha"], _loss_param(loss[0])
    ref = solve_saddle(ref_rs, {"alpha": a, pname: loss[1], "beta": beta})
    refsad = {"q_ref": ref.order_parameters.get("q"), "qhat_ref": ref.conjugates.get("qhat"),
              "entropy": ref.free_entropy, "loss": loss[0], pname: loss[1], "beta_ref": beta,
              "status": ref.status}
    own = solve_saddle(rs, controls)
    if not (ref.success and own.success):
        bad = ref if not ref.success else own
        return result(["reference_failed"] * n, fail, fail, fail, refsad, float("nan"),
                      f"an RS problem did not converge: {bad.message}")
    qt, qht = refsad["q_ref"], refsad["qhat_ref"]
    q, qh = own.order_parameters["q"], own.conjugates["qhat"]
    ch = rs.free_energy.meta["channel"]
    if hasattr(ch, "output_overlap"):  # K → ∞ committee: p0 through the kernel map
        from replica.committee import kernel_overlap

        def Qn(u):
            return float(kernel_overlap(ch.activation, u))  # SymPy at a number: exact
        p0 = _inverse_overlap(ch.activation, math.sqrt(Qn(qt) * Qn(q)))
    else:
        p0 = math.sqrt(qt * q)
    x0 = np.array([q, p0, qh, math.sqrt(qht * qh), math.sqrt(qht * qh)])
    base = {"alpha": a, f"ref_{pname}": loss[1], "ref_beta": beta, "q_ref": qt, "qhat_ref": qht,
            **({"kappa": controls["kappa"]} if "kappa" in controls else {})}
    status, S, res, xs, _, spin, msg = _march_both(m, base, p0, x0, p_req, _fp_point)
    return result(status, S, res, xs, refsad, (1 - p0) / 2, msg, spinodal=spin)


def _check_beta_ref(controls):
    """beta_ref from ``controls`` as a float: a number > 0, or +inf (the loss minimisers,
    :mod:`replica.minimisers`); ParameterError naming ``beta_ref`` otherwise."""
    if not isinstance(controls, dict) or "beta_ref" not in controls:
        raise ParameterError("beta_ref", "a loss reference needs beta_ref, the inverse temperature "
                                         "of its Gibbs measure (beta_ref=inf: the loss minimisers)")
    b = controls["beta_ref"]
    if isinstance(b, str) and b.strip().lower() in ("inf", "+inf", "infinity"):
        b = math.inf
    if isinstance(b, bool) or not isinstance(b, (int, float)) or math.isnan(b) or b <= 0 \
            or b == -math.inf:
        raise ParameterError("beta_ref", f"beta_ref must be a number > 0 or inf, got {b!r}")
    return float(b)


def _ground_state(ref_rs, a, pname, val):
    """The reference's zero-temperature RS saddle (x̃, r̂) (:func:`replica.minimisers.loss_ground_state`).

    On r̂ = √(2/π)/x̃ the x-equation reads g(x̃) = α E_z v*(z; x̃)² − 2/π = 2x̃² ∂φ0/∂x = 0,
    with α E v*² increasing in x̃ (v* grows with x̃); g is bracketed by doubling x̃ from
    ``LOSS_T0_X_BRACKET`` and solved by brentq, then polished by Newton on (x̃, r̂)
    (status and residual of the full saddle). No sign change up to ``LOSS_T0_X_MAX``:
    the ground states have zero loss and are not isolated (hinge below (2/π) α_c of the
    spherical perceptron at its margin): None with a message."""
    from scipy.optimize import brentq
    c = {"alpha": a, pname: val}
    rhat = lambda x: math.sqrt(2 / math.pi) / x  # noqa: E731

    def g(x):
        return 2 * x * x * float(ref_rs.gradient([x, rhat(x)], c)[0])

    lo, hi = C.LOSS_T0_X_BRACKET
    glo = g(lo)
    while glo > 0 and lo > 1e-12:
        lo, glo = lo / 8, g(lo / 8)
    ghi = g(hi)
    while ghi < 0 and hi < C.LOSS_T0_X_MAX:
        hi, ghi = hi * 8, g(hi * 8)
    if not (glo < 0 < ghi):
        return None, (f"no isolated loss minimiser: alpha E v*^2 < 2/pi up to x = {hi:.3g} "
                      f"(zero-loss ground states, e.g. the hinge below its RS q -> 1 load; "
                      f"use a margin=K reference or a finite beta_ref)")
    x = brentq(g, lo, hi, xtol=1e-14, rtol=1e-15)
    res = solve_saddle(ref_rs, c, x0=[x, rhat(x)], method="newton")
    return res, res.message


def _loss_curve_zero_t(rs, ref_rs, m, controls, loss, p_req, result):
    """Franz–Parisi curve around the minimisers of a loss (beta_ref = inf;
    :func:`replica.minimisers.franz_parisi_minimisers`).

    1. The reference's T = 0 saddle (x̃, r̂) (:func:`_ground_state`).
    2. The exact starting point: with the constrained problem's RS saddle (q, q̂),
       ρ = ε̂ = 0, q1 = q, q̂1 = q̂ makes Φ∞ = s_RS(α, κ) for every (τ, p) (the constrained
       field is N(0, q) whatever p; the entropic field is N(0, q̂)); the q1, q̂1
       equations hold there, and the ρ and ε̂ equations fix (τ, p*) — solved as a 2-D
       root (scipy hybr) of the compiled gradient. p* is the overlap of typical solutions
       with the minimiser, and the top of the curve (dΦ∞/dp = −ε̂ = 0 there).
    3. Continuation in p from p* in both directions (:func:`_march_both`).
    """
    from scipy.optimize import root
    n = len(p_req)
    fail = [None] * n
    a, pname = controls["alpha"], _loss_param(loss[0])
    ref, msg = _ground_state(ref_rs, a, pname, loss[1])
    refsad = {"x_ref": None, "rhat_ref": None, "energy": None, "loss": loss[0], pname: loss[1],
              "beta_ref": "inf", "status": "no_isolated_minimiser" if ref is None else ref.status}
    if ref is not None:
        xr, rr = ref.order_parameters["x"], ref.conjugates["rhat"]
        refsad.update(x_ref=xr, rhat_ref=rr, free_entropy_over_beta=ref.free_entropy,
                      energy=float(ref_rs.observables_at([xr, rr], {"alpha": a, pname: loss[1]})["energy"]))
    own = solve_saddle(rs, controls)
    if ref is None or not (ref.success and own.success):
        bad = msg if ref is None or not ref.success else own.message
        return result(["reference_failed"] * n, fail, fail, fail, refsad, float("nan"),
                      f"an RS problem did not converge: {bad}")
    q, qh = own.order_parameters["q"], own.conjugates["qhat"]
    base = {"alpha": a, "kappa": controls["kappa"], f"ref_{pname}": loss[1], "x_ref": xr, "rhat_ref": rr}
    iv = {v: i for i, v in enumerate(m.variables)}

    def eqs(u):
        tau, p = u
        x = np.zeros(len(m.variables))
        x[iv["q1"]], x[iv["q1hat"]], x[iv["tau"]] = q, qh, tau
        gr = m.gradient(x, {**base, "p": p})
        return [gr[iv["rho"]], gr[iv["ehat"]]]

    sol = root(eqs, [0.5 * math.sqrt(qh), 0.5 * math.sqrt(q)], method="hybr", options={"xtol": 1e-13})
    tau0, p0 = (float(v) for v in sol.x)
    if not (sol.success and abs(tau0) < math.sqrt(qh) and 0 < p0 < math.sqrt(q)):
        return result(["reference_failed"] * n, fail, fail, fail, refsad, float("nan"),
                      f"no typical point (tau, p*) around the minimiser: {sol.message}")
    x0 = np.zeros(len(m.variables))
    x0[iv["q1"]], x0[iv["q1hat"]], x0[iv["tau"]] = q, qh, tau0
    refsad["typical_overlap"] = p0
    status, S, res, xs, _, spin, msg = _march_both(m, base, p0, x0, p_req, _fp_point)
    return result(status, S, res, xs, refsad, (1 - p0) / 2, msg, spinodal=spin)


# ---------------------------------------------------------- committees: dense and loss
#: Start of a committee dense curve (K = inf; no perceptron anchor applies): Newton at
#: the small load ``alpha`` and y0 = min(y, ``y``) from the alpha = 0 saddle (Ŝ = atanh p,
#: q1 = p²; the between-block overlap q0 = 0 there, moved to ``q0_fraction`` × p² so
#: that √Q(q0) is differentiable; q̂1 = δq̂ = ``qhat``, O(alpha)), then a homotopy in
#: alpha at (y0, p) to the requested load, then in 1/y to the requested y. Measured:
#: the Newton solve converges in ~1.5 s (y = 20, d = 0.05, sign and ReLU), the homotopy
#: to alpha = 0.5 in ~5 s; straight in alpha at y = 100 the sign start failed (684 s)
#: and the ReLU one took ~400 s, hence the y0 leg.
COMMITTEE_DENSE_START = {"alpha": 0.01, "y": 20.0, "q0_fraction": 0.1, "qhat": 0.01}


def _committee_reference_curve(model, options, controls, reference, distances, t0):
    """``dense:y=Y`` and ``loss=NAME:PARAM`` (finite ``beta_ref``) references of a K → ∞
    tree committee (margin-0 families; :func:`local_entropy`).

    Dense: the replicated local entropy with the energetic term on the replicas' output
    overlaps (:mod:`replica.dense`), started by :func:`_committee_dense_start` and
    continued in p like the perceptron's. Loss: the reference is the committee with the
    Gibbs measure of the loss on its normalised output
    (:class:`replica.committee.WideCommitteeLossChannel`), the curve the Franz–Parisi
    functional on the mapped overlaps (:func:`_loss_curve`); ``dense:y=*``:
    :func:`_committee_ystar_curve`. Finite K raises ParameterError naming ``K``;
    ``beta_ref = inf`` raises ParameterError naming ``beta_ref`` (not derived).
    """
    y_dense, loss = parse_dense(reference), parse_loss(reference)
    rs_fe = _rs_model(model, options)
    _wide_committee(rs_fe, "the dense reference" if y_dense is not None else "the loss reference")
    controls = dict(controls) if isinstance(controls, dict) else controls
    extra, beta, ref_rs = {}, None, None
    if loss is not None:
        beta = _check_beta_ref(controls)
        if math.isinf(beta):
            fp_loss_model(model, loss[0], zero_temperature=True, options=options)  # raises
        extra = {"beta_ref": beta, f"{loss[0]}_{_loss_param(loss[0])}": loss[1]}
        controls.pop("beta_ref")
        rs, ref_rs, m = fp_loss_model(model, loss[0], options=options)
    else:
        rs, m = dense_model(model, y_free=y_dense == DENSE_YSTAR, options=options)
    controls = validate_controls(rs, controls)
    d = _check_distances(distances)
    prior = rs.free_energy.meta["prior"]
    p_req = 1 - 2 * d
    curve_controls = {**controls, "y": y_dense} if y_dense is not None else {**controls, **extra}

    def result(status_list, S, res, xs, refsad, d_typ, message, spinodal=None, ext=None):
        return _make_curve(rs.free_energy.name, reference, curve_controls, d, prior, m.variables,
                           status_list, S, res, xs, refsad, d_typ if y_dense is None else None,
                           message, t0, spinodal=spinodal, ext=ext)

    if y_dense == DENSE_YSTAR:
        return _committee_ystar_curve(model, options, m, controls, d, p_req, result)
    if y_dense is not None:
        return _committee_dense_curve(m, controls, y_dense, d, p_req, result)
    return _loss_curve(rs, ref_rs, m, controls, loss, beta, p_req, result)


def _committee_dense_start(m, base, p0):
    """A saddle of the committee dense functional ``m`` at ``base`` (alpha, y) and
    overlap p0 (:data:`COMMITTEE_DENSE_START`), or None."""
    st = COMMITTEE_DENSE_START
    y, a = base["y"], base["alpha"]
    a0, y0 = min(st["alpha"], a), min(st["y"], y)
    guess = {"q1": p0 * p0, "dq": y0 * p0 * p0 * (1 - st["q0_fraction"]), "shat": math.atanh(p0),
             "q1hat": st["qhat"], "dqhat": st["qhat"]}
    c0 = {"alpha": a0, "y": y0, "p": p0}
    x = _solve(m, c0, np.array([guess[v] for v in m.variables]))
    # alpha first (at y0), then 1/y
    for c_from, c_to in ((c0, {**c0, "alpha": a}), ({**c0, "alpha": a}, {"alpha": a, "y": y, "p": p0})):
        if x is None or c_from == c_to:
            continue
        x = _homotopy(m, c_from, c_to, x, C.DENSE_HOMOTOPY_STEPS)
    return x


def _committee_dense_curve(m, controls, y, d, p_req, result):
    """Committee dense curve: start at the requested distance closest to d = 0.05 (then
    at ``DENSE_START_DISTANCES``), continue in p both ways (:func:`_march_both`)."""
    n = len(d)
    base = {"alpha": controls["alpha"], "y": y}
    refsad = {"kind": "dense", "y": y, "start": dict(COMMITTEE_DENSE_START)}
    i0 = int(np.argmin(np.abs(d - 0.05)))
    p0 = x0 = None
    for pp in [float(p_req[i0])] + [1 - 2 * ds for ds in DENSE_START_DISTANCES]:
        x0 = _committee_dense_start(m, base, pp)
        if x0 is not None:
            p0 = pp
            break
    if x0 is None:
        fail = [None] * n
        return result(["start_failed"] * n, fail, fail, fail, refsad, 0.5,
                      f"no dense saddle reached from alpha = {COMMITTEE_DENSE_START['alpha']} "
                      f"to alpha = {base['alpha']:.4g} at any start distance")
    refsad["start_distance"] = (1 - p0) / 2
    status, S, res, xs, ext, spin, msg = _march_both(m, base, p0, x0, p_req, _dense_point)
    return result(status, S, res, xs, refsad, 0.5, msg, spinodal=spin, ext=ext)


def _committee_ystar_curve(model, options, m_free, controls, d, p_req, result):
    """The ``dense:y=*`` curve of a K → ∞ committee (Σ(y*) = 0 at every distance; the
    argument of :func:`_dense_ystar_curve`): a fixed-y saddle at ``DENSE_YSTAR_START``
    (y, d) and the load min(alpha, DENSE_YSTAR_SAFE_FRACTION × alpha_c) by
    :func:`_committee_dense_start`, moved to Σ = 0 there (:func:`_ystar_from`), along the
    y* branch in alpha to the requested load, then in d."""
    from .capacity import capacity
    n = len(d)
    rs, m_y = dense_model(model, options=options)
    fail = [None] * n
    a = controls["alpha"]
    a_c = capacity(rs, {}).alpha_c
    a_s = min(a, DENSE_YSTAR_SAFE_FRACTION * a_c)
    y_s, p_s = DENSE_YSTAR_START["y"], 1 - 2 * DENSE_YSTAR_START["d"]
    refsad = {"kind": "dense", "y": DENSE_YSTAR, "start_controls": {"alpha": a_s, "p": p_s}}
    x0 = _committee_dense_start(m_y, {"alpha": a_s, "y": y_s}, p_s)
    xf = None if x0 is None else _ystar_from(m_y, m_free, {"alpha": a_s, "p": p_s}, x0, y_s)
    if xf is not None and a_s < a:
        xf = _homotopy(m_free, {"alpha": a_s, "p": p_s}, {"alpha": a, "p": p_s}, xf,
                       C.DENSE_HOMOTOPY_STEPS)
    if xf is None:
        return result(["start_failed"] * n, fail, fail, fail, refsad, 0.5,
                      f"no y* saddle (Sigma = 0) reached at d = {DENSE_YSTAR_START['d']} from "
                      f"alpha = {a_s:.4g} to {a:.4g}")
    refsad["start_distance"] = DENSE_YSTAR_START["d"]
    status, S, res, xs, ext, spin, msg = _march_both(m_free, {"alpha": a}, p_s, xf, p_req,
                                                     _dense_point)
    return result(status, S, res, xs, refsad, 0.5, msg, spinodal=spin, ext=ext)


def _inverse_overlap(activation, v):
    """q with Q(q) = v on [0, 1] (Q increasing; brentq on the compiled kernel)."""
    import sympy as sp
    from scipy.optimize import brentq

    from replica.committee import kernel_overlap
    from .codegen import compile_expression
    q = sp.Symbol("q", real=True)
    f = compile_expression(kernel_overlap(activation, q), [q])
    if v <= 0 or v >= 1:
        return min(max(v, 0.0), 1.0)
    return brentq(lambda u: float(f(u)) - v, 0.0, 1.0, xtol=1e-15, rtol=1e-15)


