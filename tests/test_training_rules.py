"""The training rules on hand-made histories: the ladder file's checks, move up / stay / step
back / a physio's override, today's session (rest day, hard, light, 15-25 min), adherence
and target suggestions against the measurement error."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from station.protocols import load_protocols
from station.training import (
    DOWN,
    HARD,
    LIGHT,
    STAY,
    UP,
    LadderError,
    LogEntry,
    PlanState,
    TrainingDay,
    adherence,
    build_today,
    evaluate,
    load_ladder,
    parse_ladder,
    review_target,
    suggest_targets,
)
from station.training.ladder import LADDER_FILE
from station.trials.tasks import DETECTORS

TODAY = date(2026, 3, 20)  # a Friday
_uids = count()


@pytest.fixture(scope="module")
def ladder():
    return load_ladder(available_tasks=set(DETECTORS))


def raw_ladder() -> dict[str, Any]:
    return tomllib.loads(LADDER_FILE.read_text())


def at(day: date, hour: int = 17) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).astimezone(UTC)


def hold(day: date, *, stance: str = "single-left", score: float = 75.0,
         outcome: str = "complete", velocity: float = 20.0, planned: float = 20.0,
         eyes: str = "open", surface: str = "firm", minute: int = 0) -> dict[str, Any]:
    n = next(_uids)
    return {"uid": f"t{n}", "session_uid": f"s-{day}", "started_at": at(day) + timedelta(
        minutes=minute + n % 50), "seq": n, "protocol": "baseline", "task": "hold",
        "stance": stance, "eyes": eyes, "surface": surface, "planned_duration_s": planned,
        "outcome": outcome, "score": score, "time_to_failure_s": None,
        "metrics": {"mean_velocity_mm_s": {"total": velocity}}}


def good_days(*days: date, per_day: int = 2, **kw: Any) -> list[dict[str, Any]]:
    rows = []
    for d in days:
        for k in range(per_day):
            stance = "single-left" if k % 2 == 0 else "single-right"
            rows.append(hold(d, stance=stance, minute=k, **kw))
    return rows


STAGE = PlanState("single-firm-20")


# -- the ladder file -------------------------------------------------------------------------


def test_the_shipped_ladder_loads_and_every_stage_can_run(ladder) -> None:
    ids = [s.id for s in ladder.stages]
    assert ids[0] == "double-firm" and ids[-1] == "wobble"
    assert {s.id: s.skip_reason for s in ladder.stages if not s.available} == {}
    assert ladder.first().id == "double-firm"


def test_a_stage_whose_task_or_trial_is_missing_is_skipped_with_the_reason() -> None:
    without_games = set(DETECTORS) - {"toe_taps", "weight_shift"}
    ladder = load_ladder(available_tasks=without_games)
    assert "toe_taps" in ladder.stage("single-firm-dynamic").skip_reason
    assert ladder.stage("single-firm-30").available


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["stages"][1]["items"][0].update(trial="left-opn-firm"),
     "no trial baseline/left-opn-firm"),
    (lambda d: d["stages"][1]["items"][0].update(sets=0), "sets: 0 must be a whole number"),
    (lambda d: d["stages"][1]["items"][0].update(task="drill"),
     "trial baseline/left-open-firm is a 'hold' trial"),
    (lambda d: d["stages"][2].update(id="single-firm-20"), "is used twice"),
    (lambda d: d["rules"].pop("holds"), "rules.holds: missing"),
    (lambda d: d["rules"].update(sessions_per_week=[3, 2]), "rules.sessions_per_week"),
    (lambda d: d["stages"][0].update(colour="red"), "colour: unknown field"),
    (lambda d: d["stages"][0].update(items=[d["stages"][0]["items"][1]]),
     "needs at least one hold item"),
])
def test_a_bad_ladder_says_where_and_what(change, message) -> None:
    data = copy.deepcopy(raw_ladder())
    change(data)
    with pytest.raises(LadderError, match=message):
        parse_ladder(data, available_tasks=set(DETECTORS), protocols=load_protocols(),
                     source="ladder.toml")


# -- move up, stay, step back, override ----------------------------------------------------------


def test_good_holds_on_two_days_move_up(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    decision = evaluate(ladder, STAGE, rows, [], TODAY)
    assert (decision.action, decision.to_stage) == (UP, "single-firm-30")
    assert "2 different days" in decision.reason


def test_good_holds_on_one_day_stay(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=1), per_day=4)
    decision = evaluate(ladder, STAGE, rows, [], TODAY)
    assert decision.action == STAY and "needs 2 different days" in decision.reason


def test_too_few_holds_or_one_below_the_criterion_stay(ladder) -> None:
    few = good_days(TODAY - timedelta(days=2), per_day=3)
    assert "3 of 4 holds" in evaluate(ladder, STAGE, few, [], TODAY).reason
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    rows[0]["score"] = 40.0  # the oldest of the four
    decision = evaluate(ladder, STAGE, rows, [], TODAY)
    assert decision.action == STAY and "3 of the last 4 holds in a row" in decision.reason
    rows[0]["score"] = 90.0
    rows[-1].update(outcome="failed")  # the latest
    decision = evaluate(ladder, STAGE, rows, [], TODAY)
    assert decision.action == STAY and "0 of the last 4 holds in a row" in decision.reason
    # a streak longer than four, over more days, counts from the latest hold back
    rows += good_days(TODAY, TODAY + timedelta(days=1), per_day=3)
    assert evaluate(ladder, STAGE, rows, [], TODAY + timedelta(days=1)).action == UP


def test_holds_of_another_condition_or_duration_do_not_count(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1), planned=30.0)
    rows += good_days(TODAY - timedelta(days=2), TODAY, surface="foam")
    assert evaluate(ladder, STAGE, rows, [], TODAY).reason.startswith("0 of 4 holds")


def test_holds_before_the_stage_began_do_not_count(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    plan = PlanState("single-firm-20", since=at(TODAY - timedelta(days=2)))
    decision = evaluate(ladder, plan, rows, [], TODAY)
    assert decision.action == STAY and "2 of 4 holds" in decision.reason


def test_moving_up_skips_a_stage_that_cannot_run() -> None:
    ladder = load_ladder(available_tasks=set(DETECTORS) - {"toe_taps", "weight_shift"})
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1), planned=30.0)
    decision = evaluate(ladder, PlanState("single-firm-30"), rows, [], TODAY)
    assert (decision.action, decision.to_stage) == (UP, "single-firm-closed")
    assert "single-firm-dynamic skipped: task 'toe_taps'" in decision.reason


def test_soreness_above_the_threshold_steps_back(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    log = [LogEntry(at(TODAY - timedelta(days=1)), soreness=7, stiffness=2)]
    decision = evaluate(ladder, STAGE, rows, log, TODAY)
    assert (decision.action, decision.to_stage) == (DOWN, "double-firm")
    assert "soreness 7/10" in decision.reason
    old = [LogEntry(at(TODAY - timedelta(days=5)), soreness=9)]  # outside the last 3 days
    assert evaluate(ladder, STAGE, rows, old, TODAY).action == UP
    at_threshold = [LogEntry(at(TODAY), stiffness=6)]  # "above" 6 only
    assert evaluate(ladder, STAGE, rows, at_threshold, TODAY).action == UP
    # one sore day steps back once: after the step back, the same entry is not counted again
    after = PlanState("double-firm", since=at(TODAY - timedelta(days=1)) + timedelta(hours=1))
    assert evaluate(ladder, after, [], log, TODAY).action == STAY


def test_a_real_decline_steps_back_and_noise_does_not(ladder) -> None:
    days = [TODAY - timedelta(days=d) for d in (9, 7, 5, 3, 1)]
    rows = [hold(d, velocity=v, score=50.0) for d, v in zip(days, (18, 19, 18, 27, 28),
                                                             strict=True)]
    rows.append(hold(TODAY, velocity=29, score=50.0))
    decision = evaluate(ladder, STAGE, rows, [], TODAY)
    assert decision.action == DOWN and "COP velocity on single-left rose" in decision.reason
    for r, v in zip(rows, (18, 19, 18, 19, 19, 18.5), strict=True):
        r["metrics"]["mean_velocity_mm_s"]["total"] = v
    assert evaluate(ladder, STAGE, rows, [], TODAY).action == STAY


def test_the_decline_judge_can_be_the_athletes_own(ladder) -> None:
    days = [TODAY - timedelta(days=d) for d in range(6, 0, -1)]
    rows = [hold(d, velocity=v, score=50.0) for d, v in zip(days, (18, 18, 18, 20, 20, 20),
                                                             strict=True)]
    assert evaluate(ladder, STAGE, rows, [], TODAY).action == STAY  # within the table's MDC

    def tight(current, reference, measure, stance):
        return {"verdict": "worse" if current - reference > 1.0 else "within_mdc", "mdc": 1.0}

    assert evaluate(ladder, STAGE, rows, [], TODAY, judge=tight).action == DOWN


def test_at_the_first_stage_soreness_stays(ladder) -> None:
    log = [LogEntry(at(TODAY), soreness=8)]
    decision = evaluate(ladder, PlanState("double-firm"), [], log, TODAY)
    assert decision.action == STAY and "first stage" in decision.reason


def test_a_pinned_stage_is_not_moved_by_the_rule(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    plan = PlanState("single-firm-20", pinned=True, set_by="physio", reason="after the sprain")
    decision = evaluate(ladder, plan, rows, [], TODAY)
    assert decision.action == STAY and "set by physio: after the sprain" in decision.reason
    sore = evaluate(ladder, plan, rows, [LogEntry(at(TODAY), soreness=9)], TODAY)
    assert sore.action == STAY and "the rule would step back: soreness 9/10" in sore.reason


# -- today's session --------------------------------------------------------------------------


def test_rest_day_after_a_hard_day_or_a_full_week(ladder) -> None:
    hard_yesterday = [TrainingDay(at(TODAY - timedelta(days=1)), HARD)]
    today = build_today(ladder, "single-firm-20", hard_yesterday, None, TODAY)
    assert today["rest_day"] and "trained hard yesterday" in today["reason"]
    week = [TrainingDay(at(TODAY - timedelta(days=d)), LIGHT) for d in (4, 3, 1)]
    full = build_today(ladder, "single-firm-20", week, None, TODAY)
    assert full["rest_day"] and "3 sessions this week" in full["reason"]
    assert full["steps"] == []


@pytest.mark.parametrize("stage", ["double-firm", "single-firm-20", "single-firm-30",
                                   "single-firm-closed", "single-foam-20", "single-foam-30"])
def test_hard_and_light_sessions_last_15_to_25_minutes(ladder, stage) -> None:
    after_light = [TrainingDay(at(TODAY - timedelta(days=2)), LIGHT)]
    after_hard = [TrainingDay(at(TODAY - timedelta(days=2)), HARD)]
    hard = build_today(ladder, stage, after_light, None, TODAY)
    light = build_today(ladder, stage, after_hard, None, TODAY)
    assert (hard["intensity"], light["intensity"]) == (HARD, LIGHT)
    for session in (hard, light):
        assert 15 <= session["minutes"] <= 25, (stage, session["minutes"])
        assert [s["seq"] for s in session["steps"]] == list(range(1, len(session["steps"]) + 1))
    assert not any(s["hard_only"] for s in light["steps"])
    assert light["steps"][0]["rest_s"] > hard["steps"][0]["rest_s"]  # longer rests
    assert len(light["steps"]) < len(hard["steps"])  # and fewer sets
    assert light["minutes"] <= hard["minutes"]


def test_a_sore_log_today_makes_the_day_light(ladder) -> None:
    session = build_today(ladder, "single-firm-30", [], LogEntry(at(TODAY), stiffness=5), TODAY)
    assert session["intensity"] == LIGHT and "stiffness 5/10" in session["reason"]


# -- adherence and targets ----------------------------------------------------------------------


def test_adherence_counts_weeks_against_the_plan_and_rest_days(ladder) -> None:
    monday = TODAY - timedelta(days=TODAY.weekday())
    days = [(monday - timedelta(weeks=3), HARD), (monday - timedelta(weeks=3, days=-1), HARD),
            (monday - timedelta(weeks=2), HARD), (monday - timedelta(weeks=2, days=-3), LIGHT),
            (monday - timedelta(weeks=1, days=-2), HARD), (monday, LIGHT)]
    a = adherence(ladder, [TrainingDay(at(d), i) for d, i in days], TODAY)
    assert [w["sessions"] for w in a["weeks"]] == [2, 2, 1, 1]
    assert [w["status"] for w in a["weeks"]] == ["on plan", "on plan", "below", "so far"]
    assert a["weeks_on_plan"] == 2 and a["full_weeks"] == 3
    assert (a["hard_sessions"], a["rest_days_kept"]) == (4, 3)  # Mon+Tue of week 1: not kept
    assert a["last_trained"] == monday.isoformat() and a["days_since_trained"] == 4
    new = adherence(ladder, [TrainingDay(at(monday), HARD)], TODAY)  # began this week
    assert [w["status"] for w in new["weeks"]][:3] == ["before the plan"] * 3
    assert (new["full_weeks"], new["this_week"]) == (0, 1)


def test_a_target_is_never_smaller_than_the_measurement_error(ladder) -> None:
    rows = good_days(TODAY - timedelta(days=30), velocity=20.0, score=70.0)
    suggested = suggest_targets(ladder, "single-firm-20", rows, TODAY)
    left = next(s for s in suggested if s["measure"] == "mean_velocity_mm_s.total"
                and s["condition"].startswith("single-left"))
    assert left["change"] >= left["mdc"] > 0
    assert left["value"] == pytest.approx(20.0 - left["change"], abs=0.05)
    assert left["due_date"] == (TODAY + timedelta(weeks=6)).isoformat()

    def big_error(measure, baseline, stance):
        return 8.0 if measure.startswith("mean_velocity") else None

    strict = suggest_targets(ladder, "single-firm-20", rows, TODAY, mdc=big_error)
    vel = next(s for s in strict if s["measure"] == "mean_velocity_mm_s.total")
    assert vel["change"] == 8.0 and "would be within it" in vel["reason"]
    score = next(s for s in strict if s["measure"] == "score")
    assert score["value"] is None and "no measurement error" in score["reason"]


def test_a_target_is_reviewed_on_its_due_date() -> None:
    due = TODAY - timedelta(days=1)
    target = {"measure": "mean_velocity_mm_s.total", "value": 15.0, "direction": "<=",
              "condition": None, "due_date": due, "baseline": 20.0}
    met = review_target(target, [hold(TODAY, velocity=14.0)], TODAY)
    assert met["review"] == "met"
    extend = review_target(target, [hold(TODAY, velocity=17.0)], TODAY)
    assert extend["review"] == "extend" and extend["new_due_date"] > TODAY.isoformat()
    missed = review_target(target, [hold(TODAY, velocity=19.5)], TODAY)
    assert missed["review"] == "not met"
    early = review_target({**target, "due_date": TODAY + timedelta(days=5)},
                          [hold(TODAY, velocity=19.5)], TODAY)
    assert early["review"] == "open"
