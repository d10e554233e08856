"""`balance-station retention`: drop raw frames older than N months (metrics are kept)."""

from __future__ import annotations

import argparse

from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args, setting_in_force
from station.store import StoreError
from station.store.retention import apply_retention


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("retention", help="remove old raw frames, keep results")
    parser.add_argument(
        "--older-than-months", type=int,
        help="default: storage.raw_frames_months in force (the Settings page's over the file's)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only say what would be freed")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="give the space back to the disk (rewrites the database file)",
    )
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        months = args.older_than_months
        if months is None:
            months = int(setting_in_force(args, store, "storage.raw_frames_months")) or None
            if months is None:
                raise UserError(
                    "no retention configured: pass --older-than-months N "
                    "or set storage.raw_frames_months"
                )
        try:
            r = apply_retention(store, months, dry_run=args.dry_run, vacuum=args.vacuum)
        except StoreError as exc:
            raise UserError(str(exc)) from None
    verb = "would remove" if r.dry_run else "removed"
    print(
        f"{verb} raw frames of {r.trials} trials started before {r.cutoff:%Y-%m-%d}: "
        f"{r.raw_bytes / 1e6:.1f} MB of raw data; database {r.file_bytes_before / 1e6:.1f} MB"
        f" -> {r.file_bytes_after / 1e6:.1f} MB"
    )
    return 0
