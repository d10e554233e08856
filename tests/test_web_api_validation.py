"""Bad input gets 4xx naming the field, never a 500: every documented body schema is probed
field by field (unknown, missing, wrong type, out of range, bad choice, null), then fuzzed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_web_api_access import _setup_ids, concrete, valid_bodies
from web_fixtures import *  # noqa: F403 (fixtures: web_store, fake_runtime, app, client...)
from web_fixtures import api_declarations, api_headers_for

from station.web.api import Field
from station.web.routes import ApiRoute

WITH_BODY = [e for e in api_declarations() if e.body is not None]
WRONG_TYPE = {
    "str": 123,
    "int": "seven",
    "float": "fast",
    "bool": "yes",
    "date": "next tuesday",
    "datetime": "soon",
}


def _id(ep: ApiRoute) -> str:
    return f"{ep.method} {ep.path}"


def probes(ep: ApiRoute) -> list[tuple[str, dict[str, Any], str]]:
    """(what, body, field that must be named) for every way each field can be wrong."""
    assert ep.body is not None
    base = valid_bodies().get((ep.method.lower(), ep.path), {})
    partial = ep.method == "PATCH"
    out = [("unknown field", {**base, "bogus_field": 1}, "bogus_field")]
    for name, spec in ep.body.items():
        start = {} if partial else dict(base)
        if spec.required and not partial:
            missing = {k: v for k, v in base.items() if k != name}
            out.append((f"{name} missing", missing, name))
        out.append((f"{name} wrong type", {**start, name: WRONG_TYPE[spec.kind]}, name))
        if not spec.nullable:
            out.append((f"{name} null", {**start, name: None}, name))
        if spec.minimum is not None:
            out.append((f"{name} below", {**start, name: spec.minimum - 1}, name))
        if spec.maximum is not None:
            out.append((f"{name} above", {**start, name: spec.maximum + 1}, name))
        if spec.choices is not None:
            out.append((f"{name} bad choice", {**start, name: "not-a-choice"}, name))
        if spec.kind == "str":
            out.append((f"{name} too long", {**start, name: "x" * (spec.max_length + 1)}, name))
        if spec.kind == "int":
            out.append((f"{name} fraction", {**start, name: 2.5}, name))
        if spec.kind == "float":
            out.append((f"{name} true", {**start, name: True}, name))
    return out


def test_every_body_endpoint_is_probed() -> None:
    assert len(WITH_BODY) >= 12
    for ep in WITH_BODY:
        assert probes(ep), _id(ep)


@pytest.mark.parametrize("ep", WITH_BODY, ids=_id)
def test_each_bad_field_gets_400_naming_it(app: Flask, web_store, ep: ApiRoute) -> None:
    ids = _setup_ids(app, web_store)
    headers = api_headers_for(app, "admin")
    client = app.test_client()
    url = concrete(ep, ids)
    for what, body, field in probes(ep):
        response = client.open(url, method=ep.method, json=body, headers=headers)
        assert response.status_code == 400, (what, response.get_data(as_text=True))
        answer = response.get_json()
        assert answer["field"] == field, (what, answer)
        assert field in answer["error"], (what, answer)


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[1, 2]",
        b'"text"',
        b"null",
        b"\xff\xfe",
        b'{"name": NaN}',
        b"1e999",
        b'{"name": "x", "birth_year": 1e999}',
        b'{"name": "x", "birth_year": ' + b"9" * 400 + b"}",
    ],
)
def test_malformed_bodies_get_400(app: Flask, raw: bytes) -> None:
    headers = {**api_headers_for(app, "admin"), "Content-Type": "application/json"}
    response = app.test_client().post("/api/athletes", data=raw, headers=headers)
    assert response.status_code == 400 and response.is_json, raw


def test_an_empty_patch_says_what_can_change(app: Flask, web_store) -> None:
    ids = _setup_ids(app, web_store)
    response = app.test_client().patch(
        f"/api/athletes/{ids['athletes']}", json={}, headers=api_headers_for(app, "admin")
    )
    assert response.status_code == 400 and "nothing to change" in response.get_json()["error"]


def test_query_parameters_are_checked(app: Flask, web_store) -> None:
    ids = _setup_ids(app, web_store)
    client, headers = app.test_client(), api_headers_for(app, "coach")
    for query, field in (
        ("max_points=lots", "max_points"),
        ("max_points=1", "max_points"),
        ("measure=height", "measure"),
    ):
        response = client.get(f"/api/athletes/{ids['athletes']}/history?{query}", headers=headers)
        assert response.status_code == 400 and response.get_json()["field"] == field, query


def test_oversized_body_gets_413_json(app: Flask) -> None:
    body = json.dumps({"name": "x" * 300_000})
    response = app.test_client().post(
        "/api/athletes",
        data=body,
        content_type="application/json",
        headers=api_headers_for(app, "admin"),
    )
    assert response.status_code == 413 and response.is_json


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def fuzz_bodies(draw: st.DrawFn) -> tuple[ApiRoute, Any]:
    ep = draw(st.sampled_from(WITH_BODY))
    names = list((ep.body or {}).keys()) or ["x"]
    if draw(st.booleans()):
        body: Any = draw(st.dictionaries(st.sampled_from(names), json_values, max_size=4))
    else:
        body = draw(json_values)
    return ep, body


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=fuzz_bodies())
def test_fuzzed_bodies_never_cause_a_500(app: Flask, web_store, case: tuple) -> None:
    ep, body = case
    if not hasattr(app, "_fuzz_ids"):
        app._fuzz_ids = _setup_ids(app, web_store)  # type: ignore[attr-defined]
        app._fuzz_headers = api_headers_for(app, "admin")  # type: ignore[attr-defined]
    response = app.test_client().open(
        concrete(ep, app._fuzz_ids),  # type: ignore[attr-defined]
        method=ep.method,
        data=json.dumps(body, allow_nan=True),
        content_type="application/json",
        headers=app._fuzz_headers,  # type: ignore[attr-defined]
    )
    assert response.status_code < 500, (ep.path, body, response.get_data(as_text=True))
    assert response.is_json


def _field_kinds_are_known() -> None:
    for ep in WITH_BODY:
        for spec in (ep.body or {}).values():
            assert isinstance(spec, Field) and spec.kind in WRONG_TYPE


def test_field_kinds_are_known() -> None:
    _field_kinds_are_known()


def test_an_integer_beyond_any_float_is_refused(app: Flask, web_store) -> None:
    ids = _setup_ids(app, web_store)
    response = app.test_client().post(
        f"/api/athletes/{ids['athletes']}/targets",
        data=b'{"measure": "score", "value": ' + b"9" * 400 + b"}",
        content_type="application/json",
        headers=api_headers_for(app, "admin"),
    )
    assert response.status_code == 400 and response.get_json()["field"] == "value"
