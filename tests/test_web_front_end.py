"""The station's facts (g, cells, labels) rendered once into the pages from the Python values."""

from __future__ import annotations

import json
import re

import pytest
from web_fixtures import *  # noqa: F403
from web_fixtures import login_as

from station.calibration.procedure import G
from station.geometry import DEFAULT_LAYOUT
from station.protocols import STANCES
from station.trials.events import FAILURE_REASONS
from station.web.views import frontend_facts
from station.web.views.page_data import KEY_MEASURES

FACTS = frontend_facts.frontend_facts()


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


PAGES_WITH_SCRIPTS = ("/kiosk", "/physio", "/status", "/calibrate", "/coach")


def test_every_page_carries_the_facts_once(client):
    login_as(client, "admin")
    for path in PAGES_WITH_SCRIPTS:
        page = client.get(path).get_data(as_text=True)
        assert page.count('id="station-facts"') == 1, path
        assert _rendered_facts(page) == FACTS, path
        assert page.index('id="station-facts"') < page.index("js/facts.js"), path
