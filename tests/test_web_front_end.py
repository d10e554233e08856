"""One of each in the front end: one live-stream client, one board renderer, one simulated-athlete
panel, and the station's facts (g, cells, labels) rendered once from the Python values, never
copied into web/static (static checks of the sources, and the rendered pages)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from web_fixtures import *  # noqa: F403
from web_fixtures import login_as

from station.analysis.history.history_rows import KEY_MEASURES
from station.board.sim.athlete import normalize_action
from station.calibration.procedure import G
from station.geometry import DEFAULT_LAYOUT
from station.protocols import STANCES, load_protocols
from station.protocols.games import GAME_TASKS
from station.trials.events import FAILURE_REASONS
from station.web.views import frontend_facts

WEB = Path(__file__).resolve().parents[1] / "web"
SCRIPTS = sorted(p for p in (WEB / "static").rglob("*.js") if "vendor" not in p.parts)
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
FACTS = frontend_facts.frontend_facts()


def _name(path: Path) -> str:
    return path.relative_to(WEB).as_posix()


def _using(pattern: str, files: list[Path] = SCRIPTS) -> list[str]:
    return [_name(p) for p in files if re.search(pattern, p.read_text(encoding="utf-8"))]


def test_the_sources_are_found():
    assert len(SCRIPTS) > 5 and len(TEMPLATES) > 5  # the checks below look at real files


def test_one_live_stream_client():
    assert _using(r"new\s+EventSource\s*\(") == ["static/js/live_stream.js"]


def test_one_board_renderer():
    assert _using(r"getContext\s*\(") == ["static/js/board.js"]


def test_one_simulated_athlete_panel():
    assert _using(r"/api/sim/perform") == ["static/js/sim_panel.js"]
    assert _using(r"data-sim=", TEMPLATES) == ["templates/_sim_panel.html"]


def test_no_script_keeps_its_own_g_or_cell_positions():
    assert _using(r"9\.8\d*") == []
    number = r"{:g}(?:\.0+)?"
    for x, y in zip(DEFAULT_LAYOUT.x_mm, DEFAULT_LAYOUT.y_mm, strict=True):
        pair = r"\[?\s*" + number.format(x) + r"\s*,\s*" + number.format(y) + r"\b"
        assert _using(pair) == [], (x, y)


def _labels() -> list[str]:
    return [
        *(c["label"] for c in FACTS["cells"]),
        *(s["label"] for s in FACTS["stances"].values()),
        *(m["label"] for m in FACTS["measures"].values()),
        *FACTS["failure_reasons"].values(),
    ]


def test_no_script_or_template_spells_out_the_servers_labels():
    for label in _labels():
        quoted = r"""["'`>]""" + re.escape(label) + r"""["'`<(]"""
        assert _using(quoted) == [], label
        option = r"<option[^>]*>\s*" + re.escape(label) + r"\s*[(<]"  # a picker of them
        assert _using(option, TEMPLATES) == [], label


def test_the_facts_are_the_python_values():
    assert FACTS["g_m_s2"] == G
    assert [(c["name"], c["x_mm"], c["y_mm"]) for c in FACTS["cells"]] == list(
        zip(DEFAULT_LAYOUT.names, DEFAULT_LAYOUT.x_mm, DEFAULT_LAYOUT.y_mm, strict=True))
    assert FACTS["cells"][0]["label"] == DEFAULT_LAYOUT.names[0].replace("_", " ")
    assert list(FACTS["stances"]) == list(STANCES)
    assert FACTS["stances"]["single-left"]["label"] == "Left leg"  # page_data's history wording
    assert FACTS["measures"] == {k: {"label": v[0], "unit": v[1]} for k, v in KEY_MEASURES.items()}
    assert tuple(FACTS["failure_reasons"]) == FAILURE_REASONS
    json.dumps(FACTS, allow_nan=False)  # JSON as it is


def test_a_failure_reason_without_words_stops_the_start_up(monkeypatch):
    monkeypatch.setattr(frontend_facts, "FAILURE_REASONS", (*FAILURE_REASONS, "fell_asleep"))
    with pytest.raises(RuntimeError, match=r"FAILURE_LABELS .* no words for fell_asleep"):
        frontend_facts.frontend_facts()


def _rendered_facts(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="station-facts">(.*?)</script>',
                      page, re.S)
    assert match, "page has no station facts"
    return json.loads(match.group(1))


PAGES_WITH_SCRIPTS = ("/kiosk", "/physio", "/status", "/calibrate", "/coach", "/live")


def test_every_page_carries_the_facts_once(client):
    login_as(client, "admin")
    for path in PAGES_WITH_SCRIPTS:
        page = client.get(path).get_data(as_text=True)
        assert page.count('id="station-facts"') == 1, path
        assert _rendered_facts(page) == FACTS, path
        assert page.index('id="station-facts"') < page.index("js/facts.js"), path


def test_streaming_pages_load_the_one_client_before_their_script(client):
    login_as(client, "admin")
    for path, script in (("/kiosk", "kiosk"), ("/physio", "physio"), ("/status", "status"),
                         ("/calibrate", "calibrate"), ("/live", "live_view")):
        page = client.get(path).get_data(as_text=True)
        assert page.index("js/live_stream.js") < page.index(f"js/{script}.js"), path


def _sim_buttons(page: str) -> list[tuple[str, dict, str]]:
    buttons = re.findall(r"<button[^>]*data-sim=\"([a-z_]+)\"(?:[^>]*data-params='([^']*)')?[^>]*>"
                         r"([^<]+)</button>", page)
    return [(action, json.loads(html.unescape(params or "{}")), label)
            for action, params, label in buttons]


def test_kiosk_and_physio_show_the_same_panel_whose_actions_the_simulator_accepts(client):
    login_as(client, "admin")
    kiosk = _sim_buttons(client.get("/kiosk").get_data(as_text=True))
    physio = _sim_buttons(client.get("/physio").get_data(as_text=True))
    assert kiosk == physio
    assert {a for a, _, _ in kiosk} == {"step_on", "lift_foot", "touch_down", "put_foot_down",
                                        "step_off", "hop", "push", "set_condition", "play_game",
                                        "place_wobble_board", "remove_wobble_board"}
    # every task a protocol asks for can be played (a hold and the target drill, which is
    # steered by standing, need no action of their own; "Play the game" plays the games; a
    # wobble hold's step-on puts the board on)
    tasks = {spec.task for p in load_protocols().values() for spec in p.trials}
    assert tasks - {"hold", "drill", "wobble", *GAME_TASKS} <= {a for a, _, _ in kiosk}, tasks
    assert {p.get("sway") for a, p, _ in kiosk if a == "set_condition"} == {"more", "less"}
    for action, params, _ in kiosk:
        if action == "play_game":
            continue  # its parameters come from the running game (tests/test_web_games.py)
        normalize_action(action, params)  # raises on an action or parameter it does not know


def test_a_real_board_has_no_simulated_athlete_panel(client, fake_runtime):
    fake_runtime.board_kind = "hx711"
    login_as(client, "admin")
    for path in ("/kiosk", "/physio"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="sim-panel"' not in page and "js/sim_panel.js" in page, path


def test_the_physio_measure_picker_names_the_servers_measures(client):
    login_as(client, "physio")
    page = client.get("/physio").get_data(as_text=True)
    options = dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>',
                              page[page.index('id="t-measure"'):]))
    for key, (label, unit) in KEY_MEASURES.items():
        assert html.unescape(options[key]) == (f"{label} ({unit})" if unit else label)
