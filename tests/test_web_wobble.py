"""The wobble board page's API (/api/wobble/...): boards, the active one, the guided set-up.

`CopRuntime` is the web fixtures' FakeRuntime whose history is fed by a thread with the force
and COP of whatever the test plays (a simulated wobble-board session through the simulated
board's calibration, or a made-up roll to a rim), faster than real time with 80 Hz stamps.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import PASSWORDS, FakeRuntime, login_as, make_app, send_json

from station import access
from station.board.sim.engine import default_cell_model
from station.geometry import DEFAULT_LAYOUT, forces_from_cop
from station.wobble import preset
from station.wobble import stored as stored_boards
from tests.wobble_fixtures import session

RATE_HZ = 80.0
BOARD = preset("round-40-hemisphere")


class CopRuntime(FakeRuntime):
    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.model = default_cell_model()
        self.rng = np.random.default_rng(3)
        self.force = np.full(1, 700.0)
        self.cop = np.zeros((1, 2))
        self._i = 0
        self._t = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def play(self, force: np.ndarray, cop: np.ndarray) -> None:
        self.force, self.cop, self._i = np.asarray(force), np.asarray(cop), 0

    def _feed(self) -> None:
        """Raw counts of the simulated board's cells for the force at the COP being played."""
        while not self._stop.wait(0.004):
            idx = np.minimum(self._i + np.arange(20), len(self.force) - 1)
            t = self._t + np.arange(20) / RATE_HZ
            forces = np.array([forces_from_cop(self.force[i], self.cop[i],
                                               DEFAULT_LAYOUT.positions) for i in idx])
            counts = self.model.counts(forces, t, self.rng)
            for ti, row in zip(t, counts, strict=True):
                self.history.append(float(ti), tuple(int(c) for c in row), float("nan"),
                                    (float("nan"), float("nan")))
            self._i += 20
            self._t += 20 / RATE_HZ

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        super().close()


@pytest.fixture
def runtime(web_store: Any) -> Iterator[CopRuntime]:
    rt = CopRuntime(web_store)
    yield rt
    rt.close()


@pytest.fixture
def wobble_app(runtime: CopRuntime, web_store: Any, tmp_path: Path) -> Flask:
    app = make_app(runtime, web_store, tmp_path / "data")
    for role, password in PASSWORDS.items():
        if web_store.get_user(role) is None:
            access.create_user(web_store, role, role, password)
    return app


@pytest.fixture
def physio(wobble_app: Flask) -> FlaskClient:
    return login_as(wobble_app.test_client(), "physio")


def post(client: FlaskClient, url: str, body: Any = None) -> Any:
    return send_json(client, "POST", url, {} if body is None else body)


def test_the_guided_set_up_finds_the_level_point_and_keeps_it(physio, runtime, web_store):
    run = session(stance="double", skill=0.8, duration_s=10.0, level_mm=(6.0, -4.0))
    keep = run.sim.t_s > 4.0
    runtime.play(run.total_n[keep], run.cop_mm[keep])
    assert post(physio, "/api/wobble/setup").status_code == 200
    done = post(physio, "/api/wobble/setup/level")
    assert done.status_code == 200, done.get_json()
    level = done.get_json()["session"]["level"]["mean_mm"]
    assert math.dist(level, (6.0, -4.0)) < 2.0
    # a roll to the front rim that reaches the profile's 17.5 degrees, then the rim's jump
    d = np.concatenate([np.linspace(0.0, BOARD.reach_mm, 200), np.full(200, BOARD.reach_mm + 40)])
    runtime.play(np.full(400, 700.0), np.column_stack([level[0] + 0 * d, level[1] + d]))
    rim = post(physio, "/api/wobble/setup/rim", {"side": "front"})
    assert rim.status_code == 200, rim.get_json()
    check = rim.get_json()["session"]["rims"]["front"]
    assert abs(check["residual_deg"]) < 0.5 and check["rim_seen"]
    saved = post(physio, "/api/wobble/setup/save").get_json()
    assert saved["session"]["report"]["residuals_deg"]["front"] == check["residual_deg"]
    setup = stored_boards.active_setup(web_store)
    assert setup.source == "set-up" and math.dist(setup.level_mm, level) < 1e-6
    assert next(b for b in saved["boards"] if b["name"] == BOARD.name)["set_up"]


def test_the_level_step_refuses_an_empty_platform(physio, runtime):
    runtime.play(np.full(1, 3.0), np.zeros((1, 2)))
    post(physio, "/api/wobble/setup")
    refused = post(physio, "/api/wobble/setup/level")
    assert refused.status_code == 409
    assert "put the board on the platform" in refused.get_json()["error"]
    assert post(physio, "/api/wobble/setup/rim", {"side": "front"}).status_code == 409


def test_own_boards_are_added_checked_and_chosen(physio, web_store):
    bad = post(physio, "/api/wobble/boards", {"name": "mine", "dome_radius_mm": 5.0,
                                             "deck_diameter_mm": 400.0, "rim_height_mm": 50.0,
                                             "mass_kg": 2.0})
    assert bad.status_code == 400 and "dome_radius_mm: 5 is outside" in bad.get_json()["error"]
    added = post(physio, "/api/wobble/boards", {"name": "mine", "dome_radius_mm": 120.0,
                                               "deck_diameter_mm": 450.0, "rim_height_mm": 70.0,
                                               "mass_kg": 3.0})
    assert added.status_code == 200, added.get_json()
    assert post(physio, "/api/wobble/active", {"name": "mine"}).get_json()["active"] == "mine"
    assert stored_boards.active_setup(web_store).board.dome_radius_mm == 120.0
    gone = send_json(physio, "DELETE", "/api/wobble/boards/mine", None)
    assert gone.status_code == 200 and gone.get_json()["active"] == BOARD.name


def test_physio_and_admin_change_everyone_who_runs_tests_reads(wobble_app):
    coach = login_as(wobble_app.test_client(), "coach")
    assert coach.get("/api/wobble").status_code == 200
    assert post(coach, "/api/wobble/active", {"name": BOARD.name}).status_code == 403
    kiosk = login_as(wobble_app.test_client(), "kiosk")
    assert kiosk.get("/api/wobble").status_code == 200
    admin = login_as(wobble_app.test_client(), "admin")
    assert post(admin, "/api/wobble/active", {"name": "round-50-trainer"}).status_code == 200
    page = login_as(wobble_app.test_client(), "physio").get("/wobble")
    assert page.status_code == 200 and b"wobble_setup.js" in page.data
    assert coach.get("/wobble").status_code == 403


def test_the_sim_panel_puts_the_active_board_on_for_a_wobble_trial(physio, runtime):
    post(physio, "/api/wobble/active", {"name": "round-50-trainer"})
    started = post(physio, "/api/trials/start", {"protocol": "baseline",
                                                 "trial": "left-open-wobble"})
    assert started.status_code in (200, 201), started.get_json()
    assert post(physio, "/api/sim/perform", {"action": "step_on"}).status_code == 200
    actions = [(a, p.get("board")) for a, p in runtime.performed]
    assert actions[:2] == [("place_wobble_board", "round-50-trainer"), ("step_on", None)]
    assert runtime.performed[1][1]["surface"] == "wobble"
    send_json(physio, "POST", "/api/trials/current/abort", {})
    post(physio, "/api/trials/start", {"protocol": "baseline", "trial": "left-open-firm"})
    post(physio, "/api/sim/perform", {"action": "step_on"})
    assert ("remove_wobble_board", None) in [(a, p.get("board")) for a, p in runtime.performed]
