"""Apply one inbound text: dedupe, per-phone lock, load, engine, save, hand off.

This is the one place where the pure engine meets Redis and the job queue.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .engine import (
    Event,
    Flow,
    Keyword,
    State,
    Status,
    advance,
    completed_answers,
    new_state,
)
from .logs import mask_phone
from .screening import Screening
from .store import ClaimStatus, Commit, ConversationStore, OptChange

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Media:
    """A photo or file a text carried: what the provider says of it (never fetched)."""

    content_type: str
    url: str


@dataclass(frozen=True)
class InboundMessage:
    """One text from a parent, as the provider delivered it."""

    message_sid: str
    phone: str
    to: str
    body: str
    media: tuple[Media, ...] = ()
    #: What the provider already made of it (Twilio's OptOutType: STOP, START or HELP).
    opt_out_type: str = ""


#: Twilio's OptOutType values, as the engine's keywords.
_CARRIER_KEYWORDS = {"STOP": Keyword.STOP, "START": Keyword.START, "HELP": Keyword.HELP}


@dataclass(frozen=True)
class Handled:
    """What applying one inbound text gave: the replies to send back."""

    replies: tuple[str, ...]
    #: A retried delivery: nothing was applied, the first reply is given again.
    duplicate: bool = False


class PhoneBusyError(RuntimeError):
    """The phone's other texts held its lock longer than we may wait."""


class ConversationService:
    """Applies inbound texts to conversations, one at a time per phone."""

    def __init__(
        self,
        store: ConversationStore,
        flow: Flow,
        enqueue_evaluation: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        lock_wait_seconds: float = 8.0,
        parent_replied: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store = store
        self.flow = flow
        self._enqueue_evaluation = enqueue_evaluation
        #: Tells the office (follow-up id, MessageSid) when a text after the result is the
        #: first its staff have not seen.
        self._parent_replied = parent_replied
        self._clock = clock
        self._lock_wait = lock_wait_seconds

    def handle(self, message: InboundMessage) -> Handled:
        """Apply a text exactly once and return the replies to send back."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self._lock_wait
        pause = 0.002
        while True:
            claim = self.store.begin(message.phone, message.message_sid, token)
            if claim.status is ClaimStatus.DONE:
                return Handled(claim.replies, duplicate=True)
            if claim.status is ClaimStatus.OK:
                handled = self._apply(message, token, claim.state, claim.opted_out)
                if handled is not None:
                    return handled
                log.warning("lock lost for %s; applying again", mask_phone(message.phone))
            if time.monotonic() > deadline:
                raise PhoneBusyError(f"phone {mask_phone(message.phone)} stayed locked")
            # Jittered backoff so texts racing for one phone do not retry in lockstep.
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.05)

    def _apply(
        self, message: InboundMessage, token: str, state: State | None, opted_out: bool
    ) -> Handled | None:
        now = self._clock()
        # A finished screening's conversation does not go idle: later texts are for its
        # follow-up (it expires with the screening's answers).
        idle = state is not None and now - state.updated_at > self.store.idle_seconds
        if state is None or (idle and state.status is not Status.COMPLETED):
            state = new_state(uuid.uuid4().hex, message.phone, now, self.flow)
        # The opt-out key outlives conversations: it, not the saved state, is the truth.
        state.opted_out = opted_out
        was_completed = state.status is Status.COMPLETED
        try:
            step = advance(
                self.flow,
                state,
                message.body,
                now,
                carrier=_CARRIER_KEYWORDS.get(message.opt_out_type.upper()),
                media=len(message.media),
            )
        except Exception:
            self.store.abort(message.phone, message.message_sid, token)
            raise
        new = step.state
        if Event.RESTARTED in step.events and was_completed:
            # The finished screening keeps its id (its evaluation is under way).
            new.conversation_id = uuid.uuid4().hex
        opt_change = OptChange.NONE
        if Event.OPTED_OUT in step.events:
            opt_change = OptChange.OUT
        elif Event.OPTED_IN in step.events:
            opt_change = OptChange.IN
        completed = Event.COMPLETED in step.events
        for_followup = Event.PARENT_MESSAGE in step.events
        saved = self.store.commit(
            token,
            message.message_sid,
            new,
            step.replies,
            opt_change,
            now,
            screening=self._screening(new, now) if completed else None,
            inbound_body=message.body,
            for_followup=for_followup,
            inbound_media=[{"type": m.content_type, "url": m.url} for m in message.media],
        )
        if saved is Commit.LOST:
            return None
        log.debug(
            "text from %s applied: step=%s events=%s replies=%d",
            mask_phone(message.phone),
            new.current or new.status.value,
            ",".join(e.value for e in step.events),
            len(step.replies),
        )
        if completed:
            self._hand_off(new.conversation_id)
        if saved is Commit.FIRST_UNSEEN and self._parent_replied is not None:
            self._tell_office(new.conversation_id, message.message_sid)
        return Handled(step.replies)

    def _screening(self, state: State, now: float) -> Screening:
        """Return the record of a conversation that has just completed."""
        return Screening(
            conversation_id=state.conversation_id,
            phone=state.phone,
            language=state.language,
            answers=completed_answers(self.flow, state),
            flow_id=self.flow.flow_id,
            flow_version=self.flow.version,
            started_at=state.started_at,
            completed_at=now,
        )

    def _tell_office(self, followup_id: str, message_sid: str) -> None:
        assert self._parent_replied is not None
        try:
            self._parent_replied(followup_id, message_sid)
        except Exception:
            # The text is saved and marked unread in the queue; only the email is lost.
            log.exception("could not tell the office of a reply on %s", followup_id)

    def _hand_off(self, conversation_id: str) -> None:
        try:
            self._enqueue_evaluation(conversation_id)
        except Exception:
            # The screening is saved in the pending set: jobs.sweep_pending_evaluations enqueues it.
            log.exception("could not enqueue evaluation of %s", conversation_id)
