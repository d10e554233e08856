"""Push (perturbation) response: peak excursion and recovery into the pre-push sway band."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis.metrics.perturbation import perturbation_metrics

FS = 80.0


def pushed_trace(peak_mm: float = 40.0, tau_s: float = 0.3, push_t: float = 5.0, seed: int = 0):
    """Quiet sway, then at push_t an AP excursion P (t/tau) exp(1 - t/tau): peak P at tau."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 12.0, 1.0 / FS)
    x = 100.0 + 1.5 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(scale=0.2, size=t.size)
    y = -20.0 + 2.0 * np.sin(2 * np.pi * 0.2 * t + 1.0) + rng.normal(scale=0.2, size=t.size)
    since = np.clip(t - push_t, 0.0, None)
    y = y + peak_mm * (since / tau_s) * np.exp(1.0 - since / tau_s)
    return t, x, y


def loop_recovery(t, x, y, push_t, baseline_s=2.0, k=3.0, hold_s=0.5):
    pre = [i for i in range(t.size) if push_t - baseline_s <= t[i] < push_t]
    cx = sum(x[i] for i in pre) / len(pre)
    cy = sum(y[i] for i in pre) / len(pre)
    rd = [((x[i] - cx) ** 2 + (y[i] - cy) ** 2) ** 0.5 for i in range(t.size)]
    pre_rd = [rd[i] for i in pre]
    mean = sum(pre_rd) / len(pre_rd)
    sd = (sum((r - mean) ** 2 for r in pre_rd) / len(pre_rd)) ** 0.5
    upper = mean + k * sd
    after = [i for i in range(t.size) if t[i] >= push_t]
    peak = max(after, key=lambda i: rd[i])
    need = int(np.ceil(hold_s * FS))
    for start in range(peak, t.size - need + 1):
        if all(rd[j] <= upper for j in range(start, start + need)):
            return rd[peak], t[peak] - push_t, t[start] - push_t, upper
    return rd[peak], t[peak] - push_t, None, upper


def test_peak_and_recovery_match_loop_and_model():
    t, x, y = pushed_trace()
    out = perturbation_metrics(t, x, y, 5.0, filter="none")
    peak, t_peak, recovery, upper = loop_recovery(t, x, y, 5.0)
    assert out["peak_excursion_mm"] == pytest.approx(peak)
    assert out["time_to_peak_s"] == pytest.approx(t_peak)
    assert out["recovery_time_s"] == pytest.approx(recovery)
    assert out["band_upper_mm"] == pytest.approx(upper)
    assert out["recovered"] is True
    # the model: a 40 mm push peaking 0.3 s after it, on ~2-4 mm of quiet sway
    assert out["peak_excursion_mm"] == pytest.approx(40.0, abs=4.0)
    assert out["time_to_peak_s"] == pytest.approx(0.3, abs=0.06)
    assert out["time_to_peak_s"] < out["recovery_time_s"] < 7.0 - 0.5


def test_bigger_and_slower_pushes():
    small = perturbation_metrics(*pushed_trace(peak_mm=20.0), 5.0)
    big = perturbation_metrics(*pushed_trace(peak_mm=60.0), 5.0)
    slow = perturbation_metrics(*pushed_trace(tau_s=0.6), 5.0)
    assert big["peak_excursion_mm"] > 2.5 * small["peak_excursion_mm"]
    assert big["recovery_time_s"] > small["recovery_time_s"]
    assert slow["recovery_time_s"] > perturbation_metrics(*pushed_trace(), 5.0)["recovery_time_s"]


def test_not_recovered_when_the_athlete_steps_to_a_new_place():
    t, x, y = pushed_trace()
    x = x + np.where(t > 5.2, 60.0, 0.0)  # a step: the COP never returns
    out = perturbation_metrics(t, x, y, 5.0)
    assert out["recovery_time_s"] is None
    assert out["recovered"] is False


def test_bad_input_refused():
    t, x, y = pushed_trace()
    with pytest.raises(ValueError, match="needs 2 s of quiet stance"):
        perturbation_metrics(t, x, y, 1.0)
    with pytest.raises(ValueError, match="needs 2 s"):
        perturbation_metrics(t, x, y, 20.0)
    y_bad = y.copy()
    y_bad[100] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        perturbation_metrics(t, x, y_bad, 5.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        perturbation_metrics(t[::-1], x, y, 5.0)
    gappy = np.delete(np.arange(t.size), np.arange(500, 505))
    with pytest.raises(ValueError, match="irregular timing"):
        perturbation_metrics(t[gappy], x[gappy], y[gappy], 5.0)
    with pytest.raises(ValueError, match="same length"):
        perturbation_metrics(t, x[:-1], y, 5.0)
