"""Runs one trial at a time on the live station: engine per frame, analysis and saving after.

The hold engine sees every calibrated frame in the reader thread (a few
microseconds each). When the trial ends, its frames, the calibration in force
(with the current zero offsets) and the engine's verdict go to a worker
thread that computes metrics and score with the same code as
`balance-station reanalyze`, saves the trial in one transaction, and
publishes the result to the live view. Nothing is recorded while the station
is uncalibrated.

The station's reader feeds it as a frame listener (`on_frame`, `live_part`: the
shape station.live.runtime.FrameListener asks for); the runner knows nothing of
the reader, only the callables it is given: `start_checks` say why a trial may not
start now (acquisition restarting, the disk nearly full), `source_lost` is called when
the board stops answering, and `spool` keeps a trial the saver refused
(station.trials.spool), so a failed save never loses the frames and the result says so.

One board serves several screens (the kiosk, the physio page, the API), so a trial has an
owner (`TrialOwner`: who started it, from which screen), shown to everyone in its status.
Only the owner controls it; anyone else must ask to take over (`takeover=True`, which the
screens confirm with the person first), and the abort says who took over so the owner's
screen can tell its user. A screen left with an armed trial and nobody on the board does
not block the station: the trial expires after `HoldConfig.armed_timeout_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from station.analysis.pipeline import ANALYSIS_VERSION, analyze_frames
from station.analysis.scoring import score_trial
from station.frames import Frame
from station.protocols import Protocol, TrialSpec, get_protocol
from station.samples import Sample
from station.trials.events import TERMINAL_STATES, State, TrialOutcome
from station.trials.hold import HoldEngine, engine_for, on_wobble_board
from station.trials.thresholds import HoldConfig

if TYPE_CHECKING:
    from station.wobble import WobbleSetup

log = logging.getLogger("station.trials")

TERMINAL = TERMINAL_STATES


# Why a trial was aborted (`abort_reason` in results, statuses and `trial_aborted` events).
ABORT_REASONS: dict[str, str] = {
    "operator": "an operator aborted it",
    "operator_took_over": "someone else took over the board (a person started or stopped "
                          "a trial while another screen's or a demo trial ran)",
    "automatic": "the station stopped it (a demo trial that got stuck)",
    "armed_timeout": "nobody stepped onto the board in time",
    "board_stopped_answering": "the board stopped answering",
}


class TrialError(RuntimeError):
    """A trial cannot be started or changed now (the message says why)."""


class NotTheOwner(TrialError):
    """Someone else's trial runs: the caller may only take it over explicitly (`owner`)."""

    def __init__(self, message: str, owner: TrialOwner) -> None:
        super().__init__(message)
        self.owner = owner


@dataclass(frozen=True)
class TrialOwner:
    """Who started a trial: `key` tells screens apart (a login or kiosk session; never
    shown), `who` names the person or screen, `screen` where it was started ("kiosk",
    "physio", "api", "demo"), `athlete` the athlete's name when there is one."""

    key: str
    who: str
    screen: str
    athlete: str | None = None

    @property
    def label(self) -> str:
        """What every screen shows: "Jordan Smith — started at the kiosk"."""
        subject = self.athlete or ("a guest try" if self.screen != "demo" else self.who)
        where = {
            "kiosk": f"started at the kiosk ({self.who})",
            "physio": f"started by {self.who} on the physio page",
            "demo": "the demo loop",
        }.get(self.screen, f"started by {self.who} through the API")
        return f"{subject} — {where}"

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "who": self.who, "screen": self.screen,
                "athlete": self.athlete}


@dataclass
class TrialRequest:
    protocol_id: str
    trial_id: str
    athlete_uid: str | None = None
    session_uid: str | None = None
    duration_s: float | None = None
    operator_start: bool = False
    seq: int = 1
    demo: bool = False  # started by the demo loop: gives way to any operator's trial
    owner: TrialOwner | None = None  # None: no screen (tools, tests): anyone may control it
    # the athlete's limits of stability (mm per direction, station.protocols.games): places
    # the targets of the games and scales the drill's circle; None: the default envelope
    envelope_mm: list[float] | None = None


@dataclass
class FinishedTrial:
    """Everything known about a trial when it ends; `saved_uid` once it is in the store."""

    request: TrialRequest
    protocol: Protocol
    spec: TrialSpec
    outcome: TrialOutcome
    t_ns: np.ndarray
    counts: np.ndarray
    calibration: dict[str, Any]
    started_at: datetime
    clock_synced: bool
    metrics: dict[str, Any] | None = None
    score: float | None = None
    analysis_version: str | None = None
    saved_uid: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    abort_reason: str | None = None  # a key of ABORT_REASONS when aborted
    aborted_by: str | None = None  # the label of whoever took over, when that aborted it
    not_saved_reason: str | None = None  # why saved_uid is None, in words
    spooled: bool = False  # kept on disk to be saved later (station.trials.spool)
    # each frame's cells' conversion offsets from t_ns ((n, 4) int32, zero rows not known),
    # None when no frame knew them (docs/cell-timing.md)
    cell_dt_ns: np.ndarray | None = None
    # the station's wobble board and level point when the trial stood on one (None: the
    # default preset level at the centre; station.wobble.stored keeps the station's)
    wobble_setup: WobbleSetup | None = None
    # the runner's number of the trial (status "run"): a screen tells its own trial's result
    # from an earlier one of the same protocol and trial by it (0: not from a runner)
    run: int = 0

    def summary(self) -> dict[str, Any]:
        """The result card's data (JSON-safe)."""
        return {
            "trial_uid": self.saved_uid,
            "run": self.run,
            "protocol": self.protocol.id,
            "trial_id": self.spec.id,
            "athlete_uid": self.request.athlete_uid,
            "outcome": self.outcome.to_json(),
            "score": None if self.score is None else round(self.score, 1),
            "metrics": self.metrics,
            "error": self.error,
            "saved": self.saved_uid is not None,
            "not_saved_reason": self.not_saved_reason,
            "spooled": self.spooled,
            "abort_reason": self.abort_reason,
            "aborted_by": self.aborted_by,
            "owner": None if self.request.owner is None else self.request.owner.to_json(),
        }


Saver = Callable[[FinishedTrial], str | None]
Analyzer = Callable[[FinishedTrial], None]
Spool = Callable[[FinishedTrial, str], Any]  # keeps an unsaved trial; raises when it cannot
StartCheck = Callable[[], str | None]  # why no trial may start now, or None


class TrialRunner:
    """The station's current trial: start, operator start/abort, per-frame update."""

    def __init__(
        self,
        calibration_snapshot: Callable[[], dict[str, Any] | None],
        *,
        hold_config: HoldConfig | None = None,
        analyze: Analyzer | None = None,
        save: Saver | None = None,
        publish: Callable[[dict[str, Any]], None] | None = None,
        clock_synced: Callable[[], bool] = lambda: True,
        start_checks: Sequence[StartCheck] = (),
        spool: Spool | None = None,
        wobble_setup: Callable[[], WobbleSetup | None] = lambda: None,
    ) -> None:
        self._calibration_snapshot = calibration_snapshot
        self._wobble_setup_of_station = wobble_setup
        self._config = hold_config or HoldConfig()
        self._analyze = analyze or analyze_finished
        self._save = save
        self._publish = publish
        self._clock_synced = clock_synced
        self._start_checks = tuple(start_checks)
        self._spool = spool
        self._abort_reason: str | None = None
        self._aborted_by: str | None = None
        self._run = 0  # counts started trials: screens tell one trial from the next by it
        self._empty_since: float | None = None  # monotonic time the armed board became empty
        self._lock = threading.Lock()
        self._engine: HoldEngine | None = None
        self._request: TrialRequest | None = None
        self._protocol: Protocol | None = None
        self._spec: TrialSpec | None = None
        self._wobble_setup: WobbleSetup | None = None
        self._calibration: dict[str, Any] | None = None
        self._started_at = datetime.now(UTC)
        self._t: list[int] = []
        self._counts: list[tuple[int, int, int, int]] = []
        self._cell_dt: list[tuple[int, ...] | None] = []
        self._pending_events: list[dict[str, Any]] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trial-save")
        self.last_operator_activity = -float("inf")  # monotonic time an operator last acted
        self.last_result: FinishedTrial | None = None

    def _station_wobble_setup(self) -> WobbleSetup | None:
        """The station's wobble set-up for a wobble trial; a broken one falls back to the
        default (logged), so a stored setting never stops a trial."""
        try:
            return self._wobble_setup_of_station()
        except Exception as exc:  # a corrupt setting: the trial runs on the default preset
            log.warning("wobble set-up unavailable, using the default board: %s", exc)
            return None

    # -- control (web threads) -----------------------------------------------------------
    def start(self, request: TrialRequest, *, takeover: bool = False) -> dict[str, Any]:
        """Begin a trial; refused while another runs or when the station is uncalibrated.

        A demo trial gives way at once; another owner's trial only with `takeover` (it is
        aborted as "operator_took_over", naming the new owner), else NotTheOwner."""
        calibration = self._calibration_snapshot()
        if calibration is None:
            raise TrialError("the station is not calibrated: trials cannot be recorded")
        for check in self._start_checks:
            problem = check()
            if problem is not None:
                raise TrialError(problem)
        try:
            protocol = get_protocol(request.protocol_id)
        except (KeyError, ValueError) as exc:
            raise TrialError(f"unknown protocol {request.protocol_id!r}") from exc
        try:
            spec = protocol.trial(request.trial_id)
        except (KeyError, ValueError) as exc:
            raise TrialError(
                f"protocol {protocol.id!r} has no trial {request.trial_id!r}"
            ) from exc
        if request.duration_s is not None:
            spec = spec.with_duration(request.duration_s)
        try:
            spec = spec.with_envelope(request.envelope_mm)
        except ValueError as exc:
            raise TrialError(str(exc)) from None
        with self._lock:
            if not request.demo:
                self.last_operator_activity = time.monotonic()
            running = self._engine is not None and self._engine.state not in TERMINAL
            if running and self._request is not None and not request.demo:
                if self._request.demo:  # the demo gives way to a person
                    self._abort_locked("operator_took_over", request.owner)
                    running = False
                elif self._others_locked(request.owner):
                    if not takeover:
                        raise self._not_owner_locked("start a trial")
                    self._abort_locked("operator_took_over", request.owner)
                    running = False
            if running:
                raise TrialError("a trial is already running: finish or abort it first")
            wobble = self._station_wobble_setup() if on_wobble_board(spec) else None
            self._engine = engine_for(
                protocol, spec, self._config, operator_start=request.operator_start,
                wobble_setup=wobble,
            )
            self._wobble_setup = wobble
            self._request, self._protocol, self._spec = request, protocol, spec
            self._calibration = calibration
            self._abort_reason = self._aborted_by = None
            self._run += 1
            self._empty_since = time.monotonic()
            self._started_at = datetime.now(UTC)
            self._t, self._counts, self._pending_events = [], [], []
            self._cell_dt = []
        log.info("trial started: %s/%s", protocol.id, spec.id)
        return self.status()

    def operator_start(self, *, by: TrialOwner | None = None) -> None:
        """The operator's start of the waiting trial (its owner only)."""
        with self._lock:
            self.last_operator_activity = time.monotonic()
            if self._engine is None:
                raise TrialError("no trial to start")
            if self._engine.state not in TERMINAL and self._others_locked(by):
                raise self._not_owner_locked("start it")
            self._queue(self._engine.start())

    def abort(
        self,
        *,
        by_operator: bool = True,
        reason: str | None = None,
        by: TrialOwner | None = None,
        takeover: bool = False,
    ) -> None:
        """Stop the running trial; `reason` (a key of ABORT_REASONS) defaults from who asks.

        `by` is who asks: someone else's trial stops only with `takeover` (reason
        "operator_took_over", naming `by`), else NotTheOwner."""
        reason = reason or ("operator" if by_operator else "automatic")
        if reason not in ABORT_REASONS:
            raise ValueError(f"unknown abort reason {reason!r} (known: {sorted(ABORT_REASONS)})")
        with self._lock:
            if by_operator:
                self.last_operator_activity = time.monotonic()
            if self._engine is None or self._engine.state in TERMINAL:
                raise TrialError("no trial is running")
            if self._others_locked(by):
                if not takeover:
                    raise self._not_owner_locked("stop it")
                reason = "operator_took_over"
            self._abort_locked(reason, by if reason == "operator_took_over" else None)

    def _others_locked(self, caller: TrialOwner | None) -> bool:
        """Whether the current trial belongs to someone other than `caller` (a screen's
        trial against another screen; a trial or caller without owner belongs to all)."""
        owner = self._request.owner if self._request is not None else None
        if owner is None or caller is None or (self._request and self._request.demo):
            return False
        return owner.key != caller.key

    def _not_owner_locked(self, what: str) -> NotTheOwner:
        assert self._request is not None and self._request.owner is not None
        owner = self._request.owner
        return NotTheOwner(
            f"the board is in use: {owner.label}. To {what}, take the trial over "
            "(takeover: true); that screen is told.",
            owner,
        )

    def owns_current(self, caller: TrialOwner | None) -> bool:
        """Whether `caller` started the current (or last) trial."""
        owner = self._request.owner if self._request is not None else None
        return owner is not None and caller is not None and owner.key == caller.key

    def source_lost(self, problem: str) -> None:
        """The board stopped answering (`problem` says how): abort the trial, if one runs."""
        with self._lock:
            if self._engine is None or self._engine.state in TERMINAL:
                return
            log.warning("trial aborted: the board stopped answering (%s)", problem)
            self._abort_locked("board_stopped_answering")

    def _abort_locked(self, reason: str, by: TrialOwner | None = None) -> None:
        assert self._engine is not None
        self._abort_reason = reason
        self._aborted_by = by.label if by is not None else None
        if by is not None:
            log.info("trial taken over by %s", by.label)
        self._queue(self._engine.abort())
        self._finish_locked()

    # -- per frame (reader thread) -------------------------------------------------------
    def on_frame(self, frame: Frame, sample: Sample) -> None:
        engine = self._engine
        if engine is None or engine.state in TERMINAL:
            return
        with self._lock:
            if self._engine is not engine:
                return
            self._t.append(frame.t_ns)
            self._counts.append(frame.counts)
            self._cell_dt.append(frame.cell_dt_ns)
            events = engine.update(sample)
            if events:
                self._queue(events)
                if engine.state in TERMINAL:
                    self._finish_locked()
                    return
            self._expire_locked(engine)

    def _expire_locked(self, engine: HoldEngine) -> None:
        """Abort an armed trial whose board stayed empty for armed_timeout_s."""
        if engine.state is not State.EMPTY:
            self._empty_since = None
            return
        now = time.monotonic()
        if self._empty_since is None:
            self._empty_since = now
        elif now - self._empty_since >= self._config.armed_timeout_s:
            log.info("trial expired: nobody stepped on within %.0f s",
                     self._config.armed_timeout_s)
            self._abort_locked("armed_timeout")

    def _queue(self, events: list[Any]) -> None:
        for event in events:
            item = event.to_json()
            if item["kind"] == "trial_aborted":
                item["detail"]["reason"] = self._abort_reason
                if self._aborted_by is not None:  # taken over: who did it
                    item["detail"]["by"] = self._aborted_by
            self._pending_events.append(item)

    @property
    def current_spec(self) -> TrialSpec | None:
        """The spec of the current (or last) trial."""
        return self._spec

    @property
    def current_wobble_setup(self) -> WobbleSetup | None:
        """The wobble board and set-up of the current (or last) trial; None off a wobble board
        or when the station has none stored (then the default preset)."""
        return self._wobble_setup

    @property
    def current_key(self) -> object:
        """Changes whenever a new trial starts (the engine object itself)."""
        return self._engine

    @property
    def current_owner(self) -> TrialOwner | None:
        """Who started the current (or last) trial; None for a trial without a screen."""
        return self._request.owner if self._request is not None else None

    @property
    def is_running(self) -> bool:
        engine = self._engine
        return engine is not None and engine.state not in TERMINAL

    def live_part(self) -> dict[str, Any]:
        """This runner's part of the next live message: the trial's status (None before the
        first trial) and its events since the last message."""
        return {"hold": self.status(), "events": self.take_events()}

    def take_events(self) -> list[dict[str, Any]]:
        """Events since the last call (for the next live message)."""
        with self._lock:
            events, self._pending_events = self._pending_events, []
            return events

    def status(self) -> dict[str, Any] | None:
        engine = self._engine
        if engine is None:
            return None
        out = dict(engine.status())
        if self._protocol is not None and self._spec is not None:
            out["protocol"] = self._protocol.id
            out["trial_id"] = self._spec.id
            out["instructions"] = self._spec.instructions
        request = self._request
        out["run"] = self._run
        if request is not None:
            out["owner"] = None if request.owner is None else request.owner.to_json()
            out["athlete_uid"] = request.athlete_uid
            out["session_uid"] = request.session_uid
            out["seq"] = request.seq
            out["demo"] = request.demo
        if engine.state is State.EMPTY and self._empty_since is not None:
            left = self._config.armed_timeout_s - (time.monotonic() - self._empty_since)
            out["expires_in_s"] = round(max(0.0, left), 1)
        if engine.state is State.ABORTED:
            out["abort_reason"] = self._abort_reason
            out["aborted_by"] = self._aborted_by
        return out

    # -- the end of a trial ----------------------------------------------------------------
    def _finish_locked(self) -> None:
        engine = self._engine
        assert engine is not None and engine.result is not None
        assert self._request and self._protocol and self._spec and self._calibration
        finished = FinishedTrial(
            request=self._request,
            protocol=self._protocol,
            spec=self._spec,
            outcome=engine.result,
            t_ns=np.asarray(self._t, dtype=np.int64),
            counts=np.asarray(self._counts, dtype=np.int32).reshape(-1, 4),
            calibration=self._calibration,
            started_at=self._started_at,
            clock_synced=self._clock_synced(),
            abort_reason=self._abort_reason if engine.state is State.ABORTED else None,
            aborted_by=self._aborted_by if engine.state is State.ABORTED else None,
            cell_dt_ns=_offsets(self._cell_dt),
            wobble_setup=self._wobble_setup,
            run=self._run,
        )
        self._t, self._counts, self._cell_dt = [], [], []
        self._worker.submit(self._complete, finished)

    def _complete(self, finished: FinishedTrial) -> None:
        t0 = time.perf_counter()
        try:
            if finished.outcome.state is not State.ABORTED:
                self._analyze(finished)
        except Exception as exc:  # the station keeps running; the operator is told
            log.exception("trial %s could not be analysed", finished.spec.id)
            finished.error = f"{type(exc).__name__}: {exc}"
            finished.not_saved_reason = f"the analysis failed ({finished.error})"
        else:
            self._save_or_spool(finished)
        self.last_result = finished
        score = "-" if finished.score is None else f"{finished.score:.1f}"
        saved = f"saved {finished.saved_uid}" if finished.saved_uid else "not saved"
        if finished.spooled:
            saved += " (spooled: saved later)"
        log.info(
            "trial %s/%s %s, score %s, %s (%.0f ms)%s",
            finished.protocol.id, finished.spec.id, finished.outcome.state.value, score, saved,
            (time.perf_counter() - t0) * 1000,
            f": {finished.error}" if finished.error else "",
        )
        if self._publish is not None:
            self._publish({"kind": "trial_result", "result": finished.summary()})

    def _save_or_spool(self, finished: FinishedTrial) -> None:
        """Save; when that fails, keep the trial in the spool; say which in `finished`."""
        if self._save is None:
            finished.not_saved_reason = "this station does not save trials"
            return
        try:
            finished.saved_uid = self._save(finished)
        except Exception as exc:
            log.exception("trial %s could not be saved", finished.spec.id)
            finished.error = f"{type(exc).__name__}: {exc}"
        else:
            if finished.saved_uid is None:
                finished.not_saved_reason = (
                    "no athlete was chosen (a quick try is not kept)"
                    if finished.request.athlete_uid is None
                    else "the trial ended before the hold began: nothing to keep"
                )
            return
        if self._spool is None:
            finished.not_saved_reason = f"saving failed ({finished.error}); the frames are lost"
            return
        try:
            self._spool(finished, finished.error)
        except Exception as exc:
            log.exception("trial %s could not be spooled either", finished.spec.id)
            finished.not_saved_reason = (
                f"saving failed ({finished.error}) and keeping it on disk failed too "
                f"({type(exc).__name__}: {exc}); the frames are lost"
            )
            return
        finished.spooled = True
        finished.not_saved_reason = (
            f"saving failed ({finished.error}); the trial is kept on the station and will be "
            "saved when the database takes it again"
        )

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until queued analysis/saving is done (tests, shutdown)."""
        self._worker.submit(lambda: None).result(timeout)

    def close(self) -> None:
        self._worker.shutdown(wait=True)


def _offsets(cell_dt: list[tuple[int, ...] | None]) -> np.ndarray | None:
    """The frames' cell_dt_ns as (n, 4) int32 (zero rows: not known), None if none knew."""
    if all(dt is None for dt in cell_dt):
        return None
    return np.array([dt or (0, 0, 0, 0) for dt in cell_dt], dtype=np.int32).reshape(-1, 4)


HOP_PRE_ROLL_S = 1.0  # a hop trial keeps the flight before touch-down (landing detection)


def hold_window(finished: FinishedTrial) -> np.ndarray:
    """Mask of the frames inside the held part of the trial: what is stored and analysed."""
    t_s = finished.t_ns / 1e9
    outcome = finished.outcome
    start = outcome.hold_start_t if outcome.hold_start_t is not None else np.inf
    if finished.spec.task == "hop":
        start -= HOP_PRE_ROLL_S
    end = outcome.hold_end_t if outcome.hold_end_t is not None else np.inf
    if outcome.time_to_failure_s is not None and outcome.hold_start_t is not None:
        end = min(end, outcome.hold_start_t + outcome.time_to_failure_s)
    return (t_s >= start) & (t_s <= end)


def analyze_finished(finished: FinishedTrial) -> None:
    """Metrics and score from the trial's held frames, by the re-analysis pipeline."""
    keep = hold_window(finished)
    finished.t_ns, finished.counts = finished.t_ns[keep], finished.counts[keep]
    if finished.cell_dt_ns is not None:
        finished.cell_dt_ns = finished.cell_dt_ns[keep]
    if len(finished.t_ns) == 0:  # failed before the hold began: nothing to measure
        spec = finished.spec
        breakdown = score_trial(None, _condition(spec), False, 0.0, spec.duration_s)
        finished.metrics, finished.score = None, float(breakdown.total)
        finished.analysis_version = ANALYSIS_VERSION
        return
    result = analyze_frames(
        finished.t_ns,
        finished.counts,
        finished.calibration,
        **_condition(finished.spec),
        task=finished.spec.task,
        completed=finished.outcome.completed,
        time_to_failure_s=finished.outcome.time_to_failure_s,
        planned_duration_s=finished.spec.duration_s,
        body_weight_n=finished.outcome.body_weight_n,
        perturbation_onsets_s=[
            t - finished.t_ns[0] / 1e9 for t in finished.outcome.perturbation_onsets_s
        ],
        cell_dt_ns=finished.cell_dt_ns,
        game=finished.spec.game,
        wobble_setup=finished.wobble_setup,
    )
    finished.metrics, finished.score, finished.analysis_version = result


def _condition(spec: TrialSpec) -> dict[str, str]:
    return {"stance": spec.stance, "eyes": spec.eyes, "surface": spec.surface}
