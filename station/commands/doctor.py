"""`balance-station doctor`: the first step of troubleshooting. Exit 0 only when healthy."""

from __future__ import annotations

import argparse
import json
import shutil
from typing import Any

from station.acquisition.diagnostics import Check, assess, collect, healthy
from station.commands._common import add_board_args, add_config_args, resolve
from station.service import footprint


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="hardware self-test: cells, noise, rate, integrity, cell timing; the running "
        "station's memory and CPU",
    )
    add_board_args(p)
    add_config_args(p)
    p.add_argument("--seconds", type=float, default=5.0, help="how long to read (default 5)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=handle)


def _storage_check(data_dir: Any) -> Check:
    probe = data_dir if data_dir.exists() else data_dir.parent
    if not probe.exists():
        return Check(
            "data directory", False, f"{data_dir} does not exist and neither does its parent"
        )
    free_mb = shutil.disk_usage(probe).free / 1e6
    return Check("data directory", free_mb > 200, f"{data_dir}: {free_mb:.0f} MB free")


def handle(args: argparse.Namespace) -> int:
    settings = resolve(args)
    if args.seconds <= 0:
        from station.commands._errors import UserError

        raise UserError("--seconds must be positive")
    before = footprint.sample()  # the running station's memory and CPU, over the test
    data = collect(settings.board, args.seconds)
    after = footprint.sample()
    checks = assess(data)
    checks.append(_storage_check(settings.data_dir))
    checks += [Check(c.name, c.ok, c.detail, c.warn)
               for c in footprint.footprint_checks(before, after)]
    ok = healthy(checks)
    if args.json:
        print(
            json.dumps(
                {
                    "healthy": ok,
                    "board": data.board,
                    "checks": [c.__dict__ for c in checks],
                    "acquisition": data.stats,
                    "station_footprint": {
                        "processes": [p.__dict__ for p in after.processes],
                        "cpu_pct_of_one_core": footprint.cpu_percent(before, after),
                        "mem_total_mb": after.mem_total_mb,
                        "mem_available_mb": after.mem_available_mb,
                    },
                },
                indent=2,
            )
        )
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            mark = "FAIL" if not c.ok else "warn" if c.warn else "ok  "
            print(f"{mark}  {c.name:<{width}}  {c.detail}")
        print(
            "healthy"
            if ok
            else "NOT healthy: fix the FAIL lines above (see README, Troubleshooting)"
        )
    return 0 if ok else 1
