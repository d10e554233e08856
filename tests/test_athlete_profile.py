"""The athlete's profile for norms (migration 0009): optional fields through the API, with
errors that say what to fix, and through the store."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, app, client...)
from web_fixtures import login_as, send_json

from station.store import StoreError
from station.store.records import Athlete

PROFILE = {"sex": "F", "height_cm": 168.5, "body_mass_kg": 61.2, "sport": "handball",
           "level": "club"}


@pytest.fixture
def physio(app: Flask) -> FlaskClient:
    return login_as(app.test_client(), "physio")


def test_profile_round_trip_through_the_api(physio: FlaskClient) -> None:
    made = send_json(physio, "POST", "/api/athletes",
                     {"name": "Pia Profile", "birth_year": 1990, **PROFILE})
    assert made.status_code == 201, made.get_json()
    athlete = made.get_json()
    assert {k: athlete[k] for k in PROFILE} == PROFILE
    uid = athlete["uid"]
    changed = send_json(physio, "PATCH", f"/api/athletes/{uid}",
                        {"body_mass_kg": 63.0, "level": None, "sex": "M"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["body_mass_kg"], body["level"], body["sex"]) == (63.0, None, "M")
    assert body["height_cm"] == 168.5  # untouched


def test_nothing_of_the_profile_is_required(physio: FlaskClient) -> None:
    made = send_json(physio, "POST", "/api/athletes", {"name": "No Profile"})
    assert made.status_code == 201
    assert all(made.get_json()[k] is None for k in PROFILE)


@pytest.mark.parametrize(("field", "value", "says"), [
    ("sex", "female", "sex"),
    ("height_cm", 20, "height_cm"),
    ("body_mass_kg", 400, "body_mass_kg"),
    ("sport", "x" * 101, "sport"),
])
def test_a_bad_profile_value_is_refused_with_what_to_fix(physio: FlaskClient, field, value,
                                                         says) -> None:
    response = send_json(physio, "POST", "/api/athletes", {"name": "Bad", field: value})
    assert response.status_code == 400
    assert says in str(response.get_json())


def test_the_store_keeps_and_checks_the_profile(web_store) -> None:
    uid = web_store.add_athlete(Athlete(name="Store Profile", **PROFILE))
    got = web_store.get_athlete(uid)
    assert (got.sex, got.height_cm, got.body_mass_kg, got.sport, got.level) == tuple(
        PROFILE.values())
    with pytest.raises(StoreError, match="sex"):
        web_store.update_athlete(uid, sex="X")
