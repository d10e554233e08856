"""`GET /api/me`: who this request is (user, role, capabilities) and the session's CSRF
token, so a script or a page's fetch() can send X-CSRF-Token after logging in."""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

from station.web import auth
from station.web.views.api_common import ok


def register(app: Flask) -> None:
    @app.get("/api/me")
    @auth.require_login
    def me() -> Response:
        principal = auth.current_principal()
        assert principal is not None
        return ok(
            {
                "username": principal.username,
                "role": principal.role,
                "via": principal.via,
                "capabilities": sorted(c for c in auth.CAPABILITIES if principal.can(c)),
                "csrf_token": None if principal.via == "token" else auth.csrf_token(),
            }
        )
