"""One thread writes every open live stream, instead of one woken server thread per stream.

Why: waitress serves a streaming answer from a worker thread that sleeps between chunks.
With a thread per stream, every message (20 a second) woke every stream's thread, each
to take the GIL, frame a chunk and send it: ~0.16 % of a core per stream on the
development VM, 4 % for 25 phones. Here the stream's own thread writes the headers and
the first event the usual way, hands its connection to the `Fanout` and sleeps (it costs
nothing asleep) until the stream ends; one thread reads the hub and writes each message
to every connection.

How a message reaches a connection: `HTTPChannel.write_soon` (waitress's own, thread-safe
way for a task to write: it sends at once when the socket takes it, else waitress's
event loop sends the rest), framed as the task frames a chunk (HTTP/1.1 without a
Content-Length: chunked; HTTP/1.0: raw, the connection closes at the end). A client
that stops reading never blocks the others: once its connection holds more than
`MAX_BACKLOG_BYTES` unsent, its stream ends (it reconnects with `Last-Event-ID` and is
told what it missed). The stream's own thread writes the last event (`ended`) and ends
the answer, so waitress closes the chunked body as for any stream.

Served by anything but waitress (Flask's test client, a tool), `sink_for` finds no
channel and the stream falls back to its own thread (station.web.live_stream).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_BACKLOG_BYTES = 256 * 1024  # ~30 s of messages unsent: the client stopped reading
IDLE_WAIT_S = 0.5  # the writer's longest wait for a message (heartbeats, re-checks)


class StreamFeed(Protocol):
    """The hub side the fan-out reads (station.live.hub.LiveHub)."""

    @property
    def closed(self) -> bool: ...

    @property
    def last_id(self) -> int: ...

    def read_after(self, last_id: int, timeout: float) -> tuple[list[tuple[int, str]], int]: ...


class Sink:
    """One waitress connection a stream writes to, with the task's chunk framing."""

    def __init__(self, channel: Any, chunked: bool) -> None:
        self._channel = channel
        self._chunked = chunked

    @property
    def backlog_bytes(self) -> int:
        """Bytes written but not sent yet."""
        return int(getattr(self._channel, "total_outbufs_len", 0))

    def write(self, text: str) -> None:
        """Queue `text` for the client (raises when the client went away)."""
        data = text.encode("utf-8")
        if self._chunked:
            data = b"%X\r\n%s\r\n" % (len(data), data)
        self._channel.write_soon(data)


def sink_for(environ: dict[str, Any]) -> Sink | None:
    """The connection behind a request served by waitress, or None (another server)."""
    probe = environ.get("waitress.client_disconnected")
    channel = getattr(probe, "__self__", None)
    if channel is None or not callable(getattr(channel, "write_soon", None)):
        return None
    return Sink(channel, chunked=environ.get("SERVER_PROTOCOL") == "HTTP/1.1")


@dataclass
class Stream:
    """One attached stream: where it writes, what it has been sent, and how it ended."""

    sink: Sink
    last_id: int
    render: Callable[[list[tuple[int, str]], int], str]  # its messages -> its SSE text
    still_allowed: Callable[[], bool]
    ended_event: str  # written by the stream's thread when it may watch no longer
    last_write: float = field(default_factory=time.monotonic)
    next_check: float = 0.0
    final: str | None = None  # what the stream's own thread writes last (None: nothing)
    done: threading.Event = field(default_factory=threading.Event)


class Fanout:
    """The writer thread of every attached stream (started with the first one)."""

    def __init__(self, hub: StreamFeed, heartbeat_s: float, recheck_s: float) -> None:
        self._hub = hub
        self._heartbeat_s = heartbeat_s
        self._recheck_s = recheck_s
        self._streams: list[Stream] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def attach(self, stream: Stream) -> Stream:
        """Write this stream from now on; wait on `stream.done`, then write `stream.final`."""
        stream.next_check = time.monotonic() + self._recheck_s
        with self._lock:
            if self._hub.closed:
                stream.done.set()
                return stream
            self._streams.append(stream)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="live-fanout",
                                                daemon=True)
                self._thread.start()
        return stream

    def _finish(self, stream: Stream, final: str | None) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)
        stream.final = final
        stream.done.set()

    def _run(self) -> None:
        idle = False
        try:
            idle = self._write_until_idle()
        finally:  # the hub closed or the writer failed: no stream's thread waits forever
            if not idle:
                with self._lock:
                    left, self._streams = self._streams, []
                    if self._thread is threading.current_thread():
                        self._thread = None
                for stream in left:
                    stream.done.set()

    def _write_until_idle(self) -> bool:
        """Write every stream until none is left (True: the next attach starts a new
        writer) or the hub closes (False)."""
        hub = self._hub
        cursor = hub.last_id
        while True:
            items, missed = hub.read_after(cursor, timeout=IDLE_WAIT_S)
            before = cursor
            if items:
                cursor = items[-1][0]
            with self._lock:
                streams = list(self._streams)
                if hub.closed:
                    return False
                if not streams:
                    self._thread = None
                    return True
            now = time.monotonic()
            for stream in streams:
                self._serve(stream, items, missed, before, now)

    def _serve(self, stream: Stream, items: list[tuple[int, str]], missed: int,
               before: int, now: float) -> None:
        """Bring one stream up to date; any failure ends that stream alone."""
        try:
            if now >= stream.next_check:
                stream.next_check = now + self._recheck_s
                if not stream.still_allowed():  # the session ended, the token was revoked
                    self._finish(stream, stream.ended_event)
                    return
            if stream.sink.backlog_bytes > MAX_BACKLOG_BYTES:
                self._finish(stream, None)  # not reading: it resumes with Last-Event-ID
                return
            if stream.last_id != before:  # new, resumed or behind: its own messages
                items, missed = self._hub.read_after(stream.last_id, timeout=0.0)
            if items and items[-1][0] > stream.last_id:
                stream.sink.write(stream.render(items, missed))
                stream.last_id = items[-1][0]
                stream.last_write = now
            elif now - stream.last_write >= self._heartbeat_s:
                stream.sink.write(": heartbeat\n\n")
                stream.last_write = now
        except Exception:  # the client went away (ClientDisconnected, a socket error)
            with contextlib.suppress(Exception):
                self._finish(stream, None)
