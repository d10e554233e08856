"""Norm tables derived from the BDS data set (Santos & Duarte 2016): the derivation, the
percentiles and the protocol check, against independent computations from the data set."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from station.analysis.metrics.summary import compute_all
from station.norms import TrialConditions, load_tables, norms_for, percentile
from station.norms.derive import derive_tables, read_trials
from station.norms.matching import norm_result

DATA_FILE = Path(__file__).resolve().parents[1] / "station/norms/data/bds_double_leg.json"
N = 6000  # samples of every BDS trial (60 s at 100 Hz)


def _rows(reference_data: Path) -> list[dict[str, str]]:
    with (reference_data / "bds" / "bds-trials.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _ours(row: dict[str, str], measure: str) -> float:
    """The station's definition of the trial's measure, from the authors' value."""
    if measure == "mean_velocity_mm_s.total":
        return float(row["COPvelo"]) * 10.0 * N / (N - 1)  # path/(N/fs) -> path/((N-1)/fs)
    if measure == "prediction_ellipse95_area_mm2":
        return float(row["COParea"]) * 100.0
    return float(row["COParea"]) * 100.0 * N * (N - 2) / ((N - 1) * (N + 1))


def _linear_percentile(sorted_values: list[float], q: float) -> float:
    """Percentile by the linear order-statistic rule, written out (not numpy)."""
    h = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


@pytest.mark.parametrize("trial", ["BDS00059", "BDS00061", "BDS00135", "BDS00138",
                                   "BDS00148", "BDS00161", "BDS00176", "BDS00190"])
def test_raw_trials_reproduce_the_authors_velocity_and_area(reference_data, trial):
    rows = {r["Trial"]: r for r in _rows(reference_data)}
    data = np.loadtxt(reference_data / "bds" / f"{trial}.txt", skiprows=1)
    # the files are filtered at 10 Hz by the authors: analyse them as they are
    m = compute_all(data[:, 0], data[:, 7] * 10.0, data[:, 8] * 10.0, filter="none")
    row = rows[trial]
    assert m["n_samples"] == N
    assert m["mean_velocity_mm_s"]["total"] == pytest.approx(
        _ours(row, "mean_velocity_mm_s.total"), rel=1e-3)
    assert m["ellipse95_area_mm2"] == pytest.approx(_ours(row, "ellipse95_area_mm2"), rel=1e-3)
    assert m["prediction_ellipse95_area_mm2"] == pytest.approx(
        float(row["COParea"]) * 100.0, rel=1e-3)
    # and the conversion is needed: their velocity is path / (N/fs), ours path / ((N-1)/fs)
    assert m["mean_velocity_mm_s"]["total"] != pytest.approx(
        float(row["COPvelo"]) * 10.0, rel=1e-5)


def test_shipped_tables_are_the_derivation_of_the_data_set(reference_data):
    derived = derive_tables(read_trials(reference_data / "bds" / "bds-trials.tsv"))
    shipped = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(derived))
    assert {t.protocol.stance for t in load_tables()} == {"double"}
    assert len(load_tables()) == 2 * 2 * 3


@pytest.mark.parametrize("measure", ["mean_velocity_mm_s.total", "ellipse95_area_mm2",
                                     "prediction_ellipse95_area_mm2"])
def test_table_points_match_an_independent_computation(reference_data, measure):
    rows = _rows(reference_data)
    groups = {"young": "Young", "older": "Old"}
    for table in (t for t in load_tables() if t.measure == measure):
        p = table.protocol
        for g in table.groups:
            values = sorted(_ours(r, measure) for r in rows
                            if r["Surface"].lower() == p.surface and r["Vision"].lower() == p.eyes
                            and r["AgeGroup"] == groups[g.id])
            assert g.n_trials == len(values)
            assert g.n_people == len({r["Subject"] for r in rows
                                      if r["Surface"].lower() == p.surface
                                      and r["Vision"].lower() == p.eyes
                                      and r["AgeGroup"] == groups[g.id]})
            for q in (0, 5, 10, 25, 50, 75, 90, 95, 100):
                assert g.points[q] == pytest.approx(_linear_percentile(values, q), rel=1e-5)


def test_reported_percentile_is_the_trials_rank_in_its_group(reference_data):
    """Every double-leg trial of the data set: the station's percentile for its own value lies
    within 3 points of its mid-rank among its group's trials."""
    rows = _rows(reference_data)
    worst = 0.0
    checked = 0
    for measure in ("mean_velocity_mm_s.total", "prediction_ellipse95_area_mm2"):
        for row in rows:
            same = [_ours(r, measure) for r in rows if r["Surface"] == row["Surface"]
                    and r["Vision"] == row["Vision"] and r["AgeGroup"] == row["AgeGroup"]]
            value = _ours(row, measure)
            below = sum(v < value for v in same)
            ties = sum(v == value for v in same)
            rank = 100.0 * (below + ties / 2) / len(same)
            test = TrialConditions("double", row["Surface"].lower(), row["Vision"].lower(), 60.0,
                                  age=float(row["Age"]), sex=row["Gender"])
            got = norm_result(measure, value, test)
            assert got["percentile"] is not None, got
            worst = max(worst, abs(got["percentile"] - rank))
            checked += 1
    assert checked == 2 * 1930
    assert worst <= 3.0


def test_percentile_interpolates_and_clips():
    table = next(t for t in load_tables() if t.measure == "mean_velocity_mm_s.total")
    g = table.groups[0]
    assert percentile(g.points[50], table, g.id) == pytest.approx(50.0, abs=0.01)
    assert percentile(g.points[0] / 2, table, g.id) == 0.0
    assert percentile(g.points[100] * 2, table, g.id) == 100.0
    mid = (g.points[20] + g.points[21]) / 2
    assert 20.0 < percentile(mid, table, g.id) < 21.0
    with pytest.raises(KeyError, match="has no group 'kids'"):
        percentile(1.0, table, "kids")


def test_a_mismatched_protocol_is_refused_with_the_reason():
    single = norms_for("mean_velocity_mm_s.total",
                       TrialConditions("single-left", "firm", "open", 30.0, age=30))
    assert not single.ok
    assert "30 s single-leg" in single.reason and "double-leg" in single.reason
    short = norm_result("ellipse95_area_mm2",
                        100.0, TrialConditions("double", "firm", "open", 30.0, age=30))
    assert short["percentile"] is None
    assert "norm: 60 s double-leg, firm, eyes open" in short["reason"]
    assert "your test: 30 s double-leg" in short["reason"] and "55-65 s" in short["reason"]
    raw = norm_result("mean_velocity_mm_s.total", 10.0,
                      TrialConditions("double", "firm", "open", 60.0, filter="none", age=30))
    assert "filtered at 10 Hz" in raw["reason"]
    wobble = norm_result("mean_velocity_mm_s.total", 10.0,
                         TrialConditions("double", "wobble", "open", 60.0, age=30))
    assert wobble["percentile"] is None and "wobble" in wobble["reason"]
    no_age = norm_result("mean_velocity_mm_s.total", 10.0,
                         TrialConditions("double", "firm", "open", 30.0))
    assert "age is unknown" in no_age["reason"]
    too_old = norm_result("mean_velocity_mm_s.total", 10.0,
                          TrialConditions("double", "firm", "open", 30.0, age=95))
    assert "no reference group for age 95" in too_old["reason"]


def test_a_matching_norm_says_what_it_compares_and_its_caveats():
    got = norm_result("mean_velocity_mm_s.total", 30.0,
                      TrialConditions("double", "foam", "closed", 30.0, age=70, sex="F"))
    assert got["group"] == "older" and got["n_people"] > 50
    assert got["compared"].startswith("norm: 60 s double-leg, foam, eyes closed")
    assert any("pad" in c for c in got["caveats"])
    assert any("60 s, yours 30 s" in c for c in got["caveats"])
    assert "Santos" in got["source"] and "CC BY 4.0" in got["licence"]
    low, high = got["typical_range"]
    assert low < got["median"] < high
    far = norm_result("mean_velocity_mm_s.total", high * 3,
                      TrialConditions("double", "foam", "closed", 30.0, age=70))
    assert far["band"] == "high" and "more sway than" in far["band_text"]
