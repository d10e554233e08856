"""Who may see a finished trial's result: the roles that browse history see every one; a
kiosk sees the trial it started and nothing else; anyone else (a kiosk's API token) none.

The result card (/api/pages/result), the runner's last result (/api/trials/current) and
the live stream's `trial_result` messages ask the same `ResultViewer`, so the three cannot
disagree. The web remembers which kiosk started which runner request (`Starters`, by the
request object's identity); a `ResultViewer` is taken while a request is served and may be
asked later, outside it (the live stream's body runs after its view returned).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app, session

from station.web import auth
from station.web.context import context

if TYPE_CHECKING:
    from station.trials.runner import FinishedTrial, TrialRequest, TrialRunner

MAX_STARTERS = 16


class Starters:
    """Which kiosk started which runner request (by identity; the last few)."""

    def __init__(self) -> None:
        self._items: list[tuple[TrialRequest, str]] = []
        self._lock = threading.Lock()

    def add(self, request: TrialRequest, kiosk_id: str) -> None:
        with self._lock:
            self._items = [*self._items, (request, kiosk_id)][-MAX_STARTERS:]

    def started_by(self, request: TrialRequest, kiosk_id: str) -> bool:
        with self._lock:
            return any(r is request and k == kiosk_id for r, k in self._items)


def starters() -> Starters:
    """The app's record of kiosk-started trials."""
    return current_app.extensions.setdefault("station_trial_starters", Starters())


def kiosk_id() -> str | None:
    """This request's kiosk session id, or None when the caller is no kiosk session (a kiosk
    API token has none: it never sees a result)."""
    principal = auth.current_principal()
    if principal is None or principal.via != "kiosk":
        return None
    return session.get("kiosk_id")


@dataclass(frozen=True)
class ResultViewer:
    """What one principal may see of trial results (taken once, asked per result)."""

    sees_all: bool
    kiosk_id: str | None = None
    starters: Starters | None = None
    trials: TrialRunner | None = None

    @classmethod
    def everything(cls) -> ResultViewer:
        """No restriction (the bare live stream of unit tests and tools)."""
        return cls(sees_all=True)

    def started(self, finished: FinishedTrial) -> bool:
        """Whether this viewer is the kiosk that started `finished`."""
        return (
            self.kiosk_id is not None
            and self.starters is not None
            and self.starters.started_by(finished.request, self.kiosk_id)
        )

    def may_see(self, finished: FinishedTrial) -> bool:
        return self.sees_all or self.started(finished)

    def may_see_last_saved(self, trial_uid: str) -> bool:
        """Whether `trial_uid` is the runner's last trial and this viewer may see it."""
        last = self.trials.last_result if self.trials is not None else None
        return last is not None and last.saved_uid == trial_uid and self.may_see(last)

    def result_for(self, result: Any) -> Any:
        """A `trial_result` message's `result` as this viewer may see it: itself, or None.

        A kiosk sees it when it is the runner's last result (the message is published just
        after the runner records it) and that kiosk started it; a message that no longer
        matches the last result (another trial finished since) is withheld."""
        if self.sees_all:
            return result
        last = self.trials.last_result if self.trials is not None else None
        if last is None or not self.started(last):
            return None
        return result if _same_json(last.summary(), result) else None


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text (NaN equals NaN, tuples equal lists, key order does not count)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def current_viewer() -> ResultViewer:
    """The ResultViewer of this request's principal."""
    principal = auth.current_principal()
    if principal is None:
        return ResultViewer(sees_all=False)
    if principal.can("view_history"):
        return ResultViewer(sees_all=True)
    own = kiosk_id() if principal.can("view_own_trial_result") else None
    return ResultViewer(
        sees_all=False, kiosk_id=own, starters=starters(), trials=context().trials
    )
