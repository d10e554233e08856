"""The simulation core shared by `simulate()` (fast, vectorized) and `SimulatedBoard` (per frame).

An `SimEngine` owns the athlete, the sway generator and the cell model, and produces the
next n samples on request. Random numbers come from separate streams (sway, cell noise,
athlete choices, demo plans) spawned from one seed, so producing 1 sample at a time or
10,000 at once gives the same numbers: the live board and the fast path agree exactly.

Between its samples the engine is a continuous trajectory (`state_at(t)`): the athlete's
weight, landing transients and COP base are functions of time, evaluated exactly; the sway
and vertical fluctuation (filtered noise, smooth at 80 Hz) are interpolated through the
samples (Catmull-Rom, exact at the samples). So each chip can be read at its own conversion
instant (`counts_at`), with the truth known at any instant, landings and pushes included.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from station.board.cell_model import CellModel
from station.board.sim.athlete import GRAVITY, Athlete, PhaseMark, normalize_action
from station.board.sim.scenario import EventsLike, SimEvent, as_scenario, demo_routine
from station.board.sim.sway import SwayGenerator
from station.board.sim.wobble import TiltGenerator, WobbleTruth
from station.geometry import DEFAULT_LAYOUT, CellLayout, forces_from_cop

DEFAULT_CELL_SEED = 20_240_611
COP_MARGIN_MM = 2.0  # keep the COP inside the cell rectangle so no cell goes negative
MIN_COP_FORCE_N = 1.0  # below this total force the true COP is reported as NaN


def default_cell_model() -> CellModel:
    """The default simulated board's cells: deterministic, modest, realistic errors.

    `CellModel.randomized(np.random.default_rng(DEFAULT_CELL_SEED), gain_error=0.03,
    offset_range_counts=20000, nonlinearity=0.005)`: gains within +-3 % of nominal
    (0.00025 N/count), offsets within +-20,000 counts, 0.5 % non-linearity at full scale,
    no drift, datasheet noise (39 counts rms at 80 SPS). calibration/sim-board.json is
    written from this model, so a change here must regenerate that file.
    """
    return CellModel.randomized(
        np.random.default_rng(DEFAULT_CELL_SEED),
        gain_error=0.03,
        offset_range_counts=20000.0,
        nonlinearity=0.005,
    )


class _History:
    """The stochastic part of recent samples (sway x, y, vertical), by sample number."""

    def __init__(self, keep: int | None) -> None:
        self.keep = keep
        self.n0 = 0  # sample number of buf[0]
        self.size = 0
        self.buf = np.zeros((256, 3))

    def append(self, first: int, rows: np.ndarray) -> None:
        if first != self.n0 + self.size:
            raise ValueError("history must grow one sample after the other")
        m = len(rows)
        if self.keep is not None and self.size + m > 2 * self.keep:
            drop = max(self.size + m - self.keep, 0)
            drop = min(drop, self.size)
            self.buf[: self.size - drop] = self.buf[drop : self.size]
            self.size -= drop
            self.n0 += drop
        if self.size + m > len(self.buf):
            grown = np.zeros((max(2 * len(self.buf), self.size + m), 3))
            grown[: self.size] = self.buf[: self.size]
            self.buf = grown
        self.buf[self.size : self.size + m] = rows
        self.size += m

    def interpolate(self, x: np.ndarray) -> np.ndarray:
        """(len(x), 3) at fractional sample numbers x (Catmull-Rom; clamped at the ends)."""
        k = np.floor(x).astype(np.int64)
        u = (x - k)[:, None]
        last = self.size - 1
        i = k - self.n0
        if self.size == 0 or (i < 0).any() or (i > last).any():
            raise ValueError("state_at outside the simulated samples (call ensure first)")
        b = self.buf
        p0 = b[np.clip(i - 1, 0, last)]
        p1 = b[i]
        p2 = b[np.clip(i + 1, 0, last)]
        p3 = b[np.clip(i + 2, 0, last)]
        return 0.5 * (
            2.0 * p1
            + (p2 - p0) * u
            + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * u * u
            + (3.0 * (p1 - p2) + p3 - p0) * u * u * u
        )


@dataclass
class SimState:
    """The continuous trajectory at some instants (the truth a chip converts)."""

    t_s: np.ndarray  # (n,)
    cell_forces_n: np.ndarray  # (n, 4)
    true_cop_mm: np.ndarray  # (n, 2), NaN when nobody is on the board
    total_force_n: np.ndarray  # (n,)


@dataclass
class SimChunk:
    """n consecutive simulated samples."""

    t_s: np.ndarray  # (n,)
    cell_forces_n: np.ndarray  # (n, 4)
    true_cop_mm: np.ndarray  # (n, 2), NaN when nobody is on the board
    total_force_n: np.ndarray  # (n,)
    counts: np.ndarray  # (n, 4) int64
    # the wobble board's truth (tilt, contact, rim) when one was on the platform, else None
    wobble: WobbleTruth | None = field(default=None, kw_only=True)


@dataclass
class SimResult(SimChunk):
    """A whole simulated scenario plus its ground truth of what the athlete did when."""

    phases: list[PhaseMark]
    rate_hz: float
    skipped: list[tuple[float, str, str]]  # actions ignored (t, action, reason)

    def phase_times(self, label: str) -> list[float]:
        """Times at which phases with this label started."""
        return [p.t_s for p in self.phases if p.label == label]

    def labels(self) -> np.ndarray:
        """Per-sample label of the latest phase mark ('' before the first)."""
        marks = sorted(self.phases, key=lambda p: p.t_s)
        times = np.array([p.t_s for p in marks])
        names = np.array([""] + [p.label for p in marks], dtype=object)
        return names[np.searchsorted(times, self.t_s + 1e-9, side="right")]


class SimEngine:
    """Produces simulated samples at `rate_hz`; actions are scheduled at sample times."""

    def __init__(
        self,
        *,
        rate_hz: float = 80.0,
        seed: int | None = 0,
        layout: CellLayout = DEFAULT_LAYOUT,
        cells: CellModel | None = None,
        demo: bool = False,
        history_s: float | None = 4.0,
    ) -> None:
        """history_s: how far back `state_at` can look (None: the whole run, and the
        athlete's plans are never pruned, so the truth stays known everywhere)."""
        if not rate_hz > 0:
            raise ValueError("rate_hz must be positive")
        self.rate_hz = float(rate_hz)
        self.layout = layout
        self.positions = layout.positions
        self.cells = cells if cells is not None else default_cell_model()
        streams = np.random.SeedSequence(seed).spawn(6)  # the first five as before the sixth
        sway_ss, cell_ss, athlete_ss, demo_ss, chip_ss, tilt_ss = streams
        self.chip_rng = np.random.default_rng(chip_ss)  # cell noise at conversion instants
        self._history = _History(None if history_s is None else int(history_s * self.rate_hz))
        self._prune = history_s is not None
        self.sway = SwayGenerator(self.rate_hz, np.random.default_rng(sway_ss))
        self.tilt = TiltGenerator(self.rate_hz, np.random.default_rng(tilt_ss))
        self.cell_rng = np.random.default_rng(cell_ss)
        self.athlete = Athlete(self.rate_hz, np.random.default_rng(athlete_ss))
        self.demo_rng = np.random.default_rng(demo_ss) if demo else None
        self.demo_next_s = 0.0
        self.n = 0  # index of the next sample
        self._queue: list[tuple[float, int, str, dict[str, Any]]] = []
        self._seq = 0
        lo = self.positions.min(axis=0) + COP_MARGIN_MM
        hi = self.positions.max(axis=0) - COP_MARGIN_MM
        self._cop_lo, self._cop_hi = lo, hi

    @property
    def next_t_s(self) -> float:
        """Simulated time of the next sample."""
        return self.n / self.rate_hz

    def schedule(self, t_s: float, action: str, params: dict[str, Any] | None = None) -> None:
        """Plan an action at absolute simulated time t_s (checked now, applied in order)."""
        clean = normalize_action(action, params or {})
        heapq.heappush(self._queue, (max(float(t_s), 0.0), self._seq, action, clean))
        self._seq += 1

    def schedule_events(self, events: EventsLike | str, t0_s: float | None = None) -> None:
        """Plan a scenario's events relative to t0_s (default: the next sample)."""
        t0 = self.next_t_s if t0_s is None else t0_s
        for ev in as_scenario(events).events:
            self.schedule(t0 + ev.t_s, ev.action, ev.params)

    def _apply_due(self, t_last: float) -> None:
        # In demo mode, plan the next visit once the previous one is over.
        while self.demo_rng is not None and self.demo_next_s <= t_last:
            events, self.demo_next_s = demo_routine(self.demo_rng, self.demo_next_s)
            for ev in events:
                self.schedule(ev.t_s, ev.action, ev.params)
        while True:  # scheduled actions and the athlete's own lapses, in time order
            lapse = self.athlete.lapse_at
            due = self._queue[0][0] if self._queue else math.inf
            if lapse is not None and lapse <= t_last + 1e-9 and lapse < due:
                self.schedule(*self.athlete.lapse())
                continue
            if due > t_last + 1e-9:
                break
            t, _, action, params = heapq.heappop(self._queue)
            self.athlete.apply(t, action, params)

    def advance(self, n: int) -> SimChunk:
        """Produce the next n samples."""
        t = (self.n + np.arange(n)) / self.rate_hz
        if n:
            self._apply_due(float(t[-1]))
        ath = self.athlete
        gains = np.column_stack([g.evaluate(t) for g in ath.gains])
        pushes = self._push_array(t)
        sway, vertical = self.sway.step(gains, pushes)
        free_tilt, com_acc = self._tilt(t, pushes)
        athlete_n = ath.force_fraction(t) * (1.0 + vertical) * ath.weight_n
        total = athlete_n + ath.deck_mass_kg.evaluate(t) * GRAVITY
        override = ath.trace_override(t)
        if override is not None:
            mask, cop_trace = override
            sway[mask] = cop_trace[mask]
        base = np.column_stack([ath.base_x.evaluate(t), ath.base_y.evaluate(t)])
        truth = None
        placed = ath.wobble
        if placed is not None and n:
            on = placed.active(t)
            if on.any():  # the COP is the wobble board's contact: replaces the sway there
                cop_on, part = placed.step(free_tilt[on], com_acc[on], athlete_n[on],
                                           base[on] + sway[on], self.rate_hz)
                sway[on] = cop_on - base[on]
                truth = WobbleTruth.empty(n)
                truth.put(on, part)
        cop = np.clip(base + sway, self._cop_lo, self._cop_hi)
        forces = forces_from_cop(total, cop, self.positions)
        counts = self.cells.counts(forces, t, self.cell_rng)
        true_cop = np.where((total >= MIN_COP_FORCE_N)[:, None], cop, np.nan)
        before = self.n
        self._history.append(before, np.column_stack([sway, vertical]))
        self.n += n
        if self._prune and n and (n > 1 or before % 80 == 0):  # live: about once a second
            ath.prune(float(t[-1]) - 2.0)
        return SimChunk(t, forces, true_cop, total, counts, wobble=truth)

    def ensure(self, t_s: float) -> None:
        """Simulate far enough that `state_at` can interpolate at t_s."""
        need = math.floor(t_s * self.rate_hz) + 3 - self.n
        if need > 0:
            self.advance(need)

    def state_at(self, t_s: np.ndarray | float) -> SimState:
        """The continuous trajectory at the instants t_s (already simulated, see `ensure`)."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        ath = self.athlete
        stoch = self._history.interpolate(t * self.rate_hz)
        total = (ath.force_fraction(t) * (1.0 + stoch[:, 2]) * ath.weight_n
                 + ath.deck_mass_kg.evaluate(t) * GRAVITY)
        base = np.column_stack([ath.base_x.evaluate(t), ath.base_y.evaluate(t)])
        cop = np.clip(base + stoch[:, :2], self._cop_lo, self._cop_hi)
        forces = forces_from_cop(total, cop, self.positions)
        true_cop = np.where((total >= MIN_COP_FORCE_N)[:, None], cop, np.nan)
        return SimState(t, forces, true_cop, total)

    def counts_at(self, cell_t_s: np.ndarray) -> np.ndarray:
        """Raw counts (n, 4) when each cell converts at its own instant: cell_t_s (n, 4)."""
        times = np.atleast_2d(np.asarray(cell_t_s, dtype=float))
        self.ensure(float(times.max()))
        n, k = times.shape
        forces = self.state_at(times.reshape(-1)).cell_forces_n.reshape(n, k, -1)
        own = forces[:, np.arange(k), np.arange(k)]  # cell i's force at cell i's instant
        return self.cells.counts(own, times, self.chip_rng)

    def _tilt(self, t: np.ndarray, pushes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The wobble board's free tilt motion and the athlete's c'' (zero before the first
        board was placed: the generator, and its random numbers, start then, so the numbers
        depend on time only, never on how the samples were chunked)."""
        free = np.zeros((t.size, 2))
        com_acc = np.zeros((t.size, 2))
        first = self.athlete.first_board_s
        k = int(np.searchsorted(t, first - 1e-9))
        if k < t.size:
            gains = np.column_stack([g.evaluate(t[k:]) for g in self.athlete.tilt_gains])
            free[k:], com_acc[k:] = self.tilt.step(gains, None if pushes is None else pushes[k:])
        return free, com_acc

    def _push_array(self, t: np.ndarray) -> np.ndarray | None:
        pushes = self.athlete.pushes
        if not pushes or not t.size:
            return None
        out = np.zeros((t.size, 2))
        first = self.n
        for tp, dvx, dvy in pushes:
            k = int(np.ceil(tp * self.rate_hz - 1e-6)) - first
            if 0 <= k < t.size:
                out[k] += (dvx, dvy)
        return out if out.any() else None


def simulate(
    events: EventsLike | str,
    *,
    rate_hz: float = 80.0,
    seed: int = 0,
    layout: CellLayout = DEFAULT_LAYOUT,
    cells: CellModel | None = None,
    duration_s: float | None = None,
) -> SimResult:
    """Simulate a whole scenario at once (vectorized; thousands of times faster than real time).

    events: a Scenario, a list of (t_s, action, params) / SimEvent / dicts, or a scenario
    file path or shipped name. duration_s defaults to the scenario's duration_s, else 3 s
    after its last event. Same seed and events -> same numbers as a `SimulatedBoard` fed
    the same scenario with realtime=False.
    """
    scenario = as_scenario(events)
    end = scenario.end_s if duration_s is None else float(duration_s)
    engine = SimEngine(rate_hz=rate_hz, seed=seed, layout=layout, cells=cells)
    engine.schedule_events(scenario, t0_s=0.0)
    chunk = engine.advance(int(np.ceil(end * rate_hz - 1e-9)))
    return SimResult(
        t_s=chunk.t_s,
        cell_forces_n=chunk.cell_forces_n,
        true_cop_mm=chunk.true_cop_mm,
        total_force_n=chunk.total_force_n,
        counts=chunk.counts,
        wobble=chunk.wobble,
        phases=list(engine.athlete.phases),
        rate_hz=engine.rate_hz,
        skipped=list(engine.athlete.skipped),
    )


__all__ = ["SimEngine", "SimEvent", "SimResult", "SimState", "default_cell_model", "simulate"]
