"""Targets say the reliable-change verdict, refuse a target within the noise, and follow only
trials whose task has the target's measure (issue 13 §3, follow-ups)."""

from __future__ import annotations

from datetime import date

import pytest
from test_history_comparisons import DAY0, LEFT, MemoryStore, _Target, row

from station.analysis import history
from station.analysis.history.comparison import change_against, change_text
from station.analysis.history.report import report_view
from station.analysis.history.targets import applies_to
from station.norms.reliable_change import target_too_small
from station.training.targets import review_target

VELOCITY = "mean_velocity_mm_s.total"
PUSH = {"perturbation": {"peak_excursion_mm": 40.0, "recovery_time_s": 1.2}}


def _view(rows: list[dict], *targets: _Target) -> list[dict]:
    store = MemoryStore({"ada": rows}, targets={"ada": list(targets)})
    return history.targets_view(store, "ada", rows)


def test_a_target_says_whether_the_change_since_the_baseline_is_real() -> None:
    due = date(2025, 4, 14)
    real, = _view([row("b", velocity=30.0), row("n", day=7, velocity=24.0)],
                  _Target(VELOCITY, 22.0, condition=LEFT, due_date=due, created_at=DAY0))
    assert real["change"]["verdict"] == "improved" and real["verdict_text"] == "real improvement"
    noise, = _view([row("b", velocity=30.0), row("n", day=7, velocity=28.5)],
                   _Target(VELOCITY, 22.0, condition=LEFT, due_date=due, created_at=DAY0))
    assert noise["verdict_text"] == "within measurement noise"
    assert noise["change"]["mdc"] == pytest.approx(3.0) and noise["change"]["arrow"] == ""
    worse, = _view([row("b", velocity=30.0), row("n", day=7, velocity=36.0)],
                   _Target(VELOCITY, 22.0, condition=LEFT, due_date=due, created_at=DAY0))
    assert worse["verdict_text"] == "real decline"
    only, = _view([row("b", velocity=30.0)], _Target(VELOCITY, 22.0, condition=LEFT))
    assert only["verdict_text"] == "baseline only" and only["change"] is None


def test_a_target_within_the_reliable_change_is_refused_or_flagged() -> None:
    rows = [row("b", velocity=30.0), row("n", day=7, velocity=29.0)]
    with pytest.raises(ValueError, match=r"within the measurement noise.*27\.0 mm/s"):
        history.check_target(rows, VELOCITY, 28.0, "<=", LEFT)  # 2 mm/s, the MDC is 3
    history.check_target(rows, VELOCITY, 27.0, "<=", LEFT)  # the reliable change: a target
    saved, = _view(rows, _Target(VELOCITY, 29.5, condition=LEFT, due_date=date(2025, 4, 14),
                                 created_at=DAY0))
    assert saved["too_small"] is True and saved["wrong_side"] is False
    assert saved["achieved"] is None and saved["on_track"] is None  # reached, but noise
    assert "not a target" in saved["problem"]
    assert _view(rows, _Target(VELOCITY, 26.0, condition=LEFT))[0]["too_small"] is False


def test_the_target_rule_is_the_plans_rule() -> None:
    assert target_too_small(2.9, 3.0) and not target_too_small(3.0, 3.0)
    assert not target_too_small(-3.5, 3.0) and not target_too_small(1.0, None)


def test_any_condition_follows_only_trials_with_the_measure_and_says_which() -> None:
    rows = [row("b", velocity=30.0), row("n", day=7, velocity=25.0),
            row("p", day=8, task="push", velocity=80.0, metrics=PUSH)]
    anyone, = _view(rows, _Target(VELOCITY, 20.0))
    assert anyone["applies_to"] == "Left leg, eyes open"  # not the push tested last
    assert anyone["current"] == 25.0 and anyone["baseline"] == 30.0
    assert applies_to(None, rows) == f"{LEFT} · push" and applies_to(None, rows, VELOCITY) == LEFT
    score, = _view(rows, _Target("score", 90.0, direction=">="))
    assert score["applies_to"] != anyone["applies_to"]  # every task has a score: the push
    with pytest.raises(ValueError, match="not measured in a push trial"):
        history.check_target(rows, VELOCITY, 20.0, "<=", f"{LEFT} · push")


def test_the_report_targets_carry_the_verdict() -> None:
    rows = [row("b", velocity=30.0), row("n", day=7, velocity=24.0)]
    store = MemoryStore({"ada": rows}, targets={"ada": [
        _Target(VELOCITY, 22.0, condition=LEFT, due_date=date(2025, 4, 14), created_at=DAY0)]})
    summary = report_view(store, "ada")["summary"]
    assert summary["targets"][0]["verdict_text"] == "real improvement"
    store.targets["ada"].append(_Target(VELOCITY, 29.0, condition=LEFT, uid="t2"))
    small = report_view(store, "ada")["summary"]["targets"][1]
    assert small["status"] == "within the measurement noise: not a target"


def test_one_rounding_rule_no_minus_zero() -> None:
    assert change_text(-0.04, 1) == "0.0" and change_text(0.04, 1) == "0.0"
    assert change_text(-0.06, 1) == "\u22120.1" and change_text(4.25, 0) == "+4"
    tiny = change_against(29.97, 30.0, VELOCITY, "single-left")
    assert tiny["text"] == "0.0" and tiny["verdict_text"] == "within measurement noise"


def test_the_report_summary_says_the_cards_words() -> None:
    rows = [row("b", velocity=30.0), row("n", day=7, velocity=29.97),
            row("w", day=0, minute=1, stance="single-right", velocity=30.0),
            row("x", day=7, minute=1, stance="single-right", velocity=22.0)]
    report = report_view(MemoryStore({"ada": rows}), "ada")
    words = {k["leg"]: k["measure"]["verdict_text"] for k in report["summary"]["key_results"]}
    assert set(words.values()) == {"within measurement noise", "real improvement"}
    left = next(c for c in report["conditions"] if c["key"] == LEFT)
    velocity = next(m for m in left["measures"] if m["key"] == VELOCITY)
    assert velocity["cmp"]["text"] == "0.0"



def test_the_team_card_flags_a_decline_only_when_real() -> None:
    real = [row("b", score=70.0), row("n", day=7, score=52.0)]
    noise = [row("b", score=70.0), row("n", day=7, score=64.0)]
    team = history.team_overview(MemoryStore({"ada": real, "ben": noise}), condition=LEFT,
                                 today=date(2025, 3, 20))
    cards = {a["uid"]: a for a in team["athletes"]}
    assert cards["ada"]["decline"] is True
    assert cards["ada"]["score_vs_baseline"]["verdict_text"] == "real decline"
    assert cards["ben"]["decline"] is False
    assert cards["ben"]["score_vs_baseline"]["verdict_text"] == "within measurement noise"
    assert cards["ben"]["score_vs_baseline"]["arrow"] == ""


def test_the_plans_review_of_an_any_condition_target_skips_the_push() -> None:
    rows = [row("b", velocity=30.0), row("n", day=7, velocity=25.0),
            row("p", day=8, task="push", velocity=80.0, metrics=PUSH)]
    target = {"measure": VELOCITY, "value": 26.0, "direction": "<=", "condition": None,
              "due_date": date(2025, 3, 1), "baseline": 30.0}
    review = review_target(target, rows, date(2025, 3, 20))
    assert review["latest"] == 25.0 and review["review"] == "met"
