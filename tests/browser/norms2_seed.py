"""One athlete for the norms2 browser test: a baseline battery three weeks ago, weekly left and
right holds, targets (one real improvement, one within noise, one 'any condition' that must
not follow the push tested last, one set within the reliable change) and today's unfinished
battery whose key step is within noise with one trial but resolvable with two.

The numbers are made here, not measured (as in history_seed.py): what the pages must show
about them (verdicts, the condition a target follows, the repeat suggestion) does not depend
on where they came from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from station import access
from station.analysis.scoring import score_trial
from station.protocols import get_protocol
from station.store import open_store
from station.store.records import Athlete, SessionRecord, Target, TrialRecord

NAME = "Ines Moreau"
LEFT = "single-left · eyes open · firm"
RIGHT = "single-right · eyes open · firm"
VELOCITY = "mean_velocity_mm_s.total"


def _trial(session: str, seq: int, when: datetime, stance: str, velocity: float,
           protocol: str | None, task: str = "hold", spec: Any = None) -> TrialRecord:
    metrics: dict[str, Any] = {"mean_velocity_mm_s": {"total": velocity},
                               "ellipse95_area_mm2": round(velocity * 24, 1)}
    if task == "push":
        metrics["perturbation"] = {"peak_excursion_mm": 44.0, "recovery_time_s": 3.4}
    cond = {"stance": stance, "eyes": "open", "surface": "firm"}
    return TrialRecord(
        session_uid=session, seq=seq, stance=stance, eyes="open", surface="firm", task=task,
        planned_duration_s=20.0, outcome="complete", duration_s=20.0, started_at=when,
        protocol=protocol, metrics=metrics, spec=spec.to_json() if spec is not None else None,
        score=score_trial(metrics, cond, True, None, 20.0, task=task).total,
        board_id="sim", rate_hz=80.0, analysis_version="browser-seed")


def seed_norms2(data_dir: Path, admin: tuple[str, str], now: datetime | None = None) -> str:
    """The store with the admin and the athlete; returns the athlete's uid."""
    now = now or datetime.now(UTC)
    start = now - timedelta(weeks=3)
    battery = get_protocol("baseline")
    store = open_store(data_dir)
    try:
        access.create_user(store, admin[0], "admin", admin[1])
        ines = store.add_athlete(Athlete(name=NAME, team="U18", dominant_leg="right",
                                         birth_year=now.year - 17))
        first = store.create_session(SessionRecord(athlete_uid=ines, started_at=start,
                                                   protocol="baseline"))
        store.save_trial(_trial(first, 1, start, "single-left", 30.0, "baseline",
                                spec=battery.trial("left-open-firm")))
        store.save_trial(_trial(first, 2, start + timedelta(minutes=1), "single-right", 31.0,
                                "baseline", spec=battery.trial("right-open-firm")))
        for week, (left, right) in enumerate(((29.4, 28.0), (28.8, 25.0)), start=1):
            when = start + timedelta(weeks=week)
            s = store.create_session(SessionRecord(athlete_uid=ines, started_at=when))
            store.save_trial(_trial(s, 1, when, "single-left", left, None))
            store.save_trial(_trial(s, 2, when + timedelta(minutes=1), "single-right", right,
                                    None))
        # today's battery: the key step (left, eyes open) done, within noise with one trial
        today = store.create_session(SessionRecord(athlete_uid=ines, protocol="baseline",
                                                   started_at=now - timedelta(minutes=20)))
        store.save_trial(_trial(today, 1, now - timedelta(minutes=19), "single-left", 27.2,
                                "baseline", spec=battery.trial("left-open-firm")))
        # a push tested last (outside the battery): no COP-velocity target may follow it
        push = store.create_session(SessionRecord(athlete_uid=ines,
                                                  started_at=now - timedelta(minutes=10)))
        store.save_trial(_trial(push, 1, now - timedelta(minutes=10), "double", 80.0, None,
                                task="push"))
        due = (now + timedelta(weeks=3)).date()
        for measure, value, condition, notes in (
                (VELOCITY, 24.0, RIGHT, "right leg: keep going"),
                (VELOCITY, 25.0, LEFT, None),
                (VELOCITY, 26.0, None, "any condition"),
                (VELOCITY, 28.5, LEFT, "set before the reliable-change rule")):
            store.add_target(Target(athlete_uid=ines, measure=measure, value=value,
                                    condition=condition, due_date=due, notes=notes,
                                    created_at=start, set_by="admin"))
    finally:
        store.close()
    return ines
