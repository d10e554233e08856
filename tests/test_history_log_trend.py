"""The log beside the trends and training days apart from assessments (issue 16 §5): per-day
log series from session records, and each trend point's count of training trials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from test_history_comparisons import row

from station.analysis.history.athlete_history import condition_series
from station.analysis.history.day_series import decimate
from station.analysis.history.log_trend import log_series

DAY0 = datetime(2025, 3, 3, 17, 0, tzinfo=UTC)


@dataclass
class _Session:
    started_at: datetime
    soreness: int | None = None
    stiffness: int | None = None
    relief: int | None = None
    sleep_hours: float | None = None


def test_the_log_is_one_point_per_day_with_its_range() -> None:
    sessions = [
        _Session(DAY0, soreness=2, stiffness=3, sleep_hours=7.5),
        _Session(DAY0 + timedelta(hours=1), soreness=6),  # the physio's entry, same day
        _Session(DAY0 + timedelta(days=3), soreness=4, relief=7),
        _Session(DAY0 + timedelta(days=5)),  # nothing logged
    ]
    out = log_series(sessions)
    sore = out["series"]["soreness"]
    assert sore["y"] == [4.0, 4.0] and sore["lo"] == [2.0, 4.0] and sore["hi"] == [6.0, 4.0]
    assert sore["n"] == [2, 1] and sore["t"][1] - sore["t"][0] == 3 * 86400
    assert out["series"]["relief"]["y"] == [7.0]
    assert out["series"]["sleep_hours"]["y"] == [7.5]
    assert out["series"]["stiffness"]["t"] == sore["t"][:1]
    assert out["fields"]["sleep_hours"]["unit"] == "h"


def test_an_empty_log_has_no_series() -> None:
    assert log_series([])["series"] == {}
    assert log_series([_Session(DAY0)])["series"] == {}


def test_trend_points_count_their_training_trials() -> None:
    rows = [row("a1", day=0), row("a2", day=0, minute=2), row("t1", day=3), row("t2", day=5)]
    for r, kind in zip(rows, ("assessment", "assessment", "training", "training"), strict=True):
        r["session_kind"] = kind
    rows[2]["session_uid"] = "training-3"
    points = condition_series(rows)["single-left · eyes open · firm"]["measures"]["score"]
    assert points["n"] == [2, 1, 1] and points["n_training"] == [0, 1, 1]


def test_decimation_sums_the_training_trials() -> None:
    t = np.arange(10.0)
    out = decimate(t, np.ones(10), 5, n=np.full(10, 2), n_training=np.array([1, 0] * 5))
    assert out["n"] == [4] * 5 and out["n_training"] == [1] * 5
    assert "n_training" not in decimate(t, np.ones(10), 5)
