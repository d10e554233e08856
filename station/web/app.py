"""Flask application factory: pages, the live stream and the health API."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flask import Flask, jsonify, render_template

from station.runtime import StationRuntime
from station.web.live_stream import live_blueprint


def web_dir() -> Path:
    """Front-end assets (templates, CSS, JS): the repository's web/ folder."""
    override = os.environ.get("BALANCE_STATION_WEB_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "web"


def create_app(runtime: StationRuntime, data_dir: Path | None = None) -> Flask:
    """The WSGI app bound to a running station."""
    assets = web_dir()
    app = Flask(
        "station",
        template_folder=str(assets / "templates"),
        static_folder=str(assets / "static"),
        static_url_path="/static",
    )
    app.config["RUNTIME"] = runtime
    app.register_blueprint(live_blueprint(runtime.hub))

    @app.get("/")
    def live_page():
        return render_template("live.html", health=runtime.health())

    @app.get("/api/health")
    def health():
        body = runtime.health()
        if data_dir is not None and data_dir.exists():
            body["disk_free_mb"] = round(shutil.disk_usage(data_dir).free / 1e6, 1)
        return jsonify(body)

    return app
