"""Options shared by every command that touches the board or the station's data."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from station.board.spec import BoardOptions
from station.commands._errors import UserError
from station.config import Config, ConfigError, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_CALIBRATION = REPO_ROOT / "calibration" / "sim-board.json"


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config file (default /etc/balance-station/config.toml)"
    )
    parser.add_argument("--data-dir", type=Path, help="data directory (overrides the config)")


def add_board_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--board", help="board source: sim, emulator, hx711 or replay:FILE (overrides the config)"
    )
    parser.add_argument("--calibration", type=Path, help="calibration file (overrides the config)")


@dataclass
class Settings:
    """Config file + environment + command line, resolved once per command."""

    config: Config
    data_dir: Path
    board: BoardOptions

    @property
    def calibration_path(self) -> Path:
        explicit = self.config["board"]["calibration"]
        if explicit:
            return Path(explicit)
        own = self.data_dir / "calibration.json"
        if self.board.spec.split(":", 1)[0] in ("sim", "emulator") and not own.exists():
            return SIM_CALIBRATION  # the shipped file, until the sim board is recalibrated
        return own

    @property
    def calibration_save_path(self) -> Path:
        """Where a new calibration goes: never over the shipped simulated-board file."""
        path = self.calibration_path
        return self.data_dir / "calibration.json" if path == SIM_CALIBRATION else path


def resolve(args: argparse.Namespace, *, realtime: bool = True) -> Settings:
    """Merge the layers; bad values become one-line UserErrors naming the key."""
    try:
        config = load_config(getattr(args, "config", None), required=args.config is not None)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    data_dir = getattr(args, "data_dir", None) or Path(config["storage"]["data_dir"])
    if getattr(args, "calibration", None):
        config["board"]["calibration"] = str(args.calibration)
    spec = getattr(args, "board", None) or config["board"]["kind"]
    board = BoardOptions(
        spec=spec,
        realtime=realtime,
        demo=bool(getattr(args, "demo", False) or config["board"]["demo"]),
        sck=config["board"]["sck"],
        douts=config["board"]["douts"],
        gain=config["board"]["gain"],
        shared_clock=config["board"]["clock"] == "shared",
    )
    return Settings(config=config, data_dir=data_dir, board=board)


def ensure_data_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create data directory {path}: {exc.strerror}; pass --data-dir DIR"
        ) from None
    return path
