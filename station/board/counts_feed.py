"""Counts for the emulated HX711 chips, computed outside the real-time process.

Why: on `--board emulator` the simulated athlete (a numpy model) decides what each
conversion reads, and the emulated chips, the driver and its checks run in the acquisition
process. Keeping the athlete in the station keeps numpy out of the real-time process, as
with a real board, where the athlete stands outside the Pi. The station's simulator writes
the counts of conversion k (one int32 per chip) into slot k % capacity of this shared
block; the emulator in the acquisition process reads slot k when a chip converts and says
which conversion it reached (`wanted`), so the simulator keeps a few conversions ahead.

Layout: int64 header [wanted, written] (the highest conversion the emulator latched, -1
before the first; the next conversion the simulator will write), then per slot the
conversion number (int64, written last) and the counts (int32 x chips). A slot whose number
is not k holds no counts for k: the emulator then holds the previous value (a late sample).
"""

from __future__ import annotations

from station.board.shared_block import SharedBlock

HEADER_WORDS = 2
DEFAULT_CAPACITY = 256  # 3.2 s at 80 SPS


class CountsFeed:
    """The shared block: create it in the station (fd=None), map it in the acquisition
    process by its descriptor."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, n_chips: int = 4,
                 fd: int | None = None) -> None:
        self.capacity = int(capacity)
        self.n_chips = int(n_chips)
        size = 8 * (HEADER_WORDS + self.capacity) + 4 * self.capacity * self.n_chips
        self._owner = fd is None
        self.shm = (SharedBlock.create(size, "balance-station-counts-feed") if fd is None
                    else SharedBlock(fd, size))
        split = 8 * (HEADER_WORDS + self.capacity)
        self._words_raw = self.shm.buf[:split]
        self._counts_raw = self.shm.buf[split:size]
        self._words = self._words_raw.cast("q")
        self._counts = self._counts_raw.cast("i")
        if self._owner:
            self._words[0] = -1
            self._words[1] = 0
            for slot in range(self.capacity):
                self._words[HEADER_WORDS + slot] = -1

    @property
    def fd(self) -> int:
        """The block's descriptor, for the acquisition process to map."""
        return self.shm.fd

    @property
    def wanted(self) -> int:
        """The highest conversion the emulator latched (-1: none yet)."""
        return self._words[0]

    @wanted.setter
    def wanted(self, k: int) -> None:
        self._words[0] = k

    @property
    def written(self) -> int:
        """The next conversion the simulator will write."""
        return self._words[1]

    def write(self, k: int, counts: tuple[int, ...] | list[int]) -> None:
        """The counts of conversion k (simulator side): the counts, then the slot's number."""
        slot = k % self.capacity
        base = slot * self.n_chips
        for i in range(self.n_chips):
            self._counts[base + i] = counts[i]
        self._words[HEADER_WORDS + slot] = k
        self._words[1] = k + 1

    def read(self, k: int, chip: int) -> int | None:
        """Chip `chip`'s counts for conversion k, or None when they are not (or no longer)
        in the feed (emulator side)."""
        slot = k % self.capacity
        if self._words[HEADER_WORDS + slot] != k:
            return None
        value = self._counts[slot * self.n_chips + chip]
        return value if self._words[HEADER_WORDS + slot] == k else None

    def read_all(self, k: int) -> tuple[int, ...] | None:
        """Every chip's counts for conversion k, or None (emulator side; one call per
        conversion, on an SCK edge)."""
        slot = k % self.capacity
        words = self._words
        if words[HEADER_WORDS + slot] != k:
            return None
        base = slot * self.n_chips
        values = tuple(self._counts[base:base + self.n_chips])
        return values if words[HEADER_WORDS + slot] == k else None

    def close(self) -> None:
        """Detach; the creating side also closes the block's descriptor."""
        self._words.release()
        self._counts.release()
        self._words_raw.release()
        self._counts_raw.release()
        self.shm.close()
