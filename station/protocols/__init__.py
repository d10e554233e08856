"""Balance-test protocols: data files under data/, loaded and validated by `model`."""

from __future__ import annotations

from station.protocols.model import (
    BASELINE_RULES,
    BATTERY_KIND,
    BESS_KIND,
    EYES,
    PROTOCOL_KINDS,
    STANCES,
    SURFACES,
    TASK_INSTRUCTIONS,
    TASKS,
    Protocol,
    ProtocolError,
    TrialSpec,
    default_instructions,
    get_protocol,
    load_protocol_file,
    load_protocols,
    parse_protocol,
    protocols_json,
)

__all__ = [
    "BASELINE_RULES",
    "BATTERY_KIND",
    "BESS_KIND",
    "EYES",
    "PROTOCOL_KINDS",
    "STANCES",
    "SURFACES",
    "TASKS",
    "TASK_INSTRUCTIONS",
    "Protocol",
    "ProtocolError",
    "TrialSpec",
    "default_instructions",
    "get_protocol",
    "load_protocol_file",
    "load_protocols",
    "parse_protocol",
    "protocols_json",
]
