"""station.web.server: per-address connection limits and request deadlines on waitress.

A tiny WSGI app on a StationServer in a thread, attacked from loopback addresses
(127.0.0.2... all reach 127.0.0.1 on Linux). The end-to-end attack on a real station is
tests/test_station_slow_clients.py.
"""

from __future__ import annotations

import resource
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from station.web.server import (
    REFUSAL,
    ServerLimits,
    create_station_server,
    raise_open_file_limit,
    stop_serving,
)

LIMITS = ServerLimits(threads=4, connection_limit=200, connections_per_address=5,
                      header_timeout_s=1, body_timeout_s=1)


def _loopback_addresses_work() -> bool:
    """Linux routes all of 127/8 to lo; other systems may have 127.0.0.1 only."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _loopback_addresses_work(),
                                reason="needs 127.0.0.2 and up on the loopback interface")


def slow_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/slow":
        time.sleep(2.5)  # longer than every deadline: an answer in progress is never cut
    body = environ["wsgi.input"].read() if environ.get("CONTENT_LENGTH") else b""
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(2 + len(body)))])
    return [b"ok" + body]


@pytest.fixture
def server() -> Iterator[Any]:
    srv = create_station_server(slow_app, host="127.0.0.1", port=0, limits=LIMITS)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield srv
    stop_serving(srv, timeout_s=1)
    thread.join(3)


def connect(server: Any, source: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", int(server.effective_port)))
    return sock


def get(server: Any, source: str, path: str = "/") -> bytes:
    with connect(server, source) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def closed_by_server(sock: socket.socket, within_s: float) -> float | None:
    """Seconds until the server closed `sock` (EOF or reset), None if it stayed open."""
    began = time.monotonic()
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - began


def test_an_address_holds_at_most_its_limit_and_others_are_served(server: Any) -> None:
    held = [connect(server, "127.0.0.2") for _ in range(LIMITS.connections_per_address)]
    time.sleep(0.2)  # the server has accepted them
    refused = connect(server, "127.0.0.2")
    assert read_all(refused) == REFUSAL  # a clear answer, then closed at once
    assert b"200 OK" in get(server, "127.0.0.3")  # another address is not affected
    for sock in held:
        sock.close()
    time.sleep(0.3)
    assert b"200 OK" in get(server, "127.0.0.2")  # the address's slots came back
    assert server.ledger.refused == 1


def test_headers_sent_slowly_are_cut_off_at_the_deadline(server: Any) -> None:
    sock = connect(server, "127.0.0.2")
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    began = time.monotonic()
    closed = None
    while time.monotonic() - began < 4 and closed is None:
        try:
            sock.send(b"X")  # one byte at a time keeps it "active", but never finishes
        except OSError:
            break
        closed = closed_by_server(sock, 0.3)
    assert time.monotonic() - began < 3.5  # header deadline 1 s + one maintenance pass
    sock.close()


def test_a_connection_that_sends_nothing_is_closed(server: Any) -> None:
    sock = connect(server, "127.0.0.2")
    took = closed_by_server(sock, 4)
    assert took is not None and took < 3.5
    sock.close()


def test_a_stalled_body_is_dropped_and_a_complete_one_is_served(server: Any) -> None:
    stalled = connect(server, "127.0.0.2")
    stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..")
    took = closed_by_server(stalled, 4)
    assert took is not None and took < 3.5
    stalled.close()
    with connect(server, "127.0.0.2") as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Length: 5\r\n\r\nhello")
        assert read_all(sock).endswith(b"okhello")


def test_idle_keep_alive_and_long_answers_are_not_cut(server: Any) -> None:
    with connect(server, "127.0.0.2") as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b"\r\n\r\nok"):
            chunk = sock.recv(4096)
            assert chunk, f"closed after {answer!r}"
            answer += chunk
        time.sleep(2.2)  # idle after an answer: longer than the header deadline
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_all(sock).endswith(b"ok")  # 2.5 s of work, past both deadlines


def test_the_open_file_limit_is_raised_for_the_connections() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if hard != resource.RLIM_INFINITY and hard < 600:
            pytest.skip(f"hard open-file limit {hard} is too low to test")
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert raise_open_file_limit(600) == 600
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 600
        assert raise_open_file_limit(100) == 600  # never lowered
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
