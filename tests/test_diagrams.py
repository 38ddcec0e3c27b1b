"""Local-entropy phase diagrams (solvers.diagrams, the local-entropy scan quantities,
figures/wide_flat_minima.py, figures/margin_coalescence.py): the set of regions and
the line positions within tolerances, not pixels (issue 6)."""

import numpy as np
import pytest

xr = pytest.importorskip("xarray")

from solvers import capacity, local_entropy  # noqa: E402
from solvers.diagrams import (DENSE_DISTANCES, alpha_u, curve_shape, kappa_max,  # noqa: E402
                              margin_reference)
from solvers.errors import ParameterError  # noqa: E402
from solvers.scan import scan  # noqa: E402

BP = "binary-perceptron"


def test_kappa_max_inverts_the_capacity():
    """kappa_max(0.6) solves alpha_c(kappa) = 0.6 (entropy-zero capacity, Krauth &
    Mezard 1989), lies in (0, 0.5) (alpha_c(0) = 0.833 > 0.6 > alpha_c(0.5) = 0.456)."""
    r = kappa_max(BP, 0.6)
    assert r.status == "converged" and r.success
    assert 0.0 < r.kappa_max < 0.5
    assert abs(capacity(BP, {"kappa": r.kappa_max}).alpha_c - 0.6) < 1e-6
    # decreasing: a larger load leaves a smaller largest margin
    assert kappa_max(BP, 0.7).kappa_max < r.kappa_max
    # above alpha_c(-1) there is no root in the default bracket: a status, not a number
    bad = kappa_max(BP, 5.0)
    assert bad.status == "no_bracket" and bad.kappa_max is None and not bad.success
    with pytest.raises(ParameterError, match="alpha"):
        kappa_max(BP, -0.1)


def test_curve_shape_reproduces_the_monotonic_flag():
    c = local_entropy(BP, {"alpha": 0.76, "kappa": 0.0}, reference="dense:y=20",
                      distances=np.geomspace(0.01, 0.06, 6))
    sh = curve_shape(c)
    assert sh.status == "converged"
    assert sh.monotonic is c.monotonic is False  # the dip at alpha = 0.76 (y = 20)
    assert sh.min_slope < 0 and 0.01 < sh.argmin_distance < 0.06
    assert sh.gap_small == pytest.approx(c.alpha0_bound[0] - c.local_entropy[0])


def test_scan_quantities_on_a_tiny_grid():
    """Both local-entropy quantities: statuses at every point ('above_capacity' beyond
    alpha_c(kappa), never a bare NaN status), values NaN exactly where not converged."""
    grid = {"alpha": [0.5, 0.9], "kappa": [0.0]}
    ds = scan(BP, grid, "local_entropy", progress=False,
              options={"reference": "dense:y=20", "distance": 0.03})
    st = [str(s) for s in ds.status.values.ravel()]
    assert st == ["converged", "above_capacity"]
    s, b = ds.local_entropy.values.ravel(), ds.alpha0_bound.values.ravel()
    assert 0 < s[0] < b[0] and np.isnan(s[1])
    assert ds.gap.values.ravel()[0] == pytest.approx(b[0] - s[0])
    sh = scan(BP, grid, "local_entropy_shape", progress=False,
              options={"reference": "dense:y=20", "distances": [0.01, 0.02, 0.03]})
    assert [str(s) for s in sh.status.values.ravel()] == ["converged", "above_capacity"]
    assert sh.monotonic.values.ravel().tolist() == [1, -1]
    assert sh.alpha_c.values.ravel()[0] == pytest.approx(0.8331, abs=1e-3)
    assert 0 < float(sh.relative_gap_small.values.ravel()[0]) < 1
    with pytest.raises(ParameterError, match="reference"):
        scan(BP, grid, "local_entropy", progress=False, options={"distance": 0.03})
    with pytest.raises(ParameterError, match="distances"):
        scan(BP, grid, "local_entropy_shape", progress=False,
             options={"reference": "typical", "distances": [0.7]})
