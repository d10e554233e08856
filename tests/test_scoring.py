"""Stability score, baseline comparison with MDC, and target progress."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from station.analysis.metrics import compute_all
from station.analysis.scoring import (
    MDC_TABLE,
    anchors_for,
    compare_to_baseline,
    log_scale_score,
    mdc_value,
    score_trial,
    target_progress,
)

DOUBLE_EO = {"stance": "double", "surface": "firm", "eyes": "open"}


def metrics(velocity: float, area: float) -> dict:
    return {"mean_velocity_mm_s": {"total": velocity}, "ellipse95_area_mm2": area}


def test_log_scale_anchors():
    assert log_scale_score(5.0, 5.0, 25.0) == pytest.approx(100.0)
    assert log_scale_score(25.0, 5.0, 25.0) == pytest.approx(0.0)
    assert log_scale_score(math.sqrt(5 * 25), 5.0, 25.0) == pytest.approx(50.0)
    assert log_scale_score(1.0, 5.0, 25.0) == 100.0
    assert log_scale_score(100.0, 5.0, 25.0) == 0.0


def test_score_components_and_total():
    good_v, poor_v = anchors_for("mean_velocity_mm_s.total", DOUBLE_EO)
    good_a, poor_a = anchors_for("ellipse95_area_mm2", DOUBLE_EO)
    v = math.sqrt(good_v * poor_v)  # 50 points
    out = score_trial(metrics(v, good_a), DOUBLE_EO, True, None, 30.0)
    assert [c.score for c in out.components] == pytest.approx([50.0, 100.0])
    assert out.sway_score == pytest.approx(75.0)
    assert out.hold_share == 1.0 and out.total == pytest.approx(75.0)
    as_dict = out.to_dict()
    assert as_dict["components"][0]["measure"] == "mean_velocity_mm_s.total"
    assert as_dict["version"] == "v2" and as_dict["model"] == "hold"
    worse = score_trial(metrics(2 * v, poor_a), DOUBLE_EO, True, None, 30.0)
    assert worse.total < out.total


def test_failed_hold_scores_by_time_share():
    m = metrics(10.0, 200.0)
    full = score_trial(m, DOUBLE_EO, True, None, 20.0)
    failed = score_trial(m, DOUBLE_EO, False, 5.0, 20.0)
    assert failed.hold_share == pytest.approx(0.25)
    assert failed.total == pytest.approx(0.25 * full.total)
    too_short = score_trial(None, DOUBLE_EO, False, 1.0, 20.0)
    assert too_short.total == 0.0 and too_short.components[0].value is None
    with pytest.raises(ValueError, match="time_to_failure_s"):
        score_trial(m, DOUBLE_EO, False, None, 20.0)
    with pytest.raises(ValueError, match="duration_s"):
        score_trial(m, DOUBLE_EO, True, None, 0.0)


def test_harder_conditions_get_wider_anchors_and_names_are_normalised():
    single_ec = {"stance": "single-left", "surface": "foam", "eyes": "closed"}
    g1, p1 = anchors_for("mean_velocity_mm_s.total", DOUBLE_EO)
    g2, p2 = anchors_for("mean_velocity_mm_s.total", single_ec)
    assert g2 == pytest.approx(g1 * 3.5 * 1.6 * 1.6) and p2 / g2 == pytest.approx(p1 / g1)
    m = metrics(30.0, 800.0)
    assert (
        score_trial(m, single_ec, True, None, 20).total
        > score_trial(m, DOUBLE_EO, True, None, 20).total
    )

    class Cond:  # an object with attributes works too (e.g. a protocol trial)
        stance = "tandem"
        surface = "wobble"
        eyes = "open"

    assert score_trial(m, Cond(), True, None, 20).condition == {
        "stance": "tandem",
        "surface": "wobble",
        "eyes": "open",
    }
    with pytest.raises(ValueError, match="unknown surface"):
        score_trial(m, {"stance": "double", "surface": "sand", "eyes": "open"}, True, None, 20)
    with pytest.raises(ValueError, match="no 'eyes'"):
        score_trial(m, {"stance": "double", "surface": "firm"}, True, None, 20)


def test_reference_recordings_score_in_range_and_eyes_closed_lower(reference_data):
    scores = {}
    for eyes in ("open", "closed"):
        data = np.loadtxt(
            reference_data / f"quiet-stance-eyes-{eyes}-100hz.csv", delimiter=",", skiprows=1
        )
        m = compute_all(data[:, 0], data[:, 1] * 1000, data[:, 2] * 1000)
        cond = {"stance": "double", "surface": "firm", "eyes": eyes}
        scores[eyes] = score_trial(m, cond, True, None, 32.0).total
        # same trial judged against eyes-open anchors
        scores[f"{eyes}_vs_open"] = score_trial(m, DOUBLE_EO, True, None, 32.0).total
    assert 40.0 < scores["open"] < 95.0  # a healthy adult: well above 0, not perfect
    assert scores["closed_vs_open"] < scores["open_vs_open"]
    assert scores["closed"] > scores["closed_vs_open"]  # eyes-closed anchors are wider


def test_compare_to_baseline():
    better = compare_to_baseline(30.0, 34.0, 3.0, higher_is_better=False)
    assert (
        better.change == pytest.approx(-4.0) and better.exceeds_mdc and better.verdict == "improved"
    )
    assert better.change_pct == pytest.approx(-100 * 4 / 34)
    within = compare_to_baseline(32.0, 34.0, 3.0, higher_is_better=False)
    assert not within.exceeds_mdc and within.verdict == "within_mdc"
    worse = compare_to_baseline(40.0, 34.0, 3.0, higher_is_better=False)
    assert worse.verdict == "worse"
    assert compare_to_baseline(40.0, 34.0, 3.0).verdict is None
    assert compare_to_baseline(3.0, 0.0, 1.0).change_pct is None
    with pytest.raises(ValueError, match="mdc"):
        compare_to_baseline(1.0, 2.0, 0.0)


def test_mdc_table():
    assert mdc_value("mean_velocity_mm_s.total", 30.0, "single") == pytest.approx(3.0)
    assert 2.8 <= mdc_value("mean_velocity_mm_s.total", 30.0, "single") <= 3.1
    assert mdc_value("ellipse95_area_mm2", 500.0) == pytest.approx(300.0)  # relative entry
    assert mdc_value("f50_hz.ap", 0.4) is None
    assert mdc_value("mean_velocity_mm_s.total", 30.0, "single-left") == pytest.approx(3.0)
    assert mdc_value("mean_velocity_mm_s.total", 10.0, "double") == pytest.approx(2.0)
    for entry in MDC_TABLE:
        assert entry.source and (entry.assumption or "docs/references.md" in entry.source)


def test_target_progress_lower_is_better():
    set_on = date(2026, 11, 2)
    due = set_on + timedelta(weeks=5)
    mid = set_on + timedelta(days=17)  # about halfway
    progress = target_progress("mean_velocity_mm_s.total", 40.0, 30.0, 34.0, set_on, due, today=mid)
    assert progress.higher_is_better is False
    assert progress.fraction_achieved == pytest.approx(0.6)
    assert progress.expected_fraction == pytest.approx(17 / 35)
    assert progress.on_track and not progress.achieved
    assert progress.days_left == 18 and progress.due_in_recommended_range
    behind = target_progress("mean_velocity_mm_s.total", 40.0, 30.0, 41.0, set_on, due, today=mid)
    assert behind.fraction_achieved == pytest.approx(-0.1) and not behind.on_track
    done = target_progress(
        "mean_velocity_mm_s.total", 40.0, 30.0, 29.0, set_on, due, today=due + timedelta(days=3)
    )
    assert done.achieved and done.days_left == 0 and done.expected_fraction == 1.0


def test_target_progress_higher_is_better_and_refusals():
    set_on, due = date(2026, 11, 2), date(2026, 12, 14)
    hold = target_progress("time_to_failure_s", 10.0, 20.0, 15.0, set_on, due, today=set_on)
    assert hold.higher_is_better and hold.fraction_achieved == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lower is better"):
        target_progress("ellipse95_area_mm2", 500.0, 800.0, 600.0, set_on, due)
    with pytest.raises(ValueError, match="must be after"):
        target_progress("time_to_failure_s", 10.0, 20.0, 15.0, due, set_on)
    with pytest.raises(ValueError, match="equals the baseline"):
        target_progress("time_to_failure_s", 10.0, 10.0, 15.0, set_on, due)
    short = target_progress(
        "f50_hz.ap", 0.5, 0.4, 0.45, set_on, set_on + timedelta(days=7), today=set_on
    )
    assert not short.due_in_recommended_range and short.higher_is_better is False


# -- every task by its own measures -----------------------------------------------------------
SINGLE_EO = {"stance": "single-left", "surface": "firm", "eyes": "open"}


def landing(tts_cop: float | None, tts_vertical: float | None, peak_bw: float) -> dict:
    return {**metrics(40.0, 600.0), "landing": {"tts_cop_s": tts_cop,
                                                "tts_vertical_s": tts_vertical,
                                                "peak_force_bw": peak_bw}}


def test_a_hop_is_scored_by_its_landing_not_its_sway():
    from station.analysis.scoring import TASK_ANCHORS

    anchors = TASK_ANCHORS["hop"]
    good = landing(*(anchors[k][1] for k in ("landing.tts_cop_s", "landing.tts_vertical_s",
                                             "landing.peak_force_bw")))
    best = score_trial(good, SINGLE_EO, True, None, 20.0, task="hop")
    assert best.model == "hop" and best.total == pytest.approx(100.0)
    assert [c.measure for c in best.components] == list(anchors)
    # the same landing with a swayier hold after it scores the same: sway is not a hop measure
    swayier = {**good, **metrics(90.0, 3000.0)}
    assert score_trial(swayier, SINGLE_EO, True, None, 20.0, task="hop").total == best.total
    harder = score_trial(landing(2.0, 1.0, 3.5), SINGLE_EO, True, None, 20.0, task="hop")
    assert 0 < harder.total < best.total
    unstable = score_trial(landing(None, 0.4, 2.0), SINGLE_EO, True, None, 20.0, task="hop")
    assert unstable.components[0].score == 0.0 and "not stable" in unstable.components[0].note
    assert unstable.total == pytest.approx(50.0)  # the other two components are perfect
    no_landing = score_trial(metrics(10.0, 100.0), SINGLE_EO, True, None, 20.0, task="hop")
    assert no_landing.total == 0.0


def test_a_push_is_scored_by_its_excursion_and_recovery():
    double = {"stance": "double", "surface": "firm", "eyes": "open"}
    quiet = metrics(8.0, 120.0)  # a steady stance: a hold would score it well
    push = {**quiet, "perturbation": {"peak_excursion_mm": 80.0, "recovery_time_s": None}}
    scored = score_trial(push, double, True, None, 20.0, task="push")
    assert scored.model == "push" and scored.total == 0.0  # pushed far and never recovered
    assert score_trial(quiet, double, True, None, 20.0).total > 50  # as a hold it would pass
    recovered = {**quiet, "perturbation": {"peak_excursion_mm": 20.0, "recovery_time_s": 1.0}}
    assert score_trial(recovered, double, True, None, 20.0, task="push").total == pytest.approx(
        100.0)
    stepped = score_trial(recovered, double, False, 5.0, 20.0, task="push")
    assert stepped.total == pytest.approx(25.0)  # stepping fails a push like a hold


def test_the_pipeline_scores_simulated_hops_and_pushes_by_their_measures():
    from pathlib import Path

    from station.analysis.pipeline import analyze_frames
    from station.board.sim import simulate
    from station.calibration.file import load_calibration

    root = Path(__file__).resolve().parents[1]
    cal = load_calibration(root / "calibration" / "sim-board.json").to_dict()

    def run(events, since_s, **kw):
        r = simulate(events, seed=1, duration_s=14.0)
        keep = r.t_s >= since_s
        t_ns = np.round(r.t_s[keep] * 1e9).astype(np.int64)
        return analyze_frames(t_ns, r.counts[keep], cal, eyes="open", surface="firm",
                              completed=True, time_to_failure_s=None, **kw)

    def hop(peak_bw):
        events = [(0.5, "step_on", {"mass_kg": 70, "skill": 0.7}),
                  (4.0, "lift_foot", {"side": "right"}), (8.0, "hop", {"peak_bw": peak_bw})]
        return run(events, 7.0, stance="single-left", task="hop", planned_duration_s=5.0,
                   body_weight_n=70 * 9.81)

    (soft, soft_score, version), (hard, hard_score, _) = hop(2.0), hop(3.5)
    assert version.endswith("score-v2")
    assert hard["landing"]["peak_force_bw"] > soft["landing"]["peak_force_bw"] + 1.0
    assert hard_score < soft_score  # the harder landing scores lower: its own measure

    def push(magnitude):
        events = [(0.5, "step_on", {"mass_kg": 75}),
                  (6.0, "push", {"direction": "forward", "magnitude": magnitude})]
        return run(events, 2.0, stance="double", task="push", planned_duration_s=12.0,
                   body_weight_n=75 * 9.81, perturbation_onsets_s=[4.0])

    (light, light_score, _), (strong, strong_score, _) = push(3.0), push(12.0)
    assert strong["perturbation"]["peak_excursion_mm"] > light["perturbation"]["peak_excursion_mm"]
    assert strong_score < light_score


def test_task_measures_have_a_direction_and_an_mdc():
    from station.analysis.scoring import TASK_ANCHORS, better_direction, mdc_for

    for anchors in TASK_ANCHORS.values():
        for measure, (_, good, poor) in anchors.items():
            # the anchors count the way the catalog says is better (good > poor: higher)
            assert better_direction(measure) is (good > poor), measure
            assert mdc_for(measure) is not None, measure
    assert better_direction("score") is True and mdc_for("score").measure == "stability_score"
    with pytest.raises(KeyError):
        better_direction("landing.no_such_measure")
