"""Calibration file: round trips, and bad files refused with the field named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.calibration.file import (
    Calibration,
    CalibrationError,
    calibration_from_dict,
    load_calibration,
    save_calibration,
    try_load_calibration,
)
from station.geometry import DEFAULT_LAYOUT

ROOT = Path(__file__).resolve().parents[1]


def make_cal(**overrides: object) -> Calibration:
    kwargs: dict = dict(
        board="test-board",
        created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        positions_mm=DEFAULT_LAYOUT.positions,
        offsets_counts=np.array([8123.0, -500.0, 12.5, 0.0]),
        newtons_per_count=np.array([0.0002134, 0.00025, 0.00026, 0.00024]),
        quadratic_n_per_count2=np.array([-1e-12, -2e-12, 0.0, -1.5e-12]),
        min_load_n=50.0,
        residuals={"cop_error_mm_max": 0.1},
    )
    kwargs.update(overrides)
    return Calibration(**kwargs)


def good_doc() -> dict:
    return make_cal().to_dict()


def write(tmp_path: Path, doc: object) -> Path:
    p = tmp_path / "cal.json"
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    cal = make_cal(verification={"mass_kg": 50.0, "cop_error_mm": 0.3})
    path = tmp_path / "sub" / "board.json"
    save_calibration(cal, path)
    back = load_calibration(path)
    assert back.board == cal.board and back.created == cal.created
    np.testing.assert_array_equal(back.positions_mm, cal.positions_mm)
    np.testing.assert_array_equal(back.offsets_counts, cal.offsets_counts)
    np.testing.assert_array_equal(back.newtons_per_count, cal.newtons_per_count)
    np.testing.assert_array_equal(back.quadratic_n_per_count2, cal.quadratic_n_per_count2)
    assert back.verification == cal.verification
    assert back.residuals == cal.residuals
    # Atomic write leaves no temporary file behind.
    assert [p.name for p in path.parent.iterdir()] == ["board.json"]


def test_save_refuses_invalid_and_keeps_old_file(tmp_path: Path) -> None:
    path = tmp_path / "board.json"
    save_calibration(make_cal(), path)
    before = path.read_text()
    bad = make_cal(newtons_per_count=np.array([0.00025, 0.0, 0.00025, 0.00025]))
    with pytest.raises(CalibrationError, match=r"cells\[1\]\.newtons_per_count"):
        save_calibration(bad, path)
    assert path.read_text() == before


def test_quadratic_term_is_optional() -> None:
    doc = good_doc()
    for cell in doc["cells"]:
        cell.pop("quadratic_n_per_count2", None)
    cal = calibration_from_dict(doc)
    assert cal.quadratic_n_per_count2.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert cal.verification is None


def test_issue_example_shape_loads() -> None:
    doc = {
        "schema": 1, "board": "b1", "created": "2026-03-01T10:00:00Z",
        "cells": [
            {"name": n, "x_mm": x, "y_mm": y, "offset_counts": 8123.0,
             "newtons_per_count": 0.0002134}
            for n, x, y in zip(DEFAULT_LAYOUT.names, DEFAULT_LAYOUT.x_mm, DEFAULT_LAYOUT.y_mm,
                               strict=True)
        ],
        "min_load_n": 50.0, "residuals": {},
    }
    cal = calibration_from_dict(doc)
    assert cal.created.tzinfo is not None
    assert cal.layout == DEFAULT_LAYOUT


def _mutate(path: str, value: object) -> dict:
    doc = good_doc()
    target = doc
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("cells.2.newtons_per_count", 0,
         r"cells\[2\]\.newtons_per_count: must be a finite non-zero number \(got 0\)"),
        ("cells.1.offset_counts", float("nan"), r"cells\[1\]\.offset_counts: must be a finite"),
        ("cells.3.x_mm", "12", r"cells\[3\]\.x_mm: must be a finite number \(got '12'\)"),
        ("cells.0.y_mm", KeyError, r"cells\[0\]\.y_mm: must be a finite number \(got None\)"),
        ("cells.0.quadratic_n_per_count2", float("inf"), r"cells\[0\]\.quadratic_n_per_count2"),
        ("cells.0.name", "", r"cells\[0\]\.name"),
        ("min_load_n", -5, r"min_load_n: must be a finite positive number"),
        ("board", "", r"board: must be a non-empty string"),
        ("created", "yesterday", r"created: must be an ISO 8601"),
        ("schema", 2, r"schema: must be 1 \(got 2\)"),
        ("schema", KeyError, r"schema: must be 1 \(got None\)"),
        ("residuals", [1, 2], r"residuals: must be an object"),
        ("verification", "ok", r"verification: must be an object"),
    ],
)
def test_bad_field_is_named(tmp_path: Path, path: str, value: object, message: str) -> None:
    doc = _mutate(path, value)
    p = tmp_path / "cal.json"
    p.write_text(json.dumps(doc))  # json writes NaN/Infinity, which Python's reader accepts
    with pytest.raises(CalibrationError, match=message):
        load_calibration(p)


def test_wrong_cell_count(tmp_path: Path) -> None:
    doc = good_doc()
    doc["cells"] = doc["cells"][:3]
    with pytest.raises(CalibrationError, match=r"cells: must list 4 cells .* \(got 3\)"):
        load_calibration(write(tmp_path, doc))


def test_duplicate_names_and_degenerate_layout(tmp_path: Path) -> None:
    doc = good_doc()
    doc["cells"][1]["name"] = doc["cells"][0]["name"]
    with pytest.raises(CalibrationError, match=r"cells\[\]\.name: names must be distinct"):
        calibration_from_dict(doc)
    doc = good_doc()
    for cell in doc["cells"]:
        cell["y_mm"] = 0.0
    with pytest.raises(CalibrationError, match="lie on one line"):
        calibration_from_dict(doc)


def test_missing_unreadable_and_non_json(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="calibration file not found"):
        load_calibration(tmp_path / "nope.json")
    with pytest.raises(CalibrationError, match="not valid JSON at line 2 column"):
        load_calibration(write(tmp_path, '{"schema": 1,\n "board": }'))
    with pytest.raises(CalibrationError, match="top level: must be a JSON object"):
        load_calibration(write(tmp_path, "[1, 2]"))
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(CalibrationError, match="cannot read"):
        load_calibration(tmp_path / "dir.json")


def test_try_load_gives_reason_instead_of_raising(tmp_path: Path) -> None:
    cal, reason = try_load_calibration(tmp_path / "missing.json")
    assert cal is None and "not found" in reason
    cal, reason = try_load_calibration(None)
    assert cal is None and reason
    path = tmp_path / "ok.json"
    save_calibration(make_cal(), path)
    cal, reason = try_load_calibration(path)
    assert cal is not None and reason is None


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(-(1 << 23) + 1, (1 << 23) - 1), min_size=4, max_size=4),
)
def test_counts_forces_counts_round_trip(counts: list[int]) -> None:
    cal = make_cal()
    c = np.array(counts, dtype=float)
    forces = cal.cell_forces(c)
    # Only the increasing branch of F(d) is physical: |d| small enough that
    # k + 2 q d keeps its sign (beyond, no inverse exists).
    d = c - cal.offsets_counts
    physical = np.sign(cal.newtons_per_count + 2 * cal.quadratic_n_per_count2 * d) == np.sign(
        cal.newtons_per_count)
    back = cal.counts_for_forces(forces)
    np.testing.assert_allclose(back[physical], c[physical], atol=1e-4, rtol=1e-9)


def test_forces_counts_forces_round_trip() -> None:
    cal = make_cal()
    forces = np.array([[0.0, 10.0, 500.0, 1200.0], [-3.0, 250.0, 0.5, 900.0]])
    np.testing.assert_allclose(cal.cell_forces(cal.counts_for_forces(forces)), forces,
                               atol=1e-9)


def test_shipped_sim_board_file_loads() -> None:
    cal = load_calibration(ROOT / "calibration" / "sim-board.json")
    assert cal.board == "sim"
    assert cal.verification is not None
    assert cal.residuals["cop_error_mm_max"] < 1.0
