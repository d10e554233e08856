"""One way for tests to start a real `balance-station run` and read its URL.

The station prints its URL on stdout once it serves; everything it logs after that must keep
flowing somewhere, or a test that reads only the first lines leaves the pipe to fill (64 KiB)
and the station blocks on its next log line. So the output goes to a log file, and a thread
follows it only until the URL appears.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class StationProcess:
    url: str  # without the trailing slash
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _wait_for_url(log: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.strip().startswith("http://"):
                return line.strip().rstrip("/")
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


@contextmanager
def running_station(
    data_dir: Path,
    config: str = "# defaults only\n",
    *,
    demo: bool = False,
    log: Path | None = None,
    url_timeout_s: float = 60.0,
    stop_timeout_s: float = 15.0,
    must_stop: bool = True,
) -> Iterator[StationProcess]:
    """`balance-station run --board sim` on `data_dir` with `config` (TOML text) on port 0.

    Yields once the URL is printed; on leaving sends SIGTERM and, with `must_stop`, fails the
    test when the station does not stop within `stop_timeout_s` (a clean stop is part of what
    these tests check)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config_file = data_dir.parent / f"{data_dir.name}-station.toml"
    config_file.write_text(config)
    log = log or data_dir.parent / f"{data_dir.name}-station.log"
    command = [sys.executable, "-m", "station", "run", "--board", "sim", "--host", "127.0.0.1",
               "--port", "0", "--data-dir", str(data_dir), "--config", str(config_file)]
    if demo:
        command.append("--demo")
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        try:
            url = _wait_for_url(log, proc, url_timeout_s)
            if url is None:
                pytest.fail("station did not print its URL:\n" + log.read_text(errors="replace"))
            yield StationProcess(url, proc, log)
        finally:
            stopped = _stop(proc, stop_timeout_s)
    if must_stop and not stopped:
        pytest.fail(f"station did not stop on SIGTERM within {stop_timeout_s} s")


def _stop(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        return False
