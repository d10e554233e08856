"""The station's own address, as text and as a QR code, so phones can join quickly.

No login: an address is not personal data, and the kiosk shows it to anyone at the board.
"""

from __future__ import annotations

import io

import segno
from flask import Flask, Response, jsonify

from station.web.context import context
from station.web.routes import PUBLIC, ApiRoutes


def station_urls() -> list[str]:
    """Addresses set by `balance-station run` once it listens (best first)."""
    return list(context().station_urls)


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="station")

    @api.route(
        "GET",
        "/api/address",
        summary="The station's URLs on the network (no login; station/web/views/address.py)",
        needs=PUBLIC,
    )
    def address():
        urls = station_urls()
        return jsonify(urls=urls, preferred=urls[0] if urls else None)

    @app.get("/qr.svg")
    def address_qr():
        return qr_response("")

    @app.get("/watch/qr.svg")
    def watch_qr():  # the kiosk's code: athletes without an account land on the watch view
        return qr_response("/watch")


def qr_response(path: str) -> Response | tuple[Response, int]:
    """The QR code of the station's best address followed by `path`, as SVG."""
    urls = station_urls()
    if not urls:
        return jsonify(error="the station's address is not known yet"), 404
    out = io.BytesIO()
    segno.make(urls[0].rstrip("/") + path, error="m").save(
        out, kind="svg", scale=6, border=2, dark="#0f1720", light="#ffffff")
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-cache"
    return response
