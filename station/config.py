"""Station configuration: one TOML file, every key documented here with its default.

Precedence (later wins): defaults < config file < environment variables
(`BALANCE_STATION_<SECTION>_<KEY>`, e.g. BALANCE_STATION_SERVER_PORT=8081) <
command-line options. Unknown keys and bad values are refused at start with
the key named, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_PATH = Path("/etc/balance-station/config.toml")
ENV_PREFIX = "BALANCE_STATION_"


class ConfigError(ValueError):
    """A bad configuration value; the message names the key."""


@dataclass(frozen=True)
class Key:
    default: Any
    check: Callable[[Any], Any]
    doc: str


def _int_range(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}")
        return value

    return check


def _bcm_pin(value: Any) -> int:
    return _int_range(0, 27)(value)


def _pins(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ValueError("must be a list of four BCM pin numbers (one DOUT per cell)")
    pins = tuple(_bcm_pin(v) for v in value)
    if len(set(pins)) != 4:
        raise ValueError("must be four different pins")
    return pins


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _board(value: Any) -> str:
    text = _text(value)
    kind = text.split(":", 1)[0]
    if kind not in ("sim", "emulator", "hx711", "replay"):
        raise ValueError("must be sim, emulator, hx711 or replay:FILE")
    return text


def _gain(value: Any) -> int:
    if value not in (128, 64, "128", "64"):
        raise ValueError("must be 128 or 64 (channel A)")
    return int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    truthy, falsy = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
    if isinstance(value, str) and value.lower() in truthy + falsy:
        return value.lower() in truthy
    raise ValueError("must be true or false")


SCHEMA: dict[str, dict[str, Key]] = {
    "board": {
        "kind": Key("sim", _board, "board source: sim, emulator, hx711 or replay:FILE"),
        "sck": Key(5, _bcm_pin, "BCM pin of the shared HX711 clock (SCK)"),
        "douts": Key((6, 13, 19, 26), _pins, "BCM pins of the four DOUT lines, cells c0..c3"),
        "gain": Key(128, _gain, "HX711 gain: 128 or 64"),
        "calibration": Key(
            "",
            _text,
            "calibration file ('' = the data dir's calibration.json; the shipped file for sim)",
        ),
        "demo": Key(False, _bool, "simulated athletes keep doing tests (sim only)"),
    },
    "server": {
        "host": Key("0.0.0.0", _text, "address to listen on (0.0.0.0 = every network)"),
        "port": Key(8080, _int_range(1, 65535), "TCP port of the web app"),
        "threads": Key(64, _int_range(8, 512), "web server threads (a live stream holds one)"),
    },
    "storage": {
        "data_dir": Key("/var/lib/balance-station", _text, "data directory: database, backups"),
        "database_url": Key("", _text, "SQLAlchemy URL; '' = SQLite in the data directory"),
    },
    "acquisition": {
        "cpu": Key(-1, _int_range(-1, 255), "CPU for the acquisition process (-1 = the last)"),
        "sched_fifo_priority": Key(50, _int_range(0, 99), "SCHED_FIFO priority (0 = don't ask)"),
    },
}


class Config:
    """Validated settings: `config["server"]["port"]`."""

    def __init__(self, values: dict[str, dict[str, Any]], source: str) -> None:
        self.values = values
        self.source = source

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]


def _validate(raw: Mapping[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section, items in raw.items():
        if section not in SCHEMA:
            raise ConfigError(f"{origin}: unknown section [{section}] (known: {', '.join(SCHEMA)})")
        if not isinstance(items, Mapping):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        for key, value in items.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                known = ", ".join(SCHEMA[section])
                raise ConfigError(f"{origin}: unknown key {section}.{key} (known: {known})")
            try:
                out.setdefault(section, {})[key] = spec.check(value)
            except ValueError as exc:
                raise ConfigError(f"{origin}: {section}.{key} {exc} (got {value!r})") from None
    return out


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None, required: bool = False
) -> Config:
    """Defaults, then the file (if it exists, or must when `required`), then the environment."""
    values = {s: {k: spec.default for k, spec in keys.items()} for s, keys in SCHEMA.items()}
    path = path or DEFAULT_CONFIG_PATH
    source = "defaults"
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        for section, items in _validate(raw, str(path)).items():
            values[section].update(items)
        source = str(path)
    elif required:
        raise ConfigError(f"{path}: no such config file")
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        section, _, key = rest.partition("_")
        if section in SCHEMA and key in SCHEMA[section]:
            for sec, items in _validate({section: {key: value}}, f"environment {name}").items():
                values[sec].update(items)
    return Config(values, source)


def documented_defaults() -> str:
    """The whole schema as a commented TOML file (for docs and the installer)."""
    lines = ["# Balance Station configuration. Every key, with its default."]
    for section, keys in SCHEMA.items():
        lines.append(f"\n[{section}]")
        for key, spec in keys.items():
            default = spec.default
            if isinstance(default, tuple):
                default = list(default)
            text = repr(default).replace("'", '"').replace("False", "false").replace("True", "true")
            lines.append(f"# {spec.doc}\n{key} = {text}")
    return "\n".join(lines) + "\n"
