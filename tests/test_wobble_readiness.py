"""A single-leg stance on a wobble board gets ready: the COP is the dome's contact, not the foot.

On a firm board a single-leg hold waits until the COP is over the stance foot (the athlete
has shifted their weight). On a wobble board the COP is where the dome touches the platform,
near the level point whatever foot stands on the deck, so that check would keep the trial
waiting forever; the simulator's rolling board is the oracle.
"""

from __future__ import annotations

from station.protocols import TrialSpec
from station.trials import HoldEngine
from station.trials.events import State
from tests.wobble_fixtures import session


def states_reached(spec: TrialSpec, stance: str, *, surface: str = "wobble") -> set[State]:
    extra = [] if stance == "double" else [(3.0, "lift_foot", {"side": "left"})]
    run = session(stance="double", skill=0.8, duration_s=25.0, seed=3, extra=extra,
                  level_mm=(0.0, 0.0))
    engine = HoldEngine(spec)
    seen = set()
    for sample in run.samples():
        engine.update(sample)
        seen.add(engine.state)
    return seen


def test_a_single_leg_wobble_hold_starts_although_the_cop_is_not_over_the_foot():
    spec = TrialSpec(id="right-open-wobble", stance="single-right", surface="wobble",
                     task="wobble", duration_s=8.0)
    seen = states_reached(spec, "right")
    assert State.HOLDING in seen, seen


def test_a_single_leg_hold_on_the_wobble_surface_starts_too():
    spec = TrialSpec(id="right-wobble", stance="single-right", surface="wobble",
                     duration_s=8.0)
    assert State.HOLDING in states_reached(spec, "right")


def test_on_a_firm_board_the_foot_check_still_applies():
    """The same COP (near the centre) on a firm single-leg trial: not over the foot, never
    ready (the check is kept where it means something)."""
    spec = TrialSpec(id="right-open-firm", stance="single-right", duration_s=8.0)
    assert State.HOLDING not in states_reached(spec, "right")
