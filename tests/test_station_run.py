"""End to end: `balance-station run` on the simulated board serves health and live data."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest


@pytest.fixture
def station(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    (tmp_path / "empty.toml").write_text("# defaults only\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--board", "sim", "--demo",
         "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "data"),
         "--config", str(tmp_path / "empty.toml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    url = None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip().startswith("http://"):
            url = line.strip()
            break
    if url is None:
        proc.kill()
        pytest.fail("station did not print its URL:\n" + "".join(lines))
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("station did not stop on SIGTERM")


def read_events(url: str, n: int, timeout: float = 10.0) -> list[dict]:
    events = []
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) >= n:
                    break
    return events


def test_station_serves_live_frames_and_health(station):
    page = urllib.request.urlopen(station + "live", timeout=10).read().decode()
    assert "Balance Station" in page and "live.js" in page
    events = read_events(station + "api/live", 40)
    ids = [e["id"] for e in events]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # no message skipped
    times = [t for e in events for t in e["frames"]["t"]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < 1.5 / 80  # every frame of the stream arrived
    assert 60 < (len(times) - 1) / (times[-1] - times[0]) < 100
    assert all(len(c) == 4 for e in events for c in e["frames"]["counts"])
    assert {"t", "force_n", "cop_mm", "calibrated"} <= events[-1].keys()
    deadline = time.monotonic() + 5
    while True:  # the rate is measured over 1 s windows
        health = json.load(urllib.request.urlopen(station + "api/health", timeout=10))
        if health["achieved_rate_hz"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert health["board"] == "sim"
    assert health["calibrated"] is True  # the shipped calibration of the simulated board
    assert health["acquisition"]["state"] == "running"
    assert health["achieved_rate_hz"] > 60
    assert health["frames_discarded"] == 0
    assert "disk_free_mb" in health
