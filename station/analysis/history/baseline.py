"""The athlete's baseline per condition: the assessment every change is measured from.

Until a physio can mark an assessment as the baseline, the read-model picks it: per
condition, the first session of a battery protocol (kind "battery") that tested the
condition, or the first session that tested it at all when no battery did. Its repeats
of the condition make the baseline by the protocol's rule (`baseline` in the protocol
file): "best" is the repeat with the highest score, "mean" the mean of each measure over
the repeats. A failed trial the physio repeated at once is never part of it
(history_rows.superseded_uids), nor an aborted one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from station.analysis.history.game_summary import is_game
from station.analysis.history.history_rows import (
    HELD,
    by_condition,
    counted,
    iso,
    measure_value,
    task_measures,
)
from station.protocols import BATTERY_KIND, Protocol, load_protocols


@dataclass(frozen=True)
class Baseline:
    """The baseline of one condition: its session, the trials it is made of, the rule."""

    condition: str
    session_uid: Any
    rows: tuple[dict[str, Any], ...]
    rule: str  # "best" or "mean"
    protocol: str | None

    @property
    def uids(self) -> set[str]:
        return {r["uid"] for r in self.rows}

    @property
    def started_at(self) -> Any:
        return self.rows[0]["started_at"]

    @property
    def best(self) -> dict[str, Any]:
        """The repeat with the highest score (the first of equals; unscored count lowest)."""
        return max(self.rows, key=lambda r: -np.inf if r.get("score") is None else r["score"])

    def value(self, measure: str) -> float | None:
        """The baseline value of a measure by the rule (None when no repeat has one)."""
        if self.rule == "best":
            return measure_value(self.best, measure)
        values = [v for r in self.rows if (v := measure_value(r, measure)) is not None]
        return float(np.mean(values)) if values else None

    @property
    def planned_s(self) -> float | None:
        """The planned duration the baseline's time held belongs to (None when mixed)."""
        rows = (self.best,) if self.rule == "best" else self.rows
        planned = {r.get("planned_duration_s") for r in rows}
        return float(planned.pop()) if len(planned) == 1 and None not in planned else None

    @property
    def completed(self) -> bool:
        rows = (self.best,) if self.rule == "best" else self.rows
        return all(r.get("outcome") == "complete" for r in rows)

    def rule_text(self) -> str:
        """How the baseline was made, in words: "single trial", "best of 3", "mean of 2"."""
        n = len(self.rows)
        return "single trial" if n == 1 else f"{self.rule} of {n}"

    def to_json(self) -> dict[str, Any]:
        """When, by which rule and from which trials; each own measure's baseline value."""
        return {"date": iso(self.started_at), "rule": self.rule_text(),
                "session_uid": self.session_uid, "protocol": self.protocol,
                "trials": [r["uid"] for r in self.rows],
                "values": {m: self.value(m) for m in task_measures(self.rows[0])},
                "held": {"completed": self.completed, "held_s": self.value(HELD),
                         "planned_s": self.planned_s}}


def _is_battery(row: dict[str, Any], protocols: Mapping[str, Protocol]) -> bool:
    """A trial of a battery's assessment (a training session's trials of the battery's
    protocol are training, not the baseline assessment)."""
    if row.get("session_kind") == "training":
        return False
    protocol = protocols.get(row.get("protocol") or "")
    return protocol is not None and protocol.kind == BATTERY_KIND


def baseline_of(condition: str, rows: list[dict[str, Any]],
                protocols: Mapping[str, Protocol]) -> Baseline | None:
    """The baseline of one condition from its counted rows (oldest first; history_rows.counted
    over the whole history, since "repeated at once" looks at the session's next trial)."""
    if not rows:
        return None
    # an assessment, not a training session, is the baseline (training only: its first); a
    # game is a training task: its first session, wherever it was played
    pool = rows if is_game(rows[0]) else (
        [r for r in rows if r.get("session_kind") != "training"] or rows)
    first = next((r for r in pool if _is_battery(r, protocols)), pool[0])
    repeats = tuple(r for r in rows if r.get("session_uid") == first.get("session_uid"))
    protocol = protocols.get(first.get("protocol") or "")
    return Baseline(condition=condition, session_uid=first.get("session_uid"), rows=repeats,
                    rule=protocol.baseline if protocol is not None else "best",
                    protocol=first.get("protocol"))


def baselines(rows: list[dict[str, Any]],
              protocols: Mapping[str, Protocol] | None = None) -> dict[str, Baseline]:
    """Per condition key, its baseline; `rows` is the athlete's whole history, oldest first
    (protocols: the station's, read when not given)."""
    protocols = load_protocols() if protocols is None else protocols
    out = {}
    for key, group in by_condition(counted(rows)).items():
        base = baseline_of(key, group, protocols)
        if base is not None:
            out[key] = base
    return out
