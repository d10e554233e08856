"""Flask application factory: the live stream, health, and every module in station.web.views.

Objects the views use live in `app.extensions["station"]` (a `WebContext`): the
running station (live data, trials), the store (history), the data directory.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, jsonify

from station.live.runtime import StationRuntime
from station.web import views
from station.web.live_stream import live_blueprint


def web_dir() -> Path:
    """Front-end assets (templates, CSS, JS, vendored libraries): the repository's web/."""
    override = os.environ.get("BALANCE_STATION_WEB_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "web"


@dataclass
class WebContext:
    runtime: StationRuntime
    store: Any | None  # station.store.Store
    data_dir: Path | None


def context() -> WebContext:
    """The station objects of the current app (inside a request)."""
    return current_app.extensions["station"]


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
    runtime: StationRuntime,
    *,
    store: Any | None = None,
    data_dir: Path | None = None,
    testing: bool = False,
) -> Flask:
    """The WSGI app bound to a running station."""
    assets = web_dir()
    app = Flask(
        "station",
        template_folder=str(assets / "templates"),
        static_folder=str(assets / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=_secret_key(data_dir),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        TESTING=testing,
    )
    app.extensions["station"] = WebContext(runtime=runtime, store=store, data_dir=data_dir)
    app.register_blueprint(live_blueprint(runtime.hub))

    @app.get("/api/health")
    def health():
        body = runtime.health()
        if data_dir is not None and data_dir.exists():
            body["disk_free_mb"] = round(shutil.disk_usage(data_dir).free / 1e6, 1)
        return jsonify(body)

    for info in sorted(pkgutil.iter_modules(views.__path__), key=lambda m: m.name):
        importlib.import_module(f"{views.__name__}.{info.name}").register(app)
    return app
