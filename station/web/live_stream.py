"""`GET /api/live`: Server-Sent Events carrying every frame, batched ~20 times a second.

Each stream holds one server thread while it is open (asleep: under waitress one
thread, station.web.live_fanout, writes every stream's messages), so the number of
concurrent streams is capped below the server's thread pool: pages keep
working when many phones watch. One principal (a user, the kiosks one user turned on,
an API token) holds at most `MAX_STREAMS_PER_PRINCIPAL` of them, so nobody can take
every slot. A stream whose client vanished ends at its next write (at the latest at the
next heartbeat) and frees its slot. A stream whose session ended (logout, a password, role
or active change, the admin) or whose token was revoked ends within `RECHECK_S`, with an
`ended` event.

Watching needs `run_tests` or `view_history` (a session cookie, a kiosk, or an API token
as `Authorization: Bearer`). The hub serialises each message once for every client; this
module sends each watcher what it may see: `frames` messages (forces, COP and the trial's
state: no athlete id, name or stored data) unchanged, a `trial_result` with its `result`
only to the roles that browse history and to the kiosk that started the trial
(station.web.result_access), and any other kind only to the roles that browse history.
station.web.app.create_app declares the route with those capabilities
(station.web.routes), so the station's stream is always guarded. `live_blueprint`
serves the bare stream with no access control and no filter, for unit tests and tools on
a bare Flask app only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from station.access import Principal
from station.web import auth
from station.web.context import LiveFeed
from station.web.live_fanout import Fanout, Sink, Stream, sink_for
from station.web.result_access import ResultViewer, current_viewer

HEARTBEAT_S = 10.0
RECHECK_S = 5.0  # an open stream asks this often whether its session or token still holds
MAX_STREAMS = 48
MAX_STREAMS_PER_PRINCIPAL = 8
RETRY_MS = 2000
RETRY_AFTER_S = 5
FRAMES_PREFIX = '{"kind":"frames",'  # how the hub serialises a frames message (fast path)
OPEN_KINDS = frozenset({"frames"})  # kinds that carry no personal data: sent to everyone
ENDED_EVENT = 'event: ended\ndata: {"reason": "not authenticated any more"}\n\n'


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


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Watcher:
    """Who opened a stream: whose streams count together (`key`; None: only the station's
    limit applies), how to name them in a refusal, what results they may see, and whether
    they are still allowed to watch (`still_allowed`, asked every `RECHECK_S` outside the
    request: a logout, a password/role/active change or a revoked token ends the stream)."""

    key: tuple[str, str] | None
    label: str
    viewer: ResultViewer
    still_allowed: Callable[[], bool] = _always


def _principal_label(principal: Principal) -> str:
    if principal.via == "kiosk":
        return f"the kiosks of {principal.username}"
    if principal.via == "token":
        return f"API token {principal.username}"
    return f"user {principal.username}"


def station_watcher() -> Watcher:
    """The Watcher of this request's principal (the station's guarded stream)."""
    principal = auth.current_principal()
    if principal is None:  # the route's guard refuses strangers before this is asked
        return Watcher(key=None, label="nobody", viewer=ResultViewer(sees_all=False))
    return Watcher(
        key=(principal.via, principal.username or ""),
        label=_principal_label(principal),
        viewer=current_viewer(),
        still_allowed=auth.session_check(),
    )


def unrestricted_watcher() -> Watcher:
    """Everything, with only the station's limit (the bare blueprint)."""
    return Watcher(key=None, label="this client", viewer=ResultViewer.everything())


class _Slots:
    """Open streams, for the station and per principal (thread-safe)."""

    def __init__(self, total: int, per_key: int) -> None:
        self.total, self.per_key = total, per_key
        self._open = 0
        self._by_key: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def take(self, watcher: Watcher) -> Response | None:
        """None when a slot was taken (release it later); else the refusal."""
        with self._lock:
            key = watcher.key
            if key is not None and self._by_key.get(key, 0) >= self.per_key:
                return _refusal(
                    429,
                    f"too many live streams open for {watcher.label} (limit {self.per_key} "
                    "each): close a page or tab that shows the board, or wait for one to end",
                )
            if self._open >= self.total:
                return _refusal(503, f"too many live streams open (limit {self.total})")
            self._open += 1
            if key is not None:
                self._by_key[key] = self._by_key.get(key, 0) + 1
            return None

    def release(self, watcher: Watcher) -> None:
        with self._lock:
            self._open -= 1
            key = watcher.key
            if key is not None:
                left = self._by_key.pop(key) - 1
                if left:
                    self._by_key[key] = left


def _refusal(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _compact(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def for_viewer(data: str, viewer: ResultViewer) -> str:
    """One hub message (JSON text) as `viewer` may see it. Frames pass untouched without
    being parsed; a `trial_result` keeps its `result` only for who may see that trial
    (else `result` is null); a message of any other kind keeps only `kind` and `id`
    unless the viewer browses history. Ids never change, so nothing looks missed."""
    if viewer.sees_all or data.startswith(FRAMES_PREFIX):
        return data
    message = json.loads(data)
    kind = message.get("kind")
    if kind in OPEN_KINDS:
        return data
    if kind == "trial_result":
        result = message.get("result")
        if viewer.result_for(result) is result:
            return data
        return _compact({"kind": kind, "result": None, "id": message.get("id")})
    return _compact({"kind": kind, "id": message.get("id")})


def _events(items: list[tuple[int, str]], missed: int, who: Watcher) -> str:
    """SSE text of hub messages as `who` may see them, after a gap event if some were
    missed (they left the history before this stream asked for them)."""
    gap = f"event: gap\ndata: {missed}\n\n" if missed else ""
    return gap + "".join(f"id: {i}\ndata: {for_viewer(data, who.viewer)}\n\n"
                         for i, data in items)


def live_view(
    hub: LiveFeed,
    max_streams: int = MAX_STREAMS,
    per_principal: int = MAX_STREAMS_PER_PRINCIPAL,
    watcher: Callable[[], Watcher] = station_watcher,
) -> Callable[[], Response]:
    """The view of `GET /api/live` (unguarded: the caller declares who may watch).
    `watcher` says who asks (called while the request is served)."""
    slots = _Slots(max_streams, per_principal)
    fanout = Fanout(hub, heartbeat_s=HEARTBEAT_S, recheck_s=RECHECK_S)

    def stream(last_id: int, who: Watcher, sink: Sink | None) -> Iterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        if sink is not None:  # waitress: one thread writes every stream (live_fanout)
            attached = fanout.attach(Stream(
                sink, last_id, render=lambda items, missed: _events(items, missed, who),
                still_allowed=who.still_allowed, ended_event=ENDED_EVENT))
            attached.done.wait()
            if attached.final:
                yield attached.final
            return
        last_beat = next_check = time.monotonic()
        while not hub.closed:
            if time.monotonic() >= next_check:
                if not who.still_allowed():  # the session ended or the token was revoked
                    yield ENDED_EVENT
                    return
                next_check = time.monotonic() + RECHECK_S
            items, missed = hub.read_after(last_id, timeout=min(HEARTBEAT_S / 2, RECHECK_S))
            if items:  # (messages missed are told with the next ones: _events)
                last_id = items[-1][0]
                yield _events(items, missed, who)
                last_beat = time.monotonic()
            elif time.monotonic() - last_beat >= HEARTBEAT_S:
                yield ": heartbeat\n\n"
                last_beat = time.monotonic()

    def live() -> Response:
        who = watcher()
        refusal = slots.take(who)
        if refusal is not None:
            return refusal
        body = _SlotStream(stream(_resume_id(hub), who, sink_for(request.environ)),
                           lambda: slots.release(who))
        response = Response(body, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    return live


def live_blueprint(hub: LiveFeed, max_streams: int = MAX_STREAMS) -> Blueprint:
    """The stream alone on a blueprint, WITHOUT access control or filtering: for a bare
    Flask app in unit tests and tools (the station app declares /api/live itself,
    guarded)."""
    bp = Blueprint("live", __name__)
    view = live_view(hub, max_streams, watcher=unrestricted_watcher)
    bp.add_url_rule("/api/live", "live", view)
    return bp
