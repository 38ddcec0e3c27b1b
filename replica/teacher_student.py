r"""Teacher–student (Bayes-optimal) RS free entropy on the Nishimori line.

A student perceptron learns, from :math:`P = \alpha N` examples, the rule of a teacher
perceptron of the same kind (noiseless sign output). The student is drawn from the
posterior, i.e. uniformly from the *version space* (Gibbs learning at zero temperature,
which is Bayes-optimal here). In this setting the student–student overlap q equals the
teacher–student overlap m at the saddle point (Nishimori identity; Nishimori, Prog.
Theor. Phys. 66, 1169 (1981); Iba, J. Phys. A 32, 3875 (1999)), and we **impose**
q = m, q̂ = m̂ in the ansatz. With :math:`Z_{\mathrm{in}}(B) = \sum_{w=\pm1} e^{Bw}` (binary
prior, counting measure, so the free entropy is the version-space entropy per weight)
and a sign channel :math:`Z_{\mathrm{out}}(\omega, V) = H(-\omega/\sqrt V)` (label +1;
the label −1 follows by the symmetry ω → −ω):

.. math::
    \Phi(m,\hat m) = -\frac{m\hat m}{2} - \frac{\hat m}{2}
        + \mathbb{E}_z \ln 2\cosh\!\big(\sqrt{\hat m}\,z + \hat m\big)
        + 2\alpha\,\mathbb{E}_\xi\, H(-a\xi)\ln H(-a\xi),
    \qquad a = \sqrt{\frac{m}{1-m}}

(Györgyi, PRA 41, 7097 (1990); Sompolinsky, Tishby & Seung, PRL 65, 1683 (1990);
in the general Bayes-optimal GLM form of Barbier, Krzakala, Macris, Miolane &
Zdeborová, PNAS 116, 5451 (2019), arXiv:1708.03395, eqs. (5)–(7), with their
f = Φ − ln 2). The teacher's weight is set to +1 by the gauge symmetry of the ±1 prior.

* At α = 0: Φ = ln 2 (all weights are consistent).
* Perfect generalisation, m = 1: the version space is the teacher alone, Φ = 0. This
  is a boundary of the domain (m̂ → ∞), not an interior saddle; the first-order
  transition is where the poor-generalisation branch's Φ crosses 0 (Gardner & Derrida,
  J. Phys. A 22, 1983 (1989); Györgyi 1990: α ≈ 1.245).
* Stability: RS is exact on the Nishimori line (no AT instability), and the physical
  free entropy is :math:`\sup_m \inf_{\hat m}\Phi` (Barbier et al. 2019, eq. (7)).
  A branch is (meta)stable where it is a local maximum of
  :math:`\phi(m) = \Phi(m, \hat m^*(m))`, i.e. where the observable ``curvature``
  :math:`\phi''(m) = \Phi_{mm} - \Phi_{m\hat m}^2/\Phi_{\hat m\hat m}` is negative;
  it vanishes at the spinodal (fold) of the poor-generalisation branch (α ≈ 1.493).
* Generalisation error of the Gibbs student: :math:`\varepsilon_g = \arccos(m)/\pi`
  (Engel & Van den Broeck, *Statistical Mechanics of Learning* (2001), eq. (2.3)).
"""

from __future__ import annotations

import sympy as sp

from .averages import GaussianAverage, canonical_radicals, integrate_by_parts
from .components import BinaryPrior, Channel, Prior
from .free_energy import FreeEnergy, Observable, Term
from .functions import H, LogH
from .symbols import Conjugate, Control, GaussVar, OrderParameter

__all__ = ["SignChannel", "teacher_student_rs"]

_NISHIMORI = ("Nishimori line q = m imposed (Bayes-optimal); Barbier et al., PNAS 116, 5451 "
              "(2019), eqs. (5)-(7)")


class SignChannel(Channel):
    r"""Noiseless sign output :math:`y = \mathrm{sign}(w\cdot\xi/\sqrt N)` (no margin).

    :math:`Z_{\mathrm{out}}(\omega, V) = H(-\omega/\sqrt V)` for the label +1
    (Gardner & Derrida, J. Phys. A 22, 1983 (1989)).
    """

    name = "sign"
    source = "Gardner & Derrida, J. Phys. A 22, 1983 (1989); Gyorgyi, PRA 41, 7097 (1990)"

    def log_partition(self, omega, V):
        return LogH(-omega / sp.sqrt(V))


class _NoSteinEnergetic(FreeEnergy):
    r"""A FreeEnergy whose ``energetic`` term is differentiated *without* Stein's lemma.

    The energetic integrand is a function of :math:`a\xi` with an m-dependent
    :math:`a`; the chain rule gives :math:`\xi\,a'(m) f'(a\xi)`, and Stein's lemma
    :math:`\mathbb{E}[\xi g] = \mathbb{E}[g']` never terminates on it (G'(x) = −xG(x)
    brings ξ back): after the 8 rounds of :func:`~replica.averages.integrate_by_parts`
    the gradient is a sum of terms in :math:`(m/(1-m))^k`, k ≤ 8, that cancel
    catastrophically (the Hessian lost all digits near m = 0.78). The plain derivative
    :math:`a'\xi\,G(a\xi)[\ln H(-a\xi)+1]` is smooth and needs no cleaning. Other
    terms are Stein-cleaned as usual (it removes the :math:`1/\sqrt{\hat m}` of the
    entropic term).
    """

    _plain = ("energetic",)

    def _d(self, exprs, v):
        out = []
        for name, e in exprs:
            d = sp.diff(e, v)
            out.append((name, canonical_radicals(d) if name in self._plain else integrate_by_parts(d)))
        return out

    def _term_gradient(self):
        if "tgrad" not in self._cache:
            terms = [(t.name, t.expr) for t in self.terms]
            self._cache["tgrad"] = [self._d(terms, v) for v in self.variables]
        return self._cache["tgrad"]

    def gradient(self) -> list:
        if "grad" not in self._cache:
            self._cache["grad"] = [sp.Add(*[e for _, e in g]) for g in self._term_gradient()]
        return self._cache["grad"]

    def hessian(self) -> list:
        if "hess" not in self._cache:
            tg = self._term_gradient()
            n = len(self.variables)
            h = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(i, n):
                    h[i][j] = h[j][i] = sp.Add(*[e for _, e in self._d(tg[i], self.variables[j])])
            self._cache["hess"] = h
        return self._cache["hess"]


def teacher_student_rs(prior: Prior, channel: Channel, name: str, description: str = "") -> FreeEnergy:
    r"""Bayes-optimal RS free entropy of a student learning a teacher of the same
    architecture, on the Nishimori line (see module docstring).

    Only the ±1 prior with the sign channel is implemented (the teacher's weight is
    gauged to +1, which needs a prior symmetric under w → −w; the channel's energetic
    term uses the label symmetry ω → −ω).

    Parameters
    ----------
    prior : BinaryPrior
    channel : SignChannel
    name, description : str

    Returns
    -------
    FreeEnergy
        Order parameter ``m`` (teacher–student overlap, = student–student overlap),
        conjugate ``mhat``, control ``alpha``; observables ``generalisation_error``
        and ``curvature`` (stable where negative).

    Examples
    --------
    >>> fe = teacher_student_rs(BinaryPrior(), SignChannel(), "ts")
    >>> [s.name for s in fe.variables], [s.name for s in fe.controls]
    (['m', 'mhat'], ['alpha'])
    """
    if not isinstance(prior, BinaryPrior) or not isinstance(channel, SignChannel):
        raise NotImplementedError("teacher_student_rs is derived for BinaryPrior with SignChannel only")
    m = OrderParameter("m", domain=(0, 1), latex="m", initial=0.5,
                       description="teacher-student overlap (= student-student overlap q, "
                                   "Nishimori line)")
    mh = Conjugate("mhat", domain=(0, None), latex=r"\hat m", partner="m", initial=1.0,
                   description="conjugate of m")
    alpha = Control("alpha", domain=(0, None), latex=r"\alpha",
                    description="number of examples per weight, P/N")
    z, xi = GaussVar("z"), GaussVar("xi")
    B, om, V = sp.symbols("B omega V", real=True)
    lzin = prior.log_partition(B, mh)
    lzout = channel.log_partition(om, V).subs({om: sp.sqrt(m) * xi, V: 1 - m})
    # Σ_y ∫Dξ Z_out^y ln Z_out^y = 2 E_ξ Z_out ln Z_out for a symmetric channel; Z_out = H(-aξ)
    zout = H(-sp.sqrt(m / (1 - m)) * xi)
    terms = [
        Term("coupling", -m * mh / 2, _NISHIMORI),
        Term("entropic", prior.constant(mh) + GaussianAverage(
            lzin.subs(B, sp.sqrt(mh) * z + mh), z),
            "Gyorgyi, PRA 41, 7097 (1990); Barbier et al. (2019) eq. (6), teacher weight +1"),
        Term("energetic", 2 * alpha * GaussianAverage(zout * lzout, xi),
             "Gyorgyi (1990); Barbier et al. (2019) eq. (6), sign channel"),
    ]
    # φ''(m) with mhat eliminated: Φ_mm − Φ_m,mhat² / Φ_mhat,mhat (Schur complement)
    ent = terms[1].expr
    ene = terms[2].expr
    d_mm = canonical_radicals(sp.diff(ene, m, 2))  # no Stein: see _NoSteinEnergetic
    d_hh = integrate_by_parts(sp.diff(ent, mh, 2))
    d_mh = sp.diff(terms[0].expr, m, mh)
    curvature = d_mm - d_mh**2 / d_hh
    observables = [
        Observable("generalisation_error", sp.acos(m) / sp.pi,
                   "Engel & Van den Broeck, Statistical Mechanics of Learning (2001), eq. (2.3)",
                   "probability that student and teacher disagree on a new example"),
        Observable("curvature", curvature,
                   "Barbier et al., PNAS 116, 5451 (2019), eq. (7): sup over m of inf over mhat",
                   "second derivative in m of the free entropy with mhat eliminated; "
                   "the branch is (meta)stable where it is negative",
                   stable_if="negative"),
    ]
    return _NoSteinEnergetic(
        name=name, terms=terms, order_parameters=(m,), conjugates=(mh,), controls=(alpha,),
        observables=observables, description=description,
        meta={"ansatz": "teacher-student-rs", "prior": prior, "channel": channel,
              "load": "alpha", "overlap": "m", "conjugate": "mhat", "nishimori": True,
              "boundary_free_entropy": {"m": 1, "free_entropy": 0,
                                        "meaning": "perfect generalisation (teacher alone)"}},
    )
