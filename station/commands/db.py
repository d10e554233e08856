"""`balance-station db upgrade|current|check`: schema migrations and integrity."""

from __future__ import annotations

import argparse

from station.commands._store_cli import add_store_args, location, open_from_args
from station.store import migrate
from station.store.engine import make_engine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database schema: upgrade, current revision, check")
    parser.add_argument("action", choices=("upgrade", "current", "check"))
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    if args.action == "current":
        engine = make_engine(location(args))
        current = migrate.current_revision(engine)
        engine.dispose()
        print(f"revision {current or 'none (empty database)'}; newest {migrate.head_revision()}")
        return 0
    with open_from_args(args, upgrade=args.action == "upgrade") as store:
        if args.action == "upgrade":
            print(f"database at revision {store.revision()} (newest)")
            return 0
        report = store.integrity_check()
        print("integrity: ok" if report.ok else "integrity: PROBLEMS")
        for problem in report.problems:
            print(f"  {problem}")
        print("  " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
        return 0 if report.ok else 1
