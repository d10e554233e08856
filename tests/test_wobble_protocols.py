"""Wobble trials as protocol data: the task, the baseline battery's items, the wobble drill."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.protocols import TASKS, ProtocolError, get_protocol, load_protocol_file
from station.trials import HoldEngine
from station.trials.events import State
from tests.wobble_fixtures import session

MINIMAL = """
id = "mini"
name = "Mini"
kind = "hold"
[[trials]]
id = "one"
stance = "double"
"""


def load(tmp_path: Path, extra: str):
    path = tmp_path / "mini.toml"
    path.write_text(MINIMAL + extra)
    return load_protocol_file(path)


def test_wobble_is_a_task_of_protocol_files(tmp_path):
    assert "wobble" in TASKS
    spec = load(tmp_path, 'task = "wobble"\nsurface = "wobble"\ntarget_tilt_deg = 5\n').trials[0]
    assert (spec.task, spec.surface, spec.target_tilt_deg) == ("wobble", "wobble", 5.0)
    assert "rim" in spec.instructions  # the default lines say what fails it


@pytest.mark.parametrize(("extra", "message"), [
    ('task = "wobble"\n', 'trials[0].surface: a wobble trial stands on the wobble board'),
    ('task = "wobble"\nsurface = "wobble"\ntarget_tilt_deg = 45\n',
     "trials[0].target_tilt_deg: 45 deg is outside 1..30 deg"),
    ("target_tilt_deg = 5\n", "trials[0].target_tilt_deg: only wobble trials"),
])
def test_wobble_trial_errors_name_the_field(tmp_path, extra, message):
    with pytest.raises(ProtocolError) as err:
        load(tmp_path, extra)
    assert message in str(err.value)


def test_the_baseline_battery_has_single_leg_wobble_holds_left_and_right():
    wobble = [t for t in get_protocol("baseline").trials if t.surface == "wobble"]
    assert [(t.stance, t.task) for t in wobble] == [("single-left", "wobble"),
                                                   ("single-right", "wobble")]


def test_the_wobble_drill_keeps_the_deck_inside_5_degrees_for_30_s():
    drill = get_protocol("wobble-drill")
    assert {(t.task, t.surface, t.duration_s, t.target_tilt_deg) for t in drill.trials} == {
        ("wobble", "wobble", 30.0, 5.0)}


def test_the_drill_reports_its_time_in_the_target_zone_live_and_at_the_end():
    spec = get_protocol("wobble-drill").trial("double-wobble-5deg").with_duration(8.0)
    run = session(stance="double", skill=0.8, duration_s=22.0, seed=1, level_mm=(0.0, 0.0))
    engine = HoldEngine(spec)
    live = []
    for sample in run.samples():
        engine.update(sample)
        if engine.state is State.HOLDING:
            live.append(engine.status()["wobble"])
        if engine.state.terminal:
            break
    assert engine.state is State.COMPLETE
    assert live[-1]["target_deg"] == 5.0 and isinstance(live[-1]["inside"], bool)
    done = next(e for e in engine.events if e.kind == "trial_complete").detail
    pct = done["wobble_time_in_target_pct"]
    assert 0.0 <= pct <= 100.0
    # the live figure converges to the final one
    assert live[-1]["in_target_pct"] == pytest.approx(pct, abs=2.0)
    # a skilled athlete on both feet keeps a 20-degree board mostly inside 5 degrees
    assert pct > 50.0


def test_the_engine_uses_the_station_set_up_it_is_given():
    from station.wobble import WobbleSetup, preset

    spec = get_protocol("baseline").trial("left-open-wobble")
    setup = WobbleSetup(preset("round-50-trainer"), level_mm=(3.0, 2.0), source="set-up")
    engine = HoldEngine(spec, wobble_setup=setup)
    assert engine._detector.setup is setup
    assert HoldEngine(spec)._detector.setup.source == "default"


def test_the_live_status_is_strict_json_before_the_hold():
    import json

    engine = HoldEngine(get_protocol("wobble-drill").trial("double-wobble-5deg"))
    text = json.dumps(engine.status(), allow_nan=False)  # the live stream refuses NaN
    assert json.loads(text)["wobble"]["tilt_deg"] == [None, None]
