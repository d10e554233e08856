"""Live stream and history page under load: `python bench/sse_latency.py [--seconds 20]`.

Starts `balance-station run --board sim` on loopback (its own data dir), then measures:

- latency of every frame from its acquisition (the frame's `t`, the station's monotonic clock,
  which is this machine's CLOCK_MONOTONIC = time.monotonic() here) to its arrival at an SSE
  client, p50/p99/max, with 1 and with 25 concurrent clients. Each client is a thread with
  http.client that only timestamps the raw chunks it reads; parsing happens after the run, so
  the measuring clients add as little load as possible;
- frames lost per client: frames of the common window that other clients received and this
  one did not (with one client: none can be seen that way), plus any `event: gap` the
  server sent; separately, frames missing from every client (gaps in t beyond 1.5 frame
  intervals: never acquired, e.g. a stall of the acquisition process);
- station CPU: utime+stime of the station process (web server, reader thread; its
  acquisition child separately) from /proc/<pid>/stat, idle (0 clients) and with 1 and 25
  clients; "per client" = (with N - idle) / N;
- acquisition undisturbed: rate, discarded frames, longest gap and ring overruns from
  /api/health at the start and end of each phase;
- page load of an athlete's history with 1,000 trials (seeded with the store API before the
  station starts): server time of GET /athletes/<uid> (median of 5) and its size; with
  Chromium available, the time until the page's charts are drawn.

Prints one JSON document. Targets (issue): p99 <= 60 ms with 25 clients, no frame lost,
acquisition undisturbed.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live_client import LiveClient  # noqa: E402
from bench.station_run import cpu_seconds, health, start_station  # noqa: E402
from station import access  # noqa: E402
from station.store import open_store  # noqa: E402
from station.store.records import Athlete, SessionRecord, TrialRecord  # noqa: E402
from station.web.live_stream import MAX_STREAMS_PER_PRINCIPAL  # noqa: E402

USER, PASSWORD = "bench-admin", "bench-password-1"
N_HISTORY_TRIALS = 1000


# -- setup ---------------------------------------------------------------------------------------
# Defaults, except that every client of the bench comes from loopback: one address may hold
# only 24 connections by default (server.connections_per_address), fewer than 25 streams
# and the bench's own requests.
BENCH_CONFIG = "[server]\nconnections_per_address = 64\n"



def seed(data_dir: Path) -> tuple[str, str]:
    """An admin user, a coach API token, and one athlete with 1,000 trials; returns
    (token, athlete uid)."""
    store = open_store(data_dir, upgrade=True)
    try:
        access.create_user(store, USER, "admin", PASSWORD)
        token, _ = access.create_api_token(store, "coach", "sse bench")
        athlete = store.add_athlete(Athlete(name="History Thousand", team="bench"))
        rng = np.random.default_rng(1)
        start = datetime(2024, 1, 1, 9, tzinfo=UTC)
        stances = ("single-left", "single-right", "double")
        for i in range(N_HISTORY_TRIALS // 10):
            when = start + timedelta(days=2 * i)
            session = store.create_session(SessionRecord(athlete_uid=athlete, started_at=when))
            for k in range(10):
                v = float(rng.normal(25, 4))
                store.save_trial(TrialRecord(
                    session_uid=session, seq=k + 1, stance=stances[k % 3], eyes="open",
                    surface="firm", planned_duration_s=20.0, outcome="complete",
                    duration_s=20.0, started_at=when + timedelta(minutes=k),
                    protocol="baseline",
                    metrics={"mean_velocity_mm_s": {"total": v, "ml": 0.6 * v, "ap": 0.8 * v},
                             "ellipse95_area_mm2": float(rng.normal(300, 50))},
                    score=float(np.clip(rng.normal(65, 10), 0, 100)),
                    analysis_version="bench",
                ))
        return token, athlete
    finally:
        store.close()


def watcher_tokens(data_dir: Path, clients: int) -> list[str]:
    """Enough API tokens for `clients` live streams (MAX_STREAMS_PER_PRINCIPAL each), and one
    more: the streams of the phase before may not all be closed yet."""
    store = open_store(data_dir, upgrade=True)
    try:
        return [access.create_api_token(store, "coach", f"sse watcher {i}")[0]
                for i in range(-(-clients // MAX_STREAMS_PER_PRINCIPAL) + 1)]
    finally:
        store.close()


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# -- SSE clients ---------------------------------------------------------------------------------


class Client(LiveClient):
    """Reads /api/live and keeps (arrival time, raw bytes) per chunk; parses afterwards."""

    def __init__(self, host: str, port: int, token: str, stop: threading.Event) -> None:
        super().__init__(host, port, token, stop, keep_chunks=True)

    def frames(self) -> tuple[list[float], list[float], int]:
        """(frame t, arrival time of the message carrying it), gap events."""
        buffer = b""
        ts: list[float] = []
        arrivals: list[float] = []
        gaps = 0
        for arrival, data in self.chunks:
            buffer += data
            *messages, buffer = buffer.split(b"\n\n")
            for message in messages:
                if message.startswith(b"event: gap"):
                    gaps += 1
                    continue
                for line in message.split(b"\n"):
                    if line.startswith(b"data: "):
                        body = json.loads(line[6:])
                        if body.get("kind") == "frames":
                            ts.extend(body["frames"]["t"])
                            arrivals.extend([arrival] * len(body["frames"]["t"]))
        return ts, arrivals, gaps


def lost_frames(received: list[np.ndarray]) -> tuple[list[int], int | None]:
    """Per client, the frames of the common time window that other clients got and it did
    not; and the frames missing from all clients (gaps in t: never acquired, e.g. a stall of
    the acquisition process, which `max_gap_ms` also shows)."""
    if not received or any(len(r) < 2 for r in received):
        return [-1] * len(received), None
    lo = max(float(r[0]) for r in received)
    hi = min(float(r[-1]) for r in received)
    union = np.unique(np.concatenate([r[(r >= lo) & (r <= hi)] for r in received]))
    lost = [int(len(union) - len(np.intersect1d(union, r))) for r in received]
    d = np.diff(union)
    if not len(d):
        return lost, 0
    interval = float(np.median(d))
    return lost, int((np.round(d[d > 1.5 * interval] / interval) - 1).sum())


def phase(url: str, token: str, watchers: list[str], n_clients: int, seconds: float,
          pid: int) -> dict[str, Any]:
    """`n_clients` live clients, spread over the watchers' tokens (one principal may hold
    only MAX_STREAMS_PER_PRINCIPAL streams)."""
    parts = urllib.parse.urlsplit(url)
    stop = threading.Event()
    clients = [Client(parts.hostname, parts.port, watchers[i % len(watchers)], stop)
               for i in range(n_clients)]
    for c in clients:
        c.start()
    for c in clients:
        c.connected.wait(10)
    time.sleep(1.0)  # let every stream settle
    before = health(url, token)
    kids = children(pid)
    cpu0 = cpu_seconds(pid)
    kid0 = sum(cpu_seconds(k) for k in kids)
    t0 = time.monotonic()
    marks = [len(c.chunks) for c in clients]
    time.sleep(seconds)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    kid = sum(cpu_seconds(k) for k in kids) - kid0
    after = health(url, token)
    stop.set()
    for c in clients:
        c.join(5)
    latencies: list[float] = []
    gap_events = 0
    errors = [c.error for c in clients if c.error and c.error != "stream ended"]
    received: list[np.ndarray] = []
    for c, mark in zip(clients, marks, strict=True):
        c.chunks = c.chunks[mark:]  # the measured window only (message boundaries re-found)
        ts, arrivals, gaps = c.frames()
        gap_events += gaps
        received.append(np.asarray(ts))
        latencies.extend((np.asarray(arrivals) - np.asarray(ts)).tolist())
    lost, source_missing = lost_frames(received)
    lat_ms = np.asarray(latencies) * 1000
    acq = {k: (before["acquisition"].get(k), after["acquisition"].get(k))
           for k in ("frames_discarded", "ring_lost", "max_gap_ms")}
    return {
        "clients": n_clients,
        "seconds": round(wall, 1),
        "frames_received": len(latencies),
        "latency_ms": None if not len(lat_ms) else {
            "p50": round(float(np.percentile(lat_ms, 50)), 1),
            "p99": round(float(np.percentile(lat_ms, 99)), 1),
            "max": round(float(lat_ms.max()), 1),
        },
        "frames_lost_per_client": {"max": max(lost) if lost else None, "total": sum(lost)},
        "frames_never_acquired": source_missing,
        "gap_events": gap_events,
        "client_errors": errors,
        "station_cpu_pct": round(100 * cpu / wall, 1),
        "acquisition_cpu_pct": round(100 * kid / wall, 1),
        "acquisition": {
            "rate_hz": [before["achieved_rate_hz"], after["achieved_rate_hz"]],
            "frames_discarded": acq["frames_discarded"],
            "ring_lost": acq["ring_lost"],
            "max_gap_ms": acq["max_gap_ms"],
        },
    }


# -- history page ----------------------------------------------------------------------------------


def login_opener(url: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(url + "/login", timeout=10).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"username": USER, "password": PASSWORD, "csrf_token": csrf})
    opener.open(url + "/login", data=body.encode(), timeout=10).read()
    return opener


def history_page(url: str, athlete: str, state_cookies: urllib.request.OpenerDirector
                 ) -> dict[str, Any]:
    times, size = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        with state_cookies.open(f"{url}/athletes/{athlete}", timeout=30) as resp:
            body = resp.read()
            assert resp.status == 200 and b"History Thousand" in body
        times.append(time.perf_counter() - t0)
        size = len(body)
    out: dict[str, Any] = {
        "trials": N_HISTORY_TRIALS,
        "server_ms_median": round(1000 * statistics.median(times), 1),
        "server_ms_max": round(1000 * max(times), 1),
        "html_bytes": size,
    }
    try:
        out["browser"] = browser_history_load(url, athlete)
    except Exception as exc:  # the page changed under the bench: say so, keep the figures
        out["browser"] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return out


def browser_history_load(url: str, athlete: str) -> dict[str, Any] | str:
    """Navigation start to the trend charts drawn, in headless Chromium (median of 3)."""
    chromium = "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright not installed"
    if not Path(chromium).exists():
        return f"{chromium} not installed"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=args, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(url + "/login")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        loads = []
        for _ in range(3):
            t0 = time.perf_counter()
            page.goto(f"{url}/athletes/{athlete}")
            page.wait_for_selector("#ch-score .uplot canvas")
            page.wait_for_selector("#ch-vel .uplot canvas")
            loads.append(time.perf_counter() - t0)
        browser.close()
    return {"charts_drawn_ms_median": round(1000 * statistics.median(loads), 1),
            "viewport": "390x844"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per phase")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 25])
    parser.add_argument("--no-history", action="store_true",
                        help="skip the history page (live latency and CPU only)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        config = Path(tmp) / "empty.toml"
        config.write_text(BENCH_CONFIG)
        t0 = time.perf_counter()
        token, athlete = seed(data_dir)
        watchers = watcher_tokens(data_dir, max(args.clients))
        seed_s = time.perf_counter() - t0
        station = start_station(data_dir, config, Path(tmp) / "station.log")
        proc, url = station.proc, station.url.rstrip("/")
        try:
            time.sleep(3.0)  # acquisition up to rate
            phases = [phase(url, token, [], 0, min(args.seconds, 10.0), proc.pid)]
            phases += [phase(url, token, watchers, n, args.seconds, proc.pid)
                       for n in args.clients]
            idle = phases[0]["station_cpu_pct"]
            for p in phases[1:]:
                p["station_cpu_pct_per_client"] = round(
                    (p["station_cpu_pct"] - idle) / p["clients"], 2)
            history = (None if args.no_history
                       else history_page(url, athlete, login_opener(url)))
        finally:
            station.stop()
    result = {
        "bench": "sse_latency",
        "machine": {"cpus": os.cpu_count()},
        "clock": "frame t = station CLOCK_MONOTONIC at acquisition; arrival = time.monotonic()",
        "phases": phases,
        "history_page": history,
        "seed_s": round(seed_s, 1),
        "targets": {"p99_ms_25_clients": 60, "frames_lost": 0},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
