"""`/watch`: the board's dot for anyone at the board, no login (the kiosk's QR code).

Athletes scanning the kiosk's code have no account; the watch view shows them the centre of
pressure moving on the board and nothing else. Its stream (`GET /api/watch`) is not the
station's /api/live: each frames message is cut down to the frame times and the COP, so no
weight, force, raw count, trial, athlete or result ever reaches it (docs/access.md). Each
open stream holds a server thread, so there are at most `MAX_WATCH_STREAMS` of them, taken
from the threads the server keeps for pages (station.web.server.PAGE_THREADS); a stream
ends after `MAX_WATCH_S` (the page reconnects), so nobody holds a slot for good.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

from flask import Flask, Response, jsonify

from station.web.context import LiveFeed, context
from station.web.routes import PUBLIC, ApiRoutes
from station.web.views.pages import render_page

MAX_WATCH_STREAMS = 4
MAX_WATCH_S = 600.0
HEARTBEAT_S = 10.0
RETRY_MS = 2000


def dot_only(data: str) -> str | None:
    """One hub message as the watch view may see it: a frames message keeps its frame
    times and COP only (as {"kind": "frames", "cop_mm", "frames": {"t", "cop_live_mm"}},
    the shape the board renderer reads); every other message is dropped (None)."""
    if not data.startswith('{"kind":"frames",'):
        return None
    message = json.loads(data)
    frames = message.get("frames") or {}
    return json.dumps(
        {"kind": "frames", "cop_mm": message.get("cop_mm"),
         "frames": {"t": frames.get("t", []), "cop_live_mm": frames.get("cop_live_mm", [])}},
        separators=(",", ":"),
    )


def watch_stream(hub: LiveFeed, max_s: float = MAX_WATCH_S) -> Iterator[str]:
    """The SSE body: the dot from now on, heartbeats, and an end after `max_s`."""
    yield f"retry: {RETRY_MS}\n\n"
    last_id = hub.last_id
    started = last_beat = time.monotonic()
    while not hub.closed and time.monotonic() - started < max_s:
        items, _missed = hub.read_after(last_id, timeout=HEARTBEAT_S / 2)
        if items:
            last_id = items[-1][0]
            shown = [(i, dot_only(data)) for i, data in items]
            body = "".join(f"id: {i}\ndata: {d}\n\n" for i, d in shown if d is not None)
            if body:
                yield body
                last_beat = time.monotonic()
                continue
        if time.monotonic() - last_beat >= HEARTBEAT_S:
            yield ": heartbeat\n\n"
            last_beat = time.monotonic()


class _Slots:
    """How many watch streams are open (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.open = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open -= 1


class _Released:
    """The stream's body; closing it (the server always does) frees its slot once."""

    def __init__(self, events: Iterator[str], slots: _Slots) -> None:
        self._events, self._slots = events, slots
        self._done = False

    def __iter__(self) -> Iterator[str]:
        return self._events

    def close(self) -> None:
        self._events.close()  # type: ignore[attr-defined]
        if not self._done:
            self._done = True
            self._slots.release()


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="station")
    slots = _Slots(MAX_WATCH_STREAMS)

    @app.get("/watch")
    def watch_page():
        return render_page("watch.html", title="Watch the board", watch=True)

    @api.route(
        "GET",
        "/api/watch",
        summary="Server-Sent Events for the watch view (no login): only the frame times and "
        "the centre of pressure; no weight, forces, trial, athlete or result "
        f"(at most {MAX_WATCH_STREAMS} open, each for at most {int(MAX_WATCH_S)} s)",
        needs=PUBLIC,
        produces="text/event-stream",
    )
    def watch_live():
        if not slots.take():
            response = jsonify(error=f"too many watch views open (limit {MAX_WATCH_STREAMS}): "
                                     "try again soon, or log in for the full live view")
            response.status_code = 503
            response.headers["Retry-After"] = "5"
            return response
        body = _Released(watch_stream(context().runtime.hub), slots)
        response = Response(body, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response
