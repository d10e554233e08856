"""`balance-station user add|list|delete|passwd`: the web app's accounts from the shell.

Passwords come from a prompt (asked twice) on a terminal, else from the first line of
stdin, so scripts can pipe them: `printf '%s\n' "$PW" | balance-station user add ana --role physio`.
Every change goes to the security log as done by "command line (<OS user>)"; a new password
ends the user's sessions (station.store keeps those rules, whoever writes).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from station.access import USER_ROLES, AuthError, command_line_actor, create_user, set_password
from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args
from station.store import LastAdminError, StoreError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "user", help="add, list, delete users of the web app or change a password"
    )
    parser.add_argument("action", choices=("add", "list", "delete", "passwd"))
    parser.add_argument("name", nargs="?", help="username (add, delete, passwd)")
    parser.add_argument("--role", choices=USER_ROLES, help="role of a new user (add)")
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    add_store_args(parser)
    parser.set_defaults(func=handle)


def read_password(prompt: str = "Password") -> str:
    """Twice at a terminal prompt, else the first line of stdin (without its newline)."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} again: ") != first:
            raise UserError("the passwords differ")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise UserError("no password given: type it at the prompt or pipe it on stdin")
    return line.rstrip("\r\n")


def _confirm(question: str) -> bool:
    try:
        return input(f"{question} Type yes: ").strip().lower() == "yes"
    except EOFError:
        return False  # no terminal: only --yes deletes


def handle(args: argparse.Namespace) -> int:
    if args.action != "list" and not args.name:
        raise UserError(f"user {args.action} needs a username")
    if args.action == "add" and not args.role:
        raise UserError(f"user add needs --role ({', '.join(USER_ROLES)})")
    with open_from_args(args) as store:
        try:
            if args.action == "list":
                for user in store.list_users():
                    state = "" if user.active else "  (inactive)"
                    print(f"{user.username}  {user.role}  {user.created_at:%Y-%m-%d}{state}")
                return 0
            if args.action == "add":
                create_user(
                    store, args.name, args.role, read_password(), actor=command_line_actor()
                )
                print(f"added user {args.name} ({args.role})")
                return 0
            if args.action == "passwd":
                if store.get_user(args.name) is None:
                    raise UserError(f"no user {args.name!r}")
                set_password(
                    store, args.name, read_password("New password"), actor=command_line_actor()
                )
                print(f"password of {args.name} changed (their sessions ended)")
                return 0
            user = store.get_user(args.name)
            if user is None:
                raise UserError(f"no user {args.name!r}")
            admins = [u for u in store.list_users() if u.role == "admin" and u.active]
            if user.role == "admin" and len(admins) == 1 and user.active:  # before asking
                raise UserError("cannot delete the last admin: add another admin first")
            if not args.yes and not _confirm(f"Delete user {args.name}?"):
                print("nothing deleted (answer 'yes', or pass --yes)")
                return 1
            try:  # the store checks again in the deleting transaction (concurrent deletes)
                store.delete_user(args.name, actor=command_line_actor())
            except LastAdminError:
                raise UserError("cannot delete the last admin: add another admin first") from None
            print(f"deleted user {args.name}")
            return 0
        except (AuthError, StoreError) as exc:
            raise UserError(str(exc)) from None
