"""`GET /api/me`: who this request is (user, role, capabilities) and the session's CSRF
token, so a script or a page's fetch() can send X-CSRF-Token after logging in."""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

from station.access import CAPABILITIES
from station.web import auth
from station.web.api import ok
from station.web.routes import ApiRoutes


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="station")

    @api.route(
        "GET",
        "/api/me",
        summary="Who is calling: username, role, capabilities, and the session's CSRF token",
        needs=(auth.LOGIN,),
    )
    def me() -> Response:
        principal = auth.current_principal()
        assert principal is not None
        return ok(
            {
                "username": principal.username,
                "role": principal.role,
                "via": principal.via,
                "capabilities": sorted(c for c in CAPABILITIES if principal.can(c)),
                "csrf_token": None if principal.via == "token" else auth.csrf_token(),
            }
        )
