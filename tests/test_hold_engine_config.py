"""HoldConfig: defaults with reasons, validated overrides, and the docs listing every setting."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from station.trials import HoldConfig, HoldConfigError

DOC = Path(__file__).resolve().parents[1] / "docs" / "hold-engine.md"


def test_defaults_pass_their_own_checks() -> None:
    config = HoldConfig()
    config.check()
    assert HoldConfig.from_dict({}) == config


def test_every_setting_has_a_reason_and_a_default_inside_its_range() -> None:
    for f in dataclasses.fields(HoldConfig):
        assert len(f.metadata["why"]) > 20, f.name
        assert f.metadata["min"] <= f.default <= f.metadata["max"], f.name
    names = [name for name, _, _ in HoldConfig().describe()]
    assert names == [f.name for f in dataclasses.fields(HoldConfig)]


def test_from_dict_applies_values() -> None:
    config = HoldConfig.from_dict({"countdown_s": 5, "floor_drop_frac": 0.2,
                                   "bess_max_errors": 8})
    assert (config.countdown_s, config.floor_drop_frac, config.bess_max_errors) == (5.0, 0.2, 8)
    assert isinstance(config.bess_max_errors, int)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"countdwn_s": 3}, "unknown hold setting 'countdwn_s'"),
        ({"countdown_s": "3"}, "hold setting countdown_s: '3' is not a number"),
        ({"countdown_s": True}, "hold setting countdown_s: True is not a number"),
        ({"countdown_s": float("nan")}, "hold setting countdown_s: nan is not a number"),
        ({"countdown_s": 60}, "hold setting countdown_s: 60 is outside 0.0..10.0"),
        ({"floor_drop_frac": -0.1}, "hold setting floor_drop_frac: -0.1 is outside"),
        ({"bess_max_errors": 2.5}, "hold setting bess_max_errors: 2.5 is not a whole number"),
        ({"step_off_frac": 0.8, "floor_drop_frac": 0.3},
         "hold setting step_off_frac: must be below 1 - floor_drop_frac"),
        ({"hop_flight_frac": 0.5, "hop_landing_frac": 0.4},
         "hold setting hop_flight_frac: must be below hop_landing_frac"),
        ({"hop_contact_frac": 0.45, "hop_landing_frac": 0.4},
         "hold setting hop_contact_frac: must be below hop_landing_frac"),
    ],
)
def test_from_dict_rejects_bad_settings_by_name(values: dict, message: str) -> None:
    with pytest.raises(HoldConfigError, match=re.escape(message)):
        HoldConfig.from_dict(values)


def test_from_dict_needs_a_table() -> None:
    with pytest.raises(HoldConfigError, match="must be a table"):
        HoldConfig.from_dict([("countdown_s", 3)])  # type: ignore[arg-type]


def test_the_docs_list_every_setting_with_its_default() -> None:
    text = DOC.read_text()
    for name, default, _ in HoldConfig().describe():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", text, re.MULTILINE)
        assert row, f"docs/hold-engine.md has no row for {name}"
        assert float(row.group(1)) == pytest.approx(float(default)), name
