"""Scores (0-100) per task, change against the athlete's baseline, and progress to a target.

Score definition (version "v2"; every constant is here and in docs/metrics.md). Each task is
scored by its own measures (`SCORE_MODELS`): a quiet hold by its sway, a hop by its landing,
a push by the reaction to it. v1 scored every task like a hold; holds score as in v1.

1. Components, each on a log scale between a "good" and a "poor" anchor value:
       component = 100 * clip(ln(poor / x) / ln(poor / good), 0, 1)
   100 at or below "good", 0 at or above "poor"; equal ratios count equally (going from 10 to
   20 mm/s costs as much as 20 to 40), which matches the log-normal spread of sway measures.
   - hold (also bess, drill): mean COP velocity and 95 % ellipse area, weight 0.5 each; the
     anchors scale with the trial's condition (stance x surface x eyes);
   - hop: time to stabilization of the COP (0.5), of the vertical force (0.25) and the peak
     landing force in body weights (0.25); a landing not stable within the 3 s window, or
     none found, scores 0 on that component;
   - push: peak COP excursion (0.5) and recovery time (0.5); not recovered scores 0;
   - the biofeedback games (docs/metrics.md, the games' sections), each by its own measures:
     weight_shift by RMS tracking error (0.5) and % time in the band (0.5); limits_of_stability
     by mean maximum excursion % (0.3), directional control % (0.3), reaction time (0.2) and
     movement velocity (0.2); maze by % targets reached (0.5) and time per target (0.5);
     toe_taps by % of the expected taps (0.4), the intervals' CV (0.3) and lost control (0.3).
     A measure where higher is better has good > poor: the same formula counts it upwards.
   - push: peak COP excursion (0.5) and recovery time (0.5); not recovered scores 0;
   - wobble (a hold on a wobble board): the overall stability index (RMS tilt, degrees; 0.5)
     and the % time inside 5 degrees (0.5; higher is better, so its log scale runs the other
     way: 100 * clip(ln(x / poor) / ln(good / poor), 0, 1)); the anchors depend on the stance
     and the eyes (WOBBLE_ANCHORS).
2. measure score = weighted mean of the components.
3. hold share = 1 for a completed trial, else time_to_failure_s / duration_s (clipped 0..1).
4. total = hold share * measure score. A trial failed at half time scores at most 50.

Anchors are working assumptions (sway: typical published adult values, quiet stance velocity
~5-25 mm/s, ellipse ~50-1000 mm^2, single-leg several times larger; hop and push: see
docs/metrics.md), not norms: replace them once the station has its own reference data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from station.analysis.metrics.catalog import direction, flatten

SCORE_VERSION = "v2"

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
    MDC("tts_cop_s", 0.5, False, "all",
        "assumption: 0.5 s; COP time to stabilization is less repeatable than the vertical one",
        True),
    MDC("peak_force_bw", 0.3, False, "all",
        "assumption: 0.3 body weights; 80 Hz under-reads sharp peaks by up to ~12 %", True),
    MDC("peak_excursion_mm", 0.3, True, "all",
        "assumption: 30 % of baseline; a push by hand is not a standard impulse", True),
    MDC("recovery_time_s", 1.0, False, "all", "assumption: 1 s of recovery time", True),
    # the biofeedback games (docs/metrics.md section 12): working assumptions until the
    # station has repeat trials of its own
    MDC("rms_error_mm", 3.0, False, "all", "assumption: 3 mm of tracking error", True),
    MDC("time_in_band_pct", 10.0, False, "all", "assumption: 10 points of time in the band",
        True),
    MDC("max_excursion_pct", 10.0, False, "all",
        "assumption: 10 points of the theoretical limit", True),
    MDC("directional_control_pct", 8.0, False, "all", "assumption: 8 points", True),
    MDC("reaction_time_s", 0.2, False, "all", "assumption: 0.2 s of LOS reaction time", True),
    MDC("movement_velocity_mm_s", 0.3, True, "all", "assumption: 30 % of baseline", True),
    MDC("targets_reached_pct", 15.0, False, "all", "assumption: about one target of eight",
        True),
    MDC("time_per_target_s", 0.5, False, "all", "assumption: 0.5 s per target", True),
    MDC("taps_pct", 10.0, False, "all", "assumption: 10 points of the beat", True),
    MDC("interval_cv", 0.08, False, "all", "assumption: 0.08 of rhythm variability", True),
    MDC("lost_control", 2.0, False, "all", "assumption: two losses of control", True),
    MDC("wobble.stability_index_deg.overall", 1.0, False, "all",
        "assumption: 1 deg of stability index (Biodex test-retest SEMs are a few tenths of a "
        "degree on a platform; a free board varies more)", True),
    MDC("wobble.zone_time_pct.0-5", 15.0, False, "all",
        "assumption: 15 percentage points of time inside 5 deg", True),
)


# Hop and push: measure key (flattened metrics path) -> (weight, good, poor), the same for
# every condition (a hop is single-leg on the firm board, a push two-footed). Assumptions,
# documented with their reasoning in docs/metrics.md section 7.
TASK_ANCHORS: dict[str, dict[str, tuple[float, float, float]]] = {
    "hop": {
        "landing.tts_cop_s": (0.5, 1.0, 3.0),
        "landing.tts_vertical_s": (0.25, 0.4, 2.0),
        "landing.peak_force_bw": (0.25, 2.0, 4.0),
    },
    "push": {
        "perturbation.peak_excursion_mm": (0.5, 20.0, 80.0),
        "perturbation.recovery_time_s": (0.5, 1.0, 8.0),
    },
    # the games: working anchors (docs/metrics.md, "Scores of the games"), not norms
    "weight_shift": {
        "weight_shift.rms_error_mm": (0.5, 5.0, 25.0),
        "weight_shift.time_in_band_pct": (0.5, 90.0, 30.0),
    },
    "limits_of_stability": {
        "limits_of_stability.max_excursion_pct": (0.3, 90.0, 40.0),
        "limits_of_stability.directional_control_pct": (0.3, 85.0, 50.0),
        "limits_of_stability.reaction_time_s": (0.2, 0.5, 1.5),
        "limits_of_stability.movement_velocity_mm_s": (0.2, 80.0, 15.0),
    },
    "maze": {
        "maze.targets_reached_pct": (0.5, 100.0, 25.0),
        "maze.time_per_target_s": (0.5, 1.5, 6.0),
    },
    "toe_taps": {
        "toe_taps.taps_pct": (0.4, 95.0, 40.0),
        "toe_taps.interval_cv": (0.3, 0.1, 0.5),
        "toe_taps.lost_control": (0.3, 0.5, 5.0),
    },
}
# Wobble trials: measure key -> (weight, {stance family: (good, poor)}), eyes open; eyes
# closed multiply the index's anchors by WOBBLE_EYES_CLOSED[0] and the zone time's by [1].
# ASSUMPTIONS (docs/metrics.md section 11, "Scoring"): Biodex stability indices of healthy
# adults on a stable-to-moderate platform are ~1-3 deg double-leg and ~2-5 deg single-leg; a
# free wobble board is less stable than those settings, so "good" sits at their upper end and
# "poor" at 4x it, close to the rim of a 15-20 deg board. Zone time: a steady athlete keeps a
# free board inside 5 deg most of the time; under ~40 % (double) it is mostly out.
WOBBLE_ANCHORS: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {
    "wobble.stability_index_deg.overall": (0.5, {"double": (2.0, 8.0), "tandem": (2.5, 10.0),
                                                 "single": (3.0, 12.0)}),
    "wobble.zone_time_pct.0-5": (0.5, {"double": (95.0, 40.0), "tandem": (90.0, 30.0),
                                       "single": (85.0, 25.0)}),
}
WOBBLE_EYES_CLOSED = (1.4, 0.8)
# Which model scores a task (tasks not named here are scored as a hold).
SCORE_MODELS = {"hold": "hold", "bess": "hold", "drill": "hold", "hop": "hop", "push": "push",
                "weight_shift": "weight_shift", "limits_of_stability": "limits_of_stability",
                "maze": "maze", "toe_taps": "toe_taps", "wobble": "wobble"}
# What the pages call each model's score.
SCORE_LABELS = {"hold": "stability score", "hop": "landing score", "push": "push-recovery score",
                "weight_shift": "tracking score", "limits_of_stability": "limits score",
                "maze": "maze score", "toe_taps": "toe-tap score", "wobble": "wobble score"}
# Why a task component has no value, as the breakdown says it.
_MISSING_NOTES = {
    "wobble": "no tilt trace (the wobble analysis failed or was too short): scores 0",
    "landing": "no landing found, or not stable within the 3 s window: scores 0",
    "perturbation": "no push seen, or not recovered before the end: scores 0",
    "limits_of_stability": "no direction reached: scores 0",
    "maze": "no target reached: scores 0",
    "toe_taps": "fewer than three taps: no rhythm, scores 0",
}


def score_model(task: str | None) -> str:
    """The model that scores `task`: "hold", "hop", "push", "wobble" or a game's own."""
    return SCORE_MODELS.get(task or "hold", "hold")


def better_direction(measure: str) -> bool | None:
    """True when higher is better, False when lower is, None when neither (frequencies).

    The score and time held count up; a task measure ("landing.tts_cop_s") takes the
    direction of its last part. KeyError for a key that is not a measure."""
    if measure in ("score", "stability_score", "time_to_failure_s"):
        return True
    try:
        return direction(measure)
    except KeyError:
        return direction(measure.rsplit(".", 1)[-1])


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
    """100 * clip(ln(poor / value) / ln(poor / good), 0, 1); lower values score higher.

    With good > poor (a measure where higher is better, the wobble's zone time) the same
    formula runs the other way: 100 at or above good, 0 at or below poor."""
    if value <= 0:
        return 0.0 if good > poor else 100.0
    return 100.0 * min(max(math.log(poor / value) / math.log(poor / good), 0.0), 1.0)


def wobble_anchors(measure: str, condition: Mapping[str, Any] | object) -> tuple[float, float]:
    """(good, poor) of a wobble component for a condition (stance family, eyes)."""
    cond = _normalise_condition(condition)
    _, by_stance = WOBBLE_ANCHORS[measure]
    good, poor = by_stance[cond["stance"]]
    if cond["eyes"] == "closed":
        k = WOBBLE_EYES_CLOSED[0 if "stability_index" in measure else 1]
        good, poor = good * k, poor * k
    return good, poor


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
    """A score and everything it was built from (`measure_score`: the components' weighted
    mean, before the hold share)."""

    total: float
    measure_score: float
    hold_share: float
    components: tuple[ScoreComponent, ...]
    condition: dict[str, str]
    completed: bool
    time_to_failure_s: float | None
    duration_s: float
    model: str = "hold"
    version: str = SCORE_VERSION

    @property
    def sway_score(self) -> float:
        """The hold model's name for measure_score."""
        return self.measure_score

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hold_share(completed: bool, time_to_failure_s: float | None, duration_s: float) -> float:
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if completed:
        return 1.0
    if time_to_failure_s is None or not time_to_failure_s >= 0:
        raise ValueError("a failed hold needs time_to_failure_s >= 0")
    return min(time_to_failure_s / duration_s, 1.0)


def _components(model: str, flat: dict[str, Any],
                cond: dict[str, str]) -> list[ScoreComponent]:
    """The model's components, each scored on its log scale (0 without a value)."""
    if model == "hold":
        specs = [(m, w, *anchors_for(m, cond)) for m, (w, _, _) in BASE_ANCHORS.items()]
    elif model == "wobble":
        specs = [(m, w, *wobble_anchors(m, cond)) for m, (w, _) in WOBBLE_ANCHORS.items()]
    else:
        specs = [(m, w, good, poor) for m, (w, good, poor) in TASK_ANCHORS[model].items()]
    components = []
    for measure, weight, good, poor in specs:
        value = flat.get(measure)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(
                value):
            value = None
            note = _MISSING_NOTES.get(measure.split(".", 1)[0],
                                      "no value (trial too short to analyse): scores 0")
            component = 0.0
        else:
            component, note = log_scale_score(float(value), good, poor), "log scale good..poor"
        components.append(ScoreComponent(measure, value, good, poor, weight, component, note))
    return components


def score_trial(
    metrics: Mapping[str, Any] | None,
    condition: Mapping[str, Any] | object,
    completed: bool,
    time_to_failure_s: float | None,
    duration_s: float,
    task: str = "hold",
) -> ScoreBreakdown:
    """The score of one trial by its task's model (module docstring has the definition).

    `metrics` is the pipeline's output for the part of the trial that was held (hop: with
    "landing", push: with "perturbation"); it may be None for a trial that failed too early
    to analyse (< 2 s): its components then score 0.
    """
    hold_share = _hold_share(completed, time_to_failure_s, duration_s)
    cond = _normalise_condition(condition)
    model = score_model(task)
    components = _components(model, flatten(metrics) if metrics is not None else {}, cond)
    total_weight = sum(c.weight for c in components)
    measure_score = sum(c.weight * c.score for c in components) / total_weight
    return ScoreBreakdown(
        total=hold_share * measure_score,
        measure_score=measure_score,
        hold_share=hold_share,
        components=tuple(components),
        condition=cond,
        completed=completed,
        time_to_failure_s=time_to_failure_s,
        duration_s=duration_s,
        model=model,
    )


def mdc_for(measure: str, stance: str = "single") -> MDC | None:
    """The MDC entry for a measure and stance ("single-left" counts as "single"), or None.

    "score" is the stability_score entry; a task measure ("landing.tts_cop_s") is looked up
    by its last part when the table has no entry for the whole key."""
    stance = stance.strip().lower().replace("_", "-")
    stance = next((family for family in STANCES if stance.startswith(family)), stance)
    measure = "stability_score" if measure == "score" else measure
    for name in dict.fromkeys((measure, measure.rsplit(".", 1)[-1])):
        for entry in MDC_TABLE:
            if entry.measure == name and (
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


def check_target_side(measure: str, baseline_value: float, target_value: float) -> None:
    """ValueError when the target is the baseline itself or on its wrong side (a higher sway
    velocity, a shorter hold); the message says which way is better."""
    if target_value == baseline_value:
        raise ValueError("target equals the baseline: nothing to progress towards")
    try:
        hib = better_direction(measure)
    except KeyError:
        hib = None
    wanted_up = target_value > baseline_value
    if hib is not None and hib != wanted_up:
        better = "higher" if hib else "lower"
        raise ValueError(
            f"for {measure} {better} is better, but the target {target_value:g} is "
            f"{'above' if wanted_up else 'below'} the baseline {baseline_value:g}"
        )


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

    The better direction comes from the measure catalog (`better_direction`); a target on
    the wrong side of the baseline (e.g. a higher sway velocity) is refused. Measures without
    a catalog direction take it from the target itself.
    """
    if due <= set_on:
        raise ValueError(f"due date {due} must be after the day the target is set ({set_on})")
    check_target_side(measure, baseline_value, target_value)
    wanted_up = target_value > baseline_value
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
