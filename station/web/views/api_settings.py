"""Station settings an admin changes on the Settings page: the station's name, the default
hold length, the demo switch, raw-frame retention and backups; the hold thresholds shown
read-only (they belong to the config file and docs/hold-engine.md).

A value is checked by the config schema's own validator (station.config.check_setting: the
same rule as in the file, the key named when it fails), stored in the database over the
config file's value (Store.set_config_override) and logged in the security log with its
old and new value. `null` puts the file's value back. The station's name is also given to
every template (`station_name`), for the page header and the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, abort
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

from station.config import (
    PAGE_SETTINGS,
    SCHEMA,
    Config,
    ConfigError,
    check_setting,
    hold_defaults,
    load_config,
    with_overrides,
)
from station.trials.demo_history import demo_info
from station.web import auth
from station.web.api import ApiError, Field, ok
from station.web.context import context
from station.web.routes import ApiRoutes, request_body

DOCS_DIR = Path(__file__).resolve().parents[3] / "docs"
LINKED_DOCS = ("hold-engine.md", "configuration.md")  # the Settings page links to these
_KINDS = {bool: "bool", int: "int", str: "str"}

SETTING_FIELDS = {
    name: Field(
        _KINDS[type(SCHEMA[name.split(".")[0]][name.split(".")[1]].default)],
        nullable=True,
        max_length=300,
        description=f"{SCHEMA[name.split('.')[0]][name.split('.')[1]].doc}; takes effect "
        f"{when}; null = the config file's value",
    )
    for name, when in PAGE_SETTINGS.items()
}


def file_config() -> Config:
    """The config as the station loaded it (file + environment), defaults in tests."""
    config = getattr(context(), "config", None)
    return config if config is not None else load_config(Path("/nonexistent"), environ={})


def effective_config() -> Config:
    store = context().store
    overrides = store.config_overrides() if store is not None else {}
    return with_overrides(file_config(), overrides)


def station_name() -> str:
    """The name in force (the page's, else the file's); the default when no store."""
    try:
        return str(effective_config()["station"]["name"])
    except Exception:  # a page header must render even with the store down
        return str(SCHEMA["station"]["name"].default)


def default_duration_s() -> float | None:
    """The hold length for a trial started without one (None: the protocol's own), for the
    trial start to apply (station.default_duration_s)."""
    value = int(effective_config()["station"]["default_duration_s"])
    return float(value) if value > 0 else None


def settings_view() -> dict[str, Any]:
    """What the Settings page shows of the station: each changeable key with its value in
    force, the file's value, where the value comes from and when a change takes effect;
    the hold thresholds (read-only); the demo's state."""
    store = context().store
    assert store is not None
    overrides = store.config_overrides()
    base = file_config()
    merged = with_overrides(base, overrides)
    rows = []
    for name, when in PAGE_SETTINGS.items():
        section, _, key = name.partition(".")
        spec = SCHEMA[section][key]
        rows.append({
            "name": name,
            "kind": SETTING_FIELDS[name].kind,
            "value": merged[section][key],
            "file_value": base[section][key],
            "from": "page" if name in overrides else "config",
            "doc": spec.doc,
            "takes_effect": when,
        })
    hold_set = base.values.get("hold", {})
    hold = [{"name": k, "value": hold_set.get(k, default), "default": default, "doc": why,
             "set_in_file": k in hold_set} for k, default, why in hold_defaults()]
    demo_count = sum(1 for a in store.list_athletes() if a.demo)
    return {
        "settings": rows,
        "hold": hold,
        "hold_docs": "/docs/hold-engine.md",
        "demo": {"athletes": demo_count, "history": demo_info(store)},
    }


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="admin")
    admins = ("manage_users",)

    @app.context_processor
    def _station_name() -> dict[str, Any]:
        return {"station_name": station_name()}

    @api.route("GET", "/api/settings", summary="Station settings (and the hold thresholds)",
               needs=admins)
    def get_settings() -> Response:
        return ok(settings_view())

    @api.route("PATCH", "/api/settings", summary="Change station settings (null: the file's)",
               needs=admins, body=SETTING_FIELDS)
    def change_settings() -> Response:
        changes = request_body()
        store = context().store
        checked = {}
        for name, value in changes.items():
            try:
                checked[name] = None if value is None else check_setting(name, value)
            except ConfigError as exc:
                raise ApiError(400, str(exc), name) from None
        principal = auth.current_principal()
        assert principal is not None
        before = effective_config()
        for name, value in checked.items():
            section, _, key = name.partition(".")
            store.set_config_override(name, value, before=before[section][key],
                                      actor=principal.label, address=auth.client_address())
        return ok(settings_view())

    @api.route("POST", "/api/demo/remove", summary="Remove the demo athletes and their history; "
               "the demo is switched off", needs=admins)
    def remove_demo() -> Response:
        store = context().store
        principal = auth.current_principal()
        assert principal is not None
        before = store.config_overrides().get("board.demo")
        removed = store.remove_demo_data(actor=principal.label)
        store.set_config_override("board.demo", False, before=before, actor=principal.label,
                                  address=auth.client_address())
        return ok({"removed": removed, **settings_view()})

    @app.get("/docs/<name>")
    @auth.require_login
    def linked_doc(name: str) -> FlaskResponse:
        """The docs the pages link to, as plain text (the station has no other docs site)."""
        if name not in LINKED_DOCS or not (DOCS_DIR / name).is_file():
            abort(404)
        text = (DOCS_DIR / name).read_text(encoding="utf-8")
        return FlaskResponse(text, mimetype="text/plain")
