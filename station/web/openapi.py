"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Made from the app's route declarations (station.web.routes: summary, capabilities,
query parameters, and the same `Field` schemas the views validate bodies with), so a
route is described where it is defined and its documentation is what is enforced.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from station import __version__
from station.access import CAPABILITIES
from station.web.api import Field, Schema
from station.web.routes import ApiRoute, declared_routes

_JSON_TYPES = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def field_schema(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_JSON_TYPES[spec.kind])
    if spec.nullable:
        schema["type"] = [schema["type"], "null"]
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    if spec.choices is not None:
        schema["enum"] = list(spec.choices) + ([None] if spec.nullable else [])
    if spec.kind == "str":
        schema["maxLength"] = spec.max_length
    if spec.description:
        schema["description"] = spec.description
    return schema


def body_schema(schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: field_schema(spec) for name, spec in schema.items()},
    }
    required = [name for name, spec in schema.items() if spec.required]
    if required:
        out["required"] = required
    return out


ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what is wrong, in words"},
        "field": {"type": "string", "description": "the body field or parameter at fault"},
    },
    "required": ["error"],
}


def _operation(ep: ApiRoute) -> dict[str, Any]:
    method = ep.method.lower()
    op: dict[str, Any] = {"summary": ep.summary, "tags": [ep.tag]}
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(ep.path)
    ]
    params += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in ep.query.items()
    ]
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {
            "required": method == "post" and any(s.required for s in ep.body.values()),
            "content": {"application/json": {"schema": body_schema(ep.body)}},
        }
    error = {"description": "", "content": {"application/json": {"schema": ERROR}}}
    ok_code = (
        "201"
        if method == "post"
        and ep.path.endswith(("athletes", "sessions", "targets", "trials/start", "users", "tokens"))
        else "200"
    )
    responses: dict[str, Any] = {ok_code: {"description": "done", "content": {ep.produces: {}}}}
    if ep.body is not None or ep.query:
        responses["400"] = {**error, "description": "invalid input (the field is named)"}
    if ep.needs:
        op["security"] = [{"session": []}, {"bearer": []}]
        op["x-capabilities"] = list(ep.needs)
        op["description"] = "Needs one of: " + ", ".join(ep.needs)
        responses["401"] = {**error, "description": "not logged in, no valid token"}
        responses["403"] = {**error, "description": "the role lacks the capability"}
    else:
        op["security"] = []
    if "{" in ep.path:
        responses["404"] = {**error, "description": "no such resource"}
    if ep.path.startswith("/api/trials/") and method == "post":
        responses["409"] = {**error, "description": "the runner refuses (says why)"}
    if ep.path.startswith("/api/calibration/") and method in ("post", "delete"):
        responses["409"] = {**error, "description": "the calibration step is refused (says why)"}
    op["responses"] = responses
    return op


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every route `app` declares."""
    paths: dict[str, dict[str, Any]] = {}
    for ep in declared_routes(app):
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Balance Station API",
            "version": __version__,
            "description": (
                "JSON API of a balance-board station. Authenticate with the session cookie "
                "(send the X-CSRF-Token header on POST/PATCH/DELETE) or an API token "
                "(`balance-station token create --role coach`) as `Authorization: Bearer`. "
                "Errors are JSON {error, field?}. Capabilities per role: docs/access.md."
            ),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Error": ERROR},
        },
        "x-capabilities": {name: sorted(roles) for name, roles in CAPABILITIES.items()},
        "paths": paths,
    }
