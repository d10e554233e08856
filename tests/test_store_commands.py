"""The store's commands end to end through `balance-station` (station.commands.cli.main)."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from store_fixtures import make_trial, populate

from station.commands.cli import main
from station.store import Athlete, SessionRecord, TrialRecord, open_store


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    store = open_store(d)
    populate(store, n_athletes=2, n_sessions=2, n_trials=2)
    store.close()
    return d


def run(*argv: object) -> int:
    return main([str(a) for a in argv])


def test_db_current_check_upgrade(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("db", "current", "--data-dir", data_dir) == 0
    assert "revision 0009_athlete_profile" in capsys.readouterr().out
    assert run("db", "check", "--data-dir", data_dir) == 0
    assert "integrity: ok" in capsys.readouterr().out
    assert run("db", "upgrade", "--data-dir", data_dir) == 0


def test_export_import_moves_a_station(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "all.zip"
    assert run("export", "archive", "--out", archive, "--data-dir", data_dir) == 0
    fresh = tmp_path / "fresh"
    assert run("import", archive, "--data-dir", fresh) == 0
    assert "trials: added 8" in capsys.readouterr().out
    assert run("import", archive, "--data-dir", fresh) == 0
    assert "trials: added 0, already here 8" in capsys.readouterr().out
    (tmp_path / "junk.zip").write_bytes(b"not an archive")
    assert run("import", tmp_path / "junk.zip", "--data-dir", fresh) == 2
    err = capsys.readouterr().err
    assert "not a station archive" in err and "nothing was imported" in err


def test_export_trial_and_athlete(data_dir: Path, tmp_path: Path) -> None:
    store = open_store(data_dir)
    athlete = store.list_athletes()[0]
    uid = store.athlete_history(athlete.uid)[0]["uid"]
    store.close()
    assert run("export", "trial", uid, "--out", tmp_path / "t", "--data-dir", data_dir) == 0
    with open(tmp_path / "t" / f"{uid}-frames.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][:6] == ["t_s", "counts_c0", "counts_c1", "counts_c2", "counts_c3", "flags"]
    assert len(rows) == 1 + 400  # 5 s at 80 Hz
    meta = json.loads((tmp_path / "t" / f"{uid}-metrics.json").read_text())
    assert meta["uid"] == uid and meta["metrics"]["mvelo_mm_s"] == 20.0
    out = tmp_path / "a.csv"
    assert run("export", "athlete", athlete.name, "--out", out, "--data-dir", data_dir) == 0
    with open(out) as f:
        table = list(csv.DictReader(f))
    assert len(table) == 4 and table[0]["metric.mvelo_mm_s"] == "20.0"


def test_anonymised_export_has_no_names_and_stable_ids(data_dir: Path, tmp_path: Path) -> None:
    for name in ("one.zip", "two.zip"):
        assert run("export", "anonymised", "--out", tmp_path / name, "--data-dir", data_dir) == 0
    texts = []
    for name in ("one.zip", "two.zip"):
        with zipfile.ZipFile(tmp_path / name) as zf:
            texts.append(zf.read("athletes.csv").decode() + zf.read("trials.csv").decode())
    assert texts[0] == texts[1]  # same pseudonyms every time
    assert "Athlete" not in texts[0] and "U18" not in texts[0] and "P-" in texts[0]
    store = open_store(data_dir)
    assert all(a.uid not in texts[0] for a in store.list_athletes())
    assert all(t not in texts[0] for t in store.trial_uids())
    store.close()


def test_athlete_delete_says_what_was_deleted(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("athlete", "add", "Zoe", "--leg", "left", "--data-dir", data_dir) == 0
    assert run("athlete", "delete", "Athlete 0-0", "--yes", "--data-dir", data_dir) == 0
    out = capsys.readouterr().out
    assert "2 sessions, 4 trials, 4 raw recordings" in out
    assert run("athlete", "delete", "Nobody", "--yes", "--data-dir", data_dir) == 2


def test_backup_and_retention_commands(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    assert run("backup", usb / "b.db", "--data-dir", data_dir) == 0
    assert open_store(f"sqlite:///{usb / 'b.db'}").integrity_check().ok
    assert run("backup", usb, "--daily", "--keep", "2", "--data-dir", data_dir) == 0
    assert run("backup", tmp_path / "nowhere" / "x.db", "--data-dir", data_dir) == 2
    assert run("retention", "--older-than-months", "1", "--dry-run", "--data-dir", data_dir) == 0
    assert "would remove raw frames of 8 trials" in capsys.readouterr().out
    assert run("retention", "--older-than-months", "1", "--data-dir", data_dir) == 0
    store = open_store(data_dir)
    assert store.counts()["trial_raw"] == 0 and store.integrity_check().ok
    store.close()


def test_reanalyze_with_the_station_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Default analysis: calibration snapshot -> forces -> COP -> metrics -> score."""
    calibration_file = pytest.importorskip("station.calibration.file")
    from station.board.cell_model import CellModel
    from station.geometry import DEFAULT_LAYOUT
    from station.store.synthetic_frames import simulated_trial_frames

    rng = np.random.default_rng(11)
    cells = CellModel.randomized(rng, nonlinearity=0.0)
    snapshot = {  # the board's true constants, in the calibration file's schema
        "schema": 1,
        "board": "sim",
        "created": "2026-01-01T00:00:00+00:00",
        "min_load_n": 50.0,
        "residuals": {},
        "cells": [
            {
                "name": DEFAULT_LAYOUT.names[i],
                "x_mm": DEFAULT_LAYOUT.x_mm[i],
                "y_mm": DEFAULT_LAYOUT.y_mm[i],
                "offset_counts": float(cells.offset_counts[i]),
                "newtons_per_count": float(cells.newtons_per_count[i]),
            }
            for i in range(4)
        ],
    }
    calibration_file.calibration_from_dict(snapshot)  # a valid file for the calibration code
    store = open_store(tmp_path / "d")
    au = store.add_athlete(Athlete(name="R"))
    su = store.create_session(SessionRecord(athlete_uid=au))
    trial: TrialRecord = make_trial(
        su,
        0,
        rng,
        metrics=None,
        score=None,
        analysis_version=None,
        calibration=snapshot,
        raw=simulated_trial_frames(rng, cells=cells, sway_rms_mm=5.0),
    )
    store.save_trial(trial)
    store.close()
    assert run("reanalyze", "--athlete", "R", "--data-dir", tmp_path / "d") == 0
    assert "reanalyzed 1" in capsys.readouterr().out
    store = open_store(tmp_path / "d")
    back = store.load_trial(trial.uid, with_raw=False)
    store.close()
    assert back.analysis_version is not None and back.analysis_version.startswith("station-")
    assert back.score is not None and 0 <= back.score <= 100
    assert back.metrics is not None
    # COP recovered from counts through the snapshot: 5 mm rms sway moves at ~25 mm/s
    velocity = back.metrics["mean_velocity_mm_s"]
    assert 10 < velocity["total"] < 60, velocity


def test_reanalyze_with_an_injected_analysis(data_dir: Path) -> None:
    from station.store.reanalysis import reanalyze

    store = open_store(data_dir)
    first = store.list_athletes()[0].uid
    seen = []

    def analyze(trial: TrialRecord) -> tuple[dict, float, str]:
        seen.append(trial.uid)
        assert trial.raw is not None and trial.raw.n == 400
        if len(seen) == 2:
            raise ValueError("unusable trace")
        return {"n": trial.raw.n}, 50.0, "test-2"

    result = reanalyze(store, athlete_uid=first, analyze_fn=analyze)
    assert result == {"selected": 4, "reanalyzed": 3, "failed": 1, "without_raw": 0}
    versions = [h["analysis_version"] for h in store.athlete_history(first)]
    assert versions.count("test-2") == 3 and versions.count("test-1") == 1
    store.close()


def test_athlete_delete_without_yes_asks_and_keeps_data(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert run("athlete", "delete", "Athlete 0-0", "--data-dir", data_dir) == 1

    def no_terminal(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    assert run("athlete", "delete", "Athlete 0-0", "--data-dir", data_dir) == 1
    assert "nothing deleted" in capsys.readouterr().out
    store = open_store(data_dir)
    assert len(store.list_athletes()) == 2
    store.close()


def test_demo_command_removes_only_demo_data_and_switches_it_off(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    store = open_store(data_dir)
    real = {a.uid for a in store.list_athletes()}
    demo = store.add_athlete(Athlete(name="Demo · Alex Rivera", demo=True))
    store.create_session(SessionRecord(athlete_uid=demo))
    store.close()
    common = ("--data-dir", data_dir, "--config", config)
    assert run("demo", "status", *common) == 0
    assert "demo athletes: 1" in capsys.readouterr().out
    assert run("demo", "remove", *common) == 0
    assert "removed the demo: 1 athletes, 1 sessions, 0 trials; demo now off" in (
        capsys.readouterr().out)
    store = open_store(data_dir)
    assert {a.uid for a in store.list_athletes()} == real
    assert store.config_overrides() == {"board.demo": False}
    assert [e.kind for e in store.security_log()] == ["setting_changed", "demo_removed"]
    store.close()
    assert run("demo", "on", *common) == 0
    assert run("settings", "get", "board.demo", *common) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "true"


def test_settings_command_prints_the_page_values_over_the_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[storage]\nbackup_keep = 4\nraw_frames_months = 6\n")
    store = open_store(data_dir)
    store.set_config_override("storage.backup_keep", 2, actor="admin")
    store.close()
    common = ("--data-dir", data_dir, "--config", config)
    assert run("settings", "get", "storage.backup_keep", *common) == 0
    assert run("settings", "get", "storage.raw_frames_months", *common) == 0
    assert capsys.readouterr().out.split() == ["2", "6"]
    assert run("settings", *common) == 0
    out = capsys.readouterr().out
    assert "storage.backup_keep = 2  (Settings page)" in out
    assert "storage.raw_frames_months = 6  (config)" in out
    assert run("settings", "get", "storage.nope", *common) == 2


def test_daily_backup_keeps_the_setting_in_force_without_keep(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run by hand without --keep, the daily backup prunes to storage.backup_keep as the
    Settings page set it (over the config file's 4), not to a CLI default of its own."""
    from station.store.backup import daily_backup

    usb = tmp_path / "usb"
    usb.mkdir()
    config = tmp_path / "c.toml"
    config.write_text("[storage]\nbackup_keep = 4\n")
    store = open_store(data_dir)
    for day in range(1, 6):  # five older dated backups
        daily_backup(store, usb, keep=100, now=datetime(2026, 1, day, tzinfo=UTC))
    store.set_config_override("storage.backup_keep", 2, actor="admin")
    store.close()
    assert run("backup", usb, "--daily", "--data-dir", data_dir, "--config", config) == 0
    assert len(list(usb.iterdir())) == 2


def test_retention_by_hand_follows_the_settings_page(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --older-than-months, retention uses storage.raw_frames_months in force: the
    admin's Settings-page value (1) over the config file's 0 (= keep forever)."""
    config = tmp_path / "c.toml"
    config.write_text("[storage]\nraw_frames_months = 0\n")
    common = ("--data-dir", data_dir, "--config", config)
    assert run("retention", "--dry-run", *common) == 2  # nothing configured yet
    store = open_store(data_dir)
    store.set_config_override("storage.raw_frames_months", 1, actor="admin")
    store.close()
    assert run("retention", "--dry-run", *common) == 0
    assert "would remove raw frames of 8 trials" in capsys.readouterr().out
