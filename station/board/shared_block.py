"""A block of memory shared with the acquisition process: an anonymous memfd, by its fd.

Why not `multiprocessing.shared_memory`: a named POSIX block outlives a station killed with
SIGKILL unless a helper process removes it, and `multiprocessing` starts that helper (its
resource tracker: a Python process of ~13 MB) for every named block or semaphore, and for
every process it spawns. A memfd has no name: the kernel frees it when the last descriptor
and mapping are gone, however the station ends, so nothing needs tracking. The station
creates the block; the acquisition process inherits the descriptor (`subprocess`'s
`pass_fds`) and maps it with nothing but `mmap` (no `secrets`, `hashlib`, libcrypto, which
`mlockall` would pin).
"""

from __future__ import annotations

import mmap
import os


class SharedBlock:
    """A mapped block: `buf` is a memoryview of `size` bytes; `fd` is what a child maps;
    `close()` unmaps it (and, for the creator, closes the descriptor)."""

    def __init__(self, fd: int, size: int, *, owner: bool = False) -> None:
        if os.fstat(fd).st_size < size:
            raise ValueError(f"shared block (fd {fd}) is smaller than {size} bytes")
        self.fd = fd
        self._owner = owner
        self._mmap = mmap.mmap(fd, size)
        self.buf = memoryview(self._mmap)

    @classmethod
    def create(cls, size: int, name: str) -> SharedBlock:
        """A new zero-filled block; `name` only labels it in /proc/<pid>/fd and maps."""
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, size)
            return cls(fd, size, owner=True)
        except BaseException:
            os.close(fd)
            raise

    def close(self) -> None:
        """Unmap now: for users whose views are memoryviews (they raise once released)."""
        self.buf.release()
        self._mmap.close()
        self._close_fd()

    def detach(self) -> None:
        """Drop this handle's hold and leave the unmapping to the last view of the block.

        For numpy: an array over `buf` keeps a reference but no buffer export, so `close()`
        would free the pages under any array still held (the next read is a SIGSEGV). The
        arrays' base is `buf`, which holds the mapping: it goes when the last of them does."""
        self.buf = None  # type: ignore[assignment]
        self._mmap = None  # type: ignore[assignment]
        self._close_fd()

    def _close_fd(self) -> None:
        if self._owner:  # a mapping outlives its descriptor
            self._owner = False
            os.close(self.fd)
