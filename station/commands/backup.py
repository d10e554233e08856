"""`balance-station backup DEST`: online copy of the SQLite database (safe while running)."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args, setting_in_force
from station.store import StoreError
from station.store.backup import backup, daily_backup


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backup", help="copy the database (safe while the station runs)")
    parser.add_argument("dest", type=Path, help="backup file, or folder for a dated file")
    parser.add_argument(
        "--daily",
        action="store_true",
        help="at most one backup a day into the DEST folder, keeping --keep",
    )
    parser.add_argument(
        "--keep", type=int, default=None,
        help="daily backups to keep (default: storage.backup_keep in force, the Settings page's "
        "over the config file's)",
    )
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        try:
            if args.daily:
                keep = args.keep
                if keep is None:
                    keep = int(setting_in_force(args, store, "storage.backup_keep"))
                made = daily_backup(store, args.dest, keep=keep)
                print(f"backup written: {made}" if made else "today's backup already exists")
            else:
                print(f"backup written: {backup(store, args.dest)}")
        except StoreError as exc:
            raise UserError(str(exc)) from None
    return 0

