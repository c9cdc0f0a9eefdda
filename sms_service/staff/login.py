"""Logging staff in (with the failed-login limit) and out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from ..services import get_services
from .auth import SESSION_TOKEN, StaffUser, me
from .blueprint import bp


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int, dict[str, str]] | tuple[str, int] | str:
    """Log in; the 6th failure in a minute, per account or per address, gets 429."""
    if request.method == "GET":
        return render_template("staff/login.html")
    services = get_services()
    email = request.form.get("email", "")
    attempt = services.staff.log_in(
        email, request.form.get("password", ""), request.remote_addr or "unknown"
    )
    if attempt.locked_for:
        page = render_template("staff/login.html", locked_for=attempt.locked_for, email=email)
        return page, 429, {"Retry-After": str(attempt.locked_for)}
    if attempt.account is None:
        return render_template("staff/login.html", error=True, email=email), 401
    # A new session at login: nothing from before it (a planted session id) survives.
    session.clear()
    session[SESSION_TOKEN] = attempt.session_token
    login_user(StaffUser(attempt.account))
    session.permanent = True
    return redirect(safe_next(request.args.get("next", "")))


#: A staff path as a redirect may name it: printable ASCII, no backslash (which browsers read
#: as a slash), so no header can be split and no other host reached.
_SAFE_PATH = re.compile(r"/staff(?:[/?#][\x21-\x5b\x5d-\x7e]*)?")


def safe_next(target: str) -> str:
    """Return the page to go to after login: `next` when it is a staff page, else the queue."""
    parts = urlsplit(target)
    if not _SAFE_PATH.fullmatch(target) or parts.netloc or parts.scheme:
        return str(url_for("staff.queue"))
    return target


@bp.post("/logout")
@login_required
def logout() -> BaseResponse:
    """End the session (server-side too: a copy of the cookie is dead)."""
    get_services().staff.end_session(str(session.get(SESSION_TOKEN, "")), me().email)
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("staff.login"))
