"""Stability score (0-100), change against the athlete's baseline, and progress to a target.

Score definition (version "v1"; every constant is here and in docs/metrics.md):

1. Two sway components, each on a log scale between a "good" and a "poor" anchor value for the
   trial's condition (stance x surface x eyes):
       component = 100 * clip(ln(poor / x) / ln(poor / good), 0, 1)
   100 at or below "good", 0 at or above "poor"; equal ratios count equally (going from 10 to
   20 mm/s costs as much as 20 to 40), which matches the log-normal spread of sway measures.
   - mean COP velocity (mean_velocity_mm_s.total), weight 0.5
   - 95 % confidence ellipse area (ellipse95_area_mm2), weight 0.5
2. sway score = weighted mean of the components.
3. hold share = 1 for a completed hold, else time_to_failure_s / duration_s (clipped to 0..1).
4. total = hold share * sway score. A hold failed at half time scores at most 50.

Anchors = base anchors (double-leg, firm, eyes open) * the condition factors. They are working
assumptions set from typical published adult values (quiet stance velocity ~5-25 mm/s, ellipse
~50-1000 mm^2; single-leg several times larger), not norms: replace them once the station has
its own reference data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from station.analysis.metrics.catalog import direction, flatten

SCORE_VERSION = "v1"

STANCES = ("double", "tandem", "single")
SURFACES = ("firm", "foam", "wobble")
EYES = ("open", "closed")

# measure key -> (weight, good anchor, poor anchor) for double-leg, firm, eyes open
BASE_ANCHORS: dict[str, tuple[float, float, float]] = {
    "mean_velocity_mm_s.total": (0.5, 5.0, 25.0),
    "ellipse95_area_mm2": (0.5, 50.0, 1000.0),
}
# multiplicative factors applied to both anchors, per measure
CONDITION_FACTORS: dict[str, dict[str, dict[str, float]]] = {
    "mean_velocity_mm_s.total": {
        "stance": {"double": 1.0, "tandem": 2.5, "single": 3.5},
        "surface": {"firm": 1.0, "foam": 1.6, "wobble": 2.5},
        "eyes": {"open": 1.0, "closed": 1.6},
    },
    "ellipse95_area_mm2": {
        "stance": {"double": 1.0, "tandem": 2.0, "single": 4.0},
        "surface": {"firm": 1.0, "foam": 2.0, "wobble": 3.0},
        "eyes": {"open": 1.0, "closed": 1.5},
    },
}


@dataclass(frozen=True)
class MDC:
    """Minimal detectable change of a measure (MDC95)."""

    measure: str
    value: float
    relative: bool
    """True: `value` is a fraction of the baseline (e.g. 0.6 = 60 %)."""
    applies_to: str
    source: str
    assumption: bool


MDC_TABLE: tuple[MDC, ...] = (
    MDC(
        "mean_velocity_mm_s.total",
        3.0,
        False,
        "single",
        "single-leg COP velocity MDC in children 2.8-3.1 mm/s (upper-middle used); primary source "
        "not yet traced (docs/references.md)",
        False,
    ),
    MDC(
        "mean_velocity_mm_s.total",
        2.0,
        False,
        "double,tandem",
        "assumption: scaled from the single-leg value to the smaller double-leg velocities",
        True,
    ),
    MDC(
        "ellipse95_area_mm2",
        0.6,
        True,
        "all",
        "assumption: area measures are the least reliable sway measures; 60 % of baseline",
        True,
    ),
    MDC("stability_score", 10.0, False, "all", "assumption: 10 points on the 0-100 score", True),
    MDC("time_to_failure_s", 5.0, False, "all", "assumption: 5 s of a timed hold", True),
    MDC("tts_vertical_s", 0.3, False, "all", "assumption: 0.3 s of time to stabilization", True),
)


def _normalise_condition(condition: Mapping[str, Any] | object) -> dict[str, str]:
    """Accept a dict or an object with stance/surface/eyes; map synonyms to the vocabulary."""

    def field(name: str) -> str:
        raw = (
            condition.get(name)
            if isinstance(condition, Mapping)
            else getattr(condition, name, None)
        )
        if raw is None:
            raise ValueError(f"condition has no {name!r}")
        return str(getattr(raw, "value", raw)).strip().lower().replace("-", "_")

    stance = field("stance")
    stance = {"bilateral": "double", "both": "double"}.get(stance, stance)
    # "single_left", "single_leg", "tandem_right" ... -> the stance family
    stance = next((c for c in STANCES if stance.startswith(c)), stance)
    surface, eyes = field("surface"), field("eyes")
    eyes = {"eo": "open", "ec": "closed", "eyes_open": "open", "eyes_closed": "closed"}.get(
        eyes, eyes
    )
    for name, value, allowed in (
        ("stance", stance, STANCES),
        ("surface", surface, SURFACES),
        ("eyes", eyes, EYES),
    ):
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
    return {"stance": stance, "surface": surface, "eyes": eyes}


def anchors_for(measure: str, condition: Mapping[str, Any] | object) -> tuple[float, float]:
    """(good, poor) anchors of a score component for a condition."""
    cond = _normalise_condition(condition)
    _, good, poor = BASE_ANCHORS[measure]
    factors = CONDITION_FACTORS[measure]
    scale = math.prod(factors[part][cond[part]] for part in ("stance", "surface", "eyes"))
    return good * scale, poor * scale


def log_scale_score(value: float, good: float, poor: float) -> float:
    """100 * clip(ln(poor / value) / ln(poor / good), 0, 1); lower values score higher."""
    if value <= 0:
        return 100.0
    return 100.0 * min(max(math.log(poor / value) / math.log(poor / good), 0.0), 1.0)


@dataclass(frozen=True)
class ScoreComponent:
    measure: str
    value: float | None
    good: float
    poor: float
    weight: float
    score: float
    note: str


@dataclass(frozen=True)
class ScoreBreakdown:
    """A score and everything it was built from."""

    total: float
    sway_score: float
    hold_share: float
    components: tuple[ScoreComponent, ...]
    condition: dict[str, str]
    completed: bool
    time_to_failure_s: float | None
    duration_s: float
    version: str = SCORE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_trial(
    metrics: Mapping[str, Any] | None,
    condition: Mapping[str, Any] | object,
    completed: bool,
    time_to_failure_s: float | None,
    duration_s: float,
) -> ScoreBreakdown:
    """Stability score of one trial (module docstring has the definition).

    `metrics` is compute_all's output for the part of the trial that was held; it may be None
    for a hold that failed too early to analyse (< 2 s): its sway components then score 0.
    """
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if completed:
        hold_share = 1.0
    else:
        if time_to_failure_s is None or not time_to_failure_s >= 0:
            raise ValueError("a failed hold needs time_to_failure_s >= 0")
        hold_share = min(time_to_failure_s / duration_s, 1.0)
    cond = _normalise_condition(condition)
    flat = flatten(metrics) if metrics is not None else {}
    components = []
    for measure, (weight, _, _) in BASE_ANCHORS.items():
        good, poor = anchors_for(measure, cond)
        value = flat.get(measure)
        if value is None:
            component, note = 0.0, "no value (trial too short to analyse): scores 0"
        else:
            component, note = log_scale_score(float(value), good, poor), "log scale good..poor"
        components.append(ScoreComponent(measure, value, good, poor, weight, component, note))
    total_weight = sum(c.weight for c in components)
    sway_score = sum(c.weight * c.score for c in components) / total_weight
    return ScoreBreakdown(
        total=hold_share * sway_score,
        sway_score=sway_score,
        hold_share=hold_share,
        components=tuple(components),
        condition=cond,
        completed=completed,
        time_to_failure_s=time_to_failure_s,
        duration_s=duration_s,
    )


def mdc_for(measure: str, stance: str = "single") -> MDC | None:
    """The MDC entry for a measure and stance ("single-left" counts as "single"), or None."""
    stance = stance.strip().lower().replace("_", "-")
    stance = next((family for family in STANCES if stance.startswith(family)), stance)
    for entry in MDC_TABLE:
        if entry.measure == measure and (
            entry.applies_to == "all" or stance in entry.applies_to.split(",")
        ):
            return entry
    return None


def mdc_value(measure: str, baseline: float, stance: str = "single") -> float | None:
    """Absolute MDC (measure's unit) for this baseline; relative entries scale with it."""
    entry = mdc_for(measure, stance)
    if entry is None:
        return None
    return entry.value * abs(baseline) if entry.relative else entry.value


@dataclass(frozen=True)
class BaselineComparison:
    current: float
    baseline: float
    change: float
    change_pct: float | None
    mdc: float
    exceeds_mdc: bool
    verdict: str | None
    """'improved' / 'worse' when the change exceeds the MDC and the measure has a direction,
    'within_mdc' when it does not, None when the measure has no better direction."""


def compare_to_baseline(
    current: float, baseline: float, mdc: float, *, higher_is_better: bool | None = None
) -> BaselineComparison:
    """change = current - baseline; exceeds_mdc = |change| > mdc (a real change, 95 %)."""
    if not mdc > 0:
        raise ValueError(f"mdc must be positive, got {mdc}")
    change = current - baseline
    exceeds = abs(change) > mdc
    if not exceeds:
        verdict: str | None = "within_mdc"
    elif higher_is_better is None:
        verdict = None
    else:
        verdict = "improved" if (change > 0) == higher_is_better else "worse"
    return BaselineComparison(
        current=current,
        baseline=baseline,
        change=change,
        change_pct=100.0 * change / baseline if baseline != 0 else None,
        mdc=mdc,
        exceeds_mdc=exceeds,
        verdict=verdict,
    )


@dataclass(frozen=True)
class TargetProgress:
    measure: str
    higher_is_better: bool
    baseline_value: float
    target_value: float
    current_value: float
    fraction_achieved: float
    """(current - baseline) / (target - baseline): 0 at baseline, 1 at target, < 0 if worse."""
    expected_fraction: float
    """Elapsed share of set_on..due (0..1): a linear path to the target."""
    on_track: bool
    achieved: bool
    days_left: int
    due_in_recommended_range: bool
    """True when due is 4-6 weeks after set_on, the planning horizon the physios use."""


def target_progress(
    measure: str,
    baseline_value: float,
    target_value: float,
    current_value: float,
    set_on: date,
    due: date,
    *,
    today: date | None = None,
) -> TargetProgress:
    """Progress towards a physio's target, against a linear expectation to the due date.

    The better direction comes from the measure catalog (station.analysis.metrics.catalog); a
    target on the wrong side of the baseline (e.g. a higher sway velocity) is refused. Measures
    without a catalog direction take it from the target itself.
    """
    if due <= set_on:
        raise ValueError(f"due date {due} must be after the day the target is set ({set_on})")
    if target_value == baseline_value:
        raise ValueError("target equals the baseline: nothing to progress towards")
    try:
        hib = direction(measure)
    except KeyError:
        hib = None
    wanted_up = target_value > baseline_value
    if hib is not None and hib != wanted_up:
        better = "higher" if hib else "lower"
        raise ValueError(
            f"for {measure} {better} is better, but the target {target_value} is "
            f"{'above' if wanted_up else 'below'} the baseline {baseline_value}"
        )
    today = today or date.today()
    fraction = (current_value - baseline_value) / (target_value - baseline_value)
    span = (due - set_on).days
    expected = min(max((today - set_on).days / span, 0.0), 1.0)
    return TargetProgress(
        measure=measure,
        higher_is_better=wanted_up,
        baseline_value=baseline_value,
        target_value=target_value,
        current_value=current_value,
        fraction_achieved=fraction,
        expected_fraction=expected,
        on_track=fraction >= expected,
        achieved=fraction >= 1.0,
        days_left=max((due - today).days, 0),
        due_in_recommended_range=28 <= span <= 42,
    )
