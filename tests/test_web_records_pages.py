"""Corrections to the record from the pages: editing an athlete (PATCH, errors by field),
archiving, invalidating a trial; who may (physios and admins) and who may not (a coach,
who sees the history but no buttons, and whom the API refuses); the team with and without
its archived athletes."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import login_as, seed_history, send_json


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert match, "page has no embedded data"
    return json.loads(match.group(1))


@pytest.fixture
def seeded(web_store):
    return seed_history(web_store)


def test_a_physio_edits_an_athlete_and_a_bad_field_is_named(app: Flask, web_store,
                                                            seeded) -> None:
    uid = seeded["athletes"][0]
    physio = login_as(app.test_client(), "physio")
    done = send_json(physio, "PATCH", f"/api/athletes/{uid}",
                     {"name": "Ada Lovelace", "team": "U20", "dominant_leg": "right",
                      "birth_year": 2007, "notes": "ACL repair 2024"})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["name"], body["team"], body["dominant_leg"], body["birth_year"],
            body["notes"]) == ("Ada Lovelace", "U20", "right", 2007, "ACL repair 2024")
    assert (body["archived"], body["demo"]) == (False, False)
    assert web_store.get_athlete(uid).name == "Ada Lovelace"
    for field, value in (("name", ""), ("birth_year", 1800), ("dominant_leg", "middle"),
                         ("name", "x" * 101)):
        refused = send_json(physio, "PATCH", f"/api/athletes/{uid}", {field: value})
        assert refused.status_code == 400, (field, value)
        assert refused.get_json()["field"] == field
    assert web_store.get_athlete(uid).name == "Ada Lovelace"  # nothing half-applied
    coach = login_as(app.test_client(), "coach")
    assert send_json(coach, "PATCH", f"/api/athletes/{uid}", {"name": "X"}).status_code == 403


def test_the_athlete_page_offers_the_buttons_to_editors_only(app: Flask, web_store,
                                                            seeded) -> None:
    uid = seeded["athletes"][0]
    web_store.invalidate_trial(seeded["trials"][0], "stepped off early", actor="physio")
    for role, may in (("physio", True), ("admin", True), ("coach", False)):
        client = login_as(app.test_client(), role)
        html = client.get(f"/athletes/{uid}").get_data(as_text=True)
        data = page_data(html)
        assert data["can_edit_records"] is may, role
        assert "js/records.js" in html  # badges and greyed trials for everyone
        bad = next(t for t in data["trials"] if t["uid"] == seeded["trials"][0])
        assert bad["invalid"]["text"].startswith("invalidated by physio on ")
        assert bad["invalid"]["text"].endswith(": stepped off early")
    coach = login_as(app.test_client(), "coach")
    for path, body in ((f"/api/trials/{seeded['trials'][0]}/revalidate", {}),
                       (f"/api/trials/{seeded['trials'][1]}/invalidate", {"reason": "x"}),
                       (f"/api/athletes/{uid}/archive", {})):
        assert send_json(coach, "POST", path, body).status_code == 403, path


def test_the_team_leaves_archived_athletes_out_unless_shown(app: Flask, web_store,
                                                           seeded) -> None:
    ada, ben = seeded["athletes"]
    physio = login_as(app.test_client(), "physio")
    assert send_json(physio, "POST", f"/api/athletes/{ben}/archive", {}).status_code == 200
    coach = login_as(app.test_client(), "coach")
    team = coach.get("/api/team").get_json()
    assert [a["uid"] for a in team["athletes"]] == [ada] and team["n_archived"] == 1
    everyone = coach.get("/api/team?archived=1").get_json()
    assert {a["uid"]: a["archived"] for a in everyone["athletes"]} == {ada: False, ben: True}
    page = page_data(coach.get("/coach").get_data(as_text=True))
    assert [a["uid"] for a in page["athletes"]] == [ada] and page["include_archived"] is False
    shown = page_data(coach.get("/coach?archived=1").get_data(as_text=True))
    assert {a["uid"] for a in shown["athletes"]} == {ada, ben}
    kiosk = login_as(app.test_client(), "kiosk")
    picker = page_data(kiosk.get("/kiosk").get_data(as_text=True))["athletes"]
    assert [a["uid"] for a in picker] == [ada]
    ben_page = page_data(coach.get(f"/athletes/{ben}").get_data(as_text=True))
    assert ben_page["athlete"]["archived"] is True  # the page's badge
