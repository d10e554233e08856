"""`GET /api/live`: Server-Sent Events carrying every frame, batched ~20 times a second.

Each stream holds one server thread while it is open, so the number of
concurrent streams is capped below the server's thread pool: pages keep
working when many phones watch. A stream whose client vanished ends at its
next write (at the latest at the next heartbeat) and frees its slot.

Watching needs `run_tests` or `view_history` (a session cookie, a kiosk, or an
API token as `Authorization: Bearer`): the stream can carry a trial's result.
station.web.app.create_app declares the route with those capabilities
(station.web.routes), so the station's stream is always guarded. `live_blueprint`
serves the bare stream with no access control, for unit tests and tools on a bare
Flask app only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, jsonify, request

from station.web.context import LiveFeed

HEARTBEAT_S = 10.0
MAX_STREAMS = 48
RETRY_MS = 2000


def _resume_id(hub: LiveFeed) -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw is None:
        return hub.last_id
    try:
        value = int(raw)
    except ValueError:
        return hub.last_id
    return value if 0 <= value <= hub.last_id else hub.last_id


class _SlotStream:
    """The stream's body; closing it (the server always does) frees the stream's slot,
    even when the client left before the first byte."""

    def __init__(self, events: Iterator[str], release: Callable[[], None]) -> None:
        self._events = events
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[str]:
        return self._events

    def close(self) -> None:
        self._events.close()  # type: ignore[attr-defined]
        if self._release is not None:
            self._release, release = None, self._release
            release()


def live_view(hub: LiveFeed, max_streams: int = MAX_STREAMS) -> Callable[[], Response]:
    """The view of `GET /api/live` (unguarded: the caller declares who may watch)."""
    slots = threading.BoundedSemaphore(max_streams)

    def stream(last_id: int) -> Iterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        last_beat = time.monotonic()
        while not hub.closed:
            items, missed = hub.read_after(last_id, timeout=HEARTBEAT_S / 2)
            if missed:
                yield f"event: gap\ndata: {missed}\n\n"
            if items:
                last_id = items[-1][0]
                yield "".join(f"id: {i}\ndata: {data}\n\n" for i, data in items)
                last_beat = time.monotonic()
            elif time.monotonic() - last_beat >= HEARTBEAT_S:
                yield ": heartbeat\n\n"
                last_beat = time.monotonic()

    def live() -> Response:
        if not slots.acquire(blocking=False):
            response = jsonify(error=f"too many live streams open (limit {max_streams})")
            response.status_code = 503
            response.headers["Retry-After"] = "5"
            return response
        body = _SlotStream(stream(_resume_id(hub)), slots.release)
        response = Response(body, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    return live


def live_blueprint(hub: LiveFeed, max_streams: int = MAX_STREAMS) -> Blueprint:
    """The stream alone on a blueprint, WITHOUT access control: for a bare Flask app in unit
    tests and tools (the station app declares /api/live itself, guarded)."""
    bp = Blueprint("live", __name__)
    bp.add_url_rule("/api/live", "live", live_view(hub, max_streams))
    return bp
