"""The games through the web: a start takes the athlete's envelope from their last LOS test,
and the simulated athlete's "Play the game" button plays the game being held."""

from __future__ import annotations

from typing import Any

import numpy as np
from store_fixtures import make_trial
from web_fixtures import *  # noqa: F403
from web_fixtures import login_as, send_json

from station.board.sim import simulate
from station.calibration.estimator import Estimator
from station.frames import Frame
from station.store.records import Athlete, SessionRecord

ENVELOPE = [110.0, 95.0, 90.0, 60.0, 55.0, 60.0, 90.0, 95.0]


def stand_until_holding(runtime: Any) -> None:
    """A simulated athlete steps on with both feet and stands still: the game's hold starts."""
    sim = simulate([(0.0, "step_on", {"stance": "double"})], duration_s=8.0, seed=2)
    estimator = Estimator(runtime.calibration)
    for t, counts in zip(sim.t_s, sim.counts, strict=True):
        frame = Frame(round(t * 1e9), tuple(int(c) for c in counts))
        runtime.trials.on_frame(frame, estimator.update(frame))


def test_a_game_started_for_an_athlete_uses_their_envelope_and_the_sim_plays_it(
        client, fake_runtime, web_store) -> None:
    athlete = web_store.add_athlete(Athlete(name="Lea Lean", team="U18"))
    session = web_store.create_session(SessionRecord(athlete_uid=athlete))
    web_store.save_trial(make_trial(
        session, 1, np.random.default_rng(0), with_raw=False, task="limits_of_stability",
        stance="double", metrics={"limits_of_stability": {"envelope_mm": ENVELOPE}}))
    login_as(client, "admin")
    nothing = send_json(client, "POST", "/api/sim/perform", {"action": "play_game"})
    assert nothing.status_code == 409 and "no game is being held" in nothing.get_json()["error"]

    started = send_json(client, "POST", "/api/trials/start",
                        {"protocol": "maze", "trial": "maze-8", "athlete_uid": athlete})
    assert started.status_code == 201, started.get_json()
    spec = fake_runtime.trials.current_spec
    assert list(spec.game.envelope_mm) == ENVELOPE
    stand_until_holding(fake_runtime)
    assert fake_runtime.trials.status()["state"] == "holding"
    game = fake_runtime.trials.status()["game"]
    assert game["task"] == "maze" and len(game["targets_mm"]) == 8

    played = send_json(client, "POST", "/api/sim/perform", {"action": "play_game"})
    assert played.status_code == 200, played.get_json()
    action, params = fake_runtime.performed[-1]
    assert action == "play_game" and params["task"] == "maze"
    assert params["game"]["envelope_mm"] == ENVELOPE and params["elapsed_s"] > 0


def test_a_game_without_an_athlete_uses_the_default_envelope(client, fake_runtime) -> None:
    login_as(client, "admin")
    started = send_json(client, "POST", "/api/trials/start",
                        {"protocol": "weight-shift", "trial": "heel-toe"})
    assert started.status_code == 201
    assert fake_runtime.trials.current_spec.game.envelope_mm is None
