"""`balance-station import ARCHIVE [--with-accounts]`: merge a station archive's history (no
duplicates, all or nothing).

Accounts are one station's credentials, not history: they come only with --with-accounts,
each validated like a new account and all of them listed before anything is written. API
tokens never move between stations. Every import, done or refused, is a line in the security
log.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from station.access import (  # as for a new account
    USER_ROLES,
    AuthError,
    check_username,
    command_line_actor,
)
from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args
from station.store import SecurityEvent, Store, User
from station.store.archive import ArchiveError, import_archive, read_accounts

USERS_MEMBER = "tables/users.jsonl"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import", help="merge a station archive into this station")
    parser.add_argument("archive", type=Path)
    parser.add_argument(
        "--with-accounts",
        action="store_true",
        help="also add the archive's user accounts (validated and listed first; "
        "API tokens never move)",
    )
    add_store_args(parser)
    parser.set_defaults(func=handle)


def checked_accounts(accounts: list[User]) -> list[User]:
    """Every account as `user add` would accept it; the refusal names the archive entry."""
    for line, account in enumerate(accounts, start=1):
        where = f"{USERS_MEMBER} line {line} (username {_shown(account.username)})"
        try:
            check_username(account.username)
        except AuthError as exc:
            raise UserError(f"{where}: {exc}; nothing was imported") from None
        if account.role not in USER_ROLES:
            raise UserError(
                f"{where}: role must be one of {', '.join(USER_ROLES)}, got "
                f"{_shown(account.role)}; nothing was imported"
            )
    names = [a.username for a in accounts]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"{USERS_MEMBER}: usernames listed twice: {twice}; nothing was imported")
    return accounts


def _shown(text: str, limit: int = 40) -> str:
    """A hostile string as a short, printable repr (no control or direction characters)."""
    shown = repr(text[:limit]).encode("ascii", "backslashreplace").decode()
    return shown + (f"... ({len(text)} characters)" if len(text) > limit else "")


def _list_accounts(store: Store, accounts: list[User]) -> None:
    print(f"accounts in the archive ({len(accounts)}; API tokens never move):")
    for account in accounts:
        here = store.get_user(account.username) is not None
        state = "" if account.active else ", inactive"
        note = " - already here, left as it is" if here else " - will be added"
        print(f"  {account.username} ({account.role}{state}){note}")


def _log_import(store: Store, archive: Path, kind: str, detail: str) -> None:
    """The security log's line about this import (accounts added are named)."""
    store.log_security_event(
        SecurityEvent(kind=kind, actor=command_line_actor(), subject=archive.name, detail=detail)
    )


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        try:
            accounts = None
            if args.with_accounts:
                accounts = checked_accounts(read_accounts(args.archive))
                _list_accounts(store, accounts)
            report = import_archive(store, args.archive, accounts=accounts)
        except (ArchiveError, UserError) as exc:
            _log_import(store, args.archive, "import_refused", str(exc)[:500])
            if isinstance(exc, UserError):
                raise
            raise UserError(f"{exc}; nothing was imported") from None
        added = ", ".join(f"{t} {s['added']}" for t, s in report.items() if s.get("added"))
        names = ", ".join(_shown(a.username) for a in accounts or [])
        _log_import(store, args.archive, "import", f"added: {added or 'nothing'}"
                    + (f"; accounts given: {names}" if accounts is not None else ""))
    for table, stats in report.items():
        if "not_imported" in stats:
            if stats["not_imported"]:
                why = (
                    "API tokens never move between stations"
                    if table == "api_tokens"
                    else "accounts stay with their station; --with-accounts moves them"
                )
                print(f"{table}: {stats['not_imported']} in the archive, not imported ({why})")
            continue
        extra = {
            "skipped_deleted": "skipped (deleted here) {}",
            "not_applied": "not applied {} (the athletes are here: deleting them is yours to do)",
        }
        print(
            f"{table}: added {stats['added']}, already here {stats['present']}"
            + "".join(f", {text.format(stats[k])}" for k, text in extra.items() if stats.get(k))
        )
    return 0
