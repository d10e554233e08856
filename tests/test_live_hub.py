import os
import threading
import time
from pathlib import Path

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


def _voluntary_switches(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("voluntary_ctxt_switches"))


def _readers(hub: LiveHub, n: int, messages: int, timeout: float = 5.0):
    """n threads reading every message as a stream does; (threads, ids each got, tids,
    done: each thread ends once it has every message and `done` is set). Each writes a byte
    to a pipe per batch, as a stream's thread wakes the server's socket loop."""
    got: list[list[int]] = [[] for _ in range(n)]
    done = threading.Event()
    out, into = os.pipe()

    def drain() -> None:
        while os.read(out, 4096):
            pass

    threading.Thread(target=drain, daemon=True).start()
    tids: list[int] = [0] * n
    ready = threading.Barrier(n + 1)

    def read(k: int) -> None:
        tids[k] = threading.get_native_id()
        last = hub.last_id
        ready.wait()
        while len(got[k]) < messages and not hub.closed:
            items, _ = hub.read_after(last, timeout)
            if items:
                last = items[-1][0]
                got[k].extend(i for i, _ in items)
                os.write(into, b".")
        done.wait(10.0)

    threads = [threading.Thread(target=read, args=(k,), daemon=True) for k in range(n)]
    for thread in threads:
        thread.start()
    ready.wait()
    return threads, got, tids, done


def test_many_readers_get_every_message_waking_about_twice_each():
    # One publish used to wake every stream's thread at once (notify_all): they fought for
    # the GIL and the lock, about six wake-ups each per message. Woken one after another,
    # each wakes about twice.
    hub, n, messages = LiveHub(), 20, 40
    threads, got, tids, done = _readers(hub, n, messages)
    time.sleep(0.1)
    before = [_voluntary_switches(t) for t in tids]
    for i in range(messages):
        hub.publish({"n": i})
        time.sleep(0.02)
    time.sleep(0.1)
    switches = [_voluntary_switches(t) - b for t, b in zip(tids, before, strict=True)]
    done.set()
    for thread in threads:
        thread.join(5.0)
    assert all(ids == list(range(1, messages + 1)) for ids in got)
    assert sum(switches) / (n * messages) < 3.0, switches


def test_readers_whose_time_runs_out_never_stall_the_others():
    # Readers give up after a few milliseconds while messages arrive just as often: a reader
    # leaving while it is about to be woken must pass the wake-up on, or those after it
    # would wait out their whole timeout.
    hub, n, messages = LiveHub(), 12, 150
    threads, got, _, done = _readers(hub, n, messages, timeout=0.003)
    done.set()
    t0 = time.monotonic()
    for i in range(messages):
        hub.publish({"n": i})
        time.sleep(0.003 if i % 2 else 0.0)
    for thread in threads:
        thread.join(5.0)
    assert all(ids == list(range(1, messages + 1)) for ids in got)
    assert time.monotonic() - t0 < 4.0


def test_closing_the_hub_wakes_every_waiting_reader():
    hub = LiveHub()
    threads, _, _, done = _readers(hub, 6, 1, timeout=30.0)
    done.set()
    time.sleep(0.1)
    t0 = time.monotonic()
    hub.close()
    for thread in threads:
        thread.join(2.0)
    assert not any(thread.is_alive() for thread in threads)
    assert time.monotonic() - t0 < 1.0
