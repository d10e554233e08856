"""The station's footprint on this machine, and as ratios that carry over to a Pi.

`python bench/footprint.py [--seconds 10] [--starts 3] [--board emulator]`

(`--board hx711` off a Pi: the board never opens, so this measures the web side without a
simulator, as on a Pi with the real board, minus the driver's own work.)

Starts `balance-station run --board emulator` on loopback (its own data dir, a coach API
token and one athlete made before it starts) `--starts` times and measures:

- start-up: from the process start to the first answer of `/api/health` (median);
- memory of every station process (the web/main process, the acquisition child, the
  multiprocessing resource tracker): RSS, PSS, USS (private pages) and what is locked
  (mlockall), from /proc/<pid>/smaps_rollup, once the station has settled;
- CPU of each process in CPU seconds per minute and % of one core, over `--seconds` each:
  idle (no live client), the kiosk idle (one live client, nobody on the board), 5 and 25
  live clients, and during a trial (an athlete steps on the emulated board and holds);
- of that CPU, the part spent emulating the board (`--board emulator`), which a real board
  does not cost: the four HX711 chips (the acquisition process publishes the time inside
  them, `emulated_chips_s` in /api/health, once a second; silicon does it for free) and
  the simulated athlete standing on them (a thread of the main process, `simulated_athlete_s`;
  on a Pi, a person). `cpu_pct` counts both, `cpu_pct_without_emulated_chips` leaves the
  chips out and `cpu_pct_without_emulation` both (the driver's own bit-banging stays in);
- the time to analyse and save that trial (the station's own log line, "(N ms)");
- in a separate Python: what the web side imports at start (RSS) and what the first trial
  analysis adds (scipy, imported when first used).

The same run measures three bare baselines, so the figures carry over to another machine (a
Pi): an empty Python process (its RSS/PSS/USS and the time it takes to start and exit), a
bare 80 Hz loop (sleep to the next 1/80 s deadline, its CPU), and a bare driver loop (the
least any driver of the emulated board does at 80 SPS: one wake-up, one poll and one frame
clocked through the same backend and chips, with the acquisition process's scheduling; its
CPU with and without the chips). Ratios are station / baseline.
Prints one JSON document; the targets of issue 17 are in `targets`, and `meets` says which
hold, for the CPU with the emulated board, without its chips, and without any emulation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live_client import LiveClient  # noqa: E402
from bench.station_run import call, cpu_seconds, start_station  # noqa: E402

TRIAL = {"protocol": "baseline", "trial": "left-open-firm"}
TARGETS = {
    "acquisition_rss_mb": 30.0,
    "all_processes_rss_mb": 200.0,
    "cpu_pct_kiosk_idle": 3.0,
    "cpu_pct_25_clients": 8.0,
    "startup_s": 2.0,
}
# Defaults, except that every client of the bench comes from loopback: one address may hold
# only 24 connections by default (server.connections_per_address), fewer than 25 streams
# and the bench's own requests.
BENCH_CONFIG = "[server]\nconnections_per_address = 64\n"

BARE_LOOP = """
import time
period = 1 / 80
due = time.monotonic()
while True:
    due += period
    time.sleep(max(0.0, due - time.monotonic()))
"""


# -- /proc ---------------------------------------------------------------------------------------


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS, USS (private clean + dirty), locked and virtual memory of one process (MB),
    and its thread count."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0])
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmSize:", "Threads:")):
            name, value = line.split(":")
            fields[name] = int(value.split()[0])
    kb = 1024.0
    return {
        "rss": round(fields.get("Rss", 0) / kb, 1),
        "pss": round(fields.get("Pss", 0) / kb, 1),
        "uss": round((fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / kb, 1),
        "locked": round(fields.get("Locked", 0) / kb, 1),
        "virtual": round(fields.get("VmSize", 0) / kb, 1),
        "threads": fields.get("Threads", 0),
    }


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            try:
                kids = [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                kids = []
            out.extend(kids)
            todo.extend(kids)
    return out


def role(pid: int, main_pid: int) -> str:
    """Which station process this is (by its command line)."""
    if pid == main_pid:
        return "main"
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    if "resource_tracker" in cmdline:
        return "resource_tracker"
    # (spawn_main: trees before the child was started with subprocess, for A/B runs)
    if "station.acquisition.child" in cmdline or "spawn_main" in cmdline:
        return "acquisition"
    return f"other:{pid}"


def station_processes(main_pid: int) -> dict[str, int]:
    return {role(pid, main_pid): pid for pid in [main_pid, *descendants(main_pid)]}


FIRST_ANALYSIS = """
import json
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
import station.commands.run, station.web.app
web = rss()
import scipy.signal, scipy.stats
from station.analysis import pipeline
print(json.dumps({"web_side_mb": round(web, 1), "analysis_adds_mb": round(rss() - web, 1)}))
"""


def first_analysis_memory() -> dict[str, float]:
    """What the web side imports at start, and what the first trial analysis adds to it
    (scipy, loaded when first used)."""
    out = subprocess.run([sys.executable, "-c", FIRST_ANALYSIS], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout)


# -- baselines -----------------------------------------------------------------------------------


# The least any driver of the emulated board does at 80 SPS, with the acquisition process's
# scheduling (pinned, SCHED_FIFO when granted): one wake-up a frame, one DOUT poll, one
# frame of 25 pulses clocked through the same lgpio backend and emulated chips. No clock
# models, checks or ring. Prints the emulated chips' share of its CPU once a second.
BARE_DRIVER = """
import sys, time
from station.acquisition.child import RealtimeOptions, _request_realtime
from station.board.emulator import EmulatedHX711Board, FakeLgpio
from station.board.hx711_lgpio import LgpioBackend
from station.board.spec import DEFAULT_DOUTS, DEFAULT_SCK
_request_realtime(RealtimeOptions())
fake = FakeLgpio(EmulatedHX711Board(DEFAULT_SCK, DEFAULT_DOUTS, rate_hz=80.0))
backend = LgpioBackend(DEFAULT_SCK, DEFAULT_DOUTS, gpiochip=0, lgpio=fake)
pulses, words, timer = [0] * 25, [0] * 24, time.perf_counter_ns
period = 1 / 80
due = said = time.monotonic()
while True:
    due += period
    time.sleep(max(0.0, due - time.monotonic()))
    backend.read_douts()
    backend.clock_frame(25, timer, pulses, words)
    if due - said >= 1.0:
        said = due
        print(time.monotonic(), time.process_time(), fake.emulating_ns / 1e9, flush=True)
"""


def bare_driver(seconds: float) -> dict[str, float]:
    """The bare driver loop's CPU over about `seconds`, with and without its emulated chips
    (from its own reports: monotonic time, process CPU time, time inside the chips)."""
    loop = subprocess.Popen([sys.executable, "-c", BARE_DRIVER], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE)
    assert loop.stdout is not None

    def report() -> list[float]:
        line = loop.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"the bare driver loop ended (exit code {loop.wait()})")
        return [float(v) for v in line.split()]

    try:
        first = last = report()
        while last[0] - first[0] < seconds:
            last = report()
    finally:
        loop.kill()
        loop.wait()
    wall, cpu, chips = (b - a for a, b in zip(first, last, strict=True))
    return {"cpu_pct": round(100 * cpu / wall, 2),
            "cpu_pct_without_emulated_chips": round(100 * (cpu - chips) / wall, 2)}


def bare_baselines(seconds: float) -> dict[str, Any]:
    """An empty Python process's memory, and a bare 80 Hz loop's CPU over `seconds`."""
    empty = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    loop = subprocess.Popen([sys.executable, "-c", BARE_LOOP])
    try:
        time.sleep(1.0)
        memory = memory_mb(empty.pid)
        cpu0, t0 = cpu_seconds(loop.pid), time.monotonic()
        time.sleep(seconds)
        cpu = cpu_seconds(loop.pid) - cpu0
        wall = time.monotonic() - t0
    finally:
        for proc in (empty, loop):
            proc.kill()
            proc.wait()
    starts = []
    for _ in range(3):  # start-up of an empty Python (to its exit), the start-up yardstick
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        starts.append(time.monotonic() - t0)
    return {
        "empty_python_start_s": round(statistics.median(starts), 3),
        "empty_python_mb": memory,
        "bare_80hz_loop": {"cpu_s_per_min": round(60 * cpu / wall, 3),
                           "cpu_pct": round(100 * cpu / wall, 2)},
        "bare_driver_loop": bare_driver(seconds),
    }


# -- the station ---------------------------------------------------------------------------------


def seed(data_dir: Path, clients: int = 25) -> tuple[str, str, list[str]]:
    """A coach API token, one athlete and enough watchers' tokens for `clients` live
    streams (one principal may hold only MAX_STREAMS_PER_PRINCIPAL of them) in a fresh data
    dir, and one token more for streams still closing; (token, athlete uid, watchers'
    tokens)."""
    from station.access import create_api_token, create_user
    from station.store import open_store
    from station.store.records import Athlete
    from station.web.live_stream import MAX_STREAMS_PER_PRINCIPAL

    store = open_store(data_dir, upgrade=True)
    try:
        create_user(store, "admin", "admin", "correct horse battery")
        token, _ = create_api_token(store, "coach", "footprint bench")
        watchers = [create_api_token(store, "coach", f"footprint watcher {i}")[0]
                    for i in range(-(-clients // MAX_STREAMS_PER_PRINCIPAL) + 1)]
        athlete = store.add_athlete(Athlete(name="Foot Print", team="bench"))
    finally:
        store.close()
    return token, athlete, watchers


def wait_running(url: str, token: str, board: str, timeout: float = 30.0) -> None:
    """Until health says the acquisition runs at rate (`--board hx711` off a Pi: until it
    says the board cannot open, the web side's footprint without a simulator)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = call(url + "api/health", token)
        acq = body.get("acquisition", {}) if status == 200 else {}
        if acq.get("state") == "running" and (acq.get("achieved_rate_hz") or 0) > 60:
            return
        if board == "hx711" and acq.get("state") == "board_error":
            return
        time.sleep(0.2)
    raise RuntimeError("the acquisition did not reach its rate")


def emulation_reader(url: str, token: str) -> Any:
    """A function giving the emulated board's CPU time so far, (chips, simulated athlete)
    in s, or None on a board without emulated chips."""
    def read() -> tuple[float, float] | None:
        status, body = call(url + "api/health", token)
        acq = (body.get("acquisition") or {}) if status == 200 else {}
        chips = acq.get("emulated_chips_s")
        return (float(chips), float(acq.get("simulated_athlete_s") or 0.0)) if chips else None
    return read


def cpu_window(procs: dict[str, int], seconds: float,
               emulated: Any = None) -> dict[str, dict[str, float]]:
    """CPU of each station process (and all together) over `seconds`; with `emulated` (an
    `emulation_reader`), also the emulated chips' and the simulated athlete's parts, and
    all without them. The acquisition publishes the chips' figure once a second: each end
    of the window is up to 1 s off, i.e. ~0.2 % of a core over 10 s."""
    e0 = emulated() if emulated is not None else None
    before = {name: cpu_seconds(pid) for name, pid in procs.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    out: dict[str, dict[str, float]] = {}
    total = 0.0
    for name, pid in procs.items():
        used = cpu_seconds(pid) - before[name]
        total += used
        out[name] = {"cpu_s_per_min": round(60 * used / wall, 3),
                     "cpu_pct": round(100 * used / wall, 2)}
    out["all"] = {"cpu_s_per_min": round(60 * total / wall, 3),
                  "cpu_pct": round(100 * total / wall, 2)}
    e1 = emulated() if e0 is not None else None
    if e0 is not None and e1 is not None:
        chips, athlete = (max(b - a, 0.0) for a, b in zip(e0, e1, strict=True))
        for name, used in (("emulated_chips", chips), ("simulated_athlete", athlete),
                           ("all_without_emulated_chips", total - chips),
                           ("all_without_emulation", total - chips - athlete)):
            out[name] = {"cpu_s_per_min": round(60 * used / wall, 3),
                         "cpu_pct": round(100 * used / wall, 2)}
    return out


def with_clients(url: str, watchers: list[str], procs: dict[str, int], n: int,
                 seconds: float, emulated: Any = None) -> dict[str, Any]:
    """`n` live clients, dealt round the watchers' tokens (each principal's stream limit,
    with room for the streams of the phase before that the server has not closed yet)."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    stop = threading.Event()
    clients = [LiveClient("127.0.0.1", port, watchers[i % len(watchers)], stop) for i in range(n)]
    for client in clients:
        client.start()
    for client in clients:
        client.connected.wait(10)
    time.sleep(1.0)  # the streams settle
    cpu = cpu_window(procs, seconds, emulated)
    stop.set()
    for client in clients:
        client.join(5)
    errors = sorted({c.error for c in clients if c.error and c.error != "stream ended"})
    return {"clients": n, "cpu": cpu, "client_errors": errors,
            "kb_per_client_s": round(sum(c.bytes for c in clients) / max(n, 1) / seconds / 1024,
                                     1) if n else 0}


def trial(url: str, token: str, athlete: str, procs: dict[str, int], seconds: float,
          log_path: Path, emulated: Any = None) -> dict[str, Any]:
    """An athlete steps on and holds: the CPU meanwhile, then the analyse-and-save time."""
    status, body = call(url + "api/trials/start", token, {**TRIAL, "athlete_uid": athlete})
    if status != 201:
        return {"error": f"trial not started: HTTP {status} {body}"}
    call(url + "api/sim/perform", token,
         {"action": "step_on", "params": {"stance": "left", "skill": 0.9}})
    time.sleep(2.0)
    cpu = cpu_window(procs, seconds, emulated)
    deadline = time.monotonic() + 60
    analysed_ms = None
    while time.monotonic() < deadline:
        found = re.findall(r"trial baseline/left-open-firm \w+, .*\((\d+) ms\)",
                           log_path.read_text())
        if found:
            analysed_ms = int(found[-1])
            break
        time.sleep(0.5)
    call(url + "api/sim/perform", token, {"action": "step_off", "params": {}})
    return {"cpu": cpu, "analyse_and_save_ms": analysed_ms}


def one_start(work: Path, board: str, token: str, athlete: str, watchers: list[str],
              seconds: float, full: bool, run: int) -> dict[str, Any]:
    log_path = work / f"station-{run}.log"
    station = start_station(work / "data", work / "empty.toml", log_path, board=board)
    proc, url, startup_s = station.proc, station.url, station.startup_s
    try:
        wait_running(url, token, board)
        time.sleep(2.0)  # settled: the first requests and live messages are behind it
        procs = station_processes(proc.pid)
        out: dict[str, Any] = {"startup_s": round(startup_s, 3)}
        if full:
            chips = emulation_reader(url, token) if board == "emulator" else None
            out["idle"] = {"clients": 0, "cpu": cpu_window(procs, seconds, chips)}
            out["kiosk_idle"] = with_clients(url, watchers, procs, 1, seconds, chips)
            out["clients_5"] = with_clients(url, watchers, procs, 5, seconds, chips)
            out["clients_25"] = with_clients(url, watchers, procs, 25, seconds, chips)
            if board in ("sim", "emulator"):  # someone to step on the board
                out["trial"] = trial(url, token, athlete, procs, seconds, log_path, chips)
        out["memory_mb"] = {name: memory_mb(pid) for name, pid in procs.items()}
        out["memory_mb"]["all"] = {
            key: round(sum(m[key] for m in out["memory_mb"].values()), 1)
            for key in ("rss", "pss", "uss", "locked", "virtual", "threads")
        }
        granted = re.findall(r"acquisition: (.*)", log_path.read_text())
        out["acquisition_granted"] = granted[-1] if granted else None
        return out
    finally:
        station.stop()


def median_of(runs: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int | float):
            values.append(float(node))
    return round(statistics.median(values), 3) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each CPU window (s)")
    parser.add_argument("--starts", type=int, default=3,
                        help="station starts (start-up and memory each; the CPU phases once)")
    parser.add_argument("--board", default="emulator", help="the board (default emulator)")
    args = parser.parse_args()
    baselines = bare_baselines(args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "empty.toml").write_text(BENCH_CONFIG)
        token, athlete, watchers = seed(work / "data")
        runs = [one_start(work, args.board, token, athlete, watchers, args.seconds, i == 0, i)
                for i in range(args.starts)]
    empty = baselines["empty_python_mb"]
    loop_pct = baselines["bare_80hz_loop"]["cpu_pct"]
    driver_pct = baselines["bare_driver_loop"]["cpu_pct"]
    driver_bare_pct = baselines["bare_driver_loop"]["cpu_pct_without_emulated_chips"]
    summary: dict[str, Any] = {
        "startup_s": median_of(runs, "startup_s"),
        **{f"{kind}_mb": {name: median_of(runs, "memory_mb", name, kind)
                          for name in runs[0]["memory_mb"]}
           for kind in ("rss", "pss", "uss")},
        "acquisition_locked_mb": median_of(runs, "memory_mb", "acquisition", "locked"),
        "cpu_pct": {phase: runs[0][phase]["cpu"]["all"]["cpu_pct"]
                    for phase in ("idle", "kiosk_idle", "clients_5", "clients_25", "trial")
                    if "cpu" in runs[0].get(phase, {})},
        **{f"cpu_pct_{without}": {
            phase: runs[0][phase]["cpu"][f"all_{without}"]["cpu_pct"]
            for phase in ("idle", "kiosk_idle", "clients_5", "clients_25", "trial")
            if f"all_{without}" in runs[0].get(phase, {}).get("cpu", {})}
           for without in ("without_emulated_chips", "without_emulation")},
        "analyse_and_save_ms": runs[0].get("trial", {}).get("analyse_and_save_ms"),
        "main_process_imports": first_analysis_memory(),
    }
    summary["ratios"] = {
        "startup_over_empty_python_start": round(
            (summary["startup_s"] or 0) / baselines["empty_python_start_s"], 1),
        "rss_over_empty_python": {name: round(v / empty["rss"], 2)
                                  for name, v in summary["rss_mb"].items() if v is not None},
        "uss_over_empty_python": {name: round(v / empty["uss"], 2)
                                  for name, v in summary["uss_mb"].items() if v is not None},
        "cpu_over_bare_80hz_loop": {phase: round(v / loop_pct, 1) if loop_pct else None
                                    for phase, v in summary["cpu_pct"].items()},
        "acquisition_over_bare_driver_loop": {
            phase: round(runs[0][phase]["cpu"]["acquisition"]["cpu_pct"] / driver_pct, 2)
            for phase in ("idle", "kiosk_idle", "clients_25")
            if driver_pct and "cpu" in runs[0].get(phase, {})},
        # What carries over to a Pi with real chips: the station without any emulation
        # against the least a driver does there (the bare loop without its chips).
        "without_emulation_over_bare_driver_loop_without_chips": {
            phase: round(v / driver_bare_pct, 2)
            for phase, v in summary["cpu_pct_without_emulation"].items() if driver_bare_pct},
    }
    meets = {
        "acquisition_rss_mb": (summary["rss_mb"].get("acquisition") or 1e9)
        <= TARGETS["acquisition_rss_mb"],
        "all_processes_rss_mb": (summary["rss_mb"].get("all") or 1e9)
        <= TARGETS["all_processes_rss_mb"],
        "cpu_pct_kiosk_idle": summary["cpu_pct"].get("kiosk_idle", 1e9)
        <= TARGETS["cpu_pct_kiosk_idle"],
        "cpu_pct_25_clients": summary["cpu_pct"].get("clients_25", 1e9)
        <= TARGETS["cpu_pct_25_clients"],
        "startup_s": (summary["startup_s"] or 1e9) <= TARGETS["startup_s"],
    }
    for without in ("without_emulated_chips", "without_emulation"):
        figures = summary[f"cpu_pct_{without}"]
        if figures:
            meets[f"cpu_pct_kiosk_idle_{without}"] = figures.get(
                "kiosk_idle", 1e9) <= TARGETS["cpu_pct_kiosk_idle"]
            meets[f"cpu_pct_25_clients_{without}"] = figures.get(
                "clients_25", 1e9) <= TARGETS["cpu_pct_25_clients"]
    result = {
        "bench": "footprint",
        "board": args.board,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "baselines": baselines,
        "summary": summary,
        "targets": TARGETS,
        "meets": meets,
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
