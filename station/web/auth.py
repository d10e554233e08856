"""Access control of a web request: who is asking (session, kiosk or bearer token), CSRF,
the setup gate, the `require` decorators, request limits.

What a role may do is decided in station/access.py (`CAPABILITIES`, documented in
docs/access.md); views ask `require("view_history")` and never test role names.
A request is authenticated by the session cookie (a logged-in user, or a kiosk
session a physio/coach turned on), or on /api/ by `Authorization: Bearer <token>`.

Sessions are the server's: the signed cookie carries a random secret whose SHA-256 names a
row of the store's login_sessions. A request is served only while that row exists, has not
expired (12 h; a kiosk 30 days, whatever the cookie says) and its user is active; logout,
a password, role or active change and the admin end sessions by deleting rows, so a saved
cookie stops working at once. `session_check()` gives long requests (the live stream) a way
to ask again later.

Kept parts over hand-written ones: CSRF is Flask-WTF's CSRFProtect (the session's token
as form field `csrf_token` or header `X-CSRF-Token`; we decide when it is needed: cookie
state changes, not bearer calls, which a browser never sends by itself); request limits are
Flask-Limiter's (moving windows in memory, per client address; `REQUEST_LIMITS`). Login
failures count per (username as people read it, address) and per address; a right password
clears its pair. The counters reset on restart (one station process; documented).
`install(app)` puts the gates on every request; station.web.app.create_app calls it, and
`install_request_limits(app)` once the views are registered.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
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
from station.store import Store, StoreError
from station.store.records import LoginSession, SecurityEvent, User, utcnow
from station.store.usernames import username_key
from station.web.context import context

LOGIN = "login"  # pseudo-capability of require_login: any authenticated principal
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_S = 300
ADDRESS_MAX_FAILURES = 30  # per client address and window, over all usernames
LOGIN_REQUESTS_PER_MINUTE = 60  # per client address, failed or not
PDF_REQUESTS_PER_MINUTE = 6  # per client address: each one starts a Chromium
SESSION_LIFETIME = timedelta(hours=12)
KIOSK_LIFETIME = timedelta(days=30)
TOUCH_INTERVAL = timedelta(minutes=5)  # last_used_at / last_seen_at are this precise
SESSION_KEY = "sid"  # the cookie's session secret
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALWAYS_OPEN_PREFIXES = ("/static/", "/api/health")  # and /setup until the first user exists

F = TypeVar("F", bound=Callable[..., Any])


def _store() -> Store | None:
    return context().store


def client_address() -> str:
    return request.remote_addr or "?"


def log_event(kind: str, subject: str | None = None, detail: str | None = None) -> None:
    """A security-log line about this request (actor: who is logged in, if anyone)."""
    store = _store()
    if store is None:
        return
    principal = current_principal()
    store.log_security_event(
        SecurityEvent(
            kind=kind,
            actor=None if principal is None else principal.label,
            subject=subject,
            address=client_address(),
            detail=detail,
        )
    )


# -- sessions ------------------------------------------------------------------------------


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clear_session() -> None:
    session.clear()
    g.pop("principal", None)
    g.pop(CSRF_FIELD, None)  # Flask-WTF caches the request's token in g: a new one now


def _start_session(user: User, kind: str) -> str:
    """End this browser's session (if any) and start a new one of `kind` for `user`: a new
    secret and a new CSRF token (no session fixation). Returns the session's uid."""
    _end_current_session("replaced by a new login" if kind == "user" else "turned into a kiosk")
    secret = secrets.token_urlsafe(32)
    lifetime = KIOSK_LIFETIME if kind == "kiosk" else SESSION_LIFETIME
    record = LoginSession(
        secret_hash=_secret_hash(secret),
        username=user.username,
        kind=kind,
        expires_at=utcnow() + lifetime,
        address=client_address(),
        user_agent=request.headers.get("User-Agent"),
    )
    _store().start_login_session(record)
    session.permanent = True
    session[SESSION_KEY] = secret
    generate_csrf()  # in the login's own cookie: a script that keeps it can send the token
    return record.uid


def _end_current_session(reason: str) -> None:
    principal = current_principal()
    if principal is not None and principal.session is not None:
        with contextlib.suppress(StoreError):  # ended meanwhile
            _store().end_login_session(
                principal.session, reason, actor=principal.label, address=client_address()
            )
    _clear_session()


def login_user(user: User) -> None:
    """Start a fresh session for `user` (new secret, new CSRF token)."""
    uid = _start_session(user, "user")
    log_event("login", user.username, f"session {uid}")


def logout_user() -> None:
    """End this session on the server (a saved copy of the cookie no longer works)."""
    _end_current_session("logout")


def enter_kiosk(principal: Principal) -> None:
    """Turn this browser's session into a kiosk session of `principal` (limited role)."""
    if not principal.can("kiosk_mode"):
        raise AuthError("only a physio or coach can turn on kiosk mode")
    owner = _store().get_user(principal.username or "")
    if owner is None:
        raise AuthError("the user who turns kiosk mode on must exist")
    uid = _start_session(owner, "kiosk")
    session["kiosk_trials"] = []
    session["kiosk_id"] = secrets.token_urlsafe(16)
    g.pop("principal", None)
    log_event("kiosk_started", owner.username, f"kiosk session {uid}")


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


def _token_principal(store: Store, digest: str, touch: bool) -> Principal | None:
    record = store.find_api_token(digest, touch=False)
    if record is None:
        return None
    if touch and _stale(record.last_used_at):  # record use, but not a write per request
        store.find_api_token(digest, touch=True)
    return Principal(username=record.username or record.name, role=record.role, via="token")


def _session_principal(store: Store, digest: str, touch: bool) -> Principal | None:
    """The principal of the open session with this secret hash (a kiosk lives only while
    its physio/coach keeps the right to turn one on), else None."""
    record = store.find_login_session(digest)
    if record is None or record.role is None:
        return None
    if record.kind == "kiosk" and not role_can(record.role, "kiosk_mode"):
        return None
    if touch and _stale(record.last_seen_at):
        store.touch_login_session(record.uid)
    if record.kind == "kiosk":
        return Principal(username=record.username, role="kiosk", via="kiosk", session=record.uid)
    return Principal(
        username=record.username, role=record.role, via="session", session=record.uid
    )


def _resolve_principal() -> Principal | None:
    store = _store()
    if store is None:
        return None
    if request.path.startswith("/api/"):
        token = _bearer_token()
        if token is not None:
            return _token_principal(store, hash_token(token), touch=True)
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        if session:  # a cookie from before server sessions, or a stranger's: forget it
            _clear_session()
        return None
    principal = _session_principal(store, _secret_hash(secret), touch=True)
    if principal is None:  # ended, expired, or its user deactivated
        _clear_session()
    return principal


def session_check() -> Callable[[], bool]:
    """For a long request: a function (callable outside the request) that says whether
    this request's principal is still authenticated: its session still open (or its token
    not revoked) and its user still active, with the same role."""
    store, principal = _store(), current_principal()
    if store is None or principal is None:
        return lambda: False
    token = _bearer_token() if request.path.startswith("/api/") else None
    if token is not None:
        digest = hash_token(token)
        return lambda: _token_principal(store, digest, touch=False) == principal
    digest = _secret_hash(str(session.get(SESSION_KEY)))
    return lambda: _session_principal(store, digest, touch=False) == principal


def _stale(last_used: datetime | None) -> bool:
    if last_used is None:
        return True
    if last_used.tzinfo is None:
        last_used = last_used.replace(tzinfo=UTC)
    return datetime.now(UTC) - last_used > TOUCH_INTERVAL


def current_principal() -> Principal | None:
    """The authenticated principal of this request (cached per request), or None."""
    if "principal" not in g:
        g.principal = _resolve_principal()
    return g.principal


def bearer_presented() -> bool:
    return request.path.startswith("/api/") and _bearer_token() is not None


# -- CSRF (Flask-WTF) ------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token (made on first use); put it in forms and fetch() headers."""
    return generate_csrf()


# -- request limits (Flask-Limiter) ----------------------------------------------------------


@dataclass(frozen=True)
class LimitRule:
    """One request limit: `limit` in Flask-Limiter's words ("5 per 5 minutes"), counted per
    `key()` in `scope` (rules of one scope share their counters across paths); with
    `failures_only` only 401 answers count (a right password costs nothing)."""

    limit: str
    scope: str
    key: Callable[[], str]
    message: str
    failures_only: bool = False
    methods: tuple[str, ...] = ("POST",)


def _login_name_key() -> str:
    """Failures of one username (as people read it: `Admin` is `admin`) from one address."""
    return f"{username_key(request.form.get('username', ''))}|{client_address()}"


LOGIN_RULES = (
    LimitRule(
        f"{LOGIN_MAX_FAILURES} per {LOGIN_WINDOW_S} seconds",
        "login-failures-user",
        _login_name_key,
        "too many failed attempts for this username",
        failures_only=True,
    ),
    LimitRule(
        f"{ADDRESS_MAX_FAILURES} per {LOGIN_WINDOW_S} seconds",
        "login-failures-address",
        client_address,
        "too many failed attempts from this address",
        failures_only=True,
    ),
    LimitRule(
        f"{LOGIN_REQUESTS_PER_MINUTE} per minute",
        "login-requests",
        client_address,
        "too many login attempts from this address",
    ),
)
# Rule path -> its limits (the login forms share theirs).
REQUEST_LIMITS: dict[str, tuple[LimitRule, ...]] = {
    "/login": LOGIN_RULES,
    "/kiosk/exit": LOGIN_RULES,
    "/report/<uid>.pdf": (
        LimitRule(
            f"{PDF_REQUESTS_PER_MINUTE} per minute",
            "pdf",
            client_address,
            "too many PDF requests from this address",
            methods=("GET",),
        ),
    ),
}


def limiter() -> Limiter:
    return current_app.extensions["station_limiter"]


def install_request_limits(app: Flask) -> None:
    """Put `REQUEST_LIMITS` on the views of their paths (call once the views are
    registered; tests/test_web_auth.py checks that the station app serves every path)."""
    station_limiter: Limiter = app.extensions["station_limiter"]
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    for path, rules in REQUEST_LIMITS.items():
        if path not in endpoints:
            continue  # an app built with fewer views (tests) lacks some paths
        view = app.view_functions[endpoints[path]]
        for rule in rules:
            view = station_limiter.shared_limit(
                rule.limit,
                scope=rule.scope,
                key_func=rule.key,
                error_message=rule.message,
                methods=list(rule.methods),
                deduct_when=(lambda r: r.status_code == 401) if rule.failures_only else None,
            )(view)
        app.view_functions[endpoints[path]] = view


def _failure_limits(scope: str) -> list[Any]:
    return [r for r in limiter().current_limits if scope in r.request_args]


def login_failed(username: str) -> None:
    """Log a failed login (and the lock-out it causes: the last failure the window
    allows)."""
    log_event("login_failed", username or None)
    for limit in _failure_limits("login-failures-user"):
        if limit.remaining <= 1:
            log_event(
                "locked_out",
                username or None,
                f"{LOGIN_MAX_FAILURES} failed attempts from {client_address()}: this "
                f"username waits {LOGIN_WINDOW_S} s there",
            )
    for limit in _failure_limits("login-failures-address"):
        if limit.remaining <= 1:
            log_event(
                "locked_out",
                None,
                f"{ADDRESS_MAX_FAILURES} failed attempts from {client_address()}: the "
                f"address waits {LOGIN_WINDOW_S} s",
            )


def login_succeeded(username: str) -> None:
    """The right password clears this username's failures from this address."""
    for limit in _failure_limits("login-failures-user"):
        limiter().limiter.clear(limit.limit, *limit.request_args)


def too_many_page(endpoint: str, render: Callable[[str], Response]) -> Callable[[Any], None]:
    """A blueprint record function: 429 on `endpoint` is `render(message)` (a page that
    says how long to wait, instead of plain text)."""

    def record(state: Any) -> None:
        state.app.extensions.setdefault("station_429_pages", {})[endpoint] = render

    return record


def _too_many_requests(exc: RateLimitExceeded) -> Response:
    current = limiter().current_limit
    wait = 1 if current is None else max(1, math.ceil(current.window[0] - time.time()))
    message = f"{exc.description}: try again in {wait} s"
    page = current_app.extensions.get("station_429_pages", {}).get(request.endpoint)
    if is_api_request():
        response = api_error(429, message)
    elif page is not None:
        response = page(message)
    else:
        response = Response(message + "\n", status=429, mimetype="text/plain")
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


# -- responses -----------------------------------------------------------------------------


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _safe_next(target: str | None) -> str | None:
    """Only local paths are followed after login (no open redirect)."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # CR/LF and other controls never reach a Location header
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
    try:
        current_app.extensions["csrf"].protect()
    except CSRFError as exc:
        reason = exc.description
    else:
        return None
    message = (
        f"missing or wrong CSRF token (send form field {CSRF_FIELD} or header {CSRF_HEADER}):"
        f" {reason}"
    )
    if is_api_request():
        return api_error(400, message, field=CSRF_FIELD)
    return Response(message + "; reload the page and try again", status=400, mimetype="text/plain")


class StationSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions; a kiosk's cookie is kept longer than a user's (the server's
    session record decides how long either is accepted)."""

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if not session.permanent:
            return None
        lifetime = KIOSK_LIFETIME if "kiosk_id" in session else SESSION_LIFETIME
        return datetime.now(UTC) + lifetime


def install(app: Flask) -> None:
    """Setup gate, CSRF check (Flask-WTF), request limiter (Flask-Limiter), session cookies
    on every request; template helpers."""
    if app.extensions.get("station_auth_installed"):
        return
    app.extensions["station_auth_installed"] = True
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # _csrf_gate decides which requests need the token
        WTF_CSRF_FIELD_NAME=CSRF_FIELD,
        WTF_CSRF_HEADERS=[CSRF_HEADER, "X-CSRFToken"],
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as its session (ended server-side)
        PERMANENT_SESSION_LIFETIME=KIOSK_LIFETIME,  # no cookie is read after this, at most
    )
    CSRFProtect(app)
    app.extensions["station_limiter"] = Limiter(
        client_address,
        app=app,
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=False,  # Retry-After on a 429 only (_too_many_requests)
    )
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
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
