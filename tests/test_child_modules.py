"""The acquisition process carries only what reads the board (issue 17).

Starts the real acquisition process on the emulator board (the simulated athlete runs in
this process and feeds the emulated chips) and on the HX711 board (no GPIO here: it keeps
retrying to open the chips, having imported the driver), asks it for its `sys.modules`
and reads its /proc/<pid>/maps: no numpy, scipy, Flask, SQLAlchemy, waitress in either.
The simulated board (`--board sim`) may load numpy, inside the simulator.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from station.acquisition.process import Acquisition, RealtimeOptions
from station.board.spec import BoardOptions

HEAVY = ("numpy", "scipy", "flask", "werkzeug", "sqlalchemy", "alembic", "waitress", "argon2")


def child_modules(acq: Acquisition, timeout: float = 30.0) -> list[str]:
    """The child's sys.modules, asked for through the command pipe."""
    deadline = time.monotonic() + timeout
    asked = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - asked > 1.0:
            acq.send("modules")
            asked = time.monotonic()
        for message in acq.messages():
            if message[0] == "modules":
                return message[1]
        time.sleep(0.05)
    pytest.fail("the acquisition process did not list its modules")


def heavy_in(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def mapped_heavy(pid: int) -> list[str]:
    """Shared objects of the heavy packages mapped into the process."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({name for name in HEAVY if f"/{name}/" in maps or f"/{name}." in maps})


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_emulator_child_loads_no_numpy_and_is_fed_by_the_station():
    acq = Acquisition(BoardOptions(spec="emulator", seed=4),
                      realtime=RealtimeOptions(sched_fifo_priority=0))
    acq.start()
    try:
        wait_for(lambda: acq.stats["frames_valid"] > 40, 60, "frames from the emulated board")
        modules = child_modules(acq)
        assert "station.board.fed_emulator" in modules  # the emulator and driver path ...
        assert "station.board.hx711" in modules and "station.board.hx711_lgpio" in modules
        assert not [m for m in modules if m.split(".")[0] == "gpiozero"]  # lgpio's path
        assert not heavy_in(modules), heavy_in(modules)  # ... without the heavy packages
        assert not mapped_heavy(acq.stats["pid"])
        assert "station.board.sim" not in modules  # the athlete runs in the station
        time.sleep(0.5)
        empty = acq.read_new()
        acq.send("perform", "step_on", {"mass_kg": 80.0})  # to the station's simulator
        time.sleep(2.0)
        loaded = acq.read_new()
        empty_sum = empty.counts[empty.flags == 0].sum(axis=1).mean()
        loaded_sum = loaded.counts[loaded.flags == 0][-20:].sum(axis=1).mean()
        assert loaded_sum - empty_sum > 500_000  # ~785 N more on the cells (~3,400 counts/N)
        # the emulated chips' own time is kept apart (published once a second), and it is
        # a part of the process's CPU time, not more than all of it
        emulated_s = acq.stats["emulated_chips_us"] / 1e6
        cpu_s = process_cpu_s(acq.stats["pid"])
        assert 0 < emulated_s < cpu_s, (emulated_s, cpu_s)
        # so is the simulated athlete's, in this process: a part of its CPU time
        athlete_s = acq.simulated_athlete_s
        assert athlete_s is not None and 0 < athlete_s < time.process_time(), athlete_s
    finally:
        acq.stop()


def test_hx711_child_imports_the_driver_without_numpy():
    acq = Acquisition(BoardOptions(spec="hx711"),
                      realtime=RealtimeOptions(sched_fifo_priority=0))
    acq.start()
    try:
        modules = child_modules(acq)
        assert "station.board.hx711" in modules
        assert not heavy_in(modules), heavy_in(modules)
        assert acq.simulated_athlete_s is None  # a real board: no emulation to leave out
    finally:
        acq.stop()


def test_sim_child_may_load_numpy_inside_the_simulator():
    """The contrast: the simulated board is the one source with numpy (and scipy) in the
    child; still no web or database code."""
    acq = Acquisition(BoardOptions(spec="sim", seed=4),
                      realtime=RealtimeOptions(sched_fifo_priority=0))
    acq.start()
    try:
        modules = child_modules(acq)
        assert "station.board.sim" in modules and "numpy" in modules
        assert not set(heavy_in(modules)) - {"numpy", "scipy"}
    finally:
        acq.stop()


NO_HELPER_PROCESS = """
import json, os, sys, time
from pathlib import Path
from station.acquisition.process import Acquisition, RealtimeOptions
from station.board.spec import BoardOptions

shm_before = set(os.listdir("/dev/shm"))
acq = Acquisition(BoardOptions(spec="emulator", seed=4),
                  realtime=RealtimeOptions(sched_fifo_priority=0))
scipy_before_start = "scipy" in sys.modules
acq.start()
deadline = time.monotonic() + 60
while acq.stats["frames_valid"] < 20 and time.monotonic() < deadline:
    time.sleep(0.05)
children = []
for proc in Path("/proc").iterdir():
    try:
        ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        if proc.name.isdigit() and ppid == os.getpid():
            children.append((proc / "cmdline").read_bytes().replace(b"\\0", b" ").decode())
    except (OSError, IndexError, ValueError):
        pass
new_shm = sorted(set(os.listdir("/dev/shm")) - shm_before)
frames = acq.stats["frames_valid"]
acq.stop()
print(json.dumps({"frames": frames, "children": children, "shm": new_shm,
                  "scipy_before_start": scipy_before_start}))
"""


def test_the_acquisition_process_is_the_only_child_and_leaves_no_named_block():
    """No `multiprocessing` resource tracker (a ~13 MB Python process that only unlinks named
    blocks and semaphores): the ring, the counts feed and the reader's wake-up are memfd and
    eventfd descriptors, nothing in /dev/shm to clean up if the station dies."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", NO_HELPER_PROCESS], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.splitlines()[-1])
    assert report["frames"] >= 20
    assert len(report["children"]) == 1, report["children"]
    assert "station.acquisition.child" in report["children"][0]
    assert report["shm"] == []
    # The simulated athlete (scipy: 1.5 s here) loads in its thread once the acquisition
    # starts, not while the station is still starting up.
    assert report["scipy_before_start"] is False
