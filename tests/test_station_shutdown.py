"""End to end: a station stopped with live streams open ends them and exits without a traceback.

Before the fix, SIGTERM with a stream open logged "3 thread(s) still running" and one
"OSError: Bad file descriptor" traceback per stream (the server's sockets were closed
under the streams' threads, which ended only when the live hub closed afterwards).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

STREAMS = 3


def test_sigterm_with_live_streams_open_ends_them_cleanly(tmp_path: Path) -> None:
    from station.access import create_api_token, create_user
    from station.store import open_store

    store = open_store(tmp_path / "data")
    create_user(store, "admin", "admin", "correct horse battery")
    token, _ = create_api_token(store, "coach", "shutdown test")
    store.close()
    (tmp_path / "empty.toml").write_text("# defaults only\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--board", "sim", "--host", "127.0.0.1",
         "--port", "0", "--data-dir", str(tmp_path / "data"),
         "--config", str(tmp_path / "empty.toml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stdout is not None
    lines: list[str] = []
    port = None
    deadline = time.monotonic() + 30
    while port is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip().startswith("http://"):
            port = int(line.strip().rstrip("/").rsplit(":", 1)[1])
    assert port is not None, "".join(lines)
    ended: list[bool] = []

    def watch() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", "/api/live", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        assert response.status == 200
        try:
            while response.read(4096):
                pass
            ended.append(True)  # the stream's end arrived: the chunked body finished
        except (OSError, http.client.HTTPException):
            ended.append(False)
        conn.close()

    watchers = [threading.Thread(target=watch, daemon=True) for _ in range(STREAMS)]
    for watcher in watchers:
        watcher.start()
    time.sleep(1.5)  # the streams are flowing
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        output = proc.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    stopped_in = time.monotonic() - began
    for watcher in watchers:
        watcher.join(5)
    log = "".join(lines) + output
    assert proc.returncode == 0, log
    assert "Traceback" not in log, log
    assert "still running" not in log, log
    assert ended == [True] * STREAMS, log
    assert stopped_in < 10, f"stopping took {stopped_in:.1f} s"
