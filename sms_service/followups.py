"""The staff queue: one follow-up per completed screening, sorted by priority then waiting time."""

from __future__ import annotations

import builtins
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from redis import Redis

from . import keys
from .accounts import StaffStore, normalize_email
from .evaluator import Priority, Suggestion
from .outbound import OutboundStore, count_segments
from .outbound.messages import read_deliveries
from .outbound.status import Delivery, DeliveryStatus
from .screening import Screening
from .store import ConversationStore


class FollowupStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


#: A text from staff: short, at most three segments.
MAX_STAFF_TEXT = 459
MAX_STAFF_SEGMENTS = 3


class AssigneeError(ValueError):
    """A follow-up was to be assigned to an email that is no active staff account."""


class StaffTextError(ValueError):
    """A staff text was not sent; the message says why."""


_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}
# Scores sort by priority first, then by creation time (oldest first) within a priority.
_RANK_SPAN = 10**11

#: A staff member's look at a follow-up within this long of their last is the same visit.
VISIT_SECONDS = 30 * 60

# Start a visit unless one is going on, and move its end on: one round trip, one winner.
_VISIT = """
local last = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
if last and tonumber(ARGV[1]) - tonumber(last) <= tonumber(ARGV[2]) then
  return 0
end
return 1
"""

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
return 1
"""

# Staff have seen the parent's texts up to a time (never moves back).
_MARK_SEEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if tonumber(redis.call('HGET', KEYS[1], 'seen_at') or '0') < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'seen_at', ARGV[1])
end
return 1
"""


@dataclass
class Followup:
    id: str
    conversation_id: str
    phone: str
    language: str
    answers: dict[str, Any]
    outcome: str
    priority: str
    reasons: list[str]
    flags: list[str]
    created_at: float
    status: str = FollowupStatus.NEW.value
    assignee: str = ""
    #: The parent said staff may not text or call (contact_ok = no).
    do_not_contact: bool = False
    result_message_id: str = ""
    #: What went wrong that staff should know (a result text that did not go out...).
    problems: list[str] = field(default_factory=list)
    updated_at: float = 0.0
    #: When the screening began (its texts from then on are this follow-up's conversation).
    started_at: float = 0.0
    #: Staff have seen the parent's texts after the result up to this time.
    seen_at: float = 0.0
    #: When the follow-up was last closed (0: open, or closed before this was recorded).
    closed_at: float = 0.0
    # Read with the record, never stored in it:
    #: The parent's texts after the result that no staff member has seen.
    unread: int = 0
    #: When the parent last texted after the result (0: never).
    last_parent_text_at: float = 0.0
    #: The phone is opted out of every text now (STOP).
    opted_out: bool = False
    #: What became of the result text (None: no news of it yet, or no such text).
    delivery: Delivery | None = None
    #: The newest text with news (the newest staff text, else the result text), when it did
    #: not arrive: the queue's "Text failed" mark.
    text_failure: Delivery | None = None

    @property
    def answers_parent(self) -> bool:
        """Tell whether a staff text would answer the parent's own text (no contact lifted)."""
        return self.last_parent_text_at > 0

    def to_hash(self) -> dict[str, str]:
        """Return the record as Redis hash fields."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "phone": self.phone,
            "language": self.language,
            "answers": json.dumps(self.answers),
            "outcome": self.outcome,
            "priority": self.priority,
            "reasons": json.dumps(self.reasons),
            "flags": json.dumps(self.flags),
            "created_at": repr(self.created_at),
            "status": self.status,
            "assignee": self.assignee,
            "do_not_contact": "1" if self.do_not_contact else "0",
            "result_message_id": self.result_message_id,
            "problems": json.dumps(self.problems),
            "updated_at": repr(self.updated_at or self.created_at),
            "started_at": repr(self.started_at),
            "seen_at": repr(self.seen_at),
            **({"closed_at": repr(self.closed_at)} if self.closed_at else {}),
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> Followup:
        """Build a Followup from its hash fields."""
        return cls(
            id=data["id"],
            conversation_id=data["conversation_id"],
            phone=data["phone"],
            language=data["language"],
            answers=json.loads(data["answers"]),
            outcome=data["outcome"],
            priority=data["priority"],
            reasons=json.loads(data["reasons"]),
            flags=json.loads(data["flags"]),
            created_at=float(data["created_at"]),
            status=data.get("status", FollowupStatus.NEW.value),
            assignee=data.get("assignee", ""),
            do_not_contact=data.get("do_not_contact") == "1",
            result_message_id=data.get("result_message_id", ""),
            problems=json.loads(data.get("problems", "[]")),
            updated_at=float(data.get("updated_at", data["created_at"])),
            started_at=float(data.get("started_at", "0")),
            seen_at=float(data.get("seen_at", "0")),
            closed_at=float(data.get("closed_at", "0")),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the record for `followups list --json` and exports."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "phone": self.phone,
            "language": self.language,
            "answers": self.answers,
            "outcome": self.outcome,
            "priority": self.priority,
            "reasons": self.reasons,
            "flags": self.flags,
            "status": self.status,
            "assignee": self.assignee or None,
            "do_not_contact": self.do_not_contact,
            "problems": self.problems,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "unread": self.unread,
            "opted_out": self.opted_out,
            # Null until there is news of the result text beyond "queued" (see Delivery).
            "delivery": self.delivery.to_json() if self.delivery is not None else None,
        }


def queue_score(priority: str, created_at: float) -> float:
    """Return the sort score: urgent before high before normal, older first within each."""
    return _PRIORITY_RANK[Priority(priority)] * _RANK_SPAN + created_at


class FollowupStore:
    """Follow-ups in Redis: one hash each, and a sorted index for the queue."""

    def __init__(self, client: Redis) -> None:
        self._r = client
        self._create = client.register_script(_CREATE)
        self._mark_seen = client.register_script(_MARK_SEEN)

    def create(self, screening: Screening, suggestion: Suggestion, now: float) -> bool:
        """Create the follow-up of a screening once; False if it already exists."""
        conversation_id, phone = screening.conversation_id, screening.phone
        language, answers = screening.language, dict(screening.answers)
        followup = Followup(
            id=conversation_id,
            conversation_id=conversation_id,
            phone=phone,
            language=language,
            answers=answers,
            outcome=suggestion.outcome.value,
            priority=suggestion.priority.value,
            reasons=list(suggestion.reasons),
            flags=list(suggestion.flags),
            created_at=now,
            do_not_contact=answers.get("contact_ok") == "no",
            result_message_id=result_message_id(conversation_id),
            started_at=screening.started_at,
        )
        fields = [item for pair in followup.to_hash().items() for item in pair]
        created = self._create(
            keys=[keys.followup(followup.id), keys.FOLLOWUP_QUEUE, keys.followups_of(phone)],
            args=[queue_score(followup.priority, now), repr(now), *fields],
        )
        return bool(created)

    def get(self, followup_id: str) -> Followup | None:
        """Return one follow-up, or None."""
        data = cast(dict[str, str], self._r.hgetall(keys.followup(followup_id)))
        return self._with_marks([Followup.from_hash(data)])[0] if data else None

    def list(self, status: str | None = None) -> list[Followup]:
        """Return follow-ups in queue order.

        Priority first; within a priority, those with texts staff have not seen, then the
        oldest first.
        """
        members = cast(list[str], self._r.zrange(keys.FOLLOWUP_QUEUE, 0, -1))
        records = self._read(members)
        ordered = sorted(
            records, key=lambda f: (_PRIORITY_RANK[Priority(f.priority)], not f.unread)
        )
        return [f for f in ordered if status is None or f.status == status]

    def of_phone(self, phone: str) -> tuple[Followup, ...]:
        """Return every follow-up of a phone, oldest first."""
        ids = cast(list[str], self._r.zrange(keys.followups_of(phone), 0, -1))
        return tuple(self._read([keys.followup(followup_id) for followup_id in ids]))

    def _read(self, hash_keys: Iterable[str]) -> builtins.list[Followup]:
        pipe = self._r.pipeline(transaction=False)
        for key in hash_keys:
            pipe.hgetall(key)
        rows = cast(builtins.list[dict[str, str]], pipe.execute())
        return self._with_marks([Followup.from_hash(d) for d in rows if d])

    def _with_marks(self, records: builtins.list[Followup]) -> builtins.list[Followup]:
        """Fill in what each record's other keys say: unread texts, last text, opt-out,
        what became of its texts."""
        pipe = self._r.pipeline(transaction=False)
        for f in records:
            inbox = keys.followup_inbox(f.id)
            pipe.zcount(inbox, f"({f.seen_at!r}", "+inf")
            pipe.zrevrange(inbox, 0, 0, withscores=True)
            pipe.exists(keys.opt_out(f.phone))
            pipe.lindex(keys.followup_texts(f.id), -1)
        marks = pipe.execute()
        newest_staff: builtins.list[str] = []
        for i, f in enumerate(records):
            unread, last, opted_out, staff_text = marks[4 * i : 4 * i + 4]
            f.unread = int(unread)
            f.last_parent_text_at = float(last[0][1]) if last else 0.0
            f.opted_out = bool(opted_out)
            newest_staff.append(staff_text or "")
        # The result text and the newest staff text of each, in one more round trip.
        texts = read_deliveries(
            self._r, [m for f, staff in zip(records, newest_staff, strict=True)
                      for m in (f.result_message_id, staff)]
        )  # fmt: skip
        for i, f in enumerate(records):
            f.delivery, staff_news = texts[2 * i], texts[2 * i + 1]
            news = staff_news or f.delivery
            if news is not None and news.failed and news.status != DeliveryStatus.SUPPRESSED:
                f.text_failure = news
        return records

    def parent_texts(self, followup_id: str) -> builtins.list[tuple[str, float]]:
        """Return the MessageSids and times of the parent's texts after the result."""
        raw = self._r.zrange(keys.followup_inbox(followup_id), 0, -1, withscores=True)
        return [(str(sid), float(at)) for sid, at in cast(builtins.list[tuple[str, float]], raw)]

    def mark_seen(self, followup_id: str, upto: float) -> None:
        """Record that staff have seen the parent's texts up to a time."""
        self._mark_seen(keys=[keys.followup(followup_id)], args=[repr(upto)])

    def closed_before(self, cutoff: float) -> builtins.list[str]:
        """Return the ids of follow-ups closed before a time (open ones never).

        One closed before closing times were recorded counts from its last change (updated_at).
        """
        members = cast(builtins.list[str], self._r.zrange(keys.FOLLOWUP_QUEUE, 0, -1))
        pipe = self._r.pipeline(transaction=False)
        for member in members:
            pipe.hmget(member, ["id", "status", "closed_at", "updated_at", "created_at"])
        expired = []
        for row in cast(builtins.list[builtins.list[str | None]], pipe.execute()):
            followup_id, status, closed_at, updated_at, created_at = row
            if not followup_id or status != FollowupStatus.CLOSED.value:
                continue
            if float(closed_at or updated_at or created_at or "0") < cutoff:
                expired.append(followup_id)
        return expired

    def purge(self, followup_ids: Iterable[str]) -> int:
        """Delete follow-ups and take them off the queue (FollowupWork purges their notes)."""
        ids = list(followup_ids)
        if not ids:
            return 0
        pipe = self._r.pipeline(transaction=False)
        for followup_id in ids:
            pipe.hget(keys.followup(followup_id), "phone")
        phones = cast(list[str | None], pipe.execute())
        doomed = [keys.followup(followup_id) for followup_id in ids]
        self._r.zrem(keys.FOLLOWUP_QUEUE, *doomed)
        for followup_id, phone in zip(ids, phones, strict=True):
            if phone:
                self._r.zrem(keys.followups_of(phone), followup_id)
        return int(self._r.delete(*doomed))

    def add_problem(self, followup_id: str, problem: str, now: float) -> None:
        """Record something staff must know about a follow-up."""
        current = self.get(followup_id)
        if current is None or problem in current.problems:
            return
        self._r.hset(
            keys.followup(followup_id),
            mapping={"problems": json.dumps([*current.problems, problem]), "updated_at": now},
        )


@dataclass(frozen=True)
class Entry:
    """A note or an audit record: who, when, what."""

    at: float
    actor: str
    action: str
    text: str


def _entry(raw: str) -> Entry:
    data = json.loads(raw)
    return Entry(float(data["at"]), data["actor"], data["action"], data["text"])


def _entry_json(entry: Entry) -> str:
    return json.dumps(
        {"at": entry.at, "actor": entry.actor, "action": entry.action, "text": entry.text}
    )


class FollowupWork:
    """What staff do to a follow-up: assign, change status, notes, texts, with an audit trail."""

    def __init__(
        self,
        client: Redis,
        store: FollowupStore,
        *,
        staff: StaffStore,
        outbound: OutboundStore,
        conversations: ConversationStore,
        send: Callable[[str], None],
    ) -> None:
        self._r = client
        self._store = store
        self._staff = staff
        self._outbound = outbound
        self._conversations = conversations
        #: Queues the send of a recorded outbound text, by its id.
        self._send = send
        self._visit = client.register_script(_VISIT)

    def audit(self, followup_id: str, actor: str, action: str, text: str, now: float) -> None:
        """Append to a follow-up's audit trail (views included)."""
        self._r.rpush(
            keys.followup_audit(followup_id), _entry_json(Entry(now, actor, action, text))
        )

    def record_view(self, followup_id: str, actor: str, now: float) -> bool:
        """Audit a staff member's view once per visit; True if this view started one.

        A visit lasts while they look again within VISIT_SECONDS of their last look: reloads
        and the page each action redirects back to are the same visit.
        """
        started = self._visit(
            keys=[keys.followup_visit(followup_id, actor)],
            args=[repr(now), VISIT_SECONDS, VISIT_SECONDS + 60],
        )
        if started:
            self.audit(followup_id, actor, "view", "opened the follow-up", now)
        return bool(started)

    def audit_trail(self, followup_id: str) -> list[Entry]:
        """Return the audit trail, oldest first."""
        raw = cast(list[str], self._r.lrange(keys.followup_audit(followup_id), 0, -1))
        return [_entry(r) for r in raw]

    def set_status(self, followup_id: str, status: FollowupStatus, actor: str, now: float) -> None:
        """Move a follow-up to a status."""
        current = self._store.get(followup_id)
        if current is None or current.status == status.value:
            return
        pipe = self._r.pipeline()
        key = keys.followup(followup_id)
        pipe.hset(key, mapping={"status": status.value, "updated_at": repr(now)})
        # The retention clock (FOLLOWUP_RETENTION_DAYS) runs from closing, and stops on reopening.
        if status is FollowupStatus.CLOSED:
            pipe.hset(key, "closed_at", repr(now))
        else:
            pipe.hdel(key, "closed_at")
        pipe.execute()
        self.audit(followup_id, actor, "status", f"{current.status} -> {status.value}", now)

    def assign(self, followup_id: str, assignee: str, actor: str, now: float) -> None:
        """Assign a follow-up to a staff member ("" to unassign)."""
        current = self._store.get(followup_id)
        if current is None or current.assignee == assignee:
            return
        self._r.hset(
            keys.followup(followup_id), mapping={"assignee": assignee, "updated_at": repr(now)}
        )
        self.audit(followup_id, actor, "assign", assignee or "unassigned", now)

    def assign_staff(self, followup_id: str, email: str, actor: str, now: float) -> str:
        """Assign a follow-up to an active staff account ("" for no one); return the assignee.

        Raise AssigneeError if the email is no enabled account's.
        """
        assignee = normalize_email(email) if email else ""
        if assignee:
            account = self._staff.get(assignee)
            if account is None or account.disabled:
                raise AssigneeError("No active staff account has that email.")
        self.assign(followup_id, assignee, actor, now)
        return assignee

    def add_note(self, followup_id: str, text: str, author: str, now: float) -> None:
        """Add a note; notes are never edited or deleted."""
        self._r.rpush(
            keys.followup_notes(followup_id), _entry_json(Entry(now, author, "note", text))
        )
        self._r.hset(keys.followup(followup_id), "updated_at", repr(now))
        self.audit(followup_id, author, "note", counted(len(text), "character"), now)

    def notes(self, followup_id: str) -> list[Entry]:
        """Return the notes, oldest first."""
        raw = cast(list[str], self._r.lrange(keys.followup_notes(followup_id), 0, -1))
        return [_entry(r) for r in raw]

    def note_summaries(self, followup_ids: Iterable[str]) -> list[tuple[int, str]]:
        """Return each follow-up's number of notes and its newest note's text ("" if none)."""
        pipe = self._r.pipeline(transaction=False)
        for followup_id in followup_ids:
            pipe.llen(keys.followup_notes(followup_id))
            pipe.lindex(keys.followup_notes(followup_id), -1)
        replies = pipe.execute()
        return [
            (int(count), _entry(newest).text if newest else "")
            for count, newest in zip(replies[::2], replies[1::2], strict=True)
        ]

    def add_text(self, followup_id: str, message_id: str) -> None:
        """Remember a text staff sent from this follow-up."""
        self._r.rpush(keys.followup_texts(followup_id), message_id)

    def texts(self, followup_id: str) -> list[str]:
        """Return the ids of texts staff sent from this follow-up."""
        return cast(list[str], self._r.lrange(keys.followup_texts(followup_id), 0, -1))

    def text_refusal(self, followup: Followup) -> str:
        """Say why staff may not text this parent, or return ""."""
        if self._conversations.is_opted_out(followup.phone):
            return "This number opted out of texts (STOP). They can text START to opt back in."
        if followup.do_not_contact and not followup.answers_parent:
            return "The parent said staff may not text or call (do not contact)."
        failed = self._outbound.unreachable(followup.phone)
        if failed is not None:
            return f"Texts to this number cannot arrive (error {failed.error_code}): " + (
                f"{failed.meaning} {failed.action}"
            )
        return ""

    def text_parent(self, followup: Followup, body: str, sender: str, now: float) -> str:
        """Record a staff text to the parent and queue its send; return the message id.

        Raise StaffTextError, and send nothing, if the parent may not be texted or the text is
        empty or longer than MAX_STAFF_SEGMENTS segments.
        """
        refusal = self.text_refusal(followup)
        if refusal:
            raise StaffTextError(refusal)
        if not body:
            raise StaffTextError("the text is empty.")
        segments = count_segments(body).segments
        if len(body) > MAX_STAFF_TEXT or segments > MAX_STAFF_SEGMENTS:
            raise StaffTextError(f"keep a text to {MAX_STAFF_SEGMENTS} SMS segments or fewer.")
        message_id = f"staff-{uuid.uuid4().hex}"
        self._outbound.create(
            message_id, followup.phone, body, "staff", followup.id, now, sender=sender
        )
        self.add_text(followup.id, message_id)
        detail = counted(segments, "segment")
        if followup.do_not_contact:
            # Allowed only because the family texted us first: the record says so.
            detail += f", answering the parent's text of {_stamp(followup.last_parent_text_at)}"
        self.audit(followup.id, sender, "text", detail, now)
        self._send(message_id)
        return message_id

    def audit_export(self, followup_ids: Iterable[str], actor: str, now: float) -> None:
        """Record in each follow-up's audit trail that it went out in a CSV export."""
        for followup_id in followup_ids:
            self.audit(followup_id, actor, "export", "CSV export", now)

    def purge(self, followup_ids: Iterable[str]) -> int:
        """Delete the notes, audit trails, lists of staff texts and visits of these follow-ups."""
        emails = [account.email for account in self._staff.all()]
        doomed = [
            key
            for followup_id in followup_ids
            for key in (
                keys.followup_notes(followup_id),
                keys.followup_audit(followup_id),
                keys.followup_texts(followup_id),
                keys.followup_inbox(followup_id),
                *(keys.followup_visit(followup_id, email) for email in emails),
            )
        ]
        return int(self._r.delete(*doomed)) if doomed else 0


def counted(n: int, noun: str) -> str:
    """Return "1 segment", "3 segments": a count and its noun."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


def result_message_id(conversation_id: str) -> str:
    """Return the one id the result text of a screening may have."""
    return f"result-{conversation_id}"
