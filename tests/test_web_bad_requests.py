"""Bad requests get a clear answer, never a 500 (issue 18's web "should fix" items): `next=`
with CR/LF, deeply nested JSON, the simulated athlete's body, a Unicode digit as a
placement index, targets beyond any measure's range."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import csrf_headers, login_as, seed_history, send_json

from station.calibration.guided import SessionHolder
from station.calibration.procedure import Placement
from station.web.api import MAX_JSON_BYTES


@pytest.mark.parametrize("target", ["/athletes\r\nSet-Cookie: x=1", "/\nx", "/a\x00b"])
def test_next_with_control_characters_is_refused_not_a_crash(
    app: Flask, target: str
) -> None:
    client = app.test_client()
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 400
    assert "next" in page.get_data(as_text=True)
    headers = csrf_headers(client)
    response = client.post("/login", query_string={"next": target}, headers=headers, data={
        "username": "physio", "password": "physio-password-1"})
    assert response.status_code == 400
    response = client.post("/login", headers=headers, data={
        "username": "physio", "password": "physio-password-1", "next": target})
    assert response.status_code == 400
    assert "Set-Cookie: x" not in str(response.headers)


def test_a_normal_next_still_works(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login?next=/coach", headers=csrf_headers(client), data={
        "username": "physio", "password": "physio-password-1"})
    assert response.status_code == 302 and response.headers["Location"] == "/coach"


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_a_400(app: Flask, depth: int) -> None:
    client = login_as(app.test_client(), "physio")
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/api/athletes", data=body, content_type="application/json",
                           headers=csrf_headers(client))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "nested" in response.get_json()["error"]


def test_sim_perform_takes_its_body_through_the_api_limits(app: Flask) -> None:
    client = login_as(app.test_client(), "physio")
    huge = json.dumps({"action": "step_on", "params": {"x": "a" * (MAX_JSON_BYTES + 10)}})
    response = client.post("/api/sim/perform", data=huge, content_type="application/json",
                           headers=csrf_headers(client))
    assert response.status_code == 413, response.get_data(as_text=True)
    nested = '{"action": "step_on", "params": {"a": ' + "[" * 50_000 + "]" * 50_000 + "}}"
    response = client.post("/api/sim/perform", data=nested, content_type="application/json",
                           headers=csrf_headers(client))
    assert response.status_code == 400 and "nested" in response.get_json()["error"]
    ok = send_json(client, "POST", "/api/sim/perform", {"action": "step_on", "params": {}})
    assert ok.status_code == 200, ok.get_json()


@pytest.mark.parametrize("index", ["²", "٣", "-1", "1e3", "x", "3"])
def test_a_placement_index_that_is_not_ascii_digits_is_a_404(app: Flask, index: str) -> None:
    holder = app.extensions.setdefault("station_calibration", SessionHolder())
    session = holder.current_or_new("physio")
    for i in range(3):
        session.add_placement(Placement(20.0, 0.0, 0.0, np.full(4, 1000.0 * i), 100))
    client = login_as(app.test_client(), "physio")
    response = client.delete(f"/api/calibration/placements/{index}", headers=csrf_headers(client))
    assert response.status_code == 404, response.get_data(as_text=True)
    assert "no placement" in response.get_json()["error"]
    assert len(session.placements) == 3


@pytest.mark.parametrize("measure,value", [
    ("mean_velocity_mm_s.total", 1e308), ("mean_velocity_mm_s.total", -1e308),
    ("score", 1e9), ("score", -5), ("time_to_failure_s", 1e308), ("rms_mm", -1),
    ("f95_hz", 1e6), ("ellipse95_area_mm2", 1e300),
])
def test_targets_out_of_a_measures_range_are_refused(
    app: Flask, web_store: Any, measure: str, value: float
) -> None:
    athlete = seed_history(web_store)["athletes"][0]
    client = login_as(app.test_client(), "physio")
    response = send_json(client, "POST", f"/api/athletes/{athlete}/targets",
                         {"measure": measure, "value": value})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == "value"
    assert measure in response.get_json()["error"]


def test_plausible_targets_are_still_accepted(app: Flask, web_store: Any) -> None:
    athlete = seed_history(web_store)["athletes"][0]
    client = login_as(app.test_client(), "physio")
    for measure, value in (("mean_velocity_mm_s.total", 12.5), ("score", 80),
                           ("time_to_failure_s", 30), ("ellipse95_area_mm2", 50)):  # beyond the MDC
        response = send_json(client, "POST", f"/api/athletes/{athlete}/targets",
                             {"measure": measure, "value": value})
        assert response.status_code == 201, response.get_json()


def test_a_target_changed_to_a_value_no_measure_can_take_is_refused(
    app: Flask, web_store: Any
) -> None:
    athlete = seed_history(web_store)["athletes"][0]
    client = login_as(app.test_client(), "physio")
    made = send_json(client, "POST", f"/api/athletes/{athlete}/targets",
                     {"measure": "score", "value": 70})
    uid = made.get_json()["uid"]
    refused = send_json(client, "PATCH", f"/api/targets/{uid}", {"value": -1e308})
    assert refused.status_code == 400 and refused.get_json()["field"] == "value"
    assert send_json(client, "PATCH", f"/api/targets/{uid}", {"value": 75}).status_code == 200


def test_every_measure_has_a_range_and_real_trials_lie_inside_it(web_store: Any) -> None:
    from station.analysis.metrics.catalog import HIGHER_IS_BETTER, VALUE_RANGE, flatten, value_range

    assert set(VALUE_RANGE) == set(HIGHER_IS_BETTER) | {"score"}
    athlete = seed_history(web_store)["athletes"][0]
    checked = 0
    for row in web_store.athlete_history(athlete, metrics=True):
        for key, value in flatten(row.get("metrics") or {}).items():
            top = key.split(".", 1)[0]
            if top in VALUE_RANGE and isinstance(value, int | float) and value == value:
                low, high = value_range(key)
                assert low <= value <= high, (key, value)
                checked += 1
    assert checked > 10
