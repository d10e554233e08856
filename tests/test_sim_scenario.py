"""Scenario files and event lists: formats, shipped names, and clear errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from station.board.sim import (
    ScenarioError,
    SimEvent,
    load_scenario,
    parse_events,
    scenario_names,
    simulate,
)

TOML = """
description = "two events"
duration_s = 6.0
seed = 3

[[event]]
t_s = 1.0
action = "step_on"
mass_kg = 55.0
surface = "foam"

[[event]]
t_s = 4.0
action = "step_off"
"""


def test_toml_json_and_python_forms_give_the_same_simulation(tmp_path):
    toml_path = tmp_path / "s.toml"
    toml_path.write_text(TOML)
    json_path = tmp_path / "s.json"
    json_path.write_text(
        json.dumps(
            {
                "duration_s": 6.0,
                "events": [
                    {"t_s": 4.0, "action": "step_off"},
                    {"t_s": 1.0, "action": "step_on", "mass_kg": 55.0, "surface": "foam"},
                ],
            }
        )
    )
    sc = load_scenario(toml_path)
    assert sc.description == "two events" and sc.seed == 3 and sc.end_s == 6.0
    assert [e.action for e in sc.events] == ["step_on", "step_off"]
    py = [SimEvent(1.0, "step_on", {"mass_kg": 55.0, "surface": "foam"}), (4.0, "step_off")]
    a = simulate(sc, seed=1)
    b = simulate(json_path, seed=1)
    c = simulate(py, seed=1, duration_s=6.0)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.counts, c.counts)


def test_shipped_scenarios_by_name():
    names = scenario_names()
    assert "hop_landing" in names
    assert load_scenario("hop_landing").name == "hop_landing"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[event]\nt_s=1", "not valid"),
        ("description = 'x'\n", "needs a list of events"),
        ("[[event]]\naction = 'step_on'\n", "needs t_s"),
        ("[[event]]\nt_s = -1\naction = 'step_on'\n", "t_s must be a time >= 0"),
        ("[[event]]\nt_s = 1\naction = 'moonwalk'\n", "unknown action 'moonwalk'"),
        ("[[event]]\nt_s = 1\naction = 'step_on'\nmass_kg = 'heavy'\n", "mass_kg must be a number"),
        ("[[event]]\nt_s = 1\naction = 'step_on'\nskill = 2\n", "skill must be within 0..1"),
        ("[[event]]\nt_s = 1\naction = 'lift_foot'\nside = 'middle'\n", "side must be one of"),
        (
            "duration_s = -3\n[[event]]\nt_s = 1\naction = 'hold'\n",
            "duration_s must be a positive number",
        ),
        ("[[event]]\nt_s = 1\naction = 'follow_trace'\npath = 'nowhere.csv'\n", "cannot read"),
    ],
)
def test_bad_scenario_files_say_what_is_wrong(tmp_path, text, message):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(p)
    assert "\n" not in str(err.value)


def test_bad_event_names_its_index_and_time():
    with pytest.raises(ScenarioError, match=r"events\[1\] \(hop at 2 s\): peak_bw"):
        parse_events([(0, "step_on"), (2, "hop", {"peak_bw": 9})])


def test_unknown_scenario_lists_the_shipped_ones():
    with pytest.raises(ScenarioError, match=r"shipped: .*single_leg_hold"):
        load_scenario("no_such_thing")
