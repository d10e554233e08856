"""Balance-test protocols: data files under data/, loaded and validated by `model`."""

from __future__ import annotations

from station.protocols.model import (
    EYES,
    PROTOCOL_KINDS,
    STANCES,
    SURFACES,
    TASKS,
    Protocol,
    ProtocolError,
    TrialSpec,
    default_instructions,
    get_protocol,
    load_protocol_file,
    load_protocols,
    parse_protocol,
)

__all__ = [
    "EYES",
    "PROTOCOL_KINDS",
    "STANCES",
    "SURFACES",
    "TASKS",
    "Protocol",
    "ProtocolError",
    "TrialSpec",
    "default_instructions",
    "get_protocol",
    "load_protocol_file",
    "load_protocols",
    "parse_protocol",
]
