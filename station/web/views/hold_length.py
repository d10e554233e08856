"""How long a trial started from the web lasts: the length asked for, else (a hold) the
station's default hold (station.default_duration_s, Settings page), else the protocol's own.

One rule for the trial start (POST /api/trials/start) and for the lengths the kiosk and
physio pages are given, so a page's timer never promises another length than the trial
runs. Hops and pushes keep their protocol's length: the default is a hold's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from station.protocols import Protocol, TrialSpec, load_protocols
from station.web.views.api_settings import default_duration_s

HOLD = "hold"


def planned_duration_s(spec: TrialSpec, asked: float | None) -> float | None:
    """The length to run `spec` with (None: its own): `asked`, else a hold's default."""
    if asked is not None or spec.task != HOLD:
        return asked
    return default_duration_s()


def protocols_as_run() -> list[dict[str, Any]]:
    """Every protocol as JSON (Protocol.to_json), each hold with the length a trial started
    without one runs (the station's default when set)."""
    default = default_duration_s()
    out = []
    for protocol in load_protocols().values():
        if default is not None:
            protocol = _with_hold_length(protocol, default)
        out.append(protocol.to_json())
    return out


def _with_hold_length(protocol: Protocol, duration_s: float) -> Protocol:
    trials = tuple(t.with_duration(duration_s) if t.task == HOLD else t for t in protocol.trials)
    return dataclasses.replace(protocol, trials=trials)
