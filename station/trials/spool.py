"""Trials the store could not take wait on disk and are saved later; free disk is watched.

A finished trial lives only in memory until the store has it. When saving fails (the
database is locked, the disk is full, a bug), the runner hands it to `TrialSpool.put`: one
file per trial in the data dir's spool/ (mode 0600, written to a temporary file, synced,
then renamed, so a file there is always whole). A thread retries the oldest first, at
start-up and then with back-off (5 s doubling to 10 min), through the same saver, and
removes a file once its trial is stored. Health shows how many wait, since when, and the
last error.

The file is an .npz (no pickle): the frames as arrays and everything else as one JSON
document, enough to rebuild the `FinishedTrial` the saver takes.

`DiskSpace` is the other half of "a trial must not be lost": below `warn_mb` free it is a
health warning; below `floor_mb` trials are refused before they start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from station.protocols import Protocol, TrialSpec
from station.trials.events import Event, State, TrialOutcome
from station.trials.runner import FinishedTrial, Saver, TrialOwner, TrialRequest
from station.wire import json_safe

log = logging.getLogger("station.trials")

FORMAT = 1
SUFFIX = ".trial.npz"
FIRST_RETRY_S = 5.0
MAX_RETRY_S = 600.0


def _write_atomic(path: Path, data: bytes) -> None:
    """`data` at `path`, mode 0600, whole or not at all (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def encode(finished: FinishedTrial, error: str, spooled_at: datetime) -> bytes:
    """A finished trial as .npz bytes (frames as arrays, the rest as JSON)."""
    outcome = dataclasses.asdict(finished.outcome)
    outcome["state"] = finished.outcome.state.value
    outcome["events"] = [list(e) for e in finished.outcome.events]
    protocol = finished.protocol
    meta = {
        "format": FORMAT,
        "spooled_at": spooled_at.isoformat(),
        "error": error,
        "request": dataclasses.asdict(finished.request),
        "protocol": {"id": protocol.id, "name": protocol.name,
                     "description": protocol.description, "kind": protocol.kind},
        "spec": dataclasses.asdict(finished.spec),
        "outcome": outcome,
        "calibration": finished.calibration,
        "started_at": finished.started_at.isoformat(),
        "clock_synced": finished.clock_synced,
        "metrics": finished.metrics,
        "score": finished.score,
        "analysis_version": finished.analysis_version,
        "abort_reason": finished.abort_reason,
        "aborted_by": finished.aborted_by,
        "extra": finished.extra,
    }
    text = json.dumps(meta, default=json_safe, allow_nan=True)
    buffer = io.BytesIO()
    timing = {}  # each frame's cell offsets, when known (a file without them reads as None)
    if finished.cell_dt_ns is not None:
        timing["cell_dt_ns"] = np.asarray(finished.cell_dt_ns, dtype=np.int32).reshape(-1, 4)
    np.savez(
        buffer,
        t_ns=np.asarray(finished.t_ns, dtype=np.int64),
        counts=np.asarray(finished.counts, dtype=np.int32).reshape(-1, 4),
        meta=np.frombuffer(text.encode("utf-8"), dtype=np.uint8),
        **timing,
    )
    return buffer.getvalue()


def decode(data: bytes) -> tuple[FinishedTrial, dict[str, Any]]:
    """The trial of `encode`, and its JSON document (spooled_at, error, ...)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
        t_ns, counts = npz["t_ns"].astype(np.int64), npz["counts"].astype(np.int32)
        cell_dt_ns = npz["cell_dt_ns"].astype(np.int32) if "cell_dt_ns" in npz else None
    if meta.get("format") != FORMAT:
        raise ValueError(f"spool file format {meta.get('format')!r}, expected {FORMAT}")
    spec = TrialSpec(**meta["spec"])
    protocol = Protocol(**meta["protocol"], trials=(spec,))
    fields = dict(meta["outcome"])
    fields["state"] = State(fields["state"])
    fields["events"] = [Event(t, kind, detail) for t, kind, detail in fields["events"]]
    finished = FinishedTrial(
        request=_request(meta["request"]),
        protocol=protocol,
        spec=spec,
        outcome=TrialOutcome(**fields),
        t_ns=t_ns,
        counts=counts,
        calibration=meta["calibration"],
        started_at=datetime.fromisoformat(meta["started_at"]),
        clock_synced=meta["clock_synced"],
        metrics=meta["metrics"],
        score=meta["score"],
        analysis_version=meta["analysis_version"],
        abort_reason=meta["abort_reason"],
        aborted_by=meta.get("aborted_by"),
        extra=meta["extra"],
        cell_dt_ns=cell_dt_ns,
    )
    return finished, meta


class TrialSpool:
    """A directory of trials waiting to be saved, and the thread that saves them."""

    def __init__(
        self,
        directory: Path,
        save: Saver,
        *,
        first_retry_s: float = FIRST_RETRY_S,
        max_retry_s: float = MAX_RETRY_S,
        disk: DiskSpace | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.save = save
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self.disk = disk
        self.last_error: str | None = None
        self._delay_s = first_retry_s
        self._next_retry: float | None = None
        self._lock = threading.Lock()  # one retry pass at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the queue -------------------------------------------------------------------
    def put(self, finished: FinishedTrial, error: str) -> Path:
        """Keep `finished` on disk (raises OSError when even that fails); its file."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        now = datetime.now(UTC)
        path = self.directory / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        _write_atomic(path, encode(finished, error, now))
        self.last_error = error
        log.warning("trial %s/%s kept in %s until it can be saved",
                    finished.protocol.id, finished.spec.id, path)
        self._schedule(self._delay_s)
        return path

    def pending(self) -> list[Path]:
        """Spooled trials, oldest first."""
        try:
            return sorted(self.directory.glob(f"*{SUFFIX}"))
        except OSError:
            return []

    def retry(self) -> int:
        """Save the spooled trials, oldest first; how many remain.

        A failed save ends the pass (the store is likely down: the rest would fail too); a
        file that cannot be read is left in place, reported, and skipped."""
        with self._lock:
            unreadable = None
            for path in self.pending():
                try:
                    finished, meta = decode(path.read_bytes())
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    unreadable = f"{path.name} cannot be read: {type(exc).__name__}: {exc}"
                    continue
                try:
                    uid = self.save(finished)
                except Exception as exc:
                    self._failed(f"{type(exc).__name__}: {exc}")
                    return len(self.pending())
                path.unlink()
                log.warning("spooled trial %s/%s of %s saved as %s",
                            finished.protocol.id, finished.spec.id, meta["spooled_at"], uid)
            if unreadable is not None:
                self._failed(unreadable)
                return len(self.pending())
            self.last_error, self._delay_s, self._next_retry = None, self.first_retry_s, None
            return 0

    def _failed(self, error: str) -> None:
        self.last_error = error
        log.warning("spooled trials not saved yet (%s); next try in %.0f s", error, self._delay_s)
        self._schedule(self._delay_s)
        self._delay_s = min(self._delay_s * 2, self.max_retry_s)

    def _schedule(self, delay_s: float) -> None:
        due = time.monotonic() + delay_s
        if self._next_retry is None or due < self._next_retry:
            self._next_retry = due
        self._wake.set()

    # -- the thread ------------------------------------------------------------------
    def start(self) -> None:
        """Retry what an earlier run left (now), then whatever comes, with back-off."""
        if self._thread is not None:
            return
        for tmp in self.directory.glob(".*.tmp"):  # a write cut short by a crash
            with contextlib.suppress(OSError):
                tmp.unlink()
        if self.pending():
            self._next_retry = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="trial-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            due = self._next_retry
            if due is None:
                self._wake.wait()
            else:
                self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()
            due = self._next_retry
            if self._stop.is_set() or due is None or time.monotonic() < due:
                continue
            self._next_retry = None
            try:
                self.retry()
            except Exception:  # the thread must survive whatever a save does
                log.exception("spool retry failed")
                self._schedule(self._delay_s)

    # -- health ----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """How many trials wait, since when, why; free disk and its warning."""
        pending = self.pending()
        oldest = None
        if pending:
            with contextlib.suppress(ValueError):
                ns = int(pending[0].name.split("-", 1)[0])
                oldest = datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds")
        due = self._next_retry
        out: dict[str, Any] = {
            "spooled_trials": len(pending),
            "oldest_spooled_at": oldest,
            "last_error": self.last_error if pending else None,
            "next_retry_in_s": (
                round(max(0.0, due - time.monotonic()), 1) if pending and due is not None
                else None
            ),
        }
        if self.disk is not None:
            out.update(self.disk.health())
        return out


class DiskSpace:
    """Free space where the data is kept: a warning below `warn_mb`, no trials below `floor_mb`."""

    def __init__(
        self,
        directory: Path,
        warn_mb: float,
        floor_mb: float,
        free_bytes: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free,
    ) -> None:
        self.directory = Path(directory)
        self.warn_mb = warn_mb
        self.floor_mb = floor_mb
        self._free_bytes = free_bytes

    def free_mb(self) -> float | None:
        try:
            return self._free_bytes(self.directory) / 1e6
        except OSError:
            return None

    def refusal(self) -> str | None:
        """Why no trial may start now (too little disk), or None."""
        free = self.free_mb()
        if free is None or free >= self.floor_mb:
            return None
        return (
            f"only {free:.0f} MB free in {self.directory} (trials need at least "
            f"{self.floor_mb:.0f} MB, storage.disk_floor_mb): free some space first"
        )

    def health(self) -> dict[str, Any]:
        free = self.free_mb()
        warning = None
        if free is not None and free < self.floor_mb:
            warning = self.refusal()
        elif free is not None and free < self.warn_mb:
            warning = (
                f"only {free:.0f} MB free in {self.directory} (warning below "
                f"{self.warn_mb:.0f} MB; trials stop below {self.floor_mb:.0f} MB)"
            )
        return {
            "disk_free_mb": None if free is None else round(free, 1),
            "disk_warn_mb": self.warn_mb,
            "disk_floor_mb": self.floor_mb,
            "disk_warning": warning,
        }


def _request(fields: dict[str, Any]) -> TrialRequest:
    """The spooled TrialRequest (its owner, when it had one, back as a TrialOwner)."""
    fields = dict(fields)
    owner = fields.pop("owner", None)
    return TrialRequest(**fields, owner=TrialOwner(**owner) if owner else None)
