"""A dead acquisition process, noticed and replaced: `python bench/acquisition_restart.py`.

Starts `balance-station run --board sim` on loopback (its own data dir, a coach API token),
then `--kills` times: waits for frames to flow, arms a trial (nobody steps on the simulated
board, so it waits in `empty`), `kill -9`s the acquisition child (its pid from
/api/health), and measures

- notice_s: from the kill until /api/health no longer says `running`;
- recover_s: from the kill until health says `running` again and frames_total grows;
- what the station did meanwhile: the 409 for a trial started during the outage, the
  armed trial's abort reason, the restart count and last exit code.

Kills closer together than a healthy minute escalate the back-off (0.5 s, 1 s, 2 s, ...),
which recover_s shows. Prints one JSON document. tests/test_acquisition_restart_e2e.py
runs one kill with these functions and checks the facts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.station_run import Station, call, health, start_station  # noqa: E402

TRIAL = {"protocol": "single-leg-left", "trial": "left-open-firm"}


def make_token(data_dir: Path) -> str:
    """A coach API token in a fresh data dir (made before the station starts)."""
    from station.access import create_api_token, create_user
    from station.store import open_store

    store = open_store(data_dir)
    create_user(store, "admin", "admin", "correct horse battery")
    secret, _ = create_api_token(store, "coach", "acquisition restart bench")
    store.close()
    return secret


def start_sim_station(work: Path) -> Station:
    """`balance-station run --board sim` with `work`/data and the defaults."""
    (work / "empty.toml").write_text("# defaults only\n")
    return start_station(work / "data", work / "empty.toml", work / "station.log")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str,
             poll_s: float = 0.02) -> float:
    """Seconds until `predicate()` is true (AssertionError after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(poll_s)
    raise AssertionError(f"not within {timeout} s: {what}")


def frames_flowing(url: str, token: str) -> bool:
    """Running, and frames_total grows over 0.2 s."""
    before = health(url, token)["acquisition"]
    if before["state"] != "running":
        return False
    time.sleep(0.2)
    after = health(url, token)["acquisition"]
    return after["state"] == "running" and after["frames_total"] > before["frames_total"]


def kill_and_measure(url: str, token: str, recover_limit_s: float = 60.0) -> dict[str, Any]:
    """Arm a trial, kill -9 the acquisition child, measure notice and recovery; the facts."""
    wait_for(lambda: frames_flowing(url, token), 30, "frames flowing before the kill", 0.1)
    status, body = call(url + "api/trials/start", token, TRIAL)
    assert status == 201, body
    armed_state = body["status"]["state"]
    pid = health(url, token)["acquisition"]["pid"]
    assert pid and pid != os.getpid(), pid
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    outage: dict[str, Any] = {}

    def noticed() -> bool:
        acq = health(url, token)["acquisition"]
        outage.update(acq)
        return acq["state"] != "running"

    wait_for(noticed, 5, "health reports the dead acquisition", 0.005)
    notice_s = time.monotonic() - killed_at
    refused_status, refused = call(url + "api/trials/start", token, TRIAL)
    _, current = call(url + "api/trials/current", token)
    wait_for(lambda: frames_flowing(url, token), recover_limit_s, "frames flowing again", 0.02)
    recover_s = time.monotonic() - killed_at
    after = health(url, token)["acquisition"]
    return {
        "notice_s": round(notice_s, 3),
        "recover_s": round(recover_s, 3),
        "armed_state": armed_state,
        "old_pid": pid,
        "outage": {k: outage.get(k) for k in (
            "state", "problem", "outage_since", "restarts", "last_exit_code",
            "next_restart_in_s", "achieved_rate_hz")},
        "after": {k: after.get(k) for k in (
            "state", "pid", "problem", "restarts", "last_exit_code", "achieved_rate_hz")},
        "refused_status": refused_status,
        "refused": refused,
        "aborted": current["status"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5, help="how many kills (default 5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-restart-") as tmp:
        work = Path(tmp)
        token = make_token(work / "data")
        station = start_sim_station(work)
        runs = []
        try:
            for _ in range(args.kills):
                runs.append(kill_and_measure(station.url, token))
        finally:
            output = station.stop()
    notice = [r["notice_s"] for r in runs]
    recover = [r["recover_s"] for r in runs]
    report = {
        "kills": len(runs),
        "notice_s": {"min": min(notice), "median": statistics.median(notice),
                     "max": max(notice)},
        "recover_s": {"min": min(recover), "median": statistics.median(recover),
                      "max": max(recover)},
        "runs": [
            {"notice_s": r["notice_s"], "recover_s": r["recover_s"],
             "refused_status": r["refused_status"],
             "abort_reason": r["aborted"].get("abort_reason"),
             "restarts": r["after"]["restarts"],
             "last_exit_code": r["after"]["last_exit_code"],
             "rate_hz_after": r["after"]["achieved_rate_hz"]}
            for r in runs
        ],
        "station_log_lines": [line for line in output.splitlines()
                              if "acquisition" in line or "not answering" in line],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
