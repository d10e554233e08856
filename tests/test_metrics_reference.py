"""compute_all on real force-plate recordings vs independent, loop-based computations.

The independent versions here are written differently on purpose: plain Python loops, a
closed-form F quantile, a hand-made Welch (periodic Hann, per-segment FFT averaging), a 2x2
eigen-decomposition by formula and scipy's ba-form filtfilt instead of sosfiltfilt.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from station.analysis.metrics import compute_all


def load_quiet_stance(folder: Path, eyes: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.loadtxt(folder / f"quiet-stance-eyes-{eyes}-100hz.csv", delimiter=",", skiprows=1)
    return data[:, 0], data[:, 1] * 1000.0, data[:, 2] * 1000.0


def load_amti(folder: Path) -> dict[str, np.ndarray]:
    path = folder / "amti-force-plate-100hz.csv"
    lines = path.read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("MocapFrame"))
    names = [n.strip() for n in lines[header_at].split(",")]
    data = np.loadtxt(lines[header_at + 1 :], delimiter=",")
    return {name: data[:, i] for i, name in enumerate(names)}


def loop_measures(x: list[float], y: list[float], fs: float) -> dict[str, float]:
    n = len(x)
    mx = sum(x) / n
    my = sum(y) / n
    ml = [v - mx for v in x]
    ap = [v - my for v in y]
    rd = [math.sqrt(a * a + b * b) for a, b in zip(ml, ap, strict=True)]
    path = 0.0
    path_ml = 0.0
    swept = 0.0
    for i in range(n - 1):
        path += math.sqrt((ml[i + 1] - ml[i]) ** 2 + (ap[i + 1] - ap[i]) ** 2)
        path_ml += abs(ml[i + 1] - ml[i])
        swept += abs(ap[i + 1] * ml[i] - ap[i] * ml[i + 1])
    duration = (n - 1) / fs
    sxx = sum(v * v for v in ml) / (n - 1)
    syy = sum(v * v for v in ap) / (n - 1)
    sxy = sum(a * b for a, b in zip(ml, ap, strict=True)) / (n - 1)
    m = n - 2
    f_q = (m / 2.0) * (0.05 ** (-2.0 / m) - 1.0)
    # 2x2 eigenvalues by formula
    half_trace = (sxx + syy) / 2
    root = math.sqrt(((sxx - syy) / 2) ** 2 + sxy * sxy)
    lam1, lam2 = half_trace + root, half_trace - root
    mdist = sum(rd) / n
    return {
        "mean_distance": mdist,
        "mean_distance_ml": sum(abs(v) for v in ml) / n,
        "rms": math.sqrt(sum(v * v for v in rd) / n),
        "rms_ap": math.sqrt(sum(v * v for v in ap) / n),
        "range_ap": max(ap) - min(ap),
        "path": path,
        "path_ml": path_ml,
        "velocity": path / duration,
        "sway_area": swept / (2 * duration),
        "ellipse": 2 * math.pi * f_q * math.sqrt(sxx * syy - sxy * sxy),
        "semi_major": math.sqrt(2 * f_q * lam1),
        "semi_minor": math.sqrt(2 * f_q * lam2),
        "mean_frequency": (path / duration) / (2 * math.pi * mdist),
    }


def manual_welch(values: np.ndarray, fs: float, seg: int) -> tuple[np.ndarray, np.ndarray]:
    """Average of periodic-Hann periodograms of 50 %-overlapping, mean-removed segments."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(seg) / seg)
    step = seg // 2
    spectra = []
    for start in range(0, values.size - seg + 1, step):
        piece = values[start : start + seg]
        piece = (piece - piece.mean()) * window
        power = np.abs(np.fft.rfft(piece)) ** 2 / (fs * np.sum(window**2))
        power[1:-1] *= 2  # one-sided (seg is even: last bin is Nyquist)
        spectra.append(power)
    return np.fft.rfftfreq(seg, 1 / fs), np.mean(spectra, axis=0)


def loop_f50_f95(freqs: np.ndarray, psd: np.ndarray) -> tuple[float, float, float, float]:
    band = [(f, p) for f, p in zip(freqs, psd, strict=True) if 0.15 <= f <= 5.0]
    df = band[1][0] - band[0][0]
    total = sum(p for _, p in band)
    results = []
    for share in (0.5, 0.95):
        running = 0.0
        for f, p in band:
            if running + p >= share * total:
                results.append(f - df / 2 + df * (share * total - running) / p)
                break
            running += p
    mu0 = sum(p * df for _, p in band)
    mu1 = sum(f * p * df for f, p in band)
    mu2 = sum(f * f * p * df for f, p in band)
    return results[0], results[1], math.sqrt(mu2 / mu0), math.sqrt(1 - mu1 * mu1 / (mu0 * mu2))


@pytest.mark.parametrize("eyes", ["open", "closed"])
def test_time_domain_matches_loops(reference_data, eyes):
    t, x, y = load_quiet_stance(reference_data, eyes)
    out = compute_all(t, x, y, filter="none")
    ref = loop_measures(list(x), list(y), 100.0)
    assert out["rate_hz"] == pytest.approx(100.0, rel=1e-9)
    assert out["n_samples"] == t.size
    checks = {
        ("mean_distance_mm", "resultant"): "mean_distance",
        ("mean_distance_mm", "ml"): "mean_distance_ml",
        ("rms_mm", "resultant"): "rms",
        ("rms_mm", "ap"): "rms_ap",
        ("range_mm", "ap"): "range_ap",
        ("path_length_mm", "total"): "path",
        ("path_length_mm", "ml"): "path_ml",
        ("mean_velocity_mm_s", "total"): "velocity",
        ("mean_frequency_hz", "resultant"): "mean_frequency",
        ("ellipse95", "semi_major_mm"): "semi_major",
        ("ellipse95", "semi_minor_mm"): "semi_minor",
    }
    for (key, sub), name in checks.items():
        assert out[key][sub] == pytest.approx(ref[name], rel=1e-9), (key, sub)
    assert out["sway_area_mm2_s"] == pytest.approx(ref["sway_area"], rel=1e-9)
    assert out["ellipse95_area_mm2"] == pytest.approx(ref["ellipse"], rel=1e-9)


@pytest.mark.parametrize("eyes", ["open", "closed"])
def test_spectra_match_manual_welch(reference_data, eyes):
    t, x, y = load_quiet_stance(reference_data, eyes)
    out = compute_all(t, x, y, filter="none")
    for axis, values in (("ml", x), ("ap", y)):
        freqs, psd = manual_welch(values - values.mean(), 100.0, seg=1000)
        f50, f95, centroid, dispersion = loop_f50_f95(freqs, psd)
        assert out["f50_hz"][axis] == pytest.approx(f50, rel=1e-9)
        assert out["f95_hz"][axis] == pytest.approx(f95, rel=1e-9)
        assert out["centroid_frequency_hz"][axis] == pytest.approx(centroid, rel=1e-9)
        assert out["frequency_dispersion"][axis] == pytest.approx(dispersion, rel=1e-9)


def test_filtered_matches_ba_filtfilt(reference_data):
    t, x, y = load_quiet_stance(reference_data, "open")
    out = compute_all(t, x, y, filter="butter10")
    b, a = signal.butter(4, 10.0 / 50.0)
    xf = signal.filtfilt(b, a, x - x.mean(), padlen=27)
    yf = signal.filtfilt(b, a, y - y.mean(), padlen=27)
    ref = loop_measures(list(xf), list(yf), 100.0)
    assert out["path_length_mm"]["total"] == pytest.approx(ref["path"], rel=1e-6)
    assert out["ellipse95_area_mm2"] == pytest.approx(ref["ellipse"], rel=1e-6)
    # filtering at 10 Hz only trims noise: quiet-stance path shrinks a little, not a lot
    raw = compute_all(t, x, y, filter="none")
    ratio = out["path_length_mm"]["total"] / raw["path_length_mm"]["total"]
    assert 0.5 < ratio < 1.0


def test_eyes_closed_sways_more_than_eyes_open(reference_data):
    """What this subject's data shows (checked, not assumed): closing the eyes roughly doubles
    COP velocity and sway area per second, and enlarges the ellipse and AP excursion."""
    eo = compute_all(*load_quiet_stance(reference_data, "open"))
    ec = compute_all(*load_quiet_stance(reference_data, "closed"))
    assert ec["mean_velocity_mm_s"]["total"] > 1.5 * eo["mean_velocity_mm_s"]["total"]
    assert ec["sway_area_mm2_s"] > 1.5 * eo["sway_area_mm2_s"]
    assert ec["ellipse95_area_mm2"] > eo["ellipse95_area_mm2"]
    assert ec["range_mm"]["ap"] > eo["range_mm"]["ap"]
    # published-ish adult quiet stance, eyes open: velocity ~5-15 mm/s, ellipse ~50-500 mm^2
    assert 5.0 < eo["mean_velocity_mm_s"]["total"] < 15.0
    assert 50.0 < eo["ellipse95_area_mm2"] < 500.0
    # sway is AP dominated in double-leg stance
    assert eo["rms_mm"]["ap"] > eo["rms_mm"]["ml"]
    assert 0.1 < eo["f50_hz"]["ap"] < 1.0


def test_amti_recording_refused_with_zero_frames_then_analysed(reference_data):
    amti = load_amti(reference_data)
    fz = amti["Fz"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ml = np.where(fz > 20, amti["Cx"] * 1000.0, np.nan)
        ap = np.where(fz > 20, amti["Cy"] * 1000.0, np.nan)
    t = amti["MocapTime"]
    # frames 1-2 are all zeros: an interior hole, refused with a message that says so
    with pytest.raises(ValueError, match="inside the trace"):
        compute_all(t, ml, ap, force_n=fz)
    out = compute_all(t[3:], ml[3:], ap[3:], force_n=fz[3:])
    assert out["n_dropped_edge_samples"] == 5  # trailing all-zero frames
    # COP columns agree with moments: |Cx| = |My/Fz|, |Cy| = |Mx/Fz|
    good = fz > 20
    assert np.allclose(np.abs(amti["Cx"][good]), np.abs(amti["My"][good] / fz[good]), atol=2e-4)
    ref = loop_measures(list(ml[3:-5]), list(ap[3:-5]), 100.0)
    raw = compute_all(t[3:], ml[3:], ap[3:], force_n=fz[3:], filter="none")
    assert raw["path_length_mm"]["total"] == pytest.approx(ref["path"], rel=1e-9)
    assert raw["ellipse95_area_mm2"] == pytest.approx(ref["ellipse"], rel=1e-9)
    fz_used = fz[3:-5]
    assert raw["mean_force_n"] == pytest.approx(sum(fz_used) / len(fz_used), rel=1e-12)
    w = raw["mean_force_n"]
    vsi = math.sqrt(sum((w - f) ** 2 for f in fz_used) / len(fz_used)) / w
    assert raw["vertical_stability_index"] == pytest.approx(vsi, rel=1e-9)
