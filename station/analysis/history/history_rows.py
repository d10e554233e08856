"""What a row of an athlete's history means: its condition, its measures, its dates.

Rows are the store's `athlete_history` dicts (oldest first). Two trials are comparable
when their condition (stance, eyes, surface, task) is the same; an aborted trial is kept
in the table but measured nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from station.analysis.metrics.catalog import flatten

KEY_MEASURES = {
    "score": ("Score", ""),
    "mean_velocity_mm_s.total": ("COP velocity", "mm/s"),
    "ellipse95_area_mm2": ("Ellipse area", "mm²"),
    "time_to_failure_s": ("Time held", "s"),
}
CHARTED_MEASURES = ("score", "mean_velocity_mm_s.total", "ellipse95_area_mm2")


def aware(value: datetime | None) -> datetime | None:
    """A stored date as UTC-aware (SQLite hands them back naive)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return None if value is None else value.isoformat(timespec="seconds")


def condition_key(row: dict[str, Any]) -> str:
    """What makes two trials comparable: stance, eyes, surface, task."""
    task = row.get("task") or "hold"
    key = f"{row['stance']} · eyes {row['eyes']} · {row['surface']}"
    return key if task == "hold" else f"{key} · {task}"


def condition_label(row: dict[str, Any]) -> str:
    stance = {"single-left": "Left leg", "single-right": "Right leg", "double": "Both feet",
              "tandem": "Tandem"}.get(row["stance"], row["stance"])
    parts = [stance, "eyes closed" if row["eyes"] == "closed" else "eyes open"]
    if row["surface"] != "firm":
        parts.append(row["surface"])
    if (row.get("task") or "hold") != "hold":
        parts.append(row["task"])
    return ", ".join(parts)


def measure_value(row: dict[str, Any], key: str) -> float | None:
    """A measure of a history row: score and hold time are columns, the rest metrics."""
    if key == "score":
        value = row.get("score")
    elif key == "time_to_failure_s":
        value = row.get("time_to_failure_s")
        if value is None and row.get("outcome") == "complete":
            value = row.get("planned_duration_s")
    else:
        metrics = row.get("metrics") or {}
        value = flatten(metrics).get(key)
    if isinstance(value, int | float) and np.isfinite(value):
        return float(value)
    return None


def measured(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that count for a measure: every trial but the aborted ones."""
    return [r for r in rows if r["outcome"] != "aborted"]


def by_condition(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(condition_key(row), []).append(row)
    return out


def latest_by_condition(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {condition_key(row): row for row in measured(rows)}


def athlete_json(athlete: Any) -> dict[str, Any]:
    """The athlete as the history pages show them (no notes: those stay on the API)."""
    return {"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
            "dominant_leg": athlete.dominant_leg, "birth_year": athlete.birth_year}
