"""One board, several screens: a trial's owner, takeover with confirmation, reload
recovery and the armed-trial expiry (the runner and the API; the pages: tests/browser)."""

from __future__ import annotations

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403
from web_fixtures import login_as, seed_history, send_json

from station.calibration import load_calibration
from station.commands._common import SIM_CALIBRATION
from station.frames import Frame
from station.samples import Sample
from station.trials.runner import NotTheOwner, TrialOwner, TrialRequest, TrialRunner
from station.trials.thresholds import HoldConfig

KIOSK = TrialOwner("kiosk:1", "kiosk of coach", "kiosk", athlete="Jordan Smith")
PHYSIO = TrialOwner("session:2", "physio", "physio")


@pytest.fixture
def runner():
    cal = load_calibration(SIM_CALIBRATION)
    runner = TrialRunner(lambda: cal.to_dict(), hold_config=HoldConfig(armed_timeout_s=10.0))
    yield runner
    runner.close()


def start(runner: TrialRunner, owner: TrialOwner | None, **kw) -> dict:
    return runner.start(TrialRequest("single-leg-left", "left-open-firm", owner=owner), **kw)


def test_the_owner_is_named_in_the_status_and_the_label(runner) -> None:
    status = start(runner, KIOSK)
    assert status["owner"]["label"] == "Jordan Smith — started at the kiosk (kiosk of coach)"
    assert status["owner"]["screen"] == "kiosk" and status["run"] == 1
    assert runner.owns_current(KIOSK) and not runner.owns_current(PHYSIO)


def test_another_screen_must_take_over_and_the_owner_is_told(runner) -> None:
    start(runner, KIOSK)
    with pytest.raises(NotTheOwner) as refused:
        runner.abort(by=PHYSIO)
    assert refused.value.owner == KIOSK and "Jordan Smith" in str(refused.value)
    with pytest.raises(NotTheOwner):
        start(runner, PHYSIO)
    assert runner.is_running and runner.owns_current(KIOSK)  # nothing changed
    runner.abort(by=PHYSIO, takeover=True)
    status = runner.status()
    assert status["state"] == "aborted" and status["abort_reason"] == "operator_took_over"
    assert status["aborted_by"] == PHYSIO.label
    aborted = [e for e in runner.take_events() if e["kind"] == "trial_aborted"]
    assert aborted[-1]["detail"] == {"reason": "operator_took_over", "by": PHYSIO.label}
    runner.wait_idle()
    assert runner.last_result.summary()["aborted_by"] == PHYSIO.label


def test_a_takeover_start_aborts_the_owners_trial_and_starts_the_new_one(runner) -> None:
    start(runner, KIOSK)
    status = start(runner, PHYSIO, takeover=True)
    assert status["owner"]["screen"] == "physio" and status["run"] == 2
    runner.wait_idle()
    assert runner.last_result.abort_reason == "operator_took_over"
    assert runner.last_result.aborted_by == PHYSIO.label


def test_the_owner_stops_its_own_trial_without_takeover(runner) -> None:
    start(runner, KIOSK)
    runner.abort(by=KIOSK)
    assert runner.status()["abort_reason"] == "operator" and runner.status()["aborted_by"] is None


def feed_empty_board(runner: TrialRunner, seconds: float, clock: list[float]) -> None:
    for k in range(int(seconds * 10)):
        clock[0] += 0.1
        empty = Sample(k / 10, 0.0, 0.0, 0.0, (0.0,) * 4)
        runner.on_frame(Frame(k * 100_000_000, (0, 0, 0, 0)), empty)


def test_an_armed_trial_with_nobody_on_the_board_expires(runner, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("station.trials.runner.time.monotonic", lambda: clock[0])
    start(runner, KIOSK)
    feed_empty_board(runner, 5.0, clock)
    assert runner.is_running and 4.0 < runner.status()["expires_in_s"] < 6.0
    feed_empty_board(runner, 6.0, clock)
    assert not runner.is_running
    assert runner.status()["abort_reason"] == "armed_timeout"


def test_the_armed_timeout_is_a_hold_setting() -> None:
    assert HoldConfig().armed_timeout_s == 120.0
    assert HoldConfig.from_dict({"armed_timeout_s": 300}).armed_timeout_s == 300.0


# -- the API, two screens ---------------------------------------------------------------------
@pytest.fixture
def seeded(app: Flask, web_store) -> dict:
    return seed_history(web_store)


START = {"protocol": "single-leg-left", "trial": "left-open-firm"}


def test_the_api_names_the_owner_and_asks_for_takeover(app: Flask, seeded, fake_runtime) -> None:
    kiosk = login_as(app.test_client(), "kiosk")
    physio = login_as(app.test_client(), "physio")
    body = {**START, "athlete_uid": seeded["athletes"][0]}
    assert send_json(kiosk, "POST", "/api/trials/start", body).status_code == 201
    seen = physio.get("/api/trials/current").get_json()
    assert seen["yours"] is False and "started at the kiosk" in seen["status"]["owner"]["label"]
    refused = send_json(physio, "POST", "/api/trials/current/abort", {})
    assert refused.status_code == 409 and refused.get_json()["takeover"] is True
    assert refused.get_json()["owner"]["screen"] == "kiosk"
    assert send_json(physio, "POST", "/api/trials/start", START).status_code == 409
    # the kiosk reloads: the same kiosk session is the same owner, and may stop its trial
    mine = kiosk.get("/api/trials/current").get_json()
    assert mine["yours"] is True and mine["status"]["state"] == "empty"
    taken = send_json(physio, "POST", "/api/trials/start", {**START, "takeover": True})
    assert taken.status_code == 201 and taken.get_json()["status"]["owner"]["screen"] == "physio"
    fake_runtime.trials.wait_idle()
    told = kiosk.get("/api/trials/current").get_json()
    assert told["yours"] is False
    assert told["last_result"]["abort_reason"] == "operator_took_over"
    assert "physio" in told["last_result"]["aborted_by"]
    assert send_json(physio, "POST", "/api/trials/current/abort", {}).status_code == 200
