"""Every response carries a Content-Security-Policy (scripts: the station's files and inline
scripts with the response's nonce; no framing), nosniff, and no-store except static files
(issue 18: none of these were sent, on pages holding health data)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import login_as, seed_history

PAGES = {"physio": ["/physio", "/status", "/calibrate", "/coach", "/live"],
         "admin": ["/settings"], "kiosk": ["/kiosk"]}


def _csp(response: Any) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("path", ["/login", "/api/health", "/api/openapi.json", "/api/me"])
def test_every_response_carries_the_security_headers(app: Flask, path: str) -> None:
    response = login_as(app.test_client(), "physio").get(path)
    csp = _csp(response)
    assert "'none'" in csp["frame-ancestors"]
    assert csp["default-src"] == "default-src 'self'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == "object-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]


def test_static_files_may_be_cached_but_are_not_sniffed(app: Flask) -> None:
    response = app.test_client().get("/static/js/common.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("role,path", [(r, p) for r, paths in PAGES.items() for p in paths])
def test_pages_run_no_script_the_policy_does_not_allow(app: Flask, role: str, path: str) -> None:
    """Inline scripts carry the response's nonce; no inline event handlers (a CSP without
    'unsafe-inline' blocks them)."""
    response = login_as(app.test_client(), role).get(path)
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", _csp(response)["script-src"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        if 'type="application/json"' in tag or " src=" in tag:
            continue  # data blocks do not run; files come from 'self'
        assert f'nonce="{nonce}"' in tag, (path, tag)
    handlers = re.findall(r"<[^>]+\son[a-z]+\s*=", html)
    assert not handlers, (path, handlers)


def test_the_report_page_runs_its_script_with_the_nonce(app: Flask, web_store: Any) -> None:
    athlete = seed_history(web_store)["athletes"][0]
    response = login_as(app.test_client(), "coach").get(f"/report/{athlete}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", _csp(response)["script-src"]).group(1)
    assert f'<script nonce="{nonce}">' in html
    assert not re.findall(r"<[^>]+\son[a-z]+\s*=", html)
    other = login_as(app.test_client(), "coach").get(f"/report/{athlete}")
    assert nonce not in other.headers["Content-Security-Policy"]  # a new nonce every time
