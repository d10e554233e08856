"""A trial's result reaches only who may see it (issue 18, item 5): the roles that browse
history see every result; a kiosk sees the trial it started, on the result card and on the
live stream, and no other kiosk (or kiosk token) sees it. Frames carry no personal data and
reach every watcher unchanged."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_headers_for, login_as, seed_history, send_json

from station.live.hub import LiveHub
from station.trials.runner import TrialRequest
from station.web import live_stream
from station.web.result_access import ResultViewer, Starters

START = {"protocol": "single-leg-right", "trial": "right-open-firm", "duration_s": 15}


def open_stream(client: FlaskClient, headers: dict[str, str] | None = None) -> Any:
    response = client.get("/api/live", headers=headers or {}, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def messages(response: Any, last_id: int) -> list[dict[str, Any]]:
    """The stream's messages up to id `last_id` (already published: no wait)."""
    out: list[dict[str, Any]] = []
    for chunk in response.response:
        for block in chunk.decode().split("\n\n"):
            data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
            if data and not block.startswith("event:"):
                out.append(json.loads("\n".join(data)))
        if out and out[-1]["id"] >= last_id:
            break
    response.close()
    return out


def of_kind(msgs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in msgs if m["kind"] == kind]


@pytest.fixture
def kiosk_trial(app: Flask, web_store, fake_runtime) -> dict[str, Any]:
    """Kiosk A runs a saved trial for an athlete while kiosk B, a coach and a kiosk token
    watch the live stream."""
    athlete = seed_history(web_store)["athletes"][1]
    kiosk_a = login_as(app.test_client(), "kiosk")
    kiosk_b = login_as(app.test_client(), "kiosk")
    coach = login_as(app.test_client(), "coach")
    streams = {
        "kiosk_a": open_stream(kiosk_a),
        "kiosk_b": open_stream(kiosk_b),
        "coach": open_stream(coach),
        "kiosk_token": open_stream(app.test_client(), api_headers_for(app, "kiosk")),
    }
    started = send_json(kiosk_a, "POST", "/api/trials/start", {**START, "athlete_uid": athlete})
    assert started.status_code == 201
    fake_runtime.play_scenario("single_leg_hold")
    last = fake_runtime.hub.publish({"kind": "frames", "t": 1.0, "hold": {"state": "complete"}})
    uid = fake_runtime.trials.last_result.saved_uid
    assert uid is not None
    return {
        "uid": uid,
        "athlete": athlete,
        "clients": {"kiosk_a": kiosk_a, "kiosk_b": kiosk_b, "coach": coach},
        "seen": {who: messages(stream, last) for who, stream in streams.items()},
    }


def test_the_result_card_of_a_kiosk_trial_is_for_that_kiosk_only(kiosk_trial) -> None:
    uid, clients = kiosk_trial["uid"], kiosk_trial["clients"]
    other = clients["kiosk_b"].get(f"/api/pages/result/{uid}")
    assert other.status_code == 403
    assert "birth_year" not in other.get_data(as_text=True)
    mine = clients["kiosk_a"].get(f"/api/pages/result/{uid}")
    assert mine.status_code == 200 and mine.get_json()["trial_uid"] == uid
    assert mine.get_json()["athlete"].keys() == {"uid", "name", "team"}  # no birth year
    assert clients["coach"].get(f"/api/pages/result/{uid}").status_code == 200
    # the other kiosk learns nothing through the runner's state either
    assert clients["kiosk_b"].get("/api/trials/current").get_json()["last_result"] is None


def test_the_live_result_reaches_the_kiosk_that_ran_it_and_history_roles(kiosk_trial) -> None:
    seen = kiosk_trial["seen"]
    [coach] = of_kind(seen["coach"], "trial_result")
    assert coach["result"]["trial_uid"] == kiosk_trial["uid"]
    assert coach["result"]["athlete_uid"] == kiosk_trial["athlete"]
    assert coach["result"]["outcome"]["body_weight_n"] > 0
    [mine] = of_kind(seen["kiosk_a"], "trial_result")
    assert mine == coach


@pytest.mark.parametrize("watcher", ["kiosk_b", "kiosk_token"])
def test_other_watchers_get_the_result_message_without_its_result(kiosk_trial, watcher) -> None:
    seen = kiosk_trial["seen"]
    [coach] = of_kind(seen["coach"], "trial_result")
    [redacted] = of_kind(seen[watcher], "trial_result")
    assert redacted == {"kind": "trial_result", "id": coach["id"], "result": None}
    # the same messages, in the same order, with the same ids: nothing looks missed
    assert [m["id"] for m in seen[watcher]] == [m["id"] for m in seen["coach"]]


def test_frames_reach_every_watcher_unchanged(kiosk_trial) -> None:
    frames = {who: of_kind(msgs, "frames") for who, msgs in kiosk_trial["seen"].items()}
    assert frames["coach"] and all(f == frames["coach"] for f in frames.values())


def test_a_message_of_an_unknown_kind_is_withheld_from_a_kiosk(app: Flask, fake_runtime) -> None:
    kiosk = open_stream(login_as(app.test_client(), "kiosk"))
    coach = open_stream(login_as(app.test_client(), "coach"))
    msg_id = fake_runtime.hub.publish({"kind": "athlete_note", "athlete_uid": "a1", "text": "x"})
    assert messages(kiosk, msg_id) == [{"kind": "athlete_note", "id": msg_id}]
    assert messages(coach, msg_id)[0]["text"] == "x"


def test_a_kiosk_recognises_its_result_whatever_the_numbers() -> None:
    """The stream matches a message to the runner's last result as JSON (NaN included)."""
    request = TrialRequest(protocol_id="baseline", trial_id="t")
    summary = {"trial_uid": None, "metrics": {"x": math.nan, "xy": (1.5, 2)}, "score": 3.0}
    last = SimpleNamespace(request=request, summary=lambda: summary)
    starters = Starters()
    starters.add(request, "kiosk-1")
    runner = SimpleNamespace(last_result=last)
    mine = ResultViewer(sees_all=False, kiosk_id="kiosk-1", starters=starters, trials=runner)
    other = ResultViewer(sees_all=False, kiosk_id="kiosk-2", starters=starters, trials=runner)
    published = json.loads(json.dumps(summary))
    assert mine.result_for(published) is published
    assert other.result_for(published) is None
    older = {**published, "score": 2.0}  # a message about an earlier trial
    assert mine.result_for(older) is None


def test_frames_are_recognised_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames (most messages) pass a kiosk's filter as the hub serialised them, unparsed."""
    hub = LiveHub()
    hub.publish({"kind": "frames", "t": 1.0, "hold": None})
    [(_, data)], _ = hub.read_after(0, timeout=0)
    assert data.startswith(live_stream.FRAMES_PREFIX)

    def no_parsing(text: str) -> None:
        raise AssertionError("a frames message was parsed")

    monkeypatch.setattr(live_stream.json, "loads", no_parsing)
    kiosk = ResultViewer(sees_all=False)
    assert live_stream.for_viewer(data, kiosk) is data
