"""Sessions the server ends: a saved cookie stops working after logout, a password reset,
a deactivation or a role change; the lifetime is the server's (12 h, a kiosk 30 days); the
admin sees and ends sessions; an open live stream ends with its session."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import PASSWORDS, api_headers_for, csrf_headers, login_as, send_json

from station import access
from station.store import records, repository
from station.web import live_stream


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    """A new browser holding a copy of a saved session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def works(client: FlaskClient) -> bool:
    status = client.get("/api/athletes").status_code
    assert status in (200, 401, 403)
    return status == 200


def test_a_saved_cookie_stops_working_after_logout(app: Flask) -> None:
    coach = login_as(app.test_client(), "coach")
    cookie, headers = saved_cookie(coach), csrf_headers(coach)
    assert coach.post("/logout", headers=headers).status_code == 302
    thief = replay(app, cookie)
    assert not works(thief)
    change = thief.post("/api/athletes", json={"name": "Eve"}, headers=headers)
    assert change.status_code == 401  # state changes included
    assert thief.get("/coach").status_code == 302  # pages send it to the login


def test_a_password_reset_ends_the_users_sessions_but_not_the_admins(app: Flask) -> None:
    coach = login_as(app.test_client(), "coach")
    kiosk = login_as(app.test_client(), "kiosk")  # the coach's kiosk ends too
    admin = login_as(app.test_client(), "admin")
    other_admin = login_as(app.test_client(), "admin")
    done = send_json(admin, "PATCH", "/api/users/coach", {"password": "a-new-password-1"})
    assert done.status_code == 200
    assert not works(coach)
    assert kiosk.get("/api/trials/current").status_code == 401
    assert works(admin)
    # an admin changing their own password keeps this session and ends the others
    own = send_json(admin, "PATCH", "/api/users/admin", {"password": "admin-new-pw-1"})
    assert own.status_code == 200
    assert works(admin) and not works(other_admin)


def test_deactivating_and_reactivating_does_not_revive_a_cookie(app: Flask) -> None:
    coach = login_as(app.test_client(), "coach")
    cookie = saved_cookie(coach)
    admin = login_as(app.test_client(), "admin")
    assert send_json(admin, "PATCH", "/api/users/coach", {"active": False}).status_code == 200
    assert send_json(admin, "PATCH", "/api/users/coach", {"active": True}).status_code == 200
    assert not works(replay(app, cookie))
    assert works(login_as(app.test_client(), "coach"))  # a new login works


def test_a_role_change_ends_the_sessions(app: Flask) -> None:
    physio = login_as(app.test_client(), "physio")
    admin = login_as(app.test_client(), "admin")
    assert send_json(admin, "PATCH", "/api/users/physio", {"role": "coach"}).status_code == 200
    assert not works(physio)


@pytest.mark.parametrize(
    ("role", "lifetime"), [("coach", timedelta(hours=12)), ("kiosk", timedelta(days=30))]
)
def test_the_server_enforces_the_lifetime_whatever_the_cookie_says(
    app: Flask, monkeypatch: pytest.MonkeyPatch, role: str, lifetime: timedelta
) -> None:
    client = login_as(app.test_client(), role)
    path = "/api/trials/current"
    assert client.get(path).status_code == 200
    start = records.utcnow()
    monkeypatch.setattr(repository, "utcnow", lambda: start + lifetime - timedelta(minutes=1))
    assert client.get(path).status_code == 200
    monkeypatch.setattr(repository, "utcnow", lambda: start + lifetime + timedelta(minutes=1))
    assert client.get(path).status_code == 401


def test_a_cookie_without_a_server_session_is_refused(app: Flask, web_store) -> None:
    """What the signed cookie used to hold (the username and uid) is no login any more:
    a cookie from before the upgrade, or one made with a stolen secret key, gets nothing."""
    client = app.test_client()
    coach = web_store.get_user("coach")
    with client.session_transaction() as session:
        session.update(user="coach", user_uid=coach.uid)
        session.permanent = True
    assert not works(client)
    with client.session_transaction() as session:
        session.update(sid="a guessed secret")
    assert not works(client)


def test_the_admin_sees_and_ends_sessions(app: Flask) -> None:
    laptop, phone = login_as(app.test_client(), "coach"), login_as(app.test_client(), "coach")
    kiosk = login_as(app.test_client(), "kiosk")
    admin = login_as(app.test_client(), "admin")
    listed = admin.get("/api/login-sessions").get_json()["sessions"]
    assert sorted((s["username"], s["kind"]) for s in listed) == [
        ("admin", "user"),
        ("coach", "kiosk"),
        ("coach", "user"),
        ("coach", "user"),
    ]
    assert [s["current"] for s in listed if s["username"] == "admin"] == [True]
    assert all("secret" not in key for s in listed for key in s)
    assert all(s["address"] == "127.0.0.1" for s in listed)
    kiosk_uid = next(s["uid"] for s in listed if s["kind"] == "kiosk")
    ended = send_json(admin, "DELETE", f"/api/login-sessions/{kiosk_uid}", None)
    assert ended.status_code == 200
    assert kiosk.get("/api/trials/current").status_code == 401
    assert works(laptop) and works(phone)
    again = send_json(admin, "DELETE", f"/api/login-sessions/{kiosk_uid}", None)
    assert again.status_code == 404
    assert len(admin.get("/api/login-sessions").get_json()["sessions"]) == 3


def test_the_settings_page_lists_sessions_per_user_with_end(app: Flask) -> None:
    login_as(app.test_client(), "coach")
    admin = login_as(app.test_client(), "admin")
    page = admin.get("/settings").get_data(as_text=True)
    assert 'id="sessions"' in page and 'id="seclog"' in page
    assert '"sessions": [' in page and '"kind": "user"' in page
    assert '"security_log": [' in page and '"kind": "login"' in page


def test_a_kiosk_is_not_revived_by_re_creating_its_owner(app: Flask, web_store) -> None:
    kiosk = login_as(app.test_client(), "kiosk")  # turned on by the coach
    admin = login_as(app.test_client(), "admin")
    assert send_json(admin, "DELETE", "/api/users/coach", None).status_code == 200
    access.create_user(web_store, "coach", "coach", PASSWORDS["coach"])
    assert kiosk.get("/api/trials/current").status_code == 401


def _read_until_ended(response, seconds: float) -> str:
    """Read an open SSE response until its `ended` event (or `seconds` pass)."""
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        for chunk in response.response:
            seen.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
            if "event: ended" in seen[-1]:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(seconds)
    return "".join(seen)


@pytest.mark.parametrize("via", ["session", "token"])
def test_an_open_live_stream_ends_with_its_session_or_token(
    app: Flask, web_store, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    monkeypatch.setattr(live_stream, "RECHECK_S", 0.2)
    client = app.test_client()
    headers = {}
    if via == "session":
        login_as(client, "coach")
    else:
        headers = api_headers_for(app, "coach", name="watcher")
    stream = client.get("/api/live", headers=headers, buffered=False)
    assert stream.status_code == 200
    started = time.monotonic()
    if via == "session":
        assert client.post("/logout", headers=csrf_headers(client)).status_code == 302
    else:
        [token] = [t for t in web_store.list_api_tokens() if t.name == "watcher"]
        web_store.revoke_api_token(token.uid)
    text = _read_until_ended(stream, seconds=5)
    stream.close()
    assert "event: ended" in text
    assert time.monotonic() - started < 3
