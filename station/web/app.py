"""Flask application factory: access control, the live stream, health, the OpenAPI
document, and the views listed in `VIEWS`.

Everything the app serves is named here: `create_app` installs access control itself
(setup gate, CSRF, sessions, the login pages) before any view, so no view list can
leave a route unguarded, and it refuses to start while an /api/ route is undeclared
(station.web.routes). The objects the views use come in a `WebContext`.

Every response carries the security headers (`SECURITY_HEADERS`, a Content-Security-Policy
whose scripts are the station's own files and inline scripts with this response's nonce,
`csp_nonce()` in templates; no framing; no sniffing) and, except static files, no-store:
pages and answers hold health data that must not stay in a browser's or proxy's cache.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from flask import Flask, g, jsonify, request
from werkzeug.wrappers import Response

from station.web import api, auth, openapi
from station.web.context import WebContext, context
from station.web.live_stream import live_view
from station.web.routes import PUBLIC, ApiRoutes, undeclared_routes
from station.web.views import (
    address,
    api_admin,
    api_athletes,
    api_battery,
    api_calibration,
    api_records,
    api_session,
    api_settings,
    api_training,
    api_trials,
    api_wobble,
    auth_views,
    frontend_facts,
    page_data,
    page_pdf,
    page_sim,
    pages,
    raw_board_page,
    watch,
)

__all__ = ["VIEWS", "WebContext", "context", "create_app", "web_dir"]

VIEWS: tuple[ModuleType, ...] = (
    address,
    api_admin,
    api_athletes,
    api_battery,
    api_calibration,
    api_records,
    api_session,
    api_settings,
    api_training,
    api_trials,
    api_wobble,
    frontend_facts,
    page_data,
    page_pdf,
    page_sim,
    pages,
    raw_board_page,
    watch,
)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)  # styles: the pages' markup and scripts set style attributes; scripts cannot be injected
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors 'none' for browsers without CSP 2
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REDIRECT_PARAMETERS = ("next",)


def csp_nonce() -> str:
    """This response's script nonce (templates: `<script nonce="{{ csp_nonce() }}">`)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        nonce=csp_nonce()
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _refuse_unsafe_redirects() -> Response | None:
    """A `next=` (where to go after login) with control characters cannot be a local path:
    400 naming it, instead of a crash when it would become a Location header."""
    form = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    for name in REDIRECT_PARAMETERS:
        for value in (*request.args.getlist(name), *(form.getlist(name) if form else ())):
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                message = f"{name} must be a local path without control characters"
                if auth.is_api_request():
                    return auth.api_error(400, message, field=name)
                return Response(message + "\n", status=400, mimetype="text/plain")
    return None


def web_dir() -> Path:
    """Front-end assets (templates, CSS, JS, vendored libraries): the repository's web/."""
    override = os.environ.get("BALANCE_STATION_WEB_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "web"


def _secret_key(data_dir: Path | None) -> bytes:
    """A per-station secret kept in the data directory, so logins survive restarts."""
    if data_dir is None:
        return secrets.token_bytes(32)
    path = data_dir / "secret_key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(key)
        tmp.chmod(0o600)
        os.replace(tmp, path)
        return key


def create_app(
    web: WebContext, *, testing: bool = False, views: Sequence[ModuleType] = VIEWS
) -> Flask:
    """The WSGI app bound to a running station. `views`: modules with `register(app)`,
    in order (tests pass fewer; access control does not depend on them)."""
    assets = web_dir()
    app = Flask(
        "station",
        template_folder=str(assets / "templates"),
        static_folder=str(assets / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=_secret_key(web.data_dir),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        TESTING=testing,
    )
    app.extensions["station"] = web
    app.before_request(_refuse_unsafe_redirects)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    api.install(app)
    auth.install(app)
    app.register_blueprint(auth_views.blueprint())
    _station_routes(app, web)
    for module in views:
        module.register(app)
    auth.install_request_limits(app)  # Flask-Limiter on login forms and PDFs (auth.py)
    missing = undeclared_routes(app)
    if missing:
        raise RuntimeError(
            "API routes without a declaration: " + ", ".join(missing)
            + " (define them with station.web.routes.ApiRoutes.route)"
        )
    return app


def _station_routes(app: Flask, web: WebContext) -> None:
    routes = ApiRoutes(app, tag="station")

    @routes.route(
        "GET",
        "/api/health",
        summary='Liveness for anyone: {"status": "ok"} (or the acquisition\'s state, e.g. '
        '"board_error"). Logged in (any role, or a token): the station\'s health, no personal '
        "data: version, board, calibration, achieved sample rate, discarded frames, uptime, "
        "disk free",
        needs=PUBLIC,
    )
    def health() -> Response:
        body = web.runtime.health()
        state = str((body.get("acquisition") or {}).get("state", "unknown"))
        status = "ok" if state == "running" else state
        if web.store is None or auth.current_principal() is None:
            return jsonify(status=status)  # no version, PID or internals for strangers
        if web.data_dir is not None and web.data_dir.exists():
            body["disk_free_mb"] = round(shutil.disk_usage(web.data_dir).free / 1e6, 1)
        return jsonify({"status": status, **body})

    @routes.route("GET", "/api/openapi.json", summary="This document", needs=PUBLIC)
    def openapi_document() -> Response:
        return jsonify(openapi.document(app))

    routes.route(
        "GET",
        "/api/live",
        summary="Server-Sent Events: live frames, hold state, trial results",
        needs=("run_tests", "view_history"),
        produces="text/event-stream",
    )(live_view(web.runtime.hub, per_principal=_streams_per_principal(web)))


def _streams_per_principal(web: WebContext) -> int:
    """The configured cap of live streams per principal (the default without a config)."""
    from station.web.live_stream import MAX_STREAMS_PER_PRINCIPAL

    if web.config is None:
        return MAX_STREAMS_PER_PRINCIPAL
    return int(web.config["server"]["streams_per_principal"])
