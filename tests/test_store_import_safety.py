"""An archive from elsewhere is untrusted: an import brings history (athletes, sessions,
trials, logs, targets), never credentials unless asked for explicitly and validated."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
import time
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from store_fixtures import *  # noqa: F403 (pytest fixtures: pg_url, store_location, store)
from store_fixtures import populate, station_cli
from web_fixtures import fast_password_hashing  # noqa: F401 (autouse: test-sized argon2)

from station import access as auth
from station.store import ApiToken, Store, User, open_store
from station.store.archive import ArchiveError, ArchiveLimits, export_archive, import_archive
from station.store.records import new_uid

WHEN = "2026-01-05T10:00:00+00:00"


def jsonl(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join((json.dumps(r, sort_keys=True) + "\n").encode() for r in rows)


def rewrite(archive: Path, out: Path, members: Mapping[str, bytes | None]) -> Path:
    """A copy of `archive` with members replaced, added or (None) removed, and a manifest
    whose checksums match: what anyone who reads the format can make."""
    with zipfile.ZipFile(archive) as src:
        manifest = json.loads(src.read("manifest.json"))
        contents = {i.filename: src.read(i) for i in src.infolist()}
    contents.pop("manifest.json")
    for name, data in members.items():
        if data is None:
            contents.pop(name, None)
        else:
            contents[name] = data
    manifest["sha256"] = {n: hashlib.sha256(c).hexdigest() for n, c in contents.items()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in contents.items():
            dst.writestr(name, data)
        dst.writestr("manifest.json", json.dumps(manifest))
    return out


def user_row(username: str, role: str, password: str = "a-long-password-1") -> dict[str, Any]:
    return {
        "uid": new_uid(),
        "username": username,
        "role": role,
        "password_hash": auth.hash_password(password),
        "active": True,
        "created_at": WHEN,
    }


@pytest.fixture
def source_archive(tmp_path: Path) -> Path:
    """A real station's archive: one athlete's history, a coach account and an API token."""
    source = open_store(tmp_path / "source")
    populate(source, n_athletes=1, n_sessions=1, n_trials=1)
    source.add_user(
        User(username="ana", role="coach", password_hash=auth.hash_password("ana-password-1"))
    )
    auth.create_api_token(source, "coach", "export script", username="ana")
    path = tmp_path / "source.zip"
    export_archive(source, path)
    source.close()
    return path


@pytest.fixture
def crafted(source_archive: Path, tmp_path: Path) -> Path:
    """The attack: an admin `backdoor`, an admin token for it, and a 5,100-character admin
    name with NUL and right-to-left override characters."""
    backdoor = user_row("backdoor", "admin", "backdoor-password")
    weird = user_row("x\x00\u202e" * 1700, "admin")
    token = {
        "uid": new_uid(),
        "token_hash": auth.hash_token("bs_attacker-secret"),
        "role": "admin",
        "name": "ops",
        "user_uid": backdoor["uid"],
        "created_at": WHEN,
        "last_used_at": None,
    }
    return rewrite(
        source_archive,
        tmp_path / "crafted.zip",
        {
            "tables/users.jsonl": jsonl([backdoor, weird]),
            "tables/api_tokens.jsonl": jsonl([token]),
        },
    )


def station_with_owner(path: Path) -> Store:
    store = open_store(path)
    store.add_user(User(username="owner", role="admin", password_hash="$argon2id$owner"))
    return store


def accounts(store: Store) -> tuple[list[str], list[ApiToken]]:
    return [u.username for u in store.list_users()], store.list_api_tokens()


def test_a_crafted_archive_installs_no_account_and_no_token(crafted: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    station_with_owner(target).close()
    done = station_cli("import", crafted, "--data-dir", target, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "users: 2 in the archive, not imported" in done.stdout
    assert "api_tokens: 1 in the archive, not imported" in done.stdout
    assert "trials: added 1" in done.stdout  # the history did come
    with open_store(target) as store:
        assert accounts(store) == (["owner"], [])
        assert store.find_api_token(auth.hash_token("bs_attacker-secret")) is None
        assert store.counts()["athletes"] == 1 and store.counts()["trials"] == 1


def test_with_accounts_validates_every_account_before_writing(
    crafted: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    station_with_owner(target).close()
    done = station_cli("import", "--with-accounts", crafted, "--data-dir", target, cwd=tmp_path)
    assert done.returncode == 2
    assert "tables/users.jsonl line 2" in done.stderr and "username" in done.stderr
    assert "nothing was imported" in done.stderr
    with open_store(target) as store:
        assert accounts(store) == (["owner"], [])
        assert store.counts()["athletes"] == 0 and store.counts()["trials"] == 0


def test_with_accounts_lists_them_first_then_moves_them_without_tokens(
    source_archive: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(source_archive) as zf:
        assert "tables/api_tokens.jsonl" not in zf.namelist()  # tokens never travel
    target = tmp_path / "target"
    station_with_owner(target).close()
    done = station_cli(
        "import", "--with-accounts", source_archive, "--data-dir", target, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    listed = next(i for i, line in enumerate(lines) if "ana (coach)" in line)
    assert listed < next(i for i, line in enumerate(lines) if line.startswith("athletes:"))
    assert "users: added 1" in done.stdout
    with open_store(target) as store:
        assert accounts(store) == (["ana", "owner"], [])
        ana = store.get_user("ana")
        assert ana is not None and ana.role == "coach"
        assert auth.verify_password(ana.password_hash, "ana-password-1")


@pytest.mark.parametrize(
    ("username", "role", "message"),
    [
        ("kiosk-1", "kiosk", "role must be one of admin, physio, coach"),
        ("eve", "root", "role must be one of admin, physio, coach"),
        (" padded", "coach", "username must be 1-64 characters"),
        ("", "coach", "username must be 1-64 characters"),
        ("a/b", "coach", "may not contain '/'"),
        ("line\nbreak", "coach", "may not contain U+000A"),
        ("kiosk of ana", "coach", "may not start with 'kiosk of'"),
        ("\u0430dmin", "admin", "mixes Cyrillic and Latin letters"),
    ],
)
def test_with_accounts_refuses_what_a_new_account_could_not_be(
    source_archive: Path,
    tmp_path: Path,
    username: str,
    role: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from station.commands.cli import main

    bad = rewrite(
        source_archive,
        tmp_path / "bad.zip",
        {"tables/users.jsonl": jsonl([user_row("fine", "physio"), user_row(username, role)])},
    )
    target = tmp_path / "target"
    assert main(["import", "--with-accounts", str(bad), "--data-dir", str(target)]) == 2
    err = capsys.readouterr().err
    assert "tables/users.jsonl line 2" in err and message in err, err
    with open_store(target) as store:
        assert store.list_users() == [] and store.counts()["athletes"] == 0


def test_with_accounts_refuses_a_lookalike_of_an_account_here_and_logs_it(
    source_archive: Path, tmp_path: Path
) -> None:
    """`Owner` is not `owner`, but reads the same: refused, nothing imported; the security
    log has the refusal and, for a good import, what it added and which accounts."""
    lookalike = {"tables/users.jsonl": jsonl([user_row("Owner", "admin")])}
    bad = rewrite(source_archive, tmp_path / "bad.zip", lookalike)
    target = tmp_path / "target"
    station_with_owner(target).close()
    done = station_cli("import", "--with-accounts", bad, "--data-dir", target, cwd=tmp_path)
    assert done.returncode == 2 and "looks like the existing user 'owner'" in done.stderr
    good = station_cli(
        "import", "--with-accounts", source_archive, "--data-dir", target, cwd=tmp_path
    )
    assert good.returncode == 0, good.stderr
    with open_store(target) as store:
        assert accounts(store) == (["ana", "owner"], [])
        imported, refused = [e for e in store.security_log() if e.kind.startswith("import")]
    assert refused.kind == "import_refused" and refused.subject == "bad.zip"
    assert "looks like the existing user" in refused.detail
    assert imported.kind == "import" and imported.subject == "source.zip"
    assert "users 1" in imported.detail and "accounts given: 'ana'" in imported.detail
    assert imported.actor.startswith("command line (")


# -- import bombs: hard limits, bounded memory ----------------------------------------------

MiB = 1 << 20


def write_zip(path: Path, members: Mapping[str, tuple[int, bytes, int, int]]) -> Path:
    """A zip built byte by byte, as an attacker would: name -> (method, data as stored,
    CRC-32, inflated size). zipfile cannot store data that is already deflated."""
    local, central = bytearray(), bytearray()
    for name, (method, data, crc, size) in members.items():
        encoded = name.encode()
        header = struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size,
            len(encoded), 0,
        )  # fmt: skip
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(data),
            size, len(encoded), 0, 0, 0, 0, 0, len(local),
        ) + encoded  # fmt: skip
        local += header + encoded + data
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0
    )
    path.write_bytes(bytes(local + central + end))
    return path


def stored(data: bytes) -> tuple[int, bytes, int, int]:
    return zipfile.ZIP_STORED, data, zlib.crc32(data), len(data)


def deflate_bomb(mib: int) -> tuple[tuple[int, bytes, int, int], str]:
    """`mib` MiB of spaces, no newline (one endless row), as ~1 KB of deflate per MiB: one
    compressed MiB repeated (a full flush makes every copy identical). With its SHA-256."""
    chunk = b" " * MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    assert zlib.decompress(block * 2 + tail, -15) == chunk * 2  # the copies make one stream
    data = block * mib + tail
    crc, sha = 0, hashlib.sha256()
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
        sha.update(chunk)
    return (zipfile.ZIP_DEFLATED, data, crc, mib * MiB), sha.hexdigest()


def bomb_archive(good: Path, out: Path, member: str, mib: int) -> Path:
    with zipfile.ZipFile(good) as src:
        manifest = json.loads(src.read("manifest.json"))
        members = {i.filename: stored(src.read(i)) for i in src.infolist()}
    members[member], manifest["sha256"][member] = deflate_bomb(mib)
    if member != "manifest.json":
        members["manifest.json"] = stored(json.dumps(manifest).encode())
    return write_zip(out, members)


def test_an_import_bomb_is_refused_in_bounded_memory(source_archive: Path, tmp_path: Path) -> None:
    """1 MB on disk, 1 GiB inflated: refused before it is inflated; the import's peak memory
    stays within 100 MB of an ordinary import's."""
    started = time.monotonic()
    bomb = bomb_archive(source_archive, tmp_path / "bomb.zip", "tables/trials.jsonl", 1024)
    assert bomb.stat().st_size < 1.5 * MiB
    normal = station_cli("import", source_archive, "--data-dir", tmp_path / "a", cwd=tmp_path)
    assert normal.returncode == 0, normal.stderr
    refused = station_cli("import", bomb, "--data-dir", tmp_path / "b", cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "tables/trials.jsonl" in refused.stderr and "nothing was imported" in refused.stderr
    assert refused.peak_rss_mb <= normal.peak_rss_mb + 100, (refused.peak_rss_mb, normal)
    with open_store(tmp_path / "b") as store:
        assert store.counts()["athletes"] == 0
    assert time.monotonic() - started < 30


def _limited(**limits: int) -> ArchiveLimits:
    return dataclasses.replace(ArchiveLimits(), **limits)


@pytest.mark.parametrize(
    ("member", "mib", "limits", "message"),
    [
        ("tables/sessions.jsonl", 8, {}, "inflates 8388608 bytes from"),  # ratio ~1000
        ("tables/sessions.jsonl", 8, {"ratio": 10_000, "member_bytes": 4 * MiB}, "over the limit"),
        ("raw.bin", 3, {"ratio": 10_000, "total_bytes": 2 * MiB}, "in all, over the limit"),
        ("manifest.json", 2, {"ratio": 10_000}, "manifest.json is larger than"),
        ("tables/athletes.jsonl", 2, {"ratio": 10_000}, "line 1 is longer than"),
    ],
)
def test_each_limit_refuses_with_a_clear_message(
    source_archive: Path,
    tmp_path: Path,
    member: str,
    mib: int,
    limits: dict[str, int],
    message: str,
) -> None:
    bomb = bomb_archive(source_archive, tmp_path / "bomb.zip", member, mib)
    store = station_with_owner(tmp_path / "target")
    before = snapshot(store)
    with pytest.raises(ArchiveError, match=message):
        import_archive(store, bomb, limits=_limited(**limits))
    assert snapshot(store) == before
    store.close()


def test_a_zip_that_is_not_what_this_station_writes_is_refused(
    source_archive: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(source_archive) as src:
        members = {i.filename: stored(src.read(i)) for i in src.infolist()}
    cases = {
        "unknown member": {**members, "tables/evil.jsonl": stored(b"{}\n")},
        "missing member": {k: v for k, v in members.items() if k != "tables/sessions.jsonl"},
        "other compression": {
            **members,
            "tables/targets.jsonl": (zipfile.ZIP_BZIP2, b"", 0, 0),
        },
    }
    messages = {
        "unknown member": "tables/evil.jsonl",
        "missing member": "tables/sessions.jsonl",
        "other compression": "compressed with method 12",
    }
    store = open_store(tmp_path / "target")
    for case, content in cases.items():
        path = write_zip(tmp_path / f"{case}.zip", content)
        with pytest.raises(ArchiveError, match=messages[case]):
            import_archive(store, path)
    assert store.counts()["athletes"] == 0
    store.close()


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean nothing changed."""
    with store.read() as conn:
        tables = sa.MetaData()
        tables.reflect(conn)
        return {
            name: sorted(
                (tuple(repr(v) for v in row) for row in conn.execute(sa.select(table))),
            )
            for name, table in sorted(tables.tables.items())
        }


# -- content: every row validated as the API would, the refusal names entry and field --------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A station's archive: 2 athletes, 2 sessions each, 2 trials a session (with raw)."""
    folder = tmp_path_factory.mktemp("history")
    with open_store(folder / "source") as source:
        populate(source, n_athletes=2, n_sessions=2, n_trials=2, duration_s=2.0)
        export_archive(source, folder / "history.zip")
    return folder / "history.zip"


def table(archive: Path, name: str) -> list[dict[str, Any]]:
    with zipfile.ZipFile(archive) as zf:
        return [json.loads(line) for line in zf.read(f"tables/{name}.jsonl").splitlines()]


def with_row_change(
    archive: Path, out: Path, member: str, index: int, changes: Mapping[str, Any]
) -> Path:
    rows = table(archive, member)
    rows[index].update(changes)
    return rewrite(archive, out, {f"tables/{member}.jsonl": jsonl(rows)})


def with_raw_change(archive: Path, out: Path, damage: str) -> Path:
    """Trial 0's raw frames damaged in raw.bin (its index untouched unless `damage` says)."""
    trials = table(archive, "trials")
    with zipfile.ZipFile(archive) as zf:
        raw = bytearray(zf.read("raw.bin"))
    first = trials[0]
    if damage == "codec":
        raw[first["raw_offset"]] = 9  # a codec version nobody wrote
    elif damage == "frame_count":
        first["n_frames"] += 1
    elif damage == "truncated_blob":
        first["raw_length"] -= 7
    return rewrite(archive, out, {"raw.bin": bytes(raw), "tables/trials.jsonl": jsonl(trials)})


BAD_ROWS = [
    # (table, row index, changes, what the refusal says after "tables/<table>.jsonl line N: ")
    ("athletes", 0, {"name": ["Ana"]}, "name must be a string"),
    ("athletes", 1, {"name": "A" * 5000}, "name is too long (max 100 characters)"),
    ("athletes", 0, {"name": "Ana\x00\u202e"}, "name contains control characters"),
    ("athletes", 0, {"birth_year": "<script>alert(1)</script>"}, "birth_year must be an integer"),
    ("athletes", 0, {"dominant_leg": "middle"}, "dominant_leg must be one of left, right, both"),
    ("athletes", 0, {"uid": "../../etc"}, "uid must be a uid"),
    ("sessions", 2, {"stiffness": 99}, "stiffness must be <= 10, got 99"),
    ("sessions", 0, {"sleep_hours": "8"}, "sleep_hours must be a number"),
    ("sessions", 0, {"started_at": "yesterday"}, "started_at must be a date-time"),
    ("sessions", 0, {"athlete_uid": new_uid()}, "athlete_uid"),
    ("trials", 0, {"seq": "1"}, "seq must be an integer"),
    ("trials", 0, {"seq": 10**30}, "seq must be <="),
    ("trials", 0, {"clock_synced": "yes"}, "clock_synced must be true or false"),
    ("trials", 0, {"stance": '<img src=x onerror="alert(1)">'}, "stance must be a label"),
    ("trials", 0, {"outcome": "won"}, "outcome must be one of complete, failed, aborted"),
    ("trials", 0, {"metrics": "fast"}, "metrics must be an object"),
    ("trials", 0, {"score": float("inf")}, "score must be a finite number"),
    ("trials", 0, {"perturbation_onsets_s": [1.0, "x"]}, "perturbation_onsets_s must be a list"),
    ("trials", 0, {"raw_length": 10**9}, "raw_length must be <="),
    ("calibrations", 0, {"data": [1, 2]}, "data must be an object"),
    ("tombstones", 0, {"kind": "user"}, "kind must be one of athlete"),
]


def _bad_archive(history: Path, out: Path, case: str) -> tuple[Path, str]:
    if case.startswith("raw:"):
        damage = case.split(":", 1)[1]
        message = {
            "codec": "tables/trials.jsonl line 1: raw frames are unreadable",
            "frame_count": "tables/trials.jsonl line 1: n_frames",
            "truncated_blob": "tables/trials.jsonl line 1: raw frames are unreadable",
        }[damage]
        return with_raw_change(history, out, damage), message
    if case == "duplicate":
        athletes = table(history, "athletes")
        twice = jsonl([athletes[0], athletes[1], athletes[0]])
        bad = rewrite(history, out, {"tables/athletes.jsonl": twice})
        return bad, f"tables/athletes.jsonl line 3: uid {athletes[0]['uid']} appears twice"
    name, index, changes, text = BAD_ROWS[int(case)]
    message = f"tables/{name}.jsonl line {index + 1}: {text}"
    if name == "tombstones":
        rows = [{"uid": new_uid(), "kind": "athlete", "deleted_at": WHEN}]
        bad = rewrite(history, out, {"tables/tombstones.jsonl": jsonl(rows)})
        return with_row_change(bad, out.with_suffix(".2.zip"), name, index, changes), message
    return with_row_change(history, out, name, index, changes), message


CASES = [str(i) for i in range(len(BAD_ROWS))] + [
    "raw:codec",
    "raw:frame_count",
    "raw:truncated_blob",
    "duplicate",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_row_is_refused_naming_it_and_nothing_changes(
    history: Path, store: Store, tmp_path: Path, case: str
) -> None:
    """Refused with the entry and the field, no traceback, and the station row for row as
    it was (its own history, accounts and settings)."""
    populate(store, n_athletes=1, n_sessions=1, n_trials=1, seed=9, duration_s=2.0)
    store.add_user(User(username="owner", role="admin", password_hash="$argon2id$x"))
    bad, message = _bad_archive(history, tmp_path / "bad.zip", case)
    before = snapshot(store)
    with pytest.raises(ArchiveError) as refused:
        import_archive(store, bad)
    assert message in str(refused.value)
    assert snapshot(store) == before


def test_naive_times_are_taken_as_utc_like_the_api(
    history: Path, store: Store, tmp_path: Path
) -> None:
    sessions = table(history, "sessions")
    sessions[0]["started_at"] = "2025-01-06T09:00:00"  # no offset
    archive = rewrite(history, tmp_path / "naive.zip", {"tables/sessions.jsonl": jsonl(sessions)})
    import_archive(store, archive)
    [session] = [
        s
        for a in store.list_athletes()
        for s in store.list_sessions(a.uid)
        if s.uid == sessions[0]["uid"]
    ]
    assert session.started_at.isoformat() == "2025-01-06T09:00:00+00:00"


def test_a_tombstone_never_hides_an_athlete_who_is_here(
    history: Path, store: Store, tmp_path: Path
) -> None:
    """An archive saying "deleted" for an athlete who lives here neither deletes them nor
    makes later imports skip their data; the report says so."""
    import_archive(store, history)
    athlete = table(history, "athletes")[0]["uid"]
    tomb = [{"uid": athlete, "kind": "athlete", "deleted_at": WHEN}]
    archive = rewrite(history, tmp_path / "tomb.zip", {"tables/tombstones.jsonl": jsonl(tomb)})
    report = import_archive(store, archive)
    assert report["tombstones"]["not_applied"] == 1 and report["tombstones"]["added"] == 0
    assert store.get_athlete(athlete).uid == athlete
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM tombstones")).scalar() == 0
    assert len(store.athlete_history(athlete)) == 4


def test_a_calibration_is_stored_under_its_own_content_hash(
    history: Path, store: Store, tmp_path: Path
) -> None:
    """The archive's hash is not trusted: a calibration claiming another one's hash would
    otherwise capture every later trial recorded with that other calibration."""
    calibrations = table(history, "calibrations")
    calibrations[0]["content_sha256"] = "0" * 64
    twin = {**calibrations[0], "uid": new_uid()}  # the same content under another uid
    trials = table(history, "trials")
    trials[-1]["calibration_uid"] = twin["uid"]
    archive = rewrite(
        history,
        tmp_path / "cal.zip",
        {
            "tables/calibrations.jsonl": jsonl([*calibrations, twin]),
            "tables/trials.jsonl": jsonl(trials),
        },
    )
    report = import_archive(store, archive)
    assert report["calibrations"] == {"added": 1, "present": 1, "skipped_deleted": 0}
    with store.read() as conn:
        [(digest, data)] = conn.execute(sa.text("SELECT content_sha256, data FROM calibrations"))
    assert digest == hashlib.sha256(data.encode()).hexdigest() != "0" * 64
    assert store.load_trial(trials[-1]["uid"]).calibration == json.loads(data)


def test_imported_rows_meet_the_same_limits_as_the_api() -> None:
    """The API's schemas (what a coach can type) and the import's rules (row_rules.py) agree
    on every field both know, so an archive cannot carry what the API would refuse."""
    from station.store import row_rules, schema
    from station.web.views import api_athletes as api

    pairs = {
        schema.athletes: api.ATHLETE_FIELDS,
        schema.sessions: api.SESSION_FIELDS,
        schema.targets: api.TARGET_FIELDS,
    }
    for table, fields in pairs.items():
        rules = row_rules.table_rules(table)
        for name, field in fields.items():
            rule, where = rules[name], (table.name, name)
            if field.choices:
                assert rule.choices == tuple(c for c in field.choices if c is not None), where
            elif field.kind == "str":
                assert rule.max_length == field.max_length, where
            if field.minimum is not None or field.maximum is not None:
                assert (rule.minimum, rule.maximum) == (field.minimum, field.maximum), where
    assert row_rules.TARGET_MEASURES_EXTRA == api.TARGET_MEASURES_EXTRA
