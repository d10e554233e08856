"""Property tests: invariances and scaling laws every sway measure must obey."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.analysis.metrics import compute_all
from station.analysis.metrics.catalog import flatten

FS = 80.0
N = 800  # 10 s: keeps each example fast

LENGTH_KEYS = ("mean_distance_mm", "rms_mm", "range_mm", "path_length_mm", "mean_velocity_mm_s")
AREA_KEYS = ("sway_area_mm2_s", "ellipse95_area_mm2", "prediction_ellipse95_area_mm2")
FREQ_KEYS = (
    "mean_frequency_hz",
    "f50_hz",
    "f95_hz",
    "centroid_frequency_hz",
    "frequency_dispersion",
)
ROTATION_INVARIANT = (
    "mean_distance_mm.resultant",
    "rms_mm.resultant",
    "path_length_mm.total",
    "mean_velocity_mm_s.total",
    "sway_area_mm2_s",
    "ellipse95_area_mm2",
    "mean_frequency_hz.resultant",
    "ellipse95.semi_major_mm",
    "ellipse95.semi_minor_mm",
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
filters = st.sampled_from(["none", "butter10"])


def sway(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """A random-walk-like COP trace (mm) with some noise: broadband, not a toy."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(size=(2, n)), axis=1) * 0.3
    return walk[0] + rng.normal(scale=0.2, size=n), walk[1] * 1.7


def values(out: dict, keys: tuple[str, ...]) -> dict[str, float]:
    flat = flatten(out)
    return {k: v for k, v in flat.items() if k.split(".")[0] in keys}


@settings(max_examples=20, deadline=None)
@given(
    seed=seeds,
    dx=st.floats(-500, 500),
    dy=st.floats(-500, 500),
    filter_name=filters,
)
def test_translation_invariance(seed, dx, dy, filter_name):
    x, y = sway(seed)
    t = np.arange(N) / FS
    a = flatten(compute_all(t, x, y, filter=filter_name))
    b = flatten(compute_all(t, x + dx, y + dy, filter=filter_name))
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, float):
            assert b[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
        else:
            assert b[key] == value, key


@settings(max_examples=20, deadline=None)
@given(seed=seeds, k=st.floats(0.05, 20.0), filter_name=filters)
def test_amplitude_scaling(seed, k, filter_name):
    x, y = sway(seed)
    t = np.arange(N) / FS
    a = compute_all(t, x, y, filter=filter_name)
    b = compute_all(t, k * x, k * y, filter=filter_name)
    for key, value in values(a, LENGTH_KEYS).items():
        assert values(b, LENGTH_KEYS)[key] == pytest.approx(k * value, rel=1e-7), key
    for key, value in values(a, AREA_KEYS).items():
        assert values(b, AREA_KEYS)[key] == pytest.approx(k * k * value, rel=1e-7), key
    for key, value in values(a, FREQ_KEYS).items():
        assert values(b, FREQ_KEYS)[key] == pytest.approx(value, rel=1e-6), key


@settings(max_examples=20, deadline=None)
@given(seed=seeds, k=st.floats(0.5, 4.0))
def test_time_scaling(seed, k):
    """The same samples played k times slower: distances and paths unchanged, velocities and
    time-domain frequencies divided by k (no filter: a fixed 10 Hz cutoff is not scale-free,
    and nor is the fixed 0.15-5 Hz band of the spectral measures)."""
    x, y = sway(seed)
    t = np.arange(N) / FS
    a = compute_all(t, x, y, filter="none")
    b = compute_all(t * k, x, y, filter="none")
    assert b["rate_hz"] == pytest.approx(FS / k)
    assert b["duration_s"] == pytest.approx(k * a["duration_s"])
    for key in ("mean_distance_mm", "rms_mm", "range_mm", "path_length_mm"):
        for axis, value in a[key].items():
            assert b[key][axis] == pytest.approx(value, rel=1e-9)
    assert b["ellipse95_area_mm2"] == pytest.approx(a["ellipse95_area_mm2"], rel=1e-9)
    for axis, value in a["mean_velocity_mm_s"].items():
        assert b["mean_velocity_mm_s"][axis] == pytest.approx(value / k, rel=1e-9)
    for axis, value in a["mean_frequency_hz"].items():
        assert b["mean_frequency_hz"][axis] == pytest.approx(value / k, rel=1e-9)
    assert b["sway_area_mm2_s"] == pytest.approx(a["sway_area_mm2_s"] / k, rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, angle=st.floats(0, 2 * np.pi), filter_name=filters)
def test_rotation_invariance_of_planar_measures(seed, angle, filter_name):
    x, y = sway(seed)
    t = np.arange(N) / FS
    c, s = np.cos(angle), np.sin(angle)
    a = flatten(compute_all(t, x, y, filter=filter_name))
    b = flatten(compute_all(t, c * x - s * y, s * x + c * y, filter=filter_name))
    for key in ROTATION_INVARIANT:
        assert b[key] == pytest.approx(a[key], rel=1e-7), key
    turned = (a["ellipse95.angle_deg"] + np.degrees(angle) + 90.0) % 180.0 - 90.0
    diff = (b["ellipse95.angle_deg"] - turned + 90.0) % 180.0 - 90.0
    assert abs(diff) < 1e-5


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_orderings_hold(seed):
    """Inequalities that follow from the definitions."""
    x, y = sway(seed)
    t = np.arange(N) / FS
    out = compute_all(t, x, y)
    assert out["mean_distance_mm"]["resultant"] <= out["rms_mm"]["resultant"]
    for axis in ("ml", "ap"):
        assert out["mean_distance_mm"][axis] <= out["rms_mm"][axis] <= out["range_mm"][axis]
        assert out["f50_hz"][axis] <= out["f95_hz"][axis]
        assert 0.0 <= out["frequency_dispersion"][axis] <= 1.0
    path = out["path_length_mm"]
    assert max(path["ml"], path["ap"]) <= path["total"] <= path["ml"] + path["ap"]
    assert out["prediction_ellipse95_area_mm2"] > out["ellipse95_area_mm2"]
