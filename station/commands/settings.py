"""`balance-station settings [get NAME]`: the settings in force, the Settings page's included.

The Settings page keeps its values in the database, over the config file; scripts (the daily
maintenance) read a value here so they follow the page: `balance-station settings get
storage.backup_keep` prints one value, `balance-station settings` all the page's keys and
where each comes from.
"""

from __future__ import annotations

import argparse

from station.commands._common import resolve
from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args
from station.config import PAGE_SETTINGS, SCHEMA, with_overrides


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("settings", help="settings in force (file + Settings page)")
    parser.add_argument("action", nargs="?", choices=("list", "get"), default="list")
    parser.add_argument("name", nargs="?", metavar="SECTION.KEY")
    add_store_args(parser)
    parser.set_defaults(func=handle)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    return str(value)


def handle(args: argparse.Namespace) -> int:
    config = resolve(args).config
    with open_from_args(args) as store:
        overrides = store.config_overrides()
    merged = with_overrides(config, overrides)
    if args.action == "get":
        section, _, key = (args.name or "").partition(".")
        if key not in SCHEMA.get(section, {}):
            raise UserError(f"no setting {args.name!r} (e.g. storage.backup_keep)")
        print(_shown(merged[section][key]))
        return 0
    for name in PAGE_SETTINGS:
        section, _, key = name.partition(".")
        origin = "Settings page" if name in overrides else "config"
        print(f"{name} = {_shown(merged[section][key])}  ({origin})")
    return 0
