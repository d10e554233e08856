"""What a row of history may hold, field by field: the check every imported row goes through.

Why: an archive is data from elsewhere. Unchecked, its rows stored wrong types and markup,
and corrupt values that only failed later, as a 500 on a page. Each field is checked as the
web API checks what a coach types (the same limits: names of at most 100 characters, logs
0-10, known target measures; tests/test_store_import_safety.py holds the two side by side),
and the fields the API never takes (a trial's) as the station writes them: labels without
markup, finite numbers in a plausible range, JSON objects where the station keeps objects.
Types and nullability come from the table (schema.py), so a new column is checked without a
line here; only the limits the table cannot say are written below.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from station.analysis.metrics.catalog import is_measure
from station.store.schema import (
    BODY_MASS_KG,
    DIRECTIONS,
    DOMINANT_LEGS,
    EYES,
    HEIGHT_CM,
    INTENSITIES,
    LOG_SCALE,
    OUTCOMES,
    SESSION_KINDS,
    SEXES,
    SLEEP_HOURS,
    TOMBSTONE_KINDS,
    JSONText,
    UTCDateTime,
)

INT32 = (-(2**31), 2**31 - 1)
MAX_SECONDS = 86_400.0  # a trial's durations: at most a day
MAX_TEXT = 4000  # notes
MAX_LIST = 10_000  # items of a list of numbers (perturbation onsets)
TARGET_MEASURES_EXTRA = ("score", "time_to_failure_s")  # besides the metrics catalog
_MARKUP = set("<>&\"'`")
_KIND_NAMES = {
    "text": "a string",
    "label": "a label (one printable line without < > & or quotes)",
    "uid": "a uid (UUID text)",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date-time (ISO 8601)",
    "object": "an object",
    "numbers": "a list of numbers",
    "json": "JSON",
}


class RowError(ValueError):
    """One field of a row is not acceptable; the message starts with the field's name."""


@dataclass(frozen=True)
class Rule:
    """One field. kind: text | label | uid | int | float | bool | date | datetime | object |
    numbers | json. `optional`: may be absent or null (the table then fills its default)."""

    kind: str
    optional: bool = True
    nonempty: bool = False  # text: more than whitespace
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    known: Callable[[Any], bool] | None = None  # a further test, e.g. a known measure
    known_what: str = ""


def _is_target_measure(value: Any) -> bool:
    return value in TARGET_MEASURES_EXTRA or is_measure(value)


# Limits the table cannot say: the API's (station/web/views/api_athletes.py) and the station's.
_OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "athletes": {
        "name": {"max_length": 100, "nonempty": True},
        "team": {"max_length": 100},
        "dominant_leg": {"choices": DOMINANT_LEGS},
        "birth_year": {"minimum": 1900, "maximum": 2100},
        "notes": {"max_length": MAX_TEXT},
        "sex": {"choices": SEXES},
        "height_cm": {"minimum": HEIGHT_CM[0], "maximum": HEIGHT_CM[1]},
        "body_mass_kg": {"minimum": BODY_MASS_KG[0], "maximum": BODY_MASS_KG[1]},
        "sport": {"max_length": 100},
        "level": {"max_length": 100},
    },
    "sessions": {
        "operator": {"max_length": 100},
        "protocol": {"kind": "label", "max_length": 100},
        "stiffness": {"minimum": LOG_SCALE[0], "maximum": LOG_SCALE[1]},
        "soreness": {"minimum": LOG_SCALE[0], "maximum": LOG_SCALE[1]},
        "sleep_quality": {"minimum": LOG_SCALE[0], "maximum": LOG_SCALE[1]},
        "sleep_hours": {"minimum": SLEEP_HOURS[0], "maximum": SLEEP_HOURS[1]},
        "notes": {"max_length": MAX_TEXT},
        "battery": {"kind": "object"},
        "kind": {"choices": SESSION_KINDS},
        "intensity": {"choices": INTENSITIES},
        "relief": {"minimum": LOG_SCALE[0], "maximum": LOG_SCALE[1]},
    },
    "targets": {
        "measure": {
            "kind": "label",
            "max_length": 100,
            "known": _is_target_measure,
            "known_what": "a metrics key (docs/metrics.md), score or time_to_failure_s",
        },
        "condition": {"max_length": 200},
        "direction": {"choices": DIRECTIONS},
        "notes": {"max_length": MAX_TEXT},
    },
    "trials": {
        "seq": {"minimum": 0, "maximum": 1_000_000},
        "protocol": {"kind": "label"},
        "task": {"kind": "label"},
        "stance": {"kind": "label"},
        "eyes": {"choices": EYES},
        "surface": {"kind": "label"},
        "outcome": {"choices": OUTCOMES},
        "failure_reason": {"kind": "label"},
        "analysis_version": {"kind": "label"},
        "duration_s": {"minimum": 0, "maximum": MAX_SECONDS},
        "planned_duration_s": {"minimum": 0, "maximum": MAX_SECONDS},
        "time_to_failure_s": {"minimum": 0, "maximum": MAX_SECONDS},
        "score": {"minimum": 0, "maximum": 100},
        "body_weight_n": {"minimum": 0, "maximum": 100_000},
        "spec": {"kind": "object"},
        "perturbation_onsets_s": {"kind": "numbers"},
    },
    "calibrations": {
        "content_sha256": {"kind": "label"},
        "board_id": {"kind": "label"},
        "data": {"kind": "object"},
    },
    "tombstones": {"kind": {"choices": TOMBSTONE_KINDS}},
    "users": {"role": {"kind": "label"}},
}


def _column_rule(column: sa.Column) -> Rule:
    kind_of = column.type
    optional = column.nullable or column.server_default is not None
    length = getattr(kind_of, "length", None)
    if column.name == "uid" or column.name.endswith("_uid"):
        return Rule("uid", optional)
    if isinstance(kind_of, UTCDateTime):
        return Rule("datetime", optional)
    if isinstance(kind_of, JSONText):
        return Rule("json", optional)
    if isinstance(kind_of, sa.Boolean):
        return Rule("bool", optional)
    if isinstance(kind_of, sa.Integer):
        return Rule("int", optional, minimum=INT32[0], maximum=INT32[1])
    if isinstance(kind_of, sa.Float):
        return Rule("float", optional)
    if isinstance(kind_of, sa.Date):
        return Rule("date", optional)
    if isinstance(kind_of, sa.String):  # Text too
        return Rule("text", optional, max_length=length or MAX_TEXT)
    raise TypeError(f"no rule for column {column} of type {kind_of!r}")  # a schema change


def table_rules(table: sa.Table, skip: Collection[str] = ()) -> dict[str, Rule]:
    """The rule of every column of `table` except `skip`, from its type, then the limits."""
    rules = {c.name: _column_rule(c) for c in table.c if c.name not in skip}
    for name, changes in _OVERRIDES.get(table.name, {}).items():
        if name in rules:
            rules[name] = replace(rules[name], **changes)
    return rules


def check_row(rules: Mapping[str, Rule], row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's values as the store takes them (dates parsed, naive times as UTC, like the
    API); RowError names the first field that is not acceptable. Absent optional fields
    are left out, so the table's defaults apply."""
    unknown = sorted(set(row) - set(rules))
    if unknown:
        raise RowError(f"fields this station does not know: {unknown} (a different schema)")
    out: dict[str, Any] = {}
    for name, rule in rules.items():
        value = row.get(name)
        if value is None:
            if not rule.optional:
                raise RowError(f"{name} is required")
            if name in row:
                out[name] = None
            continue
        out[name] = check_value(name, value, rule)
    return out


def check_value(name: str, value: Any, rule: Rule) -> Any:
    kind = rule.kind
    what = _KIND_NAMES[kind]
    if kind in ("text", "label", "uid"):
        value = _check_text(name, value, rule)
    elif kind in ("int", "float"):
        value = _check_number(name, value, rule)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise RowError(f"{name} must be {what}")
    elif kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise RowError(f"{name} must be {what}")
        try:
            value = date.fromisoformat(value) if kind == "date" else datetime.fromisoformat(value)
        except ValueError:
            raise RowError(f"{name} must be {what}, got {_short(value)}") from None
        if kind == "datetime" and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    elif kind == "object":
        if not isinstance(value, dict):
            raise RowError(f"{name} must be {what}")
    elif kind == "numbers" and (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(_is_finite_number(v) for v in value)
    ):
        raise RowError(f"{name} must be {what} (at most {MAX_LIST} finite numbers)")
    if rule.choices is not None and value not in rule.choices:
        shown = ", ".join(str(c) for c in rule.choices)
        raise RowError(f"{name} must be one of {shown}, got {_short(value)}")
    if rule.known is not None and not rule.known(value):
        raise RowError(f"{name} must be {rule.known_what}, got {_short(value)}")
    return value


def _check_text(name: str, value: Any, rule: Rule) -> str:
    if not isinstance(value, str):
        raise RowError(f"{name} must be {'a uid' if rule.kind == 'uid' else 'a string'}")
    if rule.kind == "uid":
        try:
            canonical = str(uuid.UUID(value))
        except ValueError:
            canonical = None
        if canonical != value:
            raise RowError(f"{name} must be a uid (UUID text), got {_short(value)}")
        return value
    if rule.max_length is not None and len(value) > rule.max_length:
        raise RowError(f"{name} is too long (max {rule.max_length} characters)")
    if rule.nonempty and not value.strip():
        raise RowError(f"{name} must not be empty")
    if not all(c.isprintable() or c in "\n\r\t" for c in value):
        raise RowError(f"{name} contains control characters")
    if rule.kind == "label" and (
        value != value.strip() or not value.isprintable() or _MARKUP & set(value)
    ):
        raise RowError(f"{name} must be {_KIND_NAMES['label']}, got {_short(value)}")
    return value


def _check_number(name: str, value: Any, rule: Rule) -> int | float:
    what = _KIND_NAMES[rule.kind]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"{name} must be {what}")
    if rule.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise RowError(f"{name} must be {what}")
            value = int(value)
    elif not _is_finite_number(value):
        raise RowError(f"{name} must be a finite number")
    else:
        value = float(value)
    if rule.minimum is not None and value < rule.minimum:
        raise RowError(f"{name} must be >= {_number(rule.minimum)}, got {_short(value)}")
    if rule.maximum is not None and value > rule.maximum:
        raise RowError(f"{name} must be <= {_number(rule.maximum)}, got {_short(value)}")
    return value


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _is_finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


def _short(value: Any, limit: int = 40) -> str:
    """A value as a short, printable repr for a message (no control or direction chars)."""
    text = repr(value)
    shown = text[:limit].encode("ascii", "backslashreplace").decode()
    return shown + ("..." if len(text) > limit else "")
