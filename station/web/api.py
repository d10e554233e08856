"""What every JSON endpoint shares: body validation, JSON-safe output, JSON errors on /api/.

A schema is a dict of `Field`s; `validate` refuses unknown fields, missing required
ones, wrong types, out-of-range numbers and bad choices with 400
{"error": "...", "field": "<name>"}. A route declares its schema once
(station.web.routes: `api.route(..., body=SCHEMA)`); the view validates with it and the
OpenAPI document is made from it, so the documentation cannot drift from what is enforced.
`install(app)` turns 4xx/5xx on /api/ paths into JSON (never an HTML page).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, abort, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from station.store import StoreError
from station.web import auth
from station.wire import json_depth, json_safe

log = logging.getLogger("station.web")

MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32  # objects and arrays inside each other; no station body needs more than 3
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


class ApiError(Exception):
    """An API request that cannot be served: status, message and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    def response(self) -> Response:
        extra = {} if self.field is None else {"field": self.field}
        return auth.api_error(self.status, self.message, **extra)


@dataclass(frozen=True)
class Field:
    """One accepted body field. kind: str | int | float | bool | date | datetime."""

    kind: str
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    max_length: int = 500
    description: str = ""


Schema = Mapping[str, Field]

_KIND_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date-time (ISO 8601)",
}


def _too_deep() -> ApiError:
    return ApiError(400, f"body is nested too deeply (limit {MAX_JSON_DEPTH} levels)")


def json_body() -> dict[str, Any]:
    """The request's JSON object (400 when the body is not one; 413 beyond MAX_JSON_BYTES;
    400 when it nests deeper than MAX_JSON_DEPTH)."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(413, f"body too large (limit {MAX_JSON_BYTES} bytes)")
    data = request.get_data(cache=True)
    if not data:
        return {}
    if len(data) > MAX_JSON_BYTES:  # chunked: no Content-Length to refuse up front
        raise ApiError(413, f"body too large (limit {MAX_JSON_BYTES} bytes)")
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # nesting deeper than the parser's recursion
        raise _too_deep() from None
    if body is None:
        raise ApiError(400, "body must be JSON (an object of fields)")
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object of fields")
    if json_depth(body) > MAX_JSON_DEPTH:
        raise _too_deep()
    return body


def _check(name: str, value: Any, spec: Field) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise ApiError(400, f"{name} must not be null", name)
    kind = spec.kind
    if kind == "str":
        if not isinstance(value, str):
            raise ApiError(400, f"{name} must be {_KIND_NAMES[kind]}", name)
        value = value.strip()
        if spec.required and not value and not spec.nullable:
            raise ApiError(400, f"{name} must not be empty", name)
        if len(value) > spec.max_length:
            raise ApiError(400, f"{name} is too long (max {spec.max_length} characters)", name)
        if not value.isprintable() and not all(c.isprintable() or c in "\n\r\t" for c in value):
            raise ApiError(400, f"{name} contains control characters", name)
    elif kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ApiError(400, f"{name} must be {_KIND_NAMES[kind]}", name)
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ApiError(400, f"{name} must be {_KIND_NAMES[kind]}", name)
                value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an integer beyond any float
                value = math.inf
            if not math.isfinite(value):
                raise ApiError(400, f"{name} must be a finite number", name)
        if spec.minimum is not None and value < spec.minimum:
            raise ApiError(400, f"{name} must be >= {spec.minimum:g}, got {value}", name)
        if spec.maximum is not None and value > spec.maximum:
            raise ApiError(400, f"{name} must be <= {spec.maximum:g}, got {value}", name)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ApiError(400, f"{name} must be {_KIND_NAMES[kind]}", name)
    elif kind == "date":
        if not isinstance(value, str):
            raise ApiError(400, f"{name} must be {_KIND_NAMES[kind]}", name)
        try:
            value = date.fromisoformat(value)
        except ValueError:
            message = f"{name} must be {_KIND_NAMES[kind]}, got {value!r}"
            raise ApiError(400, message, name) from None
    elif kind == "datetime":
        if not isinstance(value, str):
            raise ApiError(400, f"{name} must be {_KIND_NAMES[kind]}", name)
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            message = f"{name} must be {_KIND_NAMES[kind]}, got {value!r}"
            raise ApiError(400, message, name) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    else:  # pragma: no cover - a schema mistake, caught by the OpenAPI test
        raise AssertionError(f"unknown field kind {kind!r}")
    if spec.choices is not None and value not in spec.choices:
        shown = ", ".join(str(c) for c in spec.choices if c is not None)
        raise ApiError(400, f"{name} must be one of {shown}, got {value!r}", name)
    return value


def validate(body: Mapping[str, Any], schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The validated fields of `body` (only those given when `partial`, e.g. PATCH)."""
    for name in body:
        if name not in schema:
            raise ApiError(400, f"unknown field {name!r} (accepted: {', '.join(schema)})", name)
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        if name not in body:
            if spec.required and not partial:
                raise ApiError(400, f"{name} is required", name)
            continue
        out[name] = _check(name, body[name], spec)
    if partial and not out:
        raise ApiError(400, f"nothing to change: give at least one of {', '.join(schema)}")
    return out


@contextmanager
def store_404(message: str | None = None) -> Iterator[None]:
    """The store's "no such record" (StoreError) inside the block answers 404: JSON
    {"error": message or the store's words} on /api/, the plain 404 page elsewhere."""
    try:
        yield
    except StoreError as exc:
        if not auth.is_api_request():
            abort(404)
        raise ApiError(404, message or str(exc)) from None


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}", name) from None
    if not minimum <= value <= maximum:
        raise ApiError(400, f"{name} must be {minimum}-{maximum}, got {value}", name)
    return value


def query_choice(name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    raw = request.args.get(name, default)
    if raw is not None and raw not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}, got {raw!r}", name)
    return raw


clean = json_safe  # JSON-safe copy: dates as ISO 8601, NaN/inf as null, dataclasses as dicts


def ok(body: Any, status: int = 200) -> Response:
    response = jsonify(clean(body))
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> Any:
    if not auth.is_api_request():
        return exc
    message = {
        404: "no such resource",
        405: f"method {request.method} is not allowed here",
        413: "request too large",
    }.get(exc.code or 0, exc.description or exc.name)
    response = auth.api_error(exc.code or 500, message)
    if exc.code == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if not auth.is_api_request():
        raise exc  # pages: Flask's own handling (and logging)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return auth.api_error(500, f"internal error ({type(exc).__name__}); see the station's log")


def install(app: Flask) -> None:
    """JSON errors on /api/ (ApiError, HTTP errors, unexpected exceptions); bounded uploads."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # no unbounded uploads into memory
        app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.register_error_handler(ApiError, lambda exc: exc.response())
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
