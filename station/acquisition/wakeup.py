"""The station reader's wake-up: an eventfd the acquisition process posts.

Why an eventfd, not a `multiprocessing` semaphore: a named semaphore must be unlinked if
the station dies, which is what `multiprocessing` starts its resource tracker process for
(~13 MB). An eventfd is a counter in the kernel, inherited by the acquisition process as a
descriptor and gone with the last one. Posting is one `write` that never blocks; the
reader sleeps in `poll` with its timeout and one `read` takes every post since.
"""

from __future__ import annotations

import os
import select


class FramePosted:
    """`release()` posts (the acquisition process); `acquire()` waits for and takes every
    post so far (the station's reader), like a semaphore drained at once."""

    def __init__(self, fd: int | None = None) -> None:
        self._owner = fd is None
        self.fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK) if fd is None else fd
        self._poller = select.poll()
        self._poller.register(self.fd, select.POLLIN)

    def release(self) -> None:
        os.eventfd_write(self.fd, 1)

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        """Take the posts made so far; without one, wait up to `timeout` s (None: for ever)
        when `block`. True if there was a post."""
        if block and not self._poller.poll(0):
            wait_ms = None if timeout is None else max(int(timeout * 1000 + 0.999), 0)
            self._poller.poll(wait_ms)
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        if self._owner:
            os.close(self.fd)
