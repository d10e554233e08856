"""Smoke test: bench/driver_throughput.py runs and its frames are correct (not a timing test)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_driver_throughput_bench_prints_json(capsys):
    spec = importlib.util.spec_from_file_location(
        "bench_driver", ROOT / "bench/driver_throughput.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--seconds", "0.05", "--realtime-seconds", "0.1"]) == 0
    out = json.loads(capsys.readouterr().out)
    runs = [*out["always_ready"].values(), out["driver_only_null_lgpio"]]
    for run in runs:
        assert run["frames_ok"] > 0
        assert run["wrong_values"] == 0
        assert run["pulse_high_time"]["pulses"] >= 25 * run["frames"]
    assert out["realtime_80sps_gpiozero"]["frames"] >= 1
    assert out["realtime_spread_3pct_gpiozero"]["frames"] >= 1


def test_footprint_bare_driver_loop_reports_its_cpu_and_its_chips_share():
    # The floor the footprint bench compares the acquisition process with: it must run the
    # real backend on the emulated chips and report a share of CPU spent inside them.
    spec = importlib.util.spec_from_file_location("bench_footprint", ROOT / "bench/footprint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    floor = module.bare_driver(2.0)
    assert 0 < floor["cpu_pct_without_emulated_chips"] < floor["cpu_pct"] < 100


def test_footprint_leaves_out_the_emulated_chips_and_the_simulated_athlete_apart():
    # The station's CPU without emulation is all of it less the chips' and the athlete's
    # time, each reported on its own (here: this process, and a made-up emulation).
    spec = importlib.util.spec_from_file_location("bench_footprint", ROOT / "bench/footprint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readings = iter([(1.0, 2.0), (1.012, 2.003)])
    cpu = module.cpu_window({"main": os.getpid()}, 0.3, lambda: next(readings))
    chips, athlete = cpu["emulated_chips"]["cpu_pct"], cpu["simulated_athlete"]["cpu_pct"]
    assert 3.5 < chips <= 4.0 and 0.85 < athlete <= 1.0  # 12 and 3 ms in a 0.3 s window
    all_pct = cpu["all"]["cpu_pct"]
    assert abs(cpu["all_without_emulated_chips"]["cpu_pct"] - (all_pct - chips)) <= 0.02
    assert abs(cpu["all_without_emulation"]["cpu_pct"] - (all_pct - chips - athlete)) <= 0.02
