"""The plain live view of the board (raw counts, force, COP): no personal data, but the
station's version and board, so it needs what its live stream needs (`run_tests` or
`view_history`)."""

from __future__ import annotations

from flask import Flask, render_template

from station.web import auth
from station.web.context import context


def register(app: Flask) -> None:
    @app.get("/live")
    @auth.require("run_tests", "view_history")
    def live_page():
        return render_template("live.html", health=context().runtime.health())
