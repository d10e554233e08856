"""Access control of a web request: who is asking (session, kiosk or bearer token), CSRF,
the setup gate, the `require` decorators, login rate limiting.

What a role may do is decided in station/access.py (`CAPABILITIES`, documented in
docs/access.md); views ask `require("view_history")` and never test role names.
A request is authenticated by the session cookie (a logged-in user, or a kiosk
session a physio/coach turned on), or on /api/ by `Authorization: Bearer <token>`.
Cookie-authenticated state changes need the session's CSRF token (form field
`csrf_token` or header `X-CSRF-Token`); bearer-token calls are exempt because a
browser never sends a bearer token by itself. `install(app)` puts the gates on every
request; station.web.app.create_app calls it for every station app.

Login failures are counted in memory per (username, client address): after
`LOGIN_MAX_FAILURES` within `LOGIN_WINDOW_S` further attempts get 429 until the
window passes; an address gets `ADDRESS_MAX_FAILURES` over all usernames. The
counters reset on restart (one station process; documented).
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.wrappers import Response

from station.access import (
    CAPABILITIES,
    AuthError,
    Principal,
    authenticate,
    has_users,
    hash_token,
    role_can,
)
from station.store import Store
from station.store.records import User
from station.web.context import context

LOGIN = "login"  # pseudo-capability of require_login: any authenticated principal
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_S = 300.0
ADDRESS_MAX_FAILURES = 30  # per client address and window, over all usernames
SESSION_LIFETIME = timedelta(hours=12)
KIOSK_LIFETIME = timedelta(days=30)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)  # last_used_at is this precise
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALWAYS_OPEN_PREFIXES = ("/static/", "/api/health")  # and /setup until the first user exists

F = TypeVar("F", bound=Callable[..., Any])


# -- login rate limiting ---------------------------------------------------------------------


class LoginLimiter:
    """Failures per key in a sliding window, in memory (thread-safe)."""

    def __init__(
        self,
        max_failures: int = LOGIN_MAX_FAILURES,
        window_s: float = LOGIN_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.window_s, self._clock = max_failures, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait when `key` is locked out, else None."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return None
            return max(1, int(times[0] + self.window_s - now + 0.999))

    def failed(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            if len(self._failures) > 10_000:  # bound memory under a spray of usernames
                stale = [k for k, v in self._failures.items() if not self._recent(k, now)]
                for k in stale:
                    del self._failures[k]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def login_key(username: str) -> str:
    return f"{username.lower()}|{request.remote_addr or '?'}"


def limiter() -> LoginLimiter:
    """Failures per (username, address)."""
    return current_app.extensions["station_login_limiter"]


def address_limiter() -> LoginLimiter:
    """Failures per address, whatever the username (guessing many usernames)."""
    return current_app.extensions["station_address_limiter"]


def login_retry_after(username: str) -> int | None:
    """Seconds this login attempt must wait (429), or None."""
    waits = [
        limiter().retry_after(login_key(username)),
        address_limiter().retry_after(request.remote_addr or "?"),
    ]
    return max((w for w in waits if w is not None), default=None)


def login_failed(username: str) -> None:
    limiter().failed(login_key(username))
    address_limiter().failed(request.remote_addr or "?")


def login_succeeded(username: str) -> None:
    limiter().succeeded(login_key(username))


# -- sessions ------------------------------------------------------------------------------


def _store() -> Store | None:
    return context().store


def login_user(user: User) -> None:
    """Start a fresh session for `user` (new CSRF token: no session fixation)."""
    session.clear()
    session.permanent = True
    session["user"] = user.username
    session["user_uid"] = user.uid
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.pop("principal", None)


def logout_user() -> None:
    session.clear()
    g.pop("principal", None)


def enter_kiosk(principal: Principal) -> None:
    """Turn this browser's session into a kiosk session (limited role)."""
    if not principal.can("kiosk_mode"):
        raise AuthError("only a physio or coach can turn on kiosk mode")
    session.clear()
    session.permanent = True
    session["kiosk_by"] = principal.username
    session["kiosk_since"] = time.time()
    session["kiosk_trials"] = []
    session["kiosk_id"] = secrets.token_urlsafe(16)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.pop("principal", None)


def leave_kiosk(username: str, password: str) -> User | None:
    """Leave kiosk mode with a physio/coach/admin password: logs that user in."""
    user = authenticate(_store(), username, password)
    if user is None or user.role not in ("admin", "physio", "coach"):
        return None
    login_user(user)
    return user


def remember_kiosk_trial(trial_uid: str) -> None:
    """The kiosk may see this trial's result (it ran it)."""
    trials = list(session.get("kiosk_trials", []))
    if trial_uid not in trials:
        trials = [*trials, trial_uid][-20:]
        session["kiosk_trials"] = trials


def kiosk_may_see(trial_uid: str) -> bool:
    return trial_uid in session.get("kiosk_trials", [])


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _resolve_principal() -> Principal | None:
    store = _store()
    if request.path.startswith("/api/"):
        token = _bearer_token()
        if token is not None:
            digest = hash_token(token)
            record = store.find_api_token(digest, touch=False)
            if record is None:
                return None
            if _stale(record.last_used_at):  # record use, but not a write per request
                store.find_api_token(digest, touch=True)
            return Principal(username=record.username or record.name, role=record.role, via="token")
    if "kiosk_by" in session:
        # the kiosk lives as long as the physio/coach who turned it on keeps that right
        owner = store.get_user(session["kiosk_by"])
        if owner is None or not owner.active or not role_can(owner.role, "kiosk_mode"):
            session.clear()
            return None
        return Principal(username=owner.username, role="kiosk", via="kiosk")
    username = session.get("user")
    if username is None:
        return None
    user = store.get_user(username)
    # a deleted, deactivated or re-created user loses the session at once
    if user is None or not user.active or user.uid != session.get("user_uid"):
        session.clear()
        return None
    return Principal(username=user.username, role=user.role, via="session")


def _stale(last_used: datetime | None) -> bool:
    if last_used is None:
        return True
    if last_used.tzinfo is None:
        last_used = last_used.replace(tzinfo=UTC)
    return datetime.now(UTC) - last_used > TOKEN_TOUCH_INTERVAL


def current_principal() -> Principal | None:
    """The authenticated principal of this request (cached per request), or None."""
    if "principal" not in g:
        g.principal = _resolve_principal()
    return g.principal


def bearer_presented() -> bool:
    return request.path.startswith("/api/") and _bearer_token() is not None


# -- CSRF ------------------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token (made on first use); put it in forms and fetch() headers."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok() -> bool:
    expected = session.get(CSRF_FIELD)
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        given = request.form.get(CSRF_FIELD)
    return given is not None and secrets.compare_digest(str(given), str(expected))


# -- responses -----------------------------------------------------------------------------


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _safe_next(target: str | None) -> str | None:
    """Only local paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def safe_next(target: str | None, default: str = "/") -> str:
    return _safe_next(target) or default


def _login_redirect() -> Response:
    full = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=full))


def deny(capability: str, api: bool | None = None) -> Response | None:
    """None when the current principal has `capability`; else the right refusal:
    API -> 401/403 JSON; page -> redirect to login (or 403 page when logged in)."""
    api = is_api_request() if api is None else api
    principal = current_principal()
    if principal is None:
        if api:
            response = api_error(401, "authentication required: log in or send a Bearer token")
            response.headers["WWW-Authenticate"] = 'Bearer realm="balance-station"'
            return response
        return _login_redirect()
    if not principal.can(capability):
        message = f"your role ({principal.role}) may not do this (needs {capability})"
        if api:
            return api_error(403, message, capability=capability)
        return Response(message, status=403, mimetype="text/plain")
    return None


def require(*capabilities: str, api: bool | None = None) -> Callable[[F], F]:
    """View decorator: the principal needs ANY of `capabilities`.

    API paths (/api/...) or api=True answer 401/403 JSON; pages redirect to
    /login?next=... when nobody is logged in and answer 403 otherwise."""
    for capability in capabilities:
        if capability not in CAPABILITIES:
            raise KeyError(f"unknown capability {capability!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refusal = None
            for capability in capabilities:
                refusal = deny(capability, api)
                if refusal is None:
                    return view(*args, **kwargs)
            return refusal

        wrapper.required_capabilities = capabilities  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def require_login(view: F) -> F:
    """Any authenticated principal (used by pages that adapt to the role)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_principal() is None:
            if is_api_request():
                return api_error(401, "authentication required: log in or send a Bearer token")
            return _login_redirect()
        return view(*args, **kwargs)

    wrapper.required_capabilities = (LOGIN,)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


# -- installing on the app -------------------------------------------------------------------


def _setup_gate() -> Response | None:
    path = request.path
    if path.startswith(ALWAYS_OPEN_PREFIXES):
        return None
    store = _store()
    if store is None:  # no database: nobody can log in, so nothing personal is served
        message = "the station has no database: check the storage settings and the log"
        if is_api_request():
            return api_error(503, message)
        return Response(message, status=503, mimetype="text/plain")
    if path == "/setup" or _is_set_up(store):
        return None
    if is_api_request():
        return api_error(503, "station not set up: open /setup")
    return redirect(url_for("auth.setup"))


def _is_set_up(store: Any) -> bool:
    """Once a user exists the answer is kept (no query per request; setup never reopens)."""
    if current_app.extensions.get("station_set_up"):
        return True
    if has_users(store):
        current_app.extensions["station_set_up"] = True
        return True
    return False


def _csrf_gate() -> Response | None:
    if request.method not in UNSAFE_METHODS:
        return None
    if bearer_presented():
        return None  # bearer tokens are never sent by a browser on its own
    if is_api_request() and current_principal() is None:
        return None  # nobody is authenticated: the endpoint answers 401 itself
    if csrf_ok():
        return None
    message = f"missing or wrong CSRF token (send form field {CSRF_FIELD} or header {CSRF_HEADER})"
    if is_api_request():
        return api_error(400, message, field=CSRF_FIELD)
    return Response(message + "; reload the page and try again", status=400, mimetype="text/plain")


class StationSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions; a kiosk session lives longer than a user's."""

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if not session.permanent:
            return None
        lifetime = KIOSK_LIFETIME if "kiosk_by" in session else SESSION_LIFETIME
        return datetime.now(UTC) + lifetime


def install(app: Flask) -> None:
    """Setup gate, CSRF check and session lifetimes on every request; template helpers."""
    if app.extensions.get("station_auth_installed"):
        return
    app.extensions["station_auth_installed"] = True
    app.extensions["station_login_limiter"] = LoginLimiter()
    app.extensions["station_address_limiter"] = LoginLimiter(max_failures=ADDRESS_MAX_FAILURES)
    app.before_request(_setup_gate)
    app.before_request(_csrf_gate)
    app.session_interface = StationSessionInterface()

    @app.context_processor
    def auth_context() -> dict[str, Any]:
        return {
            "csrf_token": csrf_token,
            "current_principal": current_principal,
            "can": lambda capability: bool(
                (p := current_principal()) is not None and p.can(capability)
            ),
        }
