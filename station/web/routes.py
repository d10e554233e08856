"""JSON API routes declared once, where they are defined: method, path, summary, the
capabilities that may call it, its body schema and query parameters.

    api = ApiRoutes(app, tag="athletes")

    @api.route("POST", "/api/athletes", summary="Add an athlete", needs=("edit_athletes",),
               body=ATHLETE_FIELDS)
    def add_athlete() -> Response:
        fields = request_body()  # validated against ATHLETE_FIELDS
        ...

`route` registers the view with Flask, guards it with the capabilities (`needs`: any of
them; `(LOGIN,)`: anyone logged in; `PUBLIC`: no login) and records the declaration on
the app; station.web.openapi makes the OpenAPI document from these records, and
create_app refuses to start while an /api/ route has none (`undeclared_routes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request

from station.web import auth
from station.web.api import Schema, json_body, validate

PUBLIC: tuple[str, ...] = ()  # needs=PUBLIC: answers without login (no personal data)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_REGISTRY = "station_api_routes"
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class ApiRoute:
    """One declared operation of the JSON API. `rule` is Flask's (/api/athletes/<uid>)."""

    method: str
    rule: str
    summary: str
    needs: tuple[str, ...]
    body: Schema | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    produces: str = "application/json"
    tag: str = "station"

    @property
    def path(self) -> str:
        """The OpenAPI form of the rule: /api/athletes/{uid}."""
        return _ARGUMENT.sub(r"{\1}", self.rule)


def _routes(app: Flask) -> dict[tuple[str, str], ApiRoute]:
    return app.extensions.setdefault(_REGISTRY, {})


def declared_routes(app: Flask) -> list[ApiRoute]:
    """Every declared operation of `app`, in declaration order."""
    return list(_routes(app).values())


def undeclared_routes(app: Flask) -> list[str]:
    """"METHOD /api/..." of each /api/ route with no declaration (should be none)."""
    known = _routes(app)
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) not in known:
                missing.append(f"{method} {rule.rule}")
    return missing


def _guard(view: Callable[..., Any], needs: tuple[str, ...]) -> Callable[..., Any]:
    if needs == PUBLIC:
        return view
    if needs == (auth.LOGIN,):
        return auth.require_login(view)
    if auth.LOGIN in needs:
        raise ValueError(f"{auth.LOGIN!r} stands alone in needs (anyone logged in), got {needs}")
    return auth.require(*needs)(view)


class ApiRoutes:
    """Declares and registers the JSON API routes of one views module on `app`."""

    def __init__(self, app: Flask, *, tag: str = "station") -> None:
        self.app, self.tag = app, tag

    def route(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        needs: tuple[str, ...],
        body: Schema | None = None,
        query: Mapping[str, str] | None = None,
        produces: str = "application/json",
        tag: str | None = None,
        endpoint: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register `view` for `method rule`, guarded by `needs`, and declare it."""
        route = ApiRoute(
            method=method.upper(),
            rule=rule,
            summary=summary,
            needs=tuple(needs),
            body=body,
            query=dict(query or {}),
            produces=produces,
            tag=tag or self.tag,
        )
        if route.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if not rule.startswith("/api/"):
            raise ValueError(f"api.route is for /api/ routes (pages use app.get), got {rule}")
        if (route.method, rule) in _routes(self.app):
            raise ValueError(f"{route.method} {rule} is declared twice")

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            guarded = _guard(view, route.needs)
            self.app.add_url_rule(
                rule, endpoint or view.__name__, guarded, methods=[route.method]
            )
            _routes(self.app)[(route.method, rule)] = route
            return guarded

        return decorate



def current_route() -> ApiRoute:
    """The declaration of the route serving this request."""
    rule = request.url_rule
    declared = None if rule is None else _routes(current_app).get((request.method, rule.rule))
    if declared is None:
        raise LookupError(f"{request.method} {request.path} has no api.route declaration")
    return declared


def request_body() -> dict[str, Any]:
    """This request's JSON body, validated against its route's declared `body` schema
    (PATCH: only the fields given, at least one); 400 naming the field at fault."""
    declared = current_route()
    if declared.body is None:
        raise LookupError(f"{declared.method} {declared.rule} declares no body")
    return validate(json_body(), declared.body, partial=declared.method == "PATCH")
