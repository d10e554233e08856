"""`balance-station demo status|remove|on|off`: the simulated demo athletes and their history.

The demo's athletes carry the store's demo flag, so removing them is one step that cannot
touch a real athlete. `remove` also switches the demo off (the Settings page's board.demo),
so a running demo does not bring the athletes straight back; `on` switches it on again
(the history is made again at the demo's next start).
"""

from __future__ import annotations

import argparse
import getpass

from station.commands._errors import UserError
from station.commands._store_cli import add_store_args, open_from_args
from station.store import StoreError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="the demo athletes: status, remove, on, off")
    parser.add_argument("action", choices=("status", "remove", "on", "off"))
    add_store_args(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from station.trials.demo_history import demo_info

    actor = f"cli:{getpass.getuser()}"
    with open_from_args(args, upgrade=True) as store:
        try:
            if args.action == "remove":
                removed = store.remove_demo_data(actor=actor)
                store.set_config_override(
                    "board.demo", False,
                    before=store.config_overrides().get("board.demo"), actor=actor,
                )
                print(
                    f"removed the demo: {removed['athletes']} athletes, "
                    f"{removed['sessions']} sessions, {removed['trials']} trials; demo now off "
                    "(`balance-station demo on` to have it again)"
                )
            elif args.action in ("on", "off"):
                before = store.config_overrides().get("board.demo")
                store.set_config_override("board.demo", args.action == "on", before=before,
                                          actor=actor)
                print(f"demo {args.action} (a station running with --demo follows at once)")
            else:
                demo = [a for a in store.list_athletes() if a.demo]
                info = demo_info(store)
                state = store.config_overrides().get("board.demo", "as configured")
                print(f"demo athletes: {len(demo)}; switch: {state}")
                if info:
                    print(f"history: {info.get('sessions')} sessions, {info.get('trials')} "
                          f"trials made in {info.get('seconds')} s at {info.get('made_at')}")
                else:
                    print("history: not made (it is made at the demo's next start)")
        except StoreError as exc:
            raise UserError(str(exc)) from None
    return 0
