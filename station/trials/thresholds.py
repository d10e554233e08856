"""Every threshold of the hold engine, with its default and the reason for it.

One frozen dataclass so a trial's behaviour is fully described by (TrialSpec,
HoldConfig) and can be stored next to the trial. `HoldConfig.from_dict` is the
entry point for a config file: it rejects unknown keys and out-of-range values
by name, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any


class HoldConfigError(ValueError):
    """A hold-engine setting is unknown or out of range; the message names it."""


def _setting(default: float, lo: float, hi: float, why: str) -> Any:
    return field(default=default, metadata={"min": lo, "max": hi, "why": why})


@dataclass(frozen=True)
class HoldConfig:
    """Hold-engine thresholds. Fractions are of the body weight (BW) measured on the board."""

    # --- weighing and readiness -------------------------------------------------------
    on_board_min_n: float = _setting(
        150.0, 10.0, 2000.0,
        "someone is on the board above this; below a 15 kg child, above a resting foot or bag")
    steady_window_s: float = _setting(
        1.0, 0.2, 5.0,
        "body weight and readiness are judged on the last second of force")
    steady_std_frac: float = _setting(
        0.02, 0.001, 0.2,
        "force std under 2 % BW is standing still; quiet stance shows ~0.5-1 %, stepping on >10 %")
    steady_std_floor_n: float = _setting(
        2.0, 0.0, 50.0,
        "absolute floor of the stillness tolerance so board noise never blocks weighing")
    weight_tolerance_frac: float = _setting(
        0.10, 0.01, 0.5,
        "a steady force within 10 % of the measured weight is the same athlete fully on the board")
    ready_shift_mm: float = _setting(
        60.0, 10.0, 200.0,
        "single-leg ready once the mean COP is this far to the stance side (foot centre ~90 mm)")
    ready_hysteresis_mm: float = _setting(
        15.0, 0.0, 100.0,
        "a countdown is cancelled only when the COP comes back this much past the ready line")
    ready_dwell_s: float = _setting(
        0.5, 0.0, 10.0,
        "ready must last this long before the countdown starts, so a passing sway cannot start it")
    countdown_s: float = _setting(
        3.0, 0.0, 10.0,
        "3-2-1 gives the athlete time to settle and the operator time to step back")

    # --- failures (also BESS errors) ------------------------------------------------------
    floor_drop_frac: float = _setting(
        0.10, 0.02, 0.6,
        "a free foot on the floor takes weight off the board; sway moves vertical force 2-5 % BW")
    floor_touch_min_s: float = _setting(
        0.10, 0.02, 1.0,
        "the drop must last ~100 ms: longer than the vertical-force dip of a sway correction")
    step_off_frac: float = _setting(
        0.25, 0.01, 0.8,
        "below a quarter of body weight the athlete has left the board")
    step_off_confirm_s: float = _setting(
        0.5, 0.0, 3.0,
        "after a drop, wait this long for step-off level before calling it a touch-down")
    board_touch_jump_mm: float = _setting(
        30.0, 5.0, 150.0,
        "COP jump toward the midline when the free foot on the board takes ~17 % BW; "
        "sway moves <20 mm in 150 ms")
    board_touch_window_s: float = _setting(
        0.15, 0.03, 1.0,
        "the jump must happen within 150 ms: a touch is sudden, a lean is slow")
    board_touch_min_s: float = _setting(
        0.10, 0.0, 1.0,
        "the COP must stay displaced this long (half the jump) so a wobble is not a touch")
    board_touch_force_tol_frac: float = _setting(
        0.15, 0.02, 0.5,
        "a board touch keeps the whole weight on the board; otherwise it is a floor touch")
    foot_half_width_mm: float = _setting(
        60.0, 20.0, 200.0,
        "ML half-size of the stance-foot area around the hold-start COP: half a foot + centring")
    foot_half_length_mm: float = _setting(
        120.0, 40.0, 300.0,
        "AP half-size of the stance-foot area: about half a foot length")
    cop_out_min_s: float = _setting(
        0.10, 0.0, 1.0,
        "the COP must stay outside the area (or excursion circle) this long")

    foam_scale: float = _setting(
        1.25, 1.0, 4.0,
        "COP distance thresholds x this on foam: a soft surface lets the COP travel further")
    wobble_scale: float = _setting(
        1.6, 1.0, 4.0,
        "COP distance thresholds x this on a wobble board: its rocking moves the COP further")

    # --- BESS error counting ---------------------------------------------------------------
    bess_excursion_mm: float = _setting(
        60.0, 10.0, 200.0,
        "a COP this far from the stance reference is a large excursion (balance lost, recovered)")
    bess_refractory_s: float = _setting(
        1.0, 0.0, 10.0,
        "errors closer than this are one error: BESS counts simultaneous errors once")
    bess_max_errors: int = _setting(
        10, 1, 100,
        "BESS caps a trial's errors at 10")
    bess_min_stance_s: float = _setting(
        5.0, 0.0, 60.0,
        "BESS: a trial with the stance held for less than 5 s in all scores the maximum errors")
    bess_recapture_s: float = _setting(
        0.5, 0.1, 5.0,
        "after a step-off the stance reference is re-measured over this time")

    # --- hop landings --------------------------------------------------------------------------
    hop_flight_frac: float = _setting(
        0.20, 0.01, 0.6,
        "force under 20 % BW is airborne (well above an empty board's noise)")
    hop_contact_frac: float = _setting(
        0.05, 0.005, 0.5,
        "the landing time (TTS zero) is the first frame over 5 % BW after the flight")
    hop_landing_frac: float = _setting(
        0.50, 0.1, 1.0,
        "a landing is confirmed once the force is back over half the body weight")
    hop_min_flight_s: float = _setting(
        0.05, 0.0, 1.0,
        "shorter 'flights' are force wobbles; a light hop is airborne for 0.1-0.3 s")
    hop_max_flight_s: float = _setting(
        1.0, 0.2, 5.0,
        "airborne longer than this is a step-off, not a hop")
    hop_wait_s: float = _setting(
        10.0, 1.0, 60.0,
        "no hop within this time after the countdown fails the trial ('no_hop')")
    hop_settle_s: float = _setting(
        0.75, 0.0, 5.0,
        "landing peaks (2-4 BW) and rebounds mute touch/area checks this long after landing")

    # --- push (perturbation) test -------------------------------------------------------------
    push_baseline_s: float = _setting(
        1.0, 0.2, 5.0,
        "a push is measured against the mean COP of the last second")
    push_onset_mm: float = _setting(
        20.0, 3.0, 200.0,
        "COP this far from its 1 s mean marks a push; quiet stance rarely strays 10 mm")
    push_onset_back_frac: float = _setting(
        0.25, 0.0, 1.0,
        "the onset is dated back to the last frame within this share of push_onset_mm of the mean")
    push_refractory_s: float = _setting(
        2.0, 0.1, 30.0,
        "one push per 2 s: the sway after a push is not a new push")

    # --- drill ---------------------------------------------------------------------------------
    drill_hysteresis_mm: float = _setting(
        2.0, 0.0, 50.0,
        "entered/left events need a crossing this deep so noise at the rim does not flood the view")

    # --- an armed trial that nobody uses ---------------------------------------------------------
    armed_timeout_s: float = _setting(
        120.0, 10.0, 3600.0,
        "an armed trial with nobody on the board this long expires, so a left screen "
        "cannot block the board")

    # --- signal --------------------------------------------------------------------------------
    max_gap_s: float = _setting(
        0.5, 0.05, 10.0,
        "a gap between valid frames longer than this is reported as a signal gap event")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HoldConfig:
        """Defaults overridden by `values`; unknown keys and bad values raise HoldConfigError."""
        if not isinstance(values, dict):
            raise HoldConfigError(f"hold settings must be a table, not {type(values).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        clean: dict[str, float] = {}
        for key, value in values.items():
            if key not in known:
                raise HoldConfigError(
                    f"unknown hold setting {key!r} (known: {', '.join(sorted(known))})"
                )
            meta = known[key].metadata
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value)):
                raise HoldConfigError(f"hold setting {key}: {value!r} is not a number")
            if not meta["min"] <= value <= meta["max"]:
                raise HoldConfigError(
                    f"hold setting {key}: {value!r} is outside {meta['min']}..{meta['max']}"
                )
            if known[key].type == "int":
                if value != int(value):
                    raise HoldConfigError(f"hold setting {key}: {value!r} is not a whole number")
                clean[key] = int(value)
            else:
                clean[key] = float(value)
        config = cls(**clean)
        config.check()
        return config

    def check(self) -> None:
        """Cross-field sanity: the levels must nest the way the engine assumes."""
        if self.step_off_frac >= 1.0 - self.floor_drop_frac:
            raise HoldConfigError(
                "hold setting step_off_frac: must be below 1 - floor_drop_frac "
                f"({1.0 - self.floor_drop_frac:g}) so a step-off is a deeper drop than a touch"
            )
        if not self.hop_contact_frac < self.hop_landing_frac:
            raise HoldConfigError("hold setting hop_contact_frac: must be below hop_landing_frac")
        if self.hop_flight_frac >= self.hop_landing_frac:
            raise HoldConfigError("hold setting hop_flight_frac: must be below hop_landing_frac")

    def describe(self) -> list[tuple[str, float, str]]:
        """(name, default, why) for every setting, in order: the docs table is made from this."""
        return [(f.name, f.default, f.metadata["why"]) for f in dataclasses.fields(self)]
