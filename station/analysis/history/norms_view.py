"""What the norms say about a trial and a condition: the result card's percentile band,
the trend chart's normal band, the report's norms section.

A trial is compared with a norm only when station.norms.matching accepts its protocol
(stance, surface, eyes, length, filter) and the athlete's age is known; otherwise each
measure says why not. Age is the trial's calendar year minus the birth year (so it may read
one year high before the birthday: the age groups are decades wide).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from station.analysis.history.history_rows import (
    condition_label,
    counted,
    iso,
    measure_json,
    task_measures,
)
from station.norms import load_tables
from station.norms.matching import (
    TYPICAL_HIGH,
    TYPICAL_LOW,
    TrialConditions,
    norm_measures,
    norm_result,
    norms_for,
)
from station.norms.reliable_change import MIN_OWN_DF, Z95
from station.wire import json_safe

BOARD = "this board"


def athlete_age(athlete: Any, when: datetime | date | None) -> float | None:
    """Age in years at `when` from the birth year (None without one)."""
    year = getattr(athlete, "birth_year", None)
    if year is None or when is None:
        return None
    return float(when.year - int(year))


def trial_conditions(row: dict[str, Any], athlete: Any) -> TrialConditions:
    """The test a history row is (its analysed length and filter from its metrics)."""
    metrics = row.get("metrics") or {}
    duration = metrics.get("duration_s", row.get("planned_duration_s"))
    return TrialConditions(
        stance=str(row["stance"]), surface=str(row["surface"]), eyes=str(row["eyes"]),
        duration_s=None if duration is None else float(duration),
        filter=str(metrics.get("filter", "butter10")), device=BOARD,
        age=athlete_age(athlete, row.get("started_at")), sex=getattr(athlete, "sex", None))


def _value(row: dict[str, Any], key: str) -> float | None:
    node: Any = row.get("metrics") or {}
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def trial_norms(row: dict[str, Any], athlete: Any) -> dict[str, Any]:
    """{"test", "measures": [...]} for the row's own measures that norms describe: each a
    station.norms.matching.norm_result (percentile and band, or the reason there is none)."""
    test = trial_conditions(row, athlete)
    known = set(norm_measures())
    measures = [{**measure_json(m), **norm_result(m, _value(row, m), test)}
                for m in task_measures(row) if m in known]
    out: dict[str, Any] = {"test": test.text(), "measures": measures}
    if not measures:
        out["reason"] = f"no norms for this task ({row.get('task') or 'hold'})"
    return out


def condition_bands(rows: list[dict[str, Any]], athlete: Any,
                    now: datetime | date) -> dict[str, dict[str, Any]]:
    """Per measure of one condition's rows (oldest first): the norm's typical band (10th to
    90th percentile, the median) for the athlete's age now and the condition's latest test,
    or the reason there is none. For the trend charts' band behind the line."""
    done = counted(rows)
    if not done:
        return {}
    latest = done[-1]
    test = trial_conditions(latest, athlete)
    test = replace(test, age=athlete_age(athlete, now))
    out: dict[str, dict[str, Any]] = {}
    for measure in task_measures(latest):
        if measure not in norm_measures():
            continue
        match = norms_for(measure, test)
        if not match.ok or match.table is None or match.group is None:
            out[measure] = {"reason": match.why or match.reason}
            continue
        p = match.group.points
        out[measure] = {
            "lo": p[int(TYPICAL_LOW)], "hi": p[int(TYPICAL_HIGH)], "median": p[50],
            "norm_id": match.table.id, "group_label": match.group.label,
            "text": f"typical for {match.group.label}: {TYPICAL_LOW:g}th-{TYPICAL_HIGH:g}th "
                    f"percentile, {match.table.protocol.text()} (Santos & Duarte 2016)",
        }
    return out


def report_norms(rows: list[dict[str, Any]], athlete: Any) -> dict[str, Any]:
    """The printed report's norms section (web/templates/_report_norms.html): per condition
    tested, the latest trial's percentiles or why there are none; the sources shipped and the
    caveats; how reliable change is decided."""
    latest: dict[str, dict[str, Any]] = {}
    for row in counted(rows):
        latest[condition_label(row)] = row
    conditions = []
    for label, row in latest.items():
        norms = trial_norms(row, athlete)
        if norms["measures"]:
            conditions.append({"label": label, "date": iso(row["started_at"]),
                               "test": norms["test"], "measures": norms["measures"]})
    sources = {}
    for t in load_tables():
        sources.setdefault(t.source, {"source": t.source, "licence": t.licence,
                                      "population": t.population})
    return json_safe({
        "conditions": conditions,
        "sources": list(sources.values()),
        "caveats": [
            "Norms are double-leg stance only (firm and foam, eyes open and closed), 60 s on a "
            "laboratory force plate; this board and shorter tests differ: velocity is compared "
            "for tests of 30 s or more, ellipse area only for 55-65 s tests.",
            "Foam percentiles hold for the data set's own foam pad, not for any foam.",
            "Both sexes together; age groups as the data set defines them (18-59, 60-86).",
            "No single-leg norms: no primary source with its table was found to cite.",
        ],
        "reliable_change": (
            f"A change is real only beyond the 95 % minimal detectable change, MDC95 = {Z95:g} x "
            "SEM x sqrt(1/k + 1/m) for means of k and m trials; the SEM is the athlete's own "
            f"trial-to-trial SD once their repeats give {MIN_OWN_DF} degrees of freedom, else "
            "the data set's within-person error for double-leg stance, else a documented "
            "assumption."),
    })
