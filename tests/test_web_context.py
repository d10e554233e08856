"""The web's seam to the running station: StationRuntime (production) and the tests'
FakeRuntime both implement every member of station.web.context.Station, so what the web
is tested against is what it runs on."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from web_fixtures import FakeRuntime

from station.board.spec import BoardOptions
from station.live.runtime import StationConfig, StationRuntime
from station.web.context import FrameSource, LiveFeed, Station


def protocol_members(proto: type) -> dict[str, Any]:
    """name -> what the protocol declares: a function, a property, or an attribute's type."""
    members: dict[str, Any] = dict(typing.get_type_hints(proto))
    for name, value in vars(proto).items():
        declared = value.fget if isinstance(value, property) else value
        if inspect.isfunction(declared) and declared.__qualname__.startswith(f"{proto.__name__}."):
            members[name] = value
    return members


def _accepts(implementation: Any, declared: Any) -> bool:
    """Whether `implementation` can be called the way the protocol's method is declared."""
    wanted = list(inspect.signature(declared).parameters.values())[1:]  # without self
    have = inspect.signature(implementation)
    keywords = {p.name: None for p in wanted if p.kind is p.POSITIONAL_OR_KEYWORD}
    try:
        have.bind(**keywords)
    except TypeError:
        return False
    takes_any = any(p.kind is p.VAR_KEYWORD for p in have.parameters.values())
    return takes_any or not any(p.kind is p.VAR_KEYWORD for p in wanted)


def missing_members(obj: Any, proto: type) -> list[str]:
    """The members of `proto` that `obj` lacks or cannot be called like (nested protocols
    checked too); [] when `obj` implements it."""
    problems = []
    for name, declared in protocol_members(proto).items():
        if not hasattr(obj, name):
            problems.append(f"{proto.__name__}.{name}: missing")
            continue
        value = getattr(obj, name)
        if inspect.isfunction(declared):
            if not callable(value) or not _accepts(value, declared):
                problems.append(f"{proto.__name__}.{name}: not callable as declared")
        elif isinstance(declared, type) and getattr(declared, "_is_protocol", False):
            problems += missing_members(value, declared)
    return problems


@pytest.fixture
def station_runtime() -> Iterator[StationRuntime]:
    """A StationRuntime on the simulated board, not started (no acquisition process)."""
    runtime = StationRuntime(StationConfig(board=BoardOptions(spec="sim")))
    yield runtime
    runtime.hub.close()
    runtime.acquisition.stats = None  # type: ignore[assignment]  # views into the ring
    runtime.acquisition.ring.close()


def test_the_protocol_lists_what_the_web_uses() -> None:
    assert set(protocol_members(Station)) == {
        "hub", "history", "board_kind", "health", "calibration_status",
        "calibration_snapshot", "reload_calibration", "perform",
    }
    assert set(protocol_members(LiveFeed)) == {"last_id", "closed", "read_after"}
    assert set(protocol_members(FrameSource)) == {"written", "__len__", "latest"}


def test_station_runtime_implements_station(station_runtime: StationRuntime) -> None:
    assert missing_members(station_runtime, Station) == []


def test_the_fake_runtime_implements_station() -> None:
    runtime = FakeRuntime(None)
    try:
        assert missing_members(runtime, Station) == []
    finally:
        runtime.close()


def test_a_missing_or_misshapen_member_is_found() -> None:
    class Incomplete(FakeRuntime):
        board_kind = "sim"
        perform = None  # type: ignore[assignment]

        def reload_calibration(self) -> None:  # type: ignore[override]
            return None

    runtime = Incomplete(None)
    try:
        runtime.hub = object()  # type: ignore[assignment]
        assert sorted(missing_members(runtime, Station)) == [
            "LiveFeed.closed: missing",
            "LiveFeed.last_id: missing",
            "LiveFeed.read_after: missing",
            "Station.perform: not callable as declared",
            "Station.reload_calibration: not callable as declared",
        ]
    finally:
        runtime.trials.close()
