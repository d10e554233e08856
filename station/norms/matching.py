"""Protocol matching: compare a test with a norm only when both are the same kind of test.

Stance, surface and eyes must be the norm's; the test's length must be within the measure's
comparable range (velocity depends little on it, area grows with it); the analysis filter
must be the norm's. A mismatch is refused with the reason, in words a physio reads:
"norm: 60 s double-leg, firm, eyes open, on a force plate; your test: 30 s single-leg ...".
What differs but does not refuse (device, sampling rate, the foam pad) is a caveat.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from station.norms.tables import NormGroup, NormTable, load_tables, percentile

TYPICAL_LOW, TYPICAL_HIGH = 10.0, 90.0
"""The "typical for age" band: the group's 10th to 90th percentile."""

MEASURE_WORDS = {"mean_velocity_mm_s.total": "COP velocity",
                 "ellipse95_area_mm2": "the ellipse area",
                 "prediction_ellipse95_area_mm2": "the prediction-ellipse area"}


def stance_family(stance: str) -> str:
    """"single-left" -> "single"; "double", "tandem-left" -> "double", "tandem"."""
    s = stance.strip().lower().replace("_", "-")
    for family in ("double", "single", "tandem"):
        if s.startswith(family):
            return family
    return {"both": "double", "bilateral": "double", "left": "single",
            "right": "single"}.get(s, s)


@dataclass(frozen=True)
class TrialConditions:
    """The test a value comes from, and who did it (age in years, sex "F"/"M")."""

    stance: str
    surface: str
    eyes: str
    duration_s: float | None
    filter: str = "butter10"
    device: str = "this board"
    age: float | None = None
    sex: str | None = None

    def text(self) -> str:
        length = "?" if self.duration_s is None else f"{self.duration_s:.0f}"
        return (f"{length} s {stance_family(self.stance)}-leg, {self.surface}, eyes "
                f"{self.eyes}, on {self.device}")


@dataclass(frozen=True)
class NormMatch:
    """A norm the test can be compared with (group set), or why not (reason set)."""

    measure: str
    table: NormTable | None = None
    group: NormGroup | None = None
    reason: str | None = None
    caveats: tuple[str, ...] = field(default=())
    why: str | None = None
    """The reason alone, without the two protocols (for a chart's note)."""

    @property
    def ok(self) -> bool:
        return self.table is not None and self.group is not None and self.reason is None

    def compared(self, test: TrialConditions) -> str:
        """"norm: 163 adults, 60 s ..., force plate; your test: 30 s ..., this board"."""
        if self.table is None:
            return f"your test: {test.text()}"
        return f"norm: {self.table.protocol.text()}; your test: {test.text()}"


def _refusal(table: NormTable, test: TrialConditions) -> str | None:
    p = table.protocol
    mismatch = [name for name, mine in (("stance", stance_family(test.stance)),
                                        ("surface", test.surface), ("eyes", test.eyes))
                if getattr(p, name) != mine]
    if mismatch:
        return f"{', '.join(mismatch)} differ"
    if test.duration_s is None:
        return "the test's length is unknown"
    if not table.min_duration_s - 0.5 <= test.duration_s <= table.max_duration_s + 0.5:
        words = MEASURE_WORDS.get(table.measure, table.measure)
        return (f"{words} is compared only for tests of {table.min_duration_s:g}-"
                f"{table.max_duration_s:g} s (it depends on the trial's length); this one is "
                f"{test.duration_s:.0f} s")
    if test.filter != p.filter:
        return f"the norm's COP is low-pass filtered at 10 Hz; this analysis used {test.filter!r}"
    return None


def match_norm(table: NormTable, test: TrialConditions) -> NormMatch:
    """This table against this test: the group to use, or the reason it cannot be used."""
    def refuse(why: str) -> NormMatch:
        return NormMatch(table.measure, table, None,
                         f"norm: {table.protocol.text()}; your test: {test.text()}: {why}",
                         why=why)

    why = _refusal(table, test)
    if why is not None:
        return refuse(why)
    if test.age is None:
        return refuse("the athlete's age is unknown (a birth year on the profile; --age for "
                      "balance-station analyze)")
    group = table.group_for(test.age, test.sex)
    if group is None:
        ages = f"{min(g.age_min for g in table.groups):g}-" \
               f"{max(g.age_max for g in table.groups) - 1:g}"
        return refuse(f"no reference group for age {test.age:g} (the norm covers {ages})")
    caveats = [f"measured on {test.device}, the norm on a {table.protocol.device} at "
               f"{table.protocol.rate_hz:g} Hz"]
    if test.duration_s is not None and abs(test.duration_s - table.protocol.duration_s) > 1:
        caveats.append(f"the norm's trials are {table.protocol.duration_s:g} s, "
                       f"yours {test.duration_s:.0f} s")
    if table.protocol.surface_note:
        caveats.append(table.protocol.surface_note)
    if group.sex is None:
        caveats.append("both sexes together (the data set's 47 men, 16 of them older, are "
                       "too few for groups of their own)")
    return NormMatch(table.measure, table, group, None, tuple(caveats))


def norms_for(measure: str, test: TrialConditions,
              tables: tuple[NormTable, ...] | None = None) -> NormMatch:
    """The matching norm for a measure, or the reason there is none (no table for the
    measure, none for this stance/surface/eyes, or the one that fits refuses the test)."""
    tables = load_tables() if tables is None else tables
    mine = [t for t in tables if t.measure == measure]
    if not mine:
        return NormMatch(measure, reason=f"no norm for {measure}")
    matches = [match_norm(t, test) for t in mine]
    for m in matches:
        if m.ok:
            return m
    same_kind = [m for m in matches if m.table is not None and not m.reason.endswith(
        " differ")]  # type: ignore[union-attr]
    if same_kind:
        return same_kind[0]
    kinds = sorted({(t.protocol.stance, t.protocol.surface, t.protocol.eyes) for t in mine})
    have = ", ".join(f"{s}-leg {f} eyes {e}" for s, f, e in kinds)
    return NormMatch(measure, reason=f"no norm for {test.text()}; the norms are {have} "
                                     f"({mine[0].protocol.duration_s:g} s on a "
                                     f"{mine[0].protocol.device})",
                     why=f"norms exist only for {have}")


def band(pct: float) -> str:
    """"low" / "typical" / "high" against the 10th-90th percentile band."""
    return "low" if pct < TYPICAL_LOW else "high" if pct > TYPICAL_HIGH else "typical"


def band_text(pct: float, group: NormGroup, lower_is_better: bool) -> str:
    """What a physio reads: "typical for age", "less sway than 93 % of ..."."""
    b = band(pct)
    if b == "typical":
        return "typical for age"
    if lower_is_better:
        if b == "low":
            return f"less sway than {100 - pct:.0f} % of {group.label}"
        return f"more sway than {pct:.0f} % of {group.label}"
    return f"{'lower' if b == 'low' else 'higher'} than {max(pct, 100 - pct):.0f} % of " \
           f"{group.label}"


def norm_result(measure: str, value: float | None, test: TrialConditions,
                tables: tuple[NormTable, ...] | None = None) -> dict[str, Any]:
    """The JSON the CLI, the result card and the report show for one measure: percentile,
    band, the norm's id and source, or the reason there is none."""
    m = norms_for(measure, test, tables)
    if not m.ok or m.table is None or m.group is None:
        return {"measure": measure, "percentile": None, "reason": m.reason,
                "why": m.why or m.reason}
    if value is None:
        return {"measure": measure, "percentile": None, "norm_id": m.table.id,
                "reason": "no value for this measure"}
    pct = percentile(value, m.table, m.group)
    points = m.group.points
    return {
        "measure": measure, "value": value, "unit": m.table.unit,
        "percentile": round(pct, 1), "band": band(pct),
        "band_text": band_text(pct, m.group, m.table.lower_is_better),
        "lower_is_better": m.table.lower_is_better,
        "typical_range": [points[int(TYPICAL_LOW)], points[int(TYPICAL_HIGH)]],
        "median": points[50],
        "norm_id": m.table.id, "source": m.table.source, "licence": m.table.licence,
        "group": m.group.id, "group_label": m.group.label, "n_people": m.group.n_people,
        "n_trials": m.group.n_trials, "compared": m.compared(test), "caveats": list(m.caveats),
        "norm_text": f"{m.group.n_people} {m.group.label} ({m.table.citation}), "
                     f"{m.table.protocol.duration_s:g} s on a {m.table.protocol.device}; "
                     f"this test: {test.duration_s:.0f} s on {test.device}",
    }


def norm_measures(tables: tuple[NormTable, ...] | None = None) -> tuple[str, ...]:
    """Every measure some shipped table describes, in table order."""
    tables = load_tables() if tables is None else tables
    return tuple(dict.fromkeys(t.measure for t in tables))


def _value(metrics: Mapping[str, Any], key: str) -> float | None:
    node: Any = metrics
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    ok = isinstance(node, int | float) and not isinstance(node, bool) and math.isfinite(node)
    return float(node) if ok else None


def norms_object(metrics: Mapping[str, Any], test: TrialConditions,
                 tables: tuple[NormTable, ...] | None = None) -> dict[str, Any]:
    """{"test": what was compared, "measures": {measure: norm_result}} for every measure a
    norm exists for: a trial's metrics (nested, as compute_all returns them) against norms."""
    return {"test": test.text(), "age": test.age, "sex": test.sex,
            "measures": {m: norm_result(m, _value(metrics, m), test, tables)
                         for m in norm_measures(tables)}}
