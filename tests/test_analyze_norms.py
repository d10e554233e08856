"""`balance-station analyze FILE --age --sex --stance --surface --eyes`: the norms object."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.commands.cli import main


def analyze(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | str]:
    code = main(["analyze", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


@pytest.fixture
def bds_trace(reference_data: Path, tmp_path: Path) -> Path:
    """One raw BDS trial (60 s, double-leg, firm, eyes closed, a woman of 20) as t_s,x_mm,y_mm."""
    data = np.loadtxt(reference_data / "bds" / "BDS00176.txt", skiprows=1)
    path = tmp_path / "bds176.csv"
    rows = np.column_stack([data[:, 0], data[:, 7] * 10.0, data[:, 8] * 10.0])
    np.savetxt(path, rows, delimiter=",", header="t_s,x_mm,y_mm", comments="", fmt="%.5f")
    return path


def test_norms_object_gives_percentiles_and_sources(capsys, bds_trace):
    code, out = analyze(capsys, bds_trace, "--age", 20.7, "--sex", "F", "--stance", "double",
                        "--surface", "firm", "--eyes", "closed")
    assert code == 0, out
    norms = out["norms"]
    velocity = norms["measures"]["mean_velocity_mm_s.total"]
    assert velocity["norm_id"] == "bds2016-double-firm-closed-mean_velocity_mm_s.total"
    assert "Santos" in velocity["source"] and velocity["group"] == "young"
    assert 0 <= velocity["percentile"] <= 100
    assert velocity["value"] == pytest.approx(out["mean_velocity_mm_s"]["total"])
    area = norms["measures"]["ellipse95_area_mm2"]
    assert area["percentile"] is not None  # a 60 s test: area is comparable
    # unfiltered analysis: the norm's COP is filtered at 10 Hz, so it refuses
    code, raw = analyze(capsys, bds_trace, "--age", 20.7, "--stance", "double", "--surface",
                        "firm", "--eyes", "closed", "--filter", "none")
    assert "filtered at 10 Hz" in raw["norms"]["measures"]["mean_velocity_mm_s.total"]["reason"]


def test_a_test_without_a_norm_says_why(capsys, bds_trace):
    code, out = analyze(capsys, bds_trace, "--age", 30, "--stance", "left", "--surface",
                        "firm", "--eyes", "open")
    assert code == 0
    for result in out["norms"]["measures"].values():
        assert result["percentile"] is None and "single-leg" in result["reason"]
    code, out = analyze(capsys, bds_trace, "--stance", "double", "--surface", "wobble",
                        "--eyes", "open")
    assert all("wobble" in r["reason"] for r in out["norms"]["measures"].values())


def test_missing_test_options_are_refused_and_no_options_add_nothing(capsys, bds_trace):
    code, err = analyze(capsys, bds_trace, "--age", 30, "--stance", "double")
    assert code != 0 and "--surface, --eyes" in err
    code, out = analyze(capsys, bds_trace)
    assert code == 0 and "norms" not in out
