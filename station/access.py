"""Who may do what, and the accounts that say who is who: roles, capabilities, passwords,
users and API tokens. No Flask here, so the CLI (`balance-station user`, `token`) and the
web app share one capability table and one way of hashing.

Capabilities are the one place access is decided (`CAPABILITIES`, documented in
docs/access.md); the web asks for a capability (station.web.auth.require) and never tests
role names. The request-bound part (sessions, kiosk, CSRF, request limits) is in
station/web/auth.py.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from station.store import StoreError
from station.store.records import ApiToken, User
from station.store.usernames import username_key

ROLES: tuple[str, ...] = ("admin", "physio", "coach", "kiosk")
USER_ROLES: tuple[str, ...] = ("admin", "physio", "coach")  # kiosk is a device mode, not a user
TOKEN_ROLES: tuple[str, ...] = ("admin", "physio", "coach", "kiosk")

CAPABILITIES: dict[str, frozenset[str]] = {
    "view_history": frozenset({"admin", "physio", "coach"}),
    "edit_athletes": frozenset({"admin", "physio"}),
    "write_health_log": frozenset({"admin", "physio"}),
    "set_targets": frozenset({"admin", "physio"}),
    "run_tests": frozenset({"admin", "physio", "coach", "kiosk"}),
    "view_own_trial_result": frozenset({"kiosk"}),
    "export": frozenset({"admin", "physio", "coach"}),
    "calibrate": frozenset({"admin", "physio"}),
    "manage_users": frozenset({"admin"}),
    "kiosk_mode": frozenset({"physio", "coach"}),
    "view_training": frozenset({"admin", "physio"}),
    "set_training_stage": frozenset({"admin", "physio"}),
    "train": frozenset({"admin", "physio", "kiosk"}),
    "view_adherence": frozenset({"admin", "physio", "coach"}),
}
CAPABILITY_HELP: dict[str, str] = {
    "view_history": "browse athletes, sessions, trials, targets, the team dashboard",
    "edit_athletes": "add, change and delete athletes (and all that is recorded about them)",
    "write_health_log": "write sessions' health logs (stiffness, soreness, sleep, notes); "
    "the author recorded is who is logged in",
    "set_targets": "add, change and delete athletes' targets",
    "run_tests": "start, operator-start and abort trials; run a battery (skip, resume); watch "
                 "the live stream",
    "view_own_trial_result": "see the result of the trial this kiosk just ran (nothing else)",
    "export": "download CSV: a trial's samples (raw/COP/force) and metrics, an athlete's "
              "trials, the team's latest results",
    "calibrate": "calibrate the board",
    "manage_users": "add, change and delete users and API tokens",
    "kiosk_mode": "turn this browser into a kiosk (leaving needs a physio/coach/admin password)",
    "view_training": "see an athlete's training plan: stage, why, stage changes, target "
                     "suggestions and reviews",
    "set_training_stage": "set or override an athlete's training stage (a reason is required)",
    "train": "see an athlete's session for today and record their own log before it (the "
             "athlete's entry: at a kiosk it is recorded as the athlete's own)",
    "view_adherence": "see training adherence: sessions per week against the plan, rest days "
                      "kept, last trained",
}

MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 64
TOKEN_PREFIX = "bst_"
# Not in a username: path and markup characters (a name is part of /api/users/<name> and is
# shown on pages and in logs).
USERNAME_FORBIDDEN = frozenset('/\\<>&"`')
# How the station names authors that are not users (health logs, the security log): no user
# may be called like one of them.
AUTHOR_LABELS = ("kiosk of", "api token", "command line", "athlete's own entry")
# Scripts whose letters pass for each other: a name mixing them is a lookalike in the making.
LOOKALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})

_hasher = PasswordHasher()


class AuthError(ValueError):
    """A user/token request that cannot be done (bad role, short password...)."""


class AccountStore(Protocol):
    """What accounts need of the store (station.store.Store). The store keeps the rules any
    writer must keep (no lookalike names, an active admin left, the security log, a changed
    account's sessions ended); `actor` is who is doing it, for the log."""

    def get_user(self, username: str) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def add_user(self, user: User, actor: str | None = None) -> str: ...
    def update_user(
        self,
        username: str,
        actor: str | None = None,
        keep_session: str | None = None,
        **changes: object,
    ) -> None: ...
    def add_api_token(self, token: ApiToken, actor: str | None = None) -> str: ...


@dataclass(frozen=True)
class Principal:
    """Who is making a request. `via` is "session", "token" or "kiosk"; for a kiosk,
    `username` is the physio/coach who turned kiosk mode on. `session` is the uid of the
    login session (a user's or a kiosk's; None for a token)."""

    username: str | None
    role: str
    via: str
    session: str | None = None

    def can(self, capability: str) -> bool:
        return role_can(self.role, capability)

    @property
    def label(self) -> str:
        """How logs name this principal: the user; "kiosk of <user>"; "API token <name>"."""
        if self.via == "kiosk":
            return f"kiosk of {self.username}"
        if self.via == "token":
            return f"API token {self.username}"
        return str(self.username)


def command_line_actor() -> str:
    """How logs name whoever runs a `balance-station` command (the OS account)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"command line ({who})"


def role_can(role: str, capability: str) -> bool:
    """Whether `role` holds `capability` (an unknown capability is a programming error)."""
    try:
        return role in CAPABILITIES[capability]
    except KeyError:
        raise KeyError(f"unknown capability {capability!r}") from None


# -- passwords and users ---------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def check_username(username: str) -> None:
    """AuthError unless `username` is a name people can read and nothing else can pass for:
    1-64 printable characters (no control, invisible or direction characters), no surrounding
    spaces, none of / \\ < > & " `, not Latin mixed with Cyrillic or Greek letters, and
    not named like a kiosk, an API token or the command line. (Lookalikes of existing users
    are refused by the store: station.store.usernames.)"""
    if not username or len(username) > MAX_USERNAME_LENGTH or username != username.strip():
        raise AuthError(
            f"username must be 1-{MAX_USERNAME_LENGTH} characters without surrounding spaces"
        )
    for ch in username:
        if not ch.isprintable():
            name = unicodedata.name(ch, "a control character")
            raise AuthError(f"username may not contain U+{ord(ch):04X} ({name})")
        if ch in USERNAME_FORBIDDEN:
            raise AuthError(f"username may not contain {ch!r} (not any of / \\ < > & \" `)")
    scripts = {unicodedata.name(ch, "").split(" ")[0] for ch in username if ch.isalpha()}
    if len(scripts & LOOKALIKE_SCRIPTS) > 1:
        mixed = " and ".join(sorted(s.title() for s in scripts & LOOKALIKE_SCRIPTS))
        raise AuthError(f"username mixes {mixed} letters (they look alike): use one script")
    key = username_key(username)
    for label in AUTHOR_LABELS:
        mark = username_key(label)
        if key == mark or key.startswith(mark + " "):
            raise AuthError(
                f"username may not start with {label!r}: the station names kiosks, API tokens "
                "and the command line that way in its logs"
            )


def create_user(
    store: AccountStore, username: str, role: str, password: str, actor: str | None = None
) -> User:
    """Validate and add a user (argon2 hash of the password); AuthError says what to fix,
    including a name that looks like an existing user's."""
    check_username(username)
    if role not in USER_ROLES:
        raise AuthError(f"role must be one of {', '.join(USER_ROLES)}, got {role!r}")
    check_new_password(password)
    user = User(username=username, role=role, password_hash=hash_password(password))
    try:
        store.add_user(user, actor=actor)
    except StoreError as exc:
        raise AuthError(str(exc)) from None
    return user


def set_password(
    store: AccountStore,
    username: str,
    password: str,
    actor: str | None = None,
    keep_session: str | None = None,
) -> None:
    """A new password: every session of the user ends but `keep_session` (the session of
    a user changing their own password)."""
    change_user(store, username, password=password, actor=actor, keep_session=keep_session)


def change_user(
    store: AccountStore,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    actor: str | None = None,
    keep_session: str | None = None,
) -> None:
    """Change a user's role, active flag and/or password in one store transaction: all or
    nothing (station.store.LastAdminError when no active admin would be left). Any change
    ends the user's sessions but `keep_session`."""
    changes: dict[str, object] = {}
    if role is not None:
        if role not in USER_ROLES:
            raise AuthError(f"role must be one of {', '.join(USER_ROLES)}, got {role!r}")
        changes["role"] = role
    if active is not None:
        changes["active"] = bool(active)
    if password is not None:
        check_new_password(password)
        changes["password_hash"] = hash_password(password)
    if store.get_user(username) is None:
        raise AuthError(f"no user {username!r}")
    if changes:
        store.update_user(username, actor=actor, keep_session=keep_session, **changes)


def authenticate(store: AccountStore, username: str, password: str) -> User | None:
    """The active user with this password, or None (same work whether the user exists)."""
    user = store.get_user(username)
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)  # keep the timing of an unknown user similar
        return None
    return user if verify_password(user.password_hash, password) else None


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, for timing only")


def has_users(store: AccountStore) -> bool:
    return bool(store.list_users())


# -- API tokens ------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    store: AccountStore,
    role: str,
    name: str,
    username: str | None = None,
    actor: str | None = None,
) -> tuple[str, ApiToken]:
    """A new token: returns (the secret, shown once; the stored record with only its hash)."""
    if role not in TOKEN_ROLES:
        raise AuthError(f"role must be one of {', '.join(TOKEN_ROLES)}, got {role!r}")
    if not name or len(name) > 100:
        raise AuthError("token name must be 1-100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(token_hash=hash_token(secret), role=role, name=name, username=username)
    store.add_api_token(record, actor=actor)
    return secret, record
