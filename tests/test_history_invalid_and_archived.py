"""Invalidated trials and archived athletes in every read of the history read-model.

An invalidated trial stays in the trial table with who, when and why, and counts for no
baseline, trend, team card, L/R pair, result-card comparison, target check or kiosk "last
test"; counting it again brings it back everywhere. An archived athlete is off the kiosk
picker and the team (unless the team view asks for archived ones) and keeps a badge.

The seeded store (web_fixtures.seed_history): Ada and Ben, three weekly sessions
(2025-01-06, -13, -20) of a left and a right hold each; Ada's left leg sways 30, 28, 26
mm/s and scores 60, 65, 70; Ben's right leg sways 6 mm/s more than his left.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from web_fixtures import empty_store_dir, seed_history, web_store  # noqa: F401

from station.analysis import history
from station.store import Athlete, Target

LEFT = "single-left · eyes open · firm"
RIGHT = "single-right · eyes open · firm"
VELOCITY = "mean_velocity_mm_s.total"


@pytest.fixture
def seeded(web_store):  # noqa: F811
    return web_store, seed_history(web_store)


def _invalidate(store, *uids: str, reason: str = "stepped off early") -> None:
    for uid in uids:
        store.invalidate_trial(uid, reason, actor="physio1")


def test_the_history_keeps_an_invalid_trial_with_its_reason_but_trends_skip_it(seeded) -> None:
    store, ids = seeded
    ada = ids["athletes"][0]
    _invalidate(store, ids["trials"][2])  # Ada's second left hold (28 mm/s)
    view = history.history_view(store, ada)
    assert view["n_trials"] == 6 and len(view["trials"]) == 6  # still listed
    row = next(t for t in view["trials"] if t["uid"] == ids["trials"][2])
    today = datetime.now().astimezone().date().isoformat()
    assert row["invalid"]["reason"] == "stepped off early"
    assert row["invalid"]["by"] == "physio1"
    assert row["invalid"]["text"] == f"invalidated by physio1 on {today}: stepped off early"
    assert all(t["invalid"] is None for t in view["trials"] if t["uid"] != ids["trials"][2])
    left = view["series"][LEFT]
    assert left["n"] == 2
    assert left["measures"][VELOCITY]["y"] == [30.0, 26.0]  # the 13th is out of the trend
    store.invalidate_trial(ids["trials"][2], None, invalid=False, actor="physio1")
    again = history.history_view(store, ada)
    assert again["series"][LEFT]["measures"][VELOCITY]["y"] == [30.0, 28.0, 26.0]
    assert all(t["invalid"] is None for t in again["trials"])


def test_a_baseline_and_the_target_check_skip_an_invalid_trial(seeded) -> None:
    store, ids = seeded
    ada = ids["athletes"][0]
    rows = store.athlete_history(ada, metrics=True)
    assert history.baselines(rows)[LEFT].value(VELOCITY) == 30.0
    history.check_target(rows, VELOCITY, 27.0, "<=", LEFT)  # the MDC (3) below the 30 baseline
    _invalidate(store, ids["trials"][0])  # the first left hold: the baseline's
    rows = store.athlete_history(ada, metrics=True)
    base = history.baselines(rows)[LEFT]
    assert base.value(VELOCITY) == 28.0 and base.uids == {ids["trials"][2]}
    assert base.to_json()["date"].startswith("2025-01-13")
    with pytest.raises(ValueError, match=r"above the baseline 28\.0"):
        history.check_target(rows, VELOCITY, 29.0, "<=", LEFT)
    with pytest.raises(ValueError, match=r"within the measurement noise.*not a target"):
        history.check_target(rows, VELOCITY, 27.0, "<=", LEFT)  # 1 mm/s from 28: noise
    series = history.history_view(store, ada)["series"][LEFT]
    assert series["baseline"]["trials"] == [ids["trials"][2]]


def test_a_team_card_skips_invalid_trials(seeded) -> None:
    store, ids = seeded
    _invalidate(store, ids["trials"][4], ids["trials"][5])  # Ada's whole third session
    team = history.team_overview(store)
    ada = next(r for r in team["athletes"] if r["name"] == "Ada Example")
    assert ada["latest_score"] == 65.0 and ada["spark"] == [60.0, 65.0]
    assert ada["n_trials"] == 4
    assert ada["last_test"] == "2025-01-13T09:01:00+00:00"
    csv_rows = [r for r in history.team_latest(store) if r["athlete"] == "Ada Example"]
    assert {r["started_at"][:10] for r in csv_rows} == {"2025-01-13"}


def test_left_right_and_the_result_card_skip_invalid_trials(seeded) -> None:
    store, ids = seeded
    ben = ids["athletes"][1]
    _invalidate(store, ids["trials"][11])  # Ben's last right hold (32 mm/s)
    pair = history.history_view(store, ben)["symmetry"][0]["measures"]
    velocity = next(m for m in pair if m["measure"] == VELOCITY)
    assert (velocity["left"], velocity["right"]) == (26.0, 34.0)
    _invalidate(store, ids["trials"][2])  # Ada's left hold of the 13th
    card = history.result_card(store, ids["trials"][4])
    velocity = next(m for m in card["measures"] if m["key"] == VELOCITY)
    assert velocity["vs_last"]["change"] == pytest.approx(-4.0)  # against the 6th, not the 13th
    assert card["last_date"].startswith("2025-01-06")


def test_the_kiosk_picker_counts_no_invalid_trial_as_the_last_test(seeded) -> None:
    store, ids = seeded
    assert [a["name"] for a in history.athletes_recent_first(store)] == [
        "Ben Example", "Ada Example"]
    _invalidate(store, ids["trials"][10], ids["trials"][11])  # Ben's last session
    picker = history.athletes_recent_first(store)
    assert [a["name"] for a in picker] == ["Ada Example", "Ben Example"]
    assert picker[1]["last_test"].startswith("2025-01-13")


def test_archived_athletes_leave_the_picker_and_team_unless_asked_for(seeded) -> None:
    store, ids = seeded
    ada, ben = ids["athletes"]
    store.archive_athlete(ben, True, actor="physio1")
    assert [a["name"] for a in history.athletes_recent_first(store)] == ["Ada Example"]
    team = history.team_overview(store)
    assert [r["name"] for r in team["athletes"]] == ["Ada Example"]
    assert (team["n_archived"], team["include_archived"]) == (1, False)
    everyone = history.team_overview(store, include_archived=True)
    rows = {r["name"]: r for r in everyone["athletes"]}
    assert set(rows) == {"Ada Example", "Ben Example"}
    assert rows["Ben Example"]["archived"] is True and rows["Ada Example"]["archived"] is False
    assert history.history_view(store, ben)["athlete"]["archived"] is True  # the page's badge
    assert history.history_view(store, ada)["athlete"]["archived"] is False
    store.archive_athlete(ben, False, actor="physio1")
    assert history.team_overview(store)["n_archived"] == 0


def test_a_demo_athlete_carries_the_demo_badge(web_store) -> None:  # noqa: F811
    demo = web_store.add_athlete(Athlete(name="Demo Dana", demo=True))
    real = web_store.add_athlete(Athlete(name="Real Rita"))
    assert history.history_view(web_store, demo)["athlete"]["demo"] is True
    assert history.history_view(web_store, real)["athlete"]["demo"] is False
    rows = {r["name"]: r for r in history.team_overview(web_store)["athletes"]}
    assert rows["Demo Dana"]["demo"] is True and rows["Real Rita"]["demo"] is False


def test_a_saved_target_the_baseline_moved_past_is_flagged(seeded) -> None:
    store, ids = seeded
    ada = ids["athletes"][0]
    store.add_target(Target(athlete_uid=ada, measure=VELOCITY, value=27.0, direction="<=",
                            condition=LEFT, due_date=date(2025, 2, 17),
                            created_at=datetime(2025, 1, 6, tzinfo=UTC)))

    def left_target() -> dict:
        rows = store.athlete_history(ada, metrics=True)
        return next(t for t in history.targets_view(store, ada, rows) if t["condition"] == LEFT)

    before = left_target()
    assert before["wrong_side"] is False and "problem" not in before
    assert before["condition_label"] == "Left leg, eyes open"
    _invalidate(store, ids["trials"][0])  # the baseline becomes the 13th: 28 mm/s
    near = left_target()
    assert near["too_small"] is True and near["wrong_side"] is False and near["baseline"] == 28.0
    assert "within the measurement noise (reliable change 3.0 mm/s)" in near["problem"]
    _invalidate(store, ids["trials"][2])  # the baseline becomes the 20th: 26 mm/s
    after = left_target()
    assert after["wrong_side"] is True and after["baseline"] == 26.0
    assert after["problem"] == ("COP velocity: lower is better, but the target 27 mm/s is above "
                                "the baseline 26.0 mm/s (baseline: 2025-01-20, single trial)")
