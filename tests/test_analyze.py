"""`balance-station analyze` and station.analysis.trace_files: formats, filters, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.analysis.trace_files import (
    Trace,
    TraceError,
    filter_trace,
    load_trace,
    summarize_trace,
)
from station.board.cell_model import CellModel
from station.board.recording import write_raw_csv
from station.calibration.file import load_calibration, save_calibration
from station.calibration.procedure import G
from station.calibration.simulate import simulated_calibration
from station.commands.cli import main
from station.geometry import DEFAULT_LAYOUT, forces_from_cop

EYES_OPEN = "quiet-stance-eyes-open-100hz.csv"


def analyze(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | str]:
    code = main(["analyze", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


def reference_cop(reference_data: Path) -> np.ndarray:
    raw = np.loadtxt(reference_data / EYES_OPEN, delimiter=",", skiprows=1)
    return raw


@pytest.fixture
def sim_board(tmp_path: Path) -> tuple[CellModel, Path, np.random.Generator]:
    rng = np.random.default_rng(42)
    model = CellModel.randomized(rng)
    path = tmp_path / "cal.json"
    save_calibration(simulated_calibration(model, rng), path)
    return model, path, rng


def test_reference_file_as_is(capsys: pytest.CaptureFixture[str], reference_data: Path,
                              tmp_path: Path) -> None:
    raw = reference_cop(reference_data)
    out = tmp_path / "cop.csv"
    code, summary = analyze(capsys, reference_data / EYES_OPEN, "--cop-out", out,
                            "--filter", "none")
    assert code == 0
    assert summary["source_format"] == "cop_m"
    assert summary["n_samples"] == len(raw)
    assert summary["rate_hz"] == pytest.approx(100.0)
    assert summary["force"] is None
    assert summary["cop"]["x"]["mean_mm"] == pytest.approx(1000 * raw[:, 1].mean(), abs=1e-3)
    assert summary["cop"]["y"]["range_mm"] == pytest.approx(1000 * np.ptp(raw[:, 2]), abs=1e-3)
    assert summary["cop"]["y"]["rms_mm"] == pytest.approx(1000 * raw[:, 2].std(), abs=1e-3)
    back = load_trace(out)
    assert back.source_format == "cop_mm"
    np.testing.assert_allclose(back.x_mm, 1000 * raw[:, 1], atol=1e-4)
    np.testing.assert_allclose(back.t_s, raw[:, 0], atol=1e-6)


def test_raw_counts_recover_the_true_cop(capsys: pytest.CaptureFixture[str], reference_data: Path,
                                         tmp_path: Path, sim_board: tuple) -> None:
    model, cal_path, rng = sim_board
    raw = reference_cop(reference_data)
    cop = 1000 * raw[:, 1:3]
    counts = model.counts(forces_from_cop(70 * G, cop, DEFAULT_LAYOUT.positions), raw[:, 0], rng)
    f = tmp_path / "counts.csv"
    np.savetxt(f, np.column_stack([raw[:, 0], counts]), delimiter=",",
               header="t_s,c0,c1,c2,c3", comments="", fmt=["%.3f"] + ["%d"] * 4)
    code, err = analyze(capsys, f)
    assert code == 2 and "raw counts need --calibration FILE" in err
    out = tmp_path / "derived.csv"
    code, summary = analyze(capsys, f, "--calibration", cal_path, "--cop-out", out)
    assert code == 0 and summary["source_format"] == "raw_counts"
    assert summary["force"]["mean_kg"] == pytest.approx(70.0, rel=1e-3)
    derived = load_trace(out)
    rms = np.sqrt(np.mean((derived.x_mm - cop[:, 0]) ** 2 + (derived.y_mm - cop[:, 1]) ** 2))
    assert rms < 0.05  # mm; HX711 noise only
    # Filtered, it matches the same filter applied to the true COP even more closely.
    code, summary = analyze(capsys, f, "--calibration", cal_path, "--filter", "butter10",
                            "--cop-out", out)
    filtered = load_trace(out)
    truth = filter_trace(load_trace(reference_data / EYES_OPEN), "butter10")
    rms_f = np.sqrt(np.mean((filtered.x_mm - truth.x_mm) ** 2 + (filtered.y_mm - truth.y_mm) ** 2))
    assert summary["filter"] == "butter10" and rms_f < rms


def test_cell_forces_use_calibration_geometry(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, sim_board: tuple) -> None:
    _, cal_path, _ = sim_board
    t = np.arange(300) / 100.0  # the metrics need >= 2 s
    cop = np.column_stack([50 * np.sin(t), -30 * np.cos(t)])
    forces = forces_from_cop(600.0, cop, DEFAULT_LAYOUT.positions)
    f = tmp_path / "forces.csv"
    np.savetxt(f, np.column_stack([t, forces]), delimiter=",",
               header="t_s,f0_n,f1_n,f2_n,f3_n", comments="")
    code, err = analyze(capsys, f)
    assert code == 2 and "cell forces (for the cell positions) need --calibration" in err
    trace = load_trace(f, __import__("station.calibration.file").calibration.file
                       .load_calibration(cal_path))
    np.testing.assert_allclose(trace.x_mm, cop[:, 0], atol=1e-6)
    np.testing.assert_allclose(trace.force_n, 600.0)
    code, summary = analyze(capsys, f, "--calibration", cal_path)
    assert summary["force"]["mean_n"] == pytest.approx(600.0)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t_s,x_mm,y_mm\n0,1,2\n0.01,abc,3\n", r"line 3, column 'x_mm': not a number \('abc'\)"),
        ("a,b,c\n1,2,3\n", r"line 1: unknown header 'a,b,c'"),
        ("t_s,x_mm,y_mm\n0,1,2\n0.01,1\n", r"line 3: 2 fields, expected 3"),
        ("t_s,x_mm,y_mm\n0,1,2\n0,1,2\n", r"data row 2: t_s does not increase"),
        ("t_s,x_mm,y_mm\n0,1,2\n", r"needs at least 2 data rows, found 1"),
        ("", r"empty file"),
        ("t_s,c0,c1,c2,c3\n0,1,2,3,nan\n0.1,1,2,3,4\n", r"line 2, column 'c3': must be finite"),
    ],
)
def test_bad_files_name_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        load_trace(write(tmp_path, text))


def test_bad_file_is_a_one_line_cli_error(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    code, err = analyze(capsys, tmp_path / "missing.csv")
    assert code == 2 and "file not found" in err and err.count("\n") == 1
    bad_cal = write(tmp_path, "{}")
    code, err = analyze(capsys, tmp_path / "missing.csv", "--calibration", bad_cal)
    assert code == 2 and "schema" in err


def test_header_found_by_name_with_comments_and_extra_columns(tmp_path: Path) -> None:
    p = write(tmp_path, "# recorded 2026-01-01\nflags, y_mm, t_s, x_mm\n0,2,0,1\n0,4,0.5,3\n")
    tr = load_trace(p)
    assert tr.x_mm.tolist() == [1.0, 3.0] and tr.y_mm.tolist() == [2.0, 4.0]
    assert tr.rate_hz == pytest.approx(2.0)


def test_butter10_needs_a_fast_enough_trace_and_skips_undefined_cop(tmp_path: Path) -> None:
    slow = Trace(np.arange(50) / 10.0, np.zeros(50), np.zeros(50))
    with pytest.raises(TraceError, match="sample rate above 25 Hz"):
        filter_trace(slow, "butter10")
    n = 400
    t = np.arange(n) / 100.0
    x = np.sin(2 * np.pi * 0.5 * t)
    x[200:210] = np.nan  # stepped off for 0.1 s
    x[375:380] = np.nan
    x[395:] = np.nan  # x[380:395] is left: a stretch too short to filter
    tr = filter_trace(Trace(t, x, x.copy()), "butter10")
    assert np.isnan(tr.x_mm[200:210]).all() and np.isnan(tr.x_mm[380:]).all()
    np.testing.assert_allclose(tr.x_mm[20:180], x[20:180], atol=1e-3)  # 0.5 Hz passes
    summary = summarize_trace(tr)
    assert summary["cop"]["n_defined"] == n - 10 - 25
    with pytest.raises(TraceError, match="unknown filter"):
        filter_trace(tr, "median")


REQUIRED_KEYS = {
    "n_samples": None, "rate_hz": None, "duration_s": None, "filter": None,
    "mean_distance_mm": {"ml", "ap", "resultant"}, "rms_mm": {"ml", "ap", "resultant"},
    "range_mm": {"ml", "ap"}, "path_length_mm": {"ml", "ap", "total"},
    "mean_velocity_mm_s": {"ml", "ap", "total"}, "sway_area_mm2_s": None,
    "ellipse95_area_mm2": None, "mean_frequency_hz": {"ml", "ap", "resultant"},
    "f50_hz": {"ml", "ap"}, "f95_hz": {"ml", "ap"}, "centroid_frequency_hz": {"ml", "ap"},
    "frequency_dispersion": {"ml", "ap"},
}


@pytest.mark.parametrize("filter_name", ["butter10", "none"])
def test_analyze_prints_every_metric_key_of_the_balance_tests_issue(
    capsys: pytest.CaptureFixture[str], reference_data: Path, filter_name: str
) -> None:
    code, out = analyze(capsys, reference_data / EYES_OPEN, "--filter", filter_name)
    assert code == 0
    assert out["filter"] == filter_name
    for key, sub in REQUIRED_KEYS.items():
        assert key in out, key
        if sub is not None:
            assert set(out[key]) >= sub, key
            assert all(isinstance(out[key][k], float) for k in sub), key
    # 32 s of quiet stance: velocity of a few mm/s, and filtering can only lower the path.
    assert 2.0 < out["mean_velocity_mm_s"]["total"] < 20.0


def test_a_version_2_recording_is_analysed_with_its_cells_at_one_instant(
        tmp_path: Path, sim_board: tuple) -> None:
    """Each cell converted at its own instant (offsets in the file): `analyze` aligns the four
    before combining them, so a moving COP comes out as true as when they were simultaneous."""
    model, cal_path, rng = sim_board
    t = np.arange(0, 10, 1 / 80)
    cop = np.column_stack([40 * np.sin(2 * np.pi * 0.8 * t), 30 * np.cos(2 * np.pi * 0.5 * t)])
    offsets_ns = np.array([-9_000_000, -3_000_000, 0, -6_000_000])  # when each cell converted
    cells_t = t[:, None] + offsets_ns / 1e9  # each cell sees the COP of its own instant
    forces = np.stack([forces_from_cop(70 * G, np.column_stack(
        [40 * np.sin(2 * np.pi * 0.8 * ct), 30 * np.cos(2 * np.pi * 0.5 * ct)]),
        DEFAULT_LAYOUT.positions)[:, i] for i, ct in enumerate(cells_t.T)], axis=1)
    counts = model.counts(forces, t, rng)
    v1, v2 = tmp_path / "v1.csv", tmp_path / "v2.csv"
    write_raw_csv(v1, t, counts)
    write_raw_csv(v2, t, counts, np.tile(offsets_ns, (len(t), 1)))
    calibration = load_calibration(cal_path)

    def rms(path: Path) -> float:
        trace = load_trace(path, calibration)
        inner = slice(10, -10)  # the ends have no neighbour to interpolate from
        return float(np.sqrt(np.mean((trace.x_mm[inner] - cop[inner, 0]) ** 2
                                     + (trace.y_mm[inner] - cop[inner, 1]) ** 2)))

    skewed, aligned = rms(v1), rms(v2)
    assert skewed > 0.5  # mm: 9 ms apart at up to 200 mm/s
    assert aligned < 0.1 and aligned < skewed / 10


def test_wobble_board_from_a_recording(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--dome-radius-mm / --board-profile add a `wobble` object; --tilt-out writes the tilt."""
    from wobble_fixtures import session

    s = session(stance="right", skill=0.3, eyes="closed", seed=2, duration_s=20.0,
                level_mm=(5.0, -3.0))
    counts = tmp_path / "wobble.csv"
    np.savetxt(counts, np.column_stack([s.sim.t_s, s.sim.counts]), delimiter=",",
               header="t_s,c0,c1,c2,c3", comments="", fmt=["%.4f"] + ["%d"] * 4)
    cal = ROOT_CAL
    tilt = tmp_path / "tilt.csv"
    code, out = analyze(capsys, counts, "--calibration", cal, "--board-profile",
                        "round-40-hemisphere", "--level-mm", "5,-3", "--tilt-out", tilt)
    assert code == 0
    wobble = out["wobble"]
    assert set(wobble["stability_index_deg"]) == {"overall", "ap", "ml"}
    assert set(wobble["zone_time_pct"]) == {"0-5", "5-10", "10-15", "15-max"}
    assert sum(wobble["zone_time_pct"].values()) == pytest.approx(100.0)
    assert wobble["mean_tilt_velocity_deg_s"] > 0
    assert set(wobble["rim_contacts"]) >= {"count", "total_s"}
    assert wobble["rim_contacts"]["count"] >= 1 and wobble["level_mm"] == [5.0, -3.0]
    rows = np.loadtxt(tilt, delimiter=",", skiprows=1)
    assert tilt.read_text().splitlines()[0] == "t_s,tilt_ml_deg,tilt_ap_deg"
    assert rows.shape[1] == 3 and len(rows) > 1000
    si = np.sqrt(np.mean(rows[:, 1] ** 2 + rows[:, 2] ** 2))
    assert si == pytest.approx(wobble["stability_index_deg"]["overall"], rel=1e-3)
    # a COP file knows no force: the friction correction is skipped and says so
    cop = tmp_path / "cop.csv"
    code, _ = analyze(capsys, counts, "--calibration", cal, "--cop-out", cop)
    code, out = analyze(capsys, cop, "--dome-radius-mm", "60", "--max-tilt-deg", "17.5",
                        "--level-mm", "5,-3")
    assert code == 0 and out["wobble"]["friction_correction"]["applied"] is False
    assert out["wobble"]["board"]["dome_radius_mm"] == 60.0


def test_wobble_options_that_cannot_work(capsys: pytest.CaptureFixture[str],
                                         reference_data: Path) -> None:
    code, err = analyze(capsys, reference_data / EYES_OPEN, "--tilt-out", "x.csv")
    assert code == 2 and "--tilt-out needs --dome-radius-mm R or --board-profile NAME" in err
    code, err = analyze(capsys, reference_data / EYES_OPEN, "--dome-radius-mm", "60",
                        "--level-mm", "3")
    assert code == 2 and "--level-mm: '3' is not X,Y in mm" in err
    code, err = analyze(capsys, reference_data / EYES_OPEN, "--dome-radius-mm", "2")
    assert code == 2 and "dome_radius_mm: 2 is outside 20..5000" in err


ROOT_CAL = Path(__file__).resolve().parents[1] / "calibration" / "sim-board.json"
