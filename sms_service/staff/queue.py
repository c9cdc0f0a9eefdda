"""The follow-up queue: its filters, the page, the rows it refreshes, the CSV export."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, render_template, request
from flask_login import login_required

from ..evaluator import FLAG_LABELS, OUTCOME_LABELS, Priority
from ..followups import Followup, FollowupStatus
from ..services import Services, get_services
from .auth import me
from .blueprint import bp
from .formatting import outcome_label, phone_uri, reason_texts, view_context

FILTER_STATUSES = ("open", *[s.value for s in FollowupStatus], "all")


@dataclass(frozen=True)
class Filters:
    status: str
    outcome: str
    priority: str
    assignee: str
    #: Only follow-ups with texts from the parent that no staff member has seen.
    replied: str = ""

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
            replied="1" if args.get("replied") == "1" else "",
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
        if self.replied and not f.unread:
            return False
        return not (self.assignee == "unassigned" and f.assignee)


def _queue(services: Services, filters: Filters) -> tuple[list[Followup], dict[str, int]]:
    everything = services.followups.list()
    counts = {s.value: 0 for s in FollowupStatus}
    for f in everything:
        counts[f.status] = counts.get(f.status, 0) + 1
    counts["open"] = sum(v for k, v in counts.items() if k != FollowupStatus.CLOSED.value)
    counts["all"] = len(everything)
    counts["replied"] = sum(1 for f in everything if f.unread)
    return [f for f in everything if filters.keep(f, me().email)], counts


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
        **view_context(),
    )


@bp.get("/rows")
@login_required
def queue_rows() -> str:
    """The queue's table body, for the page to refresh itself."""
    filters = Filters.from_args(request.args)
    rows, counts = _queue(get_services(), filters)
    return render_template("staff/_rows.html", rows=rows, counts=counts, **view_context())


@bp.get("/export.csv")
@login_required
def export() -> Response:
    """The filtered queue as CSV for the office's case-management system."""
    services = get_services()
    filters = Filters.from_args(request.args)
    rows, _ = _queue(services, filters)
    keys = [q.key for q in services.flow.questions]
    notes = services.followup_work.note_summaries(f.id for f in rows)
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
            "notes",
            "last_note",
            *keys,
        ]
    )
    for f, (note_count, last_note) in zip(rows, notes, strict=True):
        answers = [_answer_text(services, k, f.answers.get(k)) for k in keys]
        writer.writerow(
            _safe_cells(
                [
                    f.id,
                    _iso(f.created_at),
                    _iso(f.updated_at),
                    f.priority,
                    outcome_label(f.outcome),
                    "; ".join(reason_texts(services.flow, f.reasons)),
                    "; ".join(FLAG_LABELS.get(flag, flag) for flag in f.flags),
                    f.status,
                    f.assignee,
                    f.language,
                    # Text in every spreadsheet, and still the number for an importer.
                    phone_uri(f.phone) or f.phone,
                    "yes" if f.do_not_contact else "no",
                    "; ".join(f.problems),
                    note_count,
                    last_note,
                    *answers,
                ]
            )
        )
    services.followup_work.audit_export([f.id for f in rows], me().email, time.time())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=followups-{stamp}.csv"},
    )


def _safe_cells(cells: Iterable[object]) -> list[str]:
    """Neutralise spreadsheet formulas: a cell starting = + - @ (or a tab, CR) is text."""
    safe = []
    for cell in cells:
        text = "" if cell is None else str(cell)
        if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
            text = "'" + text
        safe.append(text)
    return safe


def _answer_text(services: Services, key: str, value: Any) -> str:
    question = services.flow.question(key)
    if value is None or question is None:
        return ""
    return question.answer_label(value)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
