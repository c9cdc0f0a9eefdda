"""Conversation state, opt-outs, MessageSid claims, completed screenings and their evaluation.

One inbound text costs two round trips: `begin` claims the MessageSid, takes the phone's
lock and reads the state in one script; `commit` writes everything and releases the lock in
another, and refuses to write if the lock was lost meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import redis

from . import keys
from .engine.model import State
from .evaluator import Suggestion
from .screening import Screening

#: How long a claimed MessageSid (and the reply it got) is remembered.
INBOUND_TTL_SECONDS = 72 * 3600
#: How long one text may hold its phone's lock.
LOCK_MS = 5000

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

_COMMIT = """
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
for i = 11, #ARGV do
  redis.call('RPUSH', KEYS[7], ARGV[i])
end
redis.call('LTRIM', KEYS[7], -500, -1)
redis.call('EXPIRE', KEYS[7], ARGV[9])
redis.call('DEL', KEYS[1])
return 1
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


#: Longest text kept in a transcript (a parent's 1,600 characters fit).
MAX_TRANSCRIPT_BODY = 2000


def transcript_line(at: float, direction: str, body: str) -> str:
    """Return one transcript entry as JSON."""
    return json.dumps({"at": at, "dir": direction, "body": body[:MAX_TRANSCRIPT_BODY]})


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
    ) -> bool:
        """Save the new state, the reply, the transcript and any opt-out change.

        Return False, having written nothing, if the lock was lost meanwhile.
        """
        phone = state.phone
        lines = [transcript_line(now, "in", inbound_body)]
        lines += [transcript_line(now, "out", text) for text in replies]
        return bool(
            self._commit(
                keys=[
                    keys.lock(phone),
                    keys.conversation(phone),
                    keys.inbound(message_sid),
                    keys.opt_out(phone),
                    keys.screening(state.conversation_id),
                    keys.PENDING_EVALUATIONS,
                    keys.transcript(state.conversation_id),
                ],
                args=[
                    token,
                    json.dumps(state.to_json(), separators=(",", ":")),
                    self.idle_seconds,
                    json.dumps({"replies": list(replies)}),
                    INBOUND_TTL_SECONDS,
                    opt_change.value,
                    repr(now),
                    json.dumps(screening.to_json(), separators=(",", ":")) if screening else "",
                    self.retention_seconds,
                    state.conversation_id,
                    *lines,
                ],
            )
        )

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

    def transcript(self, conversation_id: str) -> list[dict[str, Any]]:
        """Return a conversation's texts, oldest first: {at, dir ("in"/"out"), body}."""
        raw = cast(list[str], self._r.lrange(keys.transcript(conversation_id), 0, -1))
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
        """Delete a phone's conversation and these screenings of it; never its opt-out.

        The opt-out stays: it is the record that we must not text this number.
        """
        state = self.load(phone)
        ids = [*conversation_ids, *([state.conversation_id] if state is not None else [])]
        doomed = [keys.conversation(phone), keys.lock(phone)]
        for conversation_id in dict.fromkeys(ids):
            doomed += [
                keys.screening(conversation_id),
                keys.transcript(conversation_id),
                keys.suggestion(conversation_id),
            ]
            self.mark_evaluated(conversation_id)
        return int(self._r.delete(*doomed))
