"""The running station's own memory and CPU, and whether the Pi has room to spare.

Why: on a Pi Zero 2 W (512 MB, the Pi 3's CPU) the station fits with a margin, not with
room to waste; `balance-station doctor` says how much of the Pi the station takes and warns
before the margin is gone (swapping stalls the live view; the kernel's out-of-memory killer
ends the acquisition process; a saturated core delays the live messages). Everything is read
from /proc (`proc` is a parameter, so tests give fake numbers): the station's processes
(`balance-station run` / `python -m station run` and its children: the acquisition process
and, in stations before 2026-12-02, multiprocessing's resource tracker), their RSS and PSS
(smaps_rollup), their CPU time over the doctor's test, the machine's MemTotal /
MemAvailable and its CPU count.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

# Thin margins: a warning, the station still works.
MIN_AVAILABLE_MB = 100  # MemAvailable below this: the next allocation spike may swap or OOM
MIN_AVAILABLE_SHARE = 0.20  # or below this share of MemTotal
MAX_STATION_SHARE = 0.50  # the station's PSS above this share of MemTotal
MAX_MAIN_CPU_PCT = 60.0  # the web/main process above this % of one core (its GIL is one core)
MAX_ACQUISITION_CPU_PCT = 50.0  # the acquisition process above this % of its pinned core
# Failing: the Pi is out of memory now.
FAIL_AVAILABLE_MB = 40


@dataclass(frozen=True)
class ProcessSample:
    pid: int
    role: str  # main, acquisition, resource_tracker
    rss_mb: float
    pss_mb: float
    cpu_s: float  # utime + stime so far


@dataclass(frozen=True)
class FootprintSample:
    """One look at the station and the machine."""

    processes: tuple[ProcessSample, ...]
    mem_total_mb: float
    mem_available_mb: float
    cpus: int
    t_s: float  # monotonic time of the sample

    @property
    def station_rss_mb(self) -> float:
        return round(sum(p.rss_mb for p in self.processes), 1)

    @property
    def station_pss_mb(self) -> float:
        return round(sum(p.pss_mb for p in self.processes), 1)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _cmdline(proc: Path, pid: int) -> list[str]:
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_station_main(argv: list[str]) -> bool:
    """`balance-station run ...` or `python -m station run ...` (not doctor, not a test)."""
    if "run" not in argv:
        return False
    before = argv[: argv.index("run")]
    return any(a.endswith("balance-station") for a in before) or (
        "-m" in before and "station" in before
    )


def _children(proc: Path, pid: int) -> list[int]:
    out: list[int] = []
    task_dir = proc / str(pid) / "task"
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return out
    for task in tasks:
        text = _read(task / "children")
        if text:
            out.extend(int(p) for p in text.split())
    return out


def _memory_kb(proc: Path, pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB; PSS = RSS when smaps_rollup cannot be read."""
    text = _read(proc / str(pid) / "smaps_rollup")
    fields: dict[str, int] = {}
    for line in (text or "").splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name.strip()] = int(parts[0])
    if "Rss" not in fields:
        status = _read(proc / str(pid) / "status") or ""
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                fields["Rss"] = int(line.split()[1])
    rss = fields.get("Rss", 0)
    return rss, fields.get("Pss", rss)


def _cpu_s(proc: Path, pid: int, clk_tck: int) -> float:
    text = _read(proc / str(pid) / "stat")
    if not text:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / clk_tck


def _role(argv: list[str]) -> str:
    joined = " ".join(argv)
    if "resource_tracker" in joined:
        return "resource_tracker"
    return "acquisition"


def station_pids(proc: Path) -> dict[int, str]:
    """Pid -> role of every process of the running station(s)."""
    out: dict[int, str] = {}
    try:
        pids = [int(p.name) for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return out
    for pid in pids:
        if pid in out or not is_station_main(_cmdline(proc, pid)):
            continue
        out[pid] = "main"
        for child in _children(proc, pid):
            out[child] = _role(_cmdline(proc, child))
    return out


def _meminfo(proc: Path) -> tuple[float, float]:
    values: dict[str, int] = {}
    for line in (_read(proc / "meminfo") or "").splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0])
    total = values.get("MemTotal", 0) / 1024
    return total, values.get("MemAvailable", values.get("MemFree", 0)) / 1024


def sample(proc: str | Path = "/proc", *, cpus: int | None = None,
           clk_tck: int | None = None, now_s: float | None = None) -> FootprintSample:
    """Look at the station's processes and the machine now."""
    root = Path(proc)
    tck = clk_tck or os.sysconf("SC_CLK_TCK")
    processes = []
    for pid, role in sorted(station_pids(root).items()):
        rss, pss = _memory_kb(root, pid)
        processes.append(ProcessSample(pid, role, round(rss / 1024, 1), round(pss / 1024, 1),
                                       _cpu_s(root, pid, tck)))
    total, available = _meminfo(root)
    return FootprintSample(
        tuple(processes), round(total, 1), round(available, 1),
        cpus if cpus is not None else (os.cpu_count() or 1),
        time.monotonic() if now_s is None else now_s,
    )


@dataclass(frozen=True)
class FootprintCheck:
    """A doctor line: name, ok, detail, warn (the shape of diagnostics.Check)."""

    name: str
    ok: bool
    detail: str
    warn: bool = False


def cpu_percent(before: FootprintSample, after: FootprintSample) -> dict[str, float]:
    """% of one core per role between two samples (processes present in both)."""
    wall = after.t_s - before.t_s
    if wall <= 0:
        return {}
    earlier = {p.pid: p for p in before.processes}
    out: dict[str, float] = {}
    for p in after.processes:
        if p.pid in earlier:
            used = max(0.0, p.cpu_s - earlier[p.pid].cpu_s)
            out[p.role] = round(out.get(p.role, 0.0) + 100 * used / wall, 1)
    return out


def footprint_checks(before: FootprintSample, after: FootprintSample) -> list[FootprintCheck]:
    """The doctor's lines on the station's memory and CPU (over the doctor's own test)."""
    total, available = after.mem_total_mb, after.mem_available_mb
    memory = f"{available:.0f} of {total:.0f} MB available"
    if not after.processes:
        return [FootprintCheck("station footprint", True,
                               f"no running station found (start it to see its memory and "
                               f"CPU here); {memory}",
                               warn=available < MIN_AVAILABLE_MB)]
    per_role = ", ".join(f"{p.role} {p.rss_mb:.0f}" for p in after.processes)
    detail = (f"station RSS {after.station_rss_mb:.0f} MB, PSS {after.station_pss_mb:.0f} MB "
              f"({per_role}); {memory}")
    thin = []
    if available < MIN_AVAILABLE_MB or (total and available < MIN_AVAILABLE_SHARE * total):
        thin.append("little memory left: fewer live screens, PDF reports off, or a bigger Pi")
    if total and after.station_pss_mb > MAX_STATION_SHARE * total:
        thin.append(f"the station takes over {MAX_STATION_SHARE:.0%} of the RAM")
    checks = [FootprintCheck(
        "station memory", available >= FAIL_AVAILABLE_MB,
        detail + ("; " + "; ".join(thin) if thin else ""), warn=bool(thin),
    )]
    cpu = cpu_percent(before, after)
    if cpu:
        facts = ", ".join(f"{role} {pct:.1f} %" for role, pct in sorted(cpu.items()))
        busy = []
        if cpu.get("main", 0.0) > MAX_MAIN_CPU_PCT:
            busy.append("the web process is near one full core: fewer live clients")
        if cpu.get("acquisition", 0.0) > MAX_ACQUISITION_CPU_PCT:
            busy.append("the acquisition process is busy on its core: frames may be late")
        checks.append(FootprintCheck(
            "station CPU", True,
            f"{facts} of one core over {after.t_s - before.t_s:.0f} s ({after.cpus} CPUs)"
            + ("; " + "; ".join(busy) if busy else ""), warn=bool(busy),
        ))
    return checks
