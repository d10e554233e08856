"""`balance-station athlete list|add|delete`."""

from __future__ import annotations

import argparse

from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, find_athlete_uid, open_from_args
from station.store import Athlete, StoreError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("athlete", help="list, add or delete athletes")
    parser.add_argument("action", choices=("list", "add", "delete"))
    parser.add_argument("name", nargs="?", help="name (add) or name/id (delete)")
    parser.add_argument("--team")
    parser.add_argument("--leg", choices=("left", "right", "both"), help="dominant leg")
    parser.add_argument("--birth-year", type=int)
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        if args.action == "list":
            for a in store.list_athletes():
                print(f"{a.uid}  {a.name}  {a.team or ''}  {'' if a.active else '(inactive)'}")
            return 0
        if not args.name:
            raise UserError(f"athlete {args.action} needs a name")
        try:
            if args.action == "add":
                uid = store.add_athlete(
                    Athlete(
                        name=args.name,
                        team=args.team,
                        dominant_leg=args.leg,
                        birth_year=args.birth_year,
                    )
                )
                print(uid)
                return 0
            uid = find_athlete_uid(store, args.name)
            if not args.yes:
                try:
                    answer = input(f"Delete {args.name} and ALL their data? Type yes: ")
                except EOFError:
                    answer = ""  # no terminal: only --yes deletes
                if answer.strip().lower() != "yes":
                    print("nothing deleted (answer 'yes', or pass --yes)")
                    return 1
            counts = store.delete_athlete(uid)
        except StoreError as exc:
            raise UserError(str(exc)) from None
    print(
        f"deleted athlete {uid}: {counts['sessions']} sessions, {counts['trials']} trials, "
        f"{counts['raw_frames']} raw recordings ({counts['raw_bytes'] / 1e6:.2f} MB), "
        f"{counts['targets']} targets"
    )
    return 0
