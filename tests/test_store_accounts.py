"""The rules the store keeps for accounts, whoever writes (web, command line, import), on
SQLite and PostgreSQL: at least one active admin even under concurrent changes, one account
per name as people read it, a changed account's sessions ended, an append-only security
log."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from store_fixtures import *  # noqa: F403 (pytest fixtures: store, store_location, pg_url)

from station.store import LastAdminError, LoginSession, Store, StoreError, User
from station.store.records import utcnow
from station.store.usernames import username_key


def _admins(store: Store, n: int) -> list[str]:
    names = [f"admin{i}" for i in range(n)]
    for name in names:
        store.add_user(User(username=name, role="admin", password_hash="h"))
    return names


def _at_once(actions: list) -> list[BaseException | None]:
    """Run the actions in threads released together; each one's exception (or None)."""
    barrier = threading.Barrier(len(actions))
    outcome: list[BaseException | None] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            actions[i]()
        except BaseException as exc:  # reported to the test
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome


def _active_admins(store: Store) -> list[str]:
    return [u.username for u in store.list_users() if u.role == "admin" and u.active]


def test_three_concurrent_deletes_of_the_last_admins_leave_one(store: Store) -> None:
    """Each round: the last three admins (the previous round's survivor and two new ones)
    deleted at once by three threads; exactly one delete is refused (was: 10 of 10 rounds
    left no admin)."""
    survivors = _admins(store, 1)
    for round_ in range(5):
        names = [*survivors, f"new{round_}-a", f"new{round_}-b"]
        for name in names[1:]:
            store.add_user(User(username=name, role="admin", password_hash="h"))
        outcome = _at_once([lambda n=n: store.delete_user(n) for n in names])
        refused = [o for o in outcome if o is not None]
        assert len(refused) == 1 and isinstance(refused[0], LastAdminError), refused
        survivors = _active_admins(store)
        assert len(survivors) == 1


def test_concurrent_demotions_and_deactivations_leave_an_admin(store: Store) -> None:
    names = _admins(store, 3)
    outcome = _at_once(
        [
            lambda: store.update_user(names[0], role="coach"),
            lambda: store.update_user(names[1], active=False),
            lambda: store.delete_user(names[2]),
        ]
    )
    assert sum(o is not None for o in outcome) == 1
    assert len(_active_admins(store)) == 1


def test_changes_that_keep_an_admin_are_allowed(store: Store) -> None:
    [admin] = _admins(store, 1)
    store.add_user(User(username="coach", role="coach", password_hash="h"))
    store.update_user("coach", active=False)  # not an admin: no check
    store.delete_user("coach")
    store.update_user(admin, password_hash="h2")  # still an active admin
    with pytest.raises(LastAdminError):
        store.update_user(admin, role="physio")
    with pytest.raises(LastAdminError):
        store.delete_user(admin)
    assert _active_admins(store) == [admin]


@pytest.mark.parametrize(
    "lookalike",
    ["Admin", "ADMIN", "аdmin", "ａｄｍｉｎ", "adm1n", "admIn", "aԁmin", "ad\u0301min"],
)
def test_the_store_refuses_a_lookalike_of_an_existing_username(
    store: Store, lookalike: str
) -> None:
    store.add_user(User(username="admin", role="admin", password_hash="h"))
    with pytest.raises(StoreError, match="looks like the existing user 'admin'"):
        store.add_user(User(username=lookalike, role="admin", password_hash="h"))
    assert [u.username for u in store.list_users()] == ["admin"]


def test_distinct_names_stay_distinct() -> None:
    names = ["ana", "anna", "ben", "bea", "coach-1", "coach-2", "Дмитрий", "Dmitri"]
    assert len({username_key(n) for n in names}) == len(names)


def _login(store: Store, username: str, hours: float = 1.0, kind: str = "user") -> str:
    record = LoginSession(
        secret_hash=f"{username}-{kind}-{hours}".ljust(64, "x")[:64],
        username=username,
        kind=kind,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    store.start_login_session(record)
    return record.secret_hash


def test_login_sessions_end_with_their_user_or_their_lifetime(store: Store) -> None:
    store.add_user(User(username="admin", role="admin", password_hash="h"))
    store.add_user(User(username="coach", role="coach", password_hash="h"))
    kept, ended, kiosk = _login(store, "coach"), _login(store, "coach", 2), _login(
        store, "coach", 3, "kiosk"
    )
    expired = _login(store, "admin", -1)
    assert store.find_login_session(expired) is None
    found = store.find_login_session(kept)
    assert found is not None and (found.username, found.role) == ("coach", "coach")
    store.update_user("coach", password_hash="new", keep_session=found.uid, actor="admin")
    assert store.find_login_session(kept) is not None
    assert store.find_login_session(ended) is None and store.find_login_session(kiosk) is None
    store.update_user("coach", active=False)
    assert store.find_login_session(kept) is None
    store.update_user("coach", active=True)
    assert store.find_login_session(kept) is None  # reactivating revives nothing
    again = _login(store, "coach", 5)
    store.delete_user("coach")
    assert store.find_login_session(again) is None
    assert store.list_login_sessions() == []  # the expired one was forgotten at a login
    ends = [e for e in store.security_log() if e.kind == "session_ended"]
    assert len(ends) == 4 and all(e.subject == "coach" for e in ends)
    assert "password changed" in ends[-1].detail and ends[-1].actor == "admin"


def test_a_no_op_change_ends_no_session(store: Store) -> None:
    store.add_user(User(username="coach", role="coach", password_hash="h"))
    secret = _login(store, "coach")
    store.update_user("coach", role="coach", active=True, password_hash="h")
    assert store.find_login_session(secret) is not None


def test_the_security_log_is_append_only(store: Store) -> None:
    store.add_user(User(username="admin", role="admin", password_hash="h"), actor="setup")
    [event] = store.security_log()
    assert (event.kind, event.actor, event.subject) == ("user_added", "setup", "admin")
    statements = ["UPDATE security_log SET actor = 'nobody'", "DELETE FROM security_log"]
    if store.dialect == "postgresql":
        statements.append("TRUNCATE security_log")
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.write() as conn:
            conn.exec_driver_sql(statement)
    assert [e.actor for e in store.security_log()] == ["setup"]


def test_the_security_log_pages_newest_first(store: Store) -> None:
    for i in range(5):
        store.add_user(User(username=f"user{i}", role="coach", password_hash="h"))
    first = store.security_log(limit=2)
    assert [e.subject for e in first] == ["user4", "user3"]
    older = store.security_log(limit=10, before_id=first[-1].id)
    assert [e.subject for e in older] == ["user2", "user1", "user0"]
