"""Whole-station archive: one zip file that another station imports without duplicates.

Why a zip of JSON lines: readable by anyone (no database needed to inspect it), streams at any
size, and independent of the database schema (rows name their references by uid, never by
local integer id). Layout:

  manifest.json          format, format_version, schema revision, station uid, row counts,
                         sha256 of every member (a truncated or altered file is refused)
  tables/<table>.jsonl   one JSON object per row
  raw.bin                the trials' raw-frame blobs back to back (offset/length in trials)

Import runs in ONE transaction after checking every checksum: a bad archive changes nothing.
Rows already present (same uid; users by username; calibrations by content) are skipped;
athletes deleted here (tombstones) are not brought back.

What travels: history (athletes, sessions with their logs, trials, targets, calibrations,
tombstones). Accounts are one station's credentials: they are exported, but an import adds
them only when the caller passes them explicitly (`import --with-accounts` validates and lists
them first). API tokens never travel: export does not write them, import ignores the table
(archives made before this rule have one).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from station.store import migrate
from station.store.records import User, utcnow
from station.store.repository import Store
from station.store.schema import (
    UTCDateTime,
    athletes,
    calibrations,
    sessions,
    targets,
    tombstones,
    trial_metrics,
    trial_raw,
    trials,
    users,
)
from station.store.untrusted_zip import (
    ArchiveError,
    ArchiveLimits,
    ForwardReader,
    check_members,
    count_lines,
    lines,
    read_small,
    sha256,
)

FORMAT = "balance-station-archive"
FORMAT_VERSION = 1
MANIFEST, RAW = "manifest.json", "raw.bin"
LIMITS = ArchiveLimits()
_BATCH = 2000  # rows written at once...
_BATCH_BYTES = 8 << 20  # ...or fewer, when they (or their raw frames) come to 8 MiB

# table -> {local FK column: (referenced table, exported field name)}
_REFS: dict[str, dict[str, tuple[sa.Table, str]]] = {
    "athletes": {},
    "calibrations": {},
    "users": {},
    "tombstones": {},
    "sessions": {"athlete_id": (athletes, "athlete_uid")},
    "targets": {"athlete_id": (athletes, "athlete_uid")},
    "trials": {
        "session_id": (sessions, "session_uid"),
        "calibration_id": (calibrations, "calibration_uid"),
    },
}
_TABLES: dict[str, sa.Table] = {
    "athletes": athletes,
    "calibrations": calibrations,
    "users": users,
    "tombstones": tombstones,
    "sessions": sessions,
    "targets": targets,
    "trials": trials,
}
# The history an import brings, in an order where every reference is imported before it.
_HISTORY = ("tombstones", "athletes", "calibrations", "sessions", "targets", "trials")
# Tables an import never writes: accounts only when passed explicitly, tokens never.
_ACCOUNTS, _TOKENS = "users", "api_tokens"
_TOKENS_MEMBER = f"tables/{_TOKENS}.jsonl"  # only in archives made before tokens stayed home
_RAW_FIELDS = ("raw_offset", "raw_length", "n_frames", "n_discarded", "rate_hz")
# Trial fields kept in side tables in the database but inline in the archive's trial rows.
_TRIAL_EXTRA = (*_RAW_FIELDS, "metrics")


def _plain_columns(name: str) -> list[sa.Column]:
    skip = {"id", "athlete_id"} if name == "trials" else {"id"}
    return [c for c in _TABLES[name].c if c.name not in skip and c.name not in _REFS[name]]


def _field_names(name: str) -> set[str]:
    names = {c.name for c in _plain_columns(name)} | {f for _, f in _REFS[name].values()}
    return names | set(_TRIAL_EXTRA) if name == "trials" else names


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# -- export ---------------------------------------------------------------------------------


def export_archive(store: Store, path: str | os.PathLike[str]) -> dict[str, int]:
    """Write the whole station to `path` (atomically: a temp file renamed at the end)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".zip", dir=path.parent or ".")
    os.close(fd)
    counts: dict[str, int] = {}
    digests: dict[str, str] = {}
    try:
        with (
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
            store.read() as conn,
        ):
            raw_index: dict[int, tuple[int, int, int, int, float | None]] = {}
            sha = hashlib.sha256()
            info = zipfile.ZipInfo(RAW, date_time=utcnow().timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED  # the blobs are already compressed
            with zf.open(info, "w", force_zip64=True) as out:
                offset = 0
                rows = conn.execution_options(stream_results=True, yield_per=500).execute(
                    sa.select(trial_raw).order_by(trial_raw.c.trial_id)
                )
                for r in rows:
                    blob = bytes(r.data)
                    out.write(blob)
                    sha.update(blob)
                    raw_index[r.trial_id] = (
                        offset,
                        len(blob),
                        r.n_frames,
                        r.n_discarded,
                        r.rate_hz,
                    )
                    offset += len(blob)
            digests[RAW] = sha.hexdigest()
            for name in _TABLES:
                member = f"tables/{name}.jsonl"
                counts[name], digests[member] = _write_table(zf, conn, name, member, raw_index)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "schema_revision": migrate.current_revision(store.engine),
                "station_uid": store.station_uid,
                "created_at": utcnow().isoformat(),
                "counts": counts,
                "sha256": digests,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts


def _write_table(
    zf: zipfile.ZipFile,
    conn: sa.Connection,
    name: str,
    member: str,
    raw_index: dict[int, tuple[int, int, int, int, float | None]],
) -> tuple[int, str]:
    table = _TABLES[name]
    cols = [table.c[c.name] for c in _plain_columns(name)]
    joins: Any = table
    for fk, (ref, field) in _REFS[name].items():
        alias = ref.alias(f"ref_{fk}")
        cols.append(alias.c.uid.label(field))
        joins = joins.outerjoin(alias, alias.c.id == table.c[fk])
    if name == "trials":
        cols += [table.c.id.label("_id"), trial_metrics.c.metrics]
        joins = joins.outerjoin(trial_metrics, trial_metrics.c.trial_id == table.c.id)
    query = sa.select(*cols).select_from(joins)
    if "id" in table.c:
        query = query.order_by(table.c.id)
    sha = hashlib.sha256()
    n = 0
    with zf.open(member, "w", force_zip64=True) as out:
        for row in conn.execution_options(stream_results=True, yield_per=2000).execute(query):
            record = {k: _to_json(v) for k, v in row._mapping.items()}
            if name == "trials":
                raw = raw_index.get(record.pop("_id"))
                if raw is not None:
                    record.update(zip(_RAW_FIELDS, raw, strict=True))
            line = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode()
            out.write(line)
            sha.update(line)
            n += 1
    return n, sha.hexdigest()


# -- import ---------------------------------------------------------------------------------


def _members() -> tuple[list[str], list[str]]:
    """(required, optional) member names of an archive this station reads."""
    required = [MANIFEST, RAW, *(f"tables/{t}.jsonl" for t in _TABLES)]
    return required, [_TOKENS_MEMBER]


@contextmanager
def _open_archive(
    path: str | os.PathLike[str], limits: ArchiveLimits
) -> Iterator[tuple[zipfile.ZipFile, dict[str, Any]]]:
    """The archive and its manifest, once every check has passed: a readable zip of exactly
    the expected members within `limits`, a known format and schema, intact checksums."""
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"{path} does not exist or is not a file")
    try:
        with zipfile.ZipFile(path) as zf:
            if MANIFEST not in zf.namelist():
                raise ArchiveError(
                    f"{path} is a zip file but not a station archive (no {MANIFEST})"
                )
            manifest = _check_manifest(path, read_small(zf, MANIFEST, limits.manifest_bytes))
            required, optional = _members()
            check_members(zf, required, optional, limits)
            expected = manifest.get("sha256")
            if not isinstance(expected, dict):
                raise ArchiveError(f"{path}: {MANIFEST} lists no checksums")
            for member in required[1:]:
                if member not in expected:
                    raise ArchiveError(f"archive manifest lists no checksum for {member}")
                if sha256(zf, member) != expected[member]:
                    raise ArchiveError(f"archive member {member} is damaged (checksum mismatch)")
            yield zf, manifest
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{path} is not a station archive or is truncated ({exc})") from None
    except (KeyError, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{path} is incomplete or damaged ({exc})") from None


def _check_manifest(path: Path, text: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ArchiveError(f"{path}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{path} is not a balance-station archive")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"archive format version {version} is not supported (this station reads "
            f"version {FORMAT_VERSION}; update balance-station)"
        )
    revision = manifest.get("schema_revision")
    if not isinstance(revision, str) or revision not in migrate.known_revisions():
        raise ArchiveError(
            f"archive comes from schema revision {revision!r}, unknown here "
            "(made by a newer balance-station?)"
        )
    return manifest


def read_manifest(path: str | os.PathLike[str], limits: ArchiveLimits = LIMITS) -> dict[str, Any]:
    """Open and check an archive's manifest and checksums; ArchiveError says what is wrong."""
    with _open_archive(path, limits) as (_, manifest):
        return manifest


def read_accounts(path: str | os.PathLike[str], limits: ArchiveLimits = LIMITS) -> list[User]:
    """The accounts in an archive, in file order (entry i is line i + 1 of
    tables/users.jsonl), for the caller to validate and show before `import_archive`."""
    with _open_archive(path, limits) as (zf, _):
        ctx = _ImportContext(None, zf, limits)
        return [User(**ctx._convert(_ACCOUNTS, row)) for _, row in ctx._rows(_ACCOUNTS)]


def import_archive(
    store: Store,
    path: str | os.PathLike[str],
    accounts: Sequence[User] | None = None,
    limits: ArchiveLimits = LIMITS,
) -> dict[str, dict[str, int]]:
    """Merge an archive's history into the store in one transaction; returns per table how
    many rows were added, already present, or skipped because the athlete was deleted here.

    `accounts` (from read_accounts, checked by the caller) are added too, unless their
    username is here already; without them the archive's accounts are only counted
    (`not_imported`), like its API tokens, which are never imported. Memory stays bounded
    whatever the archive holds: rows are read line by line within `limits` and written in
    batches of bounded size."""
    report: dict[str, dict[str, int]] = {}
    with _open_archive(path, limits) as (zf, _), store.write() as conn:
        ctx = _ImportContext(conn, zf, limits)
        try:
            for name in _HISTORY:
                report[name] = ctx.import_table(name)
        finally:
            ctx.raw.close()
        if accounts is None:
            report[_ACCOUNTS] = {"not_imported": count_lines(zf, f"tables/{_ACCOUNTS}.jsonl")}
        else:
            report[_ACCOUNTS] = ctx.import_accounts(accounts)
        if _TOKENS_MEMBER in zf.namelist():
            report[_TOKENS] = {"not_imported": count_lines(zf, _TOKENS_MEMBER)}
    return report


class _ImportContext:
    def __init__(
        self, conn: sa.Connection | None, zf: zipfile.ZipFile, limits: ArchiveLimits
    ) -> None:
        self.conn: sa.Connection = conn  # type: ignore[assignment]  # None: reading only
        self.zf = zf
        self.limits = limits
        self.ids: dict[str, dict[str, int]] = {}  # table -> uid -> local id
        self.dropped_athletes = (
            {r[0] for r in conn.execute(sa.select(tombstones.c.uid))} if conn else set()
        )
        self.skipped: set[str] = set()  # uids left out because their athlete was deleted
        # raw.bin is read front to back: trials and their blobs are both in trial order.
        self.raw = ForwardReader(zf.open(RAW), RAW)

    def import_accounts(self, accounts: Sequence[User]) -> dict[str, int]:
        names = [a.username for a in accounts]
        uids = [a.uid for a in accounts]
        here = set(
            self.conn.scalars(sa.select(users.c.username).where(users.c.username.in_(names)))
        )
        here_uids = set(self.conn.scalars(sa.select(users.c.uid).where(users.c.uid.in_(uids))))
        new = [a for a in accounts if a.username not in here and a.uid not in here_uids]
        if new:
            self.conn.execute(
                users.insert(),
                [
                    {
                        "uid": a.uid,
                        "username": a.username,
                        "role": a.role,
                        "password_hash": a.password_hash,
                        "active": a.active,
                        "created_at": a.created_at or utcnow(),
                    }
                    for a in new
                ],
            )
        return {"added": len(new), "present": len(accounts) - len(new)}

    def _rows(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        allowed = _field_names(name)
        member = f"tables/{name}.jsonl"
        for lineno, line in lines(self.zf, member, self.limits.row_bytes):
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                raise ArchiveError(f"{member} line {lineno}: bad JSON ({exc})") from None
            if not isinstance(row, dict) or "uid" not in row:
                raise ArchiveError(f"{member} line {lineno}: not a row")
            unknown = set(row) - allowed
            if unknown:
                raise ArchiveError(
                    f"{member} has fields this station does not know: "
                    f"{sorted(unknown)} (a different schema)"
                )
            yield len(line), row

    def _convert(self, name: str, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for col in _plain_columns(name):
            value = row.get(col.name)
            try:
                if value is not None and isinstance(col.type, UTCDateTime):
                    value = datetime.fromisoformat(value)
                elif value is not None and isinstance(col.type, sa.Date):
                    value = date.fromisoformat(value)
            except (TypeError, ValueError) as exc:
                raise ArchiveError(f"a {name} row has a bad {col.name}: {exc}") from None
            if value is None and not col.nullable:
                if col.server_default is not None:
                    continue
                raise ArchiveError(f"a {name} row has no {col.name} (required)")
            out[col.name] = value
        return out

    def _existing(self, table: sa.Table, key: str, values: list[Any]) -> dict[Any, int]:
        values = [v for v in values if v is not None]
        if not values:
            return {}
        col = table.c[key]
        return dict(self.conn.execute(sa.select(col, table.c.id).where(col.in_(values))).all())

    def import_table(self, name: str) -> dict[str, int]:
        stats = {"added": 0, "present": 0, "skipped_deleted": 0}
        batch: list[dict[str, Any]] = []
        size = 0
        for length, row in self._rows(name):
            batch.append(row)
            size += length
            if len(batch) >= _BATCH or size >= _BATCH_BYTES:
                self._flush(name, batch, stats)
                batch, size = [], 0
        self._flush(name, batch, stats)
        return stats

    def _ref(self, name: str, row: dict[str, Any], field: str, table: sa.Table) -> int | None:
        uid = row.get(field)
        if uid is None:
            return None
        known = self.ids.setdefault(table.name, {})
        if uid not in known:
            known.update(self._existing(table, "uid", [uid]))
            if uid not in known:
                raise ArchiveError(
                    f"a {name} row refers to {field} {uid}, which is neither in the archive "
                    "nor here (damaged archive)"
                )
        return known[uid]

    def _parent_skipped(self, name: str, row: dict[str, Any]) -> bool:
        if name == "athletes":
            return row["uid"] in self.dropped_athletes
        parent = {"sessions": "athlete_uid", "targets": "athlete_uid", "trials": "session_uid"}
        field = parent.get(name)
        return field is not None and (
            row.get(field) in self.skipped or row.get(field) in self.dropped_athletes
        )

    def _flush(self, name: str, batch: list[dict[str, Any]], stats: dict[str, int]) -> None:
        if not batch:
            return
        table = _TABLES[name]
        if name == "tombstones":
            have = self._existing_keys(tombstones.c.uid, [r["uid"] for r in batch])
            new = [self._convert(name, r) for r in batch if r["uid"] not in have]
            if new:
                self.conn.execute(tombstones.insert(), new)
            self.dropped_athletes |= {r["uid"] for r in batch}
            stats["added"] += len(new)
            stats["present"] += len(batch) - len(new)
            return
        key = {"users": "username", "calibrations": "content_sha256"}.get(name, "uid")
        existing = self._existing(table, key, [r.get(key) for r in batch])
        ids = self.ids.setdefault(name, {})
        new_rows: list[dict[str, Any]] = []
        with_raw: list[dict[str, Any]] = []
        with_metrics: list[dict[str, Any]] = []
        for row in batch:
            if row.get(key) in existing:
                ids[row["uid"]] = existing[row[key]]
                stats["present"] += 1
            elif self._parent_skipped(name, row):
                self.skipped.add(row["uid"])
                stats["skipped_deleted"] += 1
            else:
                values = self._convert(name, row)
                for fk, (ref, field) in _REFS[name].items():
                    values[fk] = self._ref(name, row, field, ref)
                new_rows.append(values)
                if name == "trials" and row.get("raw_offset") is not None:
                    with_raw.append(row)
                if name == "trials" and row.get("metrics") is not None:
                    with_metrics.append(row)
        if not new_rows:
            return
        if name == "trials":
            session_ids = list({r["session_id"] for r in new_rows})
            owner = dict(
                self.conn.execute(
                    sa.select(sessions.c.id, sessions.c.athlete_id).where(
                        sessions.c.id.in_(session_ids)
                    )
                ).all()
            )
            for r in new_rows:
                r["athlete_id"] = owner[r["session_id"]]
        self.conn.execute(table.insert(), new_rows)
        ids.update(self._existing(table, "uid", [r["uid"] for r in new_rows]))
        stats["added"] += len(new_rows)
        pending: list[dict[str, Any]] = []
        size = 0
        for r in with_raw:  # blobs in pieces of bounded size, not the batch's all at once
            pending.append(self._raw_row(ids, r))
            size += len(pending[-1]["data"])
            if size >= _BATCH_BYTES:
                self.conn.execute(trial_raw.insert(), pending)
                pending, size = [], 0
        if pending:
            self.conn.execute(trial_raw.insert(), pending)
        if with_metrics:
            self.conn.execute(
                trial_metrics.insert(),
                [{"trial_id": ids[r["uid"]], "metrics": r["metrics"]} for r in with_metrics],
            )

    def _existing_keys(self, col: sa.Column, values: list[Any]) -> set[Any]:
        return set(self.conn.scalars(sa.select(col).where(col.in_(values))))

    def _raw_row(self, ids: dict[str, int], row: dict[str, Any]) -> dict[str, Any]:
        offset, length = row["raw_offset"], row["raw_length"]
        if not (isinstance(offset, int) and isinstance(length, int) and offset >= 0):
            raise ArchiveError(f"trial {row['uid']}: raw_offset and raw_length must be integers")
        if not 0 < length <= self.limits.raw_blob_bytes:
            raise ArchiveError(
                f"trial {row['uid']}: raw_length {length} is outside 1-"
                f"{self.limits.raw_blob_bytes} bytes"
            )
        return {
            "trial_id": ids[row["uid"]],
            "n_frames": row["n_frames"],
            "n_discarded": row["n_discarded"],
            "rate_hz": row["rate_hz"],
            "data": self.raw.read(offset, length),
        }
