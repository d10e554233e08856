"""Weeks of believable history for the demo athletes, so ten minutes of demo show trends.

Each demo athlete has a story (one improves, one plateaus, one develops a growing left/right
asymmetry with rising soreness, one stops training after three weeks). Their past sessions
(2-3 a week over six weeks: Monday's an assessment, Thursday's and Saturday's training
sessions at the athlete's stage of the training ladder, station/training, each with one
biofeedback game: demo_games.py) are made the way
the station makes a live trial: the simulator's vectorized path
(`station.board.sim.simulate`) plays the athlete at the story's skill on that day, the real
analysis (`station.analysis.pipeline.analyze_frames`) measures and scores the held frames,
and the store saves them with their raw frames, as the trial saver does. The athletes carry
the store's demo flag, so `Store.remove_demo_data` removes all of it.

The live demo loop (station.trials.autopilot.DemoLoop) plays the same people at the skill
their story has reached today, so new demo trials continue the lines.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from station.analysis.history.envelope import latest_envelope
from station.analysis.history.history_rows import local_day
from station.analysis.pipeline import analyze_frames
from station.protocols import TrialSpec, get_protocol, load_protocols
from station.store.rawframes import RawFrames
from station.store.records import Athlete, SessionRecord, TrialRecord
from station.store.repository import DEMO_HISTORY_KEY  # the history was made, and when
from station.training import Ladder, LogEntry, build_today, load_ladder
from station.training.plan_view import apply_decision, plan_state, training_days
from station.trials.demo_games import LOS, game_for_session, is_game, simulate_game
from station.trials.tasks import DETECTORS
from station.wobble import DEFAULT_BOARD

log = logging.getLogger("station.demo")

WEEKS = 6
G = 9.81
RATE_HZ = 80.0
SETTLE_S = 3.0  # step on, lift the free foot, then the hold starts
DEMO_NOTES = "simulated demo athlete"
DEMO_BOARD = "demo-history"
# The Thursday and Saturday sessions are training (station/training): the plan's holds, the
# athlete's own log; TRAINING_TRIALS of today's holds are played, like an assessment's three.
# Monday's is the assessment the trends follow.
TRAINING_WEEKDAYS = (3, 5)
TRAINING_TRIALS = 3


@dataclass(frozen=True)
class Story:
    """How one demo athlete's balance goes over the weeks (`week` from 0 to WEEKS)."""

    name: str
    team: str
    dominant_leg: str
    mass_kg: float
    kind: str  # improving | plateau | asymmetry | stopped

    def skill(self, week: float, side: str) -> float:
        """The simulator's skill (0-1, higher sways less) on that leg in that week."""
        if self.kind == "improving":
            level = 0.35 + 0.45 * min(week / WEEKS, 1.0)
        elif self.kind == "plateau":
            level = 0.4 + 0.3 * min(week / 3.0, 1.0)
        elif self.kind == "asymmetry":
            level = 0.7 - (0.35 * min(week / WEEKS, 1.0) if side == "left" else 0.0)
        else:  # stopped: a slow start, then no more sessions
            level = 0.5 + 0.1 * min(week / 2.5, 1.0)
        return float(np.clip(level, 0.05, 0.95))

    def trains(self, week: float) -> bool:
        return self.kind != "stopped" or week < 2.6

    def soreness(self, week: float, rng: np.random.Generator) -> int:
        base = 1.0 + 6.5 * week / WEEKS if self.kind == "asymmetry" else 1.5
        return int(np.clip(round(base + rng.normal(0, 0.8)), 0, 10))

    def stiffness(self, week: float, rng: np.random.Generator) -> int:
        base = 2.0 + 2.5 * week / WEEKS if self.kind == "asymmetry" else 2.0
        return int(np.clip(round(base + rng.normal(0, 1.0)), 0, 10))


STORIES = (
    Story("Demo · Alex Rivera", "Demo U18", "right", 68.0, "improving"),
    Story("Demo · Sam Okafor", "Demo U18", "left", 74.0, "plateau"),
    Story("Demo · Mia Lindqvist", "Demo Seniors", "right", 61.0, "asymmetry"),
    Story("Demo · Noah Tanaka", "Demo Seniors", "right", 82.0, "stopped"),
)
STORY_BY_NAME = {s.name: s for s in STORIES}
# (protocol, trial) of a demo session, in order: each leg, then quiet stance
SESSION_TRIALS = (
    ("single-leg-left", "left-open-firm"),
    ("single-leg-right", "right-open-firm"),
    ("romberg", "double-open-firm"),
)
LIFTED = {"single-left": "right", "single-right": "left"}
NOTES = {
    "asymmetry": "left ankle feels unstable after matches",
    "improving": "feels steadier on the left",
    "plateau": "",
    "stopped": "",
}


def failure_chance(skill: float, single_leg: bool) -> float:
    """How likely the simulated athlete loses balance in a hold (rarer as skill grows)."""
    if not single_leg:
        return 0.02
    return float(np.clip(0.55 - 0.6 * skill, 0.03, 0.4))


def session_days(rng: np.random.Generator, today: datetime, weeks: int = WEEKS) -> list[datetime]:
    """2-3 training days a week (Monday, Thursday, sometimes Saturday) before `today`, at a
    believable hour, oldest first."""
    monday = (today - timedelta(days=today.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) - timedelta(weeks=weeks)
    days = []
    for week in range(weeks + 1):
        for offset in (0, 3, 5):
            if offset == 5 and rng.random() < 0.5:
                continue
            day = monday + timedelta(weeks=week, days=offset, hours=int(rng.integers(16, 19)),
                                     minutes=int(rng.integers(0, 60)))
            if day < today - timedelta(hours=2):
                days.append(day)
    return days


def simulate_hold(
    rng: np.random.Generator, *, stance: str, eyes: str, surface: str, skill: float,
    mass_kg: float, duration_s: float, seed: int,
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(t_ns, counts, time to failure or None) of the held part of one simulated hold."""
    wobble = surface == "wobble"
    events: list[tuple[float, str, dict[str, Any]]] = [
        # a wobble trial stands on the simulator's rolling board (the COP is its dome's contact)
        *([(0.0, "place_wobble_board", {"board": DEFAULT_BOARD})] if wobble else []),
        (0.0, "step_on", {"mass_kg": mass_kg, "stance": "double", "surface": surface,
                          "skill": skill, "eyes": eyes}),
    ]
    if stance in LIFTED:
        events.append((1.5, "lift_foot", {"side": LIFTED[stance]}))
    fail_at = None
    if rng.random() < failure_chance(skill, stance in LIFTED):
        fail_at = float(rng.uniform(0.25, 0.9) * duration_s)
        # on a wobble board a foot on the deck is not seen: the lapse goes to the floor
        events.append((SETTLE_S + fail_at, "touch_down", {"on_board": not wobble}))
    end_s = SETTLE_S + (fail_at if fail_at is not None else duration_s)
    from station.board.sim import simulate  # the simulator (numpy, scipy) only for a demo

    result = simulate(events, rate_hz=RATE_HZ, seed=seed, duration_s=end_s)
    held = result.t_s >= SETTLE_S
    t_ns = 10**12 + np.rint(result.t_s[held] * 1e9).astype(np.int64)
    return t_ns, np.asarray(result.counts[held]), fail_at


def _side_skill(story: Story, week: float, side: str) -> float:
    return story.skill(week, side)


def save_simulated_trial(
    store: Any, rng: np.random.Generator, session_uid: str, *, seq: int, spec: TrialSpec,
    protocol: str, skill: float, mass_kg: float, duration_s: float, started_at: datetime,
    calibration: dict[str, Any], seed: int,
) -> str:
    """Simulate one hold (or game: demo_games.py) at `skill`, analyse it with the real
    pipeline and save it with its raw frames, as the trial saver does; returns its uid."""
    if is_game(spec):  # played from the hold's start, as the autopilot plays it live
        t_ns, counts, fail_at = simulate_game(spec.with_duration(duration_s), skill=skill,
                                              mass_kg=mass_kg, rate_hz=RATE_HZ, seed=seed)
    else:
        t_ns, counts, fail_at = simulate_hold(
            rng, stance=spec.stance, eyes=spec.eyes, surface=spec.surface, skill=skill,
            mass_kg=mass_kg, duration_s=duration_s, seed=seed,
        )
    weight = mass_kg * G
    metrics, score, version = analyze_frames(
        t_ns, counts, calibration, stance=spec.stance, eyes=spec.eyes, surface=spec.surface,
        task=spec.task, completed=fail_at is None, time_to_failure_s=fail_at,
        planned_duration_s=duration_s, body_weight_n=weight, game=spec.game,
    )
    raw = RawFrames.from_arrays(t_ns, counts)
    return store.save_trial(TrialRecord(
        session_uid=session_uid, seq=seq, stance=spec.stance, eyes=spec.eyes,
        surface=spec.surface, planned_duration_s=duration_s,
        outcome="complete" if fail_at is None else "failed", duration_s=raw.duration_s,
        started_at=started_at, protocol=protocol, task=spec.task,
        spec=spec.with_duration(duration_s).to_json(), body_weight_n=weight,
        perturbation_onsets_s=[], time_to_failure_s=fail_at,
        failure_reason=None if fail_at is None else (
            "touch_down_floor" if spec.surface == "wobble" else "touch_down_board"),
        metrics=metrics,
        score=score, calibration=calibration, board_id=DEMO_BOARD, analysis_version=version,
        raw=raw, rate_hz=(raw.n - 1) / raw.duration_s if raw.duration_s > 0 else None,
    ))


def record_training_session(
    store: Any, athlete_uid: str, *, day: datetime, rng: np.random.Generator,
    calibration: dict[str, Any], ladder: Ladder, skill: Callable[[str], float],
    mass_kg: float, soreness: int, stiffness: int, seed: int,
    max_trials: int = TRAINING_TRIALS,
) -> int:
    """One training session on `day` as the kiosk records it: the progression's decision is
    applied, the athlete's log opens a training session, and the first `max_trials` - 1
    holds of today's list are played at `skill(side)`, then one biofeedback game
    (demo_games.game_for_session: LOS first, so the athlete has an envelope, then weight
    shifts and toe taps) inside the athlete's own envelope. Returns the trials saved (0: a
    rest day)."""
    today = local_day(day)
    log = LogEntry(day, soreness=soreness, stiffness=stiffness)
    apply_decision(store, athlete_uid, ladder, today, at=day, todays=log)
    sessions = store.list_sessions(athlete_uid)
    stage = plan_state(store, athlete_uid, ladder).stage
    plan = build_today(ladder, stage, training_days(sessions), log, today)
    holds = [s for s in plan["steps"] if s["task"] == "hold"][:max(max_trials - 1, 1)]
    if plan["rest_day"] or not holds:
        return 0
    n_before = sum(1 for s in sessions if s.kind == "training")
    session = store.create_session(SessionRecord(
        athlete_uid=athlete_uid, started_at=day, operator="athlete's own entry (demo kiosk)",
        protocol="training", kind="training", intensity=plan["intensity"],
        soreness=soreness, stiffness=stiffness, relief=int(rng.integers(4, 9)),
    ))
    protocols = load_protocols()
    for seq, step in enumerate(holds, start=1):
        spec = protocols[step["protocol"]].trial(step["trial"])
        side = "left" if spec.stance == "single-left" else "right"
        save_simulated_trial(
            store, rng, session, seq=seq, spec=spec, protocol=step["protocol"],
            skill=skill(side), mass_kg=mass_kg, duration_s=step["duration_s"],
            started_at=day + timedelta(minutes=2 * seq), calibration=calibration,
            seed=seed + seq,
        )
    if max_trials <= len(holds):
        return len(holds)
    protocol, trial = game_for_session(n_before)
    spec = protocols[protocol].trial(trial)
    envelope = latest_envelope(store, athlete_uid)  # the athlete's own reach scales the game
    if envelope is not None and protocol != LOS[0]:
        spec = spec.with_envelope(envelope.envelope_mm)
    seq = len(holds) + 1
    save_simulated_trial(
        store, rng, session, seq=seq, spec=spec, protocol=protocol,
        skill=(skill("left") + skill("right")) / 2 if spec.stance == "double"
        else skill("left" if spec.stance == "single-left" else "right"),
        mass_kg=mass_kg, duration_s=spec.duration_s,
        started_at=day + timedelta(minutes=2 * seq), calibration=calibration, seed=seed + seq,
    )
    return len(holds) + 1


@dataclass
class DemoHistoryReport:
    athletes: int = 0
    sessions: int = 0
    trials: int = 0
    seconds: float = 0.0
    training_sessions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"athletes": self.athletes, "sessions": self.sessions, "trials": self.trials,
                "training_sessions": self.training_sessions, "seconds": round(self.seconds, 2)}


def demo_athlete_uids(store: Any) -> dict[str, str]:
    """{story name: uid} of the demo athletes, made (with the demo flag) when missing."""
    existing = {a.name: a.uid for a in store.list_athletes() if a.demo}
    uids = {}
    for story in STORIES:
        uids[story.name] = existing.get(story.name) or store.add_athlete(
            Athlete(name=story.name, team=story.team, dominant_leg=story.dominant_leg,
                    notes=DEMO_NOTES, demo=True)
        )
    return uids


def ensure_demo_history(
    store: Any, calibration: Mapping[str, Any], *, duration_s: float = 12.0, seed: int = 12,
    now: datetime | None = None, weeks: int = WEEKS,
    stop: Callable[[], bool] = lambda: False,
) -> DemoHistoryReport | None:
    """Make the demo's weeks of history unless the store says they were made (then None).

    Bounded: about 4 athletes x 15 sessions x 3 trials of `duration_s` (~180 trials, a few
    seconds on a Pi 4). `stop()` is asked between sessions (the station is shutting down);
    the history is then marked done as far as it got, so a start never repeats it.
    """
    if store.get_setting(DEMO_HISTORY_KEY) is not None:
        return None
    started = time.perf_counter()
    report = DemoHistoryReport()
    now = now or datetime.now(UTC)
    rng = np.random.default_rng(seed)
    uids = demo_athlete_uids(store)
    report.athletes = len(uids)
    specs = {
        (pid, tid): next(t for t in get_protocol(pid).trials if t.id == tid).with_duration(
            duration_s
        )
        for pid, tid in SESSION_TRIALS
    }
    cal = dict(calibration)
    sim_seed = seed * 100_000
    ladder = load_ladder(available_tasks=set(DETECTORS))
    for story in STORIES:
        first = None
        for day in session_days(rng, now, weeks):
            if stop():
                break
            first = first or day
            week = (day - first).total_seconds() / (7 * 86400)
            if not story.trains(week):
                break
            if day.weekday() in TRAINING_WEEKDAYS:
                made = record_training_session(
                    store, uids[story.name], day=day, rng=rng, calibration=cal,
                    ladder=ladder, skill=partial(_side_skill, story, week),
                    mass_kg=story.mass_kg, soreness=story.soreness(week, rng),
                    stiffness=story.stiffness(week, rng), seed=sim_seed,
                )
                sim_seed += TRAINING_TRIALS
                if made:
                    report.sessions += 1
                    report.training_sessions += 1
                    report.trials += made
                continue
            session = store.create_session(SessionRecord(
                athlete_uid=uids[story.name], started_at=day, operator="demo coach",
                protocol="demo-session", stiffness=story.stiffness(week, rng),
                soreness=story.soreness(week, rng),
                sleep_hours=round(float(np.clip(rng.normal(7.6, 0.8), 4, 11)), 1),
                sleep_quality=int(np.clip(round(rng.normal(7, 1.3)), 0, 10)),
                notes=NOTES[story.kind] if rng.random() < 0.25 else None,
            ))
            report.sessions += 1
            for seq, key in enumerate(SESSION_TRIALS, start=1):
                spec = specs[key]
                side = "left" if spec.stance == "single-left" else "right"
                sim_seed += 1
                save_simulated_trial(
                    store, rng, session, seq=seq, spec=spec, protocol=key[0],
                    skill=story.skill(week, side), mass_kg=story.mass_kg,
                    duration_s=duration_s, started_at=day + timedelta(minutes=2 * seq),
                    calibration=cal, seed=sim_seed,
                )
                report.trials += 1
    report.seconds = time.perf_counter() - started
    store.set_setting(DEMO_HISTORY_KEY, json.dumps(
        {**report.as_dict(), "made_at": now.isoformat(), "weeks": weeks}
    ))
    log.info("demo: made %d weeks of history: %d sessions, %d trials in %.1f s",
             weeks, report.sessions, report.trials, report.seconds)
    return report


def skill_today(story: Story, side: str) -> float:
    """The skill a story has reached today, where its history ends (the live demo goes on
    from there)."""
    return story.skill(float(WEEKS), side)


def story_for(name: str) -> Story | None:
    return STORY_BY_NAME.get(name)


def demo_info(store: Any) -> dict[str, Any] | None:
    """What the store says about the generated history (None: not made, or removed)."""
    value = store.get_setting(DEMO_HISTORY_KEY)
    if value is None:
        return None
    try:
        info = json.loads(value)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


__all__ = [
    "DEMO_HISTORY_KEY",
    "STORIES",
    "DemoHistoryReport",
    "Story",
    "demo_athlete_uids",
    "demo_info",
    "ensure_demo_history",
    "failure_chance",
    "record_training_session",
    "save_simulated_trial",
    "session_days",
    "simulate_hold",
    "skill_today",
    "story_for",
]
