"""`doctor`'s station footprint lines, on a fake /proc (issue 17)."""

from __future__ import annotations

from pathlib import Path

from station.acquisition.process import CHILD_COMMAND
from station.service import footprint

KB = 1024


def fake_process(proc: Path, pid: int, argv: list[str], *, rss_mb: float, pss_mb: float,
                 cpu_ticks: int, children: tuple[int, ...] = ()) -> None:
    d = proc / str(pid)
    (d / "task" / str(pid)).mkdir(parents=True, exist_ok=True)
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (d / "task" / str(pid) / "children").write_text(" ".join(map(str, children)))
    (d / "smaps_rollup").write_text(
        "55d0-7ffd ---p 00000000 00:00 0 [rollup]\n"
        f"Rss:            {int(rss_mb * KB)} kB\nPss:            {int(pss_mb * KB)} kB\n"
    )
    # utime and stime are fields 14 and 15 of /proc/<pid>/stat
    fields = ["S"] + ["0"] * 10 + [str(cpu_ticks), "0"] + ["0"] * 30
    (d / "stat").write_text(f"{pid} (python3) " + " ".join(fields) + "\n")


def fake_proc(tmp: Path, *, total_mb: int, available_mb: int, main_ticks: int = 0,
              acq_ticks: int = 0, station: bool = True) -> Path:
    proc = tmp / "proc"
    proc.mkdir(exist_ok=True)
    (proc / "meminfo").write_text(
        f"MemTotal:       {total_mb * KB} kB\nMemFree:        1 kB\n"
        f"MemAvailable:   {available_mb * KB} kB\n"
    )
    fake_process(proc, 1, ["/sbin/init"], rss_mb=9, pss_mb=3, cpu_ticks=5)
    fake_process(proc, 77, ["/opt/venv/bin/python", "/opt/venv/bin/balance-station", "doctor"],
                 rss_mb=60, pss_mb=50, cpu_ticks=5)  # doctor itself is not the station
    if station:
        fake_process(proc, 100, ["/opt/venv/bin/python", "/opt/venv/bin/balance-station", "run",
                                 "--config", "/etc/balance-station.toml"],
                     rss_mb=95, pss_mb=80, cpu_ticks=main_ticks, children=(101, 102))
        fake_process(proc, 101, ["/opt/venv/bin/python", "-c",
                                 "from multiprocessing.resource_tracker import main;main(5)"],
                     rss_mb=12, pss_mb=6, cpu_ticks=0)
        fake_process(proc, 102, ["/opt/venv/bin/python", "-c", CHILD_COMMAND, "3", "4", "5"],
                     rss_mb=29, pss_mb=22, cpu_ticks=acq_ticks)
    return proc


def checks_for(tmp: Path, before: dict, after: dict) -> list[footprint.FootprintCheck]:
    first = footprint.sample(fake_proc(tmp, **before), cpus=4, clk_tck=100, now_s=0.0)
    second = footprint.sample(fake_proc(tmp, **after), cpus=4, clk_tck=100, now_s=10.0)
    return footprint.footprint_checks(first, second)


def test_finds_the_station_and_its_children_not_doctor(tmp_path):
    s = footprint.sample(fake_proc(tmp_path, total_mb=512, available_mb=300), cpus=4,
                         clk_tck=100, now_s=0.0)
    assert {p.pid: p.role for p in s.processes} == {
        100: "main", 101: "resource_tracker", 102: "acquisition"}
    assert s.station_rss_mb == 136 and s.station_pss_mb == 108
    assert footprint.is_station_main(["python3", "-m", "station", "run", "--board", "sim"])
    assert not footprint.is_station_main(["python3", "-m", "pytest", "tests", "-k", "run"])


def test_a_roomy_pi_is_ok_without_warnings(tmp_path):
    memory, cpu = checks_for(
        tmp_path, dict(total_mb=1800, available_mb=1400, main_ticks=0, acq_ticks=0),
        dict(total_mb=1800, available_mb=1400, main_ticks=30, acq_ticks=20))
    assert memory.ok and not memory.warn
    assert "station RSS 136 MB" in memory.detail and "1400 of 1800 MB available" in memory.detail
    assert cpu.ok and not cpu.warn
    assert "main 3.0 %" in cpu.detail and "acquisition 2.0 %" in cpu.detail  # 30 ticks / 10 s


def test_thin_memory_and_a_busy_core_warn(tmp_path):
    memory, cpu = checks_for(
        tmp_path, dict(total_mb=512, available_mb=80, main_ticks=0, acq_ticks=0),
        dict(total_mb=512, available_mb=80, main_ticks=700, acq_ticks=100))
    assert memory.ok and memory.warn and "little memory left" in memory.detail
    assert cpu.ok and cpu.warn and "fewer live clients" in cpu.detail  # main 70 % of a core


def test_out_of_memory_fails(tmp_path):
    memory, _ = checks_for(tmp_path, dict(total_mb=512, available_mb=30),
                           dict(total_mb=512, available_mb=30))
    assert not memory.ok


def test_no_running_station_says_so(tmp_path):
    (only,) = checks_for(tmp_path, dict(total_mb=512, available_mb=300, station=False),
                         dict(total_mb=512, available_mb=300, station=False))
    assert only.ok and not only.warn and "no running station" in only.detail
