"""Exports for people: one trial as CSV + JSON, an athlete's history as CSV, and an anonymised
research export (no names, stable pseudonymous ids). Every CSV is written through csv_cells,
so no text cell can run as a spreadsheet formula; every file is 0600 (files.py)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from station.calibration.conversion import ForceAndCop, force_and_cop
from station.calibration.file import calibration_from_dict
from station.store import csv_cells
from station.store.files import private_dir, private_open
from station.store.records import TrialRecord
from station.store.repository import HISTORY_FIELDS, PSEUDONYM_KEY, Store

SUMMARY_FIELDS = ("trial_id", "session_id", *HISTORY_FIELDS, "has_raw")  # the athlete CSV


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def _forces(trial: TrialRecord) -> ForceAndCop | None:
    """Cell forces, total force and COP from the trial's calibration snapshot, if it can be
    read. Every frame gets a COP (no minimum load), as exports always had."""
    if trial.calibration is None or trial.raw is None:
        return None
    try:
        cal = calibration_from_dict(trial.calibration)
    except ValueError:
        return None
    return force_and_cop(cal, trial.raw.counts, min_load_n=0.0)


def export_trial(store: Store, uid: str, folder: str | os.PathLike[str]) -> list[Path]:
    """<uid>-frames.csv (t, counts, flags, and forces + COP when the calibration is readable)
    and <uid>-metrics.json."""
    trial = store.load_trial(uid)
    folder = private_dir(folder)
    written = []
    meta = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in vars(trial).items()
        if k not in ("raw", "calibration")
    }
    meta["calibration"] = trial.calibration
    path = folder / f"{uid}-metrics.json"
    with private_open(path) as f:
        f.write(json.dumps(meta, indent=2, default=str))
    written.append(path)
    if trial.raw is not None:
        raw = trial.raw
        columns = {"t_s": (raw.t_ns - raw.t_ns[0]) / 1e9}
        for c in range(4):
            columns[f"counts_c{c}"] = raw.counts[:, c]
        columns["flags"] = raw.flags
        forces = _forces(trial)
        if forces is not None:
            cell, total, cop = forces
            for c in range(4):
                columns[f"force_c{c}_n"] = np.round(cell[:, c], 3)
            columns["force_n"] = np.round(total, 3)
            columns["cop_x_mm"] = np.round(cop[:, 0], 3)
            columns["cop_y_mm"] = np.round(cop[:, 1], 3)
        path = folder / f"{uid}-frames.csv"
        with private_open(path, newline="") as f:
            writer = csv_cells.writer(f)
            writer.writerow(columns)
            writer.writerows(zip(*columns.values(), strict=True))
        written.append(path)
    return written


def _history_rows(
    store: Store, athlete_uid: str, pseudonym: str | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    rows = []
    metric_keys: set[str] = set()
    for h in store.athlete_history(athlete_uid, metrics=True):
        row = {k: h.get(k) for k in SUMMARY_FIELDS if k in h}
        row["trial_id"], row["session_id"] = h["uid"], h["session_uid"]
        row["started_at"] = h["started_at"].isoformat()
        flat: dict[str, Any] = {}
        _flat("", h.get("metrics") or {}, flat)
        metric_keys |= set(flat)
        row.update({f"metric.{k}": v for k, v in flat.items()})
        if pseudonym is not None:
            row["athlete"] = pseudonym
            row["trial_id"] = _pseudo(store, h["uid"], "T")
            row["session_id"] = _pseudo(store, h["session_uid"], "S")
            row["started_at"] = h["started_at"].date().isoformat()  # the day is enough
        rows.append(row)
    fields = (["athlete"] if pseudonym else []) + list(SUMMARY_FIELDS)
    return fields + [f"metric.{k}" for k in sorted(metric_keys)], rows


def export_athlete_csv(store: Store, athlete_uid: str, path: str | os.PathLike[str]) -> int:
    """Summary CSV of every trial of an athlete; returns the number of trials."""
    fields, rows = _history_rows(store, athlete_uid)
    with private_open(path, newline="") as f:
        csv_cells.write_dicts(f, fields, rows)
    return len(rows)


def _pseudo(store: Store, uid: str, prefix: str) -> str:
    """Stable pseudonym: HMAC of the uid with this station's secret key (never exported)."""
    key = (store.get_setting(PSEUDONYM_KEY) or "").encode()
    return f"{prefix}-{hmac.new(key, uid.encode(), hashlib.sha256).hexdigest()[:12]}"


def export_anonymised(store: Store, path: str | os.PathLike[str]) -> dict[str, int]:
    """Zip with athletes.csv (pseudonym, birth year, dominant leg) and trials.csv. No names,
    teams, notes or session logs; dates only to the day. The same athlete gets the same
    pseudonym in every export from this station."""
    athletes_csv, trials_csv = io.StringIO(), io.StringIO()
    a_writer = csv_cells.writer(athletes_csv)
    a_writer.writerow(["athlete", "birth_year", "dominant_leg"])
    all_rows: list[dict[str, Any]] = []
    all_fields: list[str] = []
    people = store.list_athletes()
    for athlete in people:
        pseudonym = _pseudo(store, athlete.uid, "P")
        a_writer.writerow([pseudonym, athlete.birth_year, athlete.dominant_leg])
        fields, rows = _history_rows(store, athlete.uid, pseudonym)
        all_fields += [f for f in fields if f not in all_fields]
        all_rows += rows
    csv_cells.write_dicts(trials_csv, all_fields or ["athlete"], all_rows)
    with private_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("athletes.csv", athletes_csv.getvalue())
        zf.writestr("trials.csv", trials_csv.getvalue())
    return {"athletes": len(people), "trials": len(all_rows)}
