"""`GET /report/<uid>.pdf`: the printable report as a PDF file, printed by headless Chromium.

The report page is rendered with its stylesheet and scripts inlined into one
temporary HTML file, which Chromium prints to A4 (the page's print CSS applies, its
@page footer numbers the pages; the charts are SVG already, so nothing waits for a
script) without any network access or login. Without Chromium the station answers 503 and
the page's "Print / save as PDF" button (the browser's own print) remains the way.

Chromium is heavy on a Pi, so one worker thread prints one PDF at a time, and the
request threads do not queue behind it: `PdfQueue` takes at most `STATION_PDFS`
PDFs (being printed or waiting) and `PER_USER_PDFS` of one user; a request beyond
that answers 503 with Retry-After at once. A request waits only for its own PDF, so
at most `STATION_PDFS` server threads ever wait for Chromium and pages, health and
the live streams keep the rest.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from flask import Flask, Response, current_app, render_template

from station.analysis import history
from station.web import auth
from station.web.api import store_404
from station.web.context import context
from station.web.report_charts import report_page_parts
from station.web.views.api_settings import station_name
from station.web.views.pages import nav_items

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_S = 60.0
STATION_PDFS = 3  # PDFs being printed or waiting, whole station
PER_USER_PDFS = 1  # of one user (a second click waits for the first)
RETRY_AFTER_S = 10


def chromium_path() -> str | None:
    override = os.environ.get("BALANCE_STATION_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    return next((p for c in CHROMIUM_CANDIDATES if (p := shutil.which(c))), None)


def _asset(name: str) -> str:
    return (Path(current_app.static_folder or "") / name).read_text(encoding="utf-8")


def standalone_report(uid: str) -> str:
    """The report page as one self-contained HTML document (no requests when printed)."""
    data = history.report_view(context().store, uid)
    html = render_template(
        "report.html",
        title="Report",
        page_json=data,
        nav=nav_items(),
        principal=None,
        csrf="",
        active="",
        standalone=True,
        inline_css=_asset("station.css"),
        inline_js=[_asset("js/common.js")],  # the charts are SVG already (report_charts)
        **report_page_parts(data, station_name()),
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


class PdfQueueFull(Exception):
    """No room for another PDF now; the message says whose limit was reached."""


class PdfQueue:
    """One worker thread prints the PDFs in order; at most `station_limit` are accepted
    at a time, `per_user_limit` of one user. `submit` never blocks."""

    def __init__(self, station_limit: int = STATION_PDFS, per_user_limit: int = PER_USER_PDFS
                 ) -> None:
        self.station_limit, self.per_user_limit = station_limit, per_user_limit
        self._lock = threading.Lock()
        self._by_user: dict[str, int] = {}
        self._jobs: queue.SimpleQueue[tuple[Future[bytes], Callable[[], bytes], str]] = (
            queue.SimpleQueue()
        )
        self._worker: threading.Thread | None = None

    @property
    def accepted(self) -> int:
        with self._lock:
            return sum(self._by_user.values())

    def submit(self, user: str, job: Callable[[], bytes]) -> Future[bytes]:
        """The future of `job()`'s PDF; PdfQueueFull when the station or `user` has no room."""
        with self._lock:
            if self._by_user.get(user, 0) >= self.per_user_limit:
                raise PdfQueueFull(
                    f"your previous PDF is still being made (at most {self.per_user_limit} "
                    "at a time per user); try again when it has downloaded"
                )
            if sum(self._by_user.values()) >= self.station_limit:
                raise PdfQueueFull(
                    f"the station is making {self.station_limit} PDFs already; try again "
                    f"in {RETRY_AFTER_S} s"
                )
            self._by_user[user] = self._by_user.get(user, 0) + 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="report-pdf",
                                                daemon=True)
                self._worker.start()
        future: Future[bytes] = Future()
        self._jobs.put((future, job, user))
        return future

    def _work(self) -> None:
        while True:
            future, job, user = self._jobs.get()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(job())
                    except BaseException as exc:  # the request thread reports it
                        future.set_exception(exc)
            finally:
                with self._lock:
                    left = self._by_user.get(user, 1) - 1
                    if left > 0:
                        self._by_user[user] = left
                    else:
                        self._by_user.pop(user, None)


def _busy(message: str) -> Response:
    return Response(f"PDF not made: {message}\n", status=503, mimetype="text/plain",
                    headers={"Retry-After": str(RETRY_AFTER_S)})


def register(app: Flask) -> None:
    pdfs = app.extensions.setdefault("station_pdf_queue", PdfQueue())

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
        html = standalone_report(uid)  # here: it needs the request's app and store
        principal = auth.current_principal()
        user = "?" if principal is None else f"{principal.via}:{principal.username}"
        try:
            future = pdfs.submit(user, lambda: print_pdf(html, chromium))
        except PdfQueueFull as exc:
            return _busy(str(exc))
        try:
            # Its own print plus the ones ahead of it (each bounded by PDF_TIMEOUT_S).
            pdf = future.result(timeout=PDF_TIMEOUT_S * (pdfs.station_limit + 1))
        except FutureTimeout:
            future.cancel()
            return _busy("Chromium is taking too long")
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            return Response(f"the PDF could not be made: {exc}\n", status=500,
                            mimetype="text/plain")
        safe = "".join(ch if ch.isalnum() else "-" for ch in athlete.name).strip("-") or "athlete"
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="report-{safe}.pdf"'
        return response
