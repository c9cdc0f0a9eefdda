"""A delivery status callback's fields, read as Twilio sends them and bounded before any use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import abort
from werkzeug.datastructures import MultiDict

#: Every MessageStatus Twilio documents for a message.
PROVIDER_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
        "partially_delivered",
        "receiving",
        "received",
    }
)
#: An inbound message's statuses: never one of a text we send.
INBOUND_STATUSES = frozenset({"receiving", "received"})

#: Twilio's sids are 34 characters ("SM" or "MM" and 32 hex digits); other providers' differ.
MAX_SID_LENGTH = 64
_SID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_SID_LENGTH}}}")
#: Twilio's error codes are 5 digits.
MAX_ERROR_CODE_LENGTH = 10
_ERROR_CODE = re.compile(rf"[0-9]{{1,{MAX_ERROR_CODE_LENGTH}}}")
MAX_STATUS_LENGTH = 32
#: E.164 is at most 16 characters; a channel-prefixed address a little more.
MAX_TO_LENGTH = 64


@dataclass(frozen=True)
class StatusCallback:
    provider_sid: str
    #: One of PROVIDER_STATUSES.
    status: str
    #: Digits, or "" when the callback has none.
    error_code: str
    #: Who the text went to (the parent's phone), as the provider says; may be "".
    to: str


def parse_status_callback(fields: MultiDict[str, str]) -> StatusCallback | None:
    """Return the callback, or None for a blank one (no sid, no status); 400 if malformed."""
    sid = _first(fields, "MessageSid", "SmsSid")
    status = _first(fields, "MessageStatus", "SmsStatus").lower()
    error_code = fields.get("ErrorCode", "").strip()
    to = fields.get("To", "").strip()
    # Bounds first: nothing unbounded is logged, stored or parked.
    lengths = (
        (sid, MAX_SID_LENGTH),
        (status, MAX_STATUS_LENGTH),
        (error_code, MAX_ERROR_CODE_LENGTH),
        (to, MAX_TO_LENGTH),
    )
    if any(len(value) > limit for value, limit in lengths):
        abort(400, description="a field is too long")
    if not sid and not status:
        return None
    if not sid or not status:
        abort(400, description="MessageSid and MessageStatus are required")
    if not _SID.fullmatch(sid):
        abort(400, description="MessageSid is malformed")
    if status not in PROVIDER_STATUSES:
        abort(400, description="MessageStatus is not one the provider sends")
    if error_code and not _ERROR_CODE.fullmatch(error_code):
        abort(400, description="ErrorCode must be a number")
    return StatusCallback(sid, status, error_code, to)


def _first(fields: MultiDict[str, str], name: str, older_name: str) -> str:
    """Return a field, or its older name's when it is absent (SmsSid, SmsStatus)."""
    return fields.get(name if name in fields else older_name, "").strip()
