"""A finished game's outcome in its own words: what the game measured, not "held the full 10 s".

A biofeedback game (weight shift, limits of stability, maze, toe taps) is not a hold: it is
done when its time is up, and what the athlete wants to read is its own measures, e.g.
"tracking error 8.8 mm, 81 % in band". The result card (result_card.py) and the kiosk use it.
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.history_rows import measure_value, model_of
from station.protocols.games import GAME_TASKS

# per game: (measure, how it reads, digits); a measure a trial lacks is left out
GAME_PHRASES: dict[str, tuple[tuple[str, str, int], ...]] = {
    "weight_shift": (("weight_shift.rms_error_mm", "tracking error {} mm", 1),
                     ("weight_shift.time_in_band_pct", "{} % in band", 0)),
    "limits_of_stability": (("limits_of_stability.max_excursion_pct", "reach {} % of the limit", 0),
                            ("limits_of_stability.directional_control_pct",
                             "directional control {} %", 0)),
    "maze": (("maze.targets_reached_pct", "{} % of targets reached", 0),
             ("maze.time_per_target_s", "{} s per target", 1)),
    "toe_taps": (("toe_taps.taps_pct", "{} % of the beats tapped", 0),
                 ("toe_taps.lost_control", "lost control {} ×", 0)),
}


def is_game(row: dict[str, Any]) -> bool:
    return model_of(row) in GAME_TASKS


def game_summary(row: dict[str, Any]) -> str | None:
    """The game's own measures as a phrase ("tracking error 8.8 mm, 81 % in band"); None
    for a task that is not a game or a game with none of its measures."""
    model = model_of(row)
    if model not in GAME_PHRASES:
        return None
    parts = [text.format(f"{value:.{digits}f}") for key, text, digits in GAME_PHRASES[model]
             if (value := measure_value(row, key)) is not None]
    return ", ".join(parts) or None


def game_outcome_text(row: dict[str, Any], failure_label: str | None = None) -> str | None:
    """A game's outcome line for its result card (None: not a game, the hold wording
    stays): done with its measures, or stopped early (a touch-down in a single-leg game)."""
    if not is_game(row):
        return None
    summary = game_summary(row)
    if row.get("outcome") == "complete":
        return f"✓ Done: {summary}" if summary else "✓ Done"
    why = failure_label or "Stopped early"
    return f"{why}: {summary}" if summary else why
