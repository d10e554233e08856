"""The store reads the history read-model uses, as a Protocol: analysis sits below the store.

station.store.Store satisfies it; a test can hand in anything with these methods. A
missing athlete or trial is the store's own error (StoreError), left for the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from station.store.records import Athlete, SessionRecord, Target, TrialRecord


class HistoryStore(Protocol):
    def get_athlete(self, uid: str) -> Athlete: ...

    def list_athletes(
        self, active_only: bool = False, team: str | None = None, name_contains: str | None = None
    ) -> list[Athlete]: ...

    def athlete_history(self, athlete_uid: str, metrics: bool = False) -> list[dict[str, Any]]: ...

    def list_sessions(self, athlete_uid: str) -> list[SessionRecord]: ...

    def list_targets(self, athlete_uid: str) -> list[Target]: ...

    def load_trial(self, uid: str, with_raw: bool = True) -> TrialRecord: ...
