"""The tasks of a trial, each a detector, and the one table that picks them by name.

A trial's task is its protocol data: `task` of the trial spec (station/protocols/), or
"bess" for the trials of a protocol of kind "bess" (BESS counts errors on plain holds).
A new task is a module here with a detector (station/trials/tasks/base.py says what it
implements; subclass HoldDetector to keep the stance checks), a row in DETECTORS, and
its name in station.protocols.TASKS so protocol files may use it. The wobble task ("wobble",
and "wobble_bess" when BESS counts its errors) gets the station's wobble-board set-up
(`wobble_setup`: the board and its level point; None: the default preset at the centre).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from station.trials.tasks.base import DetectorFactory, Failure, HoldClock, TaskDetector
from station.trials.tasks.bess import BESS_ERROR_KINDS, BessCounter, BessDetector, bess_total
from station.trials.tasks.drill import DrillDetector, TargetTracker
from station.trials.tasks.hold import HoldDetector
from station.trials.tasks.hop import HopDetector
from station.trials.tasks.limits_of_stability import StabilityLimitsDetector
from station.trials.tasks.maze import MazeDetector
from station.trials.tasks.push import PushDetector
from station.trials.tasks.toe_taps import ToeTapsDetector
from station.trials.tasks.weight_shift import WeightShiftDetector
from station.trials.tasks.wobble import WOBBLE_ERROR_KINDS, WobbleDetector

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.wobble import WobbleSetup

BESS_TASK = "bess"
WOBBLE_TASK = "wobble"
WOBBLE_BESS_TASK = "wobble_bess"

# task name -> detector
DETECTORS: dict[str, DetectorFactory] = {
    "hold": HoldDetector,
    "push": PushDetector,
    "hop": HopDetector,
    "drill": DrillDetector,
    "weight_shift": WeightShiftDetector,
    "limits_of_stability": StabilityLimitsDetector,
    "maze": MazeDetector,
    "toe_taps": ToeTapsDetector,
    BESS_TASK: BessDetector,
    WOBBLE_TASK: WobbleDetector,
    WOBBLE_BESS_TASK: partial(WobbleDetector, count_errors=True),
}


def task_name(spec: TrialSpec, *, bess: bool = False) -> str:
    """The table's key for a trial: its task, or "bess" ("wobble_bess" for a wobble trial)
    when BESS counts its errors."""
    if not bess:
        return spec.task
    if spec.task == WOBBLE_TASK:
        return WOBBLE_BESS_TASK
    if spec.task != "hold":
        raise ValueError(f"trial {spec.id!r}: BESS counts errors on hold trials, not on "
                         f"task {spec.task!r}; use task = \"hold\" in a BESS protocol")
    return BESS_TASK


def detector_for(spec: TrialSpec, config: HoldConfig, *, bess: bool = False,
                 wobble_setup: WobbleSetup | None = None) -> TaskDetector:
    """The detector of one trial, from the table (wobble tasks with the station's set-up)."""
    name = task_name(spec, bess=bess)
    try:
        make = DETECTORS[name]
    except KeyError:
        raise ValueError(f"trial {spec.id!r}: no detector for task {name!r} (known: "
                         f"{', '.join(DETECTORS)}); add one in station/trials/tasks/") from None
    if name in (WOBBLE_TASK, WOBBLE_BESS_TASK) and wobble_setup is not None:
        return make(spec, config, setup=wobble_setup)
    return make(spec, config)


__all__ = [
    "BESS_ERROR_KINDS",
    "BESS_TASK",
    "DETECTORS",
    "WOBBLE_BESS_TASK",
    "WOBBLE_ERROR_KINDS",
    "WOBBLE_TASK",
    "BessCounter",
    "BessDetector",
    "DetectorFactory",
    "DrillDetector",
    "Failure",
    "HoldClock",
    "HoldDetector",
    "HopDetector",
    "MazeDetector",
    "PushDetector",
    "StabilityLimitsDetector",
    "TargetTracker",
    "TaskDetector",
    "ToeTapsDetector",
    "WeightShiftDetector",
    "WobbleDetector",
    "bess_total",
    "detector_for",
    "task_name",
]
