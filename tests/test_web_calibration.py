"""The guided calibration page's API (/api/calibration/...) on a simulated board.

`BoardRuntime` is the web fixtures' FakeRuntime whose history is fed by a thread, as the
station's reader thread would: raw counts of the default simulated board's cells
(station.board.sim.default_cell_model, with HX711 noise) for whatever the test has put on
the board (a still point mass, or a moving load). Frames are written faster than real
time with 80 Hz timestamps, so a 2.5 s capture takes ~0.1 s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import PASSWORDS, FakeRuntime, api_headers_for, login_as, make_app, send_json

from station import access
from station.board.sim.engine import default_cell_model
from station.calibration.file import load_calibration
from station.calibration.guided import capture_counts
from station.calibration.procedure import G
from station.calibration.simulate import DEFAULT_MARKS
from station.geometry import DEFAULT_LAYOUT, forces_from_cop
from station.web import auth
from station.web.views.api_calibration import PLACEMENT_FIELDS

RATE_HZ = 80.0


class BoardRuntime(FakeRuntime):
    """FakeRuntime + frames in `history` for what is on the board, + reload_calibration."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.model = default_cell_model()
        self.rng = np.random.default_rng(7)
        self.load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # kg, x mm, y mm
        self.moving = False
        self.feeding = True
        self.reloaded: list[Path] = []
        self._t = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def put(self, mass_kg: float, x_mm: float = 0.0, y_mm: float = 0.0) -> None:
        self.load = (mass_kg, x_mm, y_mm)

    def _feed(self) -> None:
        while not self._stop.wait(0.005):
            if not self.feeding:
                continue
            mass, x, y = self.load
            n = 20
            t = self._t + np.arange(n) / RATE_HZ
            forces = forces_from_cop(mass * G, np.array([x, y]), DEFAULT_LAYOUT.positions)
            forces = np.broadcast_to(forces, (n, 4)).copy()
            if self.moving:  # someone's hand on the board: +-50 N swings
                forces += 50.0 * np.sin(2 * np.pi * 1.5 * t)[:, None]
            counts = self.model.counts(forces, t, self.rng)
            for ti, row in zip(t, counts, strict=True):
                self.history.append(float(ti), tuple(int(c) for c in row), float("nan"),
                                    (float("nan"), float("nan")))
            self._t += n / RATE_HZ

    def reload_calibration(self, path: Path) -> str | None:
        self.reloaded.append(Path(path))
        self.calibration = load_calibration(path)
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        super().close()


class ReloadFailsRuntime(BoardRuntime):
    """A station that cannot load the file it was given (it keeps its calibration)."""

    def reload_calibration(self, path: Path) -> str | None:
        self.reloaded.append(Path(path))
        return "the file is unreadable"


@pytest.fixture
def board(web_store: Any) -> Iterator[BoardRuntime]:
    runtime = BoardRuntime(web_store)
    yield runtime
    runtime.close()


def _app(
    runtime: Any, web_store: Any, tmp_path: Path, *, configured: bool = True
) -> Flask:
    """The station app; `configured`: it has a calibration file path (data/calibration.json)."""
    path = tmp_path / "data" / "calibration.json" if configured else None
    app = make_app(runtime, web_store, tmp_path / "data", calibration_path=path)
    for role, password in PASSWORDS.items():
        if web_store.get_user(role) is None:
            access.create_user(web_store, role, role, password)
    return app


@pytest.fixture
def cal_app(board: BoardRuntime, web_store: Any, tmp_path: Path) -> Flask:
    return _app(board, web_store, tmp_path)


@pytest.fixture
def physio(cal_app: Flask) -> FlaskClient:
    return login_as(cal_app.test_client(), "physio")


def post(client: FlaskClient, url: str, body: Any = None) -> Any:
    return send_json(client, "POST", url, {} if body is None else body)


def place(client: FlaskClient, board: BoardRuntime, mass: float, x: float, y: float) -> Any:
    board.put(mass, x, y)
    response = post(client, "/api/calibration/placements",
                    {"mass_kg": mass, "x_mm": x, "y_mm": y})
    board.put(0.0)
    return response


def test_full_flow_tare_placements_fit_save_verify(
    cal_app: Flask, physio: FlaskClient, board: BoardRuntime, tmp_path: Path
) -> None:
    assert physio.get("/api/calibration/session").get_json()["session"] is None
    tared = post(physio, "/api/calibration/tare")
    assert tared.status_code == 200, tared.get_json()
    session = tared.get_json()["session"]
    assert session["started_by"] == "physio" and session["next_step"] == "placements"
    # the tare is the model's offsets (noise 39 counts rms over ~160 frames)
    assert np.allclose(session["tare"]["offsets_counts"], board.model.offset_counts, atol=20)
    assert abs(session["tare"]["load_kg"]) < 0.1  # checked against the station's calibration
    for x, y in DEFAULT_MARKS:
        response = place(physio, board, 20.0, x, y)
        assert response.status_code == 200, response.get_json()
    placements = response.get_json()["session"]["placements"]
    assert [(p["x_mm"], p["y_mm"]) for p in placements] == list(DEFAULT_MARKS)
    assert all(p["n_frames"] >= 150 for p in placements)  # ~2 s at 80 Hz, settling skipped

    fitted = post(physio, "/api/calibration/fit")
    assert fitted.status_code == 200, fitted.get_json()
    fit = fitted.get_json()["session"]["fit"]
    gains = np.array(fit["newtons_per_count"])
    # one mass: a linear fit; the model's 0.5 % full-scale non-linearity at ~50 N per cell
    # changes the slope by ~0.05 %
    assert fit["summary"]["quadratic"] is False
    assert np.allclose(gains, board.model.newtons_per_count, rtol=0.003), (
        gains / board.model.newtons_per_count
    )
    assert len(fit["positions"]) == 5
    assert all(abs(r["force_error_pct"]) < 0.2 and r["cop_error_mm"] < 2 for r in fit["positions"])

    saved = post(physio, "/api/calibration/save", {"board": "web-board"})
    assert saved.status_code == 200, saved.get_json()
    path = tmp_path / "data" / "calibration.json"
    assert saved.get_json()["session"]["saved"]["path"] == str(path)
    assert "uses it now" in saved.get_json()["session"]["saved"]["message"]
    assert board.reloaded == [path]
    written = load_calibration(path)
    assert written.board == "web-board"
    assert np.allclose(written.newtons_per_count, gains)
    assert written.residuals["n_placements"] == 5 and written.verification is None

    board.put(50.0, 50.0, -30.0)
    verified = post(physio, "/api/calibration/verify", {"mass_kg": 50, "x_mm": 50, "y_mm": -30})
    assert verified.status_code == 200, verified.get_json()
    v = verified.get_json()["verification"]
    assert abs(v["measured_mass_kg"] - 50.0) < 0.1 and v["cop_error_mm"] < 2.0
    assert verified.get_json()["session"]["next_step"] == "done"
    stored = load_calibration(path).verification
    assert stored is not None and stored["measured_mass_kg"] == v["measured_mass_kg"]

    assert post(physio, "/api/calibration/cancel").get_json()["session"] is None
    assert load_calibration(path).board == "web-board"  # cancelling keeps the saved file


def test_tare_refuses_a_moving_load_and_a_loaded_board(
    physio: FlaskClient, board: BoardRuntime
) -> None:
    board.moving = True
    response = post(physio, "/api/calibration/tare")
    assert response.status_code == 409
    assert "load is moving" in response.get_json()["error"]
    assert physio.get("/api/calibration/session").get_json()["session"] is None
    board.moving = False
    board.put(20.0)
    response = post(physio, "/api/calibration/tare")
    assert response.status_code == 409
    assert "board not empty: 20.0 kg" in response.get_json()["error"]


def test_placement_refusals(physio: FlaskClient, board: BoardRuntime) -> None:
    response = post(physio, "/api/calibration/placements", {"mass_kg": 20, "x_mm": 0, "y_mm": 0})
    assert response.status_code == 409 and "tare" in response.get_json()["error"]
    assert post(physio, "/api/calibration/tare").status_code == 200
    board.put(20.0)
    board.moving = True
    response = post(physio, "/api/calibration/placements", {"mass_kg": 20, "x_mm": 0, "y_mm": 0})
    assert response.status_code == 409 and "load is moving" in response.get_json()["error"]
    assert physio.get("/api/calibration/session").get_json()["session"]["placements"] == []


def test_fit_refusals_and_removing_a_placement(physio: FlaskClient, board: BoardRuntime) -> None:
    assert post(physio, "/api/calibration/fit").status_code == 409  # nothing tared
    assert post(physio, "/api/calibration/tare").status_code == 200
    place(physio, board, 20.0, 0.0, 0.0)
    response = post(physio, "/api/calibration/fit")
    assert response.status_code == 409
    assert "too few" in response.get_json()["error"]
    for x, y in DEFAULT_MARKS[1:]:
        place(physio, board, 20.0, x, y)
    # a mass entered wrongly (the board carries 20 kg, 30 entered) makes the fit refuse
    board.put(20.0, 0.0, 0.0)
    post(physio, "/api/calibration/placements", {"mass_kg": 30.0, "x_mm": 0, "y_mm": 0})
    refused = post(physio, "/api/calibration/fit")
    assert refused.status_code == 409 and "wrong mass entered" in refused.get_json()["error"]
    # remove it (index 5) and the fit goes through
    removed = send_json(physio, "DELETE", "/api/calibration/placements/5", None)
    assert removed.status_code == 200
    assert len(removed.get_json()["session"]["placements"]) == 5
    assert send_json(physio, "DELETE", "/api/calibration/placements/9", None).status_code == 404
    assert send_json(physio, "DELETE", "/api/calibration/placements/x", None).status_code == 404
    assert post(physio, "/api/calibration/fit").status_code == 200
    # a changed placement list drops the fit: nothing stale can be saved
    send_json(physio, "DELETE", "/api/calibration/placements/0", None)
    session = physio.get("/api/calibration/session").get_json()["session"]
    assert session["fit"] is None and session["next_step"] == "placements"
    response = post(physio, "/api/calibration/save")
    assert response.status_code == 409 and "fit" in response.get_json()["error"]


def test_no_frames_from_the_board_is_refused_quickly(
    physio: FlaskClient, board: BoardRuntime
) -> None:
    board.feeding = False
    response = post(physio, "/api/calibration/tare")
    assert response.status_code == 409
    assert "no frames from the board" in response.get_json()["error"]


def test_capture_waits_for_new_frames_only(board: BoardRuntime) -> None:
    """Frames already in the history (an earlier load) are never used."""
    board.put(80.0)
    while board.history.written < 400:
        threading.Event().wait(0.01)
    board.put(0.0)
    counts = capture_counts(board.history, settle_s=0.5, seconds=2.0)
    load = (counts - board.model.offset_counts) * board.model.newtons_per_count
    assert 155 <= len(counts) <= 165  # 2 s at 80 Hz, whatever arrived beyond
    assert np.abs(load.sum(axis=1)).max() < 5.0  # no 80 kg frame in the capture


def test_save_that_the_station_cannot_load_says_it_keeps_the_old_one(
    web_store: Any, tmp_path: Path
) -> None:
    runtime = ReloadFailsRuntime(web_store)
    try:
        app = _app(runtime, web_store, tmp_path)
        client = login_as(app.test_client(), "admin")
        assert post(client, "/api/calibration/tare").status_code == 200
        for x, y in DEFAULT_MARKS:
            place(client, runtime, 20.0, x, y)
        assert post(client, "/api/calibration/fit").status_code == 200
        saved = post(client, "/api/calibration/save").get_json()
        message = saved["session"]["saved"]["message"]
        assert "could not load it (the file is unreadable)" in message, message
        assert "keeps the old one" in message
        assert runtime.reloaded == [tmp_path / "data" / "calibration.json"]
        assert saved["session"]["saved"]["board"] == "sim"  # the current calibration's name
        assert load_calibration(tmp_path / "data" / "calibration.json").board == "sim"
    finally:
        runtime.close()


def test_save_and_verify_need_a_calibration_path(
    board: BoardRuntime, web_store: Any, tmp_path: Path
) -> None:
    app = _app(board, web_store, tmp_path, configured=False)
    client = login_as(app.test_client(), "admin")
    assert post(client, "/api/calibration/save").status_code == 409
    response = post(client, "/api/calibration/verify", {"mass_kg": 50, "x_mm": 0, "y_mm": 0})
    assert response.status_code == 409 and "no calibration file" in response.get_json()["error"]


def test_verify_alone_checks_the_stations_file(
    physio: FlaskClient, board: BoardRuntime, tmp_path: Path
) -> None:
    """With no calibration in progress, verify measures with the station's file and stores
    the result in it (like `balance-station calibrate --verify FILE`)."""
    path = tmp_path / "data" / "calibration.json"
    response = post(physio, "/api/calibration/verify", {"mass_kg": 50, "x_mm": 0, "y_mm": 0})
    assert response.status_code == 409 and "not found" in response.get_json()["error"]
    board.calibration.board = "shipped"
    from station.calibration.file import save_calibration

    save_calibration(board.calibration, path)
    board.put(50.0, 0.0, 0.0)
    response = post(physio, "/api/calibration/verify", {"mass_kg": 50, "x_mm": 0, "y_mm": 0})
    assert response.status_code == 200, response.get_json()
    assert abs(response.get_json()["verification"]["mass_error_pct"]) < 0.5
    assert load_calibration(path).verification["mass_kg"] == 50.0


def test_roles_coach_and_kiosk_are_refused(cal_app: Flask) -> None:
    for role in ("coach", "kiosk"):
        client = login_as(cal_app.test_client(), role)
        assert client.get("/api/calibration/session").status_code == 403
        assert post(client, "/api/calibration/tare").status_code == 403
        assert client.get("/calibrate").status_code == 403
    token = api_headers_for(cal_app, "coach")
    assert cal_app.test_client().get("/api/calibration/session", headers=token).status_code == 403
    assert cal_app.test_client().get("/api/calibration/session").status_code == 401
    page = cal_app.test_client().get("/calibrate")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    admin = cal_app.test_client().get(
        "/api/calibration/session", headers=api_headers_for(cal_app, "admin")
    )
    assert admin.status_code == 200


def test_post_without_csrf_token_is_refused(physio: FlaskClient) -> None:
    response = physio.post("/api/calibration/tare", json={})
    assert response.status_code == 400 and response.get_json()["field"] == auth.CSRF_FIELD


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"x_mm": 0, "y_mm": 0}, "mass_kg"),
        ({"mass_kg": "twenty", "x_mm": 0, "y_mm": 0}, "mass_kg"),
        ({"mass_kg": 0, "x_mm": 0, "y_mm": 0}, "mass_kg"),
        ({"mass_kg": 20, "x_mm": 5000, "y_mm": 0}, "x_mm"),
        ({"mass_kg": 20, "x_mm": 0, "y_mm": None}, "y_mm"),
        ({"mass_kg": 20, "x_mm": 0, "y_mm": 0, "where": "centre"}, "where"),
    ],
)
def test_bodies_are_validated(physio: FlaskClient, body: dict, field: str) -> None:
    for url in ("/api/calibration/placements", "/api/calibration/verify"):
        response = post(physio, url, body)
        assert response.status_code == 400, (url, body)
        assert response.get_json()["field"] == field
    assert set(PLACEMENT_FIELDS) == {"mass_kg", "x_mm", "y_mm"}


def test_other_bodies_are_validated(physio: FlaskClient) -> None:
    for url, body, field in (
        ("/api/calibration/tare", {"seconds": 5}, "seconds"),
        ("/api/calibration/fit", {"linear": "yes"}, "linear"),
        ("/api/calibration/save", {"board": 7}, "board"),
        ("/api/calibration/save", {"board": "x" * 101}, "board"),
        ("/api/calibration/cancel", {"all": True}, "all"),
    ):
        response = post(physio, url, body)
        assert response.status_code == 400 and response.get_json()["field"] == field, url


def test_page_renders_for_physio_with_the_plan(physio: FlaskClient) -> None:
    page = physio.get("/calibrate")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Remove everything from the board" in html and "js/calibrate.js" in html
    assert '"plan"' in html and "calibration.json" in html
    status = physio.get("/status").get_data(as_text=True)
    assert 'href="/calibrate"' in status


def test_status_page_has_no_calibrate_link_for_a_coach(cal_app: Flask) -> None:
    coach = login_as(cal_app.test_client(), "coach")
    assert 'href="/calibrate"' not in coach.get("/status").get_data(as_text=True)


def test_a_second_measurement_at_the_same_time_is_refused(
    physio: FlaskClient, cal_app: Flask
) -> None:
    """One board, one measurement: a second phone's tap gets 409 instead of queueing."""
    from station.web.views.api_calibration import _holder

    with cal_app.app_context():
        holder = _holder()
    holder._capturing.acquire()  # as if another request were reading the board
    try:
        response = post(physio, "/api/calibration/tare")
        assert response.status_code == 409
        assert "being measured" in response.get_json()["error"]
        assert physio.get("/api/calibration/session").get_json()["capturing"] is True
    finally:
        holder._capturing.release()
    assert post(physio, "/api/calibration/tare").status_code == 200
