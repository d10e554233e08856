"""Health logs (a session's stiffness, soreness, sleep, notes) are written only by roles with
`write_health_log`, and their author is the authenticated principal, never a field of the
request nor a name a token was given (issue 18, item 6)."""

from __future__ import annotations

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_headers_for, login_as, seed_history, send_json

from station import access


@pytest.fixture
def athlete(web_store) -> str:
    return seed_history(web_store)["athletes"][0]


def sessions_of(web_store, athlete: str) -> dict[str, object]:
    return {s.uid: s for s in web_store.list_sessions(athlete)}


def test_writing_health_logs_is_a_capability_of_physio_and_admin() -> None:
    assert access.CAPABILITIES["write_health_log"] == {"admin", "physio"}


@pytest.mark.parametrize("role", ["coach", "kiosk"])
@pytest.mark.parametrize(
    "log", [{"stiffness": 4}, {"soreness": 7, "notes": "sore knee"}, {"sleep_hours": 5.0}]
)
def test_coach_and_kiosk_open_sessions_but_write_no_log(
    app: Flask, web_store, athlete: str, role: str, log: dict
) -> None:
    client = login_as(app.test_client(), role)
    before = sessions_of(web_store, athlete)
    refused = send_json(client, "POST", f"/api/athletes/{athlete}/sessions", log)
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["capability"] == "write_health_log" and body["field"] in log
    assert sessions_of(web_store, athlete) == before
    url = f"/api/athletes/{athlete}/sessions"
    opened = send_json(client, "POST", url, {"protocol": "baseline"})
    assert opened.status_code == 201 and opened.get_json()["stiffness"] is None


@pytest.mark.parametrize("role", ["coach", "kiosk"])
def test_coach_and_kiosk_change_no_log(app: Flask, web_store, athlete: str, role: str) -> None:
    session = next(iter(sessions_of(web_store, athlete)))
    client = login_as(app.test_client(), role)
    refused = send_json(client, "PATCH", f"/api/sessions/{session}", {"soreness": 1})
    assert refused.status_code == 403
    assert web_store.list_sessions(athlete)[0].soreness == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_the_author_is_never_a_field_of_the_request(
    app: Flask, web_store, athlete: str, method: str
) -> None:
    physio = login_as(app.test_client(), "physio")
    session = next(iter(sessions_of(web_store, athlete)))
    url = f"/api/athletes/{athlete}/sessions" if method == "POST" else f"/api/sessions/{session}"
    before = sessions_of(web_store, athlete)
    refused = send_json(physio, method, url, {"stiffness": 4, "operator": "admin"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "operator"
    assert "authenticated" in refused.get_json()["error"]
    assert sessions_of(web_store, athlete) == before


def test_the_author_is_who_is_logged_in(app: Flask, web_store, athlete: str) -> None:
    physio = login_as(app.test_client(), "physio")
    made = send_json(physio, "POST", f"/api/athletes/{athlete}/sessions", {"stiffness": 4})
    assert made.status_code == 201 and made.get_json()["operator"] == "physio"
    uid = made.get_json()["uid"]
    admin = login_as(app.test_client(), "admin")
    assert send_json(admin, "PATCH", f"/api/sessions/{uid}", {"notes": "better"}).status_code == 200
    stored = sessions_of(web_store, athlete)[uid]
    assert (stored.notes, stored.stiffness, stored.operator) == ("better", 4, "admin")


def test_a_kiosk_session_is_recorded_as_the_kiosk(app: Flask, athlete: str) -> None:
    kiosk = login_as(app.test_client(), "kiosk")  # turned on by the coach
    made = send_json(kiosk, "POST", f"/api/athletes/{athlete}/sessions", {"protocol": "baseline"})
    assert made.status_code == 201
    assert made.get_json()["operator"] == "kiosk of coach"


def test_a_token_cannot_borrow_a_user_name(app: Flask, web_store, athlete: str) -> None:
    headers = api_headers_for(app, "physio", name="admin")  # a token named like a user
    client = app.test_client()
    made = client.post(
        f"/api/athletes/{athlete}/sessions", json={"soreness": 3}, headers=headers
    )
    assert made.status_code == 201
    assert made.get_json()["operator"] == "API token admin"
    assert sessions_of(web_store, athlete)[made.get_json()["uid"]].operator != "admin"
