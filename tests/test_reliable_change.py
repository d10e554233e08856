"""Reliable change: the MDC rule, the athlete's own error, the data set's error, and the
verdict every comparison carries."""

from __future__ import annotations

import csv
import math
from collections import defaultdict

import numpy as np
import pytest

from station.analysis.history.comparison import change_against
from station.analysis.history.measurement_error import error_for_row, trials_averaged
from station.norms.reliable_change import (
    MIN_OWN_DF,
    MeasurementError,
    error_for,
    own_error,
    verdict,
    verdict_text,
)


def test_mdc95_is_1_96_sqrt2_sem_and_averaging_narrows_it():
    err = MeasurementError("m", 2.0, False, "assumption", "x")
    assert err.mdc95(10.0) == pytest.approx(1.96 * math.sqrt(2) * 2.0)
    # three trials averaged on each side: the SEM of each mean is SEM / sqrt(3)
    assert err.mdc95(10.0, 3, 3) == pytest.approx(1.96 * math.sqrt(2) * 2.0 / math.sqrt(3))
    rel = MeasurementError("m", 0.1, True, "data set", "x")
    assert rel.mdc95(20.0) == pytest.approx(1.96 * math.sqrt(2) * 2.0)
    with pytest.raises(ValueError):
        err.mdc95(1.0, 0)


def test_own_error_is_the_pooled_within_session_sd():
    sessions = [[10.0, 12.0, 11.0], [14.0, 15.0], [9.0], [13.0, 12.0, 16.0]]
    got = own_error("v", sessions)
    pooled = sum(np.var(s, ddof=1) * (len(s) - 1) for s in sessions if len(s) > 1)
    df = sum(len(s) - 1 for s in sessions if len(s) > 1)
    assert got is not None and got.basis == "athlete" and not got.relative
    assert got.sem == pytest.approx(math.sqrt(pooled / df))
    assert "df 5" in got.source
    assert own_error("v", [[10.0, 11.0], [12.0, 12.5]]) is None  # df 2 < MIN_OWN_DF
    assert MIN_OWN_DF == 4


def test_verdicts_follow_the_better_direction():
    assert verdict(-5.0, 3.0, True) == "improved"
    assert verdict(5.0, 3.0, True) == "worse"
    assert verdict(2.0, 3.0, True) == "within_mdc"
    assert verdict(5.0, 3.0, False) == "improved"
    assert verdict(5.0, 3.0, None) is None
    assert [verdict_text(v) for v in ("improved", "within_mdc", "worse", None)] == [
        "real improvement", "within measurement noise", "real decline", None]


def test_data_set_error_matches_an_independent_computation(reference_data):
    with (reference_data / "bds" / "bds-trials.tsv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t")
                if r["Surface"] == "Foam" and r["Vision"] == "Closed"]
    by_person = defaultdict(list)
    for r in rows:
        by_person[r["Subject"]].append(np.log(float(r["COPvelo"])))
    resid = np.concatenate([np.asarray(v) - np.mean(v) for v in by_person.values()
                            if len(v) > 1])
    df = sum(len(v) - 1 for v in by_person.values() if len(v) > 1)
    err = error_for("mean_velocity_mm_s.total", "double", "foam", "closed")
    assert err is not None and err.basis == "data set" and err.relative
    assert err.sem == pytest.approx(math.sqrt(float((resid ** 2).sum()) / df), rel=1e-4)
    assert "Santos" in err.source


def test_protocols_without_an_error_say_so():
    single = error_for("mean_velocity_mm_s.total", "single-left", "firm", "closed")
    assert single is not None and single.basis == "assumption"
    assert "not traced" in single.source
    assert error_for("mean_velocity_mm_s.total", "single-left", "firm", "open") is None
    assert error_for("mean_velocity_mm_s.total", "double", "wobble", "open") is None


def test_change_against_uses_the_protocol_error_and_says_the_verdict():
    cond = {"surface": "firm", "eyes": "open"}
    err = error_for("mean_velocity_mm_s.total", "double", "firm", "open")
    mdc = err.mdc95(10.0)
    within = change_against(10.0 + 0.9 * mdc, 10.0, "mean_velocity_mm_s.total", "double",
                            condition=cond)
    assert within["mdc"] == pytest.approx(mdc, abs=1e-3)
    assert within["verdict_text"] == "within measurement noise" and within["tone"] == "neutral"
    assert within["mdc_basis"] == "data set"
    worse = change_against(10.0 + 1.1 * mdc, 10.0, "mean_velocity_mm_s.total", "double",
                           condition=cond)
    assert worse["verdict_text"] == "real decline" and worse["arrow"] == "▲"
    better = change_against(10.0 - 1.1 * mdc, 10.0, "mean_velocity_mm_s.total", "double",
                            condition=cond)
    assert better["verdict_text"] == "real improvement" and better["tone"] == "good"
    # without a condition: the scoring table's MDC (2 mm/s double-leg), its source given
    plain = change_against(13.0, 10.0, "mean_velocity_mm_s.total", "double")
    assert plain["mdc"] == 2.0 and plain["mdc_basis"] == "assumption"
    assert plain["verdict_text"] == "real decline"
    # the athlete's own error wins over the protocol's
    own = MeasurementError("mean_velocity_mm_s.total", 0.5, False, "athlete", "own")
    mine = change_against(12.0, 10.0, "mean_velocity_mm_s.total", "double", error=own,
                          condition=cond)
    assert mine["mdc_basis"] == "athlete" and mine["mdc"] == pytest.approx(1.386, abs=1e-3)


def _row(uid, session, velocity, stance="double", eyes="open"):
    return {"uid": uid, "session_uid": session, "stance": stance, "eyes": eyes,
            "surface": "firm", "task": "hold", "outcome": "complete",
            "metrics": {"mean_velocity_mm_s": {"total": velocity}}}


def test_the_athlete_s_own_repeats_take_over_once_there_are_enough():
    few = [_row("a", 1, 10.0), _row("b", 1, 11.0), _row("c", 2, 12.0)]
    err = error_for_row(few, few[-1], "mean_velocity_mm_s.total")
    assert err is not None and err.basis == "data set"
    many = [*few, _row("d", 2, 12.6), _row("e", 3, 9.0), _row("f", 3, 9.4), _row("g", 3, 9.8),
            _row("x", 3, 30.0, eyes="closed")]  # another condition: not counted
    err = error_for_row(many, many[0], "mean_velocity_mm_s.total")
    assert err is not None and err.basis == "athlete" and "df 4" in err.source
    assert trials_averaged("mean", 3) == 3 and trials_averaged("best", 3) == 1
