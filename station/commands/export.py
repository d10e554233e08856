"""`balance-station export trial|athlete|archive|anonymised`."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, find_athlete_uid, open_from_args
from station.store import StoreError
from station.store.archive import export_archive
from station.store.export import export_anonymised, export_athlete_csv, export_trial


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export a trial, an athlete, or the station")
    parser.add_argument("what", choices=("trial", "athlete", "archive", "anonymised"))
    parser.add_argument("ref", nargs="?", help="trial id, or athlete name/id")
    parser.add_argument("--out", type=Path, required=True, help="output file (folder for trial)")
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    if args.what in ("trial", "athlete") and not args.ref:
        raise UserError(f"export {args.what} needs the {args.what}'s id")
    with open_from_args(args) as store:
        try:
            if args.what == "trial":
                for path in export_trial(store, args.ref, args.out):
                    print(f"wrote {path}")
            elif args.what == "athlete":
                n = export_athlete_csv(store, find_athlete_uid(store, args.ref), args.out)
                print(f"wrote {args.out}: {n} trials")
            elif args.what == "archive":
                counts = export_archive(store, args.out)
                print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            else:
                counts = export_anonymised(store, args.out)
                print(
                    f"wrote {args.out}: {counts['athletes']} athletes (pseudonymous), "
                    f"{counts['trials']} trials"
                )
        except StoreError as exc:
            raise UserError(str(exc)) from None
    return 0
