"""`/api/health` for strangers is liveness only ({"status": ...}); the whole health (version,
board, acquisition, disk) is for a logged-in role or an API token (issue 18: it showed
version, PID and internals to anyone)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import login_as


def test_health_without_login_is_liveness_only(app: Flask) -> None:
    response = app.test_client().get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("who", ["physio", "coach", "admin", "kiosk", "token"])
def test_health_for_a_logged_in_role_or_token_is_the_full_body(
    app: Flask, who: str, api_headers: Any
) -> None:
    client = app.test_client()
    headers = {}
    if who == "token":
        headers = api_headers("coach")
    else:
        login_as(client, who)
    body = client.get("/api/health", headers=headers).get_json()
    assert body["status"] == "ok"
    for key in ("version", "board", "calibrated", "achieved_rate_hz", "frames_discarded",
                "uptime_s", "acquisition", "disk_free_mb"):
        assert key in body, key


def test_public_health_names_a_board_that_is_not_running(
    app: Flask, fake_runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = fake_runtime.health()
    failing = {**full, "acquisition": {"state": "board_error", "board_error": "GPIO busy"}}
    monkeypatch.setattr(fake_runtime, "health", lambda: failing)
    assert app.test_client().get("/api/health").get_json() == {"status": "board_error"}


def test_the_plain_live_page_needs_what_its_stream_needs(app: Flask) -> None:
    response = app.test_client().get("/live")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "version" not in response.get_data(as_text=True)
    kiosk = login_as(app.test_client(), "kiosk").get("/live")
    assert kiosk.status_code == 200 and "version" in kiosk.get_data(as_text=True)
