"""`GET /report/<uid>.pdf`: the printable report as a PDF file, printed by headless Chromium.

The report page is rendered with its stylesheet and scripts inlined into one
temporary HTML file, which Chromium prints to A4 (the page's print CSS applies)
without any network access or login. One PDF at a time: Chromium is heavy on a
Pi. Without Chromium the station answers 503 and the page's "Print / save as
PDF" button (the browser's own print) remains the way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from flask import Flask, Response, current_app, render_template

from station.analysis import history
from station.web import auth
from station.web.api import store_404
from station.web.context import context
from station.web.views.pages import nav_items

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_S = 60.0
_one_at_a_time = threading.Lock()


def chromium_path() -> str | None:
    override = os.environ.get("BALANCE_STATION_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    return next((p for c in CHROMIUM_CANDIDATES if (p := shutil.which(c))), None)


def _asset(name: str) -> str:
    return (Path(current_app.static_folder or "") / name).read_text(encoding="utf-8")


def standalone_report(uid: str) -> str:
    """The report page as one self-contained HTML document (no requests when printed)."""
    html = render_template(
        "report.html",
        title="Report",
        page_json=history.report_view(context().store, uid),
        nav=nav_items(),
        principal=None,
        csrf="",
        active="",
        standalone=True,
        inline_css=_asset("station.css") + _asset("vendor/uplot/uPlot.min.css"),
        inline_js=[_asset("js/common.js"), _asset("vendor/uplot/uPlot.iife.min.js"),
                   _asset("js/charts.js")],
    )
    return html


def print_pdf(html: str, chromium: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(html, encoding="utf-8")
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic", f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
            "--virtual-time-budget=3000", f"--print-to-pdf={target}", source.as_uri(),
        ]
        subprocess.run(command, check=False, capture_output=True, timeout=PDF_TIMEOUT_S,
                       env=dict(os.environ, HOME=tmp))
        if not target.exists() or target.stat().st_size == 0:
            raise RuntimeError("chromium did not write the PDF")
        return target.read_bytes()


def register(app: Flask) -> None:
    @app.get("/report/<uid>.pdf")
    @auth.require("view_history")
    def report_pdf(uid: str):
        with store_404():
            athlete = context().store.get_athlete(uid)
        chromium = chromium_path()
        if chromium is None:
            return Response("PDF download needs Chromium on the station (apt install chromium);"
                            " use the page's Print / save as PDF instead.\n", status=503,
                            mimetype="text/plain")
        if not _one_at_a_time.acquire(timeout=PDF_TIMEOUT_S):
            return Response("another PDF is being made; try again\n", status=503,
                            mimetype="text/plain", headers={"Retry-After": "5"})
        try:
            pdf = print_pdf(standalone_report(uid), chromium)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            return Response(f"the PDF could not be made: {exc}\n", status=500,
                            mimetype="text/plain")
        finally:
            _one_at_a_time.release()
        safe = "".join(ch if ch.isalnum() else "-" for ch in athlete.name).strip("-") or "athlete"
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="report-{safe}.pdf"'
        return response
