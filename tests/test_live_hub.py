import threading
import time

from flask import Flask

from station.live.hub import LiveHub
from station.web.live_stream import live_blueprint


def test_hub_delivers_in_order_and_resumes_after_id():
    hub = LiveHub(history=100)
    ids = [hub.publish({"n": i}) for i in range(5)]
    assert ids == [1, 2, 3, 4, 5]
    items, missed = hub.read_after(2, timeout=0)
    assert [i for i, _ in items] == [3, 4, 5] and missed == 0
    assert '"n":4' in items[-1][1]


def test_hub_slow_reader_is_told_what_it_missed_and_never_blocks_publisher():
    hub = LiveHub(history=10)
    t0 = time.perf_counter()
    for i in range(1000):
        hub.publish({"n": i})
    assert time.perf_counter() - t0 < 1.0  # no reader can hold the publisher back
    items, missed = hub.read_after(0, timeout=0)
    assert missed == 990
    assert [i for i, _ in items] == list(range(991, 1001))


def test_hub_wakes_waiting_reader_on_publish():
    hub = LiveHub()
    got = []

    def reader():
        got.append(hub.read_after(0, timeout=5.0))

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.05)
    hub.publish({"x": 1})
    thread.join(2.0)
    assert got and got[0][0][0][0] == 1


def _app(hub: LiveHub, max_streams: int = 2) -> Flask:
    app = Flask("t")
    app.register_blueprint(live_blueprint(hub, max_streams=max_streams))
    return app


def test_sse_stream_sends_ids_and_resumes_from_last_event_id():
    hub = LiveHub()
    for i in range(3):
        hub.publish({"n": i})
    client = _app(hub).test_client()
    response = client.get("/api/live", headers={"Last-Event-ID": "1"}, buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")
    body = next(chunks).decode()
    assert "id: 2\ndata: " in body and "id: 3\ndata: " in body and "id: 1\n" not in body
    response.close()


def test_sse_slots_are_capped_and_freed_when_a_client_leaves():
    hub = LiveHub()
    client = _app(hub, max_streams=2).test_client()
    first = client.get("/api/live", buffered=False)
    second = client.get("/api/live", buffered=False)
    third = client.get("/api/live", buffered=False)
    assert third.status_code == 503 and "limit 2" in third.get_json()["error"]
    first.close()  # never read a byte: the slot must still come back
    fourth = client.get("/api/live", buffered=False)
    assert fourth.status_code == 200
    second.close()
    fourth.close()
