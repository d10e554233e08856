"""compute_all on signals whose answers are known analytically, plus its input checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from station.analysis.metrics import compute_all, compute_from_samples
from station.samples import Sample

REQUIRED = {
    "n_samples": None,
    "rate_hz": None,
    "duration_s": None,
    "filter": None,
    "mean_distance_mm": {"ml", "ap", "resultant"},
    "rms_mm": {"ml", "ap", "resultant"},
    "range_mm": {"ml", "ap"},
    "path_length_mm": {"ml", "ap", "total"},
    "mean_velocity_mm_s": {"ml", "ap", "total"},
    "sway_area_mm2_s": None,
    "ellipse95_area_mm2": None,
    "mean_frequency_hz": {"ml", "ap", "resultant"},
    "f50_hz": {"ml", "ap"},
    "f95_hz": {"ml", "ap"},
    "centroid_frequency_hz": {"ml", "ap"},
    "frequency_dispersion": {"ml", "ap"},
}

FS = 80.0
N = 2400  # 30 s at 80 Hz: whole cycles of every test frequency below


def f_quantile_2_m(p: float, m: int) -> float:
    """F(p; 2, m) from the closed-form CDF 1 - (1 + 2x/m)^(-m/2) (independent of scipy)."""
    return (m / 2.0) * ((1.0 - p) ** (-2.0 / m) - 1.0)


def circle(radius: float, freq: float, n: int = N, fs: float = FS):
    t = np.arange(n) / fs
    phase = 2 * np.pi * freq * t
    return t, radius * np.cos(phase), radius * np.sin(phase)


def test_required_keys_and_json_safe():
    rng = np.random.default_rng(1)
    t = np.arange(N) / FS
    out = compute_all(
        t,
        rng.normal(size=N).cumsum(),
        rng.normal(size=N).cumsum(),
        force_n=700 + rng.normal(size=N),
    )
    for key, sub in REQUIRED.items():
        assert key in out
        if sub is not None:
            assert set(out[key]) >= sub
    for key in ("mean_force_n", "vertical_stability_index"):
        assert isinstance(out[key], float)
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert out["n_samples"] == N and out["filter"] == "butter10"
    assert out["rate_hz"] == pytest.approx(FS)
    assert out["duration_s"] == pytest.approx((N - 1) / FS)


@pytest.mark.parametrize("filter_name", ["none", "butter10"])
def test_circle_known_answers(filter_name):
    r, f = 7.0, 0.5
    t, x, y = circle(r, f)
    out = compute_all(t, x + 30.0, y - 12.0, filter=filter_name)
    rel = 1e-9 if filter_name == "none" else 2e-3  # filtfilt edge transients
    step = np.pi * f / FS
    chord = 2 * r * math.sin(step)
    duration = (N - 1) / FS
    # path length = 2 pi r f T (polygon: chord per sample)
    assert out["path_length_mm"]["total"] == pytest.approx((N - 1) * chord, rel=rel)
    assert out["path_length_mm"]["total"] == pytest.approx(2 * np.pi * r * f * duration, rel=1e-3)
    assert out["mean_velocity_mm_s"]["total"] == pytest.approx(2 * np.pi * r * f, rel=1e-3)
    assert out["mean_distance_mm"]["resultant"] == pytest.approx(r, rel=rel)
    assert out["rms_mm"]["resultant"] == pytest.approx(r, rel=rel)
    assert out["rms_mm"]["ml"] == pytest.approx(r / math.sqrt(2), rel=rel)
    assert out["range_mm"]["ml"] == pytest.approx(2 * r, rel=rel)
    assert out["mean_frequency_hz"]["resultant"] == pytest.approx(f, rel=1e-3)
    # swept area per second: a full disc per cycle
    assert out["sway_area_mm2_s"] == pytest.approx(np.pi * r * r * f, rel=1e-3)
    # covariance r^2/2 * N/(N-1) on both axes, no cross term
    f_q = f_quantile_2_m(0.95, N - 2)
    ellipse = 2 * np.pi * f_q * (r * r / 2) * N / (N - 1)
    assert out["ellipse95_area_mm2"] == pytest.approx(ellipse, rel=rel)
    assert out["ellipse95"]["semi_major_mm"] == pytest.approx(
        out["ellipse95"]["semi_minor_mm"], rel=1e-2
    )
    assert out["prediction_ellipse95_area_mm2"] == pytest.approx(
        ellipse * (N - 1) * (N + 1) / (N * (N - 2)), rel=rel
    )
    # chi-square limit: F(0.95; 2, inf) = 5.991/2
    assert out["ellipse95_area_mm2"] == pytest.approx(np.pi * 5.991 * r * r / 2, rel=2e-3)


@pytest.mark.parametrize("filter_name", ["none", "butter10"])
def test_sinusoid_known_answers(filter_name):
    # tones on Welch bin centres (10 s segments at 80 Hz: 0.1 Hz bins)
    a, b, f, g = 4.0, 9.0, 0.5, 1.2
    t = np.arange(N) / FS
    x = a * np.sin(2 * np.pi * f * t)
    y = b * np.sin(2 * np.pi * g * t + 0.3)
    out = compute_all(t, x, y, filter=filter_name)
    rel = 1e-9 if filter_name == "none" else 2e-3
    assert out["rms_mm"]["ml"] == pytest.approx(a / math.sqrt(2), rel=rel)
    assert out["rms_mm"]["ap"] == pytest.approx(b / math.sqrt(2), rel=rel)
    assert out["mean_distance_mm"]["ml"] == pytest.approx(2 * a / np.pi, rel=1e-3)
    assert out["path_length_mm"]["ml"] == pytest.approx(4 * a * f * (N - 1) / FS, rel=1e-3)
    assert out["mean_velocity_mm_s"]["ap"] == pytest.approx(4 * b * g, rel=1e-3)
    # Prieto's per-axis mean frequency of a sine: 4Af / (4 sqrt2 * 2A/pi) = pi f / (2 sqrt2)
    assert out["mean_frequency_hz"]["ml"] == pytest.approx(np.pi * f / (2 * math.sqrt(2)), rel=1e-3)
    # Hann leakage of a bin-centred tone: power 1/6, 2/3, 1/6 in bins k-1, k, k+1
    d = 0.1
    for axis, tone in (("ml", f), ("ap", g)):
        assert out["f50_hz"][axis] == pytest.approx(
            tone, abs=1e-6 if filter_name == "none" else 2e-3
        )
        assert out["f95_hz"][axis] == pytest.approx(tone + d / 2 + 0.7 * d, abs=2e-3)
        centroid = math.sqrt(tone * tone + d * d / 3)
        assert out["centroid_frequency_hz"][axis] == pytest.approx(centroid, rel=1e-3)
        dispersion = math.sqrt(1 - tone * tone / (tone * tone + d * d / 3))
        assert out["frequency_dispersion"][axis] == pytest.approx(dispersion, rel=1e-2)


def test_off_bin_tone_f50_within_a_bin():
    t = np.arange(N) / FS
    for tone in (0.33, 0.77, 2.46):
        x = 3 * np.sin(2 * np.pi * tone * t)
        out = compute_all(t, x, np.cos(2 * np.pi * tone * t), filter="none")
        assert abs(out["f50_hz"]["ml"] - tone) < 0.1


def test_filter_removes_noise_above_10hz_but_keeps_sway():
    t = np.arange(N) / FS
    sway = 5 * np.sin(2 * np.pi * 0.4 * t)
    noise = 0.5 * np.sin(2 * np.pi * 25.0 * t)
    raw = compute_all(t, sway + noise, np.zeros(N) + 0.0 * t, filter="none")
    filtered = compute_all(t, sway + noise, np.zeros(N), filter="butter10")
    clean = compute_all(t, sway, np.zeros(N), filter="none")
    assert raw["path_length_mm"]["total"] > 5 * clean["path_length_mm"]["total"]
    assert filtered["path_length_mm"]["total"] == pytest.approx(
        clean["path_length_mm"]["total"], rel=1e-2
    )


def test_motionless_trace_gives_none_for_undefined_measures():
    t = np.arange(N) / FS
    out = compute_all(t, np.full(N, 3.0), np.full(N, -1.0))
    assert out["path_length_mm"]["total"] == 0.0
    assert out["ellipse95_area_mm2"] == 0.0
    assert out["mean_frequency_hz"] == {"ml": None, "ap": None, "resultant": None}
    assert out["f50_hz"] == {"ml": None, "ap": None}
    json.dumps(out, allow_nan=False)


def test_force_keys():
    t = np.arange(N) / FS
    fz = 700.0 + 14.0 * np.sin(2 * np.pi * 0.5 * t)
    out = compute_all(t, np.sin(t), np.cos(t), force_n=fz, filter="none")
    assert out["mean_force_n"] == pytest.approx(700.0)
    assert out["body_weight_source"] == "mean_force"
    assert out["vertical_stability_index"] == pytest.approx(14.0 / math.sqrt(2) / 700.0, rel=1e-6)
    given = compute_all(t, np.sin(t), np.cos(t), force_n=fz, body_weight_n=650.0, filter="none")
    expected = math.sqrt(np.mean((650.0 - fz) ** 2)) / 650.0
    assert given["vertical_stability_index"] == pytest.approx(expected)
    assert given["body_weight_source"] == "given"


# ---- bad input: clear errors, or documented tidying ----


def test_nan_edges_are_dropped_and_counted():
    t, x, y = circle(5.0, 0.5)
    x = x.copy()
    x[:7] = np.nan
    y = y.copy()
    y[-3:] = np.nan
    out = compute_all(t, x, y)
    assert out["n_samples"] == N - 10
    assert out["n_dropped_edge_samples"] == 10


def test_interior_nan_refused():
    t, x, y = circle(5.0, 0.5)
    x = x.copy()
    x[1000] = np.nan
    with pytest.raises(ValueError, match=r"non-finite sample.*inside the trace"):
        compute_all(t, x, y)


def test_too_short_refused():
    t, x, y = circle(5.0, 0.5, n=100)
    with pytest.raises(ValueError, match="too short"):
        compute_all(t, x, y)


def test_irregular_timing_refused_and_small_gaps_bridged():
    t, x, y = circle(5.0, 0.5)
    with pytest.raises(ValueError, match="strictly increasing"):
        compute_all(t[::-1], x, y)
    gap = np.delete(np.arange(N), np.arange(1000, 1040))  # 0.5 s hole
    with pytest.raises(ValueError, match=r"gap of 0\.51"):
        compute_all(t[gap], x[gap], y[gap])
    dropped = np.delete(np.arange(N), [500, 900, 901])  # 3 discarded frames
    out = compute_all(t[dropped], x[dropped], y[dropped], filter="none")
    assert out["resampled"] is True
    assert out["n_samples"] == N
    ref = compute_all(t, x, y, filter="none")
    assert out["path_length_mm"]["total"] == pytest.approx(ref["path_length_mm"]["total"], rel=1e-4)


def test_bad_arguments_refused():
    t, x, y = circle(5.0, 0.5)
    with pytest.raises(ValueError, match="same length"):
        compute_all(t, x[:-1], y)
    with pytest.raises(ValueError, match="unknown filter"):
        compute_all(t, x, y, filter="butter6")
    with pytest.raises(ValueError, match="1-D"):
        compute_all(t, np.vstack([x, x]), y)
    slow = np.arange(100) / 10.0  # HX711 at 10 SPS
    with pytest.raises(ValueError, match="filter='none'"):
        compute_all(slow, np.sin(slow), np.cos(slow))
    assert compute_all(slow, np.sin(slow), np.cos(slow), filter="none")["rate_hz"] == pytest.approx(
        10
    )


def test_compute_from_samples_matches_arrays():
    t, x, y = circle(6.0, 0.5)
    fz = 700.0 + np.sin(t)
    samples = [
        Sample(float(a), float(f), float(b), float(c), (f / 4,) * 4)
        for a, b, c, f in zip(t, x, y, fz, strict=True)
    ]
    samples = [Sample(-0.1, 3.0, float("nan"), float("nan"), (0.75,) * 4), *samples]  # stepping on
    out = compute_from_samples(samples, body_weight_n=700.0)
    ref = compute_all(t, x, y, force_n=fz, body_weight_n=700.0)
    assert out == {**ref, "n_dropped_edge_samples": 1}
    with pytest.raises(ValueError, match="no samples"):
        compute_from_samples([])
