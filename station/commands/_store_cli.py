"""How store commands find the database: --db URL, else the config's storage settings."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from station.commands._common import add_config_args, resolve
from station.commands._errors import UserError
from station.config import with_overrides
from station.store import SchemaMismatchError, Store, StoreError, open_store


def add_store_args(parser: argparse.ArgumentParser) -> None:
    add_config_args(parser)
    parser.add_argument("--db", help="database URL (overrides the config's storage settings)")


def location(args: argparse.Namespace) -> str:
    if getattr(args, "db", None):
        return str(args.db)
    settings = resolve(args)
    return settings.config["storage"]["database_url"] or str(settings.data_dir)


def open_from_args(args: argparse.Namespace, upgrade: bool = False) -> Store:
    try:
        return open_store(location(args), upgrade=upgrade)
    except SchemaMismatchError as exc:
        raise UserError(str(exc)) from None
    except StoreError as exc:
        raise UserError(str(exc)) from None


def setting_in_force(args: argparse.Namespace, store: Store, name: str) -> Any:
    """A setting (`section.key`) as the station uses it: an admin's Settings-page value wins
    over the config file's, so a command run by hand does what the daily maintenance does."""
    section, _, key = name.partition(".")
    return with_overrides(resolve(args).config, store.config_overrides())[section][key]


def parse_since(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def find_athlete_uid(store: Store, ref: str) -> str:
    try:
        return store.find_athlete(ref).uid
    except StoreError as exc:
        raise UserError(str(exc)) from None
