"""Scripted scenarios: timed athlete actions that make demos and tests repeatable.

A scenario is a list of events (time in s from the start, action, parameters). In Python:
`[(0.5, "step_on", {"mass_kg": 70}), (3.0, "lift_foot", {"side": "left"}), ...]` or
`SimEvent`s. On disk, TOML (or the same structure in JSON):

    description = "single-leg hold on the right foot"
    duration_s = 20.0          # optional: how long to simulate
    seed = 1                   # optional

    [[event]]
    t_s = 0.5
    action = "step_on"
    mass_kg = 72.0

    [[event]]
    t_s = 3.0
    action = "lift_foot"
    side = "left"

Actions and parameters: see `station.board.sim.athlete.normalize_action`. Shipped scenarios
live in `scenarios/` beside this module and can be named without path or suffix.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from station.board.sim.athlete import SimActionError, normalize_action
from station.board.sim.reference_traces import CopTraceError

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file or event list cannot be used; the message says where and why."""


@dataclass(frozen=True)
class SimEvent:
    """One timed action (t_s relative to the scenario start)."""

    t_s: float
    action: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    events: tuple[SimEvent, ...]
    duration_s: float | None = None
    description: str = ""
    seed: int | None = None
    name: str = ""

    @property
    def end_s(self) -> float:
        """Scenario length: duration_s, else 3 s after the last event."""
        if self.duration_s is not None:
            return self.duration_s
        return (max((e.t_s for e in self.events), default=0.0)) + 3.0


EventsLike = Scenario | Sequence[SimEvent | tuple | dict]


def parse_events(
    events: Iterable[SimEvent | tuple | dict], where: str = "events"
) -> list[SimEvent]:
    """Normalize events given as SimEvents, (t, action, params) tuples or dicts; sorted by time.

    Every action and parameter is checked now, so a bad scenario fails before it runs.
    """
    out: list[SimEvent] = []
    for i, ev in enumerate(events):
        label = f"{where}[{i}]"
        try:
            if isinstance(ev, SimEvent):
                t, action, params = ev.t_s, ev.action, dict(ev.params)
            elif isinstance(ev, dict):
                d = dict(ev)
                t, action = d.pop("t_s"), d.pop("action")
                params = d.pop("params", {}) | d
            else:
                t, action, *rest = ev
                params = dict(rest[0]) if rest else {}
            t = float(t)
        except (KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(
                f"{label}: an event needs t_s (seconds) and action, got {ev!r}"
            ) from exc
        if not np.isfinite(t) or t < 0:
            raise ScenarioError(f"{label}: t_s must be a time >= 0, not {t}")
        try:
            normalize_action(str(action), params)
        except (SimActionError, CopTraceError) as exc:
            raise ScenarioError(f"{label} ({action} at {t:g} s): {exc}") from None
        out.append(SimEvent(t, str(action), params))
    out.sort(key=lambda e: e.t_s)
    return out


def as_scenario(events: EventsLike | str | Path) -> Scenario:
    """Accept a Scenario, an event list, or a scenario file path / shipped name."""
    if isinstance(events, Scenario):
        return events
    if isinstance(events, str | Path):
        return load_scenario(events)
    return Scenario(tuple(parse_events(events)))


def scenario_names() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Read a TOML or JSON scenario file, or a shipped scenario by name."""
    path = Path(path_or_name)
    if not path.exists() and (SCENARIO_DIR / f"{path_or_name}.toml").exists():
        path = SCENARIO_DIR / f"{path_or_name}.toml"
    try:
        text = path.read_text()
    except OSError as exc:
        names = ", ".join(scenario_names())
        raise ScenarioError(
            f"cannot read scenario {path_or_name}: {exc.strerror} (shipped: {names})"
        ) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid {path.suffix[1:] or 'TOML'}: {exc}") from None
    raw = data.get("event", data.get("events"))
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raise ScenarioError(f"{path}: needs a list of events ([[event]] tables)")
    for ev in raw:  # a trace path in a scenario file is relative to that file
        trace = ev.get("path")
        if ev.get("action") == "follow_trace" and isinstance(trace, str):
            beside = path.parent / trace
            if not Path(trace).is_absolute() and beside.exists():
                ev["path"] = str(beside)
    duration = data.get("duration_s")
    if duration is not None and (not isinstance(duration, int | float) or duration <= 0):
        raise ScenarioError(f"{path}: duration_s must be a positive number")
    seed = data.get("seed")
    if seed is not None and not isinstance(seed, int):
        raise ScenarioError(f"{path}: seed must be an integer")
    return Scenario(
        events=tuple(parse_events(raw, where=f"{path.name} event")),
        duration_s=None if duration is None else float(duration),
        description=str(data.get("description", "")),
        seed=seed,
        name=path.stem,
    )


def demo_routine(rng: np.random.Generator, t0: float) -> tuple[list[SimEvent], float]:
    """One demo athlete's visit, starting at t0; returns its events and when the next may start.

    Step on, double-leg stance, single-leg holds left and right (sometimes failed by a
    touch-down), a hop, step off, pause. Varied mass, skill and sometimes eyes closed.
    """
    mass = float(np.round(rng.uniform(45.0, 100.0), 1))
    skill = float(np.round(rng.uniform(0.1, 0.95), 2))
    surface = str(rng.choice(["firm", "firm", "firm", "foam"]))
    events: list[SimEvent] = []
    t = t0 + 1.0

    def add(dt: float, action: str, **params: Any) -> None:
        nonlocal t
        t += dt
        events.append(SimEvent(round(t, 4), action, params))

    add(0.0, "step_on", mass_kg=mass, skill=skill, surface=surface)
    add(float(rng.uniform(8.0, 12.0)), "lift_foot", side="right")  # stand on the left
    for stance in ("left", "right"):
        hold = 20.0
        if rng.random() < 0.25 + 0.4 * (1.0 - skill):  # weaker athletes fail more
            add(
                float(rng.uniform(3.0, hold - 2.0)), "touch_down", on_board=bool(rng.random() < 0.7)
            )
            add(float(rng.uniform(0.4, 1.5)), "put_foot_down")
        else:
            add(hold, "put_foot_down")
        if stance == "left":
            add(float(rng.uniform(4.0, 6.0)), "lift_foot", side="left")  # stand on the right
    add(float(rng.uniform(3.0, 5.0)), "lift_foot", side="right")
    add(float(rng.uniform(2.0, 3.0)), "hop", peak_bw=float(np.round(rng.uniform(2.0, 3.5), 2)))
    add(6.0, "put_foot_down")
    add(float(rng.uniform(2.0, 4.0)), "step_off")
    return events, t + float(rng.uniform(3.0, 6.0))
