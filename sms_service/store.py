"""Conversation state, opt-outs, MessageSid claims, completed screenings and their evaluation.

One inbound text costs two round trips: `begin` claims the MessageSid, takes the phone's
lock and reads the state in one script; `commit` writes everything and releases the lock in
another, and refuses to write if the lock was lost meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import redis

from . import keys
from .engine.model import State, Status
from .evaluator import Suggestion
from .screening import Screening

#: How long a claimed MessageSid (and the reply it got) is remembered.
INBOUND_TTL_SECONDS = 72 * 3600
#: How long one text may hold its phone's lock.
LOCK_MS = 5000
#: Most texts a phone's thread keeps (the oldest go first).
THREAD_LIMIT = 2000

_BEGIN = """
local claim = redis.call('GET', KEYS[1])
if claim then
  if string.sub(claim, 1, 8) ~= 'pending:' then
    return {'done', claim}
  end
  if redis.call('GET', KEYS[2]) == string.sub(claim, 9) then
    return {'busy', ''}
  end
  -- the text that claimed it died before committing; nothing was applied: take it over
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'busy', ''}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[1], 'pending:' .. ARGV[1], 'EX', ARGV[3])
return {'ok', redis.call('GET', KEYS[3]) or '', redis.call('EXISTS', KEYS[4])}
"""

_COMMIT = f"""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5])
if ARGV[6] == 'out' then
  redis.call('SET', KEYS[4], ARGV[7])
elseif ARGV[6] == 'in' then
  redis.call('DEL', KEYS[4])
end
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[5], ARGV[8], 'EX', ARGV[9])
  redis.call('ZADD', KEYS[6], ARGV[7], ARGV[10])
end
for i = 13, #ARGV do
  redis.call('RPUSH', KEYS[7], ARGV[i])
end
redis.call('LTRIM', KEYS[7], -{THREAD_LIMIT}, -1)
-- the thread of a phone with no completed screening goes with its idle conversation; once a
-- screening completed (it has follow-ups), it is its follow-ups' conversation: the retention
local thread_ttl = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[11]) == 1 then
  thread_ttl = tonumber(ARGV[9])
end
if redis.call('TTL', KEYS[7]) < thread_ttl then
  redis.call('EXPIRE', KEYS[7], thread_ttl)
end
local first = 0
if ARGV[11] ~= '' then
  -- a text for the office: into the follow-up's inbox, unread until staff open it
  local seen = redis.call('HGET', KEYS[8], 'seen_at') or '0'
  if redis.call('ZCOUNT', KEYS[9], '(' .. seen, '+inf') == 0 then
    first = 1
  end
  redis.call('ZADD', KEYS[9], ARGV[7], ARGV[11])
  redis.call('EXPIRE', KEYS[9], ARGV[9])
  if redis.call('HGET', KEYS[8], 'status') == 'closed' then
    redis.call('HSET', KEYS[8], 'status', 'new', 'updated_at', ARGV[7])
    redis.call('HDEL', KEYS[8], 'closed_at')
    redis.call('RPUSH', KEYS[10], ARGV[12])
  end
end
redis.call('DEL', KEYS[1])
return 1 + first
"""

_ABORT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == 'pending:' .. ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return 1
"""


#: Longest text kept in a thread (a parent's 1,600 characters fit).
MAX_THREAD_BODY = 2000
#: Most photos or files one text may carry (Twilio's MMS limit).
MAX_MEDIA = 10

#: Who the audit trail names for what a parent's text did to a follow-up.
PARENT_ACTOR = "parent"


def thread_line(
    at: float,
    direction: str,
    body: str,
    conversation_id: str,
    for_office: bool = False,
    **extra: Any,
) -> str:
    """Return one entry of a phone's thread as JSON (`office`: a text after the result)."""
    line: dict[str, Any] = {
        "at": at,
        "dir": direction,
        "body": body[:MAX_THREAD_BODY],
        "conv": conversation_id,
        **extra,
    }
    if for_office:
        line["office"] = True
    return json.dumps(line)


class ClaimStatus(StrEnum):
    #: Claimed: apply the text.
    OK = "ok"
    #: Already applied: answer with the stored reply.
    DONE = "done"
    #: The phone's lock is held (another text is being applied): wait and try again.
    BUSY = "busy"


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    state: State | None = None
    opted_out: bool = False
    replies: tuple[str, ...] = ()


class Commit(StrEnum):
    #: The lock was lost meanwhile: nothing was written.
    LOST = "lost"
    SAVED = "saved"
    #: Saved, and the text is the first on its follow-up that staff have not seen.
    FIRST_UNSEEN = "first_unseen"


class OptChange(StrEnum):
    OUT = "out"
    IN = "in"
    NONE = ""


class ConversationStore:
    """Reads and writes conversations atomically; the only code that knows their keys."""

    def __init__(self, client: redis.Redis, idle_seconds: int, retention_seconds: int) -> None:
        self._r = client
        self.idle_seconds = idle_seconds
        self.retention_seconds = retention_seconds
        self._begin = client.register_script(_BEGIN)
        self._commit = client.register_script(_COMMIT)
        self._abort = client.register_script(_ABORT)

    def begin(self, phone: str, message_sid: str, token: str) -> Claim:
        """Claim a MessageSid and the phone's lock; return the state to apply it to."""
        result = cast(
            list[Any],
            self._begin(
                keys=[
                    keys.inbound(message_sid),
                    keys.lock(phone),
                    keys.conversation(phone),
                    keys.opt_out(phone),
                ],
                args=[token, LOCK_MS, INBOUND_TTL_SECONDS],
            ),
        )
        status = ClaimStatus(result[0])
        if status is ClaimStatus.DONE:
            return Claim(status, replies=tuple(json.loads(result[1])["replies"]))
        if status is ClaimStatus.BUSY:
            return Claim(status)
        state = State.from_json(json.loads(result[1])) if result[1] else None
        return Claim(status, state=state, opted_out=bool(int(result[2])))

    def commit(
        self,
        token: str,
        message_sid: str,
        state: State,
        replies: tuple[str, ...],
        opt_change: OptChange,
        now: float,
        screening: Screening | None = None,
        inbound_body: str = "",
        for_followup: bool = False,
        inbound_media: Sequence[Mapping[str, str]] = (),
    ) -> Commit:
        """Save the new state, the reply, the thread and any opt-out change, in one step.

        A text `for_followup` (sent after the result) also goes into the inbox of the
        follow-up of the screening it came after, and reopens that follow-up if it was closed.
        Write nothing, and return LOST, if the lock was lost meanwhile.
        """
        phone, conversation_id = state.phone, state.conversation_id
        # A text's photos and files are kept as the provider described them (type and URL,
        # never fetched), with the MessageSid staff need to open them in the provider's console.
        media = (
            {"media": list(inbound_media[:MAX_MEDIA]), "sid": message_sid} if inbound_media else {}
        )
        lines = [thread_line(now, "in", inbound_body, conversation_id, for_followup, **media)]
        lines += [thread_line(now, "out", text, conversation_id) for text in replies]
        # A finished screening's conversation stays while its answers do: the family's later
        # texts belong to its follow-up, not to a new screening.
        finished = state.status is Status.COMPLETED
        reopened = json.dumps(
            {
                "at": now,
                "actor": PARENT_ACTOR,
                "action": "reopen",
                "text": "texted after the follow-up was closed",
            }
        )
        result = self._commit(
            keys=[
                keys.lock(phone),
                keys.conversation(phone),
                keys.inbound(message_sid),
                keys.opt_out(phone),
                keys.screening(conversation_id),
                keys.PENDING_EVALUATIONS,
                keys.thread(phone),
                keys.followup(conversation_id),
                keys.followup_inbox(conversation_id),
                keys.followup_audit(conversation_id),
                keys.followups_of(phone),
            ],
            args=[
                token,
                json.dumps(state.to_json(), separators=(",", ":")),
                self.retention_seconds if finished else self.idle_seconds,
                json.dumps({"replies": list(replies)}),
                INBOUND_TTL_SECONDS,
                opt_change.value,
                repr(now),
                json.dumps(screening.to_json(), separators=(",", ":")) if screening else "",
                self.retention_seconds,
                conversation_id,
                message_sid if for_followup else "",
                reopened,
                *lines,
            ],
        )
        return (Commit.LOST, Commit.SAVED, Commit.FIRST_UNSEEN)[int(cast(int, result))]

    def abort(self, phone: str, message_sid: str, token: str) -> None:
        """Release the lock and the MessageSid claim of a text that could not be applied."""
        self._abort(keys=[keys.lock(phone), keys.inbound(message_sid)], args=[token])

    def load(self, phone: str) -> State | None:
        """Return a phone's conversation state, or None."""
        raw = self._r.get(keys.conversation(phone))
        return State.from_json(json.loads(cast(str, raw))) if raw else None

    def is_opted_out(self, phone: str) -> bool:
        """Tell whether a phone has opted out of every text."""
        return bool(self._r.exists(keys.opt_out(phone)))

    def record_opt_out(self, phone: str, now: float) -> None:
        """Mark a phone opted out (the carrier told us so): no text of any kind until START."""
        self._r.set(keys.opt_out(phone), repr(now))

    def screening(self, conversation_id: str) -> Screening | None:
        """Return a completed screening, or None."""
        raw = cast(str | None, self._r.get(keys.screening(conversation_id)))
        return Screening.from_json(json.loads(raw)) if raw else None

    def thread(self, phone: str) -> list[dict[str, Any]]:
        """Return every text in and out with a phone, oldest first.

        Each is {at, dir ("in"/"out"), conv, and body, or message_id for a text sent through
        the provider (its record holds the body and delivery status)}.
        """
        raw = cast(list[str], self._r.lrange(keys.thread(phone), 0, -1))
        return [cast(dict[str, Any], json.loads(line)) for line in raw]

    def pending_evaluations(self, completed_by: float | None = None) -> list[str]:
        """Return unevaluated screenings, oldest first (those completed by a time if given)."""
        latest = "+inf" if completed_by is None else completed_by
        return cast(list[str], self._r.zrangebyscore(keys.PENDING_EVALUATIONS, "-inf", latest))

    def mark_evaluated(self, conversation_id: str) -> None:
        """Take a screening off the pending set (evaluated, or gone)."""
        self._r.zrem(keys.PENDING_EVALUATIONS, conversation_id)

    def suggestion(self, conversation_id: str) -> Suggestion | None:
        """Return a screening's evaluated Suggestion, or None."""
        saved = cast(str | None, self._r.get(keys.suggestion(conversation_id)))
        return Suggestion.from_json(json.loads(saved)) if saved else None

    def keep_suggestion(self, conversation_id: str, suggestion: Suggestion) -> Suggestion:
        """Save a screening's first Suggestion; return the one kept (an earlier run's wins)."""
        key = keys.suggestion(conversation_id)
        self._r.set(key, json.dumps(suggestion.to_json()), nx=True, ex=self.retention_seconds)
        return Suggestion.from_json(json.loads(cast(str, self._r.get(key))))

    def purge_phone(self, phone: str, conversation_ids: Iterable[str] = ()) -> int:
        """Delete a phone's conversation, thread and these screenings of it; never its opt-out.

        The opt-out stays: it is the record that we must not text this number.
        """
        state = self.load(phone)
        ids = [*conversation_ids, *([state.conversation_id] if state is not None else [])]
        doomed = [keys.conversation(phone), keys.lock(phone), keys.thread(phone)]
        return int(self._r.delete(*doomed)) + self.purge_screenings(ids)

    def purge_screenings(self, conversation_ids: Iterable[str]) -> int:
        """Delete these screenings' answers and Suggestions, and take them off the pending set."""
        doomed = []
        for conversation_id in dict.fromkeys(conversation_ids):
            doomed += [keys.screening(conversation_id), keys.suggestion(conversation_id)]
            self.mark_evaluated(conversation_id)
        return int(self._r.delete(*doomed)) if doomed else 0
