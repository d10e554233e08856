"""The L/R flag with a basis: the absolute symmetry index, its cited 16 % threshold, and no
flag for a difference within measurement noise."""

from __future__ import annotations

import pytest

from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.team_overview import real_asymmetry
from station.norms.asymmetry import (
    ASI_THRESHOLD_PCT,
    absolute_symmetry_index,
    asymmetry_flag,
    lsi_equivalent,
)

V = "mean_velocity_mm_s.total"


def test_asi_definition_and_its_lsi_equivalent():
    assert absolute_symmetry_index(30.0, 25.0) == pytest.approx(100 * 5 / 27.5)
    assert absolute_symmetry_index(25.0, 30.0) == absolute_symmetry_index(30.0, 25.0)
    assert absolute_symmetry_index(0.0, 3.0) is None and absolute_symmetry_index(None, 3) is None
    assert lsi_equivalent(ASI_THRESHOLD_PCT) == pytest.approx(85.19, abs=0.01)
    # the equivalence holds for a real pair: LSI = min/max
    left, right = 100.0, 100.0 * lsi_equivalent(16.0) / 100.0
    assert absolute_symmetry_index(left, right) == pytest.approx(16.0)


def test_flag_needs_the_threshold_and_a_difference_beyond_noise():
    below = asymmetry_flag(V, 30.0, 27.0, mdc=1.0)  # ASI 10.5 %
    assert below["asymmetric"] is False and "typical" in below["flag_text"]
    noisy = asymmetry_flag(V, 40.0, 30.0, mdc=12.0)  # ASI 28.6 %, but 10 < MDC 12
    assert noisy["asymmetric"] is False and noisy["within_noise"] is True
    assert "within measurement noise" in noisy["flag_text"]
    real = asymmetry_flag(V, 40.0, 30.0, mdc=3.0)
    assert real["asymmetric"] is True and real["within_noise"] is False
    assert "Nolff" in real["flag_source"]
    hop = asymmetry_flag("landing.tts_cop_s", 1.4, 2.8, mdc=0.5)
    assert hop["asymmetric"] is None and "not judged" in hop["flag_text"]


def _row(uid, stance, velocity, eyes="closed", session=1):
    return {"uid": uid, "session_uid": session, "stance": stance, "eyes": eyes,
            "surface": "firm", "task": "hold", "outcome": "complete", "score": 50.0,
            "time_to_failure_s": None, "planned_duration_s": 20.0,
            "metrics": {"mean_velocity_mm_s": {"total": velocity},
                        "ellipse95_area_mm2": 900.0}}


def test_symmetry_rows_and_the_team_flag_use_the_basis():
    # eyes closed single-leg: the assumed SEM 9 mm/s gives an MDC of ~25 mm/s
    noisy = [_row("l", "single-left", 60.0), _row("r", "single-right", 45.0)]
    pair = next(m for m in symmetry_rows(noisy)[0]["measures"] if m["measure"] == V)
    assert pair["asi_pct"] == pytest.approx(28.6, abs=0.1)
    assert pair["lsi_pct"] == pytest.approx(75.0) and pair["asymmetric"] is False
    assert pair["within_noise"] is True
    assert not real_asymmetry(noisy, 85.0)
    clear = [_row("l", "single-left", 90.0), _row("r", "single-right", 45.0)]
    assert next(m for m in symmetry_rows(clear)[0]["measures"]
                if m["measure"] == V)["asymmetric"] is True
    assert real_asymmetry(clear, 85.0)
