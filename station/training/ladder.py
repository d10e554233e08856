"""The training ladder as data: the stages, their session items and the progression rules.

Why data: the physio's programme (firm → foam → wobble, eyes open → closed, 20 s → 30 s,
static → dynamic) changes more often than the code. The loader checks every field like the
protocol loader does and names the file, the stage and the field in its error, because a typo
must not become a silently wrong plan. A stage whose items cannot run on this station (a task
not in the runtime's task table, or a trial no protocol has) is not an error: it is kept,
marked unavailable with the reason, and the progression skips it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.protocols import TASKS, Protocol, load_protocols

LADDER_FILE = Path(__file__).resolve().parent / "ladder.toml"

_RULE_KEYS = {
    "holds": ("int", 1, 20), "days": ("int", 1, 14), "min_score": ("float", 0, 100),
    "max_velocity_mm_s": ("float", 0.1, 1000), "soreness_above": ("int", 0, 10),
    "stiffness_above": ("int", 0, 10), "log_days": ("int", 1, 30),
    "decline_holds": ("int", 1, 20), "light_at": ("int", 0, 10),
    "sessions_per_week": ("range", 1, 14), "session_minutes": ("range", 1, 120),
    "setup_s": ("float", 0, 300), "target_weeks": ("range", 1, 26),
}
_REQUIRED_RULES = tuple(k for k in _RULE_KEYS if k != "max_velocity_mm_s")
_STAGE_KEYS = ("id", "name", "items")
_ITEM_KEYS = ("protocol", "trial", "task", "duration_s", "sets", "rest_s", "hard_only")
MAX_ROUND_S = 25 * 60.0
# the tasks that are holds for the progression (a wobble-board hold is one too)
HOLD_TASKS = ("hold", "wobble")


class LadderError(ValueError):
    """The ladder file is invalid; the message names the file, the stage and the field."""


@dataclass(frozen=True)
class Rules:
    """The progression's numbers (ladder.toml [rules] explains each)."""

    holds: int
    days: int
    min_score: float
    soreness_above: int
    stiffness_above: int
    log_days: int
    decline_holds: int
    light_at: int
    sessions_per_week: tuple[int, int]
    session_minutes: tuple[int, int]
    setup_s: float
    target_weeks: tuple[int, int]
    max_velocity_mm_s: float | None = None


@dataclass(frozen=True)
class Item:
    """One exercise of a stage: a protocol trial run `sets` times for `duration_s`.
    stance/eyes/surface come from the protocol's trial (None when it does not exist)."""

    protocol: str
    trial: str
    task: str
    duration_s: float
    sets: int
    rest_s: float
    hard_only: bool = False
    stance: str | None = None
    eyes: str | None = None
    surface: str | None = None
    instructions: str = ""

    @property
    def time_s(self) -> float:
        return self.sets * (self.duration_s + self.rest_s)

    def to_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "trial": self.trial, "task": self.task,
                "duration_s": self.duration_s, "sets": self.sets, "rest_s": self.rest_s,
                "hard_only": self.hard_only, "stance": self.stance, "eyes": self.eyes,
                "surface": self.surface, "instructions": self.instructions}


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    items: tuple[Item, ...]
    skip_reason: str | None = None  # None: every item can run on this station

    @property
    def available(self) -> bool:
        return self.skip_reason is None

    @property
    def holds(self) -> tuple[Item, ...]:
        """The stage's hold items: the trials its move-up and decline rules read."""
        return tuple(i for i in self.items if i.task in HOLD_TASKS)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "available": self.available,
                "skip_reason": self.skip_reason, "items": [i.to_json() for i in self.items]}


@dataclass(frozen=True)
class Ladder:
    rules: Rules
    stages: tuple[Stage, ...]

    def index(self, stage_id: str) -> int:
        for i, stage in enumerate(self.stages):
            if stage.id == stage_id:
                return i
        known = ", ".join(s.id for s in self.stages)
        raise KeyError(f"no stage {stage_id!r} in the ladder (stages: {known})")

    def stage(self, stage_id: str) -> Stage:
        return self.stages[self.index(stage_id)]

    def first(self) -> Stage:
        """Where a new plan starts: the first stage that can run here."""
        for stage in self.stages:
            if stage.available:
                return stage
        raise LadderError("no stage of the ladder can run on this station")

    def step(self, stage_id: str, direction: int) -> tuple[Stage | None, list[Stage]]:
        """The next available stage up (+1) or down (-1), and the unavailable ones skipped on
        the way (their reasons say why)."""
        skipped = []
        i = self.index(stage_id) + direction
        while 0 <= i < len(self.stages):
            if self.stages[i].available:
                return self.stages[i], skipped
            skipped.append(self.stages[i])
            i += direction
        return None, skipped

    def to_json(self) -> dict[str, Any]:
        r = self.rules
        return {"rules": {k: getattr(r, k) for k in _RULE_KEYS},
                "stages": [s.to_json() for s in self.stages]}


def load_ladder(
    path: str | Path | None = None, *, available_tasks: Collection[str],
    protocols: Mapping[str, Protocol] | None = None,
) -> Ladder:
    """Read and check the ladder (default: the shipped ladder.toml). `available_tasks`: the
    runtime's task table (station.trials.tasks.DETECTORS); `protocols`: default the shipped
    protocols."""
    path = Path(path) if path is not None else LADDER_FILE
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LadderError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise LadderError(f"{path.name}: cannot read: {exc.strerror}") from None
    known = load_protocols() if protocols is None else protocols
    return parse_ladder(data, available_tasks=available_tasks, protocols=known,
                        source=path.name)


def parse_ladder(
    data: Mapping[str, Any], *, available_tasks: Collection[str],
    protocols: Mapping[str, Protocol], source: str = "<ladder>",
) -> Ladder:
    """Check a decoded ladder document; errors read '<source>: <where>: <problem>'."""

    def fail(where: str, problem: str) -> None:
        raise LadderError(f"{source}: {where}: {problem}")

    _only(data, ("rules", "stages"), "", fail)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, dict):
        fail("rules", "missing [rules] table")
    rules = _parse_rules(raw_rules, fail)
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        fail("stages", "needs at least one [[stages]] entry")
    stages: list[Stage] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_stages):
        where = f"stages[{i}]"
        if not isinstance(raw, dict):
            fail(where, "must be a table")
        _only(raw, _STAGE_KEYS, where + ".", fail)
        stage_id = raw.get("id")
        if not isinstance(stage_id, str) or not stage_id.strip():
            fail(f"{where}.id", f"{stage_id!r} must be a non-empty string")
        where = f"stage {stage_id!r}"
        if stage_id in seen:
            fail(f"{where}.id", "is used twice")
        seen.add(stage_id)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            fail(f"{where}.name", f"{name!r} must be a non-empty string")
        items_raw = raw.get("items")
        if not isinstance(items_raw, list) or not items_raw:
            fail(f"{where}.items", "needs at least one item")
        items, reasons = [], []
        for k, item_raw in enumerate(items_raw):
            item, reason = _parse_item(item_raw, f"{where}.items[{k}]", fail,
                                       available_tasks, protocols)
            items.append(item)
            if reason:
                reasons.append(reason)
        if not any(item.task in HOLD_TASKS for item in items):
            fail(f"{where}.items", "needs at least one hold item (the progression reads holds)")
        stage = Stage(stage_id, name.strip(), tuple(items), _skip_text(reasons))
        round_s = sum(i.time_s + rules.setup_s * i.sets for i in items)
        if round_s > MAX_ROUND_S:
            fail(f"{where}.items", f"one round takes {round_s / 60:.1f} min, more than a "
                 f"session ({MAX_ROUND_S / 60:g} min): fewer sets or shorter holds")
        stages.append(stage)
    return Ladder(rules, tuple(stages))


def _parse_rules(raw: dict[str, Any], fail: Any) -> Rules:
    _only(raw, tuple(_RULE_KEYS), "rules.", fail)
    values: dict[str, Any] = {}
    for key, (kind, low, high) in _RULE_KEYS.items():
        where = f"rules.{key}"
        if key not in raw:
            if key in _REQUIRED_RULES:
                fail(where, "missing")
            continue
        value = raw[key]
        if kind == "range":
            if (not isinstance(value, list) or len(value) != 2
                    or not all(_is_int(v) and low <= v <= high for v in value)
                    or value[0] > value[1]):
                fail(where, f"{value!r} must be [low, high], whole numbers {low}..{high}")
            values[key] = (int(value[0]), int(value[1]))
        elif kind == "int":
            if not _is_int(value) or not low <= value <= high:
                fail(where, f"{value!r} must be a whole number {low}..{high}")
            values[key] = int(value)
        else:
            if not _is_number(value) or not low <= value <= high:
                fail(where, f"{value!r} must be a number {low}..{high}")
            values[key] = float(value)
    return Rules(**values)


def _skip_text(reasons: list[tuple[str, str, str]]) -> str | None:
    """Why a stage cannot run, one clause per task: "task 'maze' is not in this station's
    task table yet"; "no protocol trial for task 'wobble' yet (wobble/left-wobble, ...)"."""
    by_task: dict[tuple[str, str], list[str]] = {}
    for task, kind, trial in reasons:
        by_task.setdefault((task, kind), []).append(trial)
    parts = []
    for (task, kind), trials in by_task.items():
        if kind == "task":
            parts.append(f"task {task!r} is not in this station's task table yet")
        else:
            parts.append(f"no protocol trial for task {task!r} yet ({', '.join(trials)})")
    return "; ".join(parts) or None


def _parse_item(
    raw: Any, where: str, fail: Any, available_tasks: Collection[str],
    protocols: Mapping[str, Protocol],
) -> tuple[Item, tuple[str, str, str] | None]:
    if not isinstance(raw, dict):
        fail(where, "must be a table")
    _only(raw, _ITEM_KEYS, where + ".", fail)
    for key in ("protocol", "trial", "task"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            fail(f"{where}.{key}", f"{raw.get(key)!r} must be a non-empty string")
    duration, rest = raw.get("duration_s"), raw.get("rest_s", 30)
    if not _is_number(duration) or not 5 <= duration <= 300:
        fail(f"{where}.duration_s", f"{duration!r} must be a number of seconds 5..300")
    if not _is_number(rest) or not 0 <= rest <= 300:
        fail(f"{where}.rest_s", f"{rest!r} must be a number of seconds 0..300")
    sets = raw.get("sets", 1)
    if not _is_int(sets) or not 1 <= sets <= 10:
        fail(f"{where}.sets", f"{sets!r} must be a whole number 1..10")
    hard_only = raw.get("hard_only", False)
    if not isinstance(hard_only, bool):
        fail(f"{where}.hard_only", f"{hard_only!r} must be true or false")
    task, pid, tid = raw["task"], raw["protocol"], raw["trial"]
    spec = None
    protocol = protocols.get(pid)
    if protocol is not None:
        spec = next((t for t in protocol.trials if t.id == tid), None)
    reason = None
    if task not in available_tasks:
        reason = (task, "task", f"{pid}/{tid}")
    elif spec is None:
        if task in TASKS:  # a task protocol files can name: a missing trial is a typo
            fail(where, f"no trial {pid}/{tid}: protocols and their trials are in "
                 "station/protocols/data")
        reason = (task, "trial", f"{pid}/{tid}")
    elif spec.task != task:
        fail(f"{where}.task", f"{task!r} but trial {pid}/{tid} is a {spec.task!r} trial")
    item = Item(
        protocol=pid, trial=tid, task=task, duration_s=float(duration), sets=int(sets),
        rest_s=float(rest), hard_only=hard_only,
        stance=spec.stance if spec else None, eyes=spec.eyes if spec else None,
        surface=spec.surface if spec else None,
        instructions=spec.instructions if spec else "",
    )
    return item, reason


def _only(table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, fail: Any) -> None:
    for key in table:
        if key not in allowed:
            fail(f"{prefix}{key}", f"unknown field (allowed: {', '.join(allowed)})")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))
