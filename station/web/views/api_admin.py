"""JSON API for the admin: users and API tokens (the same operations as the CLI)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.wrappers import Response

from station import access
from station.web.api import ApiError, Field, ok, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body

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


def _admins_left_after(username: str, **change: Any) -> int:
    """Active admins once `username` is changed (role/active) or deleted (deleted=True)."""
    count = 0
    for user in _store().list_users():
        role, active = user.role, user.active
        if user.username == username:
            if change.get("deleted"):
                continue
            role, active = change.get("role", role), change.get("active", active)
        count += role == "admin" and bool(active)
    return count


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
                _store(), fields["username"], fields["role"], fields["password"]
            )
        except access.AuthError as exc:
            message = str(exc)
            field = next((f for f in ("password", "username", "role") if f in message), "username")
            raise ApiError(409 if "already exists" in message else 400, message, field) from None
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
        if _admins_left_after(username, **fields) == 0:
            raise ApiError(409, "the station needs at least one active admin")
        if "password" in fields:
            try:
                access.set_password(_store(), username, fields.pop("password"))
            except access.AuthError as exc:
                raise ApiError(400, str(exc), "password") from None
        if fields:
            _store().update_user(username, **fields)
        return ok(user_json(_store().get_user(username)))

    @api.route(
        "DELETE", "/api/users/<username>", summary="Delete a user (not the last admin)",
        needs=admins,
    )
    def delete_user(username: str) -> Response:
        if _store().get_user(username) is None:
            raise ApiError(404, f"no user {username!r}")
        if _admins_left_after(username, deleted=True) == 0:
            raise ApiError(409, "the station needs at least one active admin")
        _store().delete_user(username)
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
        secret, record = access.create_api_token(_store(), fields["role"], fields["name"])
        return ok({**token_json(record), "token": secret}, 201)

    @api.route("DELETE", "/api/tokens/<uid>", summary="Revoke an API token", needs=admins)
    def revoke_token(uid: str) -> Response:
        with store_404():
            _store().revoke_api_token(uid)
        return ok({"deleted": {"token_uid": uid}})
