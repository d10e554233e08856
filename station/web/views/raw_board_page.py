"""The plain live view of the board (raw counts, force, COP): no personal data."""

from __future__ import annotations

from flask import Flask, render_template

from station.web.context import context


def register(app: Flask) -> None:
    @app.get("/live")
    def live_page():
        return render_template("live.html", health=context().runtime.health())
