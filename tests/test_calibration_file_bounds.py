"""A calibration file with absurd values or absurd nesting is refused with the field named,
and the station then starts uncalibrated saying why (issue 18: gain 1e300 and a minimum
load of 1e9 N loaded; a deeply nested file stopped the station at start)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from station.calibration.file import (
    CalibrationError,
    calibration_from_dict,
    load_calibration,
    save_calibration,
    try_load_calibration,
)
from station.commands.run import load_estimator

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "calibration" / "sim-board.json"


def sim_doc() -> dict:
    return json.loads(SIM.read_text())


@pytest.mark.parametrize(
    ("cell", "key", "value", "message"),
    [
        (0, "newtons_per_count", 1e300, r"cells\[0\]\.newtons_per_count: .*1e-07 to 0\.1"),
        (1, "newtons_per_count", -1e300, r"cells\[1\]\.newtons_per_count: .*1e-07 to 0\.1"),
        (2, "newtons_per_count", 1e-12, r"cells\[2\]\.newtons_per_count: .*1e-07 to 0\.1"),
        (3, "offset_counts", 1e12, r"cells\[3\]\.offset_counts: .*8388608"),
        (0, "x_mm", 1e9, r"cells\[0\]\.x_mm: .*2000"),
        (1, "y_mm", -5e4, r"cells\[1\]\.y_mm: .*2000"),
        (2, "quadratic_n_per_count2", 1e-3, r"cells\[2\]\.quadratic_n_per_count2: .*linear"),
    ],
)
def test_absurd_cell_values_are_refused_naming_the_field(
    cell: int, key: str, value: float, message: str
) -> None:
    doc = sim_doc()
    doc["cells"][cell][key] = value
    with pytest.raises(CalibrationError, match=message):
        calibration_from_dict(doc)


@pytest.mark.parametrize("value", [1e9, 2001.0])
def test_an_absurd_minimum_load_is_refused(value: float) -> None:
    doc = sim_doc()
    doc["min_load_n"] = value
    with pytest.raises(CalibrationError, match=r"min_load_n: .*2000"):
        calibration_from_dict(doc)


def test_real_boards_values_still_load(tmp_path: Path) -> None:
    doc = sim_doc()
    doc["cells"][0]["newtons_per_count"] = -2.4e-3  # large cells at gain 64, inverted wiring
    doc["cells"][1]["newtons_per_count"] = 2.3e-6  # small cells
    doc["cells"][1]["quadratic_n_per_count2"] = 0.0
    doc["min_load_n"] = 20.0
    cal = calibration_from_dict(doc)
    path = tmp_path / "cal.json"
    save_calibration(cal, path)
    assert load_calibration(path).min_load_n == 20.0


@pytest.mark.parametrize("where", ["residuals", "verification"])
def test_nesting_inside_the_free_objects_is_bounded(where: str) -> None:
    doc = sim_doc()
    nested: dict = {}
    inner = nested
    for _ in range(40):
        inner["x"] = {}
        inner = inner["x"]
    doc[where] = nested
    with pytest.raises(CalibrationError, match=f"{where}: nested too deeply"):
        calibration_from_dict(doc)


def test_a_deeply_nested_file_leaves_the_station_uncalibrated_with_the_reason(
    tmp_path: Path,
) -> None:
    path = tmp_path / "calibration.json"
    path.write_text('{"schema": 1, "residuals": ' + "[" * 200_000 + "]" * 200_000 + "}")
    cal, problem = try_load_calibration(path)
    assert cal is None and problem is not None
    assert str(path) in problem and "nested too deeply" in problem
    estimator, why = load_estimator(path)  # what `balance-station run` does at start
    assert why == problem and not estimator.calibrated
