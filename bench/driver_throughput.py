"""HX711 driver throughput through the GPIO-level emulator on this machine. Prints JSON.

Measures, for each backend path (gpiozero pins on the emulator's MockFactory; the raw lgpio
backend on a fake lgpio wired to the same emulator):

- frames per second the driver sustains when conversions are always ready (so the figure is
  driver + emulator cost, not waiting), and CPU time per frame;
- the SCK high-time statistics the driver itself measured (upper bounds per pulse, 1 us bins)
  and how many frames it discarded for a pulse over 50 us (host scheduling noise here);
- the driver alone, on an lgpio stand-in whose calls cost almost nothing (its own Python
  cost per frame and the shortest pulse it can make);
- a real-time run at 80 SPS (real clock): achieved frame rate and CPU per frame, i.e. what
  waiting for DOUT costs (the clock models let the driver sleep until each chip's edge is
  due and poll finely only around it);
- the same with the four chips on their own oscillators (+-3 % rates): the per-cell timing
  the driver reports against the emulator's truth, in real time on this host.

The emulator's per-pulse work is Python too, so these are a lower bound on the driver's speed;
on a Pi the lgpio calls are C and the pulse times are what matters (compare `mean_us`).

    .venv/bin/python bench/driver_throughput.py [--seconds 3] [--realtime-seconds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from typing import Any

from station.board import hx711_lgpio
from station.board.emulator import EmulatedHX711Board, FakeLgpio
from station.board.hx711 import HX711Array, PulseStats
from station.board.hx711_protocol import HX711Error
from station.board.oscillator import ChipClocks

SCK, DOUTS = 5, (6, 13, 19, 26)
VALUES = (1_234_567, -2_345_678, 345_678, -4_567)


def run(array: HX711Array, seconds: float, expected: tuple[int, ...] | None) -> dict[str, Any]:
    for _ in range(20):  # warm up (priming frame, caches)
        with contextlib.suppress(HX711Error):
            array.read()
    ok0, bad0 = array.counters.frames_ok, array.counters.frames_discarded
    by_check0 = array.discarded
    array.pulse_stats = PulseStats()  # measure the timed run only
    wrong = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            try:
                values = array.read()
            except HX711Error:
                continue
            if expected is not None and values != expected:
                wrong += 1
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    ok = array.counters.frames_ok - ok0
    discarded = array.counters.frames_discarded - bad0
    frames = ok + discarded
    return {
        "backend": array.backend_name,
        "seconds": round(wall, 3),
        "frames": frames,
        "frames_ok": ok,
        "frames_discarded": discarded,
        "wrong_values": wrong,
        "frames_per_s": round(frames / wall, 1),
        "cpu_us_per_frame": round(cpu / frames * 1e6, 1) if frames else None,
        "cpu_fraction": round(cpu / wall, 3),
        "discarded_by_check": {
            k: v - by_check0[k] for k, v in array.discarded.items() if v - by_check0[k]
        },
        "pulse_high_time": array.pulse_stats.summary(),
    }


def bench_gpiozero(seconds: float) -> dict[str, Any]:
    board = EmulatedHX711Board(SCK, DOUTS, always_ready=True)
    board.set_values(VALUES)
    array = HX711Array(SCK, DOUTS, pin_factory=board.factory)
    try:
        return run(array, seconds, VALUES)
    finally:
        array.close()


def bench_lgpio_fake(seconds: float) -> dict[str, Any]:
    board = EmulatedHX711Board(SCK, DOUTS, always_ready=True)
    board.set_values(VALUES)
    backend = hx711_lgpio.LgpioBackend(SCK, DOUTS, gpiochip=0, lgpio=FakeLgpio(board))
    array = HX711Array(SCK, DOUTS, backend=backend)
    try:
        return run(array, seconds, VALUES)
    finally:
        array.close()


class NullLgpio:
    """An lgpio whose calls cost almost nothing: isolates the driver's own Python cost.

    DOUT reads low (ready) at the first poll, then each data pulse reads 0b0101 and after the
    last pulse all lines read high, so every frame passes the checks with counts (-1, 0, -1, 0).
    """

    class error(Exception):
        pass

    SET_PULL_UP = 32

    def __init__(self, n_pulses: int) -> None:
        self.edges_per_frame = 2 * n_pulses
        self.edges = 0

    def gpiochip_open(self, chip: int) -> int:
        return 0

    def gpio_claim_output(self, *args: object) -> int:
        return 0

    def group_claim_input(self, *args: object) -> int:
        return 0

    def gpio_write(self, h: int, gpio: int, level: int) -> int:
        self.edges += 1
        return 0

    def group_read(self, h: int, leader: int) -> list[int]:
        if self.edges == 0:
            return [4, 0]  # between frames: every chip ready
        if self.edges >= self.edges_per_frame:
            self.edges = 0
            return [4, 0b1111]  # after the last pulse: every DOUT high
        return [4, 0b0101]

    def gpio_free(self, *args: object) -> int:
        return 0

    group_free = gpio_free
    gpiochip_close = gpio_free


def bench_driver_only(seconds: float) -> dict[str, Any]:
    lg = NullLgpio(n_pulses=25)
    backend = hx711_lgpio.LgpioBackend(SCK, DOUTS, gpiochip=0, lgpio=lg)
    array = HX711Array(SCK, DOUTS, backend=backend)
    try:
        return run(array, seconds, (-1, 0, -1, 0))
    finally:
        array.close()


def bench_realtime(seconds: float) -> dict[str, Any]:
    board = EmulatedHX711Board(SCK, DOUTS, rate_hz=80)  # real clock: 80 SPS conversions
    board.set_values(VALUES)
    array = HX711Array(SCK, DOUTS, pin_factory=board.factory)
    try:
        result = run(array, seconds, VALUES)
    finally:
        array.close()
    result["conversion_rate_hz"] = 80
    return result


def bench_realtime_skewed(seconds: float) -> dict[str, Any]:
    """Real clock, chips at +-3 % rates: CPU per frame and the reported skew's error."""
    board = EmulatedHX711Board(SCK, DOUTS, clocks=ChipClocks.internal(spread=0.03, seed=1))
    board.set_values(VALUES)
    array = HX711Array(SCK, DOUTS, pin_factory=board.factory)
    errors_us: list[float] = []
    frames = discarded = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        while time.perf_counter() - wall0 < seconds:
            try:
                array.read()
            except HX711Error:
                discarded += 1
                continue
            frames += 1
            if array.last_cell_dt_ns is not None:
                truth = board.latched_conversions_ns()
                errors_us += [abs(array.last_ready_ns + d - t) / 1e3
                              for d, t in zip(array.last_cell_dt_ns, truth, strict=True)]
    finally:
        array.close()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    errors_us.sort()
    timing = array.cell_timing()
    return {
        "frames": frames,
        "frames_discarded": discarded,
        "frames_per_s": round(frames / wall, 1),
        "cpu_us_per_frame": round(cpu / max(frames, 1) * 1e6, 1),
        "cell_time_error_us": {
            "p50": round(errors_us[len(errors_us) // 2], 1) if errors_us else None,
            "p95": round(errors_us[int(0.95 * len(errors_us))], 1) if errors_us else None,
        },
        "rates_hz": [None if r is None else round(r, 2) for r in timing.rates_hz],
        "skew_mean_ms": round(timing.skew_mean_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--realtime-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    gz = bench_gpiozero(args.seconds)
    lg = bench_lgpio_fake(args.seconds)
    null = bench_driver_only(args.seconds)
    rt = bench_realtime(args.realtime_seconds)
    rt_skewed = bench_realtime_skewed(args.realtime_seconds)
    out = {
        "benchmark": "hx711_driver_throughput",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "always_ready": {"gpiozero_mockfactory": gz, "lgpio_fake": lg},
        "lgpio_fake_vs_gpiozero_fps_ratio": round(lg["frames_per_s"] / gz["frames_per_s"], 2),
        "driver_only_null_lgpio": null,
        "driver_share_of_gpiozero_cpu": round(null["cpu_us_per_frame"] / gz["cpu_us_per_frame"], 3),
        "realtime_80sps_gpiozero": rt,
        "realtime_spread_3pct_gpiozero": rt_skewed,
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
