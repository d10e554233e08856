"""The station address and its QR code (no login needed; nothing personal)."""

from __future__ import annotations

from flask import Flask

from station.commands.run import phone_first
from station.web.context import WebContext
from station.web.views import address


def make_app(urls):
    app = Flask("t")
    app.extensions["station"] = WebContext(runtime=None, station_urls=urls)  # type: ignore[arg-type]
    address.register(app)
    return app.test_client()


def test_phone_first_puts_the_lan_name_first():
    urls = phone_first(["http://localhost:8080/", "http://192.168.1.20:8080/"], "0.0.0.0", 8080)
    assert urls[0].endswith(".local:8080/")
    assert urls[1] == "http://192.168.1.20:8080/" and urls[-1] == "http://localhost:8080/"
    assert phone_first(["http://localhost:80/"], "0.0.0.0", 80)[0].endswith(".local/")


def test_qr_svg_encodes_the_preferred_address():
    client = make_app(["http://station.local:8080/"])
    body = client.get("/api/address").get_json()
    assert body["preferred"] == "http://station.local:8080/"
    svg = client.get("/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.data.startswith(b"<?xml") and b"<svg" in svg.data and len(svg.data) > 500


def test_qr_without_known_address_is_404():
    assert make_app([]).get("/qr.svg").status_code == 404
