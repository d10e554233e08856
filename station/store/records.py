"""Plain records passed in and out of the store (no SQL here): what the station, the web app
and the exporters exchange."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from station.store.rawframes import RawFrames


def new_uid() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Athlete:
    name: str
    team: str | None = None
    dominant_leg: str | None = None  # 'left' | 'right' | 'both'
    birth_year: int | None = None
    notes: str | None = None
    active: bool = True
    uid: str = field(default_factory=new_uid)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    demo: bool = False  # a simulated demo athlete: `Store.remove_demo_data` deletes them
    archived_at: datetime | None = None  # archived: hidden from picker and team, history kept
    # the profile norms need (all optional): sex as the reference groups record it
    sex: str | None = None  # 'F' | 'M'
    height_cm: float | None = None
    body_mass_kg: float | None = None
    sport: str | None = None
    level: str | None = None  # e.g. recreational, club, national, elite (free text)


@dataclass
class SessionRecord:
    """A visit to the station; carries the athlete's own log for the day."""

    athlete_uid: str
    started_at: datetime = field(default_factory=utcnow)
    operator: str | None = None
    protocol: str | None = None
    stiffness: int | None = None  # 0-10
    soreness: int | None = None  # 0-10
    sleep_hours: float | None = None
    sleep_quality: int | None = None  # 0-10
    notes: str | None = None
    uid: str = field(default_factory=new_uid)
    # a battery run's skipped/current steps (station.trials.battery); None: not a battery run
    battery: dict[str, Any] | None = None
    kind: str = "assessment"  # 'assessment' | 'training' (migration 0008)
    intensity: str | None = None  # a training session's: 'hard' | 'light'
    relief: int | None = None  # 0-10, the athlete's log


@dataclass
class TrialRecord:
    """One finished trial. `started_at` is wall-clock UTC (trust it only when
    `clock_synced`: a Pi without RTC may boot in 1970); `duration_s` is monotonic.
    `raw` holds the frames that were analysed (the held part of the trial)."""

    session_uid: str
    seq: int
    stance: str  # e.g. 'single_left', 'single_right', 'double', 'tandem'
    eyes: str  # 'open' | 'closed'
    surface: str  # e.g. 'firm', 'foam'
    planned_duration_s: float
    outcome: str  # 'complete' | 'failed' | 'aborted'
    duration_s: float
    started_at: datetime = field(default_factory=utcnow)
    clock_synced: bool = True
    protocol: str | None = None
    task: str = "hold"  # 'hold' | 'hop' | 'push' | ... (station.protocols TrialSpec.task)
    spec: dict[str, Any] | None = None  # the protocol's trial spec, as JSON
    body_weight_n: float | None = None
    perturbation_onsets_s: list[float] | None = None  # from the first stored frame
    time_to_failure_s: float | None = None
    failure_reason: str | None = None
    metrics: dict[str, Any] | None = None
    score: float | None = None
    calibration: dict[str, Any] | None = None
    board_id: str | None = None
    analysis_version: str | None = None
    raw: RawFrames | None = None
    rate_hz: float | None = None
    uid: str = field(default_factory=new_uid)
    # Filled in when loaded from the store:
    athlete_uid: str | None = None
    analyzed_at: datetime | None = None
    raw_purged_at: datetime | None = None
    invalid: bool = False  # set by Store.invalidate_trial, never by saving
    invalid_reason: str | None = None
    invalidated_at: datetime | None = None
    invalidated_by: str | None = None


@dataclass
class Target:
    athlete_uid: str
    measure: str
    value: float
    direction: str = "<="  # the goal is reached when measure <= value (or >=)
    condition: str | None = None
    due_date: date | None = None
    set_by: str | None = None
    notes: str | None = None
    achieved_at: datetime | None = None
    uid: str = field(default_factory=new_uid)
    created_at: datetime | None = None


@dataclass
class User:
    username: str
    role: str
    password_hash: str
    active: bool = True
    uid: str = field(default_factory=new_uid)
    created_at: datetime | None = None


@dataclass
class ApiToken:
    token_hash: str
    role: str
    name: str
    username: str | None = None
    uid: str = field(default_factory=new_uid)
    created_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass
class IntegrityReport:
    ok: bool
    problems: list[str]
    counts: dict[str, int]


@dataclass
class LoginSession:
    """A browser's login, kept by the server: the cookie holds a secret whose SHA-256 is
    `secret_hash`; the session lasts until `expires_at` or until it is ended (logout, a
    password, role or active change of its user, an admin). `kind` is "user" or "kiosk"
    (a kiosk belongs to the physio/coach who turned it on). `username` and `role` are the
    user's as they are now (filled when loaded)."""

    secret_hash: str
    username: str
    kind: str
    expires_at: datetime
    address: str | None = None
    user_agent: str | None = None
    uid: str = field(default_factory=new_uid)
    created_at: datetime | None = None
    last_seen_at: datetime | None = None
    role: str | None = None
    user_uid: str | None = None


@dataclass
class SecurityEvent:
    """One line of the security log (append-only): what happened (`kind`), who did it
    (`actor`: a user, "kiosk of <user>", "API token <name>", "command line (<os user>)"),
    to whom or what (`subject`), from which client address, and a short `detail`."""

    kind: str
    actor: str | None = None
    subject: str | None = None
    address: str | None = None
    detail: str | None = None
    at: datetime | None = None
    id: int | None = None
