"""JSON API for the admin: users and API tokens (the same operations as the CLI), login
sessions (see and end them) and the security log (read only: it is append-only).

The store keeps the rules whoever writes (station.store.repository): no lookalike usernames,
an active admin left (checked in the change's own transaction), every change logged with the
principal as actor, and a changed user's sessions ended (but the admin's own)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.wrappers import Response

from station import access
from station.access import Principal
from station.analysis.history import iso
from station.store import LastAdminError, StoreError
from station.web import auth
from station.web.api import ApiError, Field, ok, query_int, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body

SECURITY_LOG_PAGE = 200

USER_FIELDS = {
    "username": Field("str", required=True, max_length=64),
    "role": Field("str", required=True, choices=access.USER_ROLES),
    "password": Field(
        "str",
        required=True,
        max_length=1000,
        description=f"at least {access.MIN_PASSWORD_LENGTH} characters",
    ),
}
USER_CHANGE_FIELDS = {
    "role": Field("str", choices=access.USER_ROLES),
    "password": Field("str", max_length=1000),
    "active": Field("bool"),
}
TOKEN_FIELDS = {
    "role": Field("str", required=True, choices=access.TOKEN_ROLES),
    "name": Field("str", required=True, max_length=100, description="what the token is for"),
}


def _store() -> Any:
    return context().store


def user_json(user: Any) -> dict[str, Any]:
    return {
        "uid": user.uid,
        "username": user.username,
        "role": user.role,
        "active": user.active,
        "created_at": user.created_at,
    }


def token_json(token: Any) -> dict[str, Any]:
    return {
        "uid": token.uid,
        "name": token.name,
        "role": token.role,
        "username": token.username,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
    }


def session_json(login: Any, current: str | None = None) -> dict[str, Any]:
    """A login session as the admin sees it (never its secret or the secret's hash)."""
    return {
        "uid": login.uid,
        "username": login.username,
        "kind": login.kind,
        "created_at": iso(login.created_at),
        "last_seen_at": iso(login.last_seen_at),
        "expires_at": iso(login.expires_at),
        "address": login.address,
        "user_agent": login.user_agent,
        "current": login.uid == current,
    }


def event_json(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "kind": event.kind,
        "actor": event.actor,
        "subject": event.subject,
        "address": event.address,
        "detail": event.detail,
    }


def _principal() -> Principal:
    principal = auth.current_principal()
    assert principal is not None  # the route's guard refused strangers
    return principal


def _own_session(username: str) -> str | None:
    """The caller's session when the change is to the caller's own account (it stays)."""
    principal = _principal()
    return principal.session if principal.username == username else None


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="admin")
    admins = ("manage_users",)

    @api.route("GET", "/api/users", summary="Users", needs=admins)
    def list_users() -> Response:
        return ok({"users": [user_json(u) for u in _store().list_users()]})

    @api.route("POST", "/api/users", summary="Add a user", needs=admins, body=USER_FIELDS)
    def add_user() -> Response:
        fields = request_body()
        try:
            user = access.create_user(
                _store(),
                fields["username"],
                fields["role"],
                fields["password"],
                actor=_principal().label,
            )
        except access.AuthError as exc:
            message = str(exc)
            field = next((f for f in ("password", "username", "role") if f in message), "username")
            taken = "already exists" in message or "looks like the existing user" in message
            raise ApiError(409 if taken else 400, message, field) from None
        return ok(user_json(_store().get_user(user.username)), 201)

    @api.route(
        "PATCH",
        "/api/users/<username>",
        summary="Change a user's role, password or active flag",
        needs=admins,
        body=USER_CHANGE_FIELDS,
    )
    def change_user(username: str) -> Response:
        fields = request_body()
        if _store().get_user(username) is None:
            raise ApiError(404, f"no user {username!r}")
        try:
            access.change_user(
                _store(),
                username,
                role=fields.get("role"),
                active=fields.get("active"),
                password=fields.get("password"),
                actor=_principal().label,
                keep_session=_own_session(username),
            )
        except LastAdminError as exc:
            raise ApiError(409, str(exc)) from None
        except access.AuthError as exc:
            raise ApiError(400, str(exc), "password") from None
        return ok(user_json(_store().get_user(username)))

    @api.route(
        "DELETE", "/api/users/<username>", summary="Delete a user (not the last admin)",
        needs=admins,
    )
    def delete_user(username: str) -> Response:
        try:
            _store().delete_user(username, actor=_principal().label)
        except LastAdminError as exc:
            raise ApiError(409, str(exc)) from None
        except StoreError:
            raise ApiError(404, f"no user {username!r}") from None
        return ok({"deleted": {"username": username}})

    @api.route("GET", "/api/tokens", summary="API tokens (never their secret)", needs=admins)
    def list_tokens() -> Response:
        return ok({"tokens": [token_json(t) for t in _store().list_api_tokens()]})

    @api.route(
        "POST",
        "/api/tokens",
        summary="Create an API token; the secret is in this answer only",
        needs=admins,
        body=TOKEN_FIELDS,
    )
    def create_token() -> Response:
        fields = request_body()
        secret, record = access.create_api_token(
            _store(), fields["role"], fields["name"], actor=_principal().label
        )
        return ok({**token_json(record), "token": secret}, 201)

    @api.route("DELETE", "/api/tokens/<uid>", summary="Revoke an API token", needs=admins)
    def revoke_token(uid: str) -> Response:
        with store_404():
            _store().revoke_api_token(uid, actor=_principal().label)
        return ok({"deleted": {"token_uid": uid}})

    @api.route(
        "GET",
        "/api/login-sessions",
        summary="Open login sessions (users' and kiosks'), by user; `current` marks yours",
        needs=admins,
    )
    def list_login_sessions() -> Response:
        current = _principal().session
        return ok(
            {"sessions": [session_json(s, current) for s in _store().list_login_sessions()]}
        )

    @api.route(
        "DELETE",
        "/api/login-sessions/<uid>",
        summary="End a login session: its cookie stops working at once, its live streams "
        "within seconds",
        needs=admins,
    )
    def end_login_session(uid: str) -> Response:
        with store_404():
            _store().end_login_session(
                uid, "ended by an admin", actor=_principal().label, address=auth.client_address()
            )
        return ok({"ended": {"session_uid": uid}})

    @api.route(
        "GET",
        "/api/security-log",
        summary="The security log, newest first: failed logins, lock-outs, account, role, "
        "password and token changes, session ends, imports",
        needs=admins,
        query={
            "limit": f"at most this many events (1-1000, default {SECURITY_LOG_PAGE})",
            "before": "only events older than this event id (the next page)",
        },
    )
    def security_log() -> Response:
        limit = query_int("limit", SECURITY_LOG_PAGE, 1, 1000)
        before = query_int("before", 0, 0, 2**62) or None
        return ok({"events": [event_json(e) for e in _store().security_log(limit, before)]})
