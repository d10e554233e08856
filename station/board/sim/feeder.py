"""The simulated athlete of `--board emulator`, run in the station and fed to the emulator.

The athlete's model is numpy; the acquisition process, which runs the emulated chips and
the real driver (`station.board.fed_emulator`), must not load it. So the station runs the
`SimEngine` here, in a thread of its own, and writes each conversion's counts into a
`CountsFeed` a few conversions ahead of the one the emulator latched last. Athlete actions
and scenarios are queued and take effect at the next simulated sample, as on
`SimulatedBoard`; the lead (`LEAD_CONVERSIONS`, 0.4 s) is how much later the emulated
chips see them.

The thread keeps its own CPU time (`thread_cpu_ns`): like the emulated chips' time in the
acquisition process, it is the emulated board's cost, which a real board does not have, so
health reports it and the footprint bench can leave it out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from station.board.counts_feed import CountsFeed
from station.board.sim.athlete import normalize_action
from station.board.sim.engine import SimEngine
from station.board.sim.scenario import EventsLike, as_scenario

log = logging.getLogger("station.board.sim")

LEAD_CONVERSIONS = 32  # 400 ms at 80 SPS: the simulator's head start on the emulated chips
# How often the thread looks at the emulator's progress (20 samples a call): each wake costs
# far more than the samples (0.8 % of a core at 0.1 s, 0.3 % at 0.25 s; numpy's calls are
# cold), and the lead must cover a wake's worth of conversions with room to spare.
WAKE_S = 0.25


class SimFeeder:
    """A SimEngine filling a CountsFeed from a thread; `perform` / `run_scenario` as on
    `SimulatedBoard` (checked now, applied at the next sample).

    `deferred`: the thread makes the athlete's model and the first conversions (`prepare`),
    not the constructor. That is scipy's import and the filters' design, 1.5 s of the
    station's start on the development machine: the station answers meanwhile, and the
    emulated board waits for its first counts (`FedEmulatorBoard`) as a real one settles."""

    def __init__(self, feed: CountsFeed, *, seed: int | None = None, demo: bool = False,
                 rate_hz: float = 80.0, lead: int = LEAD_CONVERSIONS,
                 deferred: bool = False) -> None:
        self.feed = feed
        self._engine_args = {"rate_hz": rate_hz, "seed": seed, "demo": demo, "history_s": 4.0}
        self.engine: SimEngine | None = None
        self.lead = int(lead)
        self._pending: deque[tuple[str, Any]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.thread_cpu_ns = 0  # the feeding thread's CPU time so far, at its last pass
        if not deferred:
            self.prepare()

    def prepare(self) -> None:
        """Make the athlete's model (once) and simulate the first conversions."""
        if self.engine is None:
            self.engine = SimEngine(**self._engine_args)
        self.fill()

    def perform(self, action: str, **params: Any) -> None:
        """Queue an athlete action; raises SimActionError (a ValueError) if invalid."""
        self._pending.append(("action", (action, normalize_action(action, params))))

    def run_scenario(self, events: EventsLike | str) -> None:
        """Queue a scenario whose times count from the next sample (checked now)."""
        self._pending.append(("scenario", as_scenario(events)))

    def fill(self) -> int:
        """Apply what is queued, then simulate up to `lead` conversions past the emulator's
        newest; how many were written."""
        engine = self.engine
        if engine is None:  # deferred and not prepared yet: actions wait in the queue
            return 0
        while self._pending:
            what, payload = self._pending.popleft()
            if what == "action":
                engine.schedule(engine.next_t_s, *payload)
            else:
                engine.schedule_events(payload)
        target = self.feed.wanted + self.lead
        n = target + 1 - engine.n
        if n <= 0:
            return 0
        if n > self.feed.capacity:  # far behind (the station was paused): skip ahead
            engine.advance(n - self.feed.capacity)
            n = self.feed.capacity
        first = engine.n
        for k, row in enumerate(engine.advance(n).counts.tolist(), start=first):
            self.feed.write(k, row)
        return n

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sim-feeder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        if self.engine is None:
            try:
                self.prepare()
            except Exception:  # the simulator must not take the station down
                log.exception("the simulated athlete could not start")
                return
        while not self._stop.wait(WAKE_S):
            try:
                self.fill()
            except Exception:  # the simulator must not take the station down
                log.exception("the simulated athlete failed")
            self.thread_cpu_ns = time.thread_time_ns()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
