"""Balance-test protocols as data: the dataclasses and the TOML loader/validator.

A protocol is a TOML file (one per protocol) so a coach can add or tune a test
without touching code. The loader checks every field and names the file, the
protocol and the field in its error, because a typo in a data file must not
become a silently wrong test. `to_json` is the one JSON form of a protocol and of a
trial spec (the API, the pages and the stored trial all show the same fields).

Two protocol fields say how the history reads a protocol's results (docs/metrics.md,
"Baseline"): `baseline` ("best" or "mean", default "best") is how the repeats of a trial
in the baseline session make the athlete's baseline, and `key_trial` (a trial id, for
batteries) names the condition the team page shows by default.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.protocols.games import GAME_TASKS, GameSpec

DATA_DIR = Path(__file__).resolve().parent / "data"

PROTOCOL_KINDS = ("hold", "stance", "bess", "drill", "perturbation", "hop", "battery")
STANCES = ("double", "single-left", "single-right", "tandem")
EYES = ("open", "closed")
SURFACES = ("firm", "foam", "wobble")
# task -> the athlete's line about it (default instructions). Each task is run by a
# detector of the same name in station/trials/tasks/ (a test keeps the two tables equal).
TASK_INSTRUCTIONS = {
    "hold": "Hands on hips, hold still",
    "push": "Stay relaxed: you will get a gentle push",
    "hop": "After the countdown: one small hop, land and hold still",
    "drill": "Keep the dot inside the circle",
    "weight_shift": "Follow the moving target with the dot",
    "limits_of_stability": "Lean towards each target, heels and toes down, then come back",
    "maze": "Steer the dot into each target in turn",
    "toe_taps": "Tap the free foot's toes in front, to the beat",
    "wobble": "Keep the deck level: do not let its rim touch",
}
# Two-footed games: the COP is steered by leaning on both feet; toe taps are single-leg.
DOUBLE_STANCE_GAMES = ("weight_shift", "limits_of_stability", "maze")
TASKS = tuple(TASK_INSTRUCTIONS)
BESS_KIND = "bess"  # a BESS protocol counts errors on hold trials
BATTERY_KIND = "battery"  # a battery's first session is the athlete's baseline assessment
# How the repeats of one trial in the baseline session make the baseline: the best repeat
# (highest score) or the mean of each measure over the repeats.
BASELINE_RULES = ("best", "mean")

MIN_DURATION_S = 1.0
MAX_DURATION_S = 600.0
MAX_COUNT = 20
MAX_REST_S = 600.0
MAX_TARGET_RADIUS_MM = 200.0
# A wobble trial's target zone: keep the deck's tilt inside it (the live level draws it, the
# result's zone time measures it; docs/metrics.md section 11).
TARGET_TILT_DEG = (1.0, 30.0)
WOBBLE_TASK = "wobble"

_TRIAL_KEYS = (
    "id", "stance", "eyes", "surface", "duration_s", "count", "rest_s", "task",
    "instructions", "target_radius_mm", "target_tilt_deg", "game",
)
_DEFAULTABLE_KEYS = tuple(k for k in _TRIAL_KEYS if k not in ("id", "instructions"))
_PROTOCOL_KEYS = (
    "id", "name", "description", "kind", "baseline", "key_trial", "defaults", "trials",
)


class ProtocolError(ValueError):
    """A protocol file (or an override) is invalid; the message names file, protocol, field."""


@dataclass(frozen=True)
class TrialSpec:
    """One trial of a protocol, repeated `count` times with `rest_s` between repetitions.

    target_radius_mm is the drill's target circle (None for other tasks); target_tilt_deg a
    wobble trial's target zone, the tilt the deck should stay inside (None: no target).
    game: the numbers of a biofeedback game (station.protocols.games.GameSpec; None for the
    other tasks, and for a drill until the athlete's envelope scales its circle).
    instructions: what the athlete reads in big type; lines separated by newlines.
    """

    id: str
    stance: str
    eyes: str = "open"
    surface: str = "firm"
    duration_s: float = 30.0
    count: int = 1
    rest_s: float = 30.0
    task: str = "hold"
    instructions: str = ""
    target_radius_mm: float | None = None
    target_tilt_deg: float | None = None
    game: GameSpec | None = None

    def __post_init__(self) -> None:
        if self.game is not None and not isinstance(self.game, GameSpec):
            object.__setattr__(self, "game", GameSpec.from_json(self.game))  # a stored spec

    def with_envelope(self, envelope_mm: tuple[float, ...] | list[float] | None) -> TrialSpec:
        """This trial with the athlete's limits of stability (mm per direction) for its
        targets; a task without targets is returned as it is."""
        if self.task not in (*GAME_TASKS, "drill") or envelope_mm is None:
            return self
        game = self.game if self.game is not None else GameSpec()
        return dataclasses.replace(self, game=game.with_envelope(envelope_mm))

    @property
    def single_leg(self) -> bool:
        return self.stance in ("single-left", "single-right")

    @property
    def stance_side(self) -> int:
        """-1 for the left foot, +1 for the right foot, 0 for two-footed stances."""
        return {"single-left": -1, "single-right": 1}.get(self.stance, 0)

    def with_duration(self, duration_s: float) -> TrialSpec:
        """This trial with another duration (a per-run override of the 20/30 s default)."""
        _check_duration(duration_s, f"trial {self.id!r}: duration_s")
        return dataclasses.replace(self, duration_s=float(duration_s))

    def to_json(self) -> dict[str, Any]:
        """Every field, by name (all are JSON types: the loader checked them finite)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["game"] = self.game.to_json() if self.game is not None else None
        return out


@dataclass(frozen=True)
class Protocol:
    """A named battery of trials, run in order.

    baseline: how repeats make the baseline (BASELINE_RULES); key_trial: the trial whose
    condition the team page shows by default (None: the protocol names none).
    """

    id: str
    name: str
    description: str
    kind: str
    trials: tuple[TrialSpec, ...]
    baseline: str = "best"
    key_trial: str | None = None

    def trial(self, trial_id: str) -> TrialSpec:
        for spec in self.trials:
            if spec.id == trial_id:
                return spec
        raise KeyError(f"protocol {self.id!r} has no trial {trial_id!r}")

    def with_duration(self, duration_s: float) -> Protocol:
        """Every trial with another duration (a per-run override)."""
        trials = tuple(t.with_duration(duration_s) for t in self.trials)
        return dataclasses.replace(self, trials=trials)

    def to_json(self) -> dict[str, Any]:
        """The protocol and its trials (TrialSpec.to_json), as the API and the pages show it."""
        return {"id": self.id, "name": self.name, "description": self.description,
                "kind": self.kind, "baseline": self.baseline, "key_trial": self.key_trial,
                "trials": [t.to_json() for t in self.trials]}

    @property
    def total_time_s(self) -> float:
        """Holding time plus rests, a planning figure for the operator (no countdowns)."""
        total = 0.0
        for spec in self.trials:
            total += spec.count * spec.duration_s + spec.count * spec.rest_s
        if self.trials:
            total -= self.trials[-1].rest_s
        return total


def default_instructions(stance: str, eyes: str, surface: str, task: str) -> str:
    """Athlete-facing lines for a trial whose file gives no instructions."""
    lines = {
        "double": "Stand on BOTH feet, feet hip-width apart",
        "single-left": "Stand on your LEFT foot, lift the right",
        "single-right": "Stand on your RIGHT foot, lift the left",
        "tandem": "Stand heel to toe, one foot in front of the other",
    }[stance].split("\n")
    if task == "hop":
        lines.append("After the countdown: one small hop, land and hold still")
    elif task == "push":
        lines.append("Stay relaxed: you will get a gentle push")
    elif task in TASK_INSTRUCTIONS and task != "hold":
        lines.append(TASK_INSTRUCTIONS[task])
    else:
        lines.append("Hands on hips, hold still")
    lines.append("Eyes closed" if eyes == "closed" else "Eyes open, look ahead")
    if surface == "foam":
        lines.append("On the foam pad")
    elif surface == "wobble" and task != WOBBLE_TASK:
        lines.append("On the wobble board")
    return "\n".join(lines)


def load_protocols(directory: str | Path | None = None) -> dict[str, Protocol]:
    """All protocols in `directory` (default: the shipped data), keyed by id, in file order."""
    folder = Path(directory) if directory is not None else DATA_DIR
    if not folder.is_dir():
        raise ProtocolError(f"{folder}: protocol folder not found")
    protocols: dict[str, Protocol] = {}
    origin: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        protocol = load_protocol_file(path)
        if protocol.id in protocols:
            raise ProtocolError(
                f"{path.name}: id {protocol.id!r} is already used by {origin[protocol.id]}"
            )
        protocols[protocol.id] = protocol
        origin[protocol.id] = path.name
    return protocols


def protocols_json(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Every protocol in `directory` (default: the shipped data) as JSON, in file order."""
    return [p.to_json() for p in load_protocols(directory).values()]


def get_protocol(protocol_id: str, directory: str | Path | None = None) -> Protocol:
    """One protocol by id; KeyError lists the ids that exist."""
    protocols = load_protocols(directory)
    try:
        return protocols[protocol_id]
    except KeyError:
        known = ", ".join(sorted(protocols))
        raise KeyError(f"no protocol {protocol_id!r}; known: {known}") from None


def load_protocol_file(path: str | Path) -> Protocol:
    """Read and validate one protocol file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ProtocolError(f"{path.name}: cannot read: {exc.strerror}") from None
    return parse_protocol(data, source=path.name)


def parse_protocol(data: dict[str, Any], source: str = "<protocol>") -> Protocol:
    """Validate a decoded TOML document; errors read '<source>: <field>: <problem>'."""
    ctx = _Ctx(source)
    protocol_id = _req_str(data, "id", ctx, "")
    ctx.protocol = protocol_id
    _reject_unknown(data, _PROTOCOL_KEYS, ctx, "")
    name = _req_str(data, "name", ctx, "")
    description = _opt_str(data, "description", ctx, "", "")
    kind = _enum(_req(data, "kind", ctx, ""), PROTOCOL_KINDS, ctx, "kind")
    baseline = _enum(data.get("baseline", "best"), BASELINE_RULES, ctx, "baseline")

    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        ctx.fail("defaults", "must be a table")
    _reject_unknown(defaults, _DEFAULTABLE_KEYS, ctx, "defaults.")

    raw_trials = data.get("trials")
    if not isinstance(raw_trials, list) or not raw_trials:
        ctx.fail("trials", "needs at least one [[trials]] entry")
    trials: list[TrialSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_trials):
        where = f"trials[{i}]"
        if not isinstance(raw, dict):
            ctx.fail(where, "must be a table")
        spec = _parse_trial({**defaults, **raw}, ctx, where)
        if kind == BESS_KIND and spec.task not in ("hold", WOBBLE_TASK):
            ctx.fail(f"{where}.task", f"a BESS protocol counts errors on hold trials, not on "
                     f"{spec.task!r} (wobble trials count theirs too)")
        if spec.id in seen:
            ctx.fail(f"{where}.id", f"{spec.id!r} is used twice")
        seen.add(spec.id)
        trials.append(spec)
    key_trial = data.get("key_trial")
    if key_trial is not None and key_trial not in seen:
        known = ", ".join(t.id for t in trials)
        ctx.fail("key_trial", f"{key_trial!r} is not one of the trials ({known})")
    return Protocol(protocol_id, name, description, kind, tuple(trials), baseline=baseline,
                    key_trial=key_trial)


class _Ctx:
    def __init__(self, source: str) -> None:
        self.source = source
        self.protocol: str | None = None

    def fail(self, field: str, problem: str) -> None:
        where = f"{self.source}: " if self.protocol is None else (
            f"{self.source}: protocol {self.protocol!r}: "
        )
        raise ProtocolError(f"{where}{field}: {problem}")


def _parse_trial(raw: dict[str, Any], ctx: _Ctx, where: str) -> TrialSpec:
    _reject_unknown(raw, _TRIAL_KEYS, ctx, f"{where}.")
    trial_id = _req_str(raw, "id", ctx, f"{where}.")
    stance = _enum(_req(raw, "stance", ctx, f"{where}."), STANCES, ctx, f"{where}.stance")
    eyes = _enum(raw.get("eyes", "open"), EYES, ctx, f"{where}.eyes")
    surface = _enum(raw.get("surface", "firm"), SURFACES, ctx, f"{where}.surface")
    task = _enum(raw.get("task", "hold"), TASKS, ctx, f"{where}.task")
    duration = _number(raw.get("duration_s", 30.0), ctx, f"{where}.duration_s")
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        ctx.fail(f"{where}.duration_s", f"{duration:g} s is outside "
                 f"{MIN_DURATION_S:g}..{MAX_DURATION_S:g} s")
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        ctx.fail(f"{where}.count", f"{count!r} is not a whole number from 1 to {MAX_COUNT}")
    rest = _number(raw.get("rest_s", 30.0), ctx, f"{where}.rest_s")
    if not 0.0 <= rest <= MAX_REST_S:
        ctx.fail(f"{where}.rest_s", f"{rest:g} s is outside 0..{MAX_REST_S:g} s")
    radius: float | None = None
    if "target_radius_mm" in raw:
        radius = _number(raw["target_radius_mm"], ctx, f"{where}.target_radius_mm")
        if not 0.0 < radius <= MAX_TARGET_RADIUS_MM:
            ctx.fail(f"{where}.target_radius_mm",
                     f"{radius:g} mm is outside 0..{MAX_TARGET_RADIUS_MM:g} mm")
        if task != "drill":
            ctx.fail(f"{where}.target_radius_mm", f"only drill trials have a target (task is "
                     f"{task!r})")
    elif task == "drill":
        ctx.fail(f"{where}.target_radius_mm", "a drill trial needs a target radius")
    tilt: float | None = None
    if "target_tilt_deg" in raw:
        tilt = _number(raw["target_tilt_deg"], ctx, f"{where}.target_tilt_deg")
        lo, hi = TARGET_TILT_DEG
        if not lo <= tilt <= hi:
            ctx.fail(f"{where}.target_tilt_deg", f"{tilt:g} deg is outside {lo:g}..{hi:g} deg")
        if task != WOBBLE_TASK:
            ctx.fail(f"{where}.target_tilt_deg", f"only wobble trials have a tilt target (task "
                     f"is {task!r})")
    if task == WOBBLE_TASK and surface != "wobble":
        ctx.fail(f"{where}.surface", f"a wobble trial stands on the wobble board: set surface = "
                 f"\"wobble\" (not {surface!r})")
    if task == "hop" and stance not in ("single-left", "single-right"):
        ctx.fail(f"{where}.stance", f"hop landings are single-leg, not {stance!r}")
    game = _parse_game(raw, task, stance, duration, ctx, where)
    instructions = _opt_str(raw, "instructions", ctx, f"{where}.", "").strip()
    if not instructions:
        instructions = default_instructions(stance, eyes, surface, task)
    return TrialSpec(
        id=trial_id, stance=stance, eyes=eyes, surface=surface, duration_s=duration,
        count=count, rest_s=rest, task=task, instructions=instructions,
        target_radius_mm=radius, target_tilt_deg=tilt, game=game,
    )


def _parse_game(raw: dict[str, Any], task: str, stance: str, duration: float, ctx: _Ctx,
                where: str) -> GameSpec | None:
    """The trial's [game] table (games only): known fields, positive finite numbers."""
    if task in DOUBLE_STANCE_GAMES and stance != "double":
        ctx.fail(f"{where}.stance", f"{task} is played on both feet, not {stance!r}")
    if task == "toe_taps" and stance not in ("single-left", "single-right"):
        ctx.fail(f"{where}.stance", f"toe taps are done on one leg, not {stance!r}")
    if "game" not in raw:
        return GameSpec() if task in GAME_TASKS else None
    if task not in GAME_TASKS:
        ctx.fail(f"{where}.game", f"only the games ({', '.join(GAME_TASKS)}) have a game "
                 f"table (task is {task!r})")
    table = raw["game"]
    if not isinstance(table, dict):
        ctx.fail(f"{where}.game", "must be a table")
    allowed = tuple(f.name for f in dataclasses.fields(GameSpec) if f.name != "envelope_mm")
    _reject_unknown(table, allowed, ctx, f"{where}.game.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        field = f"{where}.game.{key}"
        if key == "axis":
            values[key] = _enum(value, ("ap", "ml"), ctx, field)
        elif key == "targets":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 40:
                ctx.fail(field, f"{value!r} is not a whole number from 1 to 40")
            values[key] = value
        else:
            number = _number(value, ctx, field)
            if not 0.0 < number <= (1.0 if key.endswith("_frac") else 600.0):
                ctx.fail(field, f"{number:g} is out of range")
            values[key] = number
    game = GameSpec(**values)
    needed = game.duration_needed_s(task)
    if duration < needed:
        ctx.fail(f"{where}.duration_s", f"{duration:g} s is shorter than the {needed:g} s the "
                 f"{task} game takes")
    return game


def _check_duration(value: object, what: str) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not MIN_DURATION_S <= float(value) <= MAX_DURATION_S):
        raise ProtocolError(
            f"{what}: {value!r} is not a duration from {MIN_DURATION_S:g} to "
            f"{MAX_DURATION_S:g} s"
        )


def _reject_unknown(table: dict[str, Any], allowed: tuple[str, ...], ctx: _Ctx,
                    prefix: str) -> None:
    for key in table:
        if key not in allowed:
            ctx.fail(f"{prefix}{key}", f"unknown field (allowed: {', '.join(allowed)})")


def _req(table: dict[str, Any], key: str, ctx: _Ctx, prefix: str) -> Any:
    if key not in table:
        ctx.fail(f"{prefix}{key}", "missing")
    return table[key]


def _req_str(table: dict[str, Any], key: str, ctx: _Ctx, prefix: str) -> str:
    value = _req(table, key, ctx, prefix)
    if not isinstance(value, str) or not value.strip():
        ctx.fail(f"{prefix}{key}", f"{value!r} must be a non-empty string")
    return value.strip()


def _opt_str(table: dict[str, Any], key: str, ctx: _Ctx, prefix: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        ctx.fail(f"{prefix}{key}", f"{value!r} must be a string")
    return value


def _enum(value: Any, allowed: tuple[str, ...], ctx: _Ctx, field: str) -> str:
    if value not in allowed:
        ctx.fail(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _number(value: Any, ctx: _Ctx, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        ctx.fail(field, f"{value!r} is not a number")
    return float(value)
