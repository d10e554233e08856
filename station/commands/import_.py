"""`balance-station import ARCHIVE`: merge a station archive (no duplicates, all or nothing)."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args
from station.store.archive import ArchiveError, import_archive


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import", help="merge a station archive into this station")
    parser.add_argument("archive", type=Path)
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        try:
            report = import_archive(store, args.archive)
        except ArchiveError as exc:
            raise UserError(f"{exc}; nothing was imported") from None
    for table, stats in report.items():
        print(
            f"{table}: added {stats['added']}, already here {stats['present']}"
            + (
                f", skipped (deleted here) {stats['skipped_deleted']}"
                if stats["skipped_deleted"]
                else ""
            )
        )
    return 0
