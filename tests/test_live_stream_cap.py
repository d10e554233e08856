"""One principal cannot take every live-stream slot (issue 18, "cap per principal"): past
its share it gets 429 with the reason, while others still watch; the station-wide limit
stays 503."""

from __future__ import annotations

from flask import Flask
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_headers_for, login_as

from station.live.hub import LiveHub
from station.web.live_stream import MAX_STREAMS, MAX_STREAMS_PER_PRINCIPAL, live_blueprint


def test_one_user_gets_a_share_of_the_streams_and_is_told_why(app: Flask) -> None:
    assert 1 < MAX_STREAMS_PER_PRINCIPAL < MAX_STREAMS
    coach = login_as(app.test_client(), "coach")
    held = [coach.get("/api/live", buffered=False) for _ in range(MAX_STREAMS_PER_PRINCIPAL)]
    assert all(r.status_code == 200 for r in held)
    refused = coach.get("/api/live", buffered=False)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()
    error = refused.get_json()["error"]
    assert f"limit {MAX_STREAMS_PER_PRINCIPAL}" in error and "coach" in error
    # someone else is not held back by the coach's streams
    physio = login_as(app.test_client(), "physio").get("/api/live", buffered=False)
    assert physio.status_code == 200
    physio.close()
    held.pop().close()  # a stream ends: the coach may open one again
    again = coach.get("/api/live", buffered=False)
    assert again.status_code == 200
    for response in (*held, again):
        response.close()


def test_the_share_counts_per_principal_not_per_role(app: Flask) -> None:
    first = api_headers_for(app, "coach", name="first script")
    second = api_headers_for(app, "coach", name="second script")
    client = app.test_client()
    held = [client.get("/api/live", headers=first, buffered=False)
            for _ in range(MAX_STREAMS_PER_PRINCIPAL)]
    assert client.get("/api/live", headers=first, buffered=False).status_code == 429
    other = client.get("/api/live", headers=second, buffered=False)
    assert other.status_code == 200
    for response in (*held, other):
        response.close()


def test_the_station_limit_still_answers_503() -> None:
    app = Flask("t")
    app.register_blueprint(live_blueprint(LiveHub(), max_streams=2))
    client = app.test_client()
    held = [client.get("/api/live", buffered=False) for _ in range(2)]
    refused = client.get("/api/live", buffered=False)
    assert refused.status_code == 503 and "limit 2" in refused.get_json()["error"]
    for response in held:
        response.close()
