"""First-start setup, login, logout, kiosk mode: the pages that decide who is at the station.

Part of access control: station.web.app.create_app registers `blueprint()` on every
station app, next to the request-wide checks of station.web.auth (setup gate, CSRF,
server-side sessions, request limits), which send people to these pages. Logins, failures
and lock-outs go to the security log (auth.login_failed).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request
from jinja2 import TemplateNotFound
from werkzeug.wrappers import Response

from station import access
from station.web import auth
from station.web.context import context

_setup_lock = threading.Lock()


def _auth_base() -> str:
    """Extend the site's base template when there is one, else a plain standalone page."""
    try:
        current_app.jinja_env.get_template("base.html")
    except TemplateNotFound:
        return "auth/_standalone.html"
    return "base.html"


def _page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    return render_template(template, auth_base=_auth_base(), **values), status


def _store() -> Any:
    return context().store


def _form(name: str) -> str:
    return request.form.get(name, "").strip() if name == "username" else request.form.get(name, "")


def _too_many_page(template: str) -> Any:
    """The 429 of a login form: the form again, saying how long to wait."""

    def render(message: str) -> Response:
        body, status = _page(
            template, 429, error=message, username=_form("username"),
            next=auth.safe_next(request.values.get("next"), ""),
        )
        return Response(body, status=status, mimetype="text/html")

    return render


def blueprint() -> Blueprint:
    bp = Blueprint("auth", __name__)

    @bp.route("/setup", methods=["GET", "POST"])
    def setup() -> Any:
        store = _store()
        if access.has_users(store):
            return redirect("/login")
        values = {"min_length": access.MIN_PASSWORD_LENGTH}
        if request.method == "GET":
            return _page("auth/setup.html", **values)
        username, password = _form("username"), _form("password")
        if password != _form("password2"):
            return _page(
                "auth/setup.html", 400, error="the passwords differ", username=username, **values
            )
        with _setup_lock:
            if access.has_users(store):  # someone else finished setup meanwhile
                return redirect("/login")
            try:
                user = access.create_user(
                    store, username, "admin", password, actor=f"setup from {auth.client_address()}"
                )
            except access.AuthError as exc:
                return _page("auth/setup.html", 400, error=str(exc), username=username, **values)
        auth.login_user(user)
        return redirect("/")

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        next_url = request.values.get("next")
        if request.method == "GET":
            return _page("auth/login.html", next=auth.safe_next(next_url, ""))
        username, password = _form("username"), _form("password")
        user = access.authenticate(_store(), username, password) if username else None
        if user is None:
            auth.login_failed(username)
            return _page(
                "auth/login.html",
                401,
                error="wrong username or password",
                username=username,
                next=auth.safe_next(next_url, ""),
            )
        auth.login_succeeded(username)
        auth.login_user(user)
        return redirect(auth.safe_next(next_url))

    @bp.post("/logout")
    def logout() -> Any:
        principal = auth.current_principal()
        if principal is not None and principal.via == "kiosk":
            return redirect("/kiosk/exit")  # leaving kiosk mode needs a password
        auth.logout_user()
        return redirect("/login")

    @bp.post("/kiosk/enter")
    @auth.require("kiosk_mode")
    def kiosk_enter() -> Response:
        principal = auth.current_principal()
        assert principal is not None
        auth.enter_kiosk(principal)
        return redirect(auth.safe_next(request.form.get("next"), "/kiosk"))

    @bp.route("/kiosk/exit", methods=["GET", "POST"])
    def kiosk_exit() -> Any:
        principal = auth.current_principal()
        if principal is None or principal.via != "kiosk":
            return redirect("/")
        if request.method == "GET":
            return _page("auth/kiosk_exit.html")
        username, password = _form("username"), _form("password")
        user = auth.leave_kiosk(username, password) if username else None
        if user is None:
            auth.login_failed(username)
            return _page(
                "auth/kiosk_exit.html",
                401,
                error="a physio, coach or administrator username and password are needed",
                username=username,
            )
        auth.login_succeeded(username)
        return redirect("/")

    # request limits (station.web.auth.REQUEST_LIMITS) answer these forms' 429 with the form
    bp.record_once(auth.too_many_page("auth.login", _too_many_page("auth/login.html")))
    bp.record_once(auth.too_many_page("auth.kiosk_exit", _too_many_page("auth/kiosk_exit.html")))
    return bp
