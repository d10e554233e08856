"""What a row of an athlete's history means: its condition, its measures, its dates.

Rows are the store's `athlete_history` dicts (oldest first). Two trials are comparable
when their condition (stance, eyes, surface, task) is the same; an aborted trial and an
invalidated one (Store.invalidate_trial: a physio said why it does not count) are kept
in the table but measured nowhere, and a failed trial the physio repeated at once (the
next trial of the session is the same condition) is superseded by its repeat: it counts
for no baseline, trend or "last test".

Each task is shown with its own measures (`TASK_MEASURES`): a hold by its sway, a hop by
its landing (station.analysis.metrics.landing), a push by the reaction to it
(station.analysis.metrics.perturbation). Keys are flattened metrics paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

import numpy as np

from station.analysis.metrics.catalog import flatten
from station.analysis.scoring import SCORE_LABELS, score_model

# key -> (label, unit): every measure a page shows (and a physio may set a target on)
KEY_MEASURES = {
    "score": ("Score", ""),
    "mean_velocity_mm_s.total": ("COP velocity", "mm/s"),
    "ellipse95_area_mm2": ("Ellipse area", "mm²"),
    "time_to_failure_s": ("Time held", "s"),
    "landing.tts_cop_s": ("Time to stabilization", "s"),
    "landing.tts_vertical_s": ("Vertical time to stabilization", "s"),
    "landing.peak_force_bw": ("Peak landing force", "BW"),
    "perturbation.peak_excursion_mm": ("Peak excursion", "mm"),
    "perturbation.recovery_time_s": ("Recovery time", "s"),
    # the biofeedback games (docs/metrics.md)
    "weight_shift.rms_error_mm": ("Tracking error (RMS)", "mm"),
    "weight_shift.time_in_band_pct": ("Time in the band", "%"),
    "limits_of_stability.max_excursion_pct": ("Maximum excursion", "%"),
    "limits_of_stability.directional_control_pct": ("Directional control", "%"),
    "limits_of_stability.reaction_time_s": ("Reaction time", "s"),
    "limits_of_stability.movement_velocity_mm_s": ("Movement velocity", "mm/s"),
    "maze.targets_reached_pct": ("Targets reached", "%"),
    "maze.time_per_target_s": ("Time per target", "s"),
    "toe_taps.taps_pct": ("Taps (of the beat)", "%"),
    "toe_taps.interval_cv": ("Rhythm variability (CV)", ""),
    "toe_taps.lost_control": ("Lost control", ""),
    "wobble.stability_index_deg.overall": ("Stability index", "°"),
    "wobble.zone_time_pct.0-5": ("Time inside 5°", "%"),
}
# per score model: the measures of its result card, in order (the score comes first)
TASK_MEASURES = {
    "hold": ("mean_velocity_mm_s.total", "ellipse95_area_mm2", "time_to_failure_s"),
    "hop": ("landing.tts_cop_s", "landing.tts_vertical_s", "landing.peak_force_bw",
            "time_to_failure_s"),
    "push": ("perturbation.peak_excursion_mm", "perturbation.recovery_time_s",
             "time_to_failure_s"),
    "weight_shift": ("weight_shift.rms_error_mm", "weight_shift.time_in_band_pct"),
    "limits_of_stability": ("limits_of_stability.max_excursion_pct",
                            "limits_of_stability.directional_control_pct",
                            "limits_of_stability.reaction_time_s",
                            "limits_of_stability.movement_velocity_mm_s"),
    "maze": ("maze.targets_reached_pct", "maze.time_per_target_s"),
    "toe_taps": ("toe_taps.taps_pct", "toe_taps.interval_cv", "toe_taps.lost_control",
                 "time_to_failure_s"),
    "wobble": ("wobble.stability_index_deg.overall", "wobble.zone_time_pct.0-5",
               "time_to_failure_s"),
}
# per score model: the measures charted over time, and the one left is compared with right on
CHARTED_BY_MODEL = {
    "hold": ("score", "mean_velocity_mm_s.total", "ellipse95_area_mm2"),
    "hop": ("score", "landing.tts_cop_s", "landing.peak_force_bw"),
    "push": ("score", "perturbation.peak_excursion_mm", "perturbation.recovery_time_s"),
    "weight_shift": ("score", "weight_shift.rms_error_mm", "weight_shift.time_in_band_pct"),
    "limits_of_stability": ("score", "limits_of_stability.max_excursion_pct",
                            "limits_of_stability.directional_control_pct"),
    "maze": ("score", "maze.targets_reached_pct", "maze.time_per_target_s"),
    "toe_taps": ("score", "toe_taps.taps_pct", "toe_taps.lost_control"),
    "wobble": ("score", "wobble.stability_index_deg.overall", "wobble.zone_time_pct.0-5"),
}
LEFT_RIGHT_MEASURE = {"hold": "mean_velocity_mm_s.total", "hop": "landing.tts_cop_s",
                      "wobble": "wobble.stability_index_deg.overall"}
CHARTED_MEASURES = CHARTED_BY_MODEL["hold"]  # a hold's (the team overview's asymmetry)
HELD = "time_to_failure_s"
STANCE_LABELS = {"single-left": "Left leg", "single-right": "Right leg", "double": "Both feet",
                 "tandem": "Tandem"}


def aware(value: datetime | None) -> datetime | None:
    """A stored date as UTC-aware (SQLite hands them back naive)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return None if value is None else value.isoformat(timespec="seconds")


def local_day(value: datetime) -> date:
    """The station's calendar day of a stored date (its own time zone: the club's)."""
    return aware(value).astimezone().date()


def task_of(row: dict[str, Any]) -> str:
    return row.get("task") or "hold"


def model_of(row: dict[str, Any]) -> str:
    """The score model (and so the measures) of a row's task: hold, hop or push."""
    return score_model(task_of(row))


def task_measures(row: dict[str, Any]) -> tuple[str, ...]:
    """The row's own measures, the score first."""
    return ("score", *TASK_MEASURES[model_of(row)])


def score_label(row: dict[str, Any]) -> str:
    return SCORE_LABELS[model_of(row)]


def _stance(row: dict[str, Any]) -> str:
    return str(row["stance"]).replace("_", "-")


def condition_key(row: dict[str, Any]) -> str:
    """What makes two trials comparable: stance, eyes, surface, task."""
    task = task_of(row)
    key = f"{row['stance']} · eyes {row['eyes']} · {row['surface']}"
    return key if task == "hold" else f"{key} · {task}"


def condition_parts(key: str) -> dict[str, str]:
    """A condition key back into stance, eyes, surface and task (condition_key's inverse)."""
    parts = key.split(" · ")
    if len(parts) not in (3, 4) or not parts[1].startswith("eyes "):
        raise ValueError(f"{key!r} is not a condition key (stance · eyes E · surface[ · task])")
    return {"stance": parts[0], "eyes": parts[1].removeprefix("eyes "), "surface": parts[2],
            "task": parts[3] if len(parts) == 4 else "hold"}


def condition_label(row: dict[str, Any]) -> str:
    stance = STANCE_LABELS.get(_stance(row), row["stance"])
    parts = [stance, "eyes closed" if row["eyes"] == "closed" else "eyes open"]
    if row["surface"] != "firm":
        parts.append(row["surface"])
    if task_of(row) != "hold" and row["task"] not in parts:  # a wobble task on the wobble
        parts.append(row["task"].replace("_", " "))  # "weight shift", not "weight_shift"
    return ", ".join(parts)


def key_label(key: str) -> str:
    """The label of a condition given by its key ("Left leg, eyes open")."""
    try:
        return condition_label(condition_parts(key))
    except ValueError:
        return key


def mirror_key(key: str) -> str | None:
    """The same condition on the other leg; None for a two-footed one."""
    for side, other in (("single-left", "single-right"), ("single_left", "single_right")):
        if key.startswith(side):
            return other + key[len(side):]
        if key.startswith(other):
            return side + key[len(other):]
    return None


def measure_value(row: dict[str, Any], key: str) -> float | None:
    """A measure of a history row: score and hold time are columns, the rest metrics."""
    if key == "score":
        value = row.get("score")
    elif key == HELD:
        value = row.get("time_to_failure_s")
        if value is None and row.get("outcome") == "complete":
            value = row.get("planned_duration_s")
    else:
        metrics = row.get("metrics") or {}
        value = flatten(metrics).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value):
        return float(value)
    return None


def held(row: dict[str, Any]) -> dict[str, Any]:
    """Time held against the planned duration: {"completed", "held_s", "planned_s"}."""
    planned = row.get("planned_duration_s")
    return {"completed": row.get("outcome") == "complete", "held_s": measure_value(row, HELD),
            "planned_s": None if planned is None else float(planned)}


def is_invalid(row: dict[str, Any]) -> bool:
    """Whether a physio invalidated the trial (it stays listed, with why, but counts nowhere)."""
    return bool(row.get("invalid"))


def measured(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that count for a measure: every trial but the aborted and invalidated ones."""
    return [r for r in rows if r["outcome"] != "aborted" and not is_invalid(r)]


def invalid_json(row: dict[str, Any]) -> dict[str, Any] | None:
    """An invalidated trial's why, who and when, and the line the history shows
    ("invalidated by physio1 on 2025-01-20: stepped off early"); None for a valid trial."""
    if not is_invalid(row):
        return None
    by, at, reason = row.get("invalidated_by"), aware(row.get("invalidated_at")), row.get(
        "invalid_reason")
    text = "invalidated" + (f" by {by}" if by else "")
    text += f" on {local_day(at).isoformat()}" if at else ""
    return {"reason": reason, "by": by, "at": iso(at),
            "text": text + (f": {reason}" if reason else "")}


def superseded_uids(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Failed trials repeated at once: the session's next measured trial is the same
    condition (the physio's "again"), so the repeat stands for them."""
    by_session: dict[Any, list[dict[str, Any]]] = {}
    for row in measured(rows):
        by_session.setdefault(row.get("session_uid"), []).append(row)
    out = set()
    for session in by_session.values():
        for row, following in pairwise(session):
            if row["outcome"] == "failed" and condition_key(following) == condition_key(row):
                out.add(row["uid"])
    return out


def counted(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measured rows that stand for a result: no aborted trial, no superseded one."""
    done = measured(rows)
    gone = superseded_uids(done)
    return [r for r in done if r["uid"] not in gone]


def by_condition(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(condition_key(row), []).append(row)
    return out


def latest_by_condition(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {condition_key(row): row for row in counted(rows)}


def measure_json(key: str) -> dict[str, Any]:
    """A measure's key, label, unit and the decimals its values are shown with."""
    label, unit = KEY_MEASURES.get(key, (key, ""))
    digits = 0 if key == "score" or unit == "mm²" else 1
    return {"key": key, "label": label, "unit": unit, "digits": digits}


def athlete_json(athlete: Any) -> dict[str, Any]:
    """The athlete as the history pages show them (no notes: those stay on the API), with
    the badges the pages show: archived (off the picker and the team) and demo."""
    return {"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
            "dominant_leg": athlete.dominant_leg, "birth_year": athlete.birth_year,
            "archived": is_archived(athlete), "demo": bool(getattr(athlete, "demo", False)),
            "sex": getattr(athlete, "sex", None)}


def is_archived(athlete: Any) -> bool:
    """Archived (Store.archive_athlete): off the kiosk picker and the team, history kept."""
    return getattr(athlete, "archived_at", None) is not None
