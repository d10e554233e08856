"""A battery's progress, read from the store: which steps are done, failed, skipped, current.

Why here and not in a page: a battery run is interrupted (a reload, a phone that slept,
another device picking it up), and its progress must be the station's, not a page's memory.
It is not a second record of the results either: the session's saved trials (seq = the step's
number, the protocol's trial id, outcome) say what was done or failed; the session keeps only
what no trial can say (`SessionRecord.battery`): the steps skipped, the step the operator is
on (and since when: the rest before it), and whether the operator finished the battery.

The steps are the protocol's trials in order, each repeated `count` times; step k (from 1)
is run as the trial with seq k. A step's status comes from its latest trial that counts (not
marked invalid): complete -> done; failed or aborted -> failed, with why. A skipped step stays
skipped until it is made current again (to run it after all).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from station.analysis.history.history_rows import condition_label
from station.protocols.model import Protocol as TestProtocol
from station.protocols.model import TrialSpec

STATUSES = ("pending", "done", "failed", "skipped")


class BatteryError(ValueError):
    """A battery request that cannot be done (no such step, a finished battery); the message
    says what to do instead. `conflict`: the request is valid but the state refuses it."""

    def __init__(self, message: str, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict


class BatteryStore(Protocol):
    """What a battery needs of the store (station.store.Store)."""

    def get_session(self, uid: str) -> Any: ...
    def session_trials(self, uid: str) -> list[dict[str, Any]]: ...
    def set_session_battery(self, uid: str, battery: dict[str, Any] | None) -> None: ...
    def list_sessions(self, athlete_uid: str) -> list[Any]: ...


@dataclass(frozen=True)
class Step:
    """One step of a battery and what its trials say. `last` is the latest counted trial's
    summary (the store's session_trials row), None when it has none; `invalid_reason` is set
    when the only trials it has were marked invalid."""

    number: int
    spec: TrialSpec
    rep: int
    of: int
    status: str = "pending"
    attempts: int = 0
    last: dict[str, Any] | None = None
    invalid_reason: str | None = None

    @property
    def label(self) -> str:
        """The condition as the history pages name it, with the repetition when there are
        several ("Left leg, eyes open (2/3)")."""
        text = condition_label({"stance": self.spec.stance, "eyes": self.spec.eyes,
                                "surface": self.spec.surface, "task": self.spec.task})
        return f"{text} ({self.rep}/{self.of})" if self.of > 1 else text


@dataclass(frozen=True)
class Progress:
    """A battery run: its steps, the current one (None: nothing left), the rest before it."""

    session_uid: str
    athlete_uid: str
    protocol: TestProtocol
    started_at: datetime
    steps: tuple[Step, ...]
    current: int | None
    rest_remaining_s: float
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None or self.current is None

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status)


def plan(protocol: TestProtocol) -> list[Step]:
    """The protocol's steps in order, all pending: each trial `count` times."""
    steps: list[Step] = []
    for spec in protocol.trials:
        for rep in range(1, spec.count + 1):
            steps.append(Step(number=len(steps) + 1, spec=spec, rep=rep, of=spec.count))
    return steps


def derive(session: Any, trials: list[dict[str, Any]], protocol: TestProtocol,
           now: datetime) -> Progress:
    """The progress of `session` (a SessionRecord) from its trials (oldest first), pure."""
    state = session.battery or {}
    skipped = set(state.get("skipped", []))
    steps = [_with_trials(step, trials, step.number in skipped) for step in plan(protocol)]
    current = _current(steps, state.get("current"))
    return Progress(
        session_uid=session.uid,
        athlete_uid=session.athlete_uid,
        protocol=protocol,
        started_at=_aware(session.started_at),
        steps=tuple(steps),
        current=current,
        rest_remaining_s=_rest_remaining(trials, protocol, state, now) if current else 0.0,
        finished_at=_parse_time(state.get("finished_at")),
    )


def _with_trials(step: Step, trials: list[dict[str, Any]], skipped: bool) -> Step:
    mine = [t for t in trials if t["seq"] == step.number and _trial_id(t) == step.spec.id]
    counted = [t for t in mine if not t.get("invalid")]
    last = counted[-1] if counted else None
    if skipped:
        status = "skipped"
    elif last is not None:
        status = "done" if last["outcome"] == "complete" else "failed"
    elif mine:  # all its trials were marked invalid: it needs doing again
        status = "failed"
    else:
        status = "pending"
    invalid = (mine[-1].get("invalid_reason") or "marked invalid") if mine and not counted else None
    return dataclasses.replace(step, status=status, attempts=len(mine), last=last,
                               invalid_reason=invalid)


def _trial_id(trial: dict[str, Any]) -> str | None:
    spec = trial.get("spec")
    return spec.get("id") if isinstance(spec, dict) else None


def _current(steps: list[Step], marked: Any) -> int | None:
    """The step the operator marked, while it still wants doing (pending, or failed: repeat
    or move on); else the next pending step after it, else the first pending one."""
    by_number = {s.number: s for s in steps}
    if isinstance(marked, int) and marked in by_number:
        if by_number[marked].status in ("pending", "failed"):
            return marked
        later = [s.number for s in steps if s.number > marked and s.status == "pending"]
        if later:
            return later[0]
    pending = [s.number for s in steps if s.status == "pending"]
    return pending[0] if pending else None


def _rest_remaining(trials: list[dict[str, Any]], protocol: TestProtocol,
                    state: dict[str, Any], now: datetime) -> float:
    """The rest after the session's latest trial: its trial's rest_s, counted from when the
    operator's page saw the result (`rest_from`), or else from the end of the held part (a
    lower bound of when the trial ended)."""
    if not trials:
        return 0.0
    latest = trials[-1]
    spec = latest.get("spec") if isinstance(latest.get("spec"), dict) else {}
    rest_s = spec.get("rest_s")
    if not isinstance(rest_s, int | float):
        try:
            rest_s = protocol.trial(str(_trial_id(latest))).rest_s
        except KeyError:
            return 0.0
    started = _aware(latest["started_at"])
    anchor = started.timestamp() + float(latest.get("duration_s") or 0.0)
    rest_from = _parse_time(state.get("rest_from"))
    if rest_from is not None and rest_from >= started:
        anchor = max(anchor, rest_from.timestamp())
    return max(0.0, min(float(rest_s), float(rest_s) - (now.timestamp() - anchor)))


# -- reading and changing a session's battery --------------------------------------------


def progress(store: BatteryStore, session_uid: str, protocols: dict[str, TestProtocol],
             now: datetime | None = None) -> Progress:
    """The battery of a session; BatteryError when the session is no run of a known protocol.
    (A missing session is the store's StoreError.)"""
    session = store.get_session(session_uid)
    protocol = protocols.get(session.protocol or "")
    if protocol is None:
        raise BatteryError(f"session {session_uid} is not a run of a protocol this station has "
                           f"({session.protocol or 'no protocol'})", conflict=True)
    return derive(session, store.session_trials(session_uid), protocol, now or _now())


def open_battery(store: BatteryStore, athlete_uid: str, protocols: dict[str, TestProtocol],
                 now: datetime | None = None, today: date | None = None) -> Progress | None:
    """The athlete's latest battery started today (station's local date) that is not finished;
    None when there is none. Only batteries: sessions of protocols with kind "battery" or of
    several steps (a single trial is no battery to resume)."""
    now = now or _now()
    today = today or now.astimezone().date()
    for session in reversed(store.list_sessions(athlete_uid)):
        if _aware(session.started_at).astimezone().date() != today:
            continue
        protocol = protocols.get(session.protocol or "")
        if protocol is None or len(plan(protocol)) < 2:
            continue
        run = derive(session, store.session_trials(session.uid), protocol, now)
        if not run.finished:
            return run
    return None


def skip(store: BatteryStore, session_uid: str, step: int,
         protocols: dict[str, TestProtocol], now: datetime | None = None) -> Progress:
    """Mark a step skipped; the current step moves on to the next pending one."""
    run = _changeable(store, session_uid, step, protocols, now)
    state = _state(store, session_uid)
    state["skipped"] = sorted(set(state.get("skipped", [])) | {step})
    if state.get("current") == step:
        state.pop("current", None)
        later = [s.number for s in run.steps if s.number > step and s.status == "pending"]
        if later:
            state["current"] = later[0]
    store.set_session_battery(session_uid, state)
    return progress(store, session_uid, protocols, now)


def mark_current(store: BatteryStore, session_uid: str, step: int,
                 protocols: dict[str, TestProtocol], rest: bool = False,
                 now: datetime | None = None) -> Progress:
    """Make `step` the current one (to run or repeat it; a skipped step is run after all).
    `rest`: the rest after the latest trial starts now (the page saw its result now)."""
    _changeable(store, session_uid, step, protocols, now)
    state = _state(store, session_uid)
    state["skipped"] = [s for s in state.get("skipped", []) if s != step]
    state["current"] = step
    if rest:
        state["rest_from"] = (now or _now()).isoformat()
    store.set_session_battery(session_uid, state)
    return progress(store, session_uid, protocols, now)


def finish(store: BatteryStore, session_uid: str, protocols: dict[str, TestProtocol],
           now: datetime | None = None) -> Progress:
    """End the battery (what is left stays pending): it is no longer offered to resume."""
    run = progress(store, session_uid, protocols, now)
    if run.finished_at is not None:
        raise BatteryError("this battery is already finished", conflict=True)
    state = _state(store, session_uid)
    state["finished_at"] = (now or _now()).isoformat()
    store.set_session_battery(session_uid, state)
    return progress(store, session_uid, protocols, now)


def is_finished(store: BatteryStore, session_uid: str) -> bool:
    """True when the session is a battery its operator finished: no trial joins it any more
    (a session that is no battery never is)."""
    return bool(_state(store, session_uid).get("finished_at"))


def _changeable(store: BatteryStore, session_uid: str, step: int,
                protocols: dict[str, TestProtocol], now: datetime | None) -> Progress:
    run = progress(store, session_uid, protocols, now)
    if run.finished_at is not None:
        raise BatteryError("this battery is finished: begin a new session to test again",
                           conflict=True)
    if not 1 <= step <= len(run.steps):
        raise BatteryError(f"step {step} is not in this battery (steps 1 to {len(run.steps)})")
    return run


def _state(store: BatteryStore, session_uid: str) -> dict[str, Any]:
    return dict(store.get_session(session_uid).battery or {})


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None
