"""The simulated athlete on a simulated board: sway model, actions, scenarios, fast path.

- `SimulatedBoard`: a live BoardSource (the factory's `--board sim` / `--board emulator`).
- `simulate(events)`: the whole scenario at once as numpy arrays (tests, benches).
- `SimEngine.state_at(t)` / `counts_at(cell_t)`: the truth between samples, and each cell read
  at its own chip's conversion instant (`SimulatedBoard(chips=...)`, docs/cell-timing.md).
- `default_cell_model()`: the cells of the default simulated board (calibration/sim-board.json).
- Scenarios: `load_scenario`, `scenario_names`, `SimEvent`; COP traces: `load_cop_trace`.
- A wobble board that rolls (`place_wobble_board`; `wobble.py`): its truth (tilt, contact,
  rim) in `SimResult.wobble` (`WobbleTruth`).
"""

from __future__ import annotations

from station.board.sim.athlete import ACTIONS, PhaseMark, SimActionError, normalize_action
from station.board.sim.board import SimulatedBoard
from station.board.sim.engine import (
    DEFAULT_CELL_SEED,
    SimEngine,
    SimResult,
    SimState,
    default_cell_model,
    simulate,
)
from station.board.sim.reference_traces import CopTrace, CopTraceError, load_cop_trace
from station.board.sim.scenario import (
    Scenario,
    ScenarioError,
    SimEvent,
    load_scenario,
    parse_events,
    scenario_names,
)
from station.board.sim.wobble import WobbleTruth

__all__ = [
    "ACTIONS",
    "DEFAULT_CELL_SEED",
    "CopTrace",
    "CopTraceError",
    "PhaseMark",
    "Scenario",
    "ScenarioError",
    "SimActionError",
    "SimEngine",
    "SimEvent",
    "SimResult",
    "SimState",
    "SimulatedBoard",
    "WobbleTruth",
    "default_cell_model",
    "load_cop_trace",
    "load_scenario",
    "normalize_action",
    "parse_events",
    "scenario_names",
    "simulate",
]
