"""The station process's core: drains the acquisition ring, estimates, publishes live data.

Live messages carry every frame: raw counts, force and COP as estimated, and
`cop_live_mm`, the COP after the estimator's causal low-pass (2nd-order
Butterworth, 5 Hz) that the live view draws; the top-level `cop_mm` is the
newest filtered point. One reader thread sleeps until the ring holds a message's worth
of new frames (`Acquisition.wait_for_frames`: the acquisition process posts an eventfd
once the ring reaches the count the reader asked for, so it wakes once per message; sooner
when a partly filled message is due, at the latest every `IDLE_WAKE_S` for the
supervisor), takes the new frames from the shared ring (each
with its cells' conversion offsets), runs the per-frame estimator (which aligns the four
cells to one instant first, docs/cell-timing.md), keeps them in the history buffer and
publishes a live message per batch of `FRAMES_PER_MESSAGE`
frames (about 20 messages a second at 80 Hz), so every frame reaches every client
(docs/live-messages.md lists every key).

Data flows one way: the pump knows frames, samples and the hub. Whatever else
wants the frames (the trial runner) subscribes as a `FrameListener` and adds its
part ("hold", "events") to each message; the pump never imports it.

The reader also runs the acquisition supervisor (station.acquisition.supervisor): a dead
or hung acquisition process is noticed within a pass or `stall_s`, reported (health, the
log, an `acquisition` live message), announced to whoever asked `when_source_lost` (the
trial runner aborts its trial), and replaced with back-off. `source_problem()` says why
no trial can start meanwhile. Other parts of the station add their own sections to
`health()` with `add_health_part` (the trial spool: unsaved trials, free disk).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from station import __version__
from station.acquisition.process import Acquisition, RealtimeOptions
from station.acquisition.stats import AcqState
from station.acquisition.supervisor import AcquisitionSupervisor, Change, RestartPolicy
from station.board.spec import BoardOptions, board_kind
from station.calibration.drift import AutoZero, calibration_warnings
from station.calibration.estimator import Filtered, UncalibratedEstimator
from station.calibration.file import Calibration
from station.frames import Frame
from station.live.frame_history import FrameHistory
from station.live.hub import LiveHub
from station.samples import Sample
from station.wire import number, point

log = logging.getLogger("station")

FRAMES_PER_MESSAGE = 4
MAX_MESSAGE_DELAY_S = 0.06
# Nobody on a calibrated board, no trial and no event: a message a quarter second (every
# frame still goes out). A reader pass costs ~0.4 ms of CPU on the development VM whatever
# it carries (docs/live-messages.md), and a kiosk waits like this most of the day. The
# acquisition process wakes the reader at the first frame whose load reaches
# LOAD_WAKE_FRACTION of the calibration's minimum load (`AcquisitionStats.arm_load_wake`),
# so someone stepping on goes out at once, and from then on at the full rate.
EMPTY_BOARD_FRAMES_PER_MESSAGE = 20
EMPTY_BOARD_MESSAGE_DELAY_S = 0.3
# The board counts as empty for the message rate below this part of the minimum load (not
# at it): a hand resting on it between the two would otherwise wake the reader every frame.
LOAD_WAKE_FRACTION = 0.5
# ... and only after a quarter second below it: a load crossing it at every other frame (a
# tiny minimum load, a trembling hand) would otherwise wake the reader at every frame.
IDLE_AFTER_FRAMES = EMPTY_BOARD_FRAMES_PER_MESSAGE

# With no frame the reader still wakes this often (EMPTY_BOARD_MESSAGE_DELAY_S on an empty
# board): the supervisor's checks (stall_s is 0.8 s), the acquisition's messages, the stop
# flag.
IDLE_WAKE_S = 0.1


def load_wake_n(calibration: Calibration) -> float:
    """The load under which a calibrated board counts as empty, and at which the
    acquisition process wakes an idle reader: one level for both, so they cannot disagree."""
    return LOAD_WAKE_FRACTION * calibration.min_load_n


@runtime_checkable
class FrameEstimator(Protocol):
    """Everything the runtime uses of an estimator (both in station.calibration.estimator).

    Read-only members, so a class attribute (`calibrated = True`) satisfies them too.
    """

    @property
    def calibrated(self) -> bool: ...

    @property
    def status(self) -> str:
        """One word or phrase for health: "calibrated", "not calibrated"."""
        ...

    @property
    def calibration(self) -> Calibration | None:
        """The calibration in use; None when uncalibrated."""
        ...

    @property
    def auto_zero(self) -> AutoZero | None:
        """The empty-board zero tracker, when on (its drift feeds the health warnings)."""
        ...

    @property
    def offsets_counts(self) -> tuple[float, ...]:
        """The zero offsets in use now (auto-zero moves them); NaN when uncalibrated."""
        ...

    @property
    def filtered(self) -> Filtered:
        """The live low-pass of the newest frame (what the live view draws)."""
        ...

    def update(self, frame: Frame) -> Sample: ...


# What listeners may add to every live message, and its value when none does.
LISTENER_PARTS: dict[str, Any] = {"hold": None, "events": []}


class FrameListener(Protocol):
    """Something fed every estimated frame that adds its part to each live message.

    Both calls come from the reader thread: `on_frame` for every valid frame (keep it to
    microseconds), `live_part` once per message, returning some of LISTENER_PARTS' keys:
    "hold" (a JSON-ready status, or None) and "events" (JSON-ready events since the last
    call, handed over: not returned again). The trial runner is one
    (station.trials.runner); it does not import this module.
    """

    def on_frame(self, frame: Frame, sample: Sample) -> None: ...

    def live_part(self) -> dict[str, Any]: ...


@dataclass
class StationConfig:
    board: BoardOptions = field(default_factory=BoardOptions)
    history_s: float = 300.0
    realtime: RealtimeOptions = field(default_factory=RealtimeOptions)
    restart: RestartPolicy = field(default_factory=RestartPolicy)


class StationRuntime:
    """Owns the acquisition process, the estimator, the history and the live hub."""

    def __init__(
        self,
        config: StationConfig,
        estimator: FrameEstimator | None = None,
        calibration_problem: str | None = None,
    ) -> None:
        self.config = config
        self.estimator: FrameEstimator = estimator or UncalibratedEstimator(
            calibration_problem or "no calibration file"
        )
        self.calibration_problem = calibration_problem
        self.history = FrameHistory(config.history_s)
        self.hub = LiveHub()
        self.acquisition = Acquisition(config.board, realtime=config.realtime)
        self.supervisor = AcquisitionSupervisor(self.acquisition, config.restart)
        self._source_lost: list[Callable[[str], None]] = []
        self._health_parts: dict[str, Callable[[], dict[str, Any]]] = {}
        self.started_monotonic = time.monotonic()
        self.listeners: list[FrameListener] = []
        self._pending: list[tuple[Frame, Sample, tuple[float, float]]] = []
        self._last_publish = 0.0
        # How many frames in a row a calibrated board has carried less than load_wake_n.
        self._empty_frames = 0
        self._load_wake_armed = False
        self._listeners_quiet = False  # the last message had no hold status and no event
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="station-reader", daemon=True)
        self.board_error: str | None = None
        self.latest: Sample | None = None
        self.reader_loops = 0  # progress counter for the systemd watchdog
        self.processing_errors = 0

    def subscribe(self, listener: FrameListener) -> None:
        """Feed every frame to `listener` and add its part to every live message."""
        self.listeners.append(listener)

    def when_source_lost(self, callback: Callable[[str], None]) -> None:
        """Call `callback(problem)` (from the reader thread) when acquisition is lost."""
        self._source_lost.append(callback)

    def add_health_part(self, name: str, part: Callable[[], dict[str, Any]]) -> None:
        """Add `part()` to every health() as `name` (it must be quick and JSON-ready)."""
        if name in self.health():
            raise ValueError(f"health already has a {name!r} section")
        self._health_parts[name] = part

    def source_problem(self) -> str | None:
        """Why a trial cannot start because of acquisition now; None when it can."""
        supervisor = self.supervisor
        if not supervisor.in_outage:
            return None
        return (
            f"the board stopped answering: {supervisor.problem}; the station is restarting "
            "acquisition, try again in a few seconds"
        )

    def reload_calibration(self, path: Any) -> str | None:
        """Load a calibration file and use it from the next frame; the problem, or None.

        A file that fails to load leaves the current estimator in place (the station keeps
        measuring with what it had)."""
        from station.calibration import try_load_calibration
        from station.calibration.estimator import make_estimator

        calibration, problem = try_load_calibration(path)
        if calibration is None:
            log.warning("calibration %s not loaded: %s", path, problem)
            return problem
        self.estimator = make_estimator(calibration, auto_zero=True)
        self.calibration_problem = None
        log.info("calibration %s loaded (board %s)", path, calibration.board)
        return None

    def calibration_snapshot(self) -> dict[str, Any] | None:
        """The calibration in force right now (with auto-zero's current offsets), or None."""
        estimator = self.estimator
        cal = estimator.calibration
        if cal is None or not estimator.calibrated:
            return None
        snapshot = cal.to_dict()
        for cell, offset in zip(snapshot["cells"], estimator.offsets_counts, strict=True):
            cell["offset_counts"] = float(offset)
        return snapshot

    def start(self) -> None:
        self.acquisition.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.acquisition.wake_reader()
        self._thread.join(2.0)
        self.hub.close()
        self.acquisition.stop()

    def perform(self, action: str, **params: Any) -> None:
        """Ask a simulated board's athlete to do something (ignored by real boards)."""
        self.acquisition.send("perform", action, params)

    # -- the reader thread -------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self.reader_loops += 1
            change = self.supervisor.check()
            if change is not None:
                self._acquisition_changed(change)
            self._handle_messages()
            batch = self.acquisition.read_new()
            flags, times, counts = batch.flags.tolist(), batch.t_ns.tolist(), batch.counts.tolist()
            offsets = batch.cell_offsets()
            for flag, t_ns, cells, dt in zip(flags, times, counts, offsets, strict=True):
                try:
                    if flag:  # not data; the estimator's alignment starts afresh after it
                        self.estimator.update(Frame(t_ns, (0, 0, 0, 0), flag))
                        continue
                    self._process(Frame(t_ns, tuple(cells), 0, 0, dt))
                except Exception:  # e.g. an estimator bug: keep reading, say so in the log
                    self._processing_failed()
            now = time.monotonic()
            frames, delay_s = self._message_size()
            if self._pending and (
                len(self._pending) >= frames or now - self._last_publish >= delay_s
            ):
                self._publish(now)
            self._arm_load_wake()
            self.acquisition.wait_for_frames(*self._wait_plan(now))

    def _wait_plan(self, now: float) -> tuple[float, int]:
        """How long the reader sleeps and for how many frames: a message's worth (its
        newest frame wakes the reader, so it goes out as soon as it is read) until the
        message is due (MAX_MESSAGE_DELAY_S after the last one); once it is overdue, the
        next frame goes out at once."""
        frames, delay_s = self._message_size()
        longest_s = delay_s if self._idle() else IDLE_WAKE_S
        due_s = self._last_publish + delay_s - now
        if due_s <= 0:
            return longest_s, 1
        return min(due_s, longest_s), max(frames - len(self._pending), 1)

    def _idle(self) -> bool:
        """Nobody on the (calibrated) board, and no listener with anything to say."""
        return self._empty_frames >= IDLE_AFTER_FRAMES and self._listeners_quiet

    def _message_size(self) -> tuple[int, float]:
        """Frames per message and the longest wait between messages: the full rate, or a
        message a quarter second while the station is idle."""
        if self._idle():
            return EMPTY_BOARD_FRAMES_PER_MESSAGE, EMPTY_BOARD_MESSAGE_DELAY_S
        return FRAMES_PER_MESSAGE, MAX_MESSAGE_DELAY_S

    def _arm_load_wake(self) -> None:
        """While idle, have the acquisition process wake the reader at the first frame with a
        load (with the offsets auto-zero keeps now); else not."""
        calibration = self.estimator.calibration
        stats = self.acquisition.stats
        if self._idle() and calibration is not None:
            stats.arm_load_wake(calibration.newtons_per_count, self.estimator.offsets_counts,
                                load_wake_n(calibration))
            self._load_wake_armed = True
        elif self._load_wake_armed:
            stats.disarm_load_wake()
            self._load_wake_armed = False

    def _process(self, frame: Frame) -> None:
        sample = self.estimator.update(frame)
        self.history.append(
            sample.t_s, frame.counts, sample.force_n, (sample.cop_x_mm, sample.cop_y_mm)
        )
        self.latest = sample
        # Uncalibrated, nobody knows whether anyone is on the board.
        calibration = self.estimator.calibration
        if (self.estimator.calibrated and calibration is not None
                and sample.force_n < load_wake_n(calibration)):
            self._empty_frames += 1
        else:
            self._empty_frames = 0
        filtered = self.estimator.filtered
        self._pending.append((frame, sample, (filtered.cop_x_mm, filtered.cop_y_mm)))
        for listener in self.listeners:
            try:
                listener.on_frame(frame, sample)
            except Exception:  # one consumer's bug must not stop live data or the others
                self._processing_failed()

    def _processing_failed(self) -> None:
        self.processing_errors += 1
        if self.processing_errors == 1 or self.processing_errors % 1000 == 0:
            log.exception("frame processing failed (%d so far)", self.processing_errors)

    def _publish(self, now: float) -> None:
        pending, self._pending = self._pending, []
        self._last_publish = now
        newest = pending[-1][1]
        cop = point(*pending[-1][2])
        parts = self._listener_parts()
        self._listeners_quiet = parts["hold"] is None and not parts["events"]
        self.hub.publish(
            {
                "kind": "frames",
                "t": round(newest.t_s, 4),
                "force_n": number(newest.force_n, 1),
                "cop_mm": cop,
                "calibrated": self.estimator.calibrated,
                "cell_forces_n": [number(f, 1) for f in newest.cell_forces_n],
                "hold": parts["hold"],
                "events": parts["events"],
                "frames": {
                    "t": [round(s.t_s, 4) for _, s, _ in pending],
                    "counts": [list(f.counts) for f, _, _ in pending],
                    "force_n": [number(s.force_n, 1) for _, s, _ in pending],
                    "cop_mm": [point(s.cop_x_mm, s.cop_y_mm) for _, s, _ in pending],
                    "cop_live_mm": [point(*live) for _, _, live in pending],
                },
            }
        )

    def _listener_parts(self) -> dict[str, Any]:
        """The listeners' parts of the next message: the hold status one of them has (at
        most one runs trials), everyone's events in subscription order."""
        hold, events = LISTENER_PARTS["hold"], list(LISTENER_PARTS["events"])
        for listener in self.listeners:
            try:
                part = listener.live_part()
                unknown = part.keys() - LISTENER_PARTS.keys()
                if unknown:
                    raise ValueError(
                        f"{type(listener).__name__}.live_part() gave {sorted(unknown)}: "
                        f"a listener may add only {sorted(LISTENER_PARTS)}"
                    )
            except Exception:  # one listener's bug must not stop live data
                self._processing_failed()
                continue
            if part.get("hold") is not None:
                hold = part["hold"]
            events.extend(part.get("events", ()))
        return {"hold": hold, "events": events}

    def _acquisition_changed(self, change: Change) -> None:
        """Log, publish and announce what the supervisor saw (state changes only)."""
        sup = self.supervisor
        if change in (Change.LOST, Change.RESTART_FAILED):
            status = sup.status()
            log.error(
                "board not answering: %s; restart %d in %.1f s",
                sup.problem, sup.restarts + 1, status["next_restart_in_s"] or 0.0,
            )
        elif change is Change.RESTARTING:
            log.warning("restarting acquisition (restart %d)", sup.restarts)
        else:
            log.warning(
                "acquisition is back (restart %d, %s)", sup.restarts,
                self.acquisition.state.name.lower(),
            )
        if change is Change.LOST:  # abort first: whoever reads the message sees the trial ended
            for callback in self._source_lost:
                try:
                    callback(sup.problem or "acquisition lost")
                except Exception:  # one consumer's bug must not stop the restart
                    self._processing_failed()
        self.hub.publish({"kind": "acquisition", **self.acquisition_status()})

    def acquisition_status(self) -> dict[str, Any]:
        """The acquisition's state and the supervisor's facts (health, live message)."""
        sup = self.supervisor
        state = sup.phase.value if sup.in_outage else self.acquisition.state.name.lower()
        return {"state": state, **sup.status()}

    def _handle_messages(self) -> None:
        for message in self.acquisition.messages():
            kind, *args = message
            if kind == "log":
                log.log(args[0], args[1])
            elif kind == "board_error":
                self.board_error = args[0]
                log.error("board %s cannot be opened (retrying): %s", self.board_kind, args[0])
            elif kind == "cell_failing":
                log.warning("load cell %d failing: %s", args[0], args[1])
            elif kind == "cell_recovered":
                log.warning("load cell %d recovered after %.1f s", args[0], args[1])
            elif kind == "ended":
                log.info("board source ended (end of replay file)")

    def calibration_status(self) -> dict[str, Any]:
        """Calibrated or not, why not, and drift/age warnings (no personal data)."""
        estimator = self.estimator
        cal = estimator.calibration
        if cal is None:
            return {"status": estimator.status, "problem": self.calibration_problem}
        warnings = calibration_warnings(cal, auto_zero=estimator.auto_zero)
        return {
            "status": estimator.status,
            "board": cal.board,
            "created": cal.created.isoformat(),
            "warnings": warnings,
        }

    # -- status ------------------------------------------------------------------------
    @property
    def board_kind(self) -> str:
        return board_kind(self.config.board.spec)

    def health(self) -> dict[str, Any]:
        """Station health without personal data (for /api/health and doctor)."""
        now_ns = time.monotonic_ns()
        acq = self.acquisition.stats.snapshot(now_ns)
        acq.update(self.acquisition_status())
        athlete_s = self.acquisition.simulated_athlete_s
        if athlete_s is not None:
            acq["simulated_athlete_s"] = athlete_s
        if self.board_error and acq["state"] == AcqState.BOARD_ERROR.name.lower():
            acq["board_error"] = self.board_error
        body = {
            "version": __version__,
            "board": self.board_kind,
            "calibrated": self.estimator.calibrated,
            "calibration": self.calibration_status(),
            "uptime_s": round(time.monotonic() - self.started_monotonic, 1),
            "acquisition": acq,
            "achieved_rate_hz": acq["achieved_rate_hz"],
            "frames_discarded": acq["frames_discarded"],
        }
        for name, part in self._health_parts.items():
            try:
                body[name] = part()
            except Exception as exc:  # a broken part must not take health down
                body[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return body
