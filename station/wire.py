"""Values for the wire: one JSON-safe conversion for live messages, the API, stored JSON.

JSON has no NaN or infinity, PostgreSQL's JSON rejects them, and numpy scalars, enums,
dates and dataclasses are not JSON types. Every producer of JSON in the station (the live
messages, the API, the metrics stored with a trial, the hold engine's events) converts with
`json_safe`, so a value looks the same wherever it travels.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def json_safe(value: Any, ndigits: int | None = None) -> Any:
    """A copy made of JSON types only.

    NaN/inf become None; floats are rounded to `ndigits` when given; numpy scalars become
    Python numbers; enums their value; dates ISO 8601; dataclasses dicts; tuples lists.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return value if ndigits is None else round(value, ndigits)
    if isinstance(value, int):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value, ndigits)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, ndigits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, ndigits) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value), ndigits)
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalar (np.float64, np.int32, np.bool_, ...)
        return json_safe(item(), ndigits)
    return value


def number(value: float, ndigits: int = 2) -> float | None:
    """One float for the wire: rounded, NaN/inf as None."""
    return None if not math.isfinite(value) else round(value, ndigits)


def point(x: float, y: float, ndigits: int = 2) -> list[float | None] | None:
    """A COP point for the wire: None when undefined (nobody on the board)."""
    return None if x != x else [number(x, ndigits), number(y, ndigits)]


def json_depth(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a scalar: 0), without
    recursion: the API and the calibration file refuse what nests too deeply."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest
