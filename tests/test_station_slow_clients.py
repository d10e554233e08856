"""End to end: slow clients cannot take a running station offline (issue 18, item 3).

A real `balance-station run --board sim` on loopback; a few hundred sockets from other
loopback addresses (127.0.0.2...: Linux routes all of 127/8 to lo) send their request
headers one byte at a time, while /api/health is asked every 0.2 s from 127.0.0.1 and
must answer within a second every time. Before the fix the server stopped accepting at
waitress's 100 connections and health timed out for a minute.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from station_process import running_station

ATTACK_HOSTS = [f"127.0.0.{i}" for i in range(2, 12)]  # 10 addresses
SOCKETS_PER_HOST = 30  # 300 sockets, more than one address may hold (24)
PER_ADDRESS = 24
HEADER_TIMEOUT_S = 2
ATTACK_S = 6.0
HEALTH_EVERY_S = 0.2
HEALTH_DEADLINE_S = 1.0


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


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[str, int]]:
    config = (f"[server]\nconnections_per_address = {PER_ADDRESS}\n"
              f"header_timeout_s = {HEADER_TIMEOUT_S}\n")
    with running_station(tmp_path / "data", config, url_timeout_s=30) as st:
        parts = urlsplit(st.url)
        yield parts.hostname or "127.0.0.1", parts.port or 80


def health_latency(host: str, port: int) -> float | None:
    """Seconds /api/health took, or None when it did not answer 200 within the deadline."""
    began = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=HEALTH_DEADLINE_S)
    try:
        conn.request("GET", "/api/health")
        response = conn.getresponse()
        response.read()
        ok = response.status == 200
    except OSError:
        ok = False
    finally:
        conn.close()
    return time.monotonic() - began if ok else None


def is_open(sock: socket.socket) -> bool:
    """The server has not closed this socket: nothing to read (an EOF, a reset or the
    refusal's 503 all mean the server let go of it)."""
    try:
        sock.recv(4096, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


class SlowClients:
    """Sockets that send `GET /api/health` headers one byte at a time and never finish."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sockets: dict[str, list[socket.socket]] = {}

    def open(self) -> None:
        for host in ATTACK_HOSTS:
            for _ in range(SOCKETS_PER_HOST):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind((host, 0))
                sock.settimeout(2.0)
                try:
                    sock.connect(("127.0.0.1", self.port))
                    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
                except OSError:
                    sock.close()
                    continue
                sock.setblocking(False)
                self.sockets.setdefault(host, []).append(sock)

    def drip(self) -> None:
        for socks in self.sockets.values():
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"X")

    def held(self) -> dict[str, int]:
        return {host: sum(is_open(s) for s in socks) for host, socks in self.sockets.items()}

    def close(self) -> None:
        for socks in self.sockets.values():
            for sock in socks:
                sock.close()


def test_slow_clients_do_not_take_the_station_offline(station: tuple[str, int]) -> None:
    host, port = station
    assert health_latency(host, port) is not None  # answering before the attack
    attack = SlowClients(port)
    latencies: list[float | None] = []
    held_early: dict[str, int] = {}
    try:
        attack.open()
        began = time.monotonic()
        while time.monotonic() - began < ATTACK_S:
            attack.drip()
            latencies.append(health_latency(host, port))
            if not held_early and time.monotonic() - began > 0.5:
                held_early = attack.held()
            time.sleep(HEALTH_EVERY_S)
        held_late = attack.held()
    finally:
        attack.close()
    answered = [t for t in latencies if t is not None]
    opened = sum(len(s) for s in attack.sockets.values())
    print(
        f"\nslow sockets opened: {opened}; held by the server after 0.5 s: "
        f"{sum(held_early.values())} (max {max(held_early.values(), default=0)} per address); "
        f"after {ATTACK_S:g} s: {sum(held_late.values())}; /api/health answered "
        f"{len(answered)}/{len(latencies)}, slowest {max(answered, default=0) * 1000:.0f} ms"
    )
    assert opened >= 250
    assert len(answered) == len(latencies), f"/api/health timed out: {latencies}"
    assert max(answered) < HEALTH_DEADLINE_S
    assert 0 < max(held_early.values()) <= PER_ADDRESS  # the per-address limit bit first
    assert sum(held_late.values()) == 0  # the header deadline closed the rest
