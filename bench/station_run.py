"""One running station for the benchmarks that measure one (footprint, acquisition_restart,
sse_latency), and the few calls they make to it.

`balance-station run` starts on a free loopback port with its output in a log file: a pipe
that nobody reads once the URL is known fills up and blocks a chatty station. The station is
up when `/api/health` answers (the start-up time footprint reports). The systemd variables
of the machine running the bench are left out, so a bench never talks to its watchdog.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
SYSTEMD_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


@dataclass
class Station:
    """A started station: its process, its URL (ending in "/"), how long it took to answer,
    and where its output goes."""

    proc: subprocess.Popen
    url: str
    startup_s: float
    log_path: Path

    def stop(self) -> str:
        """SIGTERM (a kill after 15 s); everything the station wrote."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_station(data_dir: Path, config: Path, log_path: Path, *, board: str = "sim",
                  timeout_s: float = 60.0) -> Station:
    """`balance-station run --board <board>` on `data_dir` and `config`, once it answers."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for name in SYSTEMD_VARIABLES:
        env.pop(name, None)
    url = f"http://127.0.0.1:{port}/"
    t0 = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "station", "run", "--board", board, "--host", "127.0.0.1",
             "--port", str(port), "--data-dir", str(data_dir), "--config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError("the station ended:\n" + log_path.read_text()[-2000:])
        try:
            with urllib.request.urlopen(url + "api/health", timeout=1) as resp:
                resp.read()
                return Station(proc, url, time.monotonic() - t0, log_path)
        except (OSError, urllib.error.URLError):
            time.sleep(0.01)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"no answer from /api/health within {timeout_s:.0f} s:\n"
                       + log_path.read_text()[-2000:])


def call(url: str, token: str, body: dict | None = None) -> tuple[int, dict[str, Any]]:
    """GET (or POST `body`) with the bearer token: (status, JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="GET" if body is None else "POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def health(url: str, token: str) -> dict[str, Any]:
    """The whole health body of the station at `url` (with a token: without one it answers
    liveness only)."""
    status, body = call(url.rstrip("/") + "/api/health", token)
    if status != 200:
        raise RuntimeError(f"/api/health answered {status}: {body}")
    return body


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
