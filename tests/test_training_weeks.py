"""Simulated weeks of training through the store, the simulator and the real analysis (as
station/trials/demo_history.py makes the demo): an athlete who improves climbs the ladder;
the same athlete with rising soreness in their log is held back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from station.calibration import try_load_calibration
from station.store import Athlete, open_store, training_plans
from station.training import load_ladder
from station.training.plan_view import adherence_view, plan_state
from station.trials.demo_history import record_training_session
from station.trials.tasks import DETECTORS

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 9, 7, 17, 0, tzinfo=UTC)  # a Monday
WEEKS = 6


@pytest.fixture(scope="module")
def calibration() -> dict:
    cal, problem = try_load_calibration(ROOT / "calibration" / "sim-board.json")
    assert problem is None
    return cal.to_dict()


def improving(week: float) -> float:
    return 0.45 + 0.45 * min(week / 4.0, 1.0)


def train_weeks(store, calibration, name: str, soreness) -> str:
    """Mon/Wed/Fri for WEEKS weeks, four holds each; soreness(week) is the athlete's log."""
    uid = store.add_athlete(Athlete(name=name))
    ladder = load_ladder(available_tasks=set(DETECTORS))
    rng = np.random.default_rng(7)
    for k in range(WEEKS * 3):
        day = START + timedelta(weeks=k // 3, days=2 * (k % 3))
        week = (day - START).days / 7
        record_training_session(
            store, uid, day=day, rng=rng, calibration=calibration, ladder=ladder,
            skill=lambda side, w=week: improving(w), mass_kg=70.0,
            soreness=soreness(week), stiffness=2, seed=1000 * k, max_trials=4,
        )
    return uid


def test_improving_climbs_and_rising_soreness_is_held_back(tmp_path, calibration) -> None:
    store = open_store(tmp_path, upgrade=True)
    try:
        ladder = load_ladder(available_tasks=set(DETECTORS))
        fine = train_weeks(store, calibration, "Improves", lambda w: 2)
        sore = train_weeks(store, calibration, "Gets sore",
                           lambda w: int(min(9, 2 + 2.5 * max(w - 1.5, 0))))
        fine_stage = ladder.index(plan_state(store, fine, ladder).stage)
        sore_stage = ladder.index(plan_state(store, sore, ladder).stage)
        fine_changes = training_plans.stage_changes(store, fine)
        sore_changes = training_plans.stage_changes(store, sore)
        assert fine_stage >= 3, [(c.change, c.to_stage) for c in fine_changes]
        assert [c.change for c in fine_changes].count("up") >= 3
        assert "down" not in [c.change for c in fine_changes]
        assert sore_stage < fine_stage
        downs = [c for c in sore_changes if c.change == "down"]
        assert downs and all("soreness" in c.reason for c in downs)
        assert all(c.by == "station (progression rule)" for c in fine_changes + sore_changes)
        # every session was a training session, 3 a week: on plan
        sessions = store.list_sessions(fine)
        assert {s.kind for s in sessions} == {"training"} and len(sessions) == WEEKS * 3
        rows = store.athlete_history(fine)
        assert {r["session_kind"] for r in rows} == {"training"}
        assert adherence_view(store, fine, ladder, (START + timedelta(weeks=WEEKS)).date())[
            "weeks_on_plan"] == 3
    finally:
        store.close()
