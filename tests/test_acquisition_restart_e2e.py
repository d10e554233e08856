"""End to end: `kill -9` of the acquisition child of a running station (issue 18 item 4).

The station must notice within a second, say so in /api/health, abort the armed trial with
the reason, refuse new trials (409) during the outage, and restart acquisition by itself.
The measuring code is bench/acquisition_restart.py's (which repeats it and prints JSON).
"""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE_LIMIT_S = 1.0
RECOVER_LIMIT_S = 20.0  # back-off 0.5 s, then a fresh Python process imports numpy


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_acquisition_restart", ROOT / "bench" / "acquisition_restart.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kill_9_of_acquisition_is_noticed_reported_and_repaired(tmp_path):
    bench = load_bench()
    token = bench.make_token(tmp_path / "data")
    station = bench.start_sim_station(tmp_path)
    url = station.url
    try:
        facts = bench.kill_and_measure(url, token, recover_limit_s=RECOVER_LIMIT_S)
        assert facts["armed_state"] == "empty"  # armed: nobody on the simulated board
        # The trial refused during the outage, the armed one aborted with the reason.
        assert facts["refused_status"] == 409, facts["refused"]
        assert "board stopped answering" in facts["refused"]["error"]
        assert facts["aborted"]["state"] == "aborted"
        assert facts["aborted"]["abort_reason"] == "board_stopped_answering"
        _, current = bench.call(url + "api/trials/current", token)
        result = current["last_result"]
        assert result["outcome"]["state"] == "aborted"
        assert result["abort_reason"] == "board_stopped_answering"
        assert result["saved"] is False and result["spooled"] is False  # a quick try
        # Health said what happened while it lasted...
        outage = facts["outage"]
        assert outage["state"] in ("not_answering", "restarting")
        assert "exited (killed by SIGKILL)" in outage["problem"] and outage["outage_since"]
        assert outage["last_exit_code"] == -signal.SIGKILL
        assert outage["achieved_rate_hz"] == 0
        # ...and acquisition came back by itself, in a new process.
        after = facts["after"]
        assert after["restarts"] == 1 and after["problem"] is None
        assert after["pid"] != facts["old_pid"]
        assert after["last_exit_code"] == -signal.SIGKILL
        assert facts["notice_s"] < NOTICE_LIMIT_S, facts
        assert facts["recover_s"] < RECOVER_LIMIT_S, facts
        saving = bench.health(url, token)["saving"]  # the spool's part: nothing waits, disk is fine
        assert saving["spooled_trials"] == 0 and saving["disk_free_mb"] > 0
        assert {"oldest_spooled_at", "last_error", "disk_warning"} <= saving.keys()
        status, body = bench.call(url + "api/trials/start", token, bench.TRIAL)  # trials again
        assert status == 201, body
        print(f"\nnotice {facts['notice_s']:.3f} s, recover {facts['recover_s']:.3f} s")
    finally:
        output = station.stop()
    assert "Traceback" not in output, output
    assert "board not answering: the acquisition process exited" in output  # the journal
    assert "acquisition is back" in output
    assert "trial aborted: the board stopped answering" in output
