"""Whole-station archive: one zip file that another station imports without duplicates.

Why a zip of JSON lines: readable by anyone (no database needed to inspect it), streams at any
size, and independent of the database schema (rows name their references by uid, never by
local integer id). Layout:

  manifest.json          format, format_version, schema revision, station uid, row counts,
                         sha256 of every member (a truncated or altered file is refused)
  tables/<table>.jsonl   one JSON object per row
  raw.bin                the trials' raw-frame blobs back to back (offset/length in trials)

An archive is untrusted input. Import checks the zip (untrusted_zip.py: members, sizes,
compression ratio, checksums) before anything is inflated, then reads each table line by line,
checks every row field by field (row_rules.py: what the API would accept) and decodes every
raw recording, all in ONE transaction: the first bad row refuses the import, naming the line
and the field, and nothing changes. Rows already present (same uid; users by username;
calibrations by content, hashed here, not taken from the archive) are skipped; athletes
deleted here (tombstones) are not brought back, and an archive's tombstone never hides an
athlete who is here.

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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from station.store import migrate, rawframes
from station.store.rawframes import RawFramesError
from station.store.records import User, utcnow
from station.store.repository import Store, StoreError, calibration_hash, check_new_username
from station.store.row_rules import RowError, Rule, check_row, table_rules
from station.store.schema import (
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
# A trial's raw frames and metrics live in side tables, inline in the archive's trial rows.
_RAW_COLUMNS = tuple(c.name for c in trial_raw.c if c.name not in ("trial_id", "data"))
_RAW_FIELDS = ("raw_offset", "raw_length", *_RAW_COLUMNS)  # where in raw.bin, then the columns


def _plain_columns(name: str) -> list[sa.Column]:
    skip = {"id", "athlete_id"} if name == "trials" else {"id"}
    return [c for c in _TABLES[name].c if c.name not in skip and c.name not in _REFS[name]]


def _row_rules(name: str, limits: ArchiveLimits) -> dict[str, Rule]:
    """Every field of an archived row of table `name`, with its rule (row_rules.py)."""
    table = _TABLES[name]
    plain = {c.name for c in _plain_columns(name)}
    rules = table_rules(table, skip={c.name for c in table.c} - plain)
    for fk, (_, field) in _REFS[name].items():
        rules[field] = Rule("uid", optional=table.c[fk].nullable)
    if name == "trials":
        rules |= table_rules(trial_raw, skip={"trial_id", "data"})
        rules["n_frames"] = replace(rules["n_frames"], minimum=0, maximum=limits.raw_frames)
        rules["n_discarded"] = rules["n_frames"]
        rules["rate_hz"] = replace(rules["rate_hz"], minimum=0, maximum=100_000)
        rules["raw_offset"] = Rule("int", minimum=0, maximum=limits.total_bytes)
        rules["raw_length"] = Rule("int", minimum=1, maximum=limits.raw_blob_bytes)
        rules["metrics"] = Rule("object")
        for field in _RAW_COLUMNS:  # all of them, or none (a trial whose raw was purged)
            rules[field] = replace(rules[field], optional=True)
    return rules


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
        return _ImportContext(None, zf, limits).accounts()


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
    try:
        with _open_archive(path, limits) as (zf, _), store.write() as conn:
            ctx = _ImportContext(conn, zf, limits)
            try:
                for name in _HISTORY:
                    report[name] = ctx.import_table(name)
            finally:
                ctx.close()
            if accounts is None:
                users_member = f"tables/{_ACCOUNTS}.jsonl"
                report[_ACCOUNTS] = {"not_imported": count_lines(zf, users_member)}
            else:
                report[_ACCOUNTS] = ctx.import_accounts(accounts)
            if _TOKENS_MEMBER in zf.namelist():
                report[_TOKENS] = {"not_imported": count_lines(zf, _TOKENS_MEMBER)}
    except sa.exc.IntegrityError as exc:  # what the checks above did not foresee
        reason = str(exc.orig).splitlines()[0][:200]
        raise ArchiveError(f"the archive's rows conflict with this station's ({reason})") from None
    return report


@dataclass
class _Row:
    line: int
    values: dict[str, Any]


class _ImportContext:
    """One import: the rows of each table are read, checked and written in bounded batches.

    References are resolved per batch with a query (rows imported earlier in the same
    transaction are visible), so memory does not grow with the archive; what is kept across
    batches: the uids of sessions left out because their athlete was deleted here (their
    trials are left out too) and the calibrations found here under another uid."""

    def __init__(
        self, conn: sa.Connection | None, zf: zipfile.ZipFile, limits: ArchiveLimits
    ) -> None:
        self.conn: sa.Connection = conn  # type: ignore[assignment]  # None: reading only
        self.zf = zf
        self.limits = limits
        self.rules = {name: _row_rules(name, limits) for name in _TABLES}
        self.skipped_sessions: set[str] = set()
        self.calibration_alias: dict[str, int] = {}  # archive uid -> same content here
        self._same_in_batch: dict[str, str] = {}  # uid -> uid of the same content, this batch
        # raw.bin is read front to back: trials and their blobs are both in trial order.
        self.raw = ForwardReader(zf.open(RAW), RAW) if conn is not None else None

    # -- reading ---------------------------------------------------------------------------

    def rows(self, name: str) -> Iterator[tuple[int, _Row]]:
        """(bytes, checked row) for each line of the table; ArchiveError names line and field."""
        member = f"tables/{name}.jsonl"
        for lineno, line in lines(self.zf, member, self.limits.row_bytes):
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                raise ArchiveError(f"{member} line {lineno}: bad JSON ({exc})") from None
            if not isinstance(row, dict):
                raise ArchiveError(f"{member} line {lineno}: not a row (a JSON object)")
            try:
                values = check_row(self.rules[name], row)
            except RowError as exc:
                raise ArchiveError(f"{member} line {lineno}: {exc}") from None
            yield len(line), _Row(lineno, values)

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def accounts(self) -> list[User]:
        return [User(**row.values) for _, row in self.rows(_ACCOUNTS)]

    # -- writing ---------------------------------------------------------------------------

    def import_accounts(self, accounts: Sequence[User]) -> dict[str, int]:
        names = [a.username for a in accounts]
        uids = [a.uid for a in accounts]
        here = set(
            self.conn.scalars(sa.select(users.c.username).where(users.c.username.in_(names)))
        )
        here_uids = set(self.conn.scalars(sa.select(users.c.uid).where(users.c.uid.in_(uids))))
        new = [a for a in accounts if a.username not in here and a.uid not in here_uids]
        for account in new:  # one by one: a lookalike of an account added just before counts
            try:
                check_new_username(self.conn, account.username)
            except StoreError as exc:
                raise ArchiveError(f"tables/{_ACCOUNTS}.jsonl: {exc}") from None
            self.conn.execute(
                users.insert(), asdict(account) | {"created_at": account.created_at or utcnow()}
            )
        return {"added": len(new), "present": len(accounts) - len(new)}

    def import_table(self, name: str) -> dict[str, int]:
        stats = {"added": 0, "present": 0, "skipped_deleted": 0}
        if name == "tombstones":
            stats = {"added": 0, "present": 0, "not_applied": 0}
        table = _TABLES[name]
        # ids from here on are rows this import added: a uid found there came twice
        first_new = None
        if "id" in table.c:
            first_new = int(self.conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        batch: list[_Row] = []
        size = 0
        for length, row in self.rows(name):
            batch.append(row)
            size += length
            if len(batch) >= _BATCH or size >= _BATCH_BYTES:
                self._flush(name, batch, stats, first_new)
                batch, size = [], 0
        self._flush(name, batch, stats, first_new)
        return stats

    def _existing(self, table: sa.Table, key: str, values: Iterable[Any]) -> dict[Any, int]:
        wanted = list({v for v in values if v is not None})
        if not wanted:
            return {}
        col = table.c[key]
        return dict(self.conn.execute(sa.select(col, table.c.id).where(col.in_(wanted))).all())

    def _tombstoned(self, uids: Iterable[str]) -> set[str]:
        wanted = list(set(uids))
        return set(
            self.conn.scalars(sa.select(tombstones.c.uid).where(tombstones.c.uid.in_(wanted)))
        )

    def _flush(
        self, name: str, batch: list[_Row], stats: dict[str, int], first_new: int | None
    ) -> None:
        if not batch:
            return
        member = f"tables/{name}.jsonl"
        seen: set[str] = set()
        for row in batch:
            if row.values["uid"] in seen:
                raise ArchiveError(
                    f"{member} line {row.line}: uid {row.values['uid']} appears twice"
                )
            seen.add(row.values["uid"])
        if name == "tombstones":
            self._flush_tombstones(batch, stats)
            return
        table = _TABLES[name]
        here = self._existing(table, "uid", seen)
        fresh: list[_Row] = []
        for row in batch:
            local = here.get(row.values["uid"])
            if local is None:
                fresh.append(row)
                continue
            if first_new is not None and local >= first_new:  # added by this very import
                raise ArchiveError(
                    f"{member} line {row.line}: uid {row.values['uid']} appears twice"
                )
            stats["present"] += 1
        if name == "calibrations":
            fresh = self._new_calibrations(fresh, stats)
        else:
            fresh = self._with_references(name, member, fresh, stats)
        if not fresh:
            return
        columns = {c.name for c in table.c}
        self._insert(table, [{k: v for k, v in r.values.items() if k in columns} for r in fresh])
        ids = self._existing(table, "uid", (r.values["uid"] for r in fresh))
        stats["added"] += len(fresh)
        for uid, first in self._same_in_batch.items():
            self.calibration_alias[uid] = ids[first]
        self._same_in_batch = {}
        if name == "trials":
            self._write_raw(member, [r for r in fresh if "raw_offset" in r.values], ids)
            metrics = [
                {"trial_id": ids[r.values["uid"]], "metrics": r.values["metrics"]}
                for r in fresh
                if r.values.get("metrics") is not None
            ]
            if metrics:
                self.conn.execute(trial_metrics.insert(), metrics)

    def _new_calibrations(self, rows: list[_Row], stats: dict[str, int]) -> list[_Row]:
        """Calibrations not known here by content. The archive's hash is not trusted (a row
        claiming another calibration's hash would capture that one's later trials): it is
        computed from the content."""
        for row in rows:
            row.values["content_sha256"] = calibration_hash(row.values["data"])
        here = self._existing(
            calibrations, "content_sha256", (r.values["content_sha256"] for r in rows)
        )
        first_with: dict[str, str] = {}  # content -> uid of the batch's first row with it
        new = []
        for row in rows:
            uid, digest = row.values["uid"], row.values["content_sha256"]
            if digest in here:  # the same calibration, here under another uid
                self.calibration_alias[uid] = here[digest]
            elif digest in first_with:
                self._same_in_batch[uid] = first_with[digest]
            else:
                first_with[digest] = uid
                new.append(row)
                continue
            stats["present"] += 1
        return new

    def _with_references(
        self, name: str, member: str, rows: list[_Row], stats: dict[str, int]
    ) -> list[_Row]:
        """The rows to add, their references resolved to local ids; rows of an athlete
        deleted here are left out (and counted)."""
        parent = {"athletes": "uid", "sessions": "athlete_uid", "targets": "athlete_uid"}.get(name)
        deleted = self._tombstoned(r.values[parent] for r in rows) if parent else set()
        refs = {
            fk: self._existing(ref, "uid", (r.values.get(field) for r in rows))
            for fk, (ref, field) in _REFS[name].items()
        }
        new = []
        for row in rows:
            values = row.values
            if (parent and values[parent] in deleted) or (
                name == "trials" and values["session_uid"] in self.skipped_sessions
            ):
                if name == "sessions":
                    self.skipped_sessions.add(values["uid"])
                stats["skipped_deleted"] += 1
                continue
            for fk, (ref, field) in _REFS[name].items():
                values[fk] = self._resolve(member, row, field, ref, refs[fk])
            new.append(row)
        if name == "trials" and new:  # the athlete of each trial is its session's
            owner = dict(
                self.conn.execute(
                    sa.select(sessions.c.id, sessions.c.athlete_id).where(
                        sessions.c.id.in_({r.values["session_id"] for r in new})
                    )
                ).all()
            )
            for row in new:
                row.values["athlete_id"] = owner[row.values["session_id"]]
        return new

    def _resolve(
        self, member: str, row: _Row, field: str, table: sa.Table, known: dict[str, int]
    ) -> int | None:
        uid = row.values.get(field)
        if uid is None:
            return None
        local = known.get(uid)
        if local is None and table is calibrations:
            local = self.calibration_alias.get(uid)
        if local is None:
            raise ArchiveError(
                f"{member} line {row.line}: {field} {uid} is neither in the archive nor here "
                "(damaged archive)"
            )
        return local

    def _insert(self, table: sa.Table, values: list[dict[str, Any]]) -> None:
        """Rows that leave out the same fields together (the table's defaults then apply)."""
        by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for v in values:
            by_fields.setdefault(tuple(sorted(v)), []).append(v)
        for group in by_fields.values():
            self.conn.execute(table.insert(), group)

    def _flush_tombstones(self, batch: list[_Row], stats: dict[str, int]) -> None:
        """A deletion from elsewhere is recorded, so that athlete is not brought back; but an
        archive never deletes, nor hides, an athlete who is here (not applied, reported)."""
        uids = [r.values["uid"] for r in batch]
        have = self._tombstoned(uids)
        alive = set(self._existing(athletes, "uid", uids))
        new = [r.values for r in batch if r.values["uid"] not in have | alive]
        if new:
            self.conn.execute(tombstones.insert(), new)
        stats["added"] += len(new)
        stats["present"] += sum(u in have for u in uids)
        stats["not_applied"] += sum(u in alive and u not in have for u in uids)

    def _write_raw(self, member: str, rows: list[_Row], ids: dict[str, int]) -> None:
        """Each trial's raw frames, decoded once to prove them readable and as indexed, then
        written in pieces of bounded size."""
        pending: list[dict[str, Any]] = []
        size = 0
        for row in rows:
            pending.append(self._raw_row(member, row, ids[row.values["uid"]]))
            size += len(pending[-1]["data"])
            if size >= _BATCH_BYTES:
                self.conn.execute(trial_raw.insert(), pending)
                pending, size = [], 0
        if pending:
            self.conn.execute(trial_raw.insert(), pending)

    def _raw_row(self, member: str, row: _Row, trial_id: int) -> dict[str, Any]:
        values, where = row.values, f"{member} line {row.line}"
        missing = [f for f in _RAW_FIELDS if f != "rate_hz" and values.get(f) is None]
        if missing:
            raise ArchiveError(f"{where}: {missing[0]} is required with raw_offset")
        blob = self.raw.read(values["raw_offset"], values["raw_length"])
        try:
            frames = rawframes.decode(blob, max_frames=self.limits.raw_frames)
        except RawFramesError as exc:
            raise ArchiveError(f"{where}: raw frames are unreadable ({exc})") from None
        discarded = int(np.count_nonzero(frames.flags))
        if (frames.n, discarded) != (values["n_frames"], values["n_discarded"]):
            raise ArchiveError(
                f"{where}: n_frames {values['n_frames']} and n_discarded "
                f"{values['n_discarded']} do not match the raw frames ({frames.n}, {discarded})"
            )
        return {"trial_id": trial_id, **{c: values.get(c) for c in _RAW_COLUMNS}, "data": blob}
