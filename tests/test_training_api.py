"""The training API: who may do what (physio/admin set the stage, the kiosk sees today's
session and records the athlete's own log, a coach reads adherence only), bad input, and
that the stage history records every change with its reason, who and when."""

from __future__ import annotations

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_headers_for, login_as, send_json

from station.store import Athlete


@pytest.fixture
def athlete(web_store) -> str:
    return web_store.add_athlete(Athlete(name="Tia Trainer", team="U18"))


def test_a_new_athlete_starts_at_the_first_stage(app: Flask, athlete: str) -> None:
    physio = login_as(app.test_client(), "physio")
    plan = physio.get(f"/api/athletes/{athlete}/training/plan").get_json()
    assert (plan["stage"], plan["has_plan"], plan["changes"]) == ("double-firm", False, [])
    assert plan["decision"]["action"] == "stay"
    stages = {s["id"]: s for s in plan["ladder"]["stages"]}
    assert all(s["available"] for s in stages.values())  # every task is built here
    assert plan["adherence"]["planned_per_week"] == [2, 3]


def test_the_physio_sets_the_stage_with_a_reason(app: Flask, athlete: str) -> None:
    physio = login_as(app.test_client(), "physio")
    url = f"/api/athletes/{athlete}/training/stage"
    made = send_json(physio, "POST", url, {"stage": "single-foam-20", "reason": "back from camp"})
    assert made.status_code == 201
    plan = physio.get(f"/api/athletes/{athlete}/training/plan").get_json()
    assert (plan["stage"], plan["pinned"]) == ("single-foam-20", True)
    [change] = plan["changes"]
    assert (change["to_stage"], change["change"], change["reason"], change["by"]) == (
        "single-foam-20", "set", "back from camp", "physio")
    assert "set by physio: back from camp" in plan["decision"]["reason"]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"stage": "single-foam-20", "reason": "   "}, "reason", "must not be empty"),
    ({"stage": "single-foam-20"}, "reason", ""),
    ({"stage": "moon-walk", "reason": "why not"}, "stage", "no stage 'moon-walk'"),
    ({"stage": "single-firm-dynamic", "reason": "ready"}, "stage", "cannot run on this station"),
    ({"stage": "single-foam-20", "reason": "x", "pin": "yes"}, "pin", ""),
])
def test_a_bad_stage_change_is_refused_and_nothing_is_recorded(
    app: Flask, athlete: str, body: dict, field: str, words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a station whose task table lacks the toe taps: that stage cannot run here
    from station.training import load_ladder
    from station.trials.tasks import DETECTORS
    from station.web.views import api_training

    without_taps = load_ladder(available_tasks=set(DETECTORS) - {"toe_taps"})
    monkeypatch.setattr(api_training, "ladder", lambda: without_taps)
    admin = login_as(app.test_client(), "admin")
    refused = send_json(admin, "POST", f"/api/athletes/{athlete}/training/stage", body)
    assert refused.status_code == 400 and refused.get_json()["field"] == field
    assert words in refused.get_json()["error"]
    assert admin.get(f"/api/athletes/{athlete}/training/plan").get_json()["changes"] == []


def test_an_unknown_athlete_is_404(app: Flask) -> None:
    physio = login_as(app.test_client(), "physio")
    assert physio.get("/api/athletes/nobody/training/plan").status_code == 404
    assert send_json(physio, "POST", "/api/athletes/nobody/training/log", {}).status_code == 404


def test_the_kiosk_logs_as_the_athlete_and_gets_todays_session(
    app: Flask, web_store, athlete: str
) -> None:
    kiosk = login_as(app.test_client(), "kiosk")  # turned on by the coach
    today = kiosk.get(f"/api/athletes/{athlete}/training/today").get_json()
    assert today["rest_day"] is False and today["steps"] and today["session_uid"] is None
    made = send_json(kiosk, "POST", f"/api/athletes/{athlete}/training/log",
                     {"soreness": 2, "stiffness": 1, "relief": 8, "sleep_hours": 7.5,
                      "notes": "felt fine"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["operator"] == "athlete's own entry (kiosk of coach)"
    assert body["today"]["session_uid"] == body["session_uid"]
    [session] = web_store.list_sessions(athlete)
    assert (session.kind, session.relief, session.soreness, session.intensity) == (
        "training", 8, 2, body["today"]["intensity"])
    # the plan began with that first session, by the rule
    physio = login_as(app.test_client(), "physio")
    plan = physio.get(f"/api/athletes/{athlete}/training/plan").get_json()
    assert [c["change"] for c in plan["changes"]] == ["start"]
    assert plan["adherence"]["this_week"] == 1
    # and the kiosk may not read the plan, nor set the stage
    assert kiosk.get(f"/api/athletes/{athlete}/training/plan").status_code == 403
    stage = send_json(kiosk, "POST", f"/api/athletes/{athlete}/training/stage",
                      {"stage": "wobble", "reason": "x"})
    assert stage.status_code == 403


def test_a_log_out_of_range_or_with_an_author_is_refused(app: Flask, web_store,
                                                         athlete: str) -> None:
    kiosk = login_as(app.test_client(), "kiosk")
    url = f"/api/athletes/{athlete}/training/log"
    assert send_json(kiosk, "POST", url, {"soreness": 11}).get_json()["field"] == "soreness"
    assert send_json(kiosk, "POST", url, {"relief": -1}).get_json()["field"] == "relief"
    assert send_json(kiosk, "POST", url, {"operator": "physio"}).status_code == 400
    assert web_store.list_sessions(athlete) == []


def test_the_coach_reads_adherence_only(app: Flask, athlete: str) -> None:
    coach = login_as(app.test_client(), "coach")
    assert coach.get(f"/api/athletes/{athlete}/training/adherence").status_code == 200
    team = coach.get("/api/training/adherence").get_json()["athletes"]
    assert [a["name"] for a in team] == ["Tia Trainer"] and team[0]["this_week"] == 0
    assert coach.get(f"/api/athletes/{athlete}/training/plan").status_code == 403
    assert coach.get(f"/api/athletes/{athlete}/training/today").status_code == 403
    assert send_json(coach, "POST", f"/api/athletes/{athlete}/training/log",
                     {"soreness": 1}).status_code == 403


def test_a_physio_writing_the_log_is_its_author(app: Flask, athlete: str) -> None:
    headers = api_headers_for(app, "physio", name="clinic")
    made = app.test_client().post(f"/api/athletes/{athlete}/training/log", json={"soreness": 3},
                                  headers=headers)
    assert made.status_code == 201 and made.get_json()["operator"] == "API token clinic"
