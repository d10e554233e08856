"""`balance-station doctor` on the simulated board, and its checks on synthetic data."""

from __future__ import annotations

import json

import numpy as np

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


def test_doctor_reports_a_board_that_cannot_open(tmp_path, capsys):
    config = tmp_path / "empty.toml"
    config.write_text("")
    code = main(["doctor", "--board", "hx711", "--seconds", "3",
                 "--config", str(config), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  board opens" in out and "NOT healthy" in out
