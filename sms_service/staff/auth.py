"""Staff sessions: the logged-in user, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, session
from flask_login import UserMixin, current_user

from ..accounts import Role, StaffAccount
from ..services import get_services

F = TypeVar("F", bound=Callable[..., Any])


class StaffUser(UserMixin):  # type: ignore[misc]
    """A logged-in staff member."""

    def __init__(self, account: StaffAccount) -> None:
        self.account = account

    def get_id(self) -> str:
        return self.account.email

    @property
    def email(self) -> str:
        return self.account.email

    @property
    def is_admin(self) -> bool:
        return self.account.role is Role.ADMIN


#: The signed cookie's key naming the server-side session.
SESSION_TOKEN = "staff_session"  # noqa: S105 (a cookie key, not a secret)


def load_user(email: str) -> StaffUser | None:
    """Load the session's user: only with an open server-side session and an enabled account."""
    staff = get_services().staff
    if not staff.session_alive(str(session.get(SESSION_TOKEN, "")), email):
        return None
    account = staff.get(email)
    if account is None or account.disabled:
        return None
    return StaffUser(account)


def me() -> StaffUser:
    """Return the logged-in staff member."""
    return cast(StaffUser, current_user)


def admin_required(view: F) -> F:
    """Let only admins through (after login_required)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not me().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)
