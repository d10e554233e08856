"""The guided calibration refuses a placement measured on an empty board, saying so
(issue 18: it was accepted, and the fit then blamed "wires swapped").

The board is test_web_calibration's BoardRuntime: the default simulated cells with HX711
noise, fed faster than real time, carrying whatever the test puts on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from test_web_calibration import BoardRuntime, _app, place, post
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import login_as

from station.calibration.guided import check_placement_load
from station.calibration.procedure import MeasurementRefused, Placement, TareResult


@pytest.fixture(params=["calibrated", "uncalibrated"])
def board(request: pytest.FixtureRequest, web_store: Any) -> Iterator[BoardRuntime]:
    """With a calibration in force (the load is judged in kg) and without one (judged
    against the tare's noise)."""
    runtime = BoardRuntime(web_store)
    runtime.calibrated = request.param == "calibrated"
    yield runtime
    runtime.close()


@pytest.fixture
def physio(board: BoardRuntime, web_store: Any, tmp_path: Path) -> FlaskClient:
    return login_as(_app(board, web_store, tmp_path).test_client(), "physio")


def test_a_placement_on_the_empty_board_is_refused_with_what_to_do(
    physio: FlaskClient, board: BoardRuntime
) -> None:
    assert post(physio, "/api/calibration/tare").status_code == 200
    board.put(0.0)  # nobody put the mass down
    response = post(physio, "/api/calibration/placements",
                    {"mass_kg": 20, "x_mm": -150, "y_mm": 100})
    assert response.status_code == 409, response.get_json()
    message = response.get_json()["error"]
    assert "20 kg" in message and "x=-150, y=100" in message
    assert "at the tare" in message if board.calibrated else "nothing was put" in message
    assert physio.get("/api/calibration/session").get_json()["session"]["placements"] == []
    placed = place(physio, board, 20.0, -150.0, 100.0)  # with the mass it goes through
    assert placed.status_code == 200, placed.get_json()
    assert len(placed.get_json()["session"]["placements"]) == 1


def test_a_light_but_real_placement_is_kept(physio: FlaskClient, board: BoardRuntime) -> None:
    assert post(physio, "/api/calibration/tare").status_code == 200
    response = place(physio, board, 0.5, 0.0, 0.0)
    assert response.status_code == 200, response.get_json()


def _tare(std: float = 39.0) -> TareResult:
    return TareResult(np.array([1000.0, -2000.0, 500.0, 0.0]), np.full(4, std), 160, None)


def test_the_check_against_noise_alone() -> None:
    tare = _tare()
    empty = Placement(20.0, 0.0, 0.0, tare.offsets_counts + np.array([30.0, -25.0, 10.0, 5.0]))
    with pytest.raises(MeasurementRefused, match="nothing was put on the board"):
        check_placement_load(empty, tare)
    loaded = Placement(20.0, 0.0, 0.0, tare.offsets_counts + 2e5)
    check_placement_load(loaded, tare)
    silent = _tare(std=0.0)  # a noiseless board: its noise floor still applies
    with pytest.raises(MeasurementRefused):
        check_placement_load(Placement(20.0, 0.0, 0.0, silent.offsets_counts.copy()), silent)
