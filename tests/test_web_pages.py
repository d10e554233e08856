"""The pages render for the roles that may see them, and refuse the others."""

from __future__ import annotations

import json
import re

import pytest
from web_fixtures import *  # noqa: F403
from web_fixtures import login_as, seed_history, send_json

PAGES_BY_ROLE = {
    # path: roles that may open it
    "/kiosk": {"admin", "physio", "coach", "kiosk"},
    "/coach": {"admin", "physio", "coach"},
    "/physio": {"admin", "physio"},
    "/status": {"admin", "physio", "coach"},
    "/settings": {"admin"},
}


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert match, "page has no embedded data"
    return json.loads(match.group(1))


@pytest.mark.parametrize("role", ["admin", "physio", "coach", "kiosk"])
def test_pages_open_for_their_roles_only(client, role):
    login_as(client, role)
    for path, roles in PAGES_BY_ROLE.items():
        response = client.get(path)
        if role in roles:
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            html = response.get_data(as_text=True)
            assert "<main" in html and 'name="csrf-token"' in html
            assert "http://" not in html and "https://" not in html  # no CDN: all assets local
            for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
                assert client.get(asset).status_code == 200, asset
        else:
            assert response.status_code == 403, (path, role)


def test_pages_redirect_to_login_when_nobody_is_logged_in(client):
    for path in [*PAGES_BY_ROLE, "/", "/athletes/x", "/report/x"]:
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_home_goes_to_the_role_page(client):
    for role, home in (("coach", "/coach"), ("physio", "/physio"), ("kiosk", "/kiosk")):
        fresh = client.application.test_client()
        login_as(fresh, role)
        assert fresh.get("/").headers["Location"].endswith(home)


def test_navigation_follows_the_role(client):
    login_as(client, "coach")
    html = client.get("/coach").get_data(as_text=True)
    assert 'href="/coach"' in html and 'href="/kiosk"' in html
    assert 'href="/settings"' not in html and 'href="/physio"' not in html
    admin = client.application.test_client()
    login_as(admin, "admin")
    html = admin.get("/coach").get_data(as_text=True)
    assert 'href="/settings"' in html and 'href="/physio"' in html
    kiosk = client.application.test_client()
    login_as(kiosk, "kiosk")
    html = kiosk.get("/kiosk").get_data(as_text=True)
    assert 'class="nav"' not in html  # a kiosk has no way into history


def test_athlete_page_and_report_show_the_history(client, web_store):
    seeded = seed_history(web_store)
    ada = seeded["athletes"][0]
    login_as(client, "coach")
    data = page_data(client.get(f"/athletes/{ada}").get_data(as_text=True))
    assert data["athlete"]["name"] == "Ada Example"
    assert data["n_trials"] == 6
    left = next(s for k, s in data["series"].items() if k.startswith("single-left"))
    assert left["measures"]["mean_velocity_mm_s.total"]["y"] == [30.0, 28.0, 26.0]
    assert data["symmetry"] and data["targets"][0]["current"] == 26.0
    report = client.get(f"/report/{ada}").get_data(as_text=True)
    assert "Balance report: Ada Example" in report
    css = client.get("/static/station.css").get_data(as_text=True)
    assert "@media print" in css and "size: A4" in css
    assert "Left / right symmetry" in report and "Targets" in report
    assert client.get("/athletes/no-such-athlete").status_code == 404


def test_physio_page_embeds_the_selected_athlete(client, web_store):
    seeded = seed_history(web_store)
    login_as(client, "physio")
    data = page_data(client.get(f"/physio?athlete={seeded['athletes'][1]}").get_data(as_text=True))
    assert data["selected"]["athlete"]["name"] == "Ben Example"
    assert "baseline" in {p["id"] for p in data["protocols"]}
    assert client.get("/physio?athlete=nobody").status_code == 404


def test_coach_dashboard_flags_asymmetry_and_missed_tests(client, web_store):
    seed_history(web_store)
    login_as(client, "coach")
    data = page_data(client.get("/coach").get_data(as_text=True))
    rows = {r["name"]: r for r in data["athletes"]}
    assert rows["Ben Example"]["asymmetry"] and not rows["Ada Example"]["asymmetry"]
    assert all(r["missed"] for r in rows.values())  # the seeded tests are from 2025
    # the cards show one condition (the battery's key trial, the left leg): scores 60, 65, 70
    assert data["condition"]["label"] == "Left leg, eyes open"
    assert rows["Ada Example"]["trend_points_per_test"] == pytest.approx(5.0, abs=0.01)
    assert data["teams"] == ["U18"]


def test_kiosk_embeds_athletes_protocols_and_sim_flag(client, web_store):
    seed_history(web_store)
    login_as(client, "kiosk")
    data = page_data(client.get("/kiosk").get_data(as_text=True))
    assert [a["name"] for a in data["athletes"]] == ["Ben Example", "Ada Example"]  # recent first
    assert {p["id"] for p in data["protocols"]} >= {"single-leg-left", "baseline"}
    assert data["sim"] is True


def test_sim_perform_drives_the_simulated_athlete(client, fake_runtime):
    login_as(client, "kiosk")
    ok = send_json(client, "POST", "/api/sim/perform",
                   {"action": "lift_foot", "params": {"side": "right"}})
    assert ok.status_code == 200
    assert fake_runtime.performed == [("lift_foot", {"side": "right"})]
    bad = send_json(client, "POST", "/api/sim/perform", {"action": "lift_foot",
                                                         "params": {"side": "middle"}})
    assert bad.status_code == 400 and "side must be one of" in bad.get_json()["error"]
    trace = {"action": "follow_trace", "params": {"path": "/etc/passwd"}}
    assert send_json(client, "POST", "/api/sim/perform", trace).status_code == 400
    fake_runtime.board_kind = "hx711"
    real = send_json(client, "POST", "/api/sim/perform", {"action": "step_off"})
    assert real.status_code == 409
    assert len(fake_runtime.performed) == 1


def test_sim_perform_needs_login_and_csrf(client, fake_runtime):
    assert send_json(client, "POST", "/api/sim/perform", {"action": "step_off"}).status_code == 401
    login_as(client, "coach")
    assert client.post("/api/sim/perform", json={"action": "step_off"}).status_code == 400
    assert fake_runtime.performed == []


def test_result_card_compares_with_baseline_and_last(client, web_store):
    seeded = seed_history(web_store)
    login_as(client, "coach")
    latest_left = seeded["trials"][4]  # Ada, third session, left leg
    card = client.get(f"/api/pages/result/{latest_left}").get_json()
    velocity = next(m for m in card["measures"] if m["key"] == "mean_velocity_mm_s.total")
    assert velocity["value"] == 26.0
    assert velocity["vs_baseline"]["change"] == pytest.approx(-4.0)
    assert velocity["vs_last"]["change"] == pytest.approx(-2.0)
    assert card["baseline_date"].startswith("2025-01-06")


def test_a_kiosk_sees_no_other_result_card(client, web_store):
    seeded = seed_history(web_store)
    login_as(client, "kiosk")
    response = client.get(f"/api/pages/result/{seeded['trials'][0]}")
    assert response.status_code == 403


def test_trace_replay_data_comes_from_raw_frames(client, web_store):
    seeded = seed_history(web_store)
    login_as(client, "physio")
    trace = client.get(f"/api/pages/trace/{seeded['trials'][0]}").get_json()
    assert len(trace["t"]) == len(trace["x"]) > 100
    assert trace["t"][0] == 0.0 and 4.5 < trace["t"][-1] <= 5.0
    assert max(abs(v) for v in trace["x"]) < 250


def test_history_decimation_keeps_the_chart_small():
    import numpy as np

    from station.analysis.history.athlete_history import decimate

    t = np.arange(1000.0)
    y = np.sin(t / 50)
    out = decimate(t, y, 200)
    assert len(out["y"]) == 200
    assert min(out["lo"]) == pytest.approx(y.min()) and max(out["hi"]) == pytest.approx(y.max())
    assert decimate(t[:10], y[:10], 200)["y"] == y[:10].tolist()


def test_report_pdf_is_printed_by_chromium(client, web_store):
    from station.web.views.page_pdf import chromium_path

    if chromium_path() is None:
        pytest.skip("chromium not installed")
    seeded = seed_history(web_store)
    login_as(client, "coach")
    response = client.get(f"/report/{seeded['athletes'][0]}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and len(response.data) > 10_000
    assert 'filename="report-Ada-Example.pdf"' in response.headers["Content-Disposition"]
    assert client.get("/report/nobody.pdf").status_code == 404


def test_report_pdf_without_chromium_says_what_to_do(client, web_store, monkeypatch):
    seeded = seed_history(web_store)
    monkeypatch.setenv("BALANCE_STATION_CHROMIUM", "/nonexistent/chromium")
    login_as(client, "coach")
    response = client.get(f"/report/{seeded['athletes'][0]}.pdf")
    assert response.status_code == 503
    assert "Print / save as PDF" in response.get_data(as_text=True)


def test_history_marks_dates_recorded_without_a_set_clock(web_store):
    """A Pi without RTC may record before NTP: its dates are flagged, not trusted."""
    from station.analysis.history import history_view

    ids = seed_history(web_store)
    athlete = ids["athletes"][0]
    rows = web_store.athlete_history(athlete)
    rows[-1] = {**rows[-1], "clock_synced": False}
    table = history_view(web_store, athlete, rows)["trials"]
    assert table[0]["clock_synced"] is False  # newest first
    assert all(row["clock_synced"] for row in table[1:])


def test_coach_page_embeds_what_api_team_returns(client, web_store):
    """One function computes the team overview: the page and its JSON twin cannot drift."""
    seed_history(web_store)
    login_as(client, "coach")
    for query in ("", "?missed_days=7"):
        page = page_data(client.get(f"/coach{query}").get_data(as_text=True))
        assert page == client.get(f"/api/team{query}").get_json()
    assert page["missed_days"] == 7 and page["athletes"][0]["missed"] is True


def test_history_pages_embed_the_read_model_and_share_it_with_their_twins(client, web_store):
    from station.analysis import history

    seeded = seed_history(web_store)
    ada, latest_left = seeded["athletes"][0], seeded["trials"][4]
    login_as(client, "physio")
    page = page_data(client.get(f"/athletes/{ada}").get_data(as_text=True))
    assert page.pop("can_edit_log") is True
    assert page.pop("can_edit_records") is True  # the records buttons (a physio's)
    assert page == history.history_view(web_store, ada)
    physio = page_data(client.get(f"/physio?athlete={ada}").get_data(as_text=True))
    assert physio["selected"]["targets"] == page["targets"]
    assert client.get(f"/api/athletes/{ada}/targets").get_json()["targets"] == page["targets"]
    card = client.get(f"/api/pages/result/{latest_left}").get_json()
    assert card == history.result_card(web_store, latest_left)
    comparison = client.get(f"/api/trials/{latest_left}").get_json()["comparison"]
    assert comparison["measures"] == card["measures"]
    assert comparison["baseline_date"] == card["baseline_date"]
    report = page_data(client.get(f"/report/{ada}").get_data(as_text=True))
    direct = history.report_view(web_store, ada)
    assert report.pop("generated")[:10] == direct.pop("generated")[:10]
    assert report == direct
