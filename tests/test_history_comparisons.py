"""Results people can trust: the read-model's rules for comparing like with like, on plain
history rows (no database): the baseline assessment and its rule, failed trials repeated at
once, time held against the plan, changes within the measurement error, per-day trends,
each task's own measures (hop, push) and the team cards' one condition.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from station.analysis import history
from station.analysis.history.athlete_history import condition_series
from station.analysis.history.comparison import change_against, held_against
from station.analysis.history.history_rows import held, superseded_uids
from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.report import baseline_against_latest
from station.analysis.scoring import mdc_value

LEFT = "single-left · eyes open · firm"
DAY0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def row(uid: str, *, day: int = 0, minute: int = 0, session: str | None = None,
        stance: str = "single-left", task: str = "hold", protocol: str | None = "baseline",
        outcome: str = "complete", planned: float = 20.0, held_s: float | None = None,
        score: float | None = 60.0, velocity: float | None = 30.0, area: float = 200.0,
        metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """One athlete_history row (the store's shape) with its metrics."""
    base_metrics = {"mean_velocity_mm_s": {"total": velocity}, "ellipse95_area_mm2": area}
    return {
        "uid": uid, "session_uid": session or f"s{day}", "seq": minute + 1,
        "started_at": DAY0 + timedelta(days=day, minutes=minute), "clock_synced": True,
        "protocol": protocol, "task": task, "stance": stance, "eyes": "open", "surface": "firm",
        "planned_duration_s": planned, "outcome": outcome, "score": score,
        "time_to_failure_s": held_s if outcome == "failed" else None,
        "duration_s": planned, "has_raw": False,
        "metrics": {**base_metrics, **(metrics or {})},
    }


@dataclass
class _Athlete:
    uid: str
    name: str
    team: str | None = "U18"
    dominant_leg: str | None = "left"
    birth_year: int | None = 2008


@dataclass
class _Trial:
    athlete_uid: str
    failure_reason: str | None = None


@dataclass
class _Target:
    measure: str
    value: float
    condition: str | None = None
    direction: str = "<="
    due_date: date | None = None
    notes: str | None = None
    created_at: datetime | None = None
    uid: str = "target-1"


@dataclass
class MemoryStore:
    """The reads the history read-model makes (HistoryStore), on plain rows."""

    histories: dict[str, list[dict[str, Any]]]
    targets: dict[str, list[_Target]] = field(default_factory=dict)

    def get_athlete(self, uid: str) -> _Athlete:
        return _Athlete(uid, uid.title())

    def list_athletes(self, active_only: bool = False, team: str | None = None,
                      name_contains: str | None = None) -> list[_Athlete]:
        return [_Athlete(uid, uid.title()) for uid in self.histories]

    def athlete_history(self, athlete_uid: str, metrics: bool = False) -> list[dict[str, Any]]:
        return self.histories[athlete_uid]

    def list_sessions(self, athlete_uid: str) -> list[Any]:
        return []

    def list_targets(self, athlete_uid: str) -> list[_Target]:
        return self.targets.get(athlete_uid, [])

    def load_trial(self, uid: str, with_raw: bool = True) -> _Trial:
        owner = next(a for a, rows in self.histories.items() if any(r["uid"] == uid for r in rows))
        return _Trial(owner)


def card_measure(card: dict[str, Any], key: str) -> dict[str, Any]:
    return next(m for m in card["measures"] if m["key"] == key)


# -- the baseline ----------------------------------------------------------------------------
def test_the_baseline_is_the_first_battery_session_not_the_first_trial() -> None:
    rows = [
        row("early", day=0, protocol="single-leg-left", velocity=50.0, score=20.0),
        row("b1", day=7, velocity=32.0, score=55.0),
        row("later", day=14, velocity=28.0, score=70.0),
    ]
    base = history.baselines(rows)[LEFT]
    assert [r["uid"] for r in base.rows] == ["b1"] and base.rule_text() == "single trial"
    card = history.result_card(MemoryStore({"ada": rows}), "later")
    velocity = card_measure(card, "mean_velocity_mm_s.total")
    assert velocity["vs_baseline"]["reference"] == 32.0  # the battery's, not the first trial's
    assert card["baseline"]["date"].startswith("2025-03-10")
    assert card["baseline"]["rule"] == "single trial"


def test_without_a_battery_the_first_session_is_the_baseline_by_its_protocols_rule() -> None:
    rows = [row(f"r{i}", minute=i, protocol="single-leg-left", score=s, velocity=v)
            for i, (s, v) in enumerate(((40.0, 40.0), (65.0, 30.0), (50.0, 35.0)))]
    rows.append(row("next", day=7, protocol="single-leg-left", score=70.0, velocity=27.0))
    base = history.baselines(rows)[LEFT]
    assert base.rule == "best" and base.rule_text() == "best of 3"
    assert base.value("mean_velocity_mm_s.total") == 30.0  # the best repeat's (score 65)
    assert base.value("score") == 65.0


def test_a_mean_rule_averages_each_measure_over_the_repeats(tmp_path) -> None:
    from station.protocols import load_protocols

    (tmp_path / "mean.toml").write_text(
        'id = "avg"\nname = "Avg"\nkind = "hold"\nbaseline = "mean"\n'
        '[[trials]]\nid = "a"\nstance = "single-left"\ncount = 2\n')
    rows = [row("a1", protocol="avg", velocity=30.0, score=50.0),
            row("a2", minute=1, protocol="avg", velocity=34.0, score=60.0)]
    base = history.baselines(rows, load_protocols(tmp_path))[LEFT]
    assert base.rule_text() == "mean of 2"
    assert base.value("mean_velocity_mm_s.total") == pytest.approx(32.0)
    assert base.value("score") == pytest.approx(55.0)


def test_a_failed_trial_repeated_at_once_is_never_the_baseline_nor_the_last_test() -> None:
    rows = [
        row("slip", outcome="failed", held_s=1.5, score=4.0, velocity=60.0),
        row("again", minute=1, score=65.5, velocity=30.0),
        row("right", minute=2, stance="single-right", score=60.0),
        row("fail-kept", minute=3, outcome="failed", held_s=12.0, score=40.0),  # not repeated
        row("next-week", day=7, score=66.0, velocity=29.0),
    ]
    assert superseded_uids(rows) == {"slip"}
    base = history.baselines(rows)[LEFT]
    assert "slip" not in base.uids and base.value("score") == 65.5  # best of the two counted
    card = history.result_card(MemoryStore({"ada": rows}), "next-week")
    score = card_measure(card, "score")
    # not "+62" against the slip: 66 against 65.5, within the score's measurement error
    assert score["vs_baseline"]["change"] == pytest.approx(0.5)
    assert score["vs_baseline"]["verdict"] == "within_mdc"
    assert card_measure(history.result_card(MemoryStore({"ada": rows}), "again"),
                        "score")["vs_last"] is None  # its "last" would be the slip


def test_a_trial_of_the_baseline_session_is_part_of_the_baseline() -> None:
    rows = [row("r1"), row("r2", minute=1, score=70.0)]
    card = history.result_card(MemoryStore({"ada": rows}), "r2")
    assert card["baseline"]["includes_this"] is True and card["baseline_date"] is None
    assert card_measure(card, "score")["vs_baseline"] is None
    assert card_measure(card, "score")["vs_last"]["change"] == pytest.approx(10.0)


# -- time held against the plan ---------------------------------------------------------------
def test_time_held_is_compared_with_the_plan_never_across_durations() -> None:
    rows = [row("base", planned=20.0), row("long", day=7, planned=30.0),
            row("short", day=14, planned=10.0)]
    store = MemoryStore({"ada": rows})
    for uid, planned in (("long", 30), ("short", 10)):
        card = history.result_card(store, uid)
        time_held = card_measure(card, "time_to_failure_s")
        assert time_held["vs_baseline"]["change"] is None  # not "+10 s" nor "-10 s"
        assert time_held["vs_baseline"]["arrow"] == "" and time_held["vs_baseline"]["tone"] == (
            "neutral")
        assert "planned" in time_held["vs_baseline"]["note"]
        assert card["held"]["text"] == f"completed ({planned} s)"
    failed = row("f", day=21, planned=20.0, outcome="failed", held_s=8.4)
    card = history.result_card(MemoryStore({"ada": [*rows, failed]}), "f")
    assert card["held"]["text"] == "failed at 8.4 of 20 s"
    same = card_measure(card, "time_to_failure_s")["vs_baseline"]
    assert same["change"] == pytest.approx(-11.6) and same["verdict"] == "worse"
    assert same["arrow"] == "▼"


def test_held_against_needs_equal_plans() -> None:
    twenty = held(row("a", planned=20.0))
    assert held_against(twenty, held(row("b", planned=20.0)), "single-left")["change"] == 0.0
    assert held_against(twenty, held(row("c", planned=30.0)), "single-left")["change"] is None
    assert held_against(twenty, None, "single-left") is None


# -- changes within the measurement error -----------------------------------------------------
def test_a_change_within_the_mdc_is_neutral_and_the_score_too() -> None:
    within = change_against(28.5, 30.0, "mean_velocity_mm_s.total", "single-left")
    assert within["verdict"] == "within_mdc"
    assert (within["arrow"], within["tone"]) == ("", "neutral")
    beyond = change_against(26.0, 30.0, "mean_velocity_mm_s.total", "single-left")
    assert (beyond["arrow"], beyond["tone"], beyond["verdict"]) == ("▼", "good", "improved")
    score = change_against(68.0, 60.0, "score", "single-left")  # MDC 10 points
    assert (score["verdict"], score["arrow"], score["tone"]) == ("within_mdc", "", "neutral")
    assert score["mdc"] == 10.0
    real = change_against(75.0, 60.0, "score", "single-left")
    assert (real["arrow"], real["tone"]) == ("▲", "good")


@pytest.mark.parametrize("measure", ["mean_velocity_mm_s.total", "ellipse95_area_mm2", "score",
                                     "time_to_failure_s", "landing.tts_cop_s",
                                     "landing.peak_force_bw", "perturbation.peak_excursion_mm",
                                     "perturbation.recovery_time_s"])
def test_an_arrow_never_contradicts_the_sign_nor_shows_within_the_mdc(measure: str) -> None:
    for reference, change in itertools.product((0.5, 2.0, 10.0, 40.0, 300.0),
                                               (-50, -5, -1.2, -0.2, 0.0, 0.2, 1.2, 5, 50)):
        cmp = change_against(reference + change, reference, measure, "single-left")
        mdc = mdc_value(measure, reference, "single-left")
        assert mdc is not None, measure  # every shown measure has a measurement-error figure
        if abs(abs(change) - mdc) < 1e-9:
            continue  # on the edge: floating point decides
        if abs(change) < mdc:
            assert cmp["arrow"] == "" and cmp["tone"] == "neutral", (measure, reference, change)
        else:
            assert cmp["arrow"] == ("▲" if change > 0 else "▼"), (measure, reference, change)
            assert cmp["tone"] in ("good", "bad")


# -- trends per day -----------------------------------------------------------------------------
def test_a_day_of_trials_is_one_point_with_its_range_on_a_date_axis() -> None:
    rows = [row("a", minute=0, velocity=30.0), row("b", minute=1, velocity=34.0),
            row("c", minute=2, velocity=32.0), row("d", day=7, velocity=28.0)]
    points = condition_series(rows)[LEFT]["measures"]["mean_velocity_mm_s.total"]
    assert points["y"] == [32.0, 28.0] and points["n"] == [3, 1]
    assert (points["lo"], points["hi"]) == ([30.0, 28.0], [34.0, 28.0])
    assert points["t"][1] - points["t"][0] == pytest.approx(7 * 86400, abs=3600)


def test_superseded_and_aborted_trials_stay_out_of_the_trend() -> None:
    rows = [row("slip", outcome="failed", held_s=1.0, score=5.0), row("again", minute=1),
            row("stop", minute=2, outcome="aborted", score=None)]
    points = condition_series(rows)[LEFT]["measures"]["score"]
    assert points["y"] == [60.0] and points["n"] == [1]


# -- every test's own measures ---------------------------------------------------------------
HOP = {"landing": {"tts_cop_s": 1.4, "tts_vertical_s": 0.6, "peak_force_bw": 2.6}}
PUSH = {"perturbation": {"peak_excursion_mm": 40.0, "recovery_time_s": 2.5}}


def test_hop_and_push_cards_show_their_own_measures() -> None:
    rows = [
        row("hop-l", task="hop", metrics=HOP, score=55.0),
        row("push", minute=1, stance="double", task="push", metrics=PUSH, score=48.0),
        row("hop-l2", day=7, task="hop", score=62.0,
            metrics={"landing": {"tts_cop_s": 0.9, "tts_vertical_s": 0.5, "peak_force_bw": 2.5}}),
    ]
    store = MemoryStore({"ada": rows})
    hop = history.result_card(store, "hop-l2")
    assert [m["key"] for m in hop["measures"]] == [
        "score", "landing.tts_cop_s", "landing.tts_vertical_s", "landing.peak_force_bw",
        "time_to_failure_s"]
    assert hop["score_label"] == "landing score" and hop["model"] == "hop"
    tts = card_measure(hop, "landing.tts_cop_s")
    assert (tts["value"], tts["label"], tts["unit"]) == (0.9, "Time to stabilization", "s")
    assert tts["vs_baseline"]["change"] == pytest.approx(-0.5)  # MDC 0.5 s: within
    assert tts["vs_baseline"]["verdict"] == "within_mdc"
    push = history.result_card(store, "push")
    assert [m["key"] for m in push["measures"]] == [
        "score", "perturbation.peak_excursion_mm", "perturbation.recovery_time_s",
        "time_to_failure_s"]
    assert card_measure(push, "perturbation.peak_excursion_mm")["value"] == 40.0
    assert push["score_label"] == "push-recovery score"


def test_the_athlete_page_and_report_chart_each_task_by_its_measures() -> None:
    rows = [row("hop-l", task="hop", metrics=HOP),
            row("push", minute=1, stance="double", task="push", metrics=PUSH)]
    series = condition_series(rows)
    hop = series["single-left · eyes open · firm · hop"]
    assert [c["key"] for c in hop["charts"]] == ["score", "landing.tts_cop_s",
                                                  "landing.peak_force_bw"]
    assert hop["left_right"] == "landing.tts_cop_s"
    assert hop["measures"]["landing.peak_force_bw"]["y"] == [2.6]
    push = series["double · eyes open · firm · push"]
    assert push["measures"]["perturbation.recovery_time_s"]["y"] == [2.5]
    report = {c["key"]: c for c in baseline_against_latest(rows)}
    labels = [m["label"] for m in report["double · eyes open · firm · push"]["measures"]]
    assert labels == ["Score", "Peak excursion", "Recovery time", "Time held"]


def test_the_hop_has_left_right_symmetry_on_its_landing() -> None:
    right = {"landing": {"tts_cop_s": 2.8, "tts_vertical_s": 0.6, "peak_force_bw": 2.6}}
    rows = [row("l", task="hop", metrics=HOP),
            row("r", minute=1, stance="single-right", task="hop", metrics=right)]
    pair = next(p for p in symmetry_rows(rows) if p["model"] == "hop")
    tts = next(m for m in pair["measures"] if m["measure"] == "landing.tts_cop_s")
    assert (tts["left"], tts["right"]) == (1.4, 2.8) and tts["lsi_pct"] == pytest.approx(50.0)
    assert "time_to_failure_s" not in {m["measure"] for m in pair["measures"]}


# -- the team cards' one condition ------------------------------------------------------------
def test_team_cards_show_one_condition_and_say_which() -> None:
    romberg = "double · eyes open · firm"
    store = MemoryStore({
        "ada": [row("a1", score=62.0), row("a2", minute=1, stance="double", score=30.0,
                                            protocol="romberg")],
        "ben": [row("b1", stance="double", score=85.0, protocol="romberg")],
    })
    team = history.team_overview(store, today=date(2025, 3, 4))
    cards = {a["uid"]: a for a in team["athletes"]}
    assert team["condition"]["key"] == LEFT and team["condition"]["label"] == "Left leg, eyes open"
    assert cards["ada"]["latest_score"] == 62.0  # not the Romberg 30 tested a minute later
    assert cards["ben"]["latest_score"] is None and cards["ben"]["n_in_condition"] == 0
    assert {c["key"] for c in team["conditions"]} == {LEFT, romberg}
    chosen = history.team_overview(store, condition=romberg, today=date(2025, 3, 4))
    assert chosen["condition"]["why"] == "chosen"
    assert {a["uid"]: a["latest_score"] for a in chosen["athletes"]} == {"ada": 30.0,
                                                                         "ben": 85.0}
    with pytest.raises(ValueError, match="not a condition key"):
        history.team_overview(store, condition="left leg please")


def test_the_team_latest_results_are_one_row_per_athlete_and_condition() -> None:
    store = MemoryStore({"ada": [row("a1", score=50.0), row("a2", day=7, score=62.0),
                                 row("h", day=7, minute=1, task="hop", metrics=HOP)]})
    rows = history.team_latest(store)
    assert [(r["condition"], r["score"]) for r in rows] == [
        ("Left leg, eyes open", 62.0), ("Left leg, eyes open, hop", 60.0)]
    assert rows[1]["landing.tts_cop_s"] == 1.4 and rows[0]["landing.tts_cop_s"] is None
    assert set(rows[0]) == set(history.TEAM_CSV_FIELDS)


# -- targets ---------------------------------------------------------------------------------
def test_a_target_on_the_wrong_side_of_the_baseline_is_refused() -> None:
    rows = [row("b", velocity=15.7), row("n", day=7, velocity=15.0)]
    with pytest.raises(ValueError, match=r"lower is better.*baseline 15\.7"):
        history.check_target(rows, "mean_velocity_mm_s.total", 999.0, "<=", LEFT)
    with pytest.raises(ValueError, match="reached at <="):
        history.check_target(rows, "mean_velocity_mm_s.total", 12.0, ">=", LEFT)
    history.check_target(rows, "mean_velocity_mm_s.total", 12.0, "<=", None)  # any condition
    history.check_target(rows, "landing.tts_cop_s", 1.0, "<=", None)  # nothing to judge on


def test_the_target_list_names_each_targets_condition() -> None:
    rows = [row("b", velocity=30.0), row("n", day=7, velocity=26.0)]
    store = MemoryStore({"ada": rows}, targets={"ada": [
        _Target("mean_velocity_mm_s.total", 20.0, condition=LEFT,
                due_date=date(2025, 4, 14), created_at=DAY0),
        _Target("score", 80.0, direction=">=", uid="t2")]})
    own, anyone = history.targets_view(store, "ada", rows)
    assert own["condition_label"] == "Left leg, eyes open" and own["baseline"] == 30.0
    assert own["baseline_info"]["rule"] == "single trial"
    assert anyone["condition_label"] is None and anyone["applies_to"] == "Left leg, eyes open"
