"""Access control: setup gate, login and its rate limit, CSRF, roles, kiosk mode, tokens."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, fresh_app, app, client)
from web_fixtures import (
    PASSWORDS,
    api_headers_for,
    csrf_headers,
    csrf_token,
    login_as,
    make_app,
)

from station import access
from station.store import Athlete
from station.web import auth

# -- setup gate ---------------------------------------------------------------------------


def test_before_setup_only_setup_static_and_health_answer(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    page = client.get("/login")
    assert page.status_code == 302 and page.headers["Location"].endswith("/setup")
    api = client.get("/api/athletes")
    assert api.status_code == 503
    assert api.get_json() == {"error": "station not set up: open /setup"}
    assert client.get("/api/health").status_code == 200
    assert client.get("/setup").status_code == 200


def test_setup_creates_the_admin_and_logs_in(fresh_app: Flask, web_store) -> None:
    client = fresh_app.test_client()
    client.get("/setup")
    bad = client.post(
        "/setup",
        data={
            "username": "boss",
            "password": "short",
            "password2": "short",
            "csrf_token": csrf_token(client),
        },
    )
    assert bad.status_code == 400 and b"at least 8" in bad.data
    differ = client.post(
        "/setup",
        data={
            "username": "boss",
            "password": "long-enough-1",
            "password2": "long-enough-2",
            "csrf_token": csrf_token(client),
        },
    )
    assert differ.status_code == 400 and b"differ" in differ.data
    assert web_store.list_users() == []
    done = client.post(
        "/setup",
        data={
            "username": "boss",
            "password": "long-enough-1",
            "password2": "long-enough-1",
            "csrf_token": csrf_token(client),
        },
    )
    assert done.status_code == 302
    [user] = web_store.list_users()
    assert (user.username, user.role) == ("boss", "admin")
    assert user.password_hash.startswith("$argon2")
    assert auth.current_principal is not None
    # setup is closed for good
    assert client.get("/setup").status_code == 302
    again = fresh_app.test_client()
    again.get("/setup")
    assert (
        again.post(
            "/setup",
            data={
                "username": "mallory",
                "password": "long-enough-1",
                "password2": "long-enough-1",
                "csrf_token": csrf_token(again),
            },
        ).status_code
        == 302
    )
    assert [u.username for u in web_store.list_users()] == ["boss"]


def test_setup_post_without_csrf_is_refused(fresh_app: Flask, web_store) -> None:
    client = fresh_app.test_client()
    response = client.post(
        "/setup",
        data={"username": "boss", "password": "long-enough-1", "password2": "long-enough-1"},
    )
    assert response.status_code == 400
    assert web_store.list_users() == []


# -- login ------------------------------------------------------------------------------


def _login(client: FlaskClient, user: str, password: str, **extra: str):
    client.get("/login")
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": csrf_token(client), **extra},
    )


def test_login_success_sets_a_hardened_session_cookie(client: FlaskClient) -> None:
    response = _login(client, "physio", PASSWORDS["physio"], next="/athletes")
    assert response.status_code == 302 and response.headers["Location"] == "/athletes"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    me = client.get("/api/athletes")
    assert me.status_code == 200


def test_login_never_redirects_off_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = _login(client, "coach", PASSWORDS["coach"], next=target)
        assert response.headers["Location"] == "/"


def test_login_failure_says_so_and_logs_nobody_in(client: FlaskClient) -> None:
    response = _login(client, "physio", "wrong password")
    assert response.status_code == 401 and b"wrong username or password" in response.data
    assert _login(client, "nobody", "whatever-1").status_code == 401
    assert client.get("/api/athletes").status_code == 401


def test_login_is_rate_limited_per_user_and_address(client: FlaskClient, app: Flask) -> None:
    for _ in range(auth.LOGIN_MAX_FAILURES):
        assert _login(client, "coach", "wrong").status_code == 401
    locked = _login(client, "coach", PASSWORDS["coach"])  # even the right password waits
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= auth.LOGIN_WINDOW_S
    # another user from the same address is not locked out
    assert _login(app.test_client(), "physio", PASSWORDS["physio"]).status_code == 302


def test_a_lock_out_ends_when_its_window_has_passed(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask-Limiter's moving window: locked for LOGIN_WINDOW_S after the first failure,
    then the right password works again, and it clears the failures it follows."""
    offset = [0.0]
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + offset[0])
    for _ in range(auth.LOGIN_MAX_FAILURES):
        _login(client, "coach", "wrong")
    offset[0] = auth.LOGIN_WINDOW_S - 5
    locked = _login(client, "coach", PASSWORDS["coach"])
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) <= 6
    offset[0] = auth.LOGIN_WINDOW_S + 1
    assert _login(client, "coach", PASSWORDS["coach"]).status_code == 302
    for _ in range(auth.LOGIN_MAX_FAILURES - 1):  # the success cleared the old failures
        assert _login(client, "coach", "wrong").status_code == 401
    assert _login(client, "coach", PASSWORDS["coach"]).status_code == 302


def test_lookalike_usernames_share_their_failures(client: FlaskClient) -> None:
    """`Admin`, `ADMIN` and Cyrillic `аdmin` are one username to the limiter: no way round
    the lock-out by changing case or script."""
    for name in ("coach", "Coach", "COACH", "соach", "ｃｏａｃｈ"):  # Cyrillic с, о; full width
        assert _login(client, name, "wrong").status_code == 401
    assert _login(client, "coach", PASSWORDS["coach"]).status_code == 429


def test_login_requests_per_address_are_limited_whatever_they_say(app: Flask) -> None:
    """Even right passwords: at most LOGIN_REQUESTS_PER_MINUTE login POSTs a minute from one
    address (a script hammering the form costs argon2 work each time)."""
    client = app.test_client()
    for _ in range(auth.LOGIN_REQUESTS_PER_MINUTE):
        assert _login(client, "physio", PASSWORDS["physio"]).status_code == 302
    refused = _login(client, "physio", PASSWORDS["physio"])
    assert refused.status_code == 429 and b"from this address" in refused.data
    other = app.test_client()  # another address is not refused
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _login(other, "physio", PASSWORDS["physio"]).status_code == 302


def test_the_pdf_endpoint_is_limited_per_address(
    app: Flask, web_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BALANCE_STATION_CHROMIUM", "/nonexistent/chromium")  # 503 at once
    athlete = web_store.add_athlete(Athlete(name="Pdf Example"))
    client = login_as(app.test_client(), "coach")
    for _ in range(auth.PDF_REQUESTS_PER_MINUTE):
        assert client.get(f"/report/{athlete}.pdf").status_code == 503
    refused = client.get(f"/report/{athlete}.pdf")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 60


def test_the_station_app_serves_every_limited_path(app: Flask) -> None:
    served = {rule.rule for rule in app.url_map.iter_rules()}
    assert set(auth.REQUEST_LIMITS) <= served


def test_logout_needs_csrf_and_ends_the_session(client: FlaskClient) -> None:
    login_as(client, "coach")
    assert client.post("/logout").status_code == 400
    assert client.get("/api/athletes").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert client.get("/api/athletes").status_code == 401


def test_deleted_user_loses_the_session_at_once(client: FlaskClient, web_store) -> None:
    login_as(client, "coach")
    web_store.delete_user("coach")
    assert client.get("/api/athletes").status_code == 401


def test_a_role_change_ends_the_open_session(client: FlaskClient, web_store) -> None:
    login_as(client, "physio")
    token = csrf_token(client)
    web_store.update_user("physio", role="coach")
    body = {"name": "X"}
    response = client.post("/api/athletes", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 401
    login_as(client, "physio")  # logging in again gives the new role
    response = client.post("/api/athletes", json=body, headers=csrf_headers(client))
    assert response.status_code == 403


# -- CSRF ---------------------------------------------------------------------------------


def test_cookie_state_changes_need_the_csrf_token(client: FlaskClient) -> None:
    login_as(client, "physio")
    missing = client.post("/api/athletes", json={"name": "Cara"})
    assert missing.status_code == 400 and missing.get_json()["field"] == "csrf_token"
    wrong = client.post("/api/athletes", json={"name": "Cara"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 400
    right = client.post(
        "/api/athletes", json={"name": "Cara"}, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert right.status_code == 201


def test_a_csrf_token_works_only_with_its_own_session(app: Flask) -> None:
    """Attacks on Flask-WTF's check as the station uses it: another user's token, the token
    of this browser's previous login, a token signed with another key, the raw session
    value, a tampered token and a token in the query string are all refused."""
    from itsdangerous import URLSafeTimedSerializer

    physio, coach = login_as(app.test_client(), "physio"), login_as(app.test_client(), "coach")
    theirs, old = csrf_token(coach), csrf_token(physio)
    with physio.session_transaction() as session:
        raw = session[auth.CSRF_FIELD]
    login_as(physio, "physio")  # a new login: a new token
    forged = URLSafeTimedSerializer(b"another key", salt="wtf-csrf-token").dumps(raw)
    mine = csrf_token(physio)
    for bad in (theirs, old, forged, raw, mine[:-2] + "xx", ""):
        refused = physio.post("/api/athletes", json={"name": "Eve"}, headers={"X-CSRF-Token": bad})
        assert refused.status_code == 400 and refused.get_json()["field"] == "csrf_token", bad
    in_query = physio.post(f"/api/athletes?csrf_token={mine}", json={"name": "Eve"})
    assert in_query.status_code == 400
    assert physio.post("/api/athletes", json={"name": "Eve"}, headers={"X-CSRF-Token": mine})\
        .status_code == 201


def test_the_login_form_needs_its_csrf_token(client: FlaskClient) -> None:
    """No login CSRF: a page elsewhere cannot log this browser in as someone else."""
    response = client.post("/login", data={"username": "coach", "password": PASSWORDS["coach"]})
    assert response.status_code == 400 and client.get("/api/athletes").status_code == 401


def test_bearer_calls_are_exempt_from_csrf(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/api/athletes", json={"name": "Dan"}, headers=api_headers_for(app, "physio")
    )
    assert response.status_code == 201


# -- kiosk mode ---------------------------------------------------------------------------


def test_kiosk_mode_limits_the_browser_until_a_password_is_given(client: FlaskClient) -> None:
    login_as(client, "kiosk")
    assert client.get("/api/trials/current").status_code == 200
    assert client.get("/api/team").status_code == 403
    # logging out is not a way out of kiosk mode
    out = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert out.headers["Location"].endswith("/kiosk/exit")
    assert client.get("/api/team").status_code == 403
    refused = client.post(
        "/kiosk/exit",
        data={"username": "coach", "password": "wrong", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 401
    left = client.post(
        "/kiosk/exit",
        data={
            "username": "physio",
            "password": PASSWORDS["physio"],
            "csrf_token": csrf_token(client),
        },
    )
    assert left.status_code == 302
    assert client.get("/api/team").status_code == 200


def test_admin_cannot_turn_on_kiosk_mode(client: FlaskClient) -> None:
    login_as(client, "admin")
    response = client.post("/kiosk/enter", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403


# -- tokens ---------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_work_as_bearer(app: Flask, web_store) -> None:
    secret, record = access.create_api_token(web_store, "coach", "script")
    assert secret.startswith("bst_") and len(secret) > 40
    assert [t.token_hash for t in web_store.list_api_tokens()] == [access.hash_token(secret)]
    client = app.test_client()
    ok = client.get("/api/athletes", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    bad = client.get("/api/athletes", headers={"Authorization": "Bearer bst_not-a-token"})
    assert bad.status_code == 401 and "Bearer" in bad.headers["WWW-Authenticate"]
    web_store.revoke_api_token(record.uid)
    assert (
        client.get("/api/athletes", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_bearer_tokens_are_ignored_on_pages(app: Flask) -> None:
    """A page is a browser thing: a token there does not log anyone in."""
    client = app.test_client()
    response = client.post("/kiosk/enter", headers=api_headers_for(app, "coach"), data={})
    assert response.status_code == 400  # no session, no CSRF token: refused


@pytest.mark.parametrize("role", ["coach", "kiosk", "physio", "admin"])
def test_live_stream_accepts_tokens_and_sessions(app: Flask, role: str) -> None:
    client = app.test_client()
    assert client.get("/api/live").status_code == 401
    response = client.get("/api/live", headers=api_headers_for(app, role))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    response.close()
    if role != "admin":
        login_as(client, role)
        response = client.get("/api/live")
        assert response.status_code == 200
        response.close()


# -- the capability table is the one source ------------------------------------------------


def test_every_capability_is_documented() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "access.md").read_text()
    for capability, roles in access.CAPABILITIES.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{capability}`"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        marks = dict(zip(["admin", "physio", "coach", "kiosk"], cells[1:5], strict=True))
        assert {r for r, m in marks.items() if m == "yes"} == set(roles), capability


def test_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        auth.require("fly")


def test_token_use_is_recorded_without_a_write_per_request(app: Flask, web_store) -> None:
    secret, _ = access.create_api_token(web_store, "coach", "poller")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/protocols", headers=headers).status_code == 200
    [first] = web_store.list_api_tokens()
    assert first.last_used_at is not None
    assert client.get("/api/protocols", headers=headers).status_code == 200
    [second] = web_store.list_api_tokens()
    assert second.last_used_at == first.last_used_at


def test_kiosk_sessions_last_longer_than_user_sessions(app: Flask) -> None:
    from email.utils import parsedate_to_datetime

    def expiry(response) -> float:
        when = response.headers["Set-Cookie"].split("Expires=")[1].split(";")[0]
        return parsedate_to_datetime(when).timestamp()

    client = app.test_client()
    client.get("/login")
    user = client.post(
        "/login",
        data={
            "username": "coach",
            "password": PASSWORDS["coach"],
            "csrf_token": csrf_token(client),
        },
    )
    kiosk = client.post("/kiosk/enter", data={"csrf_token": csrf_token(client)})
    assert expiry(kiosk) - expiry(user) > 20 * 86400


@pytest.mark.parametrize("view_names", [(), ("api_admin",), ("pages", "api_athletes")])
def test_access_control_does_not_depend_on_the_view_list(
    fake_runtime, web_store, tmp_path, view_names: tuple[str, ...]
) -> None:
    """create_app installs the gates itself: whatever views an app lists, the live stream
    refuses strangers and a cookie-authenticated change needs the CSRF token."""
    views = tuple(importlib.import_module(f"station.web.views.{n}") for n in view_names)
    access.create_user(web_store, "admin", "admin", PASSWORDS["admin"])
    app = make_app(fake_runtime, web_store, tmp_path / "data", views=views)
    assert app.test_client().get("/api/live").status_code == 401
    client = login_as(app.test_client(), "admin")
    watching = client.get("/api/live")
    assert watching.status_code == 200 and watching.mimetype == "text/event-stream"
    watching.close()
    refused = client.post("/logout")
    assert refused.status_code == 400 and b"CSRF" in refused.data
    if "api_admin" in view_names:
        body = {"username": "eve", "role": "admin", "password": "eve-password-1"}
        api = client.post("/api/users", json=body)
        assert api.status_code == 400 and api.get_json()["field"] == auth.CSRF_FIELD
        assert web_store.get_user("eve") is None


def test_the_bare_live_blueprint_is_the_only_unguarded_stream(app: Flask) -> None:
    """The station app's /api/live is declared with its capabilities (not left open)."""
    view = app.view_functions["live"]
    assert view.required_capabilities == ("run_tests", "view_history")
    assert app.test_client().get("/api/live").status_code == 401


def test_without_a_database_nothing_but_health_answers(fake_runtime) -> None:
    client = make_app(fake_runtime, None).test_client()
    assert client.get("/api/health").status_code == 200
    for path in ("/setup", "/login", "/api/athletes", "/api/live"):
        assert client.get(path).status_code == 503, path


def test_require_on_pages_redirects_to_login_with_next(app: Flask) -> None:
    @app.get("/test-only-page")
    @auth.require("edit_athletes")
    def page() -> str:
        return "secret page"

    anonymous = app.test_client().get("/test-only-page?x=1")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=/test-only-page?x%3D1"
    coach = login_as(app.test_client(), "coach")
    assert coach.get("/test-only-page").status_code == 403
    physio = app.test_client()
    physio.get("/login")
    done = physio.post(
        "/login",
        data={
            "username": "physio",
            "password": PASSWORDS["physio"],
            "csrf_token": csrf_token(physio),
            "next": "/test-only-page?x=1",
        },
    )
    assert done.headers["Location"] == "/test-only-page?x=1"
    assert physio.get("/test-only-page").get_data(as_text=True) == "secret page"


def test_guessing_many_usernames_from_one_address_is_limited(app: Flask) -> None:
    client = app.test_client()
    for i in range(auth.ADDRESS_MAX_FAILURES):
        assert _login(client, f"guess{i}", "wrong").status_code == 401
    assert _login(client, "physio", PASSWORDS["physio"]).status_code == 429


def test_a_kiosk_ends_when_its_owner_loses_the_right(app: Flask, web_store) -> None:
    kiosk = login_as(app.test_client(), "kiosk")  # turned on by the coach
    assert kiosk.get("/api/trials/current").status_code == 200
    web_store.update_user("coach", active=False)
    assert kiosk.get("/api/trials/current").status_code == 401
