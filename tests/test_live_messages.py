"""Live messages from a real runtime on the simulated board match docs/live-messages.md.

The doc's `| key |` tables are the contract: every key a message carries has a row, every
row's key is carried (keys documented as "Only for" some trials may be absent).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.acquisition.process import RealtimeOptions
from station.board.spec import BoardOptions
from station.calibration import load_calibration
from station.calibration.estimator import make_estimator
from station.commands._common import SIM_CALIBRATION
from station.live.hub import LiveHub
from station.live.runtime import (
    EMPTY_BOARD_FRAMES_PER_MESSAGE,
    FRAMES_PER_MESSAGE,
    StationConfig,
    StationRuntime,
    load_wake_n,
)
from station.protocols import TrialSpec, load_protocols
from station.trials.events import EVENT_KINDS, State
from station.trials.hold import HoldEngine, engine_for
from station.trials.runner import TrialRequest, TrialRunner
from station.trials.synthetic_samples import Script

DOC = Path(__file__).resolve().parents[1] / "docs" / "live-messages.md"


def key_tables() -> dict[str, dict[str, str]]:
    """Section title -> {key: table row} for the doc's tables headed `| key |`."""
    tables: dict[str, dict[str, str]] = {}
    section, rows = "", None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section, rows = line[3:].strip(), None
        elif line.startswith("| key |"):
            rows = tables.setdefault(section, {})
        elif rows is not None and not line.startswith("|"):
            rows = None
        elif rows is not None and (m := re.match(r"\| `([^`]+)` \|", line)):
            rows[m.group(1)] = line
    return tables


def documented(section: str, prefix: str = "") -> dict[str, str]:
    """Keys of one level: `prefix` + name with no further dot, e.g. "frames." -> t, counts."""
    tables = key_tables()
    title = next(t for t in tables if t.startswith(section))
    return {
        key[len(prefix):]: row
        for key, row in tables[title].items()
        if key.startswith(prefix) and "." not in key[len(prefix):]
    }


def always(rows: dict[str, str]) -> set[str]:
    return {key for key, row in rows.items() if "only for" not in row.lower()}


def read(hub: LiveHub, after: int, until: Any, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Messages after id `after` until one satisfies `until` (returned last)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items, _ = hub.read_after(after, timeout=0.5)
        for msg_id, data in items:
            after = msg_id
            got.append(json.loads(data))
            if until(got[-1]):
                return got
    pytest.fail(f"no matching live message within {timeout} s ({len(got)} read)")


def sim_runtime(calibrated: bool) -> StationRuntime:
    estimator = None
    if calibrated:
        estimator = make_estimator(load_calibration(SIM_CALIBRATION), auto_zero=True)
    return StationRuntime(
        StationConfig(
            board=BoardOptions(spec="sim", realtime=True, seed=3),
            realtime=RealtimeOptions(sched_fifo_priority=0),
        ),
        estimator=estimator,
    )


def check_frames_message(msg: dict[str, Any]) -> None:
    assert msg.keys() == documented("`frames` messages").keys()
    frames = msg["frames"]
    assert frames.keys() == documented("`frames` messages", "frames.").keys()
    lengths = {len(v) for v in frames.values()}
    assert len(lengths) == 1 and lengths.pop() >= 1
    assert msg["t"] == frames["t"][-1]


class Chatty:
    """A listener with a hold status and one event per message."""

    def __init__(self) -> None:
        self.frames = 0
        self.parts = 0

    def on_frame(self, frame, sample) -> None:
        self.frames += 1

    def live_part(self) -> dict[str, Any]:
        self.parts += 1
        return {"hold": {"state": "chatty"}, "events": [{"n": self.parts}]}


class Unruly(Chatty):
    """A listener that tries to add a key of its own to the message."""

    def live_part(self) -> dict[str, Any]:
        return {"events": [], "surprise": 1}


def test_doc_tables_are_found_and_list_every_event_kind():
    assert {"kind", "id", "frames", "hold", "events"} <= documented("`frames` messages").keys()
    assert "state" in documented("`hold`", "hold.")
    kinds_table = re.search(r"\| kind \| detail \|\n\|---\|---\|\n((?:\|.*\n)+)", DOC.read_text())
    assert kinds_table is not None
    kinds = {k for row in kinds_table.group(1).splitlines()
             for k in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert kinds == set(EVENT_KINDS)


def test_frames_messages_without_listeners_then_with_them():
    runtime = sim_runtime(calibrated=False)
    runtime.start()
    try:
        messages = read(runtime.hub, 0, lambda m: m["id"] >= 6)
        ids = [m["id"] for m in messages]
        assert ids == list(range(1, len(ids) + 1))
        for msg in messages:
            check_frames_message(msg)
            assert msg["kind"] == "frames" and msg["calibrated"] is False
            assert msg["hold"] is None and msg["events"] == []  # nothing subscribed
            assert msg["force_n"] is None and msg["cop_mm"] is None
            assert all(len(c) == 4 for c in msg["frames"]["counts"])
        # Steady state: 4 frames a message (the first may go out before 4 arrived).
        assert len(messages[-1]["frames"]["t"]) == FRAMES_PER_MESSAGE

        chatty, unruly = Chatty(), Unruly()
        runtime.subscribe(chatty)
        runtime.subscribe(unruly)
        errors = runtime.processing_errors
        later = read(runtime.hub, ids[-1], lambda m: m["id"] > ids[-1] + 5)
        for msg in later:
            check_frames_message(msg)  # no "surprise" key
        parted = [m for m in later if m["hold"] is not None]
        assert len(parted) >= 4 and all(m["hold"] == {"state": "chatty"} for m in parted)
        numbers = [e["n"] for m in parted for e in m["events"]]
        assert numbers == list(range(numbers[0], numbers[0] + len(parted)))  # each once
        assert chatty.frames > 0
        assert runtime.processing_errors > errors  # the unruly listener was refused, counted
    finally:
        runtime.stop()


@contextlib.contextmanager
def runtime_with_runner() -> Iterator[tuple[StationRuntime, TrialRunner]]:
    """A calibrated simulated station with a trial runner subscribed, running."""
    runtime = sim_runtime(calibrated=True)
    runner = TrialRunner(runtime.calibration_snapshot, publish=runtime.hub.publish)
    runtime.subscribe(runner)
    runtime.start()
    try:
        yield runtime, runner
    finally:
        runtime.stop()
        runner.close()


def test_an_empty_board_sends_few_messages_and_someone_stepping_on_goes_out_at_once():
    with runtime_with_runner() as (runtime, runner):
        # Nobody on the board: every frame still goes out, a quarter second to a message.
        empty = read(runtime.hub, 0, lambda m: m["id"] >= 8)
        assert all(m["force_n"] is None or m["force_n"] < 20 for m in empty)
        assert len(empty[-1]["frames"]["t"]) == EMPTY_BOARD_FRAMES_PER_MESSAGE
        frame_times = [t for m in empty[2:] for t in m["frames"]["t"]]
        assert all(0.005 < b - a < 0.02 for a, b in itertools.pairwise(frame_times))

        runtime.perform("step_on", mass_kg=70, stance="double")
        on = read(runtime.hub, runtime.hub.last_id,
                  lambda m: m["cop_mm"] is not None and len(m["frames"]["t"]) <= 4)
        # The first frame with a load woke the reader: it ends its message (a frame more may
        # have come while the reader woke), it does not wait up to 19 frames for the rest.
        wake_n = load_wake_n(runtime.estimator.calibration)
        first = next(m for m in on if any(f is not None and f >= 1.1 * wake_n
                                          for f in m["frames"]["force_n"]))
        forces = first["frames"]["force_n"]
        after = len(forces) - 1 - next(i for i, f in enumerate(forces)
                                       if f is not None and f >= 1.1 * wake_n)
        assert after <= 2, forces
        loaded = read(runtime.hub, on[-1]["id"], lambda m: m["id"] >= on[-1]["id"] + 3)
        assert all(len(m["frames"]["t"]) == FRAMES_PER_MESSAGE for m in loaded[1:])

        runtime.perform("step_off")
        off = read(runtime.hub, runtime.hub.last_id,
                   lambda m: len(m["frames"]["t"]) == EMPTY_BOARD_FRAMES_PER_MESSAGE)
        assert off[-1]["cop_mm"] is None

        # A trial waiting for its athlete has a hold status: the full rate, board empty.
        runner.start(TrialRequest("single-leg-left", "left-open-firm"))
        armed = read(runtime.hub, runtime.hub.last_id, lambda m: m["hold"] is not None)
        waiting = read(runtime.hub, armed[-1]["id"], lambda m: m["id"] >= armed[-1]["id"] + 3)
        assert all(m["hold"] is not None and m["cop_mm"] is None for m in waiting)
        assert all(len(m["frames"]["t"]) == FRAMES_PER_MESSAGE for m in waiting[1:])
        runner.abort()


def test_trial_runner_parts_and_trial_result_match_the_doc():
    with runtime_with_runner() as (runtime, runner):
        read(runtime.hub, 0, lambda m: m["calibrated"])
        runner.start(TrialRequest("single-leg-left", "left-open-firm"))
        start = runtime.hub.last_id
        msg = read(runtime.hub, start, lambda m: m["hold"] is not None)[-1]
        check_frames_message(msg)
        hold_rows = documented("`hold`", "hold.")
        assert always(hold_rows) <= msg["hold"].keys() <= hold_rows.keys()
        assert msg["hold"]["protocol"] == "single-leg-left"

        aborted_at = runtime.hub.last_id
        runner.abort()
        after = read(runtime.hub, aborted_at, lambda m: m["kind"] == "trial_result")
        result_msg = after[-1]
        # The abort's events ride on the next frames message (before or after the result).
        if not any(m["kind"] == "frames" and m["events"] for m in after):
            after += read(runtime.hub, result_msg["id"], lambda m: bool(m["events"]))
        events = [e for m in after if m["kind"] == "frames" for e in m["events"]]
        assert "trial_aborted" in {e["kind"] for e in events}
        event_rows = documented("`events`", "events[].")
        assert all(e.keys() == event_rows.keys() for e in events)

        assert result_msg.keys() == documented("`trial_result` messages").keys()
        result = result_msg["result"]
        assert result.keys() == documented("`trial_result` messages", "result.").keys()
        outcome_rows = documented("`trial_result` messages", "result.outcome.")
        assert result["outcome"].keys() == outcome_rows.keys()
        assert result["outcome"]["state"] == "aborted" and result["trial_uid"] is None


def test_every_protocols_hold_status_is_documented():
    hold_rows = documented("`hold`", "hold.")
    # TrialRunner.status adds these (abort_reason, aborted_by once aborted; expires_in_s
    # while the board is empty)
    runner_keys = {"protocol", "trial_id", "instructions", "abort_reason", "aborted_by", "run",
                   "owner", "athlete_uid", "session_uid", "seq", "demo", "expires_in_s"}
    seen: set[str] = set()

    def check(engine: HoldEngine, what: str) -> None:
        keys = engine.status().keys() | runner_keys
        assert always(hold_rows) <= keys <= hold_rows.keys(), what
        seen.update(keys)

    for protocol in load_protocols().values():
        for spec in protocol.trials:
            engine = engine_for(protocol, spec)
            check(engine, f"{protocol.id}/{spec.id} before the hold")
            if spec.stance == "double":  # BESS errors and drill targets exist once holding
                for sample in Script(seed=1).empty(0.5).step_on().stand(8.0).build():
                    engine.update(sample)
                assert engine.state is State.HOLDING
                check(engine, f"{protocol.id}/{spec.id} holding")
    check(HoldEngine(TrialSpec(id="hop", stance="single-left", eyes="open", task="hop")), "hop")
    # the wobble task (the baseline battery and the wobble drill name it too), from code
    check(HoldEngine(TrialSpec(id="wob", stance="double", surface="wobble", task="wobble")),
          "wobble")
    assert seen == hold_rows.keys()  # every documented key occurs
