"""The history read-model (station.analysis.history) runs on a store alone: no Flask app.

The seeded store is the web tests' (two athletes, three weekly sessions of left and right
holds, Ben's right leg 6 mm/s swayier); a small fake store shows the Protocol of reads is
all the read-model needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import flask
import pytest
from web_fixtures import empty_store_dir, seed_history, web_store  # noqa: F401

from station.analysis import history
from station.analysis.history.team_overview import trend_slope


@pytest.fixture
def seeded(web_store):  # noqa: F811
    assert not flask.has_app_context()  # no app anywhere: the store is all there is
    return web_store, seed_history(web_store)


def test_athlete_history_charts_symmetry_and_targets(seeded) -> None:
    store, ids = seeded
    view = history.history_view(store, ids["athletes"][1])  # Ben
    assert view["athlete"]["name"] == "Ben Example" and view["n_trials"] == 6
    right = next(s for k, s in view["series"].items() if k.startswith("single-right"))
    assert right["measures"]["mean_velocity_mm_s.total"]["y"] == [36.0, 34.0, 32.0]
    pair = view["symmetry"][0]["measures"]
    velocity = next(m for m in pair if m["measure"] == "mean_velocity_mm_s.total")
    assert (velocity["left"], velocity["right"]) == (26.0, 32.0)
    assert velocity["lsi_pct"] == pytest.approx(100 * 26 / 32, abs=0.05)
    target = view["targets"][0]
    # "any condition" follows the last tested (right leg): 36 -> 32 mm/s, aiming at 20
    assert (target["baseline"], target["current"]) == (36.0, 32.0)
    assert target["applies_to"] == "Right leg, eyes open"
    assert [t["started_at"][:10] for t in view["trials"][::2]] == [
        "2025-01-20", "2025-01-13", "2025-01-06"]  # newest first
    assert len(view["sessions"]) == 3 and view["sessions"][0]["stiffness"] == 3


def test_team_overview_flags_asymmetry_trend_and_missed(seeded) -> None:
    store, _ = seeded
    today = date(2025, 1, 27)
    team = history.team_overview(store, missed_days=5, today=today)
    rows = {r["name"]: r for r in team["athletes"]}
    ada, ben = rows["Ada Example"], rows["Ben Example"]
    assert ada["days_since_last_test"] == 7 and ada["missed"] is True
    assert history.team_overview(store, today=today)["athletes"][0]["missed"] is False
    assert ada["last_test"] == "2025-01-20T09:01:00+00:00"
    # one condition on every card: the baseline battery's key trial, the left-leg hold
    assert team["condition"] == {"key": "single-left · eyes open · firm",
                                 "label": "Left leg, eyes open",
                                 "why": "the battery's key condition"}
    assert ada["latest_score"] == 70.0 and ada["spark"] == [60.0, 65.0, 70.0]
    assert ada["trend_points_per_test"] == pytest.approx(5.0, abs=0.001)
    assert ada["other_leg"] == {"side": "R", "score": 70.0}
    assert ben["asymmetry"] is True and ada["asymmetry"] is False
    lenient = history.team_overview(store, lsi_threshold_pct=50, today=today)
    assert not any(r["asymmetry"] for r in lenient["athletes"])
    assert history.team_overview(store, team="U99")["athletes"] == []
    assert history.team_overview(store, team="U99")["teams"] == ["U18"]


def test_result_card_report_trace_and_picker(seeded) -> None:
    store, ids = seeded
    card = history.result_card(store, ids["trials"][4])  # Ada, third session, left leg
    velocity = next(m for m in card["measures"] if m["key"] == "mean_velocity_mm_s.total")
    assert velocity["vs_baseline"]["change"] == pytest.approx(-4.0)
    assert velocity["vs_last"]["change"] == pytest.approx(-2.0)
    now = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
    report = history.report_view(store, ids["athletes"][0], now=now)
    assert report["generated"] == "2025-02-01T12:00+00:00"
    left = next(c for c in report["conditions"] if c["key"].startswith("single-left"))
    speed = next(m for m in left["measures"] if m["label"] == "COP velocity")
    assert (speed["baseline"], speed["latest"], speed["cmp"]["change"]) == (30.0, 26.0, -4.0)
    trace = history.trace_view(store, ids["trials"][0])
    assert len(trace["t"]) == len(trace["x"]) == len(trace["y"]) > 100
    picker = history.athletes_recent_first(store)
    assert [a["name"] for a in picker] == ["Ben Example", "Ada Example"]
    assert set(picker[0]) == {"uid", "name", "team", "last_test"}  # a kiosk sees no more


@dataclass
class _Athlete:
    uid: str
    name: str
    team: str | None = None


class _TwoReadsStore:
    """Only the reads the team overview makes, on plain rows."""

    def __init__(self, histories: dict[str, list[dict[str, Any]]]) -> None:
        self.histories = histories

    def list_athletes(self, active_only: bool = False, team: str | None = None,
                      name_contains: str | None = None) -> list[_Athlete]:
        return [_Athlete(uid, uid.title(), "A") for uid in self.histories]

    def athlete_history(self, athlete_uid: str, metrics: bool = False) -> list[dict[str, Any]]:
        return self.histories[athlete_uid]


def _row(day: int, score: float | None, outcome: str = "complete") -> dict[str, Any]:
    return {"uid": f"t{day}", "started_at": datetime(2025, 3, day, 8), "stance": "double",
            "eyes": "open", "surface": "firm", "outcome": outcome, "score": score}


def test_team_overview_counts_no_aborted_trial_and_flags_the_never_tested() -> None:
    store = _TwoReadsStore({
        "never": [],
        "aborts": [_row(1, 50.0), _row(2, 60.0), _row(3, None, "aborted")],
    })
    rows = {r["uid"]: r for r in history.team_overview(store, today=date(2025, 3, 10))["athletes"]}
    assert rows["never"]["missed"] is True and rows["never"]["days_since_last_test"] is None
    aborts = rows["aborts"]
    assert aborts["n_trials"] == 2 and aborts["latest_score"] == 60.0
    assert aborts["days_since_last_test"] == 8  # the aborted try on the 3rd does not count
    assert aborts["trend_points_per_test"] is None  # two scores: no trend yet
    assert aborts["last_test"] == "2025-03-02T08:00:00+00:00"  # naive dates are UTC


def test_trend_is_the_slope_of_the_last_six_scores() -> None:
    assert trend_slope([10, 0, 0, 1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert trend_slope([1.0, 2.0]) is None
