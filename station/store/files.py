"""Files that hold athlete data are private to the user who runs the station: 0600 files,
0700 folders, whatever the umask.

Why not leave it to the umask: a command run from an admin's shell (umask 022) left the
database, its backups and exports readable by every local user, and SQLite itself creates
files 0644. The mode is set explicitly at creation (fchmod ignores the umask), so the file is
never readable by others, not even between its creation and the first write. Folders that
already exist are left alone (their mode is the admin's choice, e.g. systemd's
StateDirectoryMode); the files inside are private anyway.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
_OTHERS = 0o077  # group and other permission bits


def private_dir(path: str | os.PathLike[str]) -> Path:
    """`path` as a folder; each folder that has to be created (parents too) is 0700."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to change
        os.chmod(folder, PRIVATE_DIR)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")
    return path


def private_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """open() for writing a file that is 0600 from its first byte (an existing one too)."""
    if mode not in ("w", "wb"):
        raise ValueError("private_open writes a new file: mode 'w' or 'wb'")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def make_private(path: str | os.PathLike[str]) -> None:
    """Take group and other permissions off an existing file of ours (an older station's
    database); a file of another user is left as it is."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if info.st_mode & _OTHERS and info.st_uid == os.geteuid():
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~_OTHERS)


def private_database(path: Path) -> None:
    """Prepare a SQLite file: created empty and 0600 when new (SQLite would make it 0644),
    made private when older. SQLite gives its -wal and -shm files the database's mode.
    A missing folder is left for SQLite to report (a data directory is made by resolve_url)."""
    if not path.parent.is_dir():
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        for suffix in ("", "-wal", "-shm"):
            make_private(path.with_name(path.name + suffix))
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
