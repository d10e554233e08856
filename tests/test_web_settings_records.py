"""Station settings on the Settings page (checked by the config schema, stored over the
file, logged) and corrections to the record (archive athletes, invalidate trials)."""

from __future__ import annotations

from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import login_as, seed_history, send_json

from station.store import Athlete, SessionRecord


def _admin(app: Flask):
    return login_as(app.test_client(), "admin")


def test_the_settings_page_shows_station_settings_and_the_hold_thresholds(app: Flask) -> None:
    client = _admin(app)
    page = client.get("/settings").get_data(as_text=True)
    assert 'id="h-station"' in page and 'href="/docs/hold-engine.md"' in page
    view = client.get("/api/settings").get_json()
    names = [s["name"] for s in view["settings"]]
    assert names == ["station.name", "station.default_duration_s", "board.demo",
                     "storage.raw_frames_months", "storage.backup_dir", "storage.backup_keep"]
    assert all(s["from"] == "config" and s["takes_effect"] for s in view["settings"])
    assert view["hold"] and all({"name", "value", "default", "doc"} <= set(h) for h in view["hold"])
    doc = client.get("/docs/hold-engine.md")
    assert doc.status_code == 200 and doc.mimetype == "text/plain"
    assert client.get("/docs/../pyproject.toml").status_code == 404
    assert client.get("/docs/storage.md").status_code == 404  # only the linked ones


def test_a_change_is_checked_by_the_schema_stored_shown_and_logged(app: Flask, web_store) -> None:
    client = _admin(app)
    bad = send_json(client, "PATCH", "/api/settings", {"storage.backup_keep": 0})
    assert bad.status_code == 400
    assert bad.get_json() == {
        "error": "storage.backup_keep must be an integer from 1 to 1000 (got 0)",
        "field": "storage.backup_keep",
    }
    wrong_type = send_json(client, "PATCH", "/api/settings", {"board.demo": "yes"})
    assert wrong_type.status_code == 400 and wrong_type.get_json()["field"] == "board.demo"
    unknown = send_json(client, "PATCH", "/api/settings", {"server.port": 80})
    assert unknown.status_code == 400 and unknown.get_json()["field"] == "server.port"
    assert web_store.config_overrides() == {}  # nothing half-applied
    done = send_json(client, "PATCH", "/api/settings",
                     {"station.name": "Riverside FC", "storage.backup_keep": 3})
    assert done.status_code == 200
    rows = {s["name"]: s for s in done.get_json()["settings"]}
    assert (rows["station.name"]["value"], rows["station.name"]["from"]) == ("Riverside FC",
                                                                             "page")
    assert rows["storage.backup_keep"]["file_value"] == 10
    assert web_store.config_overrides() == {"station.name": "Riverside FC",
                                            "storage.backup_keep": 3}
    page = client.get("/coach").get_data(as_text=True)
    assert '<a class="brand" href="/">Riverside FC</a>' in page  # every page's header
    assert "<title>Team · Riverside FC</title>" in page
    logged = [(e.kind, e.actor, e.subject, e.detail) for e in web_store.security_log()
              if e.kind == "setting_changed"]
    assert ("setting_changed", "admin", "station.name", '"Balance Station" -> "Riverside FC"') \
        in logged
    back = send_json(client, "PATCH", "/api/settings", {"station.name": None})
    assert {s["name"]: s for s in back.get_json()["settings"]}["station.name"]["from"] == "config"
    assert "station.name" not in web_store.config_overrides()


def test_only_the_admin_changes_settings(app: Flask) -> None:
    physio = login_as(app.test_client(), "physio")
    assert physio.get("/api/settings").status_code == 403
    assert send_json(physio, "PATCH", "/api/settings", {"station.name": "X"}).status_code == 403
    assert send_json(physio, "POST", "/api/demo/remove", {}).status_code == 403


def test_remove_demo_data_keeps_real_athletes_and_switches_the_demo_off(app, web_store) -> None:
    seeded = seed_history(web_store)
    demo = web_store.add_athlete(Athlete(name="Demo · Alex", demo=True))
    web_store.create_session(SessionRecord(athlete_uid=demo))
    client = _admin(app)
    assert client.get("/api/settings").get_json()["demo"]["athletes"] == 1
    response = send_json(client, "POST", "/api/demo/remove", {})
    assert response.status_code == 200
    body = response.get_json()
    assert body["removed"]["athletes"] == 1 and body["demo"]["athletes"] == 0
    assert {a.uid for a in web_store.list_athletes()} == set(seeded["athletes"])
    assert web_store.config_overrides()["board.demo"] is False
    assert {s["name"]: s for s in body["settings"]}["board.demo"]["value"] is False


def test_a_physio_archives_and_restores_an_athlete(app: Flask, web_store) -> None:
    seeded = seed_history(web_store)
    uid = seeded["athletes"][0]
    physio = login_as(app.test_client(), "physio")
    response = send_json(physio, "POST", f"/api/athletes/{uid}/archive", {})
    assert response.status_code == 200 and response.get_json()["archived"] is True
    assert uid not in {a.uid for a in web_store.list_athletes(active_only=True)}
    assert physio.get(f"/api/athletes/{uid}/history").status_code == 200  # history kept
    back = send_json(physio, "POST", f"/api/athletes/{uid}/unarchive", {})
    assert back.get_json()["archived"] is False
    assert [e.kind for e in web_store.security_log()][:2] == ["athlete_restored",
                                                              "athlete_archived"]
    coach = login_as(app.test_client(), "coach")
    assert send_json(coach, "POST", f"/api/athletes/{uid}/archive", {}).status_code == 403
    assert send_json(physio, "POST", "/api/athletes/nope/archive", {}).status_code == 404


def test_a_bad_trial_is_invalidated_with_its_reason_and_restored(app: Flask, web_store) -> None:
    seeded = seed_history(web_store)
    trial = seeded["trials"][0]
    physio = login_as(app.test_client(), "physio")
    empty = send_json(physio, "POST", f"/api/trials/{trial}/invalidate", {"reason": " "})
    assert empty.status_code == 400 and empty.get_json()["field"] == "reason"
    done = send_json(physio, "POST", f"/api/trials/{trial}/invalidate",
                     {"reason": "stepped off early"})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["invalid"], body["invalid_reason"], body["invalidated_by"]) == (
        True, "stepped off early", "physio")
    row = next(r for r in web_store.athlete_history(seeded["athletes"][0]) if r["uid"] == trial)
    assert (row["invalid"], row["invalid_reason"]) == (True, "stepped off early")
    again = send_json(physio, "POST", f"/api/trials/{trial}/revalidate", {})
    assert again.get_json()["invalid"] is False
    missing = send_json(physio, "POST", "/api/trials/nope/invalidate", {"reason": "x"})
    assert missing.status_code == 404
    coach = login_as(app.test_client(), "coach")
    refused = send_json(coach, "POST", f"/api/trials/{trial}/invalidate", {"reason": "x"})
    assert refused.status_code == 403


def test_the_default_hold_is_there_for_the_trial_start(app: Flask) -> None:
    from station.web.views.api_settings import default_duration_s

    client = _admin(app)
    with app.app_context():
        assert default_duration_s() is None  # 0: the protocol's own
    assert send_json(client, "PATCH", "/api/settings",
                     {"station.default_duration_s": 20}).status_code == 200
    with app.app_context():
        assert default_duration_s() == 20.0
    too_long = send_json(client, "PATCH", "/api/settings", {"station.default_duration_s": 121})
    assert too_long.get_json()["field"] == "station.default_duration_s"
