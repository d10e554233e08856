"""The JSON API: what each endpoint returns, on a real temporary store and a fake runtime."""

from __future__ import annotations

import csv
import io
import types

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_headers_for, login_as, make_app, seed_history, send_json

from station.store.records import SessionRecord, TrialRecord
from station.web.openapi import document
from station.web.routes import declared_routes, undeclared_routes


@pytest.fixture
def seeded(app: Flask, web_store) -> dict:
    return seed_history(web_store)


@pytest.fixture
def physio(app: Flask) -> FlaskClient:
    return login_as(app.test_client(), "physio")


def test_health_needs_no_login_and_carries_no_personal_data(app: Flask, seeded, physio) -> None:
    assert app.test_client().get("/api/health").get_json() == {"status": "ok"}  # public
    response = physio.get("/api/health")  # logged in: the station's whole health
    assert response.status_code == 200
    body = response.get_json()
    for key in (
        "version",
        "board",
        "calibrated",
        "achieved_rate_hz",
        "frames_discarded",
        "uptime_s",
        "disk_free_mb",
    ):
        assert key in body, key
    text = response.get_data(as_text=True)
    assert "Example" not in text and "U18" not in text


def test_athlete_crud_round_trip(physio: FlaskClient, web_store) -> None:
    made = send_json(
        physio,
        "POST",
        "/api/athletes",
        {"name": "  Cara Test ", "team": "U16", "dominant_leg": "right", "birth_year": 2010},
    )
    assert made.status_code == 201
    athlete = made.get_json()
    assert athlete["name"] == "Cara Test" and athlete["created_at"].startswith("20")
    uid = athlete["uid"]
    changed = send_json(physio, "PATCH", f"/api/athletes/{uid}", {"team": None, "notes": "ACL"})
    assert changed.status_code == 200
    assert changed.get_json()["team"] is None and changed.get_json()["notes"] == "ACL"
    listed = physio.get("/api/athletes?q=cara").get_json()["athletes"]
    assert [a["uid"] for a in listed] == [uid]
    web_store.create_session(SessionRecord(athlete_uid=uid))
    deleted = send_json(physio, "DELETE", f"/api/athletes/{uid}", None)
    assert deleted.status_code == 200
    what = deleted.get_json()["deleted"]
    assert what["name"] == "Cara Test" and what["athletes"] == 1 and what["sessions"] == 1
    assert physio.get(f"/api/athletes/{uid}").status_code == 404


def test_kiosk_sees_only_names_of_active_athletes(app: Flask, seeded, web_store) -> None:
    web_store.update_athlete(seeded["athletes"][1], active=False)
    kiosk = login_as(app.test_client(), "kiosk")
    athletes = kiosk.get("/api/athletes").get_json()["athletes"]
    assert athletes == [{"uid": seeded["athletes"][0], "name": "Ada Example", "team": "U18"}]
    coach = login_as(app.test_client(), "coach")
    assert len(coach.get("/api/athletes").get_json()["athletes"]) == 2


def test_history_is_decimated_on_the_server(app: Flask, seeded, web_store) -> None:
    uid = seeded["athletes"][0]
    session = web_store.list_sessions(uid)[0].uid
    for seq in range(40):
        web_store.save_trial(
            TrialRecord(
                session_uid=session,
                seq=10 + seq,
                stance="double",
                eyes="open",
                surface="firm",
                planned_duration_s=5,
                outcome="complete",
                duration_s=5,
                score=float(seq),
            )
        )
    client = login_as(app.test_client(), "coach")
    full = client.get(f"/api/athletes/{uid}/history").get_json()
    assert full["n_trials"] == 46 and len(full["trials"]) == 46 and not full["decimated"]
    small = client.get(f"/api/athletes/{uid}/history?max_points=10&measure=score").get_json()
    assert small["decimated"] and len(small["trials"]) == 10
    assert small["trials"][0]["uid"] == full["trials"][0]["uid"]
    assert small["trials"][-1]["uid"] == full["trials"][-1]["uid"]
    assert all("value" in row for row in small["trials"])
    left = client.get(
        f"/api/athletes/{uid}/history?condition=single-left · eyes open · firm"
    ).get_json()
    assert left["n_trials"] == 3 and {r["stance"] for r in left["trials"]} == {"single-left"}


def test_sessions_and_their_log(physio: FlaskClient, seeded, web_store) -> None:
    uid = seeded["athletes"][0]
    made = send_json(
        physio, "POST", f"/api/athletes/{uid}/sessions", {"stiffness": 4, "sleep_hours": 7.5}
    )
    assert made.status_code == 201
    session = made.get_json()
    assert session["operator"] == "physio" and session["stiffness"] == 4
    changed = send_json(
        physio, "PATCH", f"/api/sessions/{session['uid']}", {"soreness": 8, "notes": "tight calf"}
    )
    assert changed.status_code == 200
    mine = next(s for s in web_store.list_sessions(uid) if s.uid == session["uid"])
    assert (mine.soreness, mine.notes, mine.stiffness) == (8, "tight calf", 4)
    listed = physio.get(f"/api/athletes/{uid}/sessions").get_json()["sessions"]
    assert len(listed) == 4
    assert send_json(physio, "PATCH", "/api/sessions/nope", {"soreness": 1}).status_code == 404


def test_targets_with_progress(physio: FlaskClient, seeded) -> None:
    uid = seeded["athletes"][0]
    made = send_json(
        physio,
        "POST",
        f"/api/athletes/{uid}/targets",
        {"measure": "score", "value": 90, "due_date": "2099-01-01"},
    )
    assert made.status_code == 201
    target = made.get_json()
    assert target["direction"] == ">=" and target["set_by"] == "physio"
    sway = send_json(
        physio,
        "POST",
        f"/api/athletes/{uid}/targets",
        {"measure": "mean_velocity_mm_s.total", "value": 15.0},
    )
    assert sway.get_json()["direction"] == "<="
    listed = physio.get(f"/api/athletes/{uid}/targets").get_json()["targets"]
    seeded_target = next(t for t in listed if t["uid"] == seeded["targets"][0])
    # baseline = first trial (left leg, 30 mm/s), current = latest (26 mm/s), target 20 mm/s
    assert seeded_target["baseline"] == 30.0 and seeded_target["current"] == 26.0
    assert seeded_target["fraction"] == pytest.approx(0.4)
    changed = send_json(physio, "PATCH", f"/api/targets/{target['uid']}", {"value": 80})
    assert changed.status_code == 200
    assert send_json(physio, "DELETE", f"/api/targets/{target['uid']}", None).status_code == 200
    assert send_json(physio, "DELETE", f"/api/targets/{target['uid']}", None).status_code == 404
    bad = send_json(
        physio, "POST", f"/api/athletes/{uid}/targets", {"measure": "speed_of_light", "value": 1}
    )
    assert bad.status_code == 400 and bad.get_json()["field"] == "measure"


def test_trial_detail_compares_with_baseline_and_previous(app: Flask, seeded) -> None:
    client = login_as(app.test_client(), "coach")
    latest_left = seeded["trials"][4]  # athlete 0, third session, left leg
    body = client.get(f"/api/trials/{latest_left}").get_json()
    assert body["stance"] == "single-left" and body["metrics"]["mean_velocity_mm_s"]["total"] == 26
    velocity = next(
        m for m in body["comparison"]["measures"] if m["key"] == "mean_velocity_mm_s.total"
    )
    assert velocity["vs_baseline"]["reference"] == 30.0
    assert velocity["vs_baseline"]["change"] == -4.0
    assert velocity["vs_last"]["reference"] == 28.0
    assert body["comparison"]["baseline_date"].startswith("2025-01-06")
    assert client.get("/api/trials/not-a-trial").status_code == 404


def test_csv_downloads(app: Flask, seeded, web_store) -> None:
    client = login_as(app.test_client(), "coach")
    uid = seeded["trials"][0]
    n = web_store.load_trial(uid).raw.n
    tables = {}
    for kind in ("raw", "cop", "forces"):
        response = client.get(f"/api/trials/{uid}/{kind}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert f"{uid}-{kind}.csv" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) == n + 1
        tables[kind] = rows
    assert tables["raw"][0] == ["t_s", "counts_c0", "counts_c1", "counts_c2", "counts_c3", "flags"]
    assert tables["cop"][0] == ["t_s", "force_n", "cop_x_mm", "cop_y_mm"]
    # a 75 kg simulated athlete stands on the board: force ~ 736 N, COP inside the cells
    forces = [float(r[1]) for r in tables["cop"][1:] if r[1]]
    assert 650 < sum(forces) / len(forces) < 820
    xs = [abs(float(r[2])) for r in tables["cop"][1:] if r[2]]
    assert xs and max(xs) < 200
    kiosk = login_as(app.test_client(), "kiosk")
    assert kiosk.get(f"/api/trials/{uid}/raw.csv").status_code == 403


def test_team_dashboard_flags_asymmetry_and_trend(app: Flask, seeded) -> None:
    client = login_as(app.test_client(), "coach")
    body = client.get("/api/team").get_json()
    rows = {r["name"]: r for r in body["athletes"]}
    # Ben's right leg sways 32 mm/s against 26 on the left: LSI 81 % < 85
    assert rows["Ben Example"]["velocity_lsi_pct"] == pytest.approx(100 * 26 / 32, abs=0.05)
    assert rows["Ben Example"]["asymmetry"] is True
    assert rows["Ada Example"]["velocity_lsi_pct"] == pytest.approx(100.0)
    assert rows["Ada Example"]["asymmetry"] is False
    assert rows["Ada Example"]["latest_score"] == 70.0
    assert rows["Ada Example"]["trend_points_per_test"] > 0
    assert rows["Ada Example"]["days_since_last_test"] > 300
    assert body["teams"] == ["U18"]
    assert client.get("/api/team?team=U99").get_json()["athletes"] == []
    lenient = client.get("/api/team?lsi_threshold_pct=50").get_json()
    assert not any(r["asymmetry"] for r in lenient["athletes"])


def test_protocols_and_calibration(app: Flask) -> None:
    client = login_as(app.test_client(), "kiosk")
    protocols = client.get("/api/protocols").get_json()["protocols"]
    assert "baseline" in {p["id"] for p in protocols}
    assert client.get("/api/calibration").get_json()["status"] == "calibrated"


def test_running_a_trial_start_abort_and_errors(app: Flask, seeded, fake_runtime) -> None:
    client = login_as(app.test_client(), "coach")
    athlete = seeded["athletes"][0]
    start = {"protocol": "single-leg-left", "trial": "left-open-firm", "athlete_uid": athlete}
    assert send_json(client, "POST", "/api/trials/current/abort", {}).status_code == 409
    started = send_json(client, "POST", "/api/trials/start", start)
    assert started.status_code == 201
    assert started.get_json()["status"]["protocol"] == "single-leg-left"
    again = send_json(client, "POST", "/api/trials/start", start)
    assert again.status_code == 409 and "already running" in again.get_json()["error"]
    current = client.get("/api/trials/current").get_json()
    assert current["status"]["trial_id"] == "left-open-firm"
    assert send_json(client, "POST", "/api/trials/current/abort", {}).status_code == 200
    fake_runtime.trials.wait_idle()
    last = client.get("/api/trials/current").get_json()["last_result"]
    assert last["athlete_uid"] == athlete and last["outcome"]["state"] == "aborted"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"protocol": "nope", "trial": "left-open-firm"}, "protocol"),
        ({"protocol": "single-leg-left", "trial": "nope"}, "trial"),
        (
            {"protocol": "single-leg-left", "trial": "left-open-firm", "athlete_uid": "x"},
            "athlete_uid",
        ),
        (
            {"protocol": "single-leg-left", "trial": "left-open-firm", "session_uid": "x"},
            "athlete_uid",
        ),
        (
            {"protocol": "single-leg-left", "trial": "left-open-firm", "duration_s": 0.1},
            "duration_s",
        ),
    ],
)
def test_trial_start_refusals_name_the_field(client: FlaskClient, body, field) -> None:
    login_as(client, "coach")
    response = send_json(client, "POST", "/api/trials/start", body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_uncalibrated_station_refuses_trials(app: Flask, fake_runtime) -> None:
    fake_runtime.calibrated = False
    response = app.test_client().post(
        "/api/trials/start",
        json={"protocol": "single-leg-left", "trial": "left-open-firm"},
        headers=api_headers_for(app, "coach"),
    )
    assert response.status_code == 409 and "not calibrated" in response.get_json()["error"]


def test_kiosk_sees_the_result_of_its_own_trial_only(app: Flask, seeded, fake_runtime) -> None:
    kiosk = login_as(app.test_client(), "kiosk")
    other_kiosk = login_as(app.test_client(), "kiosk")
    start = {
        "protocol": "single-leg-right",
        "trial": "right-open-firm",
        "duration_s": 15,
        "athlete_uid": seeded["athletes"][1],
    }
    assert send_json(kiosk, "POST", "/api/trials/start", start).status_code == 201
    fake_runtime.play_scenario("single_leg_hold")
    mine = kiosk.get("/api/trials/current").get_json()["last_result"]
    assert mine["outcome"]["completed"] and 0 < mine["score"] <= 100
    result = kiosk.get(f"/api/trials/{mine['trial_uid']}")
    assert result.status_code == 200
    assert result.get_json()["metrics"]["mean_velocity_mm_s"]["total"] > 0
    assert kiosk.get(f"/api/trials/{seeded['trials'][0]}").status_code == 403
    assert other_kiosk.get("/api/trials/current").get_json()["last_result"] is None
    assert other_kiosk.get(f"/api/trials/{mine['trial_uid']}").status_code == 403
    assert kiosk.get(f"/api/athletes/{seeded['athletes'][1]}/history").status_code == 403


def test_admin_manages_users_and_tokens(app: Flask, web_store) -> None:
    admin = login_as(app.test_client(), "admin")
    made = send_json(
        admin,
        "POST",
        "/api/users",
        {"username": "dora", "role": "physio", "password": "dora-password"},
    )
    assert made.status_code == 201 and made.get_json()["role"] == "physio"
    assert "password_hash" not in made.get_data(as_text=True)
    dup = send_json(
        admin,
        "POST",
        "/api/users",
        {"username": "dora", "role": "physio", "password": "dora-password"},
    )
    assert dup.status_code == 409
    short = send_json(
        admin, "POST", "/api/users", {"username": "eve", "role": "coach", "password": "short"}
    )
    assert short.status_code == 400 and short.get_json()["field"] == "password"
    assert send_json(admin, "PATCH", "/api/users/admin", {"role": "coach"}).status_code == 409
    assert send_json(admin, "DELETE", "/api/users/admin", None).status_code == 409
    assert send_json(admin, "PATCH", "/api/users/dora", {"role": "coach"}).status_code == 200
    assert web_store.get_user("dora").role == "coach"
    token = send_json(admin, "POST", "/api/tokens", {"role": "coach", "name": "export script"})
    assert token.status_code == 201
    secret = token.get_json()["token"]
    assert (
        app.test_client()
        .get("/api/team", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 200
    )
    listed = admin.get("/api/tokens").get_json()["tokens"]
    assert secret not in str(listed) and listed[0]["name"] == "export script"
    assert send_json(admin, "DELETE", f"/api/tokens/{listed[0]['uid']}", None).status_code == 200
    assert send_json(admin, "DELETE", "/api/users/dora", None).status_code == 200


def test_unknown_paths_and_methods_answer_json(client: FlaskClient) -> None:
    login_as(client, "coach")
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.is_json
    method = client.put("/api/athletes", headers={"X-CSRF-Token": "x"})
    assert method.status_code in (400, 405) and method.is_json


def test_every_api_route_has_a_declaration(app: Flask) -> None:
    assert undeclared_routes(app) == []
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            routes |= {(m, rule.rule) for m in rule.methods - {"HEAD", "OPTIONS"}}
    declared = {(r.method, r.rule) for r in declared_routes(app)}
    assert declared == routes
    assert len(routes) >= 45  # the station's API (a lost views module would show here)


def test_an_undeclared_api_route_stops_the_app(fake_runtime, web_store) -> None:
    def register(app: Flask) -> None:
        @app.get("/api/undocumented")
        def undocumented() -> str:
            return "{}"

    module = types.ModuleType("undeclared_view")
    module.register = register  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="GET /api/undocumented"):
        make_app(fake_runtime, web_store, views=(module,))


def test_openapi_is_made_from_the_declarations(app: Flask) -> None:
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc == document(app)
    declared = declared_routes(app)
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(r.method.lower(), r.path) for r in declared}
    for route in declared:
        op = doc["paths"][route.path][route.method.lower()]
        assert op["summary"] == route.summary and op["tags"] == [route.tag]
        assert op.get("x-capabilities", []) == list(route.needs)
        if route.body is not None:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert set(schema["properties"]) == set(route.body)
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        assert names == list(route.query)
    assert doc["paths"]["/api/athletes/{uid}"]["patch"]["requestBody"]["required"] is False
    assert "201" in doc["paths"]["/api/athletes"]["post"]["responses"]


def test_declared_capabilities_are_the_enforced_ones(app: Flask) -> None:
    """Each route's declared `needs` is what its view's guard asks (the live stream too)."""
    declared = {(r.method, r.rule): r for r in declared_routes(app)}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            enforced = getattr(view, "required_capabilities", ())
            assert declared[(method, rule.rule)].needs == tuple(enforced), rule.rule


def test_me_tells_who_and_gives_the_csrf_token(app: Flask) -> None:
    client = login_as(app.test_client(), "coach")
    me = client.get("/api/me").get_json()
    assert (me["username"], me["role"], me["via"]) == ("coach", "coach", "session")
    assert "view_history" in me["capabilities"] and "edit_athletes" not in me["capabilities"]
    posted = client.post(
        "/api/athletes/none/sessions", json={}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert posted.status_code == 404  # past the CSRF check: the athlete does not exist
    token = app.test_client().get("/api/me", headers=api_headers_for(app, "kiosk")).get_json()
    assert token["via"] == "token" and token["csrf_token"] is None
    assert app.test_client().get("/api/me").status_code == 401
