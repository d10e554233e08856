"""Station configuration: one TOML file, every key documented here with its default.

Precedence (later wins): defaults < config file < environment variables
(`BALANCE_STATION_<SECTION>_<KEY>`, e.g. BALANCE_STATION_SERVER_PORT=8081) <
command-line options. Unknown keys and bad values are refused at start with
the key named, so a typo never silently falls back to a default.

The [hold] table is free-form here: its keys are the hold engine's thresholds and are
validated by `station.trials.thresholds.HoldConfig.from_dict`, the one place that knows them.
`config["hold"]` holds only the keys the user set (pass it to `HoldConfig.from_dict`).

`python -m station.config --help` prints the defaults, writes a starting config file
(the installer uses it; it never overwrites one), checks a file, or regenerates
docs/configuration.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_PATH = Path("/etc/balance-station/config.toml")
ENV_PREFIX = "BALANCE_STATION_"
FREE_TABLES = ("hold",)  # validated as a whole by their owner, not key by key here


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


def _path(value: Any) -> str:
    text = _text(value)
    if not text.strip():
        raise ValueError("must be a directory path, not empty")
    return text


def _board(value: Any) -> str:
    text = _text(value)
    from station.board.spec import BOARD_KINDS, SPEC_HELP, board_kind

    if board_kind(text) not in BOARD_KINDS:
        raise ValueError(f"must be {SPEC_HELP}")
    return text


def _gain(value: Any) -> int:
    if value not in (128, 64, "128", "64"):
        raise ValueError("must be 128 or 64 (channel A)")
    return int(value)


CLOCK_MODES = ("internal", "shared")


def _clock(value: Any) -> str:
    if value not in CLOCK_MODES:
        raise ValueError(f"must be {' or '.join(repr(m) for m in CLOCK_MODES)}")
    return str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    truthy, falsy = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
    if isinstance(value, str) and value.lower() in truthy + falsy:
        return value.lower() in truthy
    raise ValueError("must be true or false")


def _station_name(value: Any) -> str:
    text = _text(value).strip()
    if not 1 <= len(text) <= 60 or any(ord(c) < 32 for c in text):
        raise ValueError("must be 1 to 60 printable characters")
    return text


def _database_url(value: Any) -> str:
    text = _text(value)
    if text and text.split("://", 1)[0].split("+", 1)[0] not in ("sqlite", "postgresql"):
        raise ValueError(
            "must be '' (SQLite in the data directory) or a sqlite:// or postgresql:// URL"
        )
    return text


SCHEMA: dict[str, dict[str, Key]] = {
    "station": {
        "name": Key(
            "Balance Station", _station_name, "the station's name: every page's header, reports"
        ),
        "default_duration_s": Key(
            0,
            _int_range(0, 120),
            "length of a hold started without one, in seconds (0 = the protocol's own)",
        ),
    },
    "board": {
        "kind": Key("sim", _board, "board source: sim, emulator, hx711 or replay:FILE"),
        "sck": Key(5, _bcm_pin, "BCM pin of the shared HX711 clock (SCK)"),
        "douts": Key((6, 13, 19, 26), _pins, "BCM pins of the four DOUT lines, cells c0..c3"),
        "gain": Key(128, _gain, "HX711 gain: 128 or 64"),
        "clock": Key(
            "internal",
            _clock,
            "HX711 clocks: 'internal' (each chip its own oscillator, the station aligns the "
            "cells in software) or 'shared' (one clock into every XI, the chips started "
            "together: hardware/shared-clock.md)",
        ),
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
        "thread_stack_kb": Key(
            1024,
            _int_range(256, 8192),
            "stack reserved per thread of the station (kB; Linux's default is 8192: 64 threads "
            "would reserve 512 MB of a 32-bit Pi's address space)",
        ),
        "connection_limit": Key(
            1000,
            _int_range(100, 100_000),
            "open connections the server keeps at most (the per-address limit bites first)",
        ),
        "connections_per_address": Key(
            24,
            _int_range(2, 10_000),
            "open connections one client address may hold; more are refused at once",
        ),
        "header_timeout_s": Key(
            10,
            _int_range(1, 300),
            "seconds a client has to send a request's headers (a new connection: its request)",
        ),
        "body_timeout_s": Key(
            10, _int_range(1, 300), "seconds a request body may send nothing before it is dropped"
        ),
        "streams_per_principal": Key(
            8,
            _int_range(1, 48),
            "live streams one user, kiosk owner or API token may hold (the station has 48)",
        ),
    },
    "storage": {
        "data_dir": Key("/var/lib/balance-station", _path, "data directory: database, backups"),
        "database_url": Key(
            "", _database_url, "SQLAlchemy URL; '' = SQLite (station.db) in the data directory"
        ),
        "raw_frames_months": Key(
            0,
            _int_range(0, 1200),
            "keep raw frames of trials this many months (0 = forever); results are always kept",
        ),
        "backup_dir": Key("", _text, "where backups go ('' = the data directory's backups/)"),
        "backup_keep": Key(10, _int_range(1, 1000), "how many backups to keep (oldest go first)"),
        "disk_warn_mb": Key(
            500,
            _int_range(0, 1_000_000),
            "free disk (MB) in the data directory below which health shows a warning",
        ),
        "disk_floor_mb": Key(
            100,
            _int_range(0, 1_000_000),
            "free disk (MB) below which trials are refused before they start (0 = never)",
        ),
    },
    "acquisition": {
        "cpu": Key(-1, _int_range(-1, 255), "CPU for the acquisition process (-1 = the last)"),
        "sched_fifo_priority": Key(50, _int_range(0, 99), "SCHED_FIFO priority (0 = don't ask)"),
    },
}

SECTION_DOCS: dict[str, str] = {
    "station": "The club's station: its name and trial defaults.",
    "board": "The load cells and their HX711 amplifiers (pins are BCM GPIO numbers).",
    "server": "The web app.",
    "storage": "Where the history lives, how long raw data is kept, and backups.",
    "acquisition": "The acquisition process (its own process, one CPU, real-time priority).",
    "hold": (
        "Thresholds of the hold engine (readiness, touch-downs, step-offs, hops, pushes). "
        "Set only the ones you want to change; each is checked against its range."
    ),
}


class Config:
    """Validated settings: `config["server"]["port"]`."""

    def __init__(self, values: dict[str, dict[str, Any]], source: str) -> None:
        self.values = values
        self.source = source

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]


# The keys the Settings page may change, and when a change takes effect. Their values are
# kept in the store (station_settings, "config.<section>.<key>") and override the config
# file and the environment; the command line still wins (see docs/configuration.md).
PAGE_SETTINGS: dict[str, str] = {
    "station.name": "at once (page header, reports)",
    "station.default_duration_s": (
        "at the next trial started without a length (a hold; a hop or push keeps the "
        "protocol's)"
    ),
    "board.demo": (
        "at once: pauses or resumes the demo athletes (they run only on the simulated board "
        "started with --demo or board.demo = true: starting them needs a restart)"
    ),
    "storage.raw_frames_months": "at the next daily maintenance (retention)",
    "storage.backup_dir": "at the next daily maintenance (backup)",
    "storage.backup_keep": "at the next daily maintenance (backup)",
}


def check_setting(name: str, value: Any) -> Any:
    """`value` checked by the schema's own validator for "section.key"; ConfigError naming
    the key (the Settings page and the config file share one set of rules)."""
    section, _, key = name.partition(".")
    spec = SCHEMA.get(section, {}).get(key)
    if spec is None:
        raise ConfigError(f"unknown setting {name!r}")
    try:
        return spec.check(value)
    except ValueError as exc:
        raise ConfigError(f"{name} {exc} (got {value!r})") from None


def with_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    """A copy of `config` with the Settings page's values ({"section.key": value}) applied.

    Only PAGE_SETTINGS are taken; a stored value the schema no longer accepts (a later
    version narrowed a range) is left out, so the file's value holds and the station starts.
    """
    values = {section: dict(items) for section, items in config.values.items()}
    applied = []
    for name, value in overrides.items():
        if name not in PAGE_SETTINGS:
            continue
        try:
            checked = check_setting(name, value)
        except ConfigError:
            continue
        section, _, key = name.partition(".")
        values[section][key] = checked
        applied.append(name)
    source = config.source if not applied else f"{config.source} + Settings page"
    return Config(values, source)


def _hold_settings() -> Any:
    """The hold engine's settings class, or None when this build has no hold engine."""
    try:
        from station.trials.thresholds import HoldConfig
    except ImportError:
        return None
    return HoldConfig


def hold_defaults() -> list[tuple[str, Any, str]]:
    """(key, default, why) of every [hold] setting, in the hold engine's order."""
    hold = _hold_settings()
    return [] if hold is None else list(hold().describe())


def _check_hold(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    hold = _hold_settings()
    if hold is None:
        if values:
            raise ConfigError(f"{origin}: [hold] settings are not supported by this version")
        return {}
    try:
        hold.from_dict(dict(values))
    except ValueError as exc:
        raise ConfigError(f"{origin}: [hold] {exc}") from None
    return dict(values)


def _number(value: str) -> int | float | str:
    """An environment string as the number it spells (the hold engine wants numbers)."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _validate(raw: Mapping[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section, items in raw.items():
        if section not in SCHEMA and section not in FREE_TABLES:
            known = ", ".join([*SCHEMA, *FREE_TABLES])
            raise ConfigError(f"{origin}: unknown section [{section}] (known: {known})")
        if not isinstance(items, Mapping):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        if section in FREE_TABLES:
            out[section] = dict(items)
            continue
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


def _from_environment(env: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """BALANCE_STATION_<SECTION>_<KEY> values, validated; other BALANCE_STATION_* are ignored.

    A variable naming a known section but an unknown key is refused (a typo in a
    container's environment must not pass silently); variables of other sections
    (BALANCE_STATION_DB, BALANCE_STATION_WEB_DIR, ...) belong to other parts of the station.
    """
    values: dict[str, dict[str, Any]] = {}
    names: list[str] = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if section in FREE_TABLES:
            if key:
                values.setdefault(section, {})[key] = _number(env[name])
                names.append(name)
            continue
        if section not in SCHEMA:
            continue
        if key not in SCHEMA[section]:
            known = ", ".join(f"{ENV_PREFIX}{section.upper()}_{k.upper()}" for k in SCHEMA[section])
            raise ConfigError(f"environment {name}: unknown key {section}.{key} (known: {known})")
        for sec, items in _validate({section: {key: env[name]}}, f"environment {name}").items():
            values.setdefault(sec, {}).update(items)
        names.append(name)
    return values, names


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None, required: bool = False
) -> Config:
    """Defaults, then the file (if it exists, or must when `required`), then the environment."""
    values: dict[str, dict[str, Any]] = {
        s: {k: spec.default for k, spec in keys.items()} for s, keys in SCHEMA.items()
    }
    for table in FREE_TABLES:
        values[table] = {}
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
    env_values, env_names = _from_environment(os.environ if environ is None else environ)
    for section, items in env_values.items():
        values[section].update(items)
    hold_env = [n for n in env_names if n.startswith(f"{ENV_PREFIX}HOLD_")]
    origin = source if not hold_env else f"{source} + environment {', '.join(hold_env)}"
    values["hold"] = _check_hold(values["hold"], origin)
    return Config(values, source)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def documented_defaults(
    *, commented: bool = False, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """The whole schema as a TOML file (for docs and the installer).

    `commented=True` comments out every key (a fresh install then follows new defaults of
    later versions) except those in `overrides`, which are written active.
    """
    overrides = overrides or {}
    lines = ["# Balance Station configuration. Every key, with its default."]
    if commented:
        lines.append("# Uncomment a line to change it. Reference: docs/configuration.md")
    tables: list[tuple[str, list[tuple[str, Any, str]]]] = [
        (section, [(k, spec.default, spec.doc) for k, spec in keys.items()])
        for section, keys in SCHEMA.items()
    ]
    tables.append(("hold", hold_defaults()))
    for section, keys in tables:
        lines.append(f"\n[{section}]")
        for key, default, doc in keys:
            active = key in overrides.get(section, {})
            value = overrides[section][key] if active else default
            prefix = "# " if commented and not active else ""
            lines.append(f"# {doc}\n{prefix}{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def configuration_markdown() -> str:
    """docs/configuration.md: every key with its default, made from the schema itself."""
    out = [
        "# Configuration",
        "",
        "<!-- Generated by `python -m station.config markdown > docs/configuration.md`;",
        "     tests/test_config.py fails when this file and the code disagree. -->",
        "",
        f"The station reads `{DEFAULT_CONFIG_PATH}` (another file: `--config FILE`). The",
        "installer writes it with every key commented out, so a station follows the defaults",
        "of the version it runs; uncomment a line to change it. Unknown sections, unknown keys",
        "and bad values stop the station at start with a message naming the key.",
        "",
        "Precedence, later wins: defaults < config file < environment < command line.",
        f"Every key can be set from the environment as `{ENV_PREFIX}<SECTION>_<KEY>`",
        f"(for containers and tests), e.g. `{ENV_PREFIX}SERVER_PORT=8081`,",
        f'`{ENV_PREFIX}BOARD_DOUTS="6,13,19,26"`, `{ENV_PREFIX}HOLD_COUNTDOWN_S=5`.',
        "",
        "Check a file without starting the station: "
        "`/opt/balance-station/venv/bin/python -m station.config check FILE`.",
        "After editing, `sudo systemctl restart balance-station`.",
    ]
    tables: list[tuple[str, list[tuple[str, Any, str]]]] = [
        (section, [(k, spec.default, spec.doc) for k, spec in keys.items()])
        for section, keys in SCHEMA.items()
    ]
    tables.append(("hold", hold_defaults()))
    for section, keys in tables:
        out += ["", f"## [{section}]", "", SECTION_DOCS[section], ""]
        out += ["| key | default | meaning |", "|---|---|---|"]
        for key, default, doc in keys:
            out.append(f"| `{key}` | `{_toml_value(default)}` | {_markdown_cell(doc)} |")
    out += [
        "",
        "## Changed on the Settings page",
        "",
        "An admin can change these keys on the Settings page (`/settings`, or",
        "`PUT /api/settings`). Each value is checked by the same rule as in the file and the",
        "change goes into the security log with its old and new value. The values live in the",
        "database (table `station_settings`, keys `config.<section>.<key>`), so they travel",
        "with backups, and they override the config file and the environment; a command-line",
        "option still wins. \"Use the file's value\" removes the override.",
        "`balance-station settings` lists the values in force and where each comes from.",
        "",
        "| key | takes effect |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {_markdown_cell(when)} |" for name, when in PAGE_SETTINGS.items()]
    out += [
        "",
        "The [hold] thresholds are shown read-only on the page: change them in the file",
        "(see [hold-engine.md](hold-engine.md)) and restart.",
    ]
    out += [
        "",
        "## The whole file",
        "",
        "`python -m station.config defaults` prints every key above as one TOML file; the",
        "installer writes the same text with the keys commented out except",
        '`board.kind = "hx711"` and `server.port = 80` (the unit file allows port 80, so',
        "phones open `http://<hostname>.local/` without a port number).",
    ]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line for the installer and the docs (`python -m station.config ...`)."""
    parser = argparse.ArgumentParser(prog="python -m station.config", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("defaults", help="print every key with its default as TOML")
    sub.add_parser("markdown", help="print docs/configuration.md")
    check = sub.add_parser("check", help="validate a config file (exit 2 naming the bad key)")
    check.add_argument("path", type=Path, nargs="?", default=DEFAULT_CONFIG_PATH)
    get = sub.add_parser("get", help="print one setting (file + environment), for scripts")
    get.add_argument("name", metavar="SECTION.KEY")
    get.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    write = sub.add_parser("write", help="write a commented starting file unless one exists")
    write.add_argument("path", type=Path)
    write.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="an active (uncommented) setting, e.g. board.kind=hx711",
    )
    args = parser.parse_args(argv)
    if args.action == "defaults":
        sys.stdout.write(documented_defaults())
    elif args.action == "markdown":
        sys.stdout.write(configuration_markdown())
    elif args.action == "get":
        section, _, key = args.name.partition(".")
        try:
            config = load_config(args.config)
            value = config[section][key]
        except ConfigError as exc:
            print(f"config error: {exc}", file=sys.stderr)
            return 2
        except KeyError:
            print(f"config error: no setting {args.name}", file=sys.stderr)
            return 2
        if isinstance(value, tuple | list):
            value = " ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        print(value)
    elif args.action == "check":
        try:
            load_config(args.path, environ={}, required=True)
        except ConfigError as exc:
            print(f"config error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.path}: ok")
    else:
        if args.path.exists():
            print(f"{args.path}: exists, left as it is")
            return 0
        overrides: dict[str, dict[str, Any]] = {}
        for item in args.set:
            name, sep, value = item.partition("=")
            section, dot, key = name.partition(".")
            if not sep or not dot:
                parser.error(f"--set {item!r}: expected SECTION.KEY=VALUE")
            overrides.setdefault(section, {})[key] = (
                _number(value) if section in FREE_TABLES else value
            )
        try:
            checked = _validate(overrides, "--set")
        except ConfigError as exc:
            print(f"config error: {exc}", file=sys.stderr)
            return 2
        text = documented_defaults(commented=True, overrides=checked)
        args.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.path.with_name(args.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o644)
        tmp.replace(args.path)
        print(f"{args.path}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
