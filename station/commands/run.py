"""`balance-station run`: start acquisition, the estimator and the web app; print the URL."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from station.acquisition.process import RealtimeOptions
from station.board.spec import is_simulated
from station.calibration import try_load_calibration
from station.calibration.estimator import make_estimator
from station.commands._common import (
    Settings,
    add_board_args,
    add_config_args,
    ensure_data_dir,
    resolve,
)
from station.commands._errors import UserError
from station.config import with_overrides
from station.live.runtime import FrameEstimator, StationConfig, StationRuntime
from station.service.clock import wall_clock_status
from station.service.sdnotify import HealthWatchdog, Notifier, StationHealth
from station.trials.autopilot import DemoLoop
from station.trials.runner import TrialRunner
from station.trials.saver import store_saver
from station.trials.spool import DiskSpace, TrialSpool
from station.trials.thresholds import HoldConfig
from station.wobble import stored as stored_wobble

log = logging.getLogger("station")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the station (acquisition + web app)")
    add_board_args(p)
    add_config_args(p)
    p.add_argument("--demo", action="store_true", help="simulated athletes keep doing tests")
    p.add_argument("--demo-hold", type=float, default=12.0, metavar="SECONDS",
                   help="length of the demo athletes' holds (default 12)")
    p.add_argument("--host", help="address to listen on (default from config: 0.0.0.0)")
    p.add_argument("--port", type=int, help="TCP port (default from config: 8080; 0 = any free)")
    p.set_defaults(func=handle)


def lan_urls(host: str, port: int) -> list[str]:
    """Addresses a phone on the gym network can open."""
    if host not in ("0.0.0.0", "::", ""):
        return [f"http://{host}:{port}/"]
    urls = [f"http://localhost:{port}/"]
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for address in sorted({info[4][0] for info in infos}):
        if not address.startswith("127."):
            urls.append(f"http://{address}:{port}/")
    return urls


def phone_first(urls: list[str], host: str, port: int) -> list[str]:
    """Order for phones: the LAN name (avahi's <hostname>.local), then LAN IPs, then localhost."""
    lan = [u for u in urls if "//localhost" not in u]
    local = [u for u in urls if "//localhost" in u]
    if host in ("0.0.0.0", "::", ""):
        suffix = "" if port == 80 else f":{port}"
        lan.insert(0, f"http://{socket.gethostname()}.local{suffix}/")
    return lan + local


def handle(args: argparse.Namespace) -> int:
    from station.web.app import create_app
    from station.web.context import WebContext
    from station.web.server import ServerLimits, create_station_server, stop_serving

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # rare, clear lines only
    settings = resolve(args)
    data_dir = ensure_data_dir(settings.data_dir)
    store = open_station_store(settings)
    # The Settings page's values (in the store) over the file; the command line still wins.
    overrides = store.config_overrides()
    loaded_config = settings.config
    settings.config = with_overrides(loaded_config, overrides)
    demo = settings.board.demo
    if demo and not is_simulated(settings.board.spec):
        store.close()
        raise UserError("--demo needs the simulated board (--board sim or emulator)")
    # Switched on on the Settings page: the demo runs from this start (simulated board only).
    demo = demo or (overrides.get("board.demo") is True and is_simulated(settings.board.spec))
    # In the station, demo athletes are played by the DemoLoop (so their trials are recorded),
    # not by the simulator's own demo script.
    settings.board = dataclasses.replace(settings.board, demo=False)
    server_cfg = settings.config["server"]
    # Every thread the station starts from here on (reader, simulator, waitress's pool)
    # reserves this much stack, not Linux's 8 MB: sized for a Pi, not for a server.
    threading.stack_size(server_cfg["thread_stack_kb"] * 1024)
    acq_cfg = settings.config["acquisition"]
    host = args.host or server_cfg["host"]
    port = server_cfg["port"] if args.port is None else args.port
    estimator, problem = load_estimator(settings.calibration_path)
    if problem:
        log.warning("running uncalibrated: %s", problem)
    runtime = StationRuntime(
        StationConfig(
            board=settings.board,
            realtime=RealtimeOptions(
                cpu=None if acq_cfg["cpu"] < 0 else acq_cfg["cpu"],
                sched_fifo_priority=acq_cfg["sched_fifo_priority"],
            ),
        ),
        estimator=estimator,
        calibration_problem=problem,
    )
    saver = store_saver(store, board_id=runtime.board_kind)
    storage_cfg = settings.config["storage"]
    disk = DiskSpace(data_dir, storage_cfg["disk_warn_mb"], storage_cfg["disk_floor_mb"])
    spool = TrialSpool(data_dir / "spool", saver, disk=disk)
    runner = TrialRunner(
        runtime.calibration_snapshot,
        hold_config=hold_config(settings),
        save=saver,
        publish=runtime.hub.publish,
        clock_synced=lambda: wall_clock_status().synced is not False,
        start_checks=(runtime.source_problem, disk.refusal),
        spool=spool.put,
        wobble_setup=lambda: stored_wobble.active_setup(store),  # the /wobble page's
    )
    runtime.subscribe(runner)
    runtime.when_source_lost(runner.source_lost)  # the board stopped answering: abort
    runtime.add_health_part("saving", spool.health)
    if not 3.0 <= args.demo_hold <= 60.0:
        raise UserError("--demo-hold must be from 3 to 60 seconds")
    demo_loop = DemoLoop(runtime, runner, store, duration_s=args.demo_hold) if demo else None
    web = WebContext(runtime=runtime, trials=runner, store=store, data_dir=data_dir,
                     calibration_path=settings.calibration_save_path, config=loaded_config)
    app = create_app(web)
    try:
        server = create_station_server(
            app, host=host, port=port, limits=ServerLimits.from_config(server_cfg)
        )
    except OSError as exc:
        print(f"balance-station run: error: cannot listen on {host}:{port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    runtime.start()
    spool.start()  # saves what an earlier run could not
    if demo_loop is not None:
        demo_loop.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    real_port = server.effective_port  # type: ignore[union-attr]
    urls = lan_urls(host, real_port)
    web.station_urls = phone_first(urls, host, real_port)
    print(f"Balance Station is running (board: {runtime.board_kind}) at:", flush=True)
    for url in urls:
        print(f"  {url}", flush=True)
    # systemd (Type=notify): ready now; the watchdog is fed only while the station progresses.
    notifier = Notifier()
    watchdog = HealthWatchdog(notifier, StationHealth(runtime))
    notifier.ready(f"listening on {urls[-1]}")
    watchdog.start()
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        notifier.stopping()
        watchdog.stop()
        stop_serving(server, end_streams=runtime.hub.close)  # streams end, then the sockets
        if demo_loop is not None:
            demo_loop.stop()
        runtime.stop()
        runner.close()  # finishes a trial being analysed and saved (or spooled)
        spool.stop()
        store.close()
    return 0


def open_station_store(settings: Settings) -> Any:
    """The history database (SQLite in the data dir unless a URL is configured)."""
    from station.store import StoreError, open_store

    location = settings.config["storage"]["database_url"] or settings.data_dir
    try:
        return open_store(location, upgrade=True)
    except StoreError as exc:
        raise UserError(f"cannot open the database: {exc}") from None


def hold_config(settings: Settings) -> HoldConfig:
    """Hold-engine thresholds from the [hold] table (validated when the config loaded)."""
    return HoldConfig.from_dict(settings.config.values.get("hold", {}))


def load_estimator(path: Path) -> tuple[FrameEstimator, str | None]:
    """The calibrated estimator (with auto-zero), or the uncalibrated one and why."""
    calibration, problem = try_load_calibration(path)
    return make_estimator(calibration, problem, auto_zero=True), problem
