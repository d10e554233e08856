"""The coach's team overview: per active athlete the last test, the latest score and trend in
one chosen condition with the latest score's change since the baseline in words (a decline
flagged only when real, beyond measurement noise), the L/R asymmetry flag (only when real
too) and whether testing was missed; and the
team's latest results per athlete and condition (the team CSV).

A card shows one condition for everyone, so two cards (or one card a minute apart) never
compare a Romberg score with a single-leg one. The default is the battery's key trial
(`key_trial` in the protocol file: the left single-leg hold of the baseline battery), or
the condition tested most when nobody in view has done that one; the coach can pick any
other (`condition`). One function for the /coach page and GET /api/team, so both show the
same rows with the same field names (documented in docs/web.md). Archived athletes are left
out unless asked for (`include_archived`: the page's "show archived"); an invalidated trial
counts for no card (history_rows.counted).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from station.analysis.history.baseline import baselines
from station.analysis.history.comparison import change_against
from station.analysis.history.history_rows import (
    HELD,
    KEY_MEASURES,
    aware,
    by_condition,
    condition_key,
    condition_label,
    condition_parts,
    counted,
    is_archived,
    iso,
    key_label,
    measure_value,
    mirror_key,
)
from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.store_reads import HistoryStore
from station.protocols import BATTERY_KIND, Protocol, load_protocols
from station.wire import json_safe

ASYMMETRY_MEASURE = "mean_velocity_mm_s.total"  # sway speed: the measure L/R is judged on
# below this L/R index the coach sees a flag: 85 % is the ASI 16 % threshold (85.2 %) of
# station.norms.asymmetry (Nolff et al. 2023), rounded; and only beyond measurement noise
ASYMMETRY_LSI_PCT = 85.0
MISSED_DAYS_DEFAULT = 14
TREND_N = 6  # the trend is the slope over this many last scores
SPARK_N = 12  # scores in the sparkline
MEASURE_COLUMNS = tuple(k for k in KEY_MEASURES if k not in ("score", HELD))
TEAM_CSV_FIELDS = (
    "athlete", "team", "condition", "condition_key", "task", "started_at", "protocol",
    "outcome", "planned_duration_s", "time_held_s", "score", *MEASURE_COLUMNS,
)


def trend_slope(scores: list[float], n: int = TREND_N) -> float | None:
    """Least-squares slope of the last `n` scores, in points per test (None below 3)."""
    if len(scores) < 3:
        return None
    y = np.asarray(scores[-n:], dtype=float)
    return float(np.polyfit(np.arange(len(y)), y, 1)[0])


def worst_lsi(history: list[dict[str, Any]], measure: str = ASYMMETRY_MEASURE) -> float | None:
    """The lowest L/R index (%) of `measure` over the athlete's left/right pairs."""
    lsis = [m["lsi_pct"] for pair in symmetry_rows(history) for m in pair["measures"]
            if m["measure"] == measure and m["lsi_pct"] is not None]
    return min(lsis) if lsis else None


def real_asymmetry(history: list[dict[str, Any]], lsi_threshold_pct: float,
                   measure: str = ASYMMETRY_MEASURE) -> bool:
    """A pair below the L/R threshold whose difference is beyond measurement noise (a pair
    within noise is never flagged, station.norms.asymmetry)."""
    return any(m["lsi_pct"] is not None and m["lsi_pct"] < lsi_threshold_pct
               and not m["within_noise"]
               for pair in symmetry_rows(history) for m in pair["measures"]
               if m["measure"] == measure)


def key_condition(protocols: Mapping[str, Protocol]) -> str | None:
    """The condition key of the first battery's key trial (None: no battery names one)."""
    for protocol in protocols.values():
        if protocol.kind == BATTERY_KIND and protocol.key_trial:
            spec = protocol.trial(protocol.key_trial)
            return condition_key({"stance": spec.stance, "eyes": spec.eyes,
                                  "surface": spec.surface, "task": spec.task})
    return None


def choose_condition(asked: str | None, tested: Counter[str],
                     protocols: Mapping[str, Protocol]) -> dict[str, Any]:
    """{"key", "label", "why"}: the coach's choice, else the battery's key condition when
    anyone in view tested it, else the condition tested most (key None: nothing tested).
    ValueError for a choice that is not a condition key."""
    if asked:
        condition_parts(asked)  # refuses what is not a condition key
        return {"key": asked, "label": key_label(asked), "why": "chosen"}
    key = key_condition(protocols)
    if key is not None and (tested[key] or not tested):
        return {"key": key, "label": key_label(key), "why": "the battery's key condition"}
    if tested:
        key = tested.most_common(1)[0][0]
        return {"key": key, "label": key_label(key), "why": "the condition tested most"}
    return {"key": None, "label": None, "why": "nothing tested yet"}


def score_since_baseline(history: list[dict[str, Any]], condition: str | None,
                         latest: dict[str, Any] | None) -> dict[str, Any] | None:
    """The latest score in the condition against its baseline, judged as every page judges
    a change (comparison.change_against: the verdict in words, a decline only when real);
    None without a baseline to compare with, or while the latest is part of it."""
    base = baselines(history).get(condition or "") if latest is not None else None
    if base is None or latest is None or latest.get("session_uid") == base.session_uid:
        return None
    return change_against(latest.get("score"), base.value("score"), "score",
                          str(latest["stance"]))


def athlete_row(athlete: Any, history: list[dict[str, Any]], *, condition: str | None,
                today: date, lsi_threshold_pct: float, missed_days: int) -> dict[str, Any]:
    done = counted(history)
    last = done[-1] if done else None
    in_condition = [r for r in done if condition_key(r) == condition]
    latest = in_condition[-1] if in_condition else None
    scores = [float(r["score"]) for r in in_condition if r.get("score") is not None]
    mirror = mirror_key(condition) if condition else None
    other = next((r for r in reversed(done) if condition_key(r) == mirror), None)
    lsi = worst_lsi(history)
    last_at = aware(last["started_at"]) if last else None
    days = (today - last_at.date()).days if last_at else None
    slope = trend_slope(scores)
    since = score_since_baseline(history, condition, latest)
    return {
        "uid": athlete.uid,
        "name": athlete.name,
        "team": athlete.team,
        "archived": is_archived(athlete),
        "demo": bool(getattr(athlete, "demo", False)),
        "last_test": last_at,
        "days_since_last_test": days,
        "missed": days is None or days > missed_days,
        "latest_score": latest.get("score") if latest else None,
        "latest_in_condition": aware(latest["started_at"]) if latest else None,
        "other_leg": None if mirror is None else {
            "side": "R" if "right" in mirror else "L",
            "score": other.get("score") if other else None},
        "trend_points_per_test": None if slope is None else round(slope, 3),
        "score_vs_baseline": since,
        "decline": bool(since and since["verdict"] == "worse"),
        "velocity_lsi_pct": lsi,
        "asymmetry": lsi is not None and real_asymmetry(history, lsi_threshold_pct),
        "n_trials": len(done),
        "n_in_condition": len(in_condition),
        "spark": [round(v, 1) for v in scores[-SPARK_N:]],
    }


def team_overview(store: HistoryStore, *, team: str | None = None,
                  condition: str | None = None,
                  lsi_threshold_pct: float = ASYMMETRY_LSI_PCT,
                  missed_days: int = MISSED_DAYS_DEFAULT,
                  today: date | None = None,
                  include_archived: bool = False) -> dict[str, Any]:
    """One row per active athlete (of `team`, when given; archived ones too with
    `include_archived`) in one condition (`condition`, else the default: choose_condition);
    `teams` lists every listed athlete's team, whatever the filter, and `conditions` every
    condition the athletes in view tested, for the page's choices; `n_archived` says how
    many archived athletes there are (shown or not). ValueError for a `condition` that is
    not a condition key."""
    today = today or datetime.now(UTC).date()
    listed = store.list_athletes(active_only=True)  # active and not archived
    archived = [a for a in store.list_athletes() if getattr(a, "active", True) and is_archived(a)]
    if include_archived:
        listed = sorted([*listed, *archived], key=lambda a: a.name)
    shown = [a for a in listed if team is None or a.team == team]
    histories = {a.uid: store.athlete_history(a.uid, metrics=True) for a in shown}
    tested = Counter(condition_key(r) for h in histories.values() for r in counted(h))
    chosen = choose_condition(condition, tested, load_protocols())
    rows = [
        athlete_row(athlete, histories[athlete.uid], condition=chosen["key"], today=today,
                    lsi_threshold_pct=lsi_threshold_pct, missed_days=missed_days)
        for athlete in shown
    ]
    teams = sorted({a.team for a in listed if a.team})
    return json_safe({
        "athletes": rows,
        "teams": teams,
        "condition": chosen,
        "conditions": [{"key": k, "label": key_label(k), "n": n}
                       for k, n in sorted(tested.items(), key=lambda kv: -kv[1])],
        "asymmetry_measure": ASYMMETRY_MEASURE,
        "lsi_threshold_pct": float(lsi_threshold_pct),
        "trend_last_n": TREND_N,
        "missed_days": missed_days,
        "include_archived": include_archived,
        "n_archived": len(archived),
    })


def team_latest(store: HistoryStore, *, team: str | None = None) -> list[dict[str, Any]]:
    """The latest counted result per active athlete (of `team`) and condition, one dict of
    TEAM_CSV_FIELDS each, by athlete name then condition."""
    out = []
    athletes = [a for a in store.list_athletes(active_only=True) if team is None or a.team == team]
    for athlete in sorted(athletes, key=lambda a: a.name):
        latest = {k: g[-1] for k, g in by_condition(counted(store.athlete_history(
            athlete.uid, metrics=True))).items()}
        for key in sorted(latest):
            row = latest[key]
            out.append({
                "athlete": athlete.name, "team": athlete.team, "condition": condition_label(row),
                "condition_key": key, "task": row.get("task") or "hold",
                "started_at": iso(row["started_at"]), "protocol": row.get("protocol"),
                "outcome": row["outcome"], "planned_duration_s": row.get("planned_duration_s"),
                "time_held_s": measure_value(row, HELD), "score": row.get("score"),
                **{k: measure_value(row, k) for k in MEASURE_COLUMNS},
            })
    return json_safe(out)
