"""The store API on SQLite and PostgreSQL: records in, the same records out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from store_fixtures import *  # noqa: F403 (pytest fixtures: pg_url, store_location, store)
from store_fixtures import make_trial, populate

from station.store import (
    ApiToken,
    Athlete,
    SessionRecord,
    Store,
    StoreError,
    Target,
    TrialRecord,
    User,
    open_store,
)
from station.store import repository as repo_module
from station.store.schema import trials


def _athlete_and_session(store: Store) -> tuple[str, str]:
    au = store.add_athlete(
        Athlete(
            name="Ana Test", team="U16", dominant_leg="right", birth_year=2010, notes="ACL 2024"
        )
    )
    su = store.create_session(
        SessionRecord(
            athlete_uid=au,
            operator="coach",
            protocol="slh",
            stiffness=4,
            soreness=1,
            sleep_hours=8.0,
            sleep_quality=7,
            notes="tired legs",
        )
    )
    return au, su


def test_sqlite_settings_are_applied(tmp_path) -> None:
    s = open_store(tmp_path / "d")
    with s.read() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    s.close()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 10000,
    }


def test_athletes_and_sessions(store: Store) -> None:
    au, su = _athlete_and_session(store)
    got = store.get_athlete(au)
    assert (got.name, got.team, got.dominant_leg, got.birth_year, got.active) == (
        "Ana Test",
        "U16",
        "right",
        2010,
        True,
    )
    assert got.created_at is not None and got.created_at.tzinfo is not None
    store.update_athlete(au, active=False, notes="retired")
    assert [a.uid for a in store.list_athletes()] == [au]
    assert store.list_athletes(active_only=True) == []
    assert store.find_athlete("Ana Test").uid == au
    assert store.find_athlete(au[:8]).uid == au
    [session] = store.list_sessions(au)
    assert (session.uid, session.stiffness, session.sleep_hours, session.notes) == (
        su,
        4,
        8.0,
        "tired legs",
    )
    with pytest.raises(StoreError, match="stiffness must be 0-10"):
        store.create_session(SessionRecord(athlete_uid=au, stiffness=11))
    with pytest.raises(StoreError, match="dominant_leg"):
        store.add_athlete(Athlete(name="X", dominant_leg="middle"))
    with pytest.raises(StoreError, match="no athlete"):
        store.create_session(SessionRecord(athlete_uid="nope"))


def test_save_and_load_trial_round_trip(store: Store) -> None:
    au, su = _athlete_and_session(store)
    rng = np.random.default_rng(5)
    trial = make_trial(
        su,
        1,
        rng,
        task="hop",
        spec={"id": "hop-left", "target_radius_mm": None},
        body_weight_n=712.5,
        perturbation_onsets_s=[1.5, 3.25],
        outcome="failed",
        time_to_failure_s=12.5,
        failure_reason="touch down",
        clock_synced=False,
    )
    uid = store.save_trial(trial)
    back = store.load_trial(uid)
    assert back.raw is not None and trial.raw is not None
    assert back.raw.equals(trial.raw)  # simulated timestamps are whole microseconds
    assert back.metrics == {"mvelo_mm_s": 21.0, "rdist_mm": 5.5, "f95_hz": None}
    assert (back.outcome, back.time_to_failure_s, back.failure_reason, back.clock_synced) == (
        "failed",
        12.5,
        "touch down",
        False,
    )
    assert back.started_at == trial.started_at
    assert (back.task, back.spec, back.body_weight_n, back.perturbation_onsets_s) == (
        "hop",
        {"id": "hop-left", "target_radius_mm": None},
        712.5,
        [1.5, 3.25],
    )
    assert back.calibration == trial.calibration and back.board_id == "board-1"
    assert back.athlete_uid == au and back.session_uid == su
    assert store.load_trial(uid, with_raw=False).raw is None
    # a second trial with the same calibration shares the stored snapshot
    store.save_trial(make_trial(su, 2, rng))
    assert store.counts()["calibrations"] == 1
    history = store.athlete_history(au)
    assert [h["seq"] for h in history] == [1, 2]
    assert history[0]["has_raw"] and history[0]["outcome"] == "failed"
    assert "raw" not in history[0] and "metrics" not in history[0]
    full = store.athlete_history(au, metrics=True)
    assert full[0]["metrics"]["mvelo_mm_s"] == 21.0 and full[0]["score"] == 71.0


def test_save_trial_is_all_or_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _, su = _athlete_and_session(store)
    broken = sa.Table(  # same columns, but no such table: the second insert fails
        "trial_raw_missing",
        sa.MetaData(),
        *[sa.Column(c.name, c.type) for c in repo_module.trial_raw.columns],
    )
    monkeypatch.setattr(repo_module, "trial_raw", broken)
    with pytest.raises(sa.exc.DBAPIError):
        store.save_trial(make_trial(su, 1, np.random.default_rng(1)))
    monkeypatch.undo()
    assert store.counts()["trials"] == 0
    assert store.integrity_check().ok


def test_bad_trial_values_are_refused(store: Store) -> None:
    _, su = _athlete_and_session(store)
    rng = np.random.default_rng(2)
    with pytest.raises(StoreError, match="outcome"):
        store.save_trial(make_trial(su, 1, rng, outcome="great"))
    with pytest.raises(StoreError, match="no session"):
        store.save_trial(make_trial("missing", 1, rng))
    assert store.counts()["trials"] == 0


def test_targets_users_tokens(store: Store) -> None:
    au, _ = _athlete_and_session(store)
    tu = store.add_target(
        Target(
            athlete_uid=au,
            measure="mvelo_mm_s",
            condition="single_left",
            value=18.0,
            due_date=date(2026, 6, 1),
            set_by="physio",
        )
    )
    store.update_target(tu, value=17.0)
    [t] = store.list_targets(au)
    assert (t.value, t.due_date, t.set_by, t.direction) == (17.0, date(2026, 6, 1), "physio", "<=")
    store.delete_target(tu)
    assert store.list_targets(au) == []
    store.add_user(User(username="coach", role="coach", password_hash="x$y"))
    store.update_user("coach", role="admin")
    assert store.get_user("coach").role == "admin"  # type: ignore[union-attr]
    store.add_api_token(ApiToken(token_hash="h1", role="reader", name="club tv", username="coach"))
    found = store.find_api_token("h1")
    assert found is not None and found.username == "coach"
    assert store.list_api_tokens()[0].last_used_at is not None
    assert store.find_api_token("nope") is None
    store.revoke_api_token(found.uid)
    assert store.list_api_tokens() == []
    with pytest.raises(StoreError, match="already exists"):  # checked before the UNIQUE
        store.add_user(User(username="coach", role="coach", password_hash="z"))


def test_delete_athlete_reports_and_removes_everything(store: Store) -> None:
    made = populate(store, n_athletes=2, n_sessions=2, n_trials=3)
    keep, gone = made["athletes"]
    store.add_target(Target(athlete_uid=gone, measure="score", value=80, direction=">="))
    raw_before = store.raw_bytes()
    counts = store.delete_athlete(gone)
    assert counts["athletes"] == 1 and counts["sessions"] == 2 and counts["trials"] == 6
    assert counts["raw_frames"] == 6 and counts["targets"] == 1
    assert counts["raw_bytes"] > 0 and store.raw_bytes() == raw_before - counts["raw_bytes"]
    assert store.counts()["trials"] == 6 and store.counts()["trial_raw"] == 6
    assert len(store.athlete_history(keep)) == 6 and store.athlete_history(gone) == []
    assert store.integrity_check().ok
    with pytest.raises(StoreError):
        store.delete_athlete(gone)


def test_integrity_check_finds_a_missing_raw_row(store: Store) -> None:
    made = populate(store, n_athletes=1, n_sessions=1, n_trials=2)
    assert store.integrity_check().ok
    with store.write() as conn:
        conn.execute(
            repo_module.trial_raw.delete().where(
                repo_module.trial_raw.c.trial_id
                == sa.select(repo_module.trials.c.id)
                .where(repo_module.trials.c.uid == made["trials"][0])
                .scalar_subquery()
            )
        )
    report = store.integrity_check()
    assert not report.ok and "1 trials without raw frames" in report.problems[0]


def test_naive_datetimes_are_refused(store: Store) -> None:
    au, _ = _athlete_and_session(store)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.create_session(SessionRecord(athlete_uid=au, started_at=datetime(2025, 1, 1)))
    store.create_session(SessionRecord(athlete_uid=au, started_at=datetime(2025, 1, 1, tzinfo=UTC)))


def test_a_trials_fields_are_listed_once() -> None:
    """The trials table and TrialRecord are the one description of a trial: every column is a
    record field or a key the store fills in, every record field a column or something kept
    beside the row (issue 10 item 6: the list was written five times)."""
    columns = {c.name for c in trials.c}
    record = set(TrialRecord.__dataclass_fields__)
    assert columns - record == {"id", "session_id", "athlete_id", "calibration_id"}
    assert record - columns == {
        "session_uid",  # the session's
        "athlete_uid",  # the athlete's
        "metrics",  # trial_metrics
        "calibration",  # calibrations
        "board_id",  # calibrations
        "raw",  # trial_raw
        "rate_hz",  # trial_raw
    }
    assert set(repo_module.HISTORY_FIELDS) <= columns


def test_every_trial_field_round_trips(store: Store) -> None:
    _, su = _athlete_and_session(store)
    purged = datetime(2026, 2, 1, tzinfo=UTC)
    given = make_trial(
        su,
        3,
        np.random.default_rng(8),
        duration_s=2.0,
        protocol="single-leg-left",
        task="hop",
        spec={"id": "hop-left", "count": 3},
        body_weight_n=712.5,
        perturbation_onsets_s=[1.25, 7.5],
        outcome="failed",
        time_to_failure_s=12.5,
        failure_reason="step_off",
        clock_synced=False,
        raw_purged_at=purged,
    )
    store.save_trial(given)
    back = store.load_trial(given.uid)
    for name in repo_module.TRIAL_COLUMNS:
        assert getattr(back, name) == getattr(given, name), name
    assert back.analyzed_at is not None and back.raw_purged_at == purged
