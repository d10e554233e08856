"""Protocols: the shipped data files and the validator's error messages."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from station.protocols import (
    TASK_INSTRUCTIONS,
    TASKS,
    Protocol,
    ProtocolError,
    TrialSpec,
    default_instructions,
    get_protocol,
    load_protocol_file,
    load_protocols,
    protocols_json,
)
from station.protocols.model import DATA_DIR

MINIMAL = """\
id = "mini"
name = "Mini"
kind = "hold"

[[trials]]
id = "a"
stance = "single-left"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------ shipped data
def test_shipped_protocols_load() -> None:
    protocols = load_protocols()
    for needed in ("single-leg-left", "single-leg-right", "romberg", "baseline", "bess", "drill"):
        assert needed in protocols
    for p in protocols.values():
        assert isinstance(p, Protocol) and p.trials
        for t in p.trials:
            assert t.instructions.strip()


def test_single_leg_protocols_stand_on_the_named_foot() -> None:
    assert {t.stance for t in get_protocol("single-leg-left").trials} == {"single-left"}
    assert {t.stance for t in get_protocol("single-leg-right").trials} == {"single-right"}
    assert "LEFT" in get_protocol("single-leg-left").trials[0].instructions


def test_romberg_is_double_stance_eyes_open_then_closed() -> None:
    trials = get_protocol("romberg").trials
    assert [(t.stance, t.eyes) for t in trials] == [("double", "open"), ("double", "closed")]
    assert all(t.duration_s >= 25 for t in trials)  # sway measures need >= 25 s


def test_baseline_battery_has_the_specified_trials() -> None:
    baseline = get_protocol("baseline")
    got = {(t.stance, t.eyes, t.surface, t.task) for t in baseline.trials}
    for side in ("single-left", "single-right"):
        assert (side, "open", "firm", "hold") in got
        assert (side, "open", "foam", "hold") in got
        assert (side, "closed", "firm", "hold") in got
        assert any(s == side and task == "hop" for s, _, _, task in got)
    assert any(task == "push" for *_, task in got)
    assert all(t.rest_s > 0 for t in baseline.trials)
    # the foam pad goes on once: foam trials are consecutive
    surfaces = [t.surface for t in baseline.trials]
    first, last = surfaces.index("foam"), len(surfaces) - 1 - surfaces[::-1].index("foam")
    assert set(surfaces[first:last + 1]) == {"foam"}


def test_bess_is_six_20s_eyes_closed_stances_on_firm_and_foam() -> None:
    bess = get_protocol("bess")
    assert bess.kind == "bess"
    assert {(t.stance.split("-")[0], t.surface) for t in bess.trials} == {
        (s, f) for s in ("double", "single", "tandem") for f in ("firm", "foam")
    }
    assert all(t.duration_s == 20 and t.eyes == "closed" for t in bess.trials)


def test_drill_trials_have_targets() -> None:
    drill = get_protocol("drill")
    assert drill.trials and all(t.task == "drill" and t.target_radius_mm for t in drill.trials)


def test_with_duration_overrides_every_trial() -> None:
    romberg = get_protocol("romberg").with_duration(20)
    assert [t.duration_s for t in romberg.trials] == [20.0, 20.0]
    assert get_protocol("romberg").trials[0].duration_s == 30.0  # the original is untouched
    with pytest.raises(ProtocolError, match="duration_s: 0 is not a duration"):
        get_protocol("romberg").trials[0].with_duration(0)
    with pytest.raises(ProtocolError, match="duration_s"):
        get_protocol("romberg").with_duration(True)


def test_get_protocol_unknown_lists_the_known_ids() -> None:
    with pytest.raises(KeyError, match="no protocol 'nope'; known: baseline, bess"):
        get_protocol("nope")


def test_trial_lookup_and_total_time() -> None:
    romberg = get_protocol("romberg")
    assert romberg.trial("double-closed-firm").eyes == "closed"
    assert romberg.total_time_s == 30 + 15 + 30
    with pytest.raises(KeyError, match="no trial 'x'"):
        romberg.trial("x")


def test_shipped_files_are_one_protocol_each_named_by_id() -> None:
    for path in DATA_DIR.glob("*.toml"):
        assert load_protocol_file(path).id == path.stem


# ---------------------------------------------------------------------------- validation
def test_minimal_protocol_gets_defaults_and_instructions(tmp_path: Path) -> None:
    p = load_protocol_file(write(tmp_path, "mini.toml", MINIMAL))
    t = p.trials[0]
    assert t == TrialSpec(id="a", stance="single-left", eyes="open", surface="firm",
                          duration_s=30.0, count=1, rest_s=30.0, task="hold",
                          instructions=t.instructions, target_radius_mm=None)
    assert t.instructions.startswith("Stand on your LEFT foot, lift the right")


def test_bad_surface_names_file_protocol_and_field(tmp_path: Path) -> None:
    text = (DATA_DIR / "baseline.toml").read_text()
    lines = text.splitlines()
    # the fourth trial (trials[3]) gets an unknown surface
    starts = [i for i, line in enumerate(lines) if line.strip() == "[[trials]]"]
    lines.insert(starts[3] + 1, 'surface = "sand"')
    write(tmp_path, "baseline.toml", "\n".join(lines))
    with pytest.raises(ProtocolError) as err:
        load_protocols(tmp_path)
    assert str(err.value) == (
        "baseline.toml: protocol 'baseline': trials[3].surface: "
        "'sand' is not one of firm, foam, wobble"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace('kind = "hold"', 'kind = "yoga"'),
         "mini.toml: protocol 'mini': kind: 'yoga' is not one of"),
        (lambda s: s.replace('name = "Mini"\n', ""), "mini.toml: protocol 'mini': name: missing"),
        (lambda s: s.replace('id = "mini"\n', ""), "mini.toml: id: missing"),
        (lambda s: s + 'colour = "red"\n',
         "mini.toml: protocol 'mini': trials[0].colour: unknown field"),
        (lambda s: "author = 'me'\n" + s, "mini.toml: protocol 'mini': author: unknown field"),
        (lambda s: s.replace('stance = "single-left"', 'stance = "one-leg"'),
         "trials[0].stance: 'one-leg' is not one of double, single-left, single-right, tandem"),
        (lambda s: s.replace('stance = "single-left"\n', ""), "trials[0].stance: missing"),
        (lambda s: s + "eyes = 'shut'\n", "trials[0].eyes: 'shut' is not one of open, closed"),
        (lambda s: s + "duration_s = 0.5\n", "trials[0].duration_s: 0.5 s is outside 1..600 s"),
        (lambda s: s + "duration_s = 'long'\n", "trials[0].duration_s: 'long' is not a number"),
        (lambda s: s + "duration_s = true\n", "trials[0].duration_s: True is not a number"),
        (lambda s: s + "count = 0\n", "trials[0].count: 0 is not a whole number from 1 to 20"),
        (lambda s: s + "count = 2.5\n", "trials[0].count: 2.5 is not a whole number"),
        (lambda s: s + "rest_s = -1\n", "trials[0].rest_s: -1 s is outside 0..600 s"),
        (lambda s: s + "task = 'drill'\n", "trials[0].target_radius_mm: a drill trial needs"),
        (lambda s: s + "target_radius_mm = 20\n", "trials[0].target_radius_mm: only drill"),
        (lambda s: s + "task = 'drill'\ntarget_radius_mm = -5\n",
         "trials[0].target_radius_mm: -5 mm is outside 0..200 mm"),
        (lambda s: s.replace('"single-left"', '"double"') + "task = 'hop'\n",
         "trials[0].stance: hop landings are single-leg, not 'double'"),
        (lambda s: s + "\n[[trials]]\nid = \"a\"\nstance = \"double\"\n",
         "trials[1].id: 'a' is used twice"),
        (lambda s: s.split("[[trials]]")[0], "trials: needs at least one [[trials]] entry"),
        (lambda s: s.replace('kind = "hold"', 'kind = "hold"\ndefaults = 3'),
         "defaults: must be a table"),
        (lambda s: s.replace('kind = "hold"', 'kind = "hold"\n[defaults]\nspeed = 2\n'),
         "defaults.speed: unknown field"),
        (lambda s: s.replace("[[trials]]", "trials = 5\n[x]"), "unknown field"),
        (lambda s: s.replace('"Mini"', '""'), "name: '' must be a non-empty string"),
        (lambda s: s + "instructions = 7\n", "trials[0].instructions: 7 must be a string"),
        (lambda s: s.replace('kind = "hold"', 'kind = "bess"') + "task = 'push'\n",
         "trials[0].task: a BESS protocol counts errors on hold trials, not on 'push'"),
        (lambda s: s.replace('kind = "hold"', 'kind = "hold"\nbaseline = "worst"'),
         "protocol 'mini': baseline: 'worst' is not one of best, mean"),
        (lambda s: s.replace('kind = "hold"', 'kind = "hold"\nkey_trial = "b"'),
         "protocol 'mini': key_trial: 'b' is not one of the trials (a)"),
    ],
)
def test_validation_errors_name_the_problem(tmp_path: Path, edit, message: str) -> None:
    path = write(tmp_path, "mini.toml", edit(MINIMAL))
    with pytest.raises(ProtocolError) as err:
        load_protocol_file(path)
    assert message in str(err.value)


def test_the_baseline_rule_and_key_trial_are_protocol_data(tmp_path: Path) -> None:
    mini = load_protocol_file(write(tmp_path, "mini.toml", MINIMAL))
    assert (mini.baseline, mini.key_trial) == ("best", None)  # the defaults
    text = MINIMAL.replace('kind = "hold"', 'kind = "hold"\nbaseline = "mean"\nkey_trial = "a"')
    mean = load_protocol_file(write(tmp_path, "mean.toml", text))
    assert (mean.baseline, mean.key_trial) == ("mean", "a")
    assert mean.to_json()["baseline"] == "mean"
    battery = get_protocol("baseline")
    assert battery.kind == "battery" and battery.trial(battery.key_trial).stance == "single-left"
    assert {get_protocol(p).baseline for p in ("single-leg-left", "single-leg-right")} == {"best"}


def test_defaults_table_applies_to_trials(tmp_path: Path) -> None:
    text = MINIMAL.replace('kind = "hold"', 'kind = "hold"\n[defaults]\neyes = "closed"\n'
                           'duration_s = 20\n')
    t = load_protocol_file(write(tmp_path, "mini.toml", text)).trials[0]
    assert (t.eyes, t.duration_s) == ("closed", 20.0)
    assert "Eyes closed" in t.instructions


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.toml", "id = \n")
    with pytest.raises(ProtocolError, match=r"^broken\.toml: not valid TOML"):
        load_protocol_file(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"nothere\.toml: cannot read"):
        load_protocol_file(tmp_path / "nothere.toml")
    with pytest.raises(ProtocolError, match="protocol folder not found"):
        load_protocols(tmp_path / "nowhere")


def test_duplicate_ids_across_files_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", MINIMAL)
    write(tmp_path, "b.toml", MINIMAL)
    with pytest.raises(ProtocolError, match=r"b\.toml: id 'mini' is already used by a\.toml"):
        load_protocols(tmp_path)


def test_a_folder_of_custom_protocols_loads(tmp_path: Path) -> None:
    write(tmp_path, "mini.toml", MINIMAL)
    assert list(load_protocols(tmp_path)) == ["mini"]
    assert get_protocol("mini", tmp_path).trials[0].stance == "single-left"


# ------------------------------------------------------------------------------- JSON
def test_trial_spec_json_is_every_field_and_round_trips() -> None:
    for protocol in load_protocols().values():
        for spec in protocol.trials:
            data = spec.to_json()
            assert data == dataclasses.asdict(spec)  # what the saver stores with a trial
            assert TrialSpec(**json.loads(json.dumps(data))) == spec


def test_protocol_json_is_the_one_listing_of_the_protocols() -> None:
    listing = protocols_json()
    assert [p["id"] for p in listing] == list(load_protocols())
    drill = next(p for p in listing if p["id"] == "drill")
    assert set(drill) == {"id", "name", "description", "kind", "baseline", "key_trial", "trials"}
    radius = get_protocol("drill").trials[0].target_radius_mm
    assert radius and drill["trials"][0]["target_radius_mm"] == radius
    assert drill == get_protocol("drill").to_json()
    json.dumps(listing)  # plain JSON types only


def test_default_instructions_name_the_task() -> None:
    assert TASKS == tuple(TASK_INSTRUCTIONS)
    for task, line in TASK_INSTRUCTIONS.items():
        assert default_instructions("double", "open", "firm", task).splitlines()[1] == line
