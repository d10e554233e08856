"""When each HX711 converted: one clock model per chip, tracked from its DOUT edges.

Why: four chips on their own oscillators convert at different instants, so the four counts of
a frame come from moments up to one conversion period apart (see docs/cell-timing.md). The
driver sees each chip's DOUT fall between two of its polls: a bracket lo < t <= hi, as wide
as the poll interval. And a chip that converted twice while the driver waited for a slower
one shows no edge at all for the conversion actually read (its output register was
overwritten). A chip's conversions are a clock, though: t_n = t_ref + (n - n_ref) * period,
with a period that wanders slowly with temperature. `ChipClockModel` tracks that clock with
a two-state Kalman filter (phase and period, plain floats, a few dozen operations per frame)
fed with the brackets, each weighted by its width, so the instant of any conversion —
observed, overwritten or next — is known to tens of microseconds after a few frames.

`CellTimer` holds the four models and says, for every frame, each cell's conversion instant
as an offset from the frame's time (`Frame.cell_dt_ns`); it keeps the skew statistics and
detects lockstep (the shared-clock build: every chip's period and phase equal within
tolerance) for `doctor` and the status page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

NOMINAL_RATE_HZ = 80.0
PERIOD_TOLERANCE = 0.2  # a first guess may be 20 % off (internal oscillators: 80-93 SPS)
# No HX711 oscillator runs this far off its nominal rate: a period beyond it was learnt from
# a DOUT line's noise (edges far faster than conversions), and the model starts afresh.
PERIOD_LIMIT = 0.4
JITTER_NS = 2_000.0  # floor of the measurement noise (edge jitter, clock read)
PERIOD_WALK_NS = 100.0  # period random walk per conversion: follows fast temperature drift
MIN_OBSERVATIONS = 4  # edges seen since the last (re)start before a model is trusted
TRUSTED_SIGMA_NS = 500_000.0  # ... and its phase known to better than 0.5 ms
OUTLIER_SIGMAS = 6.0
OUTLIERS_TO_RESTART = 3  # consecutive edges off the model: the chip restarted (reset)
# A chip that did not reset shows its next conversion within a period or so of a clocking;
# one that reset has no data for 4 periods (settling). DOUT still high this long after the
# slow pulse that put the model in doubt means it reset, whatever phase its edge then fits.
RESET_SILENT_PERIODS = 2.0
FINE_POLL_NS = 50_000.0  # the driver's poll interval near a predicted edge
FINE_GUARD_NS = 50_000.0  # fine polling starts this long (plus 4 sigma) before an edge
HOLD_GUARD_NS = 20_000.0  # clocking waits this long (plus 3 sigma) past a doubtful conversion
MAX_FINE_GUARD_NS = 1_000_000.0  # no fine polling while the model is less sure than this
OBSERVE_EVERY = 16  # a chip's edge is polled finely on one frame in 16 (0.2 s at 80 SPS) ...
QUIET_EDGES = 8  # ... once this many edges in a row fell where its model said (else on every
QUIET_SIGMAS = 2.0  # frame): within 2 sigma of the prediction, which a bracket alone never
_QUIET_SQ = QUIET_SIGMAS * QUIET_SIGMAS  # exceeds (its uniform error stays within 1.73 sigma)
QUIET_BRACKET_NS = 8 * FINE_POLL_NS  # ... counting only edges bracketed by fine polls
# A bracket under half a period holds one conversion and no other is near its end; a wider
# one (a poll long after the edge, a sleep to when every chip is due) says nothing of when
# the edge fell, and is not folded in (unless it settles a doubt: a chip that reset has no
# data for 4 periods, so an edge within 3 of the clocking shows it did not).
MAX_BRACKET_NS = 6_000_000
LOCKSTEP_SKEW_NS = 100_000  # conversions within 0.1 ms of each other ...
LOCKSTEP_PERIOD_PPM = 50.0  # ... and periods within 50 ppm ...
LOCKSTEP_FRAMES = 40  # ... for half a second (80 SPS): the chips share one clock
_TRUSTED_VAR = TRUSTED_SIGMA_NS * TRUSTED_SIGMA_NS
_JITTER_VAR = JITTER_NS * JITTER_NS
_WALK_VAR = PERIOD_WALK_NS * PERIOD_WALK_NS
_OUTLIER_SQ = OUTLIER_SIGMAS * OUTLIER_SIGMAS


class ChipClockModel:
    """Kalman filter of one chip's conversion instants: t_n = t_ref + (n - n_ref) * period.

    `observe(lo, hi)` folds in one DOUT falling edge known to lie in (lo, hi] (ns); the
    conversion number is the one the model expects nearest to it (never the one before).
    """

    __slots__ = (
        "doubt_since_ns", "doubtful", "n_ref", "nominal_period_ns", "observations", "outliers",
        "p00", "p01", "p11", "period_ns", "quiet", "t_ref", "trusted",
    )

    def __init__(self, nominal_period_ns: float) -> None:
        self.nominal_period_ns = float(nominal_period_ns)
        self.forget()

    def forget(self) -> None:
        """Start from nothing: the nominal period, 20 % unsure, and no phase."""
        self.period_ns = self.nominal_period_ns
        self.p11 = (PERIOD_TOLERANCE * self.nominal_period_ns) ** 2
        self.restart()

    def restart(self) -> None:
        """The chip may have restarted its conversions (reset, gain change): phase unknown,
        the period estimate is kept."""
        self.n_ref = 0
        self.t_ref = math.nan
        self.p00 = math.inf
        self.p01 = 0.0
        self.observations = 0
        self.outliers = 0
        self.trusted = False  # enough edges seen, phase known to better than 0.5 ms
        self.doubtful = False  # the chip may have reset: the next edge decides (see doubt)
        self.doubt_since_ns = -math.inf  # ... since this instant (the slow pulse's clocking)
        self.quiet = 0  # edges in a row that fell where predicted (see CellTimer.poll_windows)

    def doubt(self, since_ns: float) -> None:
        """The chip may or may not have reset at `since_ns` (an SCK pulse between 50 and
        60 us, or longer, in the clocking that ended then): keep the model, but let the next
        edge decide at once. One that fits means no reset; one off the model, or one the chip
        kept DOUT high for longer than `RESET_SILENT_PERIODS` before, restarts it (instead
        of waiting for three outliers). The silence decides where the fit cannot: a chip
        restarts 4 periods after the pulse, often within a wide bracket's tolerance of a
        conversion of its old phase, and was then kept 0.2-1.5 ms off for seconds."""
        if self.trusted:
            self.doubtful = True
            self.doubt_since_ns = since_ns

    @property
    def rate_hz(self) -> float:
        return 1e9 / self.period_ns

    def sigma_at(self, n: int) -> float:
        """Standard deviation (ns) of the predicted instant of conversion n."""
        d = n - self.n_ref
        return math.sqrt(max(self.p00 + 2 * d * self.p01 + d * d * self.p11, 0.0))

    def latest_at(self, t_ns: float) -> tuple[int, float]:
        """(n, t_n) of the latest conversion the model expects at or before t_ns."""
        d = math.floor((t_ns - self.t_ref) / self.period_ns)
        return self.n_ref + d, self.t_ref + d * self.period_ns

    def next_after(self, t_ns: float) -> tuple[int, float]:
        """(n, t_n) of the first conversion the model expects strictly after t_ns."""
        n, t = self.latest_at(t_ns)
        return n + 1, t + self.period_ns

    def observe(self, lo_ns: float, hi_ns: float) -> None:
        z = 0.5 * (lo_ns + hi_ns)
        w = hi_ns - lo_ns
        r = w * w * (1.0 / 12.0) + _JITTER_VAR
        if not self.observations:
            self.t_ref, self.p00, self.p01 = z, r, 0.0
            self.observations = 1
            self.trusted = MIN_OBSERVATIONS <= 1 and r <= _TRUSTED_VAR
            return
        p = self.period_ns
        d = int((z - self.t_ref) / p + 0.5)
        if d < 1:
            d = 1
        # Predict conversion n_ref + d: F = [[1, d], [0, 1]], period random walk.
        t_pred = self.t_ref + d * p
        p01, p11 = self.p01, self.p11
        p00 = self.p00 + d * (2.0 * p01 + d * p11)
        p01 += d * p11
        p11 += d * _WALK_VAR
        innovation = z - t_pred
        s = p00 + r
        off_model = innovation * innovation > _OUTLIER_SQ * s
        if self.doubtful:
            self.doubtful = False
            silent_ns = lo_ns - self.doubt_since_ns  # DOUT seen high this long after it
            if off_model or silent_ns >= RESET_SILENT_PERIODS * p:  # it did reset: new phase
                self.restart()
                self.observe(lo_ns, hi_ns)
                return
        # An edge surely outside the window the driver polled finely for it (still high at
        # its end, or already low before its start) missed the model, however wide the
        # bracket: judged by its middle alone, a 1 ms bracket hid a phase 0.6 ms off.
        guard = 4.0 * math.sqrt(p00) + FINE_GUARD_NS
        missed = lo_ns > t_pred + guard or hi_ns < t_pred - guard
        if (off_model or missed) and self.trusted:
            self.quiet = 0
            self.outliers += 1
            if self.outliers >= OUTLIERS_TO_RESTART:
                self.restart()
                self.observe(lo_ns, hi_ns)
            return
        self.outliers = 0
        if w <= QUIET_BRACKET_NS:  # a wider bracket fits the model too easily to count
            self.quiet = self.quiet + 1 if innovation * innovation <= _QUIET_SQ * s else 0
        k0 = p00 / s
        k1 = p01 / s
        self.t_ref = t_pred + k0 * innovation
        self.period_ns = p + k1 * innovation
        self.n_ref += d
        self.p00 = p00 = (1.0 - k0) * p00
        self.p01 = (1.0 - k0) * p01
        self.p11 = p11 - k1 * p01
        self.observations += 1
        self.trusted = self.observations >= MIN_OBSERVATIONS and p00 <= _TRUSTED_VAR
        if abs(self.period_ns - self.nominal_period_ns) > PERIOD_LIMIT * self.nominal_period_ns:
            self.forget()  # (edges all at once drove it to zero: offsets divided by it)


@dataclass(frozen=True)
class CellTiming:
    """What the clock models say: for `doctor` and the status page (phase 2 shows it)."""

    rates_hz: tuple[float | None, ...]  # each chip's measured output rate (None: not yet)
    frames_timed: int  # frames whose per-cell instants were known
    skew_mean_ms: float  # spread (latest - earliest conversion) of a frame, mean ...
    skew_max_ms: float  # ... and max over the frames timed since the last reset_stats()
    beat_period_s: float | None  # fastest walk of the offsets through a whole period
    lockstep: bool  # the chips convert together (one shared clock, synchronized start)
    lockstep_frames: int  # frames found in lockstep since the last reset_stats()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class CellTimer:
    """The chips' clock models, and each frame's per-cell conversion offsets."""

    def __init__(self, n_cells: int, nominal_rate_hz: float = NOMINAL_RATE_HZ) -> None:
        if nominal_rate_hz <= 0:
            raise ValueError(f"nominal_rate_hz must be positive, got {nominal_rate_hz}")
        self.models = [ChipClockModel(1e9 / nominal_rate_hz) for _ in range(n_cells)]
        self._lockstep_run = 0
        self._dither = 0.0
        self._waits = 0  # poll_windows calls: which frames time the edges finely
        self.reset_stats()

    def reset_stats(self) -> None:
        """Start the skew and lockstep statistics afresh (e.g. at the start of a test)."""
        self.frames_timed = 0
        self.lockstep_frames = 0
        self._skew_sum_ns = 0.0
        self._skew_max_ns = 0.0

    def restart(self) -> None:
        """The chips reset (power-down, gain change, timeout): re-acquire every phase."""
        for model in self.models:
            model.restart()
        self._lockstep_run = 0

    def doubt(self, since_ns: float) -> None:
        """The chips may have reset at `since_ns` (a slow pulse in the clocking that ended
        then: they power down only past 60 us): keep the models, and let each chip's next
        edge confirm or restart its own. Frames carry no offsets until every doubt is
        settled. Re-acquiring every phase after each slow pulse cost a few frames of 1 ms
        polls, though most slow pulses reset nothing."""
        for model in self.models:
            model.doubt(since_ns)

    @property
    def lockstep(self) -> bool:
        return self._lockstep_run >= LOCKSTEP_FRAMES

    def poll_windows(self, after_ns: float) -> list[tuple[float, ...] | None]:
        """Per chip, when its next DOUT edge (the first conversion after `after_ns`) is due:
        (start, end) of a fine-polling window, or None while the model is not sure enough.

        A chip's edge is timed finely on one wait in `OBSERVE_EVERY` once its last
        `QUIET_EDGES` edges fell where its model predicted, else (a model still learning, a
        fast temperature change, a chip in doubt) on every wait: a settled clock model a few
        frames old still knows each conversion to microseconds. On the other
        waits every trusted chip gets the same empty window (T, T), T the instant by which
        all of them are due, so the driver sleeps once and polls once (13.5 -> 2.1 sleeps a
        frame in virtual time: bench/driver_polls.py); a chip not low by then is polled
        every 1 ms, which also times a chip that reset.

        A conversion due so soon after `after_ns` (the end of the last clocking) that its
        window opens before it may have completed during the clocking, and then the chip
        skips it: its edge comes a period later. That chip gets a second window, for the
        conversion after (start, end, start2, end2), instead of 1 ms polls between the two.
        Nothing else can fall between them: a chip that reset during the clocking has its
        first data only after settling (4 periods)."""
        # Dither where the fine polls fall (golden-ratio steps of one poll interval), so an
        # edge's place inside its bracket averages out instead of biasing the model.
        self._dither = (self._dither + 0.6180339887) % 1.0
        shift = self._dither * FINE_POLL_NS
        self._waits += 1
        fine_all = self._waits % OBSERVE_EVERY == 0
        out: list[tuple[float, ...] | None] = []
        coarse: list[int] = []  # chips that only need to be due
        due = -math.inf
        for i, model in enumerate(self.models):
            if not model.trusted:
                out.append(None)
                continue
            n, t = model.next_after(after_ns)
            guard = 4.0 * model.sigma_at(n) + FINE_GUARD_NS
            if guard > MAX_FINE_GUARD_NS:
                out.append(None)
            elif t - guard <= after_ns:  # it may skip conversion n: two windows
                t2 = t + model.period_ns
                guard2 = 4.0 * model.sigma_at(n + 1) + FINE_GUARD_NS
                out.append((t - guard - shift, t + guard, t2 - guard2 - shift, t2 + guard2))
            elif fine_all or model.doubtful or model.quiet < QUIET_EDGES:
                out.append((t - guard - shift, t + guard))
            else:
                out.append(None)
                coarse.append(i)
                due = max(due, t + guard)
        for i in coarse:
            out[i] = (due, due)
        return out

    def hold_until(self, now_ns: float, fresh: int) -> float | None:
        """If a chip that was already ready (bit clear in `fresh`, the chips whose edge was
        just seen) is due to convert again within its model's uncertainty of now, the time to
        wait until, so the conversion clocked out is not in doubt; else None."""
        until = None
        for i, model in enumerate(self.models):
            if fresh >> i & 1 or not model.trusted:
                continue
            d = round((now_ns - model.t_ref) / model.period_ns)
            if d <= 0:
                continue
            t = model.t_ref + d * model.period_ns
            guard = 3.0 * model.sigma_at(model.n_ref + d) + HOLD_GUARD_NS
            if t - guard <= now_ns <= t + guard and (until is None or t + guard > until):
                until = t + guard
        return until

    def frame_offsets(
        self, edges: Sequence[tuple[int, int] | None], t_frame_ns: int
    ) -> tuple[int, ...] | None:
        """Fold in this frame's DOUT edges (lo, hi) and give each cell's conversion instant
        minus t_frame_ns: the latest conversion at or before t_frame_ns, when clocking
        started. None until every model is trusted."""
        models = self.models
        trusted = True
        for model, edge in zip(models, edges, strict=True):
            if edge is not None:
                width = edge[1] - edge[0]
                if width <= MAX_BRACKET_NS or (model.doubtful and width <= 3 * model.period_ns):
                    model.observe(edge[0], edge[1])
            trusted = trusted and model.trusted and not model.doubtful
        if not trusted:
            self._lockstep_run = 0
            return None
        # Each cell's latest conversion at or before t_frame_ns, but never before the one
        # last seen (it completed before clocking started, even if its estimated instant
        # lies a few microseconds after t_frame_ns).
        offsets = []
        for model in models:
            p = model.period_ns
            since = t_frame_ns - model.t_ref
            offsets.append(int(-(since % p)) if since > 0 else int(-since))
        lo = min(offsets)
        skew = max(offsets) - lo
        self.frames_timed += 1
        self._skew_sum_ns += skew
        if skew > self._skew_max_ns:
            self._skew_max_ns = skew
        if skew <= LOCKSTEP_SKEW_NS and self._periods_agree():
            self._lockstep_run += 1
            self.lockstep_frames += 1
        else:
            self._lockstep_run = 0
        return tuple(offsets)

    def _periods_agree(self) -> bool:
        periods = [m.period_ns for m in self.models]
        return (max(periods) - min(periods)) / periods[0] * 1e6 <= LOCKSTEP_PERIOD_PPM

    def timing(self) -> CellTiming:
        rates = tuple(m.rate_hz if m.trusted else None for m in self.models)
        known = [r for r in rates if r is not None]
        beat = None
        if len(known) >= 2 and max(known) > min(known):
            beat = 1.0 / (max(known) - min(known))
        n = self.frames_timed
        return CellTiming(
            rates_hz=rates,
            frames_timed=n,
            skew_mean_ms=self._skew_sum_ns / n / 1e6 if n else 0.0,
            skew_max_ms=self._skew_max_ns / 1e6,
            beat_period_s=beat,
            lockstep=self.lockstep,
            lockstep_frames=self.lockstep_frames,
        )
