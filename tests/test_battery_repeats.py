"""The battery suggests a repeat of its key step only when averaging could resolve the change
(MDC95 = 1.96 * SEM * sqrt(1/k + 1/m)), and says why (issue 13 §3)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import pytest
from test_history_comparisons import row
from web_fixtures import *  # noqa: F403 (fixtures: web_store, app...)
from web_fixtures import login_as

from station.protocols import load_protocols
from station.store import Athlete, SessionRecord, TrialRecord
from station.trials import battery
from station.trials.battery_repeats import MAX_TRIALS, key_change, mdc95

SEM = 3.0 / (1.96 * math.sqrt(2))  # the scoring table's single-leg velocity MDC of 3.0 mm/s


def _run(session: str, key_values: list[float], finished: bool = False) -> battery.Progress:
    protocol = load_protocols()["baseline"]
    steps = battery.plan(protocol)
    key = next(s for s in steps if s.spec.id == protocol.key_trial)
    last = {"uid": "t", "outcome": "complete", "seq": key.number}
    steps = [dataclasses.replace(s, status="done", last=last, attempts=len(key_values))
             if s is key else s for s in steps]
    return battery.Progress(session_uid=session, athlete_uid="ada", protocol=protocol,
                            started_at=datetime(2025, 3, 10, tzinfo=UTC), steps=tuple(steps),
                            current=2, rest_remaining_s=0.0,
                            finished_at=datetime(2025, 3, 10, tzinfo=UTC) if finished else None)


def _rows(today: list[float]) -> list[dict]:
    return [row("b", velocity=30.0, session="s-base"),
            *[row(f"t{i}", day=7, minute=i, session="s-today", velocity=v)
              for i, v in enumerate(today)]]


def test_the_mdc_narrows_with_the_trials_averaged() -> None:
    assert mdc95(SEM, 1, 1) == pytest.approx(3.0)
    assert mdc95(SEM, 2, 1) == pytest.approx(1.96 * SEM * math.sqrt(1.5))
    assert mdc95(SEM, 3, 1) < mdc95(SEM, 2, 1) < mdc95(SEM, 1, 1)


def test_a_change_within_noise_that_two_trials_resolve_asks_for_one_more() -> None:
    out = key_change(_run("s-today", [27.2]), _rows([27.2]))  # -2.8: within 3.0, beyond 2.6
    assert out["verdict_text"] == "within measurement noise" and out["mdc"] == pytest.approx(3.0)
    hint = out["suggest"]
    assert hint["more"] == 1 and hint["trials"] == 2
    assert hint["mdc_with"] == pytest.approx(mdc95(SEM, 2, 1), abs=0.01)
    assert "one more trial suggested (optional)" in hint["reason"]
    assert "narrows that to 2.6 mm/s" in hint["reason"]


def test_a_smaller_change_asks_for_two_more_and_a_tiny_one_for_none() -> None:
    two = key_change(_run("s-today", [27.5]), _rows([27.5]))["suggest"]  # -2.5: needs 3
    assert two["more"] == 2 and two["trials"] == MAX_TRIALS
    assert key_change(_run("s-today", [29.5]), _rows([29.5]))["suggest"] is None  # noise


def test_no_repeat_for_a_real_change_nor_after_the_repeat_nor_in_the_baseline() -> None:
    real = key_change(_run("s-today", [25.0]), _rows([25.0]))
    assert real["verdict_text"] == "real improvement" and real["suggest"] is None
    after = key_change(_run("s-today", [27.2, 27.0]), _rows([27.2, 27.0]))
    assert after["trials"] == 2 and after["verdict_text"] == "real improvement"
    assert after["suggest"] is None
    assert key_change(_run("s-base", [30.0]), _rows([])) is None  # today is the baseline
    done = key_change(_run("s-today", [27.2], finished=True), _rows([27.2]))
    assert done["suggest"] is None


def test_the_battery_api_carries_the_key_change_and_the_repeat(app, web_store) -> None:
    protocol = load_protocols()["baseline"]
    spec = protocol.trial(protocol.key_trial)
    ada = web_store.add_athlete(Athlete(name="Ada Example"))

    def save(session: str, velocity: float, at: datetime) -> None:
        web_store.save_trial(TrialRecord(
            session_uid=session, seq=1, stance=spec.stance, eyes=spec.eyes,
            surface=spec.surface, planned_duration_s=spec.duration_s, outcome="complete",
            duration_s=spec.duration_s, started_at=at, protocol="baseline", task=spec.task,
            spec=spec.to_json(), score=70.0,
            metrics={"mean_velocity_mm_s": {"total": velocity}, "ellipse95_area_mm2": 200.0}))

    then = datetime.now(UTC) - timedelta(days=14)
    first = web_store.create_session(SessionRecord(athlete_uid=ada, protocol="baseline",
                                                   started_at=then))
    save(first, 30.0, then)
    today = web_store.create_session(SessionRecord(athlete_uid=ada, protocol="baseline"))
    save(today, 27.2, datetime.now(UTC))
    physio = login_as(app.test_client(), "physio")
    body = physio.get(f"/api/sessions/{today}/battery").get_json()
    assert body["key_change"]["verdict_text"] == "within measurement noise"
    assert body["key_change"]["suggest"]["step"] == 1 and body["key_change"]["suggest"]["more"] == 1
    kiosk = login_as(app.test_client(), "kiosk")
    assert kiosk.get(f"/api/sessions/{today}/battery").get_json()["key_change"] is None
