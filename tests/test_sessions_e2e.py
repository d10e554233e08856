"""End to end against a running station (`python -m station run --board sim`): a real
session cookie, saved and replayed after logout, after a password reset and after a
deactivate/reactivate, is refused with 401 every time (issue 18 item 2)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from station_process import running_station

PASSWORDS = {"admin": "admin-password-e2e", "coach": "coach-password-e2e"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 302 is an answer to look at, not to follow


_opener = urllib.request.build_opener(_NoRedirect)


def http(
    url: str,
    method: str = "GET",
    cookie: str | None = None,
    form: dict[str, str] | None = None,
    body: object = None,
    csrf: str | None = None,
) -> tuple[int, dict[str, str], str]:
    headers = {}
    data = None
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    if csrf:
        headers["X-CSRF-Token"] = csrf
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        response = _opener.open(request, timeout=15)
    except urllib.error.HTTPError as exc:
        response = exc
    with response:
        return response.status, dict(response.headers), response.read().decode()


def _cookie(headers: dict[str, str]) -> str:
    found = re.search(r"session=([^;]+)", headers.get("Set-Cookie", ""))
    assert found, headers
    return found.group(1)


def login(base: str, user: str, password: str) -> str:
    """Log in through the real form; returns the session cookie the browser would keep."""
    _, headers, page = http(base + "login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    status, headers, page = http(
        base + "login",
        "POST",
        cookie=_cookie(headers),
        form={"username": user, "password": password, "csrf_token": token},
    )
    assert status == 302, (status, user, page)
    return _cookie(headers)


def csrf_of(base: str, cookie: str) -> str:
    status, _, body = http(base + "api/me", cookie=cookie)
    assert status == 200
    return json.loads(body)["csrf_token"]


def status_of(base: str, cookie: str) -> int:
    return http(base + "api/athletes", cookie=cookie)[0]


@pytest.fixture
def station(tmp_path: Path):
    from station.access import create_user
    from station.store import open_store

    store = open_store(tmp_path / "data")
    for name, password in PASSWORDS.items():
        create_user(store, name, name, password)
    store.close()
    with running_station(tmp_path / "data", url_timeout_s=30, stop_timeout_s=10,
                         must_stop=False) as st:
        yield st.url + "/"


def test_a_saved_cookie_is_refused_after_logout_password_reset_and_reactivation(station):
    base = station
    # 1. logout: the saved copy of the cookie is refused, state changes included
    saved = login(base, "coach", PASSWORDS["coach"])
    token = csrf_of(base, saved)
    assert status_of(base, saved) == 200
    status, headers, _ = http(base + "logout", "POST", cookie=saved, form={"csrf_token": token})
    assert status == 302 and headers["Location"].endswith("/login")
    assert status_of(base, saved) == 401
    change = http(base + "api/athletes", "POST", cookie=saved, body={"name": "Eve"}, csrf=token)
    assert change[0] == 401
    # 2. an admin resets the coach's password: the coach's open session is refused
    saved = login(base, "coach", PASSWORDS["coach"])
    admin = login(base, "admin", PASSWORDS["admin"])
    admin_csrf = csrf_of(base, admin)
    reset = http(base + "api/users/coach", "PATCH", cookie=admin,
                 body={"password": "a-brand-new-password"}, csrf=admin_csrf)
    assert reset[0] == 200
    assert status_of(base, saved) == 401
    assert status_of(base, admin) == 200  # the admin's own session goes on
    # 3. deactivate, then reactivate: the old cookie does not come back to life
    saved = login(base, "coach", "a-brand-new-password")
    for active in (False, True):
        done = http(base + "api/users/coach", "PATCH", cookie=admin, body={"active": active},
                    csrf=admin_csrf)
        assert done[0] == 200
    assert status_of(base, saved) == 401
    assert status_of(base, login(base, "coach", "a-brand-new-password")) == 200
    # the security log tells the story
    _, _, body = http(base + "api/security-log", cookie=admin)
    ends = [e for e in json.loads(body)["events"] if e["kind"] == "session_ended"]
    reasons = {e["detail"].split(": ", 1)[1] for e in ends}
    assert {"logout", "password changed", "deactivated"} <= reasons
