"""The pages people use: home (by role), kiosk, athlete, physio, report, coach, status, settings;
and the station's icon at /favicon.ico (browsers ask for it on every page, logged in or not).

Each page gets its data embedded as JSON (read by station.analysis.history: the same
dict its JSON twin serves), so a phone renders it after one request; actions (start a
trial, set a target, add a user) go to the JSON API with the session's CSRF token in the
`X-CSRF-Token` header.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, redirect, render_template, request, send_from_directory

from station import access
from station.analysis import history
from station.board.spec import is_simulated
from station.web import auth
from station.web.api import store_404
from station.web.context import context
from station.web.report_charts import report_page_parts
from station.web.views import api_admin, api_records, api_settings, page_data

NAV = (
    # (path, label, capability)
    ("/kiosk", "Kiosk", "run_tests"),
    ("/coach", "Team", "view_history"),
    ("/physio", "Physio", "set_targets"),
    ("/status", "Status", "view_history"),
    ("/settings", "Settings", "manage_users"),
)
HOME_BY_ROLE = {"kiosk": "/kiosk", "coach": "/coach", "physio": "/physio", "admin": "/coach"}


def nav_items() -> list[dict[str, str]]:
    principal = auth.current_principal()
    if principal is None or principal.via == "kiosk":
        return []
    return [{"href": h, "label": lbl} for h, lbl, cap in NAV if principal.can(cap)]


def render_page(template: str, *, title: str, data: Any = None, **values: Any) -> str:
    """A page inside base.html with the role's navigation and the CSRF token."""
    return render_template(
        template,
        title=title,
        page_json=data,
        nav=nav_items(),
        principal=auth.current_principal(),
        csrf=auth.csrf_token(),
        active=request.path,
        **values,
    )


def _athlete_or_404(uid: str) -> Any:
    with store_404():
        return context().store.get_athlete(uid)


def is_sim_board() -> bool:
    return is_simulated(context().runtime.board_kind)


def register(app: Flask) -> None:
    @app.get("/favicon.ico")
    def favicon() -> Response:  # no login: an icon is not personal data
        assert app.static_folder is not None
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml",
                                   max_age=86400)

    @app.get("/")
    @auth.require_login
    def home():
        principal = auth.current_principal()
        assert principal is not None
        return redirect(HOME_BY_ROLE.get(principal.role, "/kiosk"))

    @app.get("/kiosk")
    @auth.require("run_tests")
    def kiosk_page():
        data = {
            "athletes": history.athletes_recent_first(context().store),
            "protocols": page_data.protocols_view(),
            "sim": is_sim_board(),
            "calibrated": bool(context().runtime.health().get("calibrated")),
        }
        return render_page("kiosk.html", title="Kiosk", data=data, kiosk=True)

    @app.get("/athletes/<uid>")
    @auth.require("view_history")
    def athlete_page(uid: str):
        athlete = _athlete_or_404(uid)
        principal = auth.current_principal()
        data = history.history_view(context().store, uid)
        data["can_edit_log"] = principal is not None and principal.can("write_health_log")
        # edit, archive, invalidate a trial: the records API's capability (api_records.EDITORS)
        data["can_edit_records"] = principal is not None and all(
            principal.can(cap) for cap in api_records.EDITORS)
        return render_page("athlete.html", title=athlete.name, data=data)

    @app.get("/physio")
    @auth.require("set_targets")
    def physio_page():
        uid = request.args.get("athlete")
        data: dict[str, Any] = {
            "athletes": history.athletes_recent_first(context().store),
            "protocols": page_data.protocols_view(),
            "sim": is_sim_board(),
            "selected": None,
        }
        if uid:
            _athlete_or_404(uid)
            data["selected"] = history.history_view(context().store, uid)
        return render_page("physio.html", title="Physio", data=data)

    @app.get("/report/<uid>")
    @auth.require("view_history")
    def report_page(uid: str):
        athlete = _athlete_or_404(uid)
        data = history.report_view(context().store, uid)
        return render_page("report.html", title=f"Report · {athlete.name}", data=data,
                           **report_page_parts(data, api_settings.station_name()))

    @app.get("/coach")
    @auth.require("view_history")
    def coach_page():
        try:
            days = int(request.args.get("missed_days", history.MISSED_DAYS_DEFAULT))
            days = max(1, min(365, days))
        except ValueError:
            days = history.MISSED_DAYS_DEFAULT
        condition = request.args.get("condition") or None
        archived = request.args.get("archived") in ("1", "true")  # the "show archived" toggle
        try:  # = GET /api/team
            data = history.team_overview(context().store, missed_days=days, condition=condition,
                                         include_archived=archived)
        except ValueError:  # not a condition key: the default condition
            data = history.team_overview(context().store, missed_days=days,
                                         include_archived=archived)
        return render_page("coach.html", title="Team", data=data)

    @app.get("/status")
    @auth.require("view_history", "calibrate")
    def status_page():
        runtime = context().runtime
        data = {"health": runtime.health(), "sim": is_sim_board()}
        return render_page("status.html", title="Station status", data=data)

    @app.get("/settings")
    @auth.require("manage_users")
    def settings_page():
        store = context().store
        principal = auth.current_principal()
        assert principal is not None
        data = {
            "users": [{"username": u.username, "role": u.role, "active": u.active}
                      for u in store.list_users()],
            "tokens": [{"uid": t.uid, "name": t.name, "role": t.role,
                        "created_at": history.iso(t.created_at),
                        "last_used_at": history.iso(t.last_used_at)}
                       for t in store.list_api_tokens()],
            "sessions": [api_admin.session_json(s, principal.session)
                         for s in store.list_login_sessions()],
            "security_log": [api_admin.event_json(e)
                             for e in store.security_log(api_admin.SECURITY_LOG_PAGE)],
            "roles": list(access.USER_ROLES),
            "token_roles": list(access.TOKEN_ROLES),
            "capabilities": {k: sorted(v) for k, v in auth.CAPABILITIES.items()},
            "capability_help": access.CAPABILITY_HELP,
            "station": api_settings.settings_view(),
        }
        return render_page("settings.html", title="Users and settings", data=data)
