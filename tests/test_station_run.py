"""End to end: `balance-station run` on the simulated board serves health and live data."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request

import pytest
from station_process import running_station


@pytest.fixture
def coach_token(tmp_path):
    """An admin and a coach API token in the station's data dir, made before it starts."""
    from station.access import create_api_token, create_user
    from station.store import open_store

    store = open_store(tmp_path / "data")
    create_user(store, "admin", "admin", "correct horse battery")
    secret, _ = create_api_token(store, "coach", "e2e test")
    store.close()
    return secret


@pytest.fixture
def station(tmp_path, coach_token):
    with running_station(tmp_path / "data", demo=True, url_timeout_s=30, stop_timeout_s=10) as st:
        yield st.url + "/"


def read_events(url: str, n: int, token: str, timeout: float = 10.0) -> list[dict]:
    events = []
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) >= n:
                    break
    return events


def test_station_serves_live_frames_and_health(station, coach_token):
    with pytest.raises(urllib.error.HTTPError) as refused:  # the live stream needs a role
        urllib.request.urlopen(station + "api/live", timeout=10)
    assert refused.value.code == 401
    messages = read_events(station + "api/live", 40, coach_token)
    ids = [e["id"] for e in messages]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # no message skipped
    events = [e for e in messages if e["kind"] == "frames"]
    times = [t for e in events for t in e["frames"]["t"]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 0  # in order, no frame twice
    # Message ids are contiguous (checked above), so every frame the station published
    # arrived; the simulated board itself skips a conversion when the acquisition process
    # is starved of CPU (as an HX711 would), which a loaded CI machine can cause now and then.
    missing = sum(round(g * 80) - 1 for g in gaps if g > 1.5 / 80)
    assert missing <= 0.05 * len(times), f"{missing} frames missing of {len(times)}"
    assert 60 < (len(times) - 1) / (times[-1] - times[0]) < 100
    assert all(len(c) == 4 for e in events for c in e["frames"]["counts"])
    assert {"t", "force_n", "cop_mm", "calibrated"} <= events[-1].keys()
    public = json.load(urllib.request.urlopen(station + "api/health", timeout=10))
    assert public == {"status": "ok"}  # no login: liveness only
    deadline = time.monotonic() + 5
    while True:  # the rate is measured over 1 s windows
        request = urllib.request.Request(
            station + "api/health", headers={"Authorization": f"Bearer {coach_token}"}
        )
        health = json.load(urllib.request.urlopen(request, timeout=10))
        if health["achieved_rate_hz"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert health["board"] == "sim"
    assert health["calibrated"] is True  # the shipped calibration of the simulated board
    assert health["acquisition"]["state"] == "running"
    assert health["achieved_rate_hz"] > 60
    assert health["frames_discarded"] == 0
    assert "disk_free_mb" in health
