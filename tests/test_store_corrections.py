"""Corrections the store keeps (migration 0006): archived athletes, invalidated trials, demo
data removed in one step, the Settings page's values over the config file; each logged."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from store_fixtures import *  # noqa: F403 (pytest fixtures: pg_url, store_location, store)
from store_fixtures import make_trial

from station.store import Athlete, SessionRecord, Store, StoreError
from station.store.repository import DEMO_HISTORY_KEY
from station.store.schema import tombstones


def _athlete_with_trials(store: Store, name: str, n: int = 2, demo: bool = False):
    uid = store.add_athlete(Athlete(name=name, team="U18", demo=demo))
    session = store.create_session(SessionRecord(athlete_uid=uid, soreness=3))
    rng = np.random.default_rng(len(name))
    trials = []
    for seq in range(1, n + 1):
        trial = make_trial(session, seq, rng, duration_s=1.0,
                           started_at=datetime(2026, 3, seq, 10, tzinfo=UTC))
        trials.append(store.save_trial(trial))
    return uid, trials


def _log_kinds(store: Store) -> list[str]:
    return [e.kind for e in store.security_log()]


def test_an_archived_athlete_leaves_picker_and_team_but_keeps_history(store: Store) -> None:
    uid, trials = _athlete_with_trials(store, "Ana Archive")
    other, _ = _athlete_with_trials(store, "Bo Stays", n=1)
    archived = store.archive_athlete(uid, actor="physio1", address="10.0.0.7")
    assert archived.archived_at is not None and archived.active
    assert [a.uid for a in store.list_athletes(active_only=True)] == [other]
    assert {a.uid for a in store.list_athletes()} == {uid, other}  # still listed for history
    assert [t["uid"] for t in store.athlete_history(uid)] == trials
    again = store.archive_athlete(uid, actor="physio1")
    assert again.archived_at == archived.archived_at  # archiving twice keeps the first date
    restored = store.archive_athlete(uid, archived=False, actor="admin")
    assert restored.archived_at is None
    assert {a.uid for a in store.list_athletes(active_only=True)} == {uid, other}
    log = store.security_log()
    assert [e.kind for e in log] == ["athlete_restored", "athlete_archived"]  # once each
    assert (log[1].actor, log[1].subject, log[1].address) == ("physio1", "Ana Archive",
                                                              "10.0.0.7")
    with pytest.raises(StoreError, match="no athlete"):
        store.archive_athlete("nope")


def test_an_invalidated_trial_stays_with_its_reason_and_history_says_so(store: Store) -> None:
    uid, (bad, good) = _athlete_with_trials(store, "Cy Invalid")
    with pytest.raises(StoreError, match="reason"):
        store.invalidate_trial(bad, "  ")
    back = store.invalidate_trial(bad, " stepped off early ", actor="physio1")
    assert (back.invalid, back.invalid_reason, back.invalidated_by) == (
        True, "stepped off early", "physio1")
    assert back.invalidated_at is not None
    rows = {r["uid"]: r for r in store.athlete_history(uid)}
    assert len(rows) == 2  # kept in history
    assert (rows[bad]["invalid"], rows[bad]["invalid_reason"]) == (True, "stepped off early")
    assert (rows[good]["invalid"], rows[good]["invalid_reason"]) == (False, None)
    restored = store.invalidate_trial(bad, None, invalid=False, actor="admin")
    assert not restored.invalid and restored.invalid_reason == "stepped off early"  # on record
    assert _log_kinds(store) == ["trial_restored", "trial_invalidated"]
    assert "stepped off early" in store.security_log()[1].detail
    with pytest.raises(StoreError, match="no trial"):
        store.invalidate_trial("nope", "x")


def test_saving_a_trial_never_marks_it_invalid(store: Store) -> None:
    uid = store.add_athlete(Athlete(name="Di"))
    session = store.create_session(SessionRecord(athlete_uid=uid))
    trial = make_trial(session, 1, np.random.default_rng(1), duration_s=1.0)
    trial.invalid, trial.invalid_reason = True, "given by a caller"
    store.save_trial(trial)
    back = store.load_trial(trial.uid, with_raw=False)
    assert (back.invalid, back.invalid_reason) == (False, None)


def test_demo_data_goes_in_one_step_and_real_athletes_stay(store: Store) -> None:
    real, real_trials = _athlete_with_trials(store, "Demo · Real Person")  # a name, not a flag
    _athlete_with_trials(store, "Demo · Alex", n=3, demo=True)
    _athlete_with_trials(store, "Demo · Sam", n=2, demo=True)
    store.set_setting(DEMO_HISTORY_KEY, '{"trials": 5}')
    assert store.has_demo_data()
    removed = store.remove_demo_data(actor="admin")
    assert (removed["athletes"], removed["sessions"], removed["trials"]) == (2, 2, 5)
    assert [a.uid for a in store.list_athletes()] == [real]
    assert [t["uid"] for t in store.athlete_history(real)] == real_trials
    assert not store.has_demo_data() and store.get_setting(DEMO_HISTORY_KEY) is None
    with store.read() as conn:  # demo people are not kept out of a later import
        assert conn.scalar(sa.select(sa.func.count()).select_from(tombstones)) == 0
    [line] = store.security_log()
    assert (line.kind, line.actor, line.detail) == (
        "demo_removed", "admin", "2 athletes, 2 sessions, 5 trials")


def test_config_overrides_are_stored_cleared_and_logged(store: Store) -> None:
    assert store.config_overrides() == {}
    store.set_config_override("station.name", "Riverside FC", before="Balance Station",
                              actor="admin", address="10.0.0.2")
    store.set_config_override("board.demo", False, before=True, actor="admin")
    store.set_config_override("storage.backup_keep", 3, before=10, actor="admin")
    assert store.config_overrides() == {
        "station.name": "Riverside FC", "board.demo": False, "storage.backup_keep": 3}
    store.set_config_override("storage.backup_keep", None, before=3, actor="admin")
    assert "storage.backup_keep" not in store.config_overrides()
    log = store.security_log()
    assert [(e.kind, e.subject) for e in log] == [
        ("setting_changed", "storage.backup_keep"),
        ("setting_changed", "storage.backup_keep"),
        ("setting_changed", "board.demo"),
        ("setting_changed", "station.name"),
    ]
    assert log[0].detail == "3 -> the config file's value"
    assert log[3].detail == '"Balance Station" -> "Riverside FC"'
    assert log[3].address == "10.0.0.2"
