"""The security log: failed logins, lock-outs, account, role, password and token changes,
session ends and imports are appended with who did it and from where; an admin reads it
(API and Settings page); nobody changes it. And the names an account may not have."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import PASSWORDS, api_headers_for, csrf_token, login_as, send_json

from station.commands.cli import main
from station.store import open_store
from station.web import auth


def events(store) -> list[tuple[str, str | None, str | None]]:
    """(kind, actor, subject), oldest first."""
    return [(e.kind, e.actor, e.subject) for e in reversed(store.security_log())]


def _login(client, user: str, password: str):
    client.get("/login")
    return client.post(
        "/login", data={"username": user, "password": password, "csrf_token": csrf_token(client)}
    )


def test_failed_logins_and_the_lock_out_are_logged_with_the_address(app: Flask, web_store):
    client = app.test_client()
    for _ in range(auth.LOGIN_MAX_FAILURES):
        assert _login(client, "coach", "wrong").status_code == 401
    assert _login(client, "coach", PASSWORDS["coach"]).status_code == 429
    log = web_store.security_log()
    failed = [e for e in log if e.kind == "login_failed"]
    assert len(failed) == auth.LOGIN_MAX_FAILURES
    assert all(e.subject == "coach" and e.address == "127.0.0.1" for e in failed)
    [locked] = [e for e in log if e.kind == "locked_out"]
    assert locked.subject == "coach" and "127.0.0.1" in locked.detail
    assert not [e for e in log if e.kind == "login"]  # the 429 let nobody in


def test_account_and_token_changes_and_session_ends_name_the_admin(app: Flask, web_store):
    coach = login_as(app.test_client(), "coach")
    admin = login_as(app.test_client(), "admin")
    body = {"username": "dana", "role": "coach", "password": "dana-password-1"}
    assert send_json(admin, "POST", "/api/users", body).status_code == 201
    assert send_json(admin, "PATCH", "/api/users/coach", {"role": "physio"}).status_code == 200
    new_password = {"password": "dana-pw-22"}
    assert send_json(admin, "PATCH", "/api/users/dana", new_password).status_code == 200
    assert send_json(admin, "PATCH", "/api/users/dana", {"active": False}).status_code == 200
    assert send_json(admin, "DELETE", "/api/users/dana", None).status_code == 200
    token = send_json(admin, "POST", "/api/tokens", {"role": "coach", "name": "export"})
    uid = token.get_json()["uid"]
    assert send_json(admin, "DELETE", f"/api/tokens/{uid}", None).status_code == 200
    assert coach.get("/api/athletes").status_code == 401
    logged = [(k, a, s) for k, a, s in events(web_store) if a == "admin" and k != "login"]
    assert logged == [
        ("user_added", "admin", "dana"),
        ("role_changed", "admin", "coach"),
        ("session_ended", "admin", "coach"),
        ("password_changed", "admin", "dana"),
        ("deactivated", "admin", "dana"),
        ("user_deleted", "admin", "dana"),
        ("token_created", "admin", "API token export"),
        ("token_revoked", "admin", "API token export"),
    ]
    ended = next(e for e in web_store.security_log() if e.kind == "session_ended")
    assert "role coach -> physio" in ended.detail


def test_logins_logouts_and_kiosks_are_logged(app: Flask, web_store):
    kiosk = login_as(app.test_client(), "kiosk")
    kiosk.post("/kiosk/exit", data={"username": "physio", "password": PASSWORDS["physio"],
                                    "csrf_token": csrf_token(kiosk)})
    kiosk.post("/logout", data={"csrf_token": csrf_token(kiosk)})
    kinds = [(k, s) for k, _, s in events(web_store) if k != "user_added"]
    assert kinds == [
        ("login", "coach"),
        ("session_ended", "coach"),  # turned into a kiosk
        ("kiosk_started", "coach"),
        ("session_ended", "coach"),  # the kiosk, left with the physio's password
        ("login", "physio"),
        ("session_ended", "physio"),  # logout
    ]
    details = [e.detail for e in reversed(web_store.security_log()) if e.kind == "session_ended"]
    assert [d.split(": ")[-1] for d in details] == [
        "turned into a kiosk",
        "replaced by a new login",
        "logout",
    ]


def test_only_the_admin_reads_the_log_and_it_pages(app: Flask, web_store):
    for role in ("physio", "coach", "kiosk"):
        headers = api_headers_for(app, role)
        assert app.test_client().get("/api/security-log", headers=headers).status_code == 403
    admin = app.test_client()
    headers = api_headers_for(app, "admin")
    page = admin.get("/api/security-log?limit=2", headers=headers).get_json()["events"]
    assert len(page) == 2 and page[0]["id"] > page[1]["id"]
    older = admin.get(f"/api/security-log?before={page[-1]['id']}", headers=headers)
    assert all(e["id"] < page[-1]["id"] for e in older.get_json()["events"])
    assert admin.get("/api/security-log?limit=0", headers=headers).status_code == 400


def _cli(*argv: object, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main([str(a) for a in argv])


def test_the_command_line_writes_the_log_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    pw = "a-password-123\n"
    assert _cli("user", "add", "root", "--role", "admin", "--data-dir", data, stdin=pw,
                monkeypatch=monkeypatch) == 0
    assert _cli("user", "add", "ana", "--role", "coach", "--data-dir", data, stdin=pw,
                monkeypatch=monkeypatch) == 0
    assert _cli("user", "passwd", "ana", "--data-dir", data, stdin=pw,
                monkeypatch=monkeypatch) == 0
    assert _cli("token", "create", "--role", "coach", "--data-dir", data,
                monkeypatch=monkeypatch) == 0
    with open_store(data) as store:
        [token] = store.list_api_tokens()
    assert _cli("token", "revoke", token.uid, "--data-dir", data, monkeypatch=monkeypatch) == 0
    assert _cli("user", "delete", "ana", "--yes", "--data-dir", data,
                monkeypatch=monkeypatch) == 0
    with open_store(data) as store:
        logged = events(store)
    assert [k for k, _, _ in logged] == [
        "user_added", "user_added", "password_changed", "token_created", "token_revoked",
        "user_deleted",
    ]
    assert all(actor.startswith("command line (") for _, actor, _ in logged)


@pytest.mark.parametrize(
    ("username", "status", "words"),
    [
        ("Coach", 409, "looks like the existing user 'coach'"),
        ("\u0441\u043e\u0430\u0441\u04bb", 409, "looks like the existing user 'coach'"),  # Cyrillic
        ("ｃｏａｃｈ", 409, "looks like the existing user 'coach'"),  # full width
        ("аdmin", 400, "mixes Cyrillic and Latin"),
        ("ana/../admin", 400, "may not contain '/'"),
        ("ana\nadmin", 400, "U+000A"),
        ("ana\u202enimda", 400, "control characters"),  # the API's own check comes first
        ("ana\u200b", 400, "control characters"),
        ("kiosk of coach", 400, "may not start with 'kiosk of'"),
        ("API token export", 400, "may not start with 'api token'"),
        ("<b>ana</b>", 400, "may not contain '<'"),
    ],
)
def test_lookalike_and_impostor_usernames_are_refused(
    app: Flask, web_store, username: str, status: int, words: str
):
    admin = login_as(app.test_client(), "admin")
    body = {"username": username, "role": "admin", "password": "long-enough-1"}
    response = send_json(admin, "POST", "/api/users", body)
    assert response.status_code == status and words in response.get_json()["error"]
    assert response.get_json()["field"] == "username"
    assert web_store.get_user(username) is None


@pytest.mark.parametrize(
    ("username", "words"),
    [("ana\u202enimda", "U+202E (RIGHT-TO-LEFT OVERRIDE)"), ("ana\u200b", "U+200B"),
     ("ana\u00a0b", "U+00A0"), ("command line (root)", "'command line'")],
)
def test_the_refusal_names_the_character_or_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, username: str, words: str
):
    code = _cli("user", "add", username, "--role", "coach", "--data-dir", tmp_path / "d",
                stdin="a-password-123\n", monkeypatch=monkeypatch)
    assert code == 2 and words in capsys.readouterr().err
