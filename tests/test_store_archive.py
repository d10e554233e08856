"""Whole-station archives: merge without duplicates; bad files refused, nothing changed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from store_fixtures import *  # noqa: F403 (pytest fixtures: pg_url, store_location, store)
from store_fixtures import populate

from station.store import Store, open_store
from station.store.archive import ArchiveError, export_archive, import_archive


@pytest.fixture
def source(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "source")
    populate(s, n_athletes=2, n_sessions=2, n_trials=2, seed=1)
    return s


def test_archive_moves_a_station_and_merges_without_duplicates(
    source: Store, store: Store, tmp_path: Path
) -> None:
    archive = tmp_path / "station.zip"
    counts = export_archive(source, archive)
    assert counts["trials"] == 8 and counts["athletes"] == 2
    own = populate(store, n_athletes=1, n_sessions=1, n_trials=1, seed=2)
    report = import_archive(store, archive)
    assert report["trials"] == {"added": 8, "present": 0, "skipped_deleted": 0}
    assert store.counts()["trials"] == 9 and store.counts()["trial_raw"] == 9
    for uid in source.trial_uids():
        a, b = source.load_trial(uid), store.load_trial(uid)
        assert b.raw is not None and a.raw is not None and b.raw.equals(a.raw)
        assert (b.metrics, b.score, b.started_at, b.calibration, b.athlete_uid) == (
            a.metrics,
            a.score,
            a.started_at,
            a.calibration,
            a.athlete_uid,
        )
    # importing again adds nothing
    again = import_archive(store, archive)
    assert again["trials"] == {"added": 0, "present": 8, "skipped_deleted": 0}
    assert store.counts()["trials"] == 9
    # a deleted athlete is not revived by an older archive
    store.delete_athlete(source.list_athletes()[0].uid)
    third = import_archive(store, archive)
    assert third["athletes"]["skipped_deleted"] == 1 and third["trials"]["skipped_deleted"] == 4
    assert store.counts()["trials"] == 5 and store.integrity_check().ok
    assert store.athlete_history(own["athletes"][0])


def _damaged(kind: str, good: Path, tmp_path: Path) -> Path:
    bad = tmp_path / f"bad-{kind}.zip"
    data = good.read_bytes()
    if kind == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif kind == "not_zip":
        bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    elif kind == "no_manifest":
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("hello.txt", "hi")
    else:
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
            for item in src.infolist():
                content = src.read(item)
                if item.filename == "manifest.json" and kind == "newer_format":
                    manifest = json.loads(content)
                    manifest["format_version"] = 2
                    content = json.dumps(manifest).encode()
                if item.filename == "manifest.json" and kind == "other_schema":
                    manifest = json.loads(content)
                    manifest["schema_revision"] = "abc123"
                    content = json.dumps(manifest).encode()
                if item.filename == "tables/trials.jsonl" and kind == "altered":
                    content = content.replace(b'"complete"', b'"failed"', 1)
                dst.writestr(item, content)
    return bad


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", "truncated"),
        ("not_zip", "not a station archive"),
        ("no_manifest", "no manifest.json"),
        ("newer_format", "format version 2 is not supported"),
        ("other_schema", "unknown here"),
        ("altered", "damaged"),
    ],
)
def test_bad_archives_are_refused_and_change_nothing(
    source: Store, store: Store, tmp_path: Path, kind: str, message: str
) -> None:
    good = tmp_path / "good.zip"
    export_archive(source, good)
    populate(store, n_athletes=1, n_sessions=1, n_trials=1, seed=3)
    before = store.counts()
    with pytest.raises(ArchiveError, match=message):
        import_archive(store, _damaged(kind, good, tmp_path))
    assert store.counts() == before


def test_unknown_fields_are_refused_and_nothing_is_written(source: Store, tmp_path: Path) -> None:
    """A row format from another schema fails mid-import: the transaction leaves no trace."""
    good = tmp_path / "good.zip"
    export_archive(source, good)
    bad = tmp_path / "fields.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "tables/trials.jsonl":
                content = content.replace(b'"seq"', b'"new_field": 1, "seq"')
                import hashlib

                manifest["sha256"][item.filename] = hashlib.sha256(content).hexdigest()
            if item.filename != "manifest.json":
                dst.writestr(item, content)
        dst.writestr("manifest.json", json.dumps(manifest))
    target = open_store(tmp_path / "target")
    with pytest.raises(ArchiveError, match="does not know"):
        import_archive(target, bad)
    assert target.counts()["athletes"] == 0 and target.counts()["trials"] == 0
