"""Reliable change: is a difference bigger than the test's own measurement noise?

A change counts as real only beyond the 95 % minimal detectable change,
    MDC95 = 1.96 * SEM * sqrt(1/k + 1/m)   (= 1.96 * sqrt(2) * SEM for single trials),
with k and m the numbers of trials averaged on each side: averaging repeats divides the SEM
by their square root, so the battery's repeats narrow the MDC. The SEM comes, best first,
from the athlete's own trial-to-trial SD (once their repeats give MIN_OWN_DF degrees of
freedom), from a data set for this protocol (BDS, double-leg: the within-person CV over a
visit's three trials, station/norms/data), or from a documented assumption (ASSUMED_ERRORS).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

Z95 = 1.96
MIN_OWN_DF = 4
"""The athlete's own SD is used once their repeats give 4 degrees of freedom (e.g. two
sessions of three trials, or five trials in one session): fewer give too rough an SD."""

VERDICT_TEXT = {"improved": "real improvement", "worse": "real decline",
                "within_mdc": "within measurement noise"}


@dataclass(frozen=True)
class MeasurementError:
    """The standard error of measurement of one trial of a measure, and where it comes from.

    basis: "athlete" (their own repeats), "data set" (derived for this protocol), or
    "assumption" (a figure whose primary source is not traced, said so in `source`)."""

    measure: str
    sem: float
    relative: bool  # True: `sem` is a fraction of the value (a typical error as CV)
    basis: str
    source: str

    def sem_at(self, reference: float) -> float:
        return self.sem * abs(reference) if self.relative else self.sem

    def mdc95(self, reference: float, k_current: int = 1, k_reference: int = 1) -> float:
        """1.96 * SEM * sqrt(1/k + 1/m), in the measure's unit (relative: at `reference`)."""
        if k_current < 1 or k_reference < 1:
            raise ValueError("trial counts must be at least 1")
        return Z95 * self.sem_at(reference) * math.sqrt(1 / k_current + 1 / k_reference)


# Figures quoted for protocols the data set does not cover; no primary source traced, so
# they are assumptions (docs/metrics.md, "Norms and reliable change").
ASSUMED_ERRORS: tuple[tuple[str, str, str, MeasurementError], ...] = (
    ("mean_velocity_mm_s.total", "single", "closed", MeasurementError(
        "mean_velocity_mm_s.total", 9.0, False, "assumption",
        "assumption: a between-session typical error of 8-10 mm/s quoted for single-leg "
        "eyes-closed COP velocity in athletes (middle used); primary source not traced")),
    ("landing.tts_vertical_s", "single", "*", MeasurementError(
        "landing.tts_vertical_s", 0.1, False, "assumption",
        "assumption: a between-session typical error of 0.08-0.13 s quoted for landing time to "
        "stabilization (0.1 s used; taken for the vertical-force TTS, the COP's is less "
        "repeatable); primary source not traced")),
)


@lru_cache(maxsize=1)
def dataset_errors() -> tuple[tuple[str, str, str, str, MeasurementError], ...]:
    """(measure, stance, surface, eyes, error) from the shipped data files' `reliability`."""
    out = []
    folder = resources.files("station.norms") / "data"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        for r in doc.get("reliability", ()):
            source = (f"data set: within-person typical error {100 * r['typical_error_cv']:.1f} "
                      f"% over a visit's repeats ({r['n_people']} people, df {r['df']}; "
                      f"{doc['meta']['source'].split(' (')[0]}); within one session, so a "
                      "change between sessions may need more")
            out.append((r["measure"], r["stance"], r["surface"], r["eyes"], MeasurementError(
                r["measure"], float(r["typical_error_cv"]), True, "data set", source)))
    return tuple(out)


def _family(stance: str) -> str:
    s = stance.strip().lower().replace("_", "-")
    return next((f for f in ("double", "single", "tandem") if s.startswith(f)), s)


def error_for(measure: str, stance: str, surface: str | None = None,
              eyes: str | None = None) -> MeasurementError | None:
    """The data set's error for this protocol, else a documented assumption, else None."""
    family = _family(stance)
    for m, st, su, ey, err in dataset_errors():
        if (m, st, su, ey) == (measure, family, surface, eyes):
            return err
    for m, st, ey, err in ASSUMED_ERRORS:
        if m == measure and st == family and ey in ("*", eyes):
            return err
    return None


def own_error(measure: str, sessions: Iterable[Sequence[float]],
              min_df: int = MIN_OWN_DF) -> MeasurementError | None:
    """The athlete's own SEM: the pooled SD of their repeats within each session (sessions
    with one trial add nothing); None below `min_df` degrees of freedom."""
    ss, df, n = 0.0, 0, 0
    for values in sessions:
        vals = [float(v) for v in values if v is not None and math.isfinite(v)]
        if len(vals) < 2:
            continue
        mean = sum(vals) / len(vals)
        ss += sum((v - mean) ** 2 for v in vals)
        df += len(vals) - 1
        n += len(vals)
    if df < min_df:
        return None
    return MeasurementError(measure, math.sqrt(ss / df), False, "athlete",
                            f"the athlete's own trial-to-trial SD ({n} repeated trials, "
                            f"df {df})")


def verdict(change: float, mdc: float, lower_is_better: bool | None) -> str | None:
    """"improved" / "worse" beyond the MDC, "within_mdc" inside it; None (beyond the MDC)
    for a measure with no better direction."""
    if abs(change) <= mdc:
        return "within_mdc"
    if lower_is_better is None:
        return None
    return "improved" if (change < 0) == lower_is_better else "worse"


def verdict_text(code: str | None) -> str | None:
    """"real improvement", "within measurement noise", "real decline" (None: no verdict)."""
    return VERDICT_TEXT.get(code or "")


def target_too_small(change: float, mdc: float | None) -> bool:
    """A target smaller than the reliable change is not a target, it is noise: True when the
    change from the baseline a target asks for is less than the MDC (one rule for the
    physio's targets and the plan's suggested ones)."""
    return mdc is not None and mdc > 0 and abs(change) < mdc - 1e-9


def target_within_noise_text(label: str, unit: str, gap: float, mdc: float,
                             nearest: float) -> str:
    """Why a target too close to its baseline is refused, for the physio."""
    unit = f" {unit}" if unit else ""
    return (f"{label}: the target is {abs(gap):.1f}{unit} from the baseline, within the "
            f"measurement noise (reliable change {mdc:.1f}{unit}): a target smaller than the "
            f"reliable change is not a target; set it at least as far as {nearest:.1f}{unit}")
