"""Reading a zip that came from elsewhere, with hard limits checked before a byte is inflated.

Why: a 1 MB archive that inflated to 1 GiB peaked at 3.3 GB of memory and ended in a
traceback. A zip's central directory declares each member's compressed and inflated sizes,
and zipfile never yields more than the declared size (it stops there and checks the CRC), so
checking the declarations first bounds everything read afterwards: the size of one member,
of all members, and the compression ratio (a real archive's tables deflate ~3-15x, raw frames
not at all; a bomb ~1000x). Members are then read in chunks, and lines with a length limit,
so memory stays bounded whatever the archive holds.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

MiB = 1 << 20
GiB = 1 << 30
_CHUNK = MiB
_READABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what export_archive writes


class ArchiveError(Exception):
    """The file is not an importable station archive; the message says what is wrong."""


@dataclass(frozen=True)
class ArchiveLimits:
    """What an import accepts. The defaults are far above a real station (10 years of 300
    athletes make a ~3 GB archive; one trial's raw frames are ~15 KB per 30 s)."""

    member_bytes: int = 16 * GiB  # one member, inflated
    total_bytes: int = 32 * GiB  # all members, inflated
    ratio: float = 100.0  # inflated / compressed size of one member...
    ratio_floor_bytes: int = MiB  # ...checked for members inflating to more than this
    manifest_bytes: int = MiB
    row_bytes: int = MiB  # one line of a table (one row as JSON)
    # One trial's raw frames: ~40 minutes at 80 Hz (the longest protocol trial is 10), a 1.1 MB
    # blob; decoding 200,000 frames peaks at ~27 MB, and a hostile blob at a few times that.
    raw_blob_bytes: int = 4 * MiB
    raw_frames: int = 200_000


def check_members(
    zf: zipfile.ZipFile, required: Iterable[str], optional: Iterable[str], limits: ArchiveLimits
) -> None:
    """Refuse, from the central directory alone, a zip whose members are not exactly the
    expected ones (each once, readable) or that would inflate beyond the limits."""
    required, allowed = set(required), set(required) | set(optional)
    names = [info.filename for info in zf.infolist()]
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise ArchiveError(f"archive has members a station archive does not have: {unknown}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ArchiveError(f"archive has members more than once: {twice}")
    missing = sorted(required - set(names))
    if missing:
        raise ArchiveError(f"archive is missing {', '.join(missing)}")
    total = 0
    for info in zf.infolist():
        name, size, packed = info.filename, info.file_size, info.compress_size
        if info.flag_bits & 0x1:
            raise ArchiveError(f"archive member {name} is encrypted")
        if info.compress_type not in _READABLE:
            raise ArchiveError(
                f"archive member {name} is compressed with method {info.compress_type} "
                "(a station archive uses deflate or none)"
            )
        if info.compress_type == zipfile.ZIP_STORED and packed != size:
            raise ArchiveError(f"archive member {name} declares inconsistent sizes")
        if size > limits.member_bytes:
            raise ArchiveError(
                f"archive member {name} inflates to {size} bytes, over the limit of "
                f"{limits.member_bytes} for one member"
            )
        if size > limits.ratio_floor_bytes and size > limits.ratio * max(packed, 1):
            raise ArchiveError(
                f"archive member {name} inflates {size} bytes from {packed} (ratio "
                f"{size / max(packed, 1):.0f}, limit {limits.ratio:g}): a compression bomb, "
                "not a station archive"
            )
        total += size
    if total > limits.total_bytes:
        raise ArchiveError(
            f"archive inflates to {total} bytes in all, over the limit of {limits.total_bytes}"
        )


def read_small(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A whole member that must be small (the manifest)."""
    if zf.getinfo(name).file_size > limit:
        raise ArchiveError(f"{name} is larger than {limit} bytes")
    return zf.read(name)  # never more than the declared size


def sha256(zf: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with zf.open(name) as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def count_lines(zf: zipfile.ZipFile, name: str) -> int:
    with zf.open(name) as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(_CHUNK), b""))


def lines(zf: zipfile.ZipFile, name: str, limit: int) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a member, each line at most `limit` bytes."""
    with zf.open(name) as f:
        lineno = 0
        while line := f.readline(limit + 1):
            lineno += 1
            if len(line) > limit:
                raise ArchiveError(f"{name} line {lineno} is longer than {limit} bytes")
            yield lineno, line


class ForwardReader:
    """A member read front to back in pieces at given offsets (raw.bin: trials and their
    blobs are in the same order). Going back would inflate the member again from its start
    (a hand-made archive could make that quadratic), so it is refused."""

    def __init__(self, f: IO[bytes], name: str) -> None:
        self._f, self._name, self._pos = f, name, 0

    def read(self, offset: int, length: int) -> bytes:
        if offset < self._pos:
            raise ArchiveError(
                f"{self._name}: a piece at {offset} starts before the end of the previous one "
                f"({self._pos}); a station archive stores them in order"
            )
        while self._pos < offset:
            skipped = self._f.read(min(_CHUNK, offset - self._pos))
            if not skipped:
                break
            self._pos += len(skipped)
        data = self._f.read(length) if self._pos == offset else b""
        self._pos += len(data)
        if len(data) != length:
            raise ArchiveError(f"{self._name} is shorter than its index (truncated archive)")
        return data

    def close(self) -> None:
        self._f.close()
