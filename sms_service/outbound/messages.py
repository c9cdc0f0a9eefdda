"""Texts we send: one record each, so a send is claimed once and its delivery tracked.

Also the provider's status callbacks for them: which were seen (to drop repeats), and those
parked because they came before their text's provider sid was recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from redis import Redis

from .. import keys
from ..store import THREAD_LIMIT
from .errors import NOTICE_MAX_AGE_SECONDS, NOTICE_WINDOW
from .status import Delivery, DeliveryStatus, delivery_of

# A text's status reaches this rank when the carrier's final word on it comes (or it is
# stopped for good before it went out).
_FINAL_RANK = DeliveryStatus.DELIVERED.rank
#: The carrier's word that a text reached the phone.
_ARRIVED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.READ})

#: How long a status callback is remembered, to drop the provider's repeats of it.
SEEN_TTL_SECONDS = 7 * 86400
#: How long a callback waits for its text's provider sid to be recorded.
PARKED_TTL_SECONDS = 24 * 3600

# The text joins its phone's thread (the family's one conversation) when first recorded.
_CREATE = f"""
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -{THREAD_LIMIT}, -1)
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Move a text's status forward only: a late "sent" never overwrites "delivered". A text's first
# final outcome (its error code, or its status) joins the office's latest send outcomes, once:
# a suppressed text was never sent, so it is no send outcome.
_ADVANCE = f"""
local current = tonumber(redis.call('HGET', KEYS[1], 'status_rank') or '-1')
local rank = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 or rank <= current then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_rank', ARGV[2], 'updated_at', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'error_code', ARGV[4])
end
if current < {_FINAL_RANK} and rank >= {_FINAL_RANK}
    and ARGV[1] ~= '{DeliveryStatus.SUPPRESSED}' then
  local outcome = ARGV[4]
  if outcome == '' then
    outcome = ARGV[1]
  end
  redis.call('LPUSH', KEYS[2], ARGV[3] .. ' ' .. outcome)
  redis.call('LTRIM', KEYS[2], 0, {NOTICE_WINDOW - 1})
  redis.call('EXPIRE', KEYS[2], {NOTICE_MAX_AGE_SECONDS})
end
return 1
"""


@dataclass(frozen=True)
class OutboundMessage:
    id: str
    phone: str
    body: str
    kind: str
    followup_id: str
    status: DeliveryStatus
    provider_sid: str
    #: When an attempt began that may have reached the provider (0: none pending).
    attempt_started_at: float
    error_code: str
    created_at: float = 0.0
    #: Who sent it: the staff member's email for a staff text.
    sender: str = ""

    @property
    def delivery(self) -> Delivery | None:
        """Return what became of the text; None while there is no news of it."""
        return delivery_of(self.status, self.error_code)


class OutboundStore:
    """Records of outbound texts and their delivery status."""

    def __init__(self, client: Redis, retention_seconds: int, claim_seconds: float) -> None:
        self._r = client
        self._retention = retention_seconds
        # A send attempt holds its claim longer than the provider may take to answer it (and
        # the look-up of an earlier attempt), and no longer: a dead worker's claim soon ends.
        self._claim_ms = round(claim_seconds * 1000)
        self._create = client.register_script(_CREATE)
        self._advance = client.register_script(_ADVANCE)
        self._release = client.register_script(_RELEASE)

    def create(
        self,
        message_id: str,
        phone: str,
        body: str,
        kind: str,
        followup_id: str,
        now: float,
        sender: str = "",
    ) -> bool:
        """Record a text to send, once; False if it exists already."""
        fields = {
            "id": message_id,
            "phone": phone,
            "body": body,
            "kind": kind,
            "followup_id": followup_id,
            "status": DeliveryStatus.CREATED,
            "status_rank": str(DeliveryStatus.CREATED.rank),
            "provider_sid": "",
            "attempt_started_at": "0",
            "error_code": "",
            "created_at": repr(now),
            "updated_at": repr(now),
            "sender": sender,
        }
        flat = [item for pair in fields.items() for item in pair]
        line = json.dumps({"at": now, "dir": "out", "message_id": message_id, "conv": followup_id})
        return bool(
            self._create(
                keys=[keys.outbound(message_id), keys.thread(phone)],
                args=[self._retention, line, *flat],
            )
        )

    def get(self, message_id: str) -> OutboundMessage | None:
        """Return one outbound text, or None."""
        data = cast(dict[str, str], self._r.hgetall(keys.outbound(message_id)))
        if not data:
            return None
        return OutboundMessage(
            id=data["id"],
            phone=data["phone"],
            body=data["body"],
            kind=data["kind"],
            followup_id=data["followup_id"],
            status=DeliveryStatus(data["status"]),
            provider_sid=data.get("provider_sid", ""),
            attempt_started_at=float(data.get("attempt_started_at", "0")),
            error_code=data.get("error_code", ""),
            created_at=float(data.get("created_at", "0")),
            sender=data.get("sender", ""),
        )

    def claim_send(self, message_id: str, token: str) -> bool:
        """Take the right to attempt this send now (SET NX); False if another attempt has it."""
        return bool(self._r.set(keys.send_claim(message_id), token, nx=True, px=self._claim_ms))

    def claim_wait(self, message_id: str) -> float:
        """Return the seconds until another attempt's claim on this text runs out."""
        return max(0, int(self._r.pttl(keys.send_claim(message_id)))) / 1000

    def release_send(self, message_id: str, token: str) -> None:
        """Give the send claim back, if it is still ours."""
        self._release(keys=[keys.send_claim(message_id)], args=[token])

    def begin_attempt(self, message_id: str, now: float) -> None:
        """Mark that a request to the provider is about to leave (it may get through)."""
        self._r.hset(keys.outbound(message_id), "attempt_started_at", repr(now))

    def clear_attempt(self, message_id: str) -> None:
        """Forget an attempt that certainly did not reach the provider."""
        self._r.hset(keys.outbound(message_id), "attempt_started_at", "0")

    def record_sent(self, message_id: str, provider_sid: str, status: str, now: float) -> None:
        """Record the provider's id for a text it took, and index it for status callbacks."""
        pipe = self._r.pipeline()
        pipe.hset(
            keys.outbound(message_id),
            mapping={"provider_sid": provider_sid, "attempt_started_at": "0"},
        )
        pipe.set(keys.outbound_by_provider_sid(provider_sid), message_id, ex=self._retention)
        pipe.execute()
        self.advance_status(message_id, status, now)

    def advance_status(
        self, message_id: str, status: str, now: float, error_code: str = ""
    ) -> bool:
        """Move a text's status forward; False when it would go backwards (or is unknown)."""
        try:
            known = DeliveryStatus(status)
        except ValueError:
            return False
        return bool(
            self._advance(
                keys=[keys.outbound(message_id), keys.SEND_OUTCOMES],
                args=[known, known.rank, repr(now), error_code],
            )
        )

    def recent_outcomes(self, now: float) -> list[str]:
        """Return the office's latest send outcomes, newest first (error codes or statuses).

        At most NOTICE_WINDOW, none older than NOTICE_MAX_AGE_SECONDS.
        """
        raw = cast(list[str], self._r.lrange(keys.SEND_OUTCOMES, 0, NOTICE_WINDOW - 1))
        since = now - NOTICE_MAX_AGE_SECONDS
        outcomes = []
        for entry in raw:
            at, _, outcome = entry.partition(" ")
            if float(at) >= since:
                outcomes.append(outcome)
        return outcomes

    def unreachable(self, phone: str) -> Delivery | None:
        """Return the failed delivery that says this number cannot take texts, or None.

        The phone's newest decisive text decides. A text from the parent, or one of ours that
        arrived, says the number works; one of ours that came back with a code that refuses
        texts (30005, 30006, 21211, 21614) says it does not. Other outcomes decide nothing.
        """
        lines = cast(list[str], self._r.lrange(keys.thread(phone), 0, -1))
        # Ours since the parent's last text, newest first: that text says the number works.
        ours: list[str] = []
        for raw in reversed(lines):
            line = json.loads(raw)
            if line.get("dir") == "in":
                break
            if "message_id" in line:
                ours.append(str(line["message_id"]))
        for delivery in self.deliveries(ours):
            if delivery is None:
                continue
            if delivery.status in _ARRIVED:
                return None
            error = delivery.error
            if delivery.failed and error is not None and error.refuses_texts:
                return delivery
        return None

    def deliveries(self, message_ids: Iterable[str]) -> list[Delivery | None]:
        """Return what became of each of these texts (None: no news, or no such text)."""
        return read_deliveries(self._r, message_ids)

    def by_provider_sid(self, provider_sid: str) -> str | None:
        """Return our id of the text the provider knows by this sid."""
        return cast(str | None, self._r.get(keys.outbound_by_provider_sid(provider_sid)))

    def purge(self, message_ids: Iterable[str]) -> int:
        """Delete these texts' records and their provider sids' index entries."""
        doomed: list[str] = []
        for message_id in message_ids:
            doomed.append(keys.outbound(message_id))
            sid = cast(str | None, self._r.hget(keys.outbound(message_id), "provider_sid"))
            if sid:
                doomed.append(keys.outbound_by_provider_sid(sid))
        return int(self._r.delete(*doomed)) if doomed else 0

    def mark_status_seen(self, provider_sid: str, status: str, error_code: str) -> bool:
        """Remember a status callback; False if it was seen before (a repeat)."""
        seen = keys.status_seen(provider_sid, status)
        return bool(self._r.set(seen, error_code or "-", nx=True, ex=SEEN_TTL_SECONDS))

    def park_status(self, provider_sid: str, status: str, error_code: str) -> None:
        """Keep a callback until its sid is recorded (it stays seen: a repeat is not parked)."""
        parked = keys.status_parked(provider_sid)
        pipe = self._r.pipeline()
        pipe.rpush(parked, json.dumps({"status": status, "error_code": error_code}))
        pipe.expire(parked, PARKED_TTL_SECONDS)
        pipe.execute()

    def take_parked(self, provider_sid: str) -> list[tuple[str, str]]:
        """Remove and return the (status, error code) callbacks parked under a sid, in order."""
        parked = keys.status_parked(provider_sid)
        pipe = self._r.pipeline()
        pipe.lrange(parked, 0, -1)
        pipe.delete(parked)
        raw, _ = pipe.execute()
        callbacks = [json.loads(item) for item in cast(list[str], raw)]
        return [(str(c["status"]), str(c["error_code"])) for c in callbacks]


def read_deliveries(client: Redis, message_ids: Iterable[str]) -> list[Delivery | None]:
    """Return what became of each of these texts, in one round trip (None: no news, or gone)."""
    pipe = client.pipeline(transaction=False)
    for message_id in message_ids:
        pipe.hmget(keys.outbound(message_id), "status", "error_code")
    rows = cast(list[list[str | None]], pipe.execute())
    return [delivery_of(status, code or "") if status else None for status, code in rows]
