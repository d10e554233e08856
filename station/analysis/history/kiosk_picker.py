"""The kiosk's athlete picker: who can be tested, the most recently tested first.

Names and teams only: a kiosk sees no more than it needs to pick someone. Archived
athletes are not offered (Store.list_athletes(active_only=True)); an invalidated trial is
no one's last test.
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.history_rows import aware, is_invalid, iso
from station.analysis.history.store_reads import HistoryStore


def athletes_recent_first(store: HistoryStore) -> list[dict[str, Any]]:
    """Active athletes as {"uid", "name", "team", "last_test"}, last tested first."""
    out = []
    for athlete in store.list_athletes(active_only=True):
        history = [r for r in store.athlete_history(athlete.uid) if not is_invalid(r)]
        last = aware(history[-1]["started_at"]) if history else None
        out.append({"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
                    "last_test": iso(last)})
    out.sort(key=lambda a: a["last_test"] or "", reverse=True)
    return out
