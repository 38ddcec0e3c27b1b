"""Tier 5: figure scripts run (smoke, reduced resolution) and save data + image."""

import json


def test_capacity_figure_quick(tmp_path):
    from figures import capacity
    out = capacity.main(quick=True, outdir=tmp_path)
    assert out["ok"]
    assert out["png"].stat().st_size > 10_000
    data = json.loads(out["data"].read_text())
    sph, binr = data["spherical"], data["binary"]
    # the curve passes through Gardner's α_c(0) = 2 and the KM 0.833
    i0 = sph["kappa"].index(0.0)
    assert abs(sph["alpha_c"][i0] - 2.0) < 1e-10
    j0 = binr["kappa"].index(0.0)
    assert abs(binr["alpha_c"][j0] - 0.83308) < 1e-5
    # RS instability exactly on the negative-margin side of the spherical curve
    assert all(s is False for k, s in zip(sph["kappa"], sph["rs_stable"]) if k < 0)
    assert all(s is True for k, s in zip(sph["kappa"], sph["rs_stable"]) if k > 0)


def test_local_entropy_figure_quick(tmp_path):
    from figures import local_entropy
    out = local_entropy.main(quick=True, outdir=tmp_path)
    assert out["ok"]
    data = json.loads(out["data"].read_text())
    typ, high = data["curves"]["typical"], data["curves"]["margin=0.5"]
    # isolation around typical references, near-bound local entropy around high-margin ones
    assert typ["local_entropy"][0] < 0 < high["local_entropy"][0]
    assert abs(high["local_entropy"][0] - high["alpha0_bound"][0]) < 1e-3
