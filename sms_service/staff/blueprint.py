"""The staff Blueprint, and the idle clock that every real staff request restarts."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, abort, request, session
from flask_login import current_user

from ..outbound.errors import office_notices
from ..services import get_services
from .auth import SESSION_TOKEN, me

bp = Blueprint(
    "staff",
    __name__,
    url_prefix="/staff",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Requests a page makes by itself (the queue's refresh): they do not count as activity.
_BACKGROUND_ENDPOINTS = frozenset({"staff.queue_rows"})


#: A follow-up id as the service makes them (uuid4 hex); tests' and older ids are word
#: characters and dashes. Never a colon: an id in a URL cannot name another key.
_FOLLOWUP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@bp.url_value_preprocessor
def check_followup_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Answer 404 for a follow-up id that no follow-up could have (`<id>:audit`...)."""
    followup_id = (values or {}).get("followup_id")
    if followup_id is not None and not _FOLLOWUP_ID.fullmatch(str(followup_id)):
        abort(404)


@bp.before_request
def keep_sessions_alive() -> None:
    """Restart the idle clock on real use; a page refreshing itself does not count."""
    if request.endpoint in _BACKGROUND_ENDPOINTS or not current_user.is_authenticated:
        return
    get_services().staff.touch_session(str(session.get(SESSION_TOKEN, "")), me().email)


@bp.context_processor
def office_notice() -> dict[str, Any]:
    """Give every staff page the office-wide notices the latest send outcomes call for."""
    # The queue's own refresh draws only its rows: no page around them to show a notice on.
    if not current_user.is_authenticated or request.endpoint in _BACKGROUND_ENDPOINTS:
        return {"office_notices": []}
    # One short list read per page: the last NOTICE_WINDOW outcomes.
    outcomes = get_services().outbound.recent_outcomes(time.time())
    return {"office_notices": office_notices(outcomes)}
