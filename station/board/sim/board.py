"""`SimulatedBoard`: the simulated athlete on a simulated board as a live `BoardSource`.

Without a scenario and without demo mode the board is empty (offsets and noise only). The
station drives it between frames with `perform(action, **params)` and `run_scenario(events)`;
both only check their arguments and queue (a deque append, safe from another thread), and
the queued actions take effect at the next frame read.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from station.board.cell_clock import CellTimer
from station.board.cell_model import CellModel
from station.board.oscillator import ChipClocks, ReadSchedule
from station.board.sim.athlete import Athlete, PhaseMark, normalize_action
from station.board.sim.engine import SimEngine
from station.board.sim.scenario import EventsLike, as_scenario
from station.frames import BoardSource, Frame
from station.geometry import DEFAULT_LAYOUT, CellLayout


class SimulatedBoard(BoardSource):
    """Frames from a simulated athlete (kind "sim"), or through the GPIO emulator ("emulator").

    realtime=True paces `read()` to the monotonic clock at `rate_hz` and stamps frames with
    time.monotonic_ns(); if the reader falls behind by more than a frame, the missed
    conversions are simulated and dropped (as an HX711 overwrites unread data) and counted
    in `dropped_frames`. realtime=False returns frames at once, stamped with simulated time.

    chips (`station.board.oscillator.ChipClocks`): each cell's chip converts on its own
    clock (rate spread, drift, or one shared clock), and each cell's value is the force at
    its own conversion instant. Frames are formed as the driver forms them (every chip has
    a newer conversion, each gives its newest) and carry `cell_dt_ns` exactly (the sim knows
    the truth); through the GPIO emulator the driver measures it instead.
    """

    kind = "sim"

    def __init__(
        self,
        *,
        realtime: bool = True,
        demo: bool = False,
        seed: int | None = None,
        through_gpio: bool = False,
        layout: CellLayout = DEFAULT_LAYOUT,
        cells: CellModel | None = None,
        scenario: EventsLike | str | None = None,
        rate_hz: float = 80.0,
        chips: ChipClocks | None = None,
        history_s: float | None = 4.0,
    ) -> None:
        self.realtime = realtime
        self.nominal_rate_hz = float(rate_hz)
        self.engine = SimEngine(
            rate_hz=rate_hz, seed=seed, layout=layout, cells=cells, demo=demo,
            history_s=history_s,
        )
        self.chips = chips
        self._reads = ReadSchedule(chips) if chips is not None and not through_gpio else None
        self._pending: deque[tuple[str, Any]] = deque()
        self._period_ns = 1e9 / rate_hz
        self._t0_ns: int | None = None
        self._dropped = 0
        if scenario is not None:  # counts from time 0, like simulate()
            self.engine.schedule_events(as_scenario(scenario), t0_s=0.0)
        self._gpio = None
        if through_gpio:
            from station.board.sim.gpio_path import GpioPath

            self._gpio = GpioPath(self.engine, realtime=realtime, chips=chips)
            self.kind = "emulator"

    # -- control API (cheap; may be called from another thread) ------------------------
    def perform(self, action: str, **params: Any) -> None:
        """Queue an athlete action for the next frame; raises SimActionError if invalid.

        Actions (defaults in brackets; details in station.board.sim.athlete):
        step_on(mass_kg [70], stance "double"|"left"|"right", surface "firm"|"foam"|"wobble",
        skill 0..1 [0.5], eyes "open"|"closed"); lift_foot(side) - lifts that foot;
        touch_down(on_board [True]); put_foot_down(); step_off(); hop(peak_bw [2.5],
        flight_s [0.25]); push(direction "forward"|"back"|"left"|"right"|degrees,
        magnitude N s [5]); follow_trace(path=... | trace=CopTrace, loop [False]);
        set_condition(surface, skill, eyes); hold(duration_s, note) - a label only;
        place_wobble_board(board [round-40-hemisphere] - a station.wobble preset or a
        WobbleBoard, level_x_mm, level_y_mm [0], surface_height_mm [30]) and
        remove_wobble_board() while nobody is on the board (station.board.sim.wobble).
        An action that does not fit the moment (lift_foot with nobody on the board) is
        ignored and noted in `athlete.skipped`.
        """
        self._pending.append(("action", (action, normalize_action(action, params))))

    def run_scenario(self, events: EventsLike | str) -> None:
        """Queue a scenario whose times count from the next frame (checked now)."""
        self._pending.append(("scenario", as_scenario(events)))

    FAULTS = ("unplugged", "stuck_low", "saturated", "none")

    def inject_fault(self, cell: int, fault: str) -> None:
        """Break one emulated HX711 (through_gpio only): 'unplugged' (DOUT stuck high),
        'stuck_low', 'saturated', or 'none' to repair it. For testing the station's
        dead-cell reporting and recovery end to end."""
        if self._gpio is None:
            raise ValueError("faults need the GPIO path: use --board emulator")
        if fault not in self.FAULTS or not 0 <= cell < 4:
            raise ValueError(f"fault must be one of {', '.join(self.FAULTS)} on cell 0-3")
        chip = self._gpio.emulator.chips[cell]
        {"unplugged": chip.stuck_high, "stuck_low": chip.stuck_low,
         "saturated": chip.saturate, "none": chip.clear_faults}[fault]()

    @property
    def athlete(self) -> Athlete:
        return self.engine.athlete

    @property
    def phases(self) -> list[PhaseMark]:
        return self.engine.athlete.phases

    @property
    def dropped_frames(self) -> int:
        """Conversions simulated but never read (the reader was late)."""
        return self._dropped + (self._gpio.dropped_frames if self._gpio is not None else 0)

    @property
    def cell_timer(self) -> CellTimer | None:
        """Through the GPIO emulator, the driver's clock models of the chips; None on the
        direct path (its offsets are exact, no model measures them)."""
        return self._gpio.source.cell_timer if self._gpio is not None else None

    @property
    def sim_time_s(self) -> float:
        """Simulated time of the next frame."""
        return self.engine.next_t_s

    # -- BoardSource ----------------------------------------------------------------------
    def read(self) -> Frame:
        engine = self.engine
        while self._pending:
            what, payload = self._pending.popleft()
            if what == "action":
                engine.schedule(engine.next_t_s, *payload)
            else:
                engine.schedule_events(payload)
        if self._gpio is not None:  # the emulator paces, the driver reads
            return self._gpio.read()
        if self._reads is not None:
            return self._chip_frame()
        if not self.realtime:
            chunk = engine.advance(1)
            return self._frame(round(float(chunk.t_s[0]) * 1e9), chunk.counts[0])
        now = time.monotonic_ns()
        if self._t0_ns is None:
            self._t0_ns = now
        k = engine.n + 1  # frame k completes at t0 + k periods
        due = self._t0_ns + round(k * self._period_ns)
        if now < due:
            time.sleep((due - now) / 1e9)
        else:
            late = int((now - due) // self._period_ns)
            if late:  # simulate the conversions nobody read, keep only the newest
                engine.advance(late)
                self._dropped += late
                due = self._t0_ns + round((k + late) * self._period_ns)
        chunk = engine.advance(1)
        return self._frame(due, chunk.counts[0])

    def _chip_frame(self) -> Frame:
        """The next frame of chips on their own clocks (see `chips`)."""
        assert self._reads is not None
        t_read, cells = self._reads.next()
        offset = 0
        if self.realtime:
            now = time.monotonic_ns()
            if self._t0_ns is None:
                self._t0_ns = now - t_read
            while self._t0_ns + t_read < now - self._period_ns:  # late: those were overwritten
                t_read, cells = self._reads.next()
                self._dropped += 1
            due = self._t0_ns + t_read
            if now < due:
                time.sleep((due - now) / 1e9)
            offset = self._t0_ns
        counts = self.engine.counts_at(np.array([cells]) / 1e9)[0].tolist()
        dt = tuple(c - t_read for c in cells)
        return Frame(t_read + offset, (counts[0], counts[1], counts[2], counts[3]), 0, 0, dt)

    def _frame(self, t_ns: int, counts) -> Frame:
        c = counts.tolist()
        return Frame(t_ns, (c[0], c[1], c[2], c[3]))

    def close(self) -> None:
        if self._gpio is not None:
            self._gpio.close()
