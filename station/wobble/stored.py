"""The station's wobble boards: presets plus its own, the active one and each one's set-up.

Stored as one JSON station setting (Store.get_setting/set_setting, key SETTING_KEY; no
table: a station has a handful of boards). Every user board goes through
profiles.board_from_dict before it is kept and again when it is read, so a hand-edited or
older setting cannot put a wrong board under the tilt. The store is any object with
get_setting/set_setting (this module sits below the store in the layers).

    {"active": "round-40-hemisphere",
     "boards": [{...a [[board]] table...}],              # user-defined boards
     "setups": {"<board name>": {"level_mm": [x, y], "report": {...}, "at": "..."}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from station.wobble.profiles import (
    DEFAULT_BOARD,
    BoardProfileError,
    WobbleBoard,
    board_from_dict,
    presets,
)
from station.wobble.setup import WobbleSetup

SETTING_KEY = "wobble_boards"
MAX_USER_BOARDS = 20


class SettingsStore(Protocol):
    def get_setting(self, key: str, default: str | None = None) -> str | None: ...
    def set_setting(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class StationBoards:
    """What the station keeps: user boards (their tables), the active name, the set-ups."""

    active: str = DEFAULT_BOARD
    user: tuple[dict[str, Any], ...] = ()
    setups: dict[str, dict[str, Any]] = field(default_factory=dict)

    def boards(self) -> dict[str, WobbleBoard]:
        """Presets then the user's boards, by name."""
        out = presets()
        for table in self.user:
            board = board_from_dict(table, "station board")
            out[board.name] = board
        return out

    def board(self, name: str) -> WobbleBoard:
        boards = self.boards()
        if name not in boards:
            raise BoardProfileError(f"no board {name!r} on this station (has: "
                                    f"{', '.join(boards)})")
        return boards[name]

    def setup(self, name: str | None = None) -> WobbleSetup:
        """The set-up of a board (default: the active one); its level point once measured."""
        name = name or self.active
        board = self.board(name)
        stored = self.setups.get(name)
        if not stored:
            return WobbleSetup(board, source="default")
        x, y = stored["level_mm"]
        return WobbleSetup(board, level_mm=(float(x), float(y)), source="set-up")

    def to_json(self) -> dict[str, Any]:
        """The API's view: every board (preset or user's), the active one, its set-up."""
        boards = self.boards()
        user = {str(t.get("name", "")).strip() for t in self.user}
        return {
            "active": self.active,
            "boards": [{**b.to_json(), "description": b.description, "source": b.source,
                        "preset": name not in user,
                        "set_up": name in self.setups,
                        "reach_mm": round(b.reach_mm, 1),
                        "mm_per_deg": round(b.mm_per_deg, 3)}
                       for name, b in boards.items()],
            "setups": self.setups,
            "setup": self.setup().to_json(),
        }


def load(store: SettingsStore) -> StationBoards:
    """The station's boards; a setting that no longer checks is reported, not half-used."""
    raw = store.get_setting(SETTING_KEY)
    if not raw:
        return StationBoards()
    try:
        data = json.loads(raw)
    except ValueError:
        raise BoardProfileError(f"station setting {SETTING_KEY!r} is not JSON: save the "
                                "boards again on the /wobble page") from None
    stored = StationBoards(active=str(data.get("active", DEFAULT_BOARD)),
                           user=tuple(data.get("boards", ())),
                           setups=dict(data.get("setups", {})))
    boards = stored.boards()  # checks every user board
    if stored.active not in boards:
        stored = StationBoards(DEFAULT_BOARD, stored.user, stored.setups)
    return stored


def save(store: SettingsStore, boards: StationBoards) -> None:
    store.set_setting(SETTING_KEY, json.dumps(
        {"active": boards.active, "boards": list(boards.user), "setups": boards.setups}))


def add_board(store: SettingsStore, table: dict[str, Any]) -> WobbleBoard:
    """Check and keep a user board (a preset's name is refused; the same name replaces)."""
    current = load(store)
    board = board_from_dict(table, "new board")
    if board.name in presets():
        raise BoardProfileError(f"name: {board.name!r} is a preset's name; choose another")
    others = tuple(t for t in current.user if str(t.get("name", "")).strip() != board.name)
    if len(others) >= MAX_USER_BOARDS:
        raise BoardProfileError(f"the station keeps at most {MAX_USER_BOARDS} boards of its "
                                "own; remove one first")
    setups = {k: v for k, v in current.setups.items() if k != board.name}  # a new geometry
    save(store, StationBoards(current.active, (*others, {**table, "name": board.name}), setups))
    return board


def remove_board(store: SettingsStore, name: str) -> None:
    current = load(store)
    if not any(str(t.get("name", "")).strip() == name for t in current.user):
        raise BoardProfileError(f"{name!r} is not one of this station's own boards")
    user = tuple(t for t in current.user if str(t.get("name", "")).strip() != name)
    active = DEFAULT_BOARD if current.active == name else current.active
    save(store, StationBoards(active, user, {k: v for k, v in current.setups.items()
                                             if k != name}))


def select_board(store: SettingsStore, name: str) -> WobbleBoard:
    current = load(store)
    board = current.board(name)
    save(store, StationBoards(name, current.user, current.setups))
    return board


def record_setup(store: SettingsStore, name: str, report: dict[str, Any]) -> WobbleSetup:
    """Keep a finished set-up (its level point and residual report) for a board."""
    current = load(store)
    board = current.board(name)
    level = report["level_mm"]
    WobbleSetup(board, level_mm=(float(level[0]), float(level[1])))  # checks the point
    setups = {**current.setups, name: {"level_mm": [float(level[0]), float(level[1])],
                                       "report": report,
                                       "at": datetime.now(UTC).isoformat(timespec="seconds")}}
    save(store, StationBoards(current.active, current.user, setups))
    return load(store).setup(name)


def active_setup(store: SettingsStore) -> WobbleSetup:
    """The set-up trials use: the active board, its measured level point (or the centre)."""
    return load(store).setup()
