"""Which measurement error a history comparison uses: the athlete's own, else the protocol's.

The reliable-change rule (station.norms.reliable_change) is best fed by the athlete's own
trial-to-trial SD, from their repeats of the condition within sessions; until they have
enough, the protocol's error (the BDS data set for double-leg stance, else a documented
assumption), and when neither exists the comparison falls back to the scoring MDC table.
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.history_rows import condition_key, counted, measure_value
from station.norms.reliable_change import MeasurementError, error_for, own_error


def error_for_row(rows: list[dict[str, Any]], me: dict[str, Any],
                  measure: str) -> MeasurementError | None:
    """The error of `measure` for the condition of `me`: own repeats first (rows: the
    athlete's history), else the protocol's; None leaves the scoring table's MDC."""
    key = condition_key(me)
    sessions: dict[Any, list[float]] = {}
    for row in counted(rows):
        if condition_key(row) == key and (v := measure_value(row, measure)) is not None:
            sessions.setdefault(row.get("session_uid"), []).append(v)
    own = own_error(measure, sessions.values())
    if own is not None:
        return own
    return error_for(measure, str(me.get("stance") or ""), me.get("surface"), me.get("eyes"))


def trials_averaged(rule: str, n_rows: int) -> int:
    """How many trials a baseline value averages: its repeats for "mean", one for "best"."""
    return max(n_rows, 1) if rule == "mean" else 1
