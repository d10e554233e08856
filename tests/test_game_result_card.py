"""A finished game's result card speaks the game's own measures and a training trial is never
called part of a baseline assessment (issue 16): plain history rows, no database."""

from __future__ import annotations

from typing import Any

from test_history_comparisons import MemoryStore, row

from station.analysis import history
from station.analysis.history.game_summary import game_outcome_text, game_summary
from station.analysis.history.history_rows import condition_label


def game_row(uid: str, *, day: int, kind: str = "training", rms: float = 8.83,
             band: float = 81.2, outcome: str = "complete") -> dict[str, Any]:
    r = row(uid, day=day, stance="double", task="weight_shift", protocol="weight-shift",
            outcome=outcome, planned=40.0, held_s=20.0,
            metrics={"weight_shift": {"rms_error_mm": rms, "time_in_band_pct": band}})
    r["session_kind"] = kind
    return r


def test_a_weight_shift_reads_as_tracking_error_and_time_in_band() -> None:
    r = game_row("g", day=0)
    assert game_summary(r) == "tracking error 8.8 mm, 81 % in band"
    assert game_outcome_text(r) == "✓ Done: tracking error 8.8 mm, 81 % in band"
    assert "held" not in game_outcome_text(r)
    stopped = game_row("g2", day=0, outcome="failed")
    assert game_outcome_text(stopped, "Foot down") == (
        "Foot down: tracking error 8.8 mm, 81 % in band")


def test_each_game_has_its_own_words_and_a_hold_has_none() -> None:
    los = row("l", task="limits_of_stability", stance="double", metrics={
        "limits_of_stability": {"max_excursion_pct": 72.4, "directional_control_pct": 80.6}})
    taps = row("t", task="toe_taps", metrics={"toe_taps": {"taps_pct": 90.0, "lost_control": 2}})
    maze = row("m", task="maze", stance="double",
               metrics={"maze": {"targets_reached_pct": 87.5, "time_per_target_s": 3.24}})
    assert game_summary(los) == "reach 72 % of the limit, directional control 81 %"
    assert game_summary(taps) == "90 % of the beats tapped, lost control 2 ×"
    assert game_summary(maze) == "88 % of targets reached, 3.2 s per target"
    assert game_summary(row("h")) is None and game_outcome_text(row("h")) is None


def test_the_first_training_game_is_not_a_baseline_assessment() -> None:
    rows = [game_row("first", day=0), game_row("second", day=3, rms=7.0, band=88.0)]
    store = MemoryStore({"ada": rows})
    first = history.result_card(store, "first")
    assert first["session_kind"] == "training"
    assert first["baseline"]["includes_this"] and not first["baseline"]["assessment"]
    assert first["outcome_text"].startswith("✓ Done: tracking error 8.8 mm")
    second = history.result_card(store, "second")
    assert second["summary"] == "tracking error 7.0 mm, 88 % in band"
    assert not second["baseline"]["assessment"]


def test_a_game_run_outside_training_is_no_baseline_assessment_either() -> None:
    card = history.result_card(MemoryStore({"ada": [game_row("g", day=0, kind="assessment")]}),
                               "g")
    assert card["baseline"]["includes_this"] and not card["baseline"]["assessment"]


def test_a_game_after_training_is_compared_with_its_first_training_session() -> None:
    rows = [game_row("t1", day=0), game_row("t2", day=3, rms=7.0),
            game_row("kiosk", day=7, kind="assessment", rms=6.0)]
    card = history.result_card(MemoryStore({"ada": rows}), "kiosk")
    assert not card["baseline"]["includes_this"] and not card["baseline"]["assessment"]
    assert card["baseline"]["trials"] == ["t1"] and card["last_date"] is not None
    rms = next(m for m in card["measures"] if m["key"] == "weight_shift.rms_error_mm")
    assert rms["vs_baseline"] is not None


def test_an_assessment_baseline_stays_an_assessment() -> None:
    rows = [row("b1", day=0), row("b2", day=7)]
    for r in rows:
        r["session_kind"] = "assessment"
    card = history.result_card(MemoryStore({"ada": rows}), "b1")
    assert card["baseline"]["assessment"] and card["baseline"]["includes_this"]
    assert card["summary"] is None and card["outcome_text"] is None


def test_a_games_condition_is_named_in_words() -> None:
    assert condition_label(game_row("g", day=0)) == "Both feet, eyes open, weight shift"
    assert condition_label(row("t", task="toe_taps")) == "Left leg, eyes open, toe taps"
