"""How a 30 s test's sway compares with the whole 60 s, on the BDS raw trials.

    PYTHONPATH=. .venv/bin/python scripts/norms_duration_check.py ../shared/reference-data/bds

The norms are 60 s trials; the station's tests are often 30 s. Velocity depends little on the
length, area grows with it: this prints, per raw trial, the first and second 30 s against the
whole 60 s (station metrics, unfiltered: the files are filtered at 10 Hz already), and the
mean and range. station/norms/derive.py's comparable lengths rest on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from station.analysis.metrics.summary import compute_all


def main(folder: Path) -> None:
    ratios = []
    for path in sorted(folder.glob("BDS*.txt")):
        data = np.loadtxt(path, skiprows=1)
        t, x, y = data[:, 0], data[:, 7] * 10.0, data[:, 8] * 10.0
        full = compute_all(t, x, y, filter="none")
        for half in (slice(0, 3000), slice(3000, 6000)):
            m = compute_all(t[half], x[half], y[half], filter="none")
            ratios.append((m["mean_velocity_mm_s"]["total"] / full["mean_velocity_mm_s"]["total"],
                           m["ellipse95_area_mm2"] / full["ellipse95_area_mm2"]))
            print(f"{path.stem} {half.start // 100:>2}-{half.stop // 100} s: velocity "
                  f"{ratios[-1][0]:.2f}, area {ratios[-1][1]:.2f} of the 60 s value")
    v, a = np.array(ratios).T
    print(f"30 s / 60 s over {len(ratios)} halves: velocity mean {v.mean():.2f} "
          f"({v.min():.2f}-{v.max():.2f}), area median {np.median(a):.2f} "
          f"({a.min():.2f}-{a.max():.2f})")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
