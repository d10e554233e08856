"""A battery's progress is the station's (station.trials.battery, /api/sessions/<id>/battery):
derived from the session's saved trials and its skipped/current steps, so a reload or another
device resumes it; failed steps say why in words; bad requests and roles are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_headers_for, login_as, send_json

from station.protocols import get_protocol, load_protocols
from station.store import Athlete, SessionRecord, Store, TrialRecord
from station.store.repository import open_store
from station.trials import battery

BASELINE = get_protocol("baseline")
STEP_IDS = [s.spec.id for s in battery.plan(BASELINE)]
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def save_step(store: Store, session: str, step: int, outcome: str = "complete", *,
              at: datetime | None = None, ttf: float | None = None,
              reason: str | None = None, trial_id: str | None = None) -> str:
    """A saved trial of the baseline battery's step `step` (seq = step)."""
    spec = BASELINE.trial(trial_id or STEP_IDS[step - 1])
    return store.save_trial(TrialRecord(
        session_uid=session, seq=step, stance=spec.stance, eyes=spec.eyes, surface=spec.surface,
        planned_duration_s=spec.duration_s, outcome=outcome,
        duration_s=spec.duration_s if outcome == "complete" else (ttf or 1.0),
        started_at=at or datetime.now(UTC), protocol="baseline", task=spec.task,
        spec=spec.to_json(), time_to_failure_s=ttf, failure_reason=reason,
        score=70.0 if outcome == "complete" else 20.0,
    ))


@pytest.fixture
def athlete(web_store: Store) -> str:
    return web_store.add_athlete(Athlete(name="Ada Example", team="U18"))


@pytest.fixture
def session(web_store: Store, athlete: str) -> str:
    return web_store.create_session(SessionRecord(athlete_uid=athlete, protocol="baseline"))


def run_of(store: Store, session: str, now: datetime | None = None) -> battery.Progress:
    return battery.progress(store, session, load_protocols(), now)


# -- the derivation ----------------------------------------------------------------------------


def test_a_new_battery_is_all_pending_with_human_labels(web_store: Store, session: str) -> None:
    run = run_of(web_store, session)
    assert [s.status for s in run.steps] == ["pending"] * len(STEP_IDS)
    assert run.current == 1 and not run.finished and run.rest_remaining_s == 0
    labels = [s.label for s in run.steps]
    assert labels[0] == "Left leg, eyes open"
    assert "Right leg, eyes open, foam" in labels and "Both feet, eyes open, push" in labels
    assert not any(trial_id in " ".join(labels) for trial_id in STEP_IDS)  # no raw ids


def test_done_failed_and_repeated_then_done(web_store: Store, session: str) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    save_step(web_store, session, 1, at=t0)
    save_step(web_store, session, 2, "failed", at=t0 + timedelta(minutes=1), ttf=12.4,
              reason="touch_down_floor")
    save_step(web_store, session, 3, "failed", at=t0 + timedelta(minutes=2), ttf=3.0,
              reason="step_off")
    save_step(web_store, session, 3, at=t0 + timedelta(minutes=3))  # the repeat held
    run = run_of(web_store, session)
    one, two, three = run.steps[:3]
    assert (one.status, two.status, three.status) == ("done", "failed", "done")
    assert three.attempts == 2 and three.last is not None and three.last["outcome"] == "complete"
    assert two.last is not None and two.last["time_to_failure_s"] == pytest.approx(12.4)
    # nothing marked current: the first step without a result (a failed one is repeated
    # only when the operator makes it current again)
    assert run.current == 4


def test_current_follows_the_marked_step(web_store: Store, session: str) -> None:
    protocols = load_protocols()
    save_step(web_store, session, 1, at=datetime.now(UTC) - timedelta(minutes=5))
    assert run_of(web_store, session).current == 2
    save_step(web_store, session, 2, "failed", ttf=4.0, reason="touch_down_board",
              at=datetime.now(UTC) - timedelta(minutes=4))
    battery.mark_current(web_store, session, 2, protocols)  # the page stays on it: repeat
    assert run_of(web_store, session).current == 2
    battery.mark_current(web_store, session, 3, protocols)  # "Next"
    assert run_of(web_store, session).current == 3
    save_step(web_store, session, 3, at=datetime.now(UTC) - timedelta(minutes=3))
    assert run_of(web_store, session).current == 4  # a done current step moves on by itself


def test_skipped_steps_and_unskipping(web_store: Store, session: str) -> None:
    protocols = load_protocols()
    battery.mark_current(web_store, session, 1, protocols)
    run = battery.skip(web_store, session, 1, protocols)
    assert run.steps[0].status == "skipped" and run.current == 2
    run = battery.skip(web_store, session, 5, protocols)  # ahead of time: not the current one
    assert run.steps[4].status == "skipped" and run.current == 2
    run = battery.mark_current(web_store, session, 1, protocols)  # run it after all
    assert run.steps[0].status == "pending" and run.current == 1
    assert run.count("skipped") == 1


def test_every_step_resolved_finishes_the_battery(web_store: Store, session: str) -> None:
    protocols = load_protocols()
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for step in range(1, len(STEP_IDS)):
        save_step(web_store, session, step, at=t0 + timedelta(minutes=step))
    run = battery.skip(web_store, session, len(STEP_IDS), protocols)
    assert run.current is None and run.finished
    assert battery.open_battery(web_store, run.athlete_uid, protocols) is None


def test_invalid_and_mismatched_trials(web_store: Store, session: str) -> None:
    uid = save_step(web_store, session, 1, at=datetime.now(UTC) - timedelta(minutes=3))
    web_store.invalidate_trial(uid, "the athlete held the rail", actor="physio")
    save_step(web_store, session, 2, trial_id="hop-left",  # seq 2 but another trial: not step 2
              at=datetime.now(UTC) - timedelta(minutes=2))
    run = run_of(web_store, session)
    assert run.steps[0].status == "failed" and run.steps[0].last is None
    assert run.steps[0].invalid_reason == "the athlete held the rail"
    assert run.steps[1].status == "pending"


def test_rest_counts_down_from_the_result(web_store: Store, session: str) -> None:
    protocols = load_protocols()
    held_from = NOW - timedelta(seconds=25)
    save_step(web_store, session, 1, at=held_from)  # held 20 s: ended 5 s before NOW at least
    run = run_of(web_store, session, NOW)
    assert run.rest_remaining_s == pytest.approx(30 - 5)  # left-open-firm: rest_s = 30
    battery.mark_current(web_store, session, 2, protocols, rest=True,
                         now=NOW - timedelta(seconds=2))  # the page saw the result 2 s ago
    assert run_of(web_store, session, NOW).rest_remaining_s == pytest.approx(28)
    assert run_of(web_store, session, NOW + timedelta(minutes=2)).rest_remaining_s == 0


def test_a_reload_or_another_device_resumes_it(web_store: Store, session: str,
                                              athlete: str, tmp_path: Any) -> None:
    protocols = load_protocols()
    save_step(web_store, session, 1, at=datetime.now(UTC) - timedelta(minutes=2))
    battery.skip(web_store, session, 2, protocols)
    before = run_of(web_store, session)
    with open_store(tmp_path / "data") as other:  # another process reading the same store
        resumed = battery.open_battery(other, athlete, protocols)
    assert resumed is not None and resumed.session_uid == session
    assert [s.status for s in resumed.steps] == [s.status for s in before.steps]
    assert resumed.current == before.current == 3


def test_only_todays_unfinished_batteries_are_offered(web_store: Store, athlete: str) -> None:
    protocols = load_protocols()
    yesterday = datetime.now(UTC) - timedelta(days=1, hours=1)
    web_store.create_session(
        SessionRecord(athlete_uid=athlete, protocol="baseline", started_at=yesterday))
    assert battery.open_battery(web_store, athlete, protocols) is None
    romberg = web_store.create_session(SessionRecord(athlete_uid=athlete, protocol="romberg"))
    finished = web_store.create_session(SessionRecord(athlete_uid=athlete, protocol="baseline"))
    battery.finish(web_store, finished, protocols)
    offered = battery.open_battery(web_store, athlete, protocols)
    assert offered is not None and offered.session_uid == romberg  # the newest unfinished
    with pytest.raises(battery.BatteryError, match="already finished"):
        battery.finish(web_store, finished, protocols)
    with pytest.raises(battery.BatteryError, match="finished"):
        battery.skip(web_store, finished, 1, protocols)


# -- the API -----------------------------------------------------------------------------------


def test_the_api_shows_steps_results_and_reasons(app: Flask, web_store: Store, session: str,
                                                 athlete: str) -> None:
    save_step(web_store, session, 1, "failed", ttf=12.4, reason="touch_down_floor",
              at=datetime.now(UTC) - timedelta(seconds=20))  # held 12.4 s: ended ~7.6 s ago
    physio = login_as(app.test_client(), "physio")
    body = physio.get(f"/api/sessions/{session}/battery").get_json()
    assert body["session_uid"] == session and body["athlete_uid"] == athlete
    assert body["protocol"] == {"id": "baseline", "name": "Baseline battery"}
    first = body["steps"][0]
    assert first["label"] == "Left leg, eyes open" and first["status"] == "failed"
    assert first["reason"] == "The free foot touched the floor at 12.4 s of 20 s"
    assert first["result"]["held_s"] == pytest.approx(12.4) and first["result"]["score"] == 20
    assert body["counts"]["failed"] == 1 and body["counts"]["pending"] == len(STEP_IDS) - 1
    assert body["n_steps"] == len(STEP_IDS) and body["current"] == 2
    assert 15 < body["rest_remaining_s"] < 30 - 7
    opened = physio.get(f"/api/athletes/{athlete}/battery").get_json()
    assert opened["open"]["session_uid"] == session


def test_the_api_changes_the_state_and_a_reload_sees_it(app: Flask, session: str,
                                                        athlete: str) -> None:
    physio = login_as(app.test_client(), "physio")
    url = f"/api/sessions/{session}/battery"
    r = send_json(physio, "POST", f"{url}/skip", {"athlete_uid": athlete, "step": 1})
    assert r.status_code == 200 and r.get_json()["steps"][0]["status"] == "skipped"
    r = send_json(physio, "POST", f"{url}/current", {"athlete_uid": athlete, "step": 4})
    assert r.get_json()["current"] == 4
    phone = login_as(app.test_client(), "physio")  # another device, same physio
    again = phone.get(url).get_json()
    assert again["current"] == 4 and again["steps"][0]["status"] == "skipped"
    r = send_json(phone, "POST", f"{url}/finish", {"athlete_uid": athlete})
    assert r.status_code == 200 and r.get_json()["finished"]
    assert phone.get(f"/api/athletes/{athlete}/battery").get_json() == {"open": None}


def test_bad_requests_say_what_is_wrong(app: Flask, web_store: Store, session: str,
                                        athlete: str) -> None:
    physio = login_as(app.test_client(), "physio")
    url = f"/api/sessions/{session}/battery"
    missing = physio.get("/api/sessions/no-such-session/battery")
    assert missing.status_code == 404 and "no session" in missing.get_json()["error"]
    assert physio.get("/api/athletes/nobody/battery").status_code == 404
    other = web_store.add_athlete(Athlete(name="Ben Example"))
    wrong = send_json(physio, "POST", f"{url}/skip", {"athlete_uid": other, "step": 1})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "athlete_uid"
    n_steps = sum(t.count for t in get_protocol("baseline").trials)
    beyond = send_json(physio, "POST", f"{url}/skip", {"athlete_uid": athlete, "step": 99})
    assert beyond.status_code == 400 and f"steps 1 to {n_steps}" in beyond.get_json()["error"]
    not_int = send_json(physio, "POST", f"{url}/current", {"step": "two"})
    assert not_int.status_code == 400 and not_int.get_json()["field"] == "step"
    plain = web_store.create_session(SessionRecord(athlete_uid=athlete))  # no protocol
    assert physio.get(f"/api/sessions/{plain}/battery").status_code == 409
    assert send_json(physio, "POST", f"{url}/finish", {}).status_code == 200
    closed = send_json(physio, "POST", f"{url}/skip", {"athlete_uid": athlete, "step": 2})
    assert closed.status_code == 409 and "finished" in closed.get_json()["error"]
    assert send_json(physio, "POST", f"{url}/finish", {}).status_code == 409


def test_roles_see_what_they_may(app: Flask, web_store: Store, session: str) -> None:
    save_step(web_store, session, 1, "failed", ttf=3.0, reason="step_off",
              at=datetime.now(UTC) - timedelta(minutes=1))
    url = f"/api/sessions/{session}/battery"
    assert app.test_client().get(url).status_code == 401
    for role in ("admin", "physio", "coach"):
        step = app.test_client().get(url, headers=api_headers_for(app, role)).get_json()
        assert step["steps"][0]["reason"] == "Stepped off the board at 3.0 s of 20 s", role
    kiosk = login_as(app.test_client(), "kiosk")
    seen = kiosk.get(url).get_json()["steps"][0]
    assert seen["status"] == "failed" and seen["label"] == "Left leg, eyes open"
    assert seen["reason"] is None and seen["result"] is None  # history is not a kiosk's


def test_a_stopped_trial_fails_its_step_with_how_long_it_held(app: Flask, web_store: Store,
                                                             session: str) -> None:
    trials = get_protocol("baseline").trials
    push_step = next(i for i, t in enumerate(trials, start=1) if t.task == "push")
    save_step(web_store, session, push_step, "aborted", ttf=None,
              at=datetime.now(UTC) - timedelta(minutes=1))
    physio = login_as(app.test_client(), "physio")
    push = physio.get(f"/api/sessions/{session}/battery").get_json()["steps"][push_step - 1]
    assert push["label"] == "Both feet, eyes open, push" and push["status"] == "failed"
    assert push["reason"] == "Stopped after 1.0 s of 20 s"
    assert push["result"]["outcome"] == "aborted" and push["result"]["held_s"] is None


def test_a_finished_battery_takes_no_more_trials(app: Flask, fake_runtime, session: str,
                                                 athlete: str) -> None:
    physio = login_as(app.test_client(), "physio")
    body = {"protocol": "baseline", "trial": STEP_IDS[0], "athlete_uid": athlete,
            "session_uid": session, "seq": 1}
    started = send_json(physio, "POST", "/api/trials/start", body)  # open: accepted
    assert started.status_code == 201, started.get_json()
    assert send_json(physio, "POST", "/api/trials/current/abort", {}).status_code == 200
    fake_runtime.trials.wait_idle()
    url = f"/api/sessions/{session}/battery"
    assert send_json(physio, "POST", f"{url}/finish", {"athlete_uid": athlete}).status_code == 200
    refused = send_json(physio, "POST", "/api/trials/start", body)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["field"] == "session_uid"
    assert "finished" in refused.get_json()["error"]
    assert fake_runtime.trials.status()["state"] != "armed"  # nothing was started
    without = send_json(physio, "POST", "/api/trials/start", {**body, "session_uid": None})
    assert without.status_code == 201  # a new visit: the station opens a session for it
    assert send_json(physio, "POST", "/api/trials/current/abort", {}).status_code == 200
