"""Exports from the pages (a trial's samples and metrics, an athlete's trials, the team's latest
results) with the API's role rules, the buttons only for roles that may use them, the team
page's condition choice, and a wrong-side target refused with a message the page shows."""

from __future__ import annotations

import csv
import io
import re

import pytest
from web_fixtures import *  # noqa: F403
from web_fixtures import api_headers_for, login_as, seed_history, send_json

from station import access


def rows_of(response) -> list[dict[str, str]]:
    assert response.mimetype == "text/csv", response.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def seeded(web_store):
    return seed_history(web_store)


def test_a_trials_metrics_export_lists_every_metric(client, seeded):
    login_as(client, "coach")
    trial = seeded["trials"][4]
    response = client.get(f"/api/trials/{trial}/metrics.csv")
    assert response.status_code == 200
    assert f'filename="{trial}-metrics.csv"' in response.headers["Content-Disposition"]
    fields = {r["field"]: r["value"] for r in rows_of(response)}
    assert fields["uid"] == trial and fields["outcome"] == "complete"
    assert float(fields["metric.mean_velocity_mm_s.total"]) == 26.0
    assert fields["started_at"].startswith("2025-01-20")
    samples = rows_of(client.get(f"/api/trials/{trial}/cop.csv"))
    assert len(samples) > 100 and {"t_s", "force_n", "cop_x_mm", "cop_y_mm"} <= set(samples[0])


def test_an_athletes_export_has_all_their_trials(client, seeded):
    login_as(client, "physio")
    response = client.get(f"/api/athletes/{seeded['athletes'][0]}/trials.csv")
    assert response.status_code == 200
    assert 'filename="Ada-Example-trials.csv"' in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert len(rows) == 6 and {r["trial_id"] for r in rows} == set(seeded["trials"][:6])
    assert "metric.mean_velocity_mm_s.total" in rows[0]
    assert client.get("/api/athletes/nobody/trials.csv").status_code == 404


def test_the_team_export_is_the_latest_result_per_athlete_and_condition(client, seeded):
    login_as(client, "coach")
    rows = rows_of(client.get("/api/team.csv"))
    assert [(r["athlete"], r["condition"]) for r in rows] == [
        ("Ada Example", "Left leg, eyes open"), ("Ada Example", "Right leg, eyes open"),
        ("Ben Example", "Left leg, eyes open"), ("Ben Example", "Right leg, eyes open")]
    ben_right = rows[3]
    assert float(ben_right["mean_velocity_mm_s.total"]) == 32.0  # the third week's
    assert ben_right["started_at"].startswith("2025-01-20")
    assert rows_of(client.get("/api/team.csv?team=U99")) == []


@pytest.mark.parametrize("role", ["admin", "physio", "coach", "kiosk"])
def test_exports_follow_the_export_capability(app, seeded, role):
    may = access.role_can(role, "export")
    assert may == (role != "kiosk")  # coaches have the right, a kiosk does not
    headers = api_headers_for(app, role)
    client = app.test_client()
    trial, athlete = seeded["trials"][0], seeded["athletes"][0]
    for url in (f"/api/trials/{trial}/metrics.csv", f"/api/trials/{trial}/raw.csv",
                f"/api/athletes/{athlete}/trials.csv", "/api/team.csv"):
        assert client.get(url, headers=headers).status_code == (200 if may else 403), url


def _has(page: str, element_id: str) -> bool:
    return re.search(rf'id="{element_id}"', page) is not None


@pytest.mark.parametrize("role", ["admin", "physio", "coach"])
def test_export_buttons_show_for_roles_with_the_right(client, seeded, role):
    login_as(client, role)
    athlete = client.get(f"/athletes/{seeded['athletes'][0]}").get_data(as_text=True)
    assert _has(athlete, "a-export") and _has(athlete, "replay-export")
    assert _has(client.get("/coach").get_data(as_text=True), "team-export")
    assert _has(client.get("/kiosk").get_data(as_text=True), "res-export")


def test_a_kiosk_gets_no_export_button(client, seeded):
    login_as(client, "kiosk")
    page = client.get("/kiosk").get_data(as_text=True)
    assert not _has(page, "res-export") and "metrics.csv" not in page


def test_no_export_button_without_the_capability(client, seeded, monkeypatch):
    monkeypatch.setitem(access.CAPABILITIES, "export", frozenset({"admin"}))
    login_as(client, "coach")
    assert not _has(client.get(f"/athletes/{seeded['athletes'][0]}").get_data(as_text=True),
                    "a-export")
    assert not _has(client.get("/coach").get_data(as_text=True), "team-export")


def test_the_team_page_and_api_take_a_condition(client, seeded):
    login_as(client, "coach")
    right = "single-right · eyes open · firm"
    api = client.get("/api/team", query_string={"condition": right}).get_json()
    assert api["condition"] == {"key": right, "label": "Right leg, eyes open", "why": "chosen"}
    ben = next(a for a in api["athletes"] if a["name"] == "Ben Example")
    assert ben["spark"] == [60.0, 65.0, 70.0] and ben["latest_score"] == 70.0
    assert ben["other_leg"]["side"] == "L"
    bad = client.get("/api/team", query_string={"condition": "left"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "condition"
    page = client.get("/coach", query_string={"condition": "left"})
    assert page.status_code == 200  # the page falls back to the default condition
    assert 'id="f-condition"' in page.get_data(as_text=True)


def test_a_wrong_side_target_is_refused_with_the_reason(client, seeded):
    login_as(client, "physio")
    ada = seeded["athletes"][0]
    left = "single-left · eyes open · firm"
    wrong = {"measure": "mean_velocity_mm_s.total", "value": 999, "condition": left,
             "due_date": "2025-03-01"}
    response = send_json(client, "POST", f"/api/athletes/{ada}/targets", wrong)
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "value"
    assert "lower is better" in body["error"] and "baseline 30" in body["error"]
    backwards = {**wrong, "value": 20, "direction": ">="}
    assert send_json(client, "POST", f"/api/athletes/{ada}/targets",
                     backwards).status_code == 400
    right_side = {**wrong, "value": 20}
    made = send_json(client, "POST", f"/api/athletes/{ada}/targets", right_side)
    assert made.status_code == 201 and made.get_json()["direction"] == "<="
    hop = {"measure": "landing.tts_cop_s", "value": 1.0}  # a hop measure may be a target
    assert send_json(client, "POST", f"/api/athletes/{ada}/targets", hop).status_code == 201
