"""One follow-up's page, and what staff do from it: assign, set the status, add notes, text."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import normalize_email
from ..followups import Followup, FollowupStatus, result_message_id
from ..jobs import enqueue_send
from ..segments import count_segments
from ..services import Services, get_services
from .auth import me
from .blueprint import bp
from .formatting import view_context

#: A text from staff: short, at most three segments.
MAX_STAFF_TEXT = 459


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
    services.followup_work.audit(
        followup.id, me().email, "view", "opened the follow-up", time.time()
    )
    answers = [
        (q.label, q.answer_label(followup.answers[q.key]))
        for q in services.flow.questions
        if q.key in followup.answers
    ]
    results = services.flow.results
    reasons = [
        results.reasons[r]["en"] if results and r in results.reasons else r
        for r in followup.reasons
    ]
    refusal = _text_refusal(services, followup)
    return render_template(
        "staff/detail.html",
        f=followup,
        answers=answers,
        reasons=reasons,
        timeline=_timeline(services, followup),
        notes=services.followup_work.notes(followup.id),
        audit=services.followup_work.audit_trail(followup.id),
        staff=[a for a in services.staff.all() if not a.disabled],
        statuses=[s.value for s in FollowupStatus],
        refusal=refusal,
        max_text=MAX_STAFF_TEXT,
        language_name={"en": "English", "es": "Spanish"}.get(followup.language, followup.language),
        **view_context(),
    )


def _timeline(services: Services, followup: Followup) -> list[dict[str, Any]]:
    """Merge the conversation and the texts workers sent, oldest first."""
    items: list[dict[str, Any]] = [
        {"at": line["at"], "dir": line["dir"], "body": line["body"], "who": "", "status": ""}
        for line in services.store.transcript(followup.conversation_id)
    ]
    ids = [result_message_id(followup.conversation_id), *services.followup_work.texts(followup.id)]
    for message_id in ids:
        message = services.outbound.get(message_id)
        if message is None:
            continue
        items.append(
            {
                "at": message.created_at,
                "dir": "out",
                "body": message.body,
                "who": "result text" if message.kind == "result" else f"staff: {message.sender}",
                "status": message.status,
            }
        )
    return sorted(items, key=lambda item: item["at"])


def _text_refusal(services: Services, followup: Followup) -> str:
    """Say why staff may not text this parent, or return ""."""
    if followup.do_not_contact:
        return "The parent said staff may not text or call (do not contact)."
    if services.store.is_opted_out(followup.phone):
        return "This number opted out of texts (STOP). They can text START to opt back in."
    return ""


def _back(followup_id: str) -> BaseResponse:
    return redirect(url_for("staff.detail", followup_id=followup_id))


@bp.post("/f/<followup_id>/assign")
@login_required
def assign(followup_id: str) -> BaseResponse:
    """Assign to me, to someone, or to no one."""
    services = get_services()
    followup = _followup_or_404(followup_id)
    target = request.form.get("assignee", "")
    if target == "me":
        target = me().email
    target = normalize_email(target) if target else ""
    if target:
        account = services.staff.get(target)
        if account is None or account.disabled:
            flash("No active staff account has that email.", "error")
            return _back(followup.id)
    services.followup_work.assign(followup.id, target, me().email, time.time())
    flash(f"Assigned to {target}." if target else "Unassigned.")
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
    services = get_services()
    followup = _followup_or_404(followup_id)
    body = " ".join(request.form.get("body", "").split())
    refusal = _text_refusal(services, followup)
    if refusal:
        flash(f"Not sent: {refusal}", "error")
        return _back(followup.id)
    if not body:
        flash("Not sent: the text is empty.", "error")
        return _back(followup.id)
    if len(body) > MAX_STAFF_TEXT or count_segments(body).segments > 3:
        flash("Not sent: keep a text to 3 SMS segments or fewer.", "error")
        return _back(followup.id)
    now = time.time()
    message_id = f"staff-{uuid.uuid4().hex}"
    services.outbound.create(
        message_id, followup.phone, body, "staff", followup.id, now, sender=me().email
    )
    services.followup_work.add_text(followup.id, message_id)
    services.followup_work.audit(
        followup.id, me().email, "text", f"{count_segments(body).segments} segment(s)", now
    )
    enqueue_send(services.queue, message_id)
    flash("Text queued; its delivery status shows in the conversation.")
    return _back(followup.id)
