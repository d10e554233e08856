"""What the web app is given: the running station, the trial runner, the store, its paths.

`create_app(WebContext(...))` receives these explicitly (station/commands/run.py builds
the real ones, tests/web_fixtures.py fakes), and views read them with `context()`.
`Station` is what the web needs of the running station, stated as a Protocol so the web
does not depend on station.live: StationRuntime and the tests' FakeRuntime both
implement it (tests/test_web_context.py checks every member).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app

if TYPE_CHECKING:
    import numpy as np

    from station.config import Config
    from station.store import Store
    from station.trials.runner import TrialRunner


class LiveFeed(Protocol):
    """The live messages the station publishes (station.live.hub.LiveHub), as /api/live
    reads them: numbered, JSON-encoded, the newest kept."""

    @property
    def last_id(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def read_after(self, last_id: int, timeout: float) -> tuple[list[tuple[int, str]], int]:
        """(id, JSON text) of the messages after `last_id`, and how many were missed."""
        ...


class FrameSource(Protocol):
    """The station's recent frames (station.live.frame_history.FrameHistory), as the guided
    calibration reads them (station.calibration.guided.capture_counts)."""

    @property
    def written(self) -> int: ...

    def __len__(self) -> int: ...

    def latest(self, n: int) -> dict[str, np.ndarray]: ...


class Station(Protocol):
    """What the web app uses of the running station (station.live.runtime.StationRuntime)."""

    hub: LiveFeed
    history: FrameSource

    @property
    def board_kind(self) -> str:
        """"sim", "emulator", "hx711"...: the board the station reads."""
        ...

    def health(self) -> dict[str, Any]:
        """Health without personal data (/api/health, the status page)."""
        ...

    def calibration_status(self) -> dict[str, Any]:
        """Calibrated or not, why not, drift and age warnings."""
        ...

    def calibration_snapshot(self) -> dict[str, Any] | None:
        """The calibration in force now (with auto-zero's offsets), or None."""
        ...

    def reload_calibration(self, path: Any) -> str | None:
        """Use the calibration file at `path` from the next frame; the problem, or None."""
        ...

    def perform(self, action: str, **params: Any) -> None:
        """Tell a simulated board's athlete what to do (real boards ignore it)."""
        ...


@dataclass
class WebContext:
    """The objects the views use. `store` is None when the database could not be opened
    (the app then serves only /api/health); `calibration_path` None means no calibration
    file is configured (calibrate with the CLI); `station_urls` is filled in by
    `balance-station run` once the server listens (best address first); `config` is the
    configuration as loaded, without the Settings page's values (the page shows both)."""

    runtime: Station
    trials: TrialRunner | None = None
    store: Store | None = None
    data_dir: Path | None = None
    calibration_path: Path | None = None
    station_urls: list[str] = field(default_factory=list)
    config: Config | None = None  # as loaded (file + environment); the Settings page's over it


def context() -> WebContext:
    """The station objects of the current app (inside a request or an app context)."""
    return current_app.extensions["station"]
