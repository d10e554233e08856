"""Who may do what, and the accounts that say who is who: roles, capabilities, passwords,
users and API tokens. No Flask here, so the CLI (`balance-station user`, `token`) and the
web app share one capability table and one way of hashing.

Capabilities are the one place access is decided (`CAPABILITIES`, documented in
docs/access.md); the web asks for a capability (station.web.auth.require) and never tests
role names. The request-bound part (sessions, kiosk, CSRF, login rate limit) is in
station/web/auth.py.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from station.store.records import ApiToken, User

ROLES: tuple[str, ...] = ("admin", "physio", "coach", "kiosk")
USER_ROLES: tuple[str, ...] = ("admin", "physio", "coach")  # kiosk is a device mode, not a user
TOKEN_ROLES: tuple[str, ...] = ("admin", "physio", "coach", "kiosk")

CAPABILITIES: dict[str, frozenset[str]] = {
    "view_history": frozenset({"admin", "physio", "coach"}),
    "edit_athletes": frozenset({"admin", "physio"}),
    "set_targets": frozenset({"admin", "physio"}),
    "run_tests": frozenset({"admin", "physio", "coach", "kiosk"}),
    "view_own_trial_result": frozenset({"kiosk"}),
    "export": frozenset({"admin", "physio", "coach"}),
    "calibrate": frozenset({"admin", "physio"}),
    "manage_users": frozenset({"admin"}),
    "kiosk_mode": frozenset({"physio", "coach"}),
}
CAPABILITY_HELP: dict[str, str] = {
    "view_history": "browse athletes, sessions, trials, targets, the team dashboard",
    "edit_athletes": "add, change and delete athletes and their sessions' logs",
    "set_targets": "add, change and delete athletes' targets",
    "run_tests": "start, operator-start and abort trials; watch the live stream",
    "view_own_trial_result": "see the result of the trial this kiosk just ran (nothing else)",
    "export": "download CSV: a trial's samples (raw/COP/force) and metrics, an athlete's "
              "trials, the team's latest results",
    "calibrate": "calibrate the board",
    "manage_users": "add, change and delete users and API tokens",
    "kiosk_mode": "turn this browser into a kiosk (leaving needs a physio/coach/admin password)",
}

MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "bst_"

_hasher = PasswordHasher()


class AuthError(ValueError):
    """A user/token request that cannot be done (bad role, short password...)."""


class AccountStore(Protocol):
    """What accounts need of the store (station.store.Store)."""

    def get_user(self, username: str) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def add_user(self, user: User) -> str: ...
    def update_user(self, username: str, **changes: object) -> None: ...
    def add_api_token(self, token: ApiToken) -> str: ...


@dataclass(frozen=True)
class Principal:
    """Who is making a request. `via` is "session", "token" or "kiosk"; for a kiosk,
    `username` is the physio/coach who turned kiosk mode on."""

    username: str | None
    role: str
    via: str

    def can(self, capability: str) -> bool:
        return role_can(self.role, capability)


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
    if (
        not username
        or len(username) > 64
        or not username.isprintable()
        or username != username.strip()
    ):
        raise AuthError("username must be 1-64 printable characters without surrounding spaces")


def create_user(store: AccountStore, username: str, role: str, password: str) -> User:
    """Validate and add a user (argon2 hash of the password)."""
    check_username(username)
    if role not in USER_ROLES:
        raise AuthError(f"role must be one of {', '.join(USER_ROLES)}, got {role!r}")
    check_new_password(password)
    if store.get_user(username) is not None:
        raise AuthError(f"user {username!r} already exists")
    user = User(username=username, role=role, password_hash=hash_password(password))
    store.add_user(user)
    return user


def set_password(store: AccountStore, username: str, password: str) -> None:
    check_new_password(password)
    if store.get_user(username) is None:
        raise AuthError(f"no user {username!r}")
    store.update_user(username, password_hash=hash_password(password))


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
    store: AccountStore, role: str, name: str, username: str | None = None
) -> tuple[str, ApiToken]:
    """A new token: returns (the secret, shown once; the stored record with only its hash)."""
    if role not in TOKEN_ROLES:
        raise AuthError(f"role must be one of {', '.join(TOKEN_ROLES)}, got {role!r}")
    if not name or len(name) > 100:
        raise AuthError("token name must be 1-100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(token_hash=hash_token(secret), role=role, name=name, username=username)
    store.add_api_token(record)
    return secret, record
