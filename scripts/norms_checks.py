"""The checks behind the norm tables, on the BDS raw trials (the figures in docs/metrics.md).

    PYTHONPATH=. .venv/bin/python scripts/norms_checks.py DIR   (DIR: the BDS*.txt and the TSV)

1. Reproduction: the station's metrics of each raw trial against the authors' own COPvelo
   and COParea (bds-trials.tsv), after the conversion station/norms/derive.py applies.
2. Trial length: the norms are 60 s trials, the station's tests often 30 s. Velocity depends
   little on the length, area grows with it: each 30 s half against the whole 60 s
   (station metrics, unfiltered: the files are filtered at 10 Hz already). derive.py's
   comparable lengths rest on it.
3. The score's anchors: where the hold model's "good" and "poor" anchors for double-leg
   stance fall in the norms' percentiles (they stay assumptions; docs/metrics.md section 12).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from station.analysis.metrics.summary import compute_all
from station.analysis.scoring import anchors_for
from station.norms import load_tables, percentile


def anchor_percentiles() -> None:
    for t in load_tables():
        if t.measure not in ("mean_velocity_mm_s.total", "ellipse95_area_mm2"):
            continue
        p = t.protocol
        good, poor = anchors_for(t.measure, {"stance": "double", "surface": p.surface,
                                             "eyes": p.eyes})
        where = "; ".join(f"{g.id} P{percentile(good, t, g):.0f} / P{percentile(poor, t, g):.0f}"
                          for g in t.groups)
        print(f"anchors {p.surface} eyes {p.eyes} {t.measure}: good {good:g}, poor {poor:g}: "
              f"{where}")


def main(folder: Path) -> None:
    with (folder / "bds-trials.tsv").open(newline="") as fh:
        authors = {r["Trial"]: r for r in csv.DictReader(fh, delimiter="\t")}
    ratios, worst = [], {"velocity": 0.0, "ellipse95": 0.0, "prediction": 0.0}
    for path in sorted(folder.glob("BDS*.txt")):
        data = np.loadtxt(path, skiprows=1)
        t, x, y = data[:, 0], data[:, 7] * 10.0, data[:, 8] * 10.0
        full = compute_all(t, x, y, filter="none")
        n, row = full["n_samples"], authors[path.stem]
        diffs = {
            "velocity": full["mean_velocity_mm_s"]["total"] * (n - 1) / n
            / (float(row["COPvelo"]) * 10.0) - 1.0,
            "ellipse95": full["ellipse95_area_mm2"] / (float(row["COParea"]) * 100.0) - 1.0,
            "prediction": full["prediction_ellipse95_area_mm2"]
            / (float(row["COParea"]) * 100.0) - 1.0,
        }
        worst = {k: max(worst[k], abs(v)) for k, v in diffs.items()}
        for half in (slice(0, 3000), slice(3000, 6000)):
            m = compute_all(t[half], x[half], y[half], filter="none")
            ratios.append((m["mean_velocity_mm_s"]["total"] / full["mean_velocity_mm_s"]["total"],
                           m["ellipse95_area_mm2"] / full["ellipse95_area_mm2"]))
            print(f"{path.stem} {half.start // 100:>2}-{half.stop // 100} s: velocity "
                  f"{ratios[-1][0]:.2f}, area {ratios[-1][1]:.2f} of the 60 s value")
    print("largest relative difference from the authors' values over the raw trials: "
          + ", ".join(f"{k} {100 * v:.3f} %" for k, v in worst.items())
          + " (ellipse95 is the F-based confidence ellipse: smaller by N(N-2)/((N-1)(N+1)))")
    v, a = np.array(ratios).T
    print(f"30 s / 60 s over {len(ratios)} halves: velocity mean {v.mean():.2f} "
          f"({v.min():.2f}-{v.max():.2f}), area median {np.median(a):.2f} "
          f"({a.min():.2f}-{a.max():.2f})")
    anchor_percentiles()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
