"""The admin page of staff accounts: add one, disable or enable one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import AccountError, Role, normalize_email
from ..services import get_services
from .auth import admin_required, me
from .blueprint import bp


@bp.get("/admin")
@login_required
@admin_required
def accounts() -> str:
    """Staff accounts: add, disable, enable."""
    return render_template(
        "staff/accounts.html", accounts=get_services().staff.all(), roles=[r.value for r in Role]
    )


@bp.post("/admin/add")
@login_required
@admin_required
def add_account() -> BaseResponse:
    """Create a staff account."""
    try:
        role = Role(request.form.get("role", Role.STAFF.value))
        account = get_services().staff.add(
            request.form.get("email", ""), request.form.get("password", ""), role
        )
    except (AccountError, ValueError) as exc:
        flash(f"Not added: {exc}", "error")
    else:
        flash(f"Added {account.email} ({account.role.value}).")
    return redirect(url_for("staff.accounts"))


@bp.post("/admin/<email>/<action>")
@login_required
@admin_required
def change_account(email: str, action: str) -> BaseResponse:
    """Disable or enable an account (never your own)."""
    if action not in ("disable", "enable"):
        abort(404)
    if normalize_email(email) == me().email:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("staff.accounts"))
    try:
        get_services().staff.set_disabled(email, action == "disable")
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{email}: {action}d.")
    return redirect(url_for("staff.accounts"))
