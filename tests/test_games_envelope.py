"""The athlete's envelope: a limits-of-stability trial run on the station stores it, the read
function finds it, and the next game (and a re-analysis of it) places its targets inside it."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis.history.envelope import envelope_of, latest_envelope
from station.board.sim.engine import SimEngine
from station.calibration import load_calibration
from station.calibration.estimator import Estimator
from station.commands._common import SIM_CALIBRATION
from station.frames import Frame
from station.protocols import get_protocol
from station.protocols.games import DEFAULT_ENVELOPE_MM, MAZE_ORDER, maze_targets_mm
from station.store import open_store
from station.store.reanalysis import default_analyze
from station.store.records import Athlete
from station.trials.autopilot import SimAutopilot
from station.trials.runner import TrialRequest, TrialRunner
from station.trials.saver import store_saver
from station.trials.tasks import HoldClock


class SimRuntime:
    """What the autopilot drives: perform() schedules on the simulator at its next frame."""

    def __init__(self, sim: SimEngine) -> None:
        self.sim = sim

    def perform(self, action: str, **params: object) -> None:
        self.sim.schedule(self.sim.next_t_s, action, params)


def run_trial(runner: TrialRunner, request: TrialRequest, skill: float, seed: int) -> str:
    sim = SimEngine(seed=seed)
    pilot = SimAutopilot(SimRuntime(sim), runner, seed=seed, failure_rate=0.0)
    pilot.plan(70.0, skill, 0.0)
    estimator = Estimator(load_calibration(SIM_CALIBRATION))
    runner.start(request)
    for n in range(int((runner.current_spec.duration_s + 20) * sim.rate_hz)):
        chunk = sim.advance(1)
        frame = Frame(round(float(chunk.t_s[0]) * 1e9), tuple(int(c) for c in chunk.counts[0]))
        runner.on_frame(frame, estimator.update(frame))
        if n % 8 == 0 and not pilot.tick():  # the autopilot at 10 Hz, like the demo
            break
    runner.wait_idle()
    result = runner.last_result
    assert result is not None and result.error is None and result.saved_uid is not None
    return result.saved_uid


@pytest.fixture
def station(tmp_path):
    store = open_store(tmp_path)
    cal = load_calibration(SIM_CALIBRATION)
    runner = TrialRunner(lambda: cal.to_dict(), save=store_saver(store, "sim"))
    yield store, runner
    runner.close()
    store.close()


def test_a_los_trial_gives_the_envelope_the_next_maze_is_placed_in(station) -> None:
    store, runner = station
    athlete = store.add_athlete(Athlete(name="Ada Lean", team="U18"))
    assert latest_envelope(store, athlete) is None  # no LOS yet: the games use the default
    los_uid = run_trial(runner, TrialRequest("limits-of-stability", "los-8",
                                             athlete_uid=athlete), skill=0.5, seed=4)
    los = store.load_trial(los_uid, with_raw=False)
    assert los.task == "limits_of_stability" and los.outcome == "complete"
    found = latest_envelope(store, athlete)
    assert found is not None and found.trial_uid == los_uid
    assert found.envelope_mm == pytest.approx(envelope_of(los.metrics))
    assert set(found.by_direction()) == {"forward", "forward-right", "right", "back-right",
                                         "back", "back-left", "left", "forward-left"}
    # a skill-0.5 athlete reaches less far than the default envelope assumes in most directions
    assert sum(found.envelope_mm) != pytest.approx(sum(DEFAULT_ENVELOPE_MM), rel=0.02)

    maze_uid = run_trial(runner, TrialRequest("maze", "maze-8", athlete_uid=athlete,
                                              envelope_mm=list(found.envelope_mm)),
                         skill=0.8, seed=5)
    maze = store.load_trial(maze_uid, with_raw=True)
    assert maze.spec["game"]["envelope_mm"] == pytest.approx(list(found.envelope_mm))
    spec = get_protocol("maze").trial("maze-8").with_envelope(found.envelope_mm)
    targets = maze_targets_mm(spec.game)
    reach = np.hypot(targets[:, 0], targets[:, 1])
    assert np.all(reach < np.array([found.envelope_mm[d] for d, _ in MAZE_ORDER]))
    assert maze.metrics["maze"]["targets_reached"] >= 5
    # the stored spec carries the targets: a re-analysis gives the same maze
    metrics, score, _ = default_analyze(maze)
    assert metrics["maze"] == maze.metrics["maze"]
    assert score == pytest.approx(maze.score)


def test_a_request_with_a_bad_envelope_is_refused(station) -> None:
    from station.trials.runner import TrialError

    _, runner = station
    with pytest.raises(TrialError, match="envelope_mm needs 8 reaches"):
        runner.start(TrialRequest("maze", "maze-8", envelope_mm=[50.0, 40.0]))


def test_a_hold_ignores_the_envelope_and_the_drill_scales_by_it() -> None:
    hold = get_protocol("single-leg-left").trials[0]
    assert hold.with_envelope(DEFAULT_ENVELOPE_MM) is hold
    drill = get_protocol("drill").trial("double-target")
    from station.protocols.games import drill_radius_mm

    small = drill.with_envelope([0.5 * v for v in DEFAULT_ENVELOPE_MM])
    assert drill_radius_mm(drill.target_radius_mm, small.game.envelope_mm) == pytest.approx(
        drill.target_radius_mm * 0.6)  # clipped at 0.6 x
    same = drill.with_envelope(DEFAULT_ENVELOPE_MM)
    assert drill_radius_mm(drill.target_radius_mm, same.game.envelope_mm) == pytest.approx(
        drill.target_radius_mm)
    # the drill's detector draws the scaled circle
    from station.trials.tasks import DrillDetector
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow

    detector = DrillDetector(small, HoldConfig())
    window = RunningWindow(1.0)
    window.add(0.0, 700.0, 0.0, 0.0)
    detector.begin(HoldClock(0.0, 30.0), 700.0, window, [])
    status: dict[str, object] = {}
    detector.status(status)
    assert status["target"]["radius_mm"] == pytest.approx(drill.target_radius_mm * 0.6)
