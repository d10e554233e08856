"""POST /api/trials/start without a duration: the hold lasts the station's default
(station.default_duration_s, set on the Settings page), else the protocol's own length; a
duration in the body wins, and a hop keeps its protocol's length."""

from __future__ import annotations

from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import login_as, send_json

from station.protocols import load_protocols

HOLD = {"protocol": "baseline", "trial": "left-open-firm"}
HOP = {"protocol": "baseline", "trial": "hop-left"}


def _planned_s(app: Flask, fake_runtime, body: dict) -> float:
    """Start a trial as the physio, read the length it runs with, abort it."""
    physio = login_as(app.test_client(), "physio")
    started = send_json(physio, "POST", "/api/trials/start", body)
    assert started.status_code == 201, started.get_json()
    planned = fake_runtime.trials.current_spec.duration_s
    assert send_json(physio, "POST", "/api/trials/current/abort", {}).status_code == 200
    fake_runtime.trials.wait_idle()
    return planned


def test_a_trial_without_a_duration_lasts_the_station_default(app: Flask, fake_runtime) -> None:
    own = load_protocols()["baseline"].trial("left-open-firm").duration_s
    hop_own = load_protocols()["baseline"].trial("hop-left").duration_s
    assert _planned_s(app, fake_runtime, HOLD) == own  # default 0: the protocol's own
    admin = login_as(app.test_client(), "admin")
    assert send_json(admin, "PATCH", "/api/settings",
                     {"station.default_duration_s": 7}).status_code == 200
    assert own != 7.0
    assert _planned_s(app, fake_runtime, HOLD) == 7.0
    assert _planned_s(app, fake_runtime, {**HOLD, "duration_s": None}) == 7.0
    assert _planned_s(app, fake_runtime, {**HOLD, "duration_s": 12}) == 12.0  # asked: kept
    assert _planned_s(app, fake_runtime, HOP) == hop_own  # a hop is not a hold


def test_the_pages_are_given_the_length_the_trial_will_run(app: Flask, web_store) -> None:
    from station.web.views.page_data import protocols_view

    def lengths() -> dict[str, float]:
        with app.test_request_context():
            baseline = next(p for p in protocols_view() if p["id"] == "baseline")
        return {t["id"]: t["duration_s"] for t in baseline["trials"]}

    own = lengths()
    assert own["left-open-firm"] == load_protocols()["baseline"].trial("left-open-firm").duration_s
    web_store.set_config_override("station.default_duration_s", 7)
    now = lengths()
    assert now["left-open-firm"] == 7.0 and now["right-closed-firm"] == 7.0
    assert now["hop-left"] == own["hop-left"]  # a hop keeps its own
