"""station.web.live_fanout: one thread writes every live stream served by waitress.

The bare live blueprint on a StationServer in a thread, read by raw sockets: every stream
gets every message in order (HTTP/1.1 chunked and HTTP/1.0), the streams' own threads
sleep while one writer serves them all, a client that stops reading is dropped without
holding back the others, and closing the hub ends every stream.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from station.live.hub import LiveHub
from station.web import live_fanout
from station.web.live_stream import live_blueprint
from station.web.server import ServerLimits, create_station_server, stop_serving

LIMITS = ServerLimits(threads=16, connection_limit=200, connections_per_address=32)


@contextlib.contextmanager
def serving(app: Flask, hub: LiveHub) -> Iterator[Any]:
    """`app` on a StationServer in a thread; the hub closed and the server stopped after."""
    server = create_station_server(app, host="127.0.0.1", port=0, limits=LIMITS)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        hub.close()
        stop_serving(server, timeout_s=2)
        thread.join(3)


def live_app(hub: LiveHub, watcher: Any) -> Flask:
    """The station's stream view with a given watcher (who asks, what it may see)."""
    from station.web import live_stream

    app = Flask("live")
    app.add_url_rule("/api/live", "live", live_stream.live_view(hub, watcher=watcher))
    return app


@pytest.fixture
def served() -> Iterator[tuple[Any, LiveHub]]:
    hub = LiveHub(history=50)
    app = Flask("fanout")
    app.register_blueprint(live_blueprint(hub, max_streams=12))
    with serving(app, hub) as server:
        yield server, hub


def open_stream(server: Any, version: str = "1.1", rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", int(server.effective_port)))
    sock.sendall(f"GET /api/live HTTP/{version}\r\nHost: t\r\n\r\n".encode())
    sock.settimeout(5)
    return sock


def read_for(sock: socket.socket, seconds: float, until: bytes | None = None) -> bytes:
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until in data):
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def ids_in(data: bytes) -> list[int]:
    return [int(i) for i in re.findall(rb"\nid: (\d+)\n", b"\n" + data)]


def publish(hub: LiveHub, n: int, size: int = 20) -> None:
    for k in range(n):
        hub.publish({"kind": "frames", "k": k, "pad": "x" * size})


def wait_for(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def fanout_of(hub: LiveHub) -> live_fanout.Fanout:
    """The Fanout the blueprint made (the only one alive for this hub)."""
    import gc

    found = [o for o in gc.get_objects()
             if isinstance(o, live_fanout.Fanout) and o._hub is hub]
    assert len(found) == 1
    return found[0]


def test_every_stream_gets_every_message_in_order_from_one_writer(served) -> None:
    server, hub = served
    streams = [open_stream(server) for _ in range(6)] + [open_stream(server, "1.0")]
    for sock in streams:
        assert b"retry: " in read_for(sock, 3, until=b"retry: ")
    fanout = fanout_of(hub)
    assert wait_for(lambda: fanout.open_streams == len(streams))
    first = hub.last_id + 1
    for _ in range(10):
        publish(hub, 3)
        time.sleep(0.02)
    expected = list(range(first, first + 30))
    for sock in streams:
        data = read_for(sock, 3, until=f"id: {expected[-1]}\n".encode())
        assert ids_in(data) == expected
    writers = [t for t in threading.enumerate() if t.name == "live-fanout"]
    assert len(writers) == 1
    for sock in streams:
        sock.close()


def test_a_stream_resumes_after_last_event_id_through_the_writer(served) -> None:
    server, hub = served
    publish(hub, 5)
    resume_from = hub.last_id - 3
    sock = socket.create_connection(("127.0.0.1", int(server.effective_port)))
    sock.sendall(f"GET /api/live HTTP/1.1\r\nHost: t\r\nLast-Event-ID: {resume_from}\r\n\r\n"
                 .encode())
    publish(hub, 1)  # the writer serves the stream's backlog with the next message
    data = read_for(sock, 3, until=f"id: {hub.last_id}\n".encode())
    assert ids_in(data) == list(range(resume_from + 1, hub.last_id + 1))
    sock.close()


def test_a_client_that_stops_reading_is_dropped_and_the_others_go_on(served, monkeypatch) -> None:
    monkeypatch.setattr(live_fanout, "MAX_BACKLOG_BYTES", 64 * 1024)
    server, hub = served
    stalled = open_stream(server, rcvbuf=4096)
    reader = open_stream(server)
    for sock in (stalled, reader):
        assert b"retry: " in read_for(sock, 3, until=b"retry: ")
    fanout = fanout_of(hub)
    assert wait_for(lambda: fanout.open_streams == 2)
    received = b""
    for _ in range(60):  # 12 MB in all: more than the kernel buffers of the stalled socket
        publish(hub, 1, size=200_000)
        received += read_for(reader, 0.02)
        time.sleep(0.005)
    assert wait_for(lambda: fanout.open_streams == 1)  # the stalled one was let go
    publish(hub, 1)
    received += read_for(reader, 3, until=f"id: {hub.last_id}\n".encode())
    assert ids_in(received)[-1] == hub.last_id  # the reader was never held back
    stalled.close()
    reader.close()


def test_closing_the_hub_ends_every_stream(served) -> None:
    server, hub = served
    streams = [open_stream(server) for _ in range(3)]
    for sock in streams:
        read_for(sock, 3, until=b"retry: ")
    fanout = fanout_of(hub)
    assert wait_for(lambda: fanout.open_streams == 3)
    hub.close()
    for sock in streams:
        data = read_for(sock, 3, until=b"0\r\n\r\n")
        assert data.endswith(b"0\r\n\r\n")  # the chunked body was ended properly
    assert fanout.open_streams == 0


def test_a_stream_whose_session_ended_gets_ended_from_the_writer(monkeypatch) -> None:
    from station.web import live_stream
    from station.web.result_access import ResultViewer

    monkeypatch.setattr(live_stream, "RECHECK_S", 0.2)
    allowed = threading.Event()
    allowed.set()
    hub = LiveHub()
    app = live_app(hub, lambda: live_stream.Watcher(
        key=None, label="x", viewer=ResultViewer.everything(), still_allowed=allowed.is_set))
    with serving(app, hub) as server:
        sock = open_stream(server)
        read_for(sock, 3, until=b"retry: ")
        publish(hub, 1)
        assert ids_in(read_for(sock, 3, until=b"id: 1\n")) == [1]
        allowed.clear()  # a logout, a revoked token
        data = read_for(sock, 3, until=b"0\r\n\r\n")
        assert b"event: ended" in data and data.endswith(b"0\r\n\r\n")
        sock.close()


def test_the_writer_sends_each_viewer_only_what_it_may_see() -> None:
    # A viewer that does not browse history (an athlete's kiosk that did not start the
    # trial) gets frames, a trial_result without its result, and other kinds as kind + id.
    from station.web import live_stream
    from station.web.result_access import ResultViewer

    hub = LiveHub()
    app = live_app(hub, lambda: live_stream.Watcher(
        key=None, label="x", viewer=ResultViewer(sees_all=False)))
    with serving(app, hub) as server:
        sock = open_stream(server)
        read_for(sock, 3, until=b"retry: ")
        assert wait_for(lambda: fanout_of(hub).open_streams == 1)
        hub.publish({"kind": "frames", "force_n": 700.0})
        hub.publish({"kind": "trial_result", "result": {"athlete": "Jordan Smith"}})
        hub.publish({"kind": "calibration", "athlete": "Jordan Smith"})
        data = read_for(sock, 3, until=b"id: 3\n").decode()
        assert '"force_n":700.0' in data
        assert "Jordan Smith" not in data
        assert '{"kind":"trial_result","result":null,"id":2}' in data
        assert '{"kind":"calibration","id":3}' in data
        sock.close()
