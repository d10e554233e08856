"""Derive the shipped norm tables from the BDS data set's own per-trial results.

    python -m station.norms.derive bds-trials.tsv > station/norms/data/bds_double_leg.json

Input: the 1,930 rows of Santos & Duarte's BDSinfoCOP (one per 60 s trial, 163 people),
the authors' COP area (cm², 95 % prediction ellipse) and velocity (cm/s, path / (N/fs)).
Both are converted to the station's definitions (station.analysis.metrics.sway):
velocity x N/(N-1) (the station divides the path by the (N-1)/fs it spans) and, for the
station's F-based ellipse95, the prediction area x N(N-2)/((N-1)(N+1)). With N = 6000 the
factors are 1.00017 and 0.99967; tests check them against the eight raw trials.

scripts/norms_checks.py measures how velocity and area of a 30 s test compare with
the whole 60 s on the raw trials: the basis of each measure's comparable test lengths.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from station.norms.tables import PERCENTILES

N_SAMPLES = 6000  # 60 s at 100 Hz, every BDS trial
RATE_HZ = 100.0
DURATION_S = 60.0

META = {
    "citation": "Santos & Duarte 2016",
    "source": "Santos DA, Duarte M. (2016) A public data set of human balance evaluations. "
              "PeerJ 4:e2648, doi:10.7717/peerj.2648 (BDSinfoCOP: the authors' per-trial "
              "results)",
    "licence": "CC BY 4.0 (derived: percentiles of the authors' per-trial results, "
               "converted to the station's definitions)",
    "population": "163 adults 18-86 years, Brazil: 87 young (18-59), 76 older (60-86), "
                  "116 women, 47 men; three 60 s trials per condition",
}
PROTOCOL_BASE = {"stance": "double", "duration_s": DURATION_S, "rate_hz": RATE_HZ,
                 "filter": "butter10", "device": "laboratory force plate"}
FOAM_NOTE = ("foam is the data set's own pad (Santos & Duarte 2016, methods): foam "
             "percentiles hold for that pad only, not for any foam")
# The data set's own age groups (column AgeGroup: Young < 60 <= Old); the ranges are the ages
# it covers, so a person outside them gets no norm.
GROUPS = {"Young": ("young", "adults 18-59", 18.0, 60.0),
          "Old": ("older", "adults 60-86", 60.0, 87.0)}


def velocity_factor(n: int = N_SAMPLES) -> float:
    """theirs (path / (N/fs)) -> ours (path / ((N-1)/fs))."""
    return n / (n - 1)


def ellipse_factor(n: int = N_SAMPLES) -> float:
    """their 95 % prediction ellipse -> the station's ellipse95 (F quantile, confidence)."""
    return n * (n - 2) / ((n - 1) * (n + 1))


# measure key -> (unit, TSV column, factor from their unit to ours, min/max test duration,
# conversion text)
MEASURES: dict[str, tuple[str, str, float, float, float, str]] = {
    "mean_velocity_mm_s.total": (
        "mm/s", "COPvelo", 10.0 * velocity_factor(), 30.0, 600.0,
        "COPvelo (cm/s, path/(N/fs)) x 10 x N/(N-1), N = 6000; compared for tests of 30 s or "
        "more (a 30 s half of a raw 60 s trial reads 0.80-1.20 x its velocity, mean 1.00)"),
    "ellipse95_area_mm2": (
        "mm²", "COParea", 100.0 * ellipse_factor(), 55.0, 65.0,
        "COParea (cm², 95 % prediction ellipse) x 100 x N(N-2)/((N-1)(N+1)), N = 6000; area "
        "grows with the trial's length (a 30 s half reads 0.42-1.26 x, median 0.88), so "
        "compared only for 55-65 s tests"),
    "prediction_ellipse95_area_mm2": (
        "mm²", "COParea", 100.0, 55.0, 65.0,
        "COParea (cm², 95 % prediction ellipse) x 100; compared only for 55-65 s tests"),
}


def read_trials(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _points(values: Iterable[float]) -> list[float]:
    arr = np.asarray(list(values), dtype=float)
    return [round(float(v), 6) for v in np.percentile(arr, PERCENTILES)]


def derive_tables(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The JSON document of every table: double-leg, firm/foam x eyes open/closed, per
    measure, groups young/older (both sexes: 16 older men are too few for their own)."""
    tables = []
    for surface in ("Firm", "Foam"):
        for eyes in ("Open", "Closed"):
            cond = [r for r in rows if r["Surface"] == surface and r["Vision"] == eyes]
            protocol = {**PROTOCOL_BASE, "surface": surface.lower(), "eyes": eyes.lower(),
                        "surface_note": FOAM_NOTE if surface == "Foam" else ""}
            for measure, (unit, column, factor, dmin, dmax, conversion) in MEASURES.items():
                groups = []
                for tsv_group, (gid, label, amin, amax) in GROUPS.items():
                    mine = [r for r in cond if r["AgeGroup"] == tsv_group]
                    groups.append({
                        "id": gid, "label": label, "age_min": amin, "age_max": amax,
                        "sex": None, "n_people": len({r["Subject"] for r in mine}),
                        "n_trials": len(mine),
                        "points": _points(float(r[column]) * factor for r in mine)})
                tables.append({
                    "id": f"bds2016-double-{surface.lower()}-{eyes.lower()}-{measure}",
                    "measure": measure, "unit": unit, "lower_is_better": True,
                    "protocol": protocol, "conversion": conversion,
                    "min_duration_s": dmin, "max_duration_s": dmax,
                    "percentiles": list(PERCENTILES), "groups": groups})
    return {"meta": META, "tables": tables, "reliability": derive_reliability(rows)}


def within_subject_cv(rows: list[dict[str, str]], column: str) -> tuple[float, int, int]:
    """(typical error as a fraction, degrees of freedom, people): the pooled within-person SD
    of ln(value) over each person's repeats of one condition (their three trials of a visit,
    so a within-session error; between sessions it can only be larger)."""
    by_person: dict[str, list[float]] = {}
    for r in rows:
        by_person.setdefault(r["Subject"], []).append(math.log(float(r[column])))
    ss, df = 0.0, 0
    for values in by_person.values():
        if len(values) >= 2:
            arr = np.asarray(values)
            ss += float(((arr - arr.mean()) ** 2).sum())
            df += arr.size - 1
    return math.sqrt(ss / df), df, sum(len(v) >= 2 for v in by_person.values())


def derive_reliability(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Per condition and measure, the data set's trial-to-trial typical error (a CV)."""
    out = []
    for surface in ("Firm", "Foam"):
        for eyes in ("Open", "Closed"):
            cond = [r for r in rows if r["Surface"] == surface and r["Vision"] == eyes]
            for measure, (_, column, *_rest) in MEASURES.items():
                cv, df, people = within_subject_cv(cond, column)
                out.append({"measure": measure, "stance": "double", "surface": surface.lower(),
                            "eyes": eyes.lower(), "typical_error_cv": round(cv, 5), "df": df,
                            "n_people": people})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m station.norms.derive",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("tsv", type=Path, nargs="?", help="bds-trials.tsv (BDSinfoCOP columns)")
    parser.add_argument("--summary", action="store_true",
                        help="print the shipped tables' groups, n and P10/P50/P90 instead")
    args = parser.parse_args(argv)
    if args.summary:
        print(summary())
        return 0
    if args.tsv is None:
        parser.error("give the TSV (or --summary)")
    json.dump(derive_tables(read_trials(args.tsv)), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def summary() -> str:
    """A Markdown table of the shipped tables (docs/metrics.md quotes it)."""
    from station.norms.reliable_change import error_for
    from station.norms.tables import load_tables

    lines = ["| condition | measure | group | people | trials | P10 | P50 | P90 | "
             "within-person error |", "|---|---|---|---|---|---|---|---|---|"]
    for t in load_tables():
        if t.measure == "prediction_ellipse95_area_mm2":
            continue
        p = t.protocol
        err = error_for(t.measure, p.stance, p.surface, p.eyes)
        cv = "" if err is None else f"{100 * err.sem:.1f} %"
        for g in t.groups:
            d = 1 if t.unit == "mm/s" else 0
            lines.append(f"| {p.surface}, eyes {p.eyes} | `{t.measure}` ({t.unit}) | {g.label} "
                         f"| {g.n_people} | {g.n_trials} | {g.points[10]:.{d}f} | "
                         f"{g.points[50]:.{d}f} | {g.points[90]:.{d}f} | {cv} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
