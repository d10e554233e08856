"""Web-app test fixtures: a station app on a fake runtime and a real temporary store.

Use in a test module:

    from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
    from web_fixtures import login_as, api_headers_for, csrf_headers, PASSWORDS

`app` has one user per role (admin, physio, coach; passwords in PASSWORDS) and is past
setup; `fresh_app` has no user (the setup gate is closed). `login_as(client, "kiosk")`
logs a coach in and turns kiosk mode on. `api_headers(role)` (fixture) gives
`{"Authorization": "Bearer ..."}` for a new token of that role.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.ctx import RequestContext
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder

from station import access
from station.board.sim import simulate
from station.calibration.estimator import Estimator
from station.calibration.file import CalibrationError, load_calibration
from station.frames import Frame
from station.live.frame_history import FrameHistory
from station.live.hub import LiveHub
from station.store import Store, open_store
from station.store.records import Athlete, SessionRecord, Target, TrialRecord
from station.store.synthetic_frames import simulated_trial_frames
from station.trials.runner import TrialRunner
from station.trials.saver import store_saver
from station.web import auth
from station.web.app import create_app
from station.web.context import WebContext
from station.web.routes import ApiRoute, declared_routes

ROOT = Path(__file__).resolve().parents[1]
SIM_CALIBRATION = ROOT / "calibration" / "sim-board.json"
PASSWORDS = {
    "admin": "admin-password-1",
    "physio": "physio-password-1",
    "coach": "coach-password-1",
}


class FakeRuntime:
    """The web's `Station` (station.web.context) without an acquisition process, as
    StationRuntime implements it (tests/test_web_context.py checks both).

    `trials` is a real TrialRunner (calibrated from calibration/sim-board.json, saving
    into the store like `balance-station run`; make_app hands it to the web);
    `performed` records perform() calls.
    """

    def __init__(self, store: Store | None, calibrated: bool = True) -> None:
        self.hub = LiveHub()
        self.history = FrameHistory(10.0)
        self.calibration = load_calibration(SIM_CALIBRATION)
        self.calibrated = calibrated
        self.performed: list[tuple[str, dict[str, Any]]] = []
        self.board_kind = "sim"
        self.trials = TrialRunner(
            self.calibration_snapshot,
            save=store_saver(store, board_id="sim") if store is not None else None,
            publish=self.hub.publish,
        )

    def calibration_snapshot(self) -> dict[str, Any] | None:
        return self.calibration.to_dict() if self.calibrated else None

    def calibration_status(self) -> dict[str, Any]:
        if not self.calibrated:
            return {"status": "uncalibrated", "problem": "no calibration file"}
        return {
            "status": "calibrated",
            "board": self.calibration.board,
            "created": self.calibration.created.isoformat(),
            "warnings": [],
        }

    def health(self) -> dict[str, Any]:
        return {
            "version": "test",
            "board": self.board_kind,
            "calibrated": self.calibrated,
            "calibration": self.calibration_status(),
            "uptime_s": 1.0,
            "acquisition": {"state": "running"},
            "achieved_rate_hz": 80.0,
            "frames_discarded": 0,
        }

    def reload_calibration(self, path: Any) -> str | None:
        try:
            self.calibration = load_calibration(Path(path))
        except CalibrationError as exc:
            return str(exc)
        self.calibrated = True
        return None

    def perform(self, action: str, **params: Any) -> None:
        self.performed.append((action, params))

    def play_scenario(self, scenario: str = "single_leg_hold", seed: int = 3) -> None:
        """Feed a simulated scenario's frames (station.board.sim) to the trial runner, as the
        reader thread would, and wait until the trial is analysed and saved."""
        estimator = Estimator(self.calibration)
        sim = simulate(scenario, seed=seed)
        for t, counts in zip(sim.t_s, sim.counts, strict=True):
            frame = Frame(round(t * 1e9), tuple(int(c) for c in counts))
            self.trials.on_frame(frame, estimator.update(frame))
        self.trials.wait_idle()

    def close(self) -> None:
        self.trials.close()
        self.hub.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with test-sized cost (same algorithm and code path; ~0.4 s -> ~1 ms a hash)."""
    monkeypatch.setattr(access, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture(scope="session")
def empty_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty data directory, made once: copying it is ~10x faster than
    migrating a new database for every test."""
    folder = tmp_path_factory.mktemp("empty-store") / "data"
    open_store(folder).close()
    return folder


@pytest.fixture
def web_store(tmp_path: Path, empty_store_dir: Path) -> Iterator[Store]:
    shutil.copytree(empty_store_dir, tmp_path / "data")
    store = open_store(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def fake_runtime(web_store: Store) -> Iterator[FakeRuntime]:
    runtime = FakeRuntime(web_store)
    yield runtime
    runtime.close()


def make_app(
    runtime: Any,
    store: Store | None,
    data_dir: Path | None = None,
    *,
    calibration_path: Path | None = None,
    **options: Any,
) -> Flask:
    """The station app on `runtime` (a FakeRuntime) and its trial runner; `options` go to
    create_app (e.g. views=...)."""
    web = WebContext(
        runtime=runtime,
        trials=runtime.trials,
        store=store,
        data_dir=data_dir,
        calibration_path=calibration_path,
    )
    return create_app(web, testing=True, **options)


@functools.cache
def api_declarations() -> tuple[ApiRoute, ...]:
    """The station app's declared API routes (station.web.routes), for parametrizing tests
    at collection time: every route of the API, as soon as it is declared."""
    runtime = FakeRuntime(None)
    try:
        return tuple(declared_routes(make_app(runtime, None)))
    finally:
        runtime.close()


@pytest.fixture
def fresh_app(fake_runtime: FakeRuntime, web_store: Store, tmp_path: Path) -> Flask:
    """An app whose store has no user yet (only /setup, /static, /api/health answer)."""
    return make_app(fake_runtime, web_store, tmp_path / "data")


@pytest.fixture
def app(fresh_app: Flask, web_store: Store) -> Flask:
    """An app past setup, with users admin, physio and coach (passwords in PASSWORDS)."""
    for role, password in PASSWORDS.items():
        access.create_user(web_store, role, role, password)
    return fresh_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session as a page would get it (Flask-WTF signs the
    session's token; one is made if there is none yet)."""
    app = client.application
    with client.session_transaction() as session:
        environ = EnvironBuilder("/").get_environ()
        with RequestContext(app, environ, session=session):
            return auth.csrf_token()


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    return {auth.CSRF_HEADER: csrf_token(client)}


def login_as(client: FlaskClient, role: str) -> FlaskClient:
    """Log the client in through the real form as the user of `role` ("kiosk": a coach who
    then turns kiosk mode on). Asserts that it worked."""
    user = "coach" if role == "kiosk" else role
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": user, "password": PASSWORDS[user], "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    if role == "kiosk":
        response = client.post("/kiosk/enter", data={"csrf_token": csrf_token(client)})
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def api_headers_for(app: Flask, role: str, name: str | None = None) -> dict[str, str]:
    """Bearer header of a new API token of `role`."""
    store = app.extensions["station"].store
    secret, _ = access.create_api_token(store, role, name or f"test {role}")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api_headers(app: Flask) -> Callable[[str], dict[str, str]]:
    return lambda role: api_headers_for(app, role)


def send_json(
    client: FlaskClient, method: str, url: str, body: Any, headers: dict[str, str] | None = None
) -> Any:
    """A JSON request with the session's CSRF header (cookie-authenticated clients)."""
    all_headers = {**csrf_headers(client), **(headers or {})}
    return client.open(
        url,
        method=method,
        data=json.dumps(body),
        content_type="application/json",
        headers=all_headers,
    )


# -- history to browse -------------------------------------------------------------------------


def seed_history(store: Store, seed: int = 0) -> dict[str, Any]:
    """Two athletes (team U18) with three weekly sessions of single-leg trials (left and
    right, raw frames included; Ben's right leg sways 6 mm/s more) and a target each;
    returns their uids: {"athletes", "sessions", "trials", "targets"}."""
    rng = np.random.default_rng(seed)
    base = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    out: dict[str, Any] = {"athletes": [], "sessions": [], "trials": [], "targets": []}
    for a, name in enumerate(("Ada Example", "Ben Example")):
        athlete = store.add_athlete(
            Athlete(name=name, team="U18", dominant_leg="left", birth_year=2008 + a)
        )
        out["athletes"].append(athlete)
        for s in range(3):
            when = base + timedelta(days=7 * s, hours=a)
            session = store.create_session(
                SessionRecord(athlete_uid=athlete, started_at=when, stiffness=3, soreness=2)
            )
            out["sessions"].append(session)
            for seq, stance in enumerate(("single-left", "single-right")):
                velocity = 30.0 - 2 * s + (6.0 if stance == "single-right" and a == 1 else 0.0)
                trial = TrialRecord(
                    session_uid=session,
                    seq=seq + 1,
                    stance=stance,
                    eyes="open",
                    surface="firm",
                    planned_duration_s=5.0,
                    outcome="complete",
                    duration_s=5.0,
                    started_at=when + timedelta(minutes=seq),
                    protocol="baseline",
                    metrics={
                        "mean_velocity_mm_s": {"total": velocity, "ml": velocity * 0.6},
                        "ellipse95_area_mm2": 150.0 + 10 * s,
                    },
                    score=60.0 + 5 * s,
                    calibration=load_calibration(SIM_CALIBRATION).to_dict(),
                    board_id="sim",
                    raw=simulated_trial_frames(rng, duration_s=5.0),
                    rate_hz=80.0,
                    analysis_version="test",
                )
                out["trials"].append(store.save_trial(trial))
        out["targets"].append(
            store.add_target(
                Target(
                    athlete_uid=athlete,
                    measure="mean_velocity_mm_s.total",
                    value=20.0,
                    condition=None,
                    due_date=(base + timedelta(days=42)).date(),
                    created_at=base,
                )
            )
        )
    return out
