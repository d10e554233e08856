"""`balance-station doctor` on the simulated board, and its checks on synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from station.acquisition.diagnostics import Collected, assess, healthy
from station.commands.cli import main


def collected(rate_hz: float, noise: float = 40.0, stuck_cell: int | None = None,
              discarded: int = 0) -> Collected:
    rng = np.random.default_rng(0)
    n = int(rate_hz * 5)
    offsets = np.array([1000, -2000, 3000, 500])
    counts = (rng.normal(0, noise, (n, 4)) + offsets).astype(np.int32)
    if stuck_cell is not None:
        counts[:, stuck_cell] = -1
    stats = {"state": "running", "frames_total": n + discarded, "frames_discarded": discarded,
             "discarded_by_check": {"timeout": discarded}, "cell_failures": [0, 0, 0, 0]}
    t_ns = (np.arange(n) * 1e9 / rate_hz).astype(np.int64)
    return Collected(board="hx711", seconds=5.0, t_ns=t_ns, counts=counts, stats=stats)


def by_name(data: Collected) -> dict:
    return {c.name: c for c in assess(data)}


def test_healthy_board_passes():
    assert healthy(assess(collected(92.0)))


def test_ten_sps_board_fails_with_the_rate_pin_hint():
    rate = by_name(collected(10.0))["sample rate"]
    assert not rate.ok and "RATE pin" in rate.detail


def test_stuck_noisy_and_lossy_cells_fail_by_name():
    checks = by_name(collected(80.0, stuck_cell=2))
    assert not checks["cell 2 (back_left)"].ok
    assert "never change" in checks["cell 2 (back_left)"].detail
    assert checks["cell 0 (front_left)"].ok
    noisy = by_name(collected(80.0, noise=5000.0))["cell 1 (front_right)"]
    assert not noisy.ok and "noisy" in noisy.detail
    assert not by_name(collected(80.0, discarded=40))["frame integrity"].ok


def test_doctor_on_the_simulated_board_is_healthy(tmp_path, capsys):
    config = tmp_path / "empty.toml"
    config.write_text("")
    code = main(["doctor", "--board", "sim", "--seconds", "2", "--json",
                 "--config", str(config), "--data-dir", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["healthy"] and report["board"] == "sim"
    assert len([c for c in report["checks"] if c["name"].startswith("cell ")]) == 4
    timing = {c["name"]: c for c in report["checks"]}["conversion timing"]  # sim: not known
    assert timing["ok"] and "simultaneous" in timing["detail"]
    assert report["acquisition"]["cell_timing"]["frames_timed"] == 0


def test_doctor_reports_a_board_that_cannot_open(tmp_path, capsys):
    config = tmp_path / "empty.toml"
    config.write_text("")
    code = main(["doctor", "--board", "hx711", "--seconds", "3",
                 "--config", str(config), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  board opens" in out and "NOT healthy" in out


def emulated_timing(chips, frames: int = 250) -> dict:
    """The acquisition loop's cell_timing for emulated chips read through the driver."""
    from station.acquisition.process import _Loop, board_cell_timer
    from station.acquisition.ring import FrameRing
    from station.board.sim import SimulatedBoard

    board = SimulatedBoard(realtime=False, through_gpio=True, chips=chips)
    ring = FrameRing(capacity=1024)
    try:
        loop = _Loop(ring, conn=None, cell_timer=board_cell_timer(board))
        for _ in range(frames):
            loop.record(board.read())
        return loop.stats.snapshot()["cell_timing"]
    finally:
        board.close()
        ring.close()


def test_chips_apart_give_their_rates_the_skew_and_a_walk_warning_pointing_to_the_fix():
    from station.acquisition.diagnostics import timing_checks
    from station.board.oscillator import ChipClocks

    chips = ChipClocks.internal(spread=0.03, seed=4)
    timing = emulated_timing(chips)
    checks = {c.name: c for c in timing_checks(timing, board="emulator", shared_clock=False)}
    facts = checks["conversion timing"]
    assert facts.ok and not facts.warn
    said = facts.detail.split("chip rates ")[1].split(" Hz; skew mean")[0].split(" / ")
    assert [float(r) for r in said] == pytest.approx(chips.rates_hz, abs=0.015)  # 2 decimals
    assert "not in lockstep" in facts.detail
    walk = checks["skew walk"]
    assert walk.ok and walk.warn  # advice, not a failure
    assert "hardware/shared-clock.md" in walk.detail and "every 0.2" in walk.detail
    data = collected(92.0)
    data.stats["cell_timing"] = timing
    assert healthy(assess(data))  # a warning keeps the board healthy


def test_one_shared_clock_is_found_in_lockstep_and_the_mode_checked_against_the_config():
    from station.acquisition.diagnostics import timing_checks
    from station.board.oscillator import ChipClocks

    timing = emulated_timing(ChipClocks.shared_clock(seed=4))
    assert timing["lockstep"] and timing["skew_max_ms"] < 0.1
    configured = timing_checks(timing, board="emulator", shared_clock=True)
    assert [c.name for c in configured] == ["conversion timing"]
    assert "lockstep (one shared clock)" in configured[0].detail
    unconfigured = {c.name: c for c in timing_checks(timing, board="emulator",
                                                     shared_clock=False)}
    mode = unconfigured["clock mode"]
    assert mode.warn and 'clock = "shared"' in mode.detail
    apart = timing_checks(emulated_timing(ChipClocks.internal(spread=0.03, seed=4)),
                          board="hx711", shared_clock=True)
    assert any(c.name == "clock mode" and "XI" in c.detail and c.warn for c in apart)


def test_a_board_that_cannot_time_its_cells_says_so():
    from station.acquisition.diagnostics import timing_checks

    empty = {"rates_hz": [None] * 4, "frames_timed": 0, "skew_mean_ms": None,
             "skew_max_ms": None, "beat_period_s": None, "lockstep": False,
             "lockstep_frames": 0}
    (sim,) = timing_checks(empty, board="sim", shared_clock=False)
    assert sim.ok and not sim.warn and "simultaneous" in sim.detail
    (hx,) = timing_checks(empty, board="hx711", shared_clock=False)
    assert hx.warn


def test_doctor_on_the_emulator_board_prints_the_cell_timing(tmp_path, capsys):
    config = tmp_path / "empty.toml"
    config.write_text("")
    main(["doctor", "--board", "emulator", "--seconds", "1.5",
          "--config", str(config), "--data-dir", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    timing = [line for line in lines if line[6:].startswith("conversion timing")]
    assert len(timing) == 1, lines
    assert timing[0][:4] in ("ok  ", "warn")  # the healthy verdict depends on the machine's load
    # on a loaded machine too few frames may come to measure each chip's rate: said so, for
    # all of them or with a "?" for the chip whose model is not sure yet
    assert any(f"chip rates {s}" in timing[0] for s in ("8", "7", "?", "not measured"))
    assert "skew mean" in timing[0] and "lockstep" in timing[0]
