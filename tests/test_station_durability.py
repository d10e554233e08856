"""Durability: SIGKILL the running station (demo mode) at random moments, again and again.

After every kill the database must pass its integrity check, every trial the station
reported as saved must be there with its raw frames, and nothing half-written may be
visible. BALANCE_STATION_DURABILITY_KILLS sets the number of kills (default 6).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from station.store import open_store

SAVED = re.compile(r"saved ([0-9a-f-]{36})")


def run_until_killed(data_dir: Path, config: Path, seconds: float, log: Path) -> str:
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "station", "run", "--board", "sim", "--demo",
             "--demo-hold", "3", "--host", "127.0.0.1", "--port", "0",
             "--data-dir", str(data_dir), "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT,
        )
        time.sleep(seconds)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    return log.read_text()


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_a_reported_trial(tmp_path):
    kills = int(os.environ.get("BALANCE_STATION_DURABILITY_KILLS", "6"))
    rng = random.Random(int(os.environ.get("BALANCE_STATION_DURABILITY_SEED", "7")))
    config = tmp_path / "empty.toml"
    config.write_text("")
    data_dir = tmp_path / "data"
    reported: set[str] = set()
    for i in range(kills):
        # Start-up takes a few seconds, a 3 s demo trial's cycle ~12 s: kill anywhere in them.
        output = run_until_killed(data_dir, config, rng.uniform(10.0, 40.0), tmp_path / f"{i}.log")
        assert "Traceback" not in output, output
        reported |= set(SAVED.findall(output))
        store = open_store(data_dir)
        try:
            report = store.integrity_check()
            assert report.ok, report.problems
            for uid in reported:
                trial = store.load_trial(uid, with_raw=True)
                assert trial.raw is not None and trial.raw.n > 0, uid
                assert trial.metrics is not None and trial.score is not None, uid
            assert report.counts["trials"] >= len(reported)
        finally:
            store.close()
    assert len(reported) >= 2, f"only {len(reported)} trials saved in {kills} runs"
