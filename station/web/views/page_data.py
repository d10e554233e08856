"""View-models of the pages (history charts, team overview, result card, report), from the store.

The pages get their data embedded in the HTML (one request, nothing to wait
for on a phone) and the same dicts are served as JSON for the kiosk's result
card. Long histories are decimated on the server: a chart gets at most
`MAX_POINTS` points per series (bucket means, with the bucket's min/max kept
so a bad day still shows), whatever the number of trials.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from flask import Flask, abort, jsonify

from station.analysis.metrics.catalog import direction, flatten
from station.analysis.metrics.symmetry import limb_symmetry_index
from station.analysis.scoring import compare_to_baseline, mdc_value, target_progress
from station.calibration.file import calibration_from_dict
from station.geometry import cop_from_forces
from station.protocols import load_protocols
from station.store import StoreError
from station.web import auth
from station.web.app import context

MAX_POINTS = 200
KEY_MEASURES = {
    "score": ("Score", ""),
    "mean_velocity_mm_s.total": ("COP velocity", "mm/s"),
    "ellipse95_area_mm2": ("Ellipse area", "mm²"),
    "time_to_failure_s": ("Time held", "s"),
}
ASYMMETRY_MEASURE = "mean_velocity_mm_s.total"  # sway speed: the measure L/R is judged on
ASYMMETRY_LSI_PCT = 85.0  # below this L/R index the coach sees a flag (a common RTS cut-off: 85-90)
MISSED_DAYS_DEFAULT = 14


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    value = _aware(value)
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


def decimate(t: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> dict[str, list]:
    """Bucket means (with min/max) so a chart never carries more than max_points points."""
    if len(t) <= max_points:
        return {"t": t.tolist(), "y": y.tolist(), "lo": y.tolist(), "hi": y.tolist()}
    edges = np.linspace(0, len(t), max_points + 1).astype(int)
    starts = edges[:-1]
    counts = np.diff(edges)
    mean = np.add.reduceat(y, starts) / counts
    tm = np.add.reduceat(t, starts) / counts
    return {
        "t": np.round(tm, 0).tolist(),
        "y": np.round(mean, 3).tolist(),
        "lo": np.minimum.reduceat(y, starts).tolist(),
        "hi": np.maximum.reduceat(y, starts).tolist(),
    }


def _history(athlete_uid: str) -> list[dict[str, Any]]:
    return context().store.athlete_history(athlete_uid, metrics=True)


def history_view(athlete_uid: str, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Trend series per condition and measure (decimated), the trial table (newest first)."""
    store = context().store
    athlete = store.get_athlete(athlete_uid)
    rows = _history(athlete_uid) if rows is None else rows
    by_condition: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_condition.setdefault(condition_key(row), []).append(row)
    series: dict[str, dict[str, Any]] = {}
    for key, group in by_condition.items():
        done = [r for r in group if r["outcome"] != "aborted"]
        entry: dict[str, Any] = {"label": condition_label(group[0]), "n": len(done),
                                 "stance": group[0]["stance"], "measures": {}}
        for measure in ("score", "mean_velocity_mm_s.total", "ellipse95_area_mm2"):
            pts = [(_aware(r["started_at"]).timestamp(), measure_value(r, measure)) for r in done]
            pts = [(t, v) for t, v in pts if v is not None]
            if pts:
                arr = np.asarray(pts, dtype=float)
                entry["measures"][measure] = decimate(arr[:, 0], arr[:, 1])
        series[key] = entry
    table = [
        {
            "uid": r["uid"],
            "started_at": _iso(r["started_at"]),
            "condition": condition_label(r),
            "protocol": r.get("protocol"),
            "outcome": r["outcome"],
            "score": r.get("score"),
            "velocity": measure_value(r, "mean_velocity_mm_s.total"),
            "ellipse": measure_value(r, "ellipse95_area_mm2"),
            "held_s": measure_value(r, "time_to_failure_s"),
            "has_raw": bool(r.get("has_raw")),
            "clock_synced": r.get("clock_synced") is not False,
        }
        for r in reversed(rows[-100:])
    ]
    return {
        "athlete": athlete_json(athlete),
        "n_trials": len(rows),
        "series": series,
        "symmetry": symmetry_rows(rows),
        "trials": table,
        "targets": targets_view(athlete_uid, rows),
        "sessions": sessions_view(athlete_uid),
        "measures": {k: {"label": v[0], "unit": v[1]} for k, v in KEY_MEASURES.items()},
    }


def athlete_json(athlete: Any) -> dict[str, Any]:
    return {"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
            "dominant_leg": athlete.dominant_leg, "birth_year": athlete.birth_year}


def _mirror(stance: str) -> str | None:
    return {"single-left": "single-right", "single-right": "single-left"}.get(stance)


def _latest_by_condition(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["outcome"] != "aborted":
            latest[condition_key(row)] = row
    return latest


def symmetry_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Left against right, latest trial of each single-leg condition pair."""
    latest = _latest_by_condition(rows)
    out = []
    for key, left in latest.items():
        if left["stance"] != "single-left":
            continue
        right_key = condition_key({**left, "stance": "single-right"})
        right = latest.get(right_key)
        if right is None:
            continue
        label = condition_label({**left, "stance": "double"}).replace("Both feet, ", "")
        measures = []
        for measure in ("score", "mean_velocity_mm_s.total", "ellipse95_area_mm2"):
            lv, rv = measure_value(left, measure), measure_value(right, measure)
            hib = True if measure == "score" else direction(measure)
            lsi = None
            if lv is not None and rv is not None:
                lsi = limb_symmetry_index(lv, rv, higher_is_better=hib)
            measures.append({"measure": measure, "label": KEY_MEASURES[measure][0],
                             "unit": KEY_MEASURES[measure][1], "left": lv, "right": rv,
                             "lsi_pct": None if lsi is None else round(lsi, 1)})
        out.append({"condition": label, "key": key, "measures": measures})
    return out


def sessions_view(athlete_uid: str) -> list[dict[str, Any]]:
    sessions = context().store.list_sessions(athlete_uid)
    return [
        {"uid": s.uid, "started_at": _iso(s.started_at), "protocol": s.protocol,
         "stiffness": s.stiffness, "soreness": s.soreness, "sleep_hours": s.sleep_hours,
         "notes": s.notes}
        for s in reversed(sessions[-50:])
    ]


def _baseline_row(rows: list[dict[str, Any]], condition: str | None) -> dict[str, Any] | None:
    for row in rows:
        if row["outcome"] != "aborted" and (condition is None or condition_key(row) == condition):
            return row
    return None


def targets_view(athlete_uid: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its baseline (first trial of its condition), latest value and progress;
    `applies_to` is the condition used (a target without one follows the last-tested)."""
    out = []
    done = [r for r in rows if r["outcome"] != "aborted"]
    for target in context().store.list_targets(athlete_uid):
        # a target for "any condition" follows the condition tested last: baseline and
        # current value must come from the same stance/eyes/surface to be comparable
        condition = target.condition or (condition_key(done[-1]) if done else None)
        cond_rows = [r for r in rows if condition_key(r) == condition]
        base = _baseline_row(cond_rows, None)
        base_value = measure_value(base, target.measure) if base else None
        current = None
        for row in reversed(cond_rows):
            if row["outcome"] != "aborted":
                current = measure_value(row, target.measure)
                if current is not None:
                    break
        item: dict[str, Any] = {
            "uid": target.uid, "measure": target.measure,
            "label": KEY_MEASURES.get(target.measure, (target.measure, ""))[0],
            "unit": KEY_MEASURES.get(target.measure, ("", ""))[1],
            "condition": target.condition, "value": target.value, "direction": target.direction,
            "applies_to": condition_label(cond_rows[0]) if cond_rows else None,
            "due_date": target.due_date.isoformat() if target.due_date else None,
            "notes": target.notes, "baseline": base_value, "current": current,
            "fraction": None, "on_track": None, "achieved": None, "days_left": None,
        }
        set_on = (_aware(target.created_at) or datetime.now(UTC)).date()
        if None not in (base_value, current) and target.due_date and target.due_date > set_on:
            try:
                progress = target_progress(target.measure, base_value, target.value, current,
                                           set_on, target.due_date)
            except ValueError as exc:
                item["problem"] = str(exc)
            else:
                item.update(fraction=round(progress.fraction_achieved, 3),
                            on_track=progress.on_track, achieved=progress.achieved,
                            days_left=progress.days_left)
        out.append(item)
    return out


def _compare(current: float | None, reference: float | None, measure: str,
             stance: str) -> dict[str, Any] | None:
    if current is None or reference is None:
        return None
    hib = True if measure in ("score", "time_to_failure_s") else direction(measure)
    mdc = mdc_value(measure, reference, stance) if measure not in ("score",) else None
    if mdc is None or not mdc > 0:
        change = current - reference
        return {"reference": reference, "change": round(change, 3), "mdc": None,
                "verdict": None if change == 0 else (
                    "improved" if (change > 0) == bool(hib) else "worse")}
    cmp = compare_to_baseline(current, reference, mdc, higher_is_better=hib)
    return {"reference": reference, "change": round(cmp.change, 3), "mdc": round(mdc, 3),
            "verdict": cmp.verdict}


def result_card(trial_uid: str) -> dict[str, Any]:
    """A finished trial with its change against the athlete's baseline and previous test."""
    store = context().store
    trial = store.load_trial(trial_uid, with_raw=False)
    rows = store.athlete_history(trial.athlete_uid, metrics=True)
    me = next(r for r in rows if r["uid"] == trial_uid)
    same = [r for r in rows if condition_key(r) == condition_key(me) and r["outcome"] != "aborted"]
    index = next(i for i, r in enumerate(same) if r["uid"] == trial_uid) if me in same else None
    baseline = same[0] if same and same[0]["uid"] != trial_uid else None
    previous = same[index - 1] if index else None
    measures = []
    for key, (label, unit) in KEY_MEASURES.items():
        value = measure_value(me, key)
        measures.append({
            "key": key, "label": label, "unit": unit, "value": value,
            "vs_baseline": _compare(value, measure_value(baseline, key) if baseline else None,
                                    key, me["stance"]),
            "vs_last": _compare(value, measure_value(previous, key) if previous else None,
                                key, me["stance"]),
        })
    return {
        "trial_uid": trial_uid, "athlete": athlete_json(store.get_athlete(trial.athlete_uid)),
        "condition": condition_label(me), "outcome": me["outcome"],
        "failure_reason": trial.failure_reason, "score": me.get("score"),
        "started_at": _iso(me["started_at"]), "measures": measures,
        "baseline_date": _iso(baseline["started_at"]) if baseline else None,
        "last_date": _iso(previous["started_at"]) if previous else None,
    }


def trend_slope(values: list[float]) -> float | None:
    """Score points per test over the last tests (least squares), None with fewer than 3."""
    if len(values) < 3:
        return None
    y = np.asarray(values[-6:], dtype=float)
    return float(np.polyfit(np.arange(len(y)), y, 1)[0])


def team_view(missed_days: int = MISSED_DAYS_DEFAULT, today: date | None = None) -> dict[str, Any]:
    """One row per active athlete: last test, latest score and trend, L/R flag, missed days."""
    store = context().store
    today = today or datetime.now(UTC).date()
    rows = []
    for athlete in store.list_athletes(active_only=True):
        history = store.athlete_history(athlete.uid, metrics=True)
        done = [r for r in history if r["outcome"] != "aborted"]
        last = done[-1] if done else None
        scores = [r["score"] for r in done if r.get("score") is not None]
        sym = symmetry_rows(history)
        lsis = [m["lsi_pct"] for s in sym for m in s["measures"]
                if m["measure"] == ASYMMETRY_MEASURE and m["lsi_pct"] is not None]
        worst = min(lsis) if lsis else None
        last_date = _aware(last["started_at"]).date() if last else None
        days = (today - last_date).days if last_date else None
        rows.append({
            **athlete_json(athlete),
            "last_test": last_date.isoformat() if last_date else None,
            "days_since": days,
            "missed": days is None or days > missed_days,
            "score": last.get("score") if last else None,
            "trend": None if (s := trend_slope(scores)) is None else round(s, 2),
            "lsi_pct": None if worst is None else round(worst, 1),
            "asymmetry": worst is not None and worst < ASYMMETRY_LSI_PCT,
            "n_trials": len(done),
            "spark": [round(v, 1) for v in scores[-12:]],
        })
    teams = sorted({r["team"] for r in rows if r["team"]})
    return {"athletes": rows, "teams": teams, "missed_days": missed_days,
            "asymmetry_lsi_pct": ASYMMETRY_LSI_PCT}


def athletes_recent_first() -> list[dict[str, Any]]:
    """The kiosk's picker: active athletes, the most recently tested first."""
    store = context().store
    out = []
    for athlete in store.list_athletes(active_only=True):
        history = store.athlete_history(athlete.uid)
        last = _aware(history[-1]["started_at"]) if history else None
        # names and teams only: a kiosk sees no more than it needs to pick someone
        out.append({"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
                    "last_test": _iso(last)})
    out.sort(key=lambda a: a["last_test"] or "", reverse=True)
    return out


def protocols_view() -> list[dict[str, Any]]:
    return [
        {"id": p.id, "name": p.name, "description": p.description, "kind": p.kind,
         "trials": [{"id": t.id, "stance": t.stance, "eyes": t.eyes, "surface": t.surface,
                     "task": t.task, "duration_s": t.duration_s, "count": t.count,
                     "rest_s": t.rest_s, "instructions": t.instructions,
                     "target_radius_mm": t.target_radius_mm} for t in p.trials]}
        for p in load_protocols().values()
    ]


def report_view(athlete_uid: str) -> dict[str, Any]:
    """Baseline against latest per condition, L/R symmetry and targets: the printable report."""
    rows = _history(athlete_uid)
    history = history_view(athlete_uid, rows)
    conditions = []
    for key, group in _group(rows).items():
        done = [r for r in group if r["outcome"] != "aborted"]
        if not done:
            continue
        base, last = done[0], done[-1]
        conditions.append({
            "key": key, "label": condition_label(base), "n": len(done),
            "baseline_date": _iso(base["started_at"]), "latest_date": _iso(last["started_at"]),
            "measures": [
                {"label": label, "unit": unit, "baseline": measure_value(base, m),
                 "latest": measure_value(last, m),
                 "cmp": _compare(measure_value(last, m), measure_value(base, m), m,
                                 base["stance"]) if last is not base else None}
                for m, (label, unit) in KEY_MEASURES.items()
            ],
        })
    return {**history, "conditions": conditions,
            "generated": datetime.now(UTC).isoformat(timespec="minutes")}


def _group(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(condition_key(row), []).append(row)
    return out


def days_ago(n: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=n)


TRACE_MAX_POINTS = 1500


def trace_view(trial_uid: str) -> dict[str, Any]:
    """A stored trial's COP trace (mm, from its raw frames and calibration) for replay,
    decimated to at most TRACE_MAX_POINTS points; the replay keeps real time."""
    store = context().store
    trial = store.load_trial(trial_uid, with_raw=True)
    out: dict[str, Any] = {"trial_uid": trial_uid, "t": [], "x": [], "y": [],
                           "stance": trial.stance, "outcome": trial.outcome}
    if trial.raw is None or trial.calibration is None or trial.raw.n < 2:
        out["problem"] = "no raw frames kept for this trial"
        return out
    cal = calibration_from_dict(trial.calibration)
    forces = cal.cell_forces(np.asarray(trial.raw.counts))
    _, cop = cop_from_forces(forces, cal.positions_mm, cal.min_load_n)
    t = (trial.raw.t_ns - trial.raw.t_ns[0]) / 1e9
    step = max(1, int(np.ceil(len(t) / TRACE_MAX_POINTS)))
    keep = np.isfinite(cop[::step]).all(axis=1)
    out["t"] = np.round(t[::step][keep], 3).tolist()
    out["x"] = np.round(cop[::step, 0][keep], 1).tolist()
    out["y"] = np.round(cop[::step, 1][keep], 1).tolist()
    return out


def kiosk_may_see(trial_uid: str) -> bool:
    """A kiosk sees the result of the trial it ran (the station's last one) and no other."""
    if auth.kiosk_may_see(trial_uid):
        return True
    trials = context().runtime.trials
    last = trials.last_result if trials is not None else None
    return last is not None and last.saved_uid == trial_uid


def register(app: Flask) -> None:
    @app.get("/api/pages/result/<trial_uid>")
    @auth.require("view_history", "view_own_trial_result")
    def result_card_api(trial_uid: str):
        principal = auth.current_principal()
        if principal is not None and not principal.can("view_history") and not kiosk_may_see(
            trial_uid
        ):
            return auth.api_error(403, "a kiosk sees only the result of the trial it ran")
        try:
            return jsonify(result_card(trial_uid))
        except StoreError:
            abort(404)

    @app.get("/api/pages/trace/<trial_uid>")
    @auth.require("view_history")
    def trace_api(trial_uid: str):
        try:
            return jsonify(trace_view(trial_uid))
        except StoreError:
            abort(404)
