"""The demo's weeks of history: made by the simulator and the real analysis, telling each
athlete's story, flagged as demo, made once, bounded in cost; the live demo continues it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from station.analysis.history.envelope import envelope_of
from station.analysis.history.game_summary import game_summary
from station.analysis.pipeline import ANALYSIS_VERSION
from station.calibration import try_load_calibration
from station.store import open_store
from station.trials import demo_history
from station.trials.autopilot import DemoLoop
from station.trials.demo_history import STORIES, ensure_demo_history, session_days

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def calibration() -> dict:
    cal, problem = try_load_calibration(ROOT / "calibration" / "sim-board.json")
    assert problem is None
    return cal.to_dict()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, calibration):
    store = open_store(tmp_path_factory.mktemp("demo"), upgrade=True)
    started = time.perf_counter()
    report = ensure_demo_history(store, calibration, now=NOW)
    elapsed = time.perf_counter() - started
    yield store, report, elapsed
    store.close()


def _by_name(store):
    return {a.name: a for a in store.list_athletes()}


def _velocity(rows) -> float:
    return float(np.mean([r["metrics"]["mean_velocity_mm_s"]["total"] for r in rows]))


def _single_leg(store, uid, stance):
    return [r for r in store.athlete_history(uid, metrics=True)
            if r["stance"] == stance and r["metrics"] and (r["task"] or "hold") == "hold"]


def test_the_history_is_bounded_flagged_and_analysed(demo_store) -> None:
    store, report, elapsed = demo_store
    assert report.athletes == 4
    assert 40 <= report.sessions <= 70 and report.trials == 3 * report.sessions
    assert elapsed < 60  # a few seconds here; the bench in the report gives the Pi's
    athletes = _by_name(store)
    assert set(athletes) == {s.name for s in STORIES}
    assert all(a.demo for a in athletes.values())
    rows = [r for a in athletes.values() for r in store.athlete_history(a.uid)]
    assert len(rows) == report.trials
    assert {r["analysis_version"] for r in rows} == {ANALYSIS_VERSION}
    assert {r["outcome"] for r in rows} <= {"complete", "failed"}
    assert any(r["outcome"] == "failed" for r in rows)
    assert all(r["has_raw"] for r in rows)
    first = min(r["started_at"] for r in rows)
    assert NOW - first > timedelta(weeks=5) and max(r["started_at"] for r in rows) < NOW
    trial = store.load_trial(rows[0]["uid"])
    assert trial.raw is not None and trial.raw.n > 0 and trial.score == rows[0]["score"]


def test_sessions_are_two_or_three_a_week_with_logs(demo_store) -> None:
    store, _, _ = demo_store
    alex = _by_name(store)["Demo · Alex Rivera"]
    sessions = store.list_sessions(alex.uid)
    weeks = {s.started_at.isocalendar()[:2] for s in sessions}
    per_week = [sum(1 for s in sessions if s.started_at.isocalendar()[:2] == w) for w in weeks]
    assert 2 <= np.mean(per_week) <= 3 and max(per_week) <= 3
    assert all(s.soreness is not None and s.stiffness is not None for s in sessions)
    days = session_days(np.random.default_rng(0), NOW)
    assert days == sorted(days) and all(d < NOW for d in days)


def test_each_athlete_tells_their_story(demo_store) -> None:
    store, _, _ = demo_store
    people = _by_name(store)
    alex = _single_leg(store, people["Demo · Alex Rivera"].uid, "single-left")
    assert _velocity(alex[-5:]) < 0.85 * _velocity(alex[:5])  # improving: sways less
    mia = people["Demo · Mia Lindqvist"].uid
    left, right = _single_leg(store, mia, "single-left"), _single_leg(store, mia, "single-right")
    early = _velocity(left[:5]) / _velocity(right[:5])
    late = _velocity(left[-5:]) / _velocity(right[-5:])
    assert late > early + 0.15  # a growing left/right asymmetry
    soreness = [s.soreness for s in store.list_sessions(mia)]
    assert np.mean(soreness[-4:]) > np.mean(soreness[:4]) + 2  # and she says it hurts
    noah = store.athlete_history(people["Demo · Noah Tanaka"].uid)
    assert NOW - noah[-1]["started_at"] > timedelta(weeks=2)  # stopped training
    sam = next(s for s in STORIES if s.kind == "plateau")
    assert sam.skill(3.0, "left") > sam.skill(0.0, "left")
    assert sam.skill(6.0, "left") == sam.skill(3.0, "left")


def test_training_sessions_have_games_los_first(demo_store) -> None:
    store, _, _ = demo_store
    for athlete in _by_name(store).values():
        rows = store.athlete_history(athlete.uid, metrics=True)
        games = [r for r in rows if r["task"] not in (None, "hold")]
        assert games and all(r["session_kind"] == "training" for r in games)
        assert games[0]["task"] == "limits_of_stability"  # an envelope before any other game
        assert envelope_of(games[0]["metrics"]) is not None
        assert {"weight_shift", "toe_taps"} <= {r["task"] for r in games}
        for r in games:  # measured by the real analysis, each by its own measures
            assert game_summary(r) is not None and r["score"] is not None
        assert len(games) == sum(1 for s in store.list_sessions(athlete.uid)
                                 if s.kind == "training")
    shift = next(r for r in games if r["task"] == "weight_shift")
    trial = store.load_trial(shift["uid"], with_raw=False)
    assert trial.spec["game"]["envelope_mm"] == list(envelope_of(games[0]["metrics"]))


def test_the_demo_loop_plays_a_game_now_and_then() -> None:
    loop = DemoLoop(None, runner=None, store=None, duration_s=12.0)  # type: ignore[arg-type]
    picks = [loop.next_trial(n) for n in range(16)]
    games = [p for p in picks if p[0] in ("weight-shift", "toe-taps")]
    assert len(games) == 4 and all(duration is None for *_, duration in games)
    holds = [p for p in picks if p not in games]
    assert [p[0] for p in holds[:3]] == ["single-leg-left", "single-leg-right", "romberg"]
    assert all(duration == 12.0 for *_, duration in holds)
    assert {p[1] for p in games} == {"heel-toe", "side-to-side", "left-taps", "right-taps"}


def test_it_is_made_once_and_again_after_removal(demo_store, tmp_path, calibration) -> None:
    store, _, _ = demo_store
    assert ensure_demo_history(store, calibration, now=NOW) is None  # already made
    small = open_store(tmp_path, upgrade=True)
    try:
        made = ensure_demo_history(small, calibration, now=NOW, weeks=1, duration_s=5.0)
        assert made is not None and made.trials > 0
        assert demo_history.demo_info(small)["trials"] == made.trials
        small.remove_demo_data(actor="admin")
        assert small.list_athletes() == [] and demo_history.demo_info(small) is None
        again = ensure_demo_history(small, calibration, now=NOW, weeks=1, duration_s=5.0)
        assert again is not None and again.trials > 0
    finally:
        small.close()


def test_a_stop_request_ends_it_early_and_marks_it_made(tmp_path, calibration) -> None:
    store = open_store(tmp_path, upgrade=True)
    try:
        report = ensure_demo_history(store, calibration, now=NOW, stop=lambda: True)
        assert report is not None and report.trials == 0
        assert ensure_demo_history(store, calibration, now=NOW) is None
    finally:
        store.close()


class _Runtime:
    def __init__(self, calibration):
        self.calibration = calibration

    def calibration_snapshot(self):
        return self.calibration


def test_the_demo_loop_continues_the_stories_and_obeys_the_switch(tmp_path, calibration):
    store = open_store(tmp_path, upgrade=True)
    try:
        loop = DemoLoop(_Runtime(calibration), runner=None, store=store)  # type: ignore[arg-type]
        athletes = loop._athletes()
        names = [name for _, name in athletes]
        assert "Demo · Noah Tanaka" not in names and len(names) == 3  # he stopped
        assert all(store.get_athlete(uid).demo for uid, _ in athletes)
        loop._plan("Demo · Mia Lindqvist", "left-open-firm")
        mass, skill, _ = loop.autopilot.profile
        mia = next(s for s in STORIES if s.kind == "asymmetry")
        assert (mass, skill) == (mia.mass_kg, mia.skill(6.0, "left"))  # where history ends
        assert loop.enabled()
        store.set_config_override("board.demo", False, actor="admin")
        assert not loop.enabled()
    finally:
        store.close()
