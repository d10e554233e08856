"""Wobble measures from a hand-made tilt trace, against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.analysis.metrics.wobble import (
    mean_tilt_velocity,
    quadrant_time_pct,
    rim_contact_summary,
    stability_indices,
    wobble_measures,
    zone_time_pct,
)

# six samples at 10 Hz: (ML, AP) in degrees; totals 5, 2, 10, 15, 20, 1
ML = np.array([3.0, 0.0, -6.0, 12.0, -16.0, 1.0])
AP = np.array([4.0, 2.0, -8.0, -9.0, 12.0, 0.0])
RATE = 10.0


def test_stability_indices_are_the_rms_deviation_from_level():
    si = stability_indices(ML, AP)
    # by hand: ML^2 = 9, 0, 36, 144, 256, 1 (sum 446); AP^2 = 16, 4, 64, 81, 144, 0 (sum 309)
    assert si["ml"] == pytest.approx(math.sqrt(446 / 6))
    assert si["ap"] == pytest.approx(math.sqrt(309 / 6))
    assert si["overall"] == pytest.approx(math.sqrt((446 + 309) / 6))
    assert si["overall"] ** 2 == pytest.approx(si["ml"] ** 2 + si["ap"] ** 2)


def test_zones_and_quadrants_by_hand():
    total = np.hypot(ML, AP)
    np.testing.assert_allclose(total, [5, 2, 10, 15, 20, 1])
    # max 17.5: 0-5 holds 2 and 1; 5-10 holds 5; 10-15 holds 10; 15-max holds 15 and 20 (rim)
    zones = zone_time_pct(total, 17.5)
    assert zones == pytest.approx({"0-5": 200 / 6, "5-10": 100 / 6, "10-15": 100 / 6,
                                   "15-max": 200 / 6})
    # a board that tilts only 12 deg: 10-15 ends at 12 and takes all beyond; 15-max is empty
    assert zone_time_pct(total, 12.0) == pytest.approx(
        {"0-5": 200 / 6, "5-10": 100 / 6, "10-15": 300 / 6, "15-max": 0.0})
    # front = AP >= 0, right = ML >= 0: FR (3,4) (0,2) (1,0); FL (-16,12); BL (-6,-8); BR (12,-9)
    assert quadrant_time_pct(ML, AP) == pytest.approx(
        {"front_right": 50.0, "front_left": 100 / 6, "back_left": 100 / 6,
         "back_right": 100 / 6})


def test_mean_tilt_velocity_is_the_tilt_path_over_the_duration():
    # steps: (-3,-2), (-6,-10), (18,-1), (-28,21), (17,-12); 0.5 s from first to last sample
    path = (math.hypot(3, 2) + math.hypot(6, 10) + math.hypot(18, 1) + 35.0
            + math.hypot(17, 12))
    assert mean_tilt_velocity(ML, AP, RATE) == pytest.approx(path / 0.5)


def test_rim_contacts_counted_and_timed():
    summary = rim_contact_summary([(3.0, 3.1), (1.0, 1.25)], t0_s=0.5)
    assert summary == pytest.approx({"count": 2, "total_s": 0.35, "time_to_first_s": 0.5})
    assert rim_contact_summary([], 0.0) == {"count": 0, "total_s": 0.0, "time_to_first_s": None}
    measures = wobble_measures(ML, AP, RATE, 17.5, [(1.0, 1.25)], t0_s=0.0)
    assert measures["rim_contacts"] == pytest.approx({"count": 1, "total_s": 0.25})
    assert measures["time_to_first_rim_contact_s"] == 1.0
    assert measures["max_tilt_reached_deg"] == pytest.approx(20.0)
    assert set(measures["stability_index_deg"]) == {"overall", "ap", "ml"}
    with pytest.raises(ValueError, match="no tilt samples"):
        wobble_measures(ML[:0], AP[:0], RATE, 17.5)
