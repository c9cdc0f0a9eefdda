"""The staff pages: login, queue, detail, actions, export, accounts."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import AccountError, Role, normalize_email
from ..evaluator import FLAG_LABELS, OUTCOME_LABELS, Priority
from ..followups import Followup, FollowupStatus, result_message_id
from ..jobs import enqueue_send
from ..logs import mask_phone
from ..outbound import count_segments
from ..services import Services, get_services
from .auth import SESSION_TOKEN, StaffUser, admin_required, me

bp = Blueprint(
    "staff",
    __name__,
    url_prefix="/staff",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: A text from staff: short, at most three segments.
MAX_STAFF_TEXT = 459
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

FILTER_STATUSES = ("open", *[s.value for s in FollowupStatus], "all")


#: Requests a page makes by itself (the queue's refresh): they do not count as activity.
_BACKGROUND_ENDPOINTS = frozenset({"staff.queue_rows"})


@bp.before_request
def keep_sessions_alive() -> None:
    """Restart the idle clock on real use; a page refreshing itself does not count."""
    if request.endpoint in _BACKGROUND_ENDPOINTS or not current_user.is_authenticated:
        return
    services = get_services()
    idle = round(services.settings.staff_idle_minutes * 60)
    services.staff.touch_session(str(session.get(SESSION_TOKEN, "")), me().email, idle)


def _login_buckets() -> list[str]:
    """Return what one login attempt counts against: its account and its address."""
    email = normalize_email(request.form.get("email", ""))
    return ["account:" + email, "address:" + (request.remote_addr or "unknown")]


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int, dict[str, str]] | tuple[str, int] | str:
    """Log in; the 6th failure in a minute, per account or per address, gets 429."""
    if request.method == "GET":
        return render_template("staff/login.html")
    services = get_services()
    email = request.form.get("email", "")
    buckets = _login_buckets()
    wait = services.login_throttle.retry_after(buckets)
    if wait:
        page = render_template("staff/login.html", locked_for=wait, email=email)
        return page, 429, {"Retry-After": str(wait)}
    account = services.staff.authenticate(email, request.form.get("password", ""))
    if account is None:
        services.login_throttle.record_failure(buckets)
        return render_template("staff/login.html", error=True, email=email), 401
    # A new session at login: nothing from before it (a planted session id) survives.
    session.clear()
    idle = round(services.settings.staff_idle_minutes * 60)
    session[SESSION_TOKEN] = services.staff.start_session(account.email, idle)
    login_user(StaffUser(account))
    session.permanent = True
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/staff") or parts.netloc or parts.scheme:
        target = url_for("staff.queue")
    return redirect(target)


@bp.post("/logout")
@login_required
def logout() -> BaseResponse:
    """End the session (server-side too: a copy of the cookie is dead)."""
    get_services().staff.end_session(str(session.get(SESSION_TOKEN, "")), me().email)
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("staff.login"))


@dataclass(frozen=True)
class Filters:
    status: str
    outcome: str
    priority: str
    assignee: str

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        status = args.get("status", "open")
        return cls(
            status=status if status in FILTER_STATUSES else "open",
            outcome=args.get("outcome", "") if args.get("outcome") in OUTCOME_LABELS else "",
            priority=args.get("priority", "")
            if args.get("priority") in {p.value for p in Priority}
            else "",
            assignee=args.get("assignee", "")
            if args.get("assignee") in ("mine", "unassigned")
            else "",
        )

    def query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}

    def keep(self, f: Followup, email: str) -> bool:
        if self.status == "open" and f.status == FollowupStatus.CLOSED.value:
            return False
        if self.status not in ("open", "all") and f.status != self.status:
            return False
        if self.outcome and f.outcome != self.outcome:
            return False
        if self.priority and f.priority != self.priority:
            return False
        if self.assignee == "mine" and f.assignee != email:
            return False
        return not (self.assignee == "unassigned" and f.assignee)


def _queue(services: Services, filters: Filters) -> tuple[list[Followup], dict[str, int]]:
    everything = services.followups.list()
    counts = {s.value: 0 for s in FollowupStatus}
    for f in everything:
        counts[f.status] = counts.get(f.status, 0) + 1
    counts["open"] = sum(v for k, v in counts.items() if k != FollowupStatus.CLOSED.value)
    counts["all"] = len(everything)
    return [f for f in everything if filters.keep(f, me().email)], counts


def _view_context() -> dict[str, Any]:
    return {
        "flag_labels": FLAG_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "mask_phone": mask_phone,
        "now": time.time(),
        "ago": _ago,
        "when": _when,
    }


@bp.get("/")
@login_required
def queue() -> str:
    """The queue: who needs a call back first."""
    filters = Filters.from_args(request.args)
    rows, counts = _queue(get_services(), filters)
    return render_template(
        "staff/queue.html",
        rows=rows,
        counts=counts,
        filters=filters,
        statuses=FILTER_STATUSES,
        **_view_context(),
    )


@bp.get("/rows")
@login_required
def queue_rows() -> str:
    """The queue's table body, for the page to refresh itself."""
    filters = Filters.from_args(request.args)
    rows, counts = _queue(get_services(), filters)
    return render_template("staff/_rows.html", rows=rows, counts=counts, **_view_context())


@bp.get("/export.csv")
@login_required
def export() -> Response:
    """The filtered queue as CSV for the office's case-management system."""
    services = get_services()
    filters = Filters.from_args(request.args)
    rows, _ = _queue(services, filters)
    keys = [q.key for q in services.flow.questions]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "id",
            "created_at",
            "updated_at",
            "priority",
            "outcome",
            "reasons",
            "flags",
            "status",
            "assignee",
            "language",
            "phone",
            "do_not_contact",
            "problems",
            *keys,
        ]
    )
    for f in rows:
        answers = [_answer_text(services, k, f.answers.get(k)) for k in keys]
        writer.writerow(
            _safe_cells(
                [
                    f.id,
                    _iso(f.created_at),
                    _iso(f.updated_at),
                    f.priority,
                    f.outcome,
                    ";".join(f.reasons),
                    ";".join(f.flags),
                    f.status,
                    f.assignee,
                    f.language,
                    f.phone,
                    "yes" if f.do_not_contact else "no",
                    "; ".join(f.problems),
                    *answers,
                ]
            )
        )
    for f in rows:
        services.followup_work.audit(f.id, me().email, "export", "CSV export", time.time())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=followups-{stamp}.csv"},
    )


def _safe_cells(cells: Iterable[object]) -> list[str]:
    """Neutralise spreadsheet formulas: a cell starting = + - @ (or a tab, CR) is text.

    An E.164 number (+ and digits only) can compute nothing, and stays as it is for import.
    """
    safe = []
    for cell in cells:
        text = "" if cell is None else str(cell)
        if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _E164.match(text):
            text = "'" + text
        safe.append(text)
    return safe


def _answer_text(services: Services, key: str, value: Any) -> str:
    question = services.flow.question(key)
    if value is None or question is None:
        return ""
    return question.answer_label(value)


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
        **_view_context(),
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


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
