"""Benchmark: full analysis (compute_all + score_trial) of a 30 s and a 5 min trial at 80 Hz.

Target (issue "Balance tests"): a 30 s trial at 80 Hz analysed in <= 20 ms on the station.
Prints one JSON object. Usage: .venv/bin/python bench/analysis_speed.py [--repeats N]
The hold engine's own cost is benchmarked separately (session engine).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
from scipy import signal

from station.analysis.metrics import compute_all
from station.analysis.scoring import score_trial

RATE_HZ = 80.0
TARGET_30S_MS = 20.0
CONDITION = {"stance": "single-left", "surface": "firm", "eyes": "open"}


def synthetic_trial(duration_s: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Sway-like COP (low-passed random walk, a few mm) plus HX711-like noise and force."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * RATE_HZ)
    t = np.arange(n) / RATE_HZ + 1234.5  # station monotonic clock does not start at 0
    b, a = signal.butter(2, 1.5, fs=RATE_HZ)
    walk = signal.lfilter(b, a, np.cumsum(rng.normal(size=(2, n)), axis=1), axis=1)
    x = 3.0 * walk[0] / walk[0].std() + rng.normal(scale=0.3, size=n)
    y = 5.0 * walk[1] / walk[1].std() + rng.normal(scale=0.3, size=n)
    force = 700.0 + rng.normal(scale=4.0, size=n)
    return {"t_s": t, "x_mm": x, "y_mm": y, "force_n": force}


def time_analysis(trial: dict[str, np.ndarray], repeats: int) -> dict[str, float]:
    def run() -> None:
        metrics = compute_all(
            trial["t_s"],
            trial["x_mm"],
            trial["y_mm"],
            force_n=trial["force_n"],
            body_weight_n=700.0,
        )
        duration = metrics["duration_s"]
        score_trial(metrics, CONDITION, True, None, duration)

    run()  # warm-up: imports, filter design cache, F quantile cache
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, int(0.95 * len(samples)))],
        "min_ms": samples[0],
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    short = time_analysis(synthetic_trial(30.0), args.repeats)
    long = time_analysis(synthetic_trial(300.0, seed=1), max(10, args.repeats // 10))
    print(
        json.dumps(
            {
                "benchmark": "analysis_speed",
                "machine": platform.machine(),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "rate_hz": RATE_HZ,
                "trial_30s": {"n_samples": int(30 * RATE_HZ), **short},
                "recording_5min": {"n_samples": int(300 * RATE_HZ), **long},
                "ratio_5min_to_30s": long["median_ms"] / short["median_ms"],
                "target_30s_ms": TARGET_30S_MS,
                "meets_target": short["p95_ms"] <= TARGET_30S_MS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
