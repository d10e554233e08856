"""Limb symmetry index and the left/right table."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis.metrics import compute_all
from station.analysis.metrics.symmetry import limb_symmetry_index, symmetry_table


def test_lsi_higher_is_better():
    # hold time: left (involved) 15 s vs right 20 s -> 75 %
    assert limb_symmetry_index(15.0, 20.0, higher_is_better=True, involved="left") == pytest.approx(
        75.0
    )
    assert limb_symmetry_index(
        15.0, 20.0, higher_is_better=True, involved="right"
    ) == pytest.approx(100 * 20 / 15)
    assert limb_symmetry_index(15.0, 20.0, higher_is_better=True) == pytest.approx(75.0)


def test_lsi_lower_is_better_inverts_the_ratio():
    # sway velocity: involved left sways 40 mm/s vs right 30 mm/s -> 75 %, not 133 %
    assert limb_symmetry_index(
        40.0, 30.0, higher_is_better=False, involved="left"
    ) == pytest.approx(75.0)
    assert limb_symmetry_index(40.0, 30.0, higher_is_better=False) == pytest.approx(75.0)
    assert limb_symmetry_index(30.0, 40.0, higher_is_better=False) == pytest.approx(75.0)
    assert limb_symmetry_index(25.0, 25.0, higher_is_better=False) == pytest.approx(100.0)


def test_lsi_undefined_cases():
    assert limb_symmetry_index(None, 3.0, higher_is_better=False) is None
    assert limb_symmetry_index(0.0, 3.0, higher_is_better=False) is None
    assert limb_symmetry_index(float("nan"), 3.0, higher_is_better=True) is None
    assert limb_symmetry_index(2.0, 3.0, higher_is_better=None) == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="better direction"):
        limb_symmetry_index(2.0, 3.0, higher_is_better=None, involved="left")
    with pytest.raises(ValueError, match="involved"):
        limb_symmetry_index(2.0, 3.0, higher_is_better=True, involved="both")


def test_symmetry_table_covers_every_measure():
    rng = np.random.default_rng(4)
    t = np.arange(1600) / 80.0
    left = compute_all(t, 2.0 * rng.normal(size=1600).cumsum(), rng.normal(size=1600).cumsum())
    right = compute_all(t, rng.normal(size=1600).cumsum(), rng.normal(size=1600).cumsum())
    left["tts_vertical_s"] = 1.2
    right["tts_vertical_s"] = 0.9
    left["time_to_failure_s"] = 12.0
    right["time_to_failure_s"] = 20.0
    table = symmetry_table(left, right)
    for key in (
        "mean_velocity_mm_s.total",
        "ellipse95_area_mm2",
        "rms_mm.ml",
        "f50_hz.ap",
        "tts_vertical_s",
        "time_to_failure_s",
    ):
        assert key in table
    assert "n_samples" not in table and "filter" not in table and "ellipse95.angle_deg" not in table
    row = table["mean_velocity_mm_s.total"]
    lo, hi = sorted((row["left"], row["right"]))
    assert row["lsi_pct"] == pytest.approx(100 * lo / hi)
    assert row["weaker_side"] == ("left" if row["left"] > row["right"] else "right")
    assert table["tts_vertical_s"]["weaker_side"] == "left"
    assert table["time_to_failure_s"]["weaker_side"] == "left"
    assert table["time_to_failure_s"]["lsi_pct"] == pytest.approx(60.0)
    assert table["f50_hz.ap"]["weaker_side"] is None
    involved = symmetry_table(left, right, involved="right")
    assert involved["time_to_failure_s"]["lsi_pct"] == pytest.approx(100 * 20 / 12)
