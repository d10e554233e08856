"""`balance-station token create|list|revoke`: API tokens for scripts and integrations.

A token is printed once, on stdout alone (so `TOKEN=$(balance-station token create ...)`
works); only its SHA-256 hash is stored. Send it as `Authorization: Bearer <token>`.
Creating and revoking are in the security log (by "command line (<OS user>)").
"""

from __future__ import annotations

import argparse
import sys

from station.access import TOKEN_ROLES, AuthError, command_line_actor, create_api_token
from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args
from station.store import StoreError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("token", help="create, list or revoke API tokens")
    parser.add_argument("action", choices=("create", "list", "revoke"))
    parser.add_argument("uid", nargs="?", help="token id, or its first 6+ characters (revoke)")
    parser.add_argument("--role", choices=TOKEN_ROLES, help="role of the new token (create)")
    parser.add_argument("--name", help="what the token is for (create; default: the role)")
    add_store_args(parser)
    parser.set_defaults(func=handle)


def _find(tokens: list, ref: str) -> str:
    exact = [t.uid for t in tokens if t.uid == ref]
    if exact:
        return exact[0]
    matches = [t.uid for t in tokens if len(ref) >= 6 and t.uid.startswith(ref)]
    if not matches:
        raise UserError(f"no API token with id {ref!r} (see `balance-station token list`)")
    if len(matches) > 1:
        raise UserError(f"{ref!r} matches several tokens: give more of the id")
    return matches[0]


def handle(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        try:
            if args.action == "create":
                if not args.role:
                    raise UserError(f"token create needs --role ({', '.join(TOKEN_ROLES)})")
                name = args.name or f"{args.role} token"
                secret, record = create_api_token(
                    store, args.role, name, actor=command_line_actor()
                )
                print(secret)
                print(
                    f"created token {record.uid} ({args.role}, {name!r}); it is shown only "
                    "once: send it as 'Authorization: Bearer <token>'",
                    file=sys.stderr,
                )
                return 0
            if args.action == "list":
                for t in store.list_api_tokens():
                    used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
                    print(
                        f"{t.uid}  {t.role}  {t.name}  created {t.created_at:%Y-%m-%d}  "
                        f"last used {used}"
                    )
                return 0
            if not args.uid:
                raise UserError("token revoke needs the token's id (see `token list`)")
            uid = _find(store.list_api_tokens(), args.uid)
            store.revoke_api_token(uid, actor=command_line_actor())
            print(f"revoked token {uid}")
            return 0
        except (AuthError, StoreError) as exc:
            raise UserError(str(exc)) from None
