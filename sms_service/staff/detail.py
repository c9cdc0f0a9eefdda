"""One follow-up's page, and what staff do from it: assign, set the status, add notes, text."""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from ..followups import (
    MAX_STAFF_TEXT,
    AssigneeError,
    Followup,
    FollowupStatus,
    StaffTextError,
)
from ..services import Services, get_services
from .auth import me
from .blueprint import bp
from .formatting import reason_texts, view_context


def _followup_or_404(followup_id: str) -> Followup:
    followup = get_services().followups.get(followup_id)
    if followup is None:
        abort(404)
    return followup


@bp.get("/f/<followup_id>")
@login_required
def detail(followup_id: str) -> str:
    """One follow-up: answers, why, transcript, notes, actions."""
    services = get_services()
    followup = _followup_or_404(followup_id)
    services.followup_work.record_view(followup.id, me().email, time.time())
    answers = [
        (q.label, q.answer_label(followup.answers[q.key]))
        for q in services.flow.questions
        if q.key in followup.answers
    ]
    reasons = reason_texts(services.flow, followup.reasons)
    others = [f for f in services.followups.of_phone(followup.phone) if f.id != followup.id]
    page = render_template(
        "staff/detail.html",
        f=followup,
        answers=answers,
        reasons=reasons,
        timeline=_timeline(services, followup),
        earlier=[f for f in others if f.created_at < followup.created_at],
        later=[f for f in others if f.created_at >= followup.created_at],
        notes=services.followup_work.notes(followup.id),
        audit=services.followup_work.audit_trail(followup.id),
        staff=[a for a in services.staff.all() if not a.disabled],
        statuses=[s.value for s in FollowupStatus],
        refusal=services.followup_work.text_refusal(followup),
        max_text=MAX_STAFF_TEXT,
        language_name={"en": "English", "es": "Spanish"}.get(followup.language, followup.language),
        **view_context(),
    )
    # Seen: the texts this page shows, not one that arrived while it was being drawn.
    if followup.unread:
        services.followups.mark_seen(followup.id, followup.last_parent_text_at)
    return page


def _timeline(services: Services, followup: Followup) -> list[dict[str, Any]]:
    """Return every text in and out with the family since this screening began, oldest first.

    The thread follows the phone: RESTART, opt-outs and later screenings stay on the page.
    """
    thread = services.store.thread(followup.phone)
    account_sid = services.settings.twilio_account_sid or ""
    since = followup.started_at or next(
        (line["at"] for line in thread if line.get("conv") == followup.id), followup.created_at
    )
    items: list[dict[str, Any]] = []
    for line in thread:
        if line["at"] < since:
            continue
        item = {
            "at": line["at"],
            "dir": line["dir"],
            "body": line.get("body", ""),
            "who": "",
            "status": "",
            #: What became of a text of ours that did not arrive (its meaning, what to do).
            "failure": None,
            "unseen": line.get("office", False) and line["at"] > followup.seen_at,
            "media": media_note(line.get("media", []), line.get("sid", ""), account_sid),
        }
        if "message_id" in line:
            message = services.outbound.get(line["message_id"])
            if message is None:
                continue
            item["body"] = message.body
            item["status"] = message.status
            delivery = message.delivery
            item["failure"] = delivery if delivery is not None and delivery.failed else None
            item["who"] = "result text" if message.kind == "result" else f"staff: {message.sender}"
        items.append(item)
    return items


def _back(followup_id: str) -> BaseResponse:
    return redirect(url_for("staff.detail", followup_id=followup_id))


@bp.post("/f/<followup_id>/assign")
@login_required
def assign(followup_id: str) -> BaseResponse:
    """Assign to me, to someone, or to no one."""
    followup = _followup_or_404(followup_id)
    target = request.form.get("assignee", "")
    if target == "me":
        target = me().email
    try:
        assignee = get_services().followup_work.assign_staff(
            followup.id, target, me().email, time.time()
        )
    except AssigneeError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Assigned to {assignee}." if assignee else "Unassigned.")
    return _back(followup.id)


@bp.post("/f/<followup_id>/status")
@login_required
def set_status(followup_id: str) -> BaseResponse:
    """Move the follow-up along: new, contacted, scheduled, closed."""
    followup = _followup_or_404(followup_id)
    try:
        status = FollowupStatus(request.form.get("status", ""))
    except ValueError:
        abort(400, description="unknown status")
    get_services().followup_work.set_status(followup.id, status, me().email, time.time())
    flash(f"Status: {status.value}.")
    return _back(followup.id)


@bp.post("/f/<followup_id>/notes")
@login_required
def add_note(followup_id: str) -> BaseResponse:
    """Add a note (notes are never edited or deleted)."""
    followup = _followup_or_404(followup_id)
    text = request.form.get("note", "").strip()
    if not text:
        flash("A note needs some text.", "error")
    elif len(text) > 5000:
        flash("A note can have at most 5,000 characters.", "error")
    else:
        get_services().followup_work.add_note(followup.id, text, me().email, time.time())
        flash("Note added.")
    return _back(followup.id)


@bp.post("/f/<followup_id>/text")
@login_required
def text_parent(followup_id: str) -> BaseResponse:
    """Text the parent through the same sender and queue as the result."""
    followup = _followup_or_404(followup_id)
    body = " ".join(request.form.get("body", "").split())
    try:
        get_services().followup_work.text_parent(followup, body, me().email, time.time())
    except StaffTextError as exc:
        flash(f"Not sent: {exc}", "error")
    else:
        flash("Text queued; its delivery status shows in the conversation.")
    return _back(followup.id)


#: Where the provider's console shows one message, its photos and files included.
CONSOLE_MESSAGE_URL = "https://www.twilio.com/console/sms/logs/{account_sid}/{message_sid}"


def media_note(media: list[dict[str, str]], message_sid: str, account_sid: str) -> dict[str, str]:
    """Say what a text carried besides words, and where staff can open it (never fetched here)."""
    if not media:
        return {}
    photos = sum(1 for m in media if m.get("type", "").startswith("image/"))
    files = len(media) - photos
    parts = [
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in ((photos, "photo"), (files, "file"))
        if n
    ]
    link = (
        CONSOLE_MESSAGE_URL.format(account_sid=account_sid, message_sid=message_sid)
        if account_sid and message_sid
        else ""
    )
    return {"what": " and ".join(parts) + " received", "link": link, "sid": message_sid}
