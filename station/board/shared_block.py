"""Attach to a POSIX shared-memory block by name, with nothing but `mmap`.

Why not `multiprocessing.shared_memory` in the acquisition process: it imports `secrets`,
hence `hmac`, `hashlib` and OpenSSL's libcrypto (4.6 MB on x86-64), which `mlockall` would
pin for nothing; and before Python 3.13 attaching registers the block with the resource
tracker as if this process owned it. The station creates (and frees) every block with
`multiprocessing.shared_memory`; the acquisition process only maps them.
"""

from __future__ import annotations

import _posixshmem  # the C module multiprocessing.shared_memory itself opens blocks with
import mmap
import os


class SharedBlock:
    """A mapped block: `buf` is a memoryview of `size` bytes; `close()` unmaps it."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        path = name if name.startswith("/") else "/" + name
        fd = _posixshmem.shm_open(path, os.O_RDWR, mode=0o600)
        try:
            if os.fstat(fd).st_size < size:
                raise ValueError(f"shared block {name} is smaller than {size} bytes")
            self._mmap = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self.buf = memoryview(self._mmap)

    def close(self) -> None:
        self.buf.release()
        self._mmap.close()
