"""The norm model: a table of percentile points per group, with its source and protocol.

A table describes one measure (a station metric key, in the station's own definition: the
derivation converts the source's definition) under one protocol, for one or more groups
(age groups; sex where the data support it). `points[i]` is the value at percentile
`PERCENTILES[i]` of the group's trials, so `percentile()` is a monotone interpolation.
The percentile is the share of the group's trials at or below the value: for sway measures
lower is better, so a LOW percentile means LESS sway than most of the group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

PERCENTILES: tuple[float, ...] = tuple(float(q) for q in range(101))
"""The percentile levels every table stores (0 = the group's minimum, 100 = its maximum)."""


@dataclass(frozen=True)
class NormProtocol:
    """How the reference trials were recorded and analysed."""

    stance: str  # "double" | "single"
    surface: str  # "firm" | "foam"
    eyes: str  # "open" | "closed"
    duration_s: float
    rate_hz: float
    filter: str  # the station's name of the equivalent filter ("butter10")
    device: str
    surface_note: str = ""

    def text(self) -> str:
        """"60 s double-leg, firm, eyes open, on a force plate"."""
        return (f"{self.duration_s:g} s {self.stance}-leg, {self.surface}, eyes {self.eyes}, "
                f"on a {self.device}")


@dataclass(frozen=True)
class NormGroup:
    """One reference group: who, how many, and the measure's value at each percentile."""

    id: str
    label: str
    age_min: float
    age_max: float
    sex: str | None  # None: both sexes together
    n_people: int
    n_trials: int
    points: tuple[float, ...]

    def holds(self, age: float, sex: str | None) -> bool:
        """Whether a person of this age (and sex, if the group has one) belongs here."""
        in_age = self.age_min <= age < self.age_max
        return in_age and (self.sex is None or sex == self.sex)


@dataclass(frozen=True)
class NormTable:
    id: str
    measure: str  # station metric key, e.g. "mean_velocity_mm_s.total"
    unit: str
    lower_is_better: bool
    protocol: NormProtocol
    groups: tuple[NormGroup, ...]
    source: str
    licence: str
    population: str
    conversion: str
    min_duration_s: float
    """Shortest test this measure may be compared at (it depends on the trial's length)."""
    max_duration_s: float
    citation: str = ""
    """The source in short ("Santos & Duarte 2016"), for a line on a card."""

    def group(self, group_id: str) -> NormGroup:
        for g in self.groups:
            if g.id == group_id:
                return g
        known = ", ".join(g.id for g in self.groups)
        raise KeyError(f"norm {self.id} has no group {group_id!r}; it has {known}")

    def group_for(self, age: float, sex: str | None = None) -> NormGroup | None:
        """The most specific group for this person (a sex-specific one before a mixed one)."""
        fits = [g for g in self.groups if g.holds(age, sex)]
        fits.sort(key=lambda g: g.sex is None)
        return fits[0] if fits else None


def percentile(value: float, table: NormTable, group: str | NormGroup) -> float:
    """The percentile (0-100) of `value` among the group's trials: the share at or below it,
    interpolated between the stored points and clipped to 0..100 outside them. For a
    lower-is-better measure (sway) a low percentile is the better result."""
    g = table.group(group) if isinstance(group, str) else group
    points = np.asarray(g.points, dtype=float)
    levels = np.asarray(PERCENTILES)
    # ties (equal points) are fine for np.interp; it takes the last level of a run,
    # so a value exactly at a repeated point reports the share at or below it
    return float(np.interp(value, points, levels))


def _protocol(raw: dict[str, Any]) -> NormProtocol:
    return NormProtocol(**raw)


def _group(raw: dict[str, Any]) -> NormGroup:
    return NormGroup(**{**raw, "points": tuple(float(p) for p in raw["points"])})


def table_from_json(raw: dict[str, Any], meta: dict[str, Any]) -> NormTable:
    """A table from its JSON object; the file's `meta` gives source, licence, population."""
    if tuple(raw.get("percentiles", PERCENTILES)) != PERCENTILES:
        raise ValueError(f"norm {raw['id']}: percentile levels must be 0..100 in steps of 1")
    return NormTable(
        id=raw["id"], measure=raw["measure"], unit=raw["unit"],
        lower_is_better=raw["lower_is_better"], protocol=_protocol(raw["protocol"]),
        groups=tuple(_group(g) for g in raw["groups"]), source=meta["source"],
        licence=meta["licence"], population=meta["population"],
        conversion=raw["conversion"], min_duration_s=raw["min_duration_s"],
        max_duration_s=raw["max_duration_s"], citation=meta.get("citation", ""))


@lru_cache(maxsize=1)
def load_tables() -> tuple[NormTable, ...]:
    """Every table shipped in station/norms/data/*.json (read once)."""
    tables: list[NormTable] = []
    folder = resources.files("station.norms") / "data"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        tables.extend(table_from_json(t, doc["meta"]) for t in doc["tables"])
    return tuple(tables)
