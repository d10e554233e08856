"""`balance-station reanalyze`: recompute metrics and scores from raw frames."""

from __future__ import annotations

import argparse

from station.commands._errors import UserError
from station.commands._store_cli import (
    add_store_args,
    find_athlete_uid,
    open_from_args,
    parse_since,
)
from station.store.reanalysis import AnalysisUnavailable, reanalyze


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reanalyze", help="recompute metrics/scores with current code")
    parser.add_argument("--athlete", help="athlete name or id (default: everyone)")
    parser.add_argument("--since", type=parse_since, help="only trials from this date (UTC)")
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        athlete = find_athlete_uid(store, args.athlete) if args.athlete else None
        try:
            result = reanalyze(store, athlete_uid=athlete, since=args.since)
        except AnalysisUnavailable as exc:
            raise UserError(str(exc)) from None
    print(", ".join(f"{k} {v}" for k, v in result.items()))
    return 0 if result["failed"] == 0 else 1
