"""The send state machine: one recorded text goes to the provider at most once.

A send claims its text, checks the phone has not opted out, waits its turn under OUTBOUND_MPS,
and after an attempt that may have reached the provider looks for it before sending again.
Each attempt ends one way: sent (recorded with its provider sid), stopped for good (suppressed,
blocked or rejected, with a problem on the follow-up for staff), or raised for a retry.
"""

from __future__ import annotations

import logging
import time
import uuid

from ..logs import mask_phone
from ..services import Services
from .delivery import apply_parked
from .sender import (
    AmbiguousSendError,
    PermanentSendError,
    RecipientOptedOutError,
    RetryableSendError,
)
from .status import NEVER_SENT, DeliveryStatus

log = logging.getLogger(__name__)

#: Quick in-job retries of a retryable failure (429, 5xx) before RQ's longer backoff.
QUICK_RETRY_PAUSES = (1.0, 2.0)
#: Wait in the job for another attempt's claim when it ends within this many seconds.
CLAIM_WAIT_LIMIT_SECONDS = 60.0


def send_once(services: Services, message_id: str) -> str:
    """Send one recorded text once, whatever happens to the workers or the provider.

    Return what happened: sent, done (sent or stopped before), missing (purged or expired), or
    the status of a text stopped for good (suppressed, blocked, rejected). Raise a
    RetryableSendError when a later try may succeed.
    """
    message = services.outbound.get(message_id)
    if message is None:
        log.warning("outbound %s is gone", message_id)
        return "missing"
    if message.provider_sid or message.status in NEVER_SENT:
        return "done"
    # After an attempt that may have got through, look for it first (_attempt): a 21610
    # callback for it can have opted the phone out before its sid was recorded.
    if not message.attempt_started_at and services.store.is_opted_out(message.phone):
        return _suppress(services, message_id, message.followup_id)
    if message.kind == "staff" and _do_not_contact(services, message.followup_id):
        # The parent said no contact (and has not texted since): refused even if queued.
        services.outbound.advance_status(message_id, DeliveryStatus.SUPPRESSED, time.time())
        return "suppressed"
    token = uuid.uuid4().hex
    if not services.outbound.claim_send(message_id, token):
        # Another attempt holds it, or a killed worker did: its claim runs out soon.
        wait = services.outbound.claim_wait(message_id)
        if wait > CLAIM_WAIT_LIMIT_SECONDS:
            raise RetryableSendError("another attempt at this text is under way")
        time.sleep(wait + 0.05)
        if not services.outbound.claim_send(message_id, token):
            raise RetryableSendError("another attempt at this text is under way")
    try:
        for pause in (*QUICK_RETRY_PAUSES, None):
            try:
                return _attempt(services, message_id)
            except AmbiguousSendError:
                raise
            except RetryableSendError:
                if pause is None:
                    raise
                # A 429 or a blip: try again shortly before handing it to RQ's backoff.
                time.sleep(pause)
        raise AssertionError("unreachable")
    finally:
        services.outbound.release_send(message_id, token)


def _do_not_contact(services: Services, followup_id: str) -> bool:
    """Tell whether the family said staff may not text them, and has not texted us since."""
    followup = services.followups.get(followup_id)
    return followup is not None and followup.do_not_contact and not followup.answers_parent


def _attempt(services: Services, message_id: str) -> str:
    """Make one attempt: find an earlier one that got through, or send; record the outcome."""
    message = services.outbound.get(message_id)
    assert message is not None
    if message.provider_sid:
        return "done"
    if message.attempt_started_at:
        # An earlier attempt may have reached the provider: look before sending again.
        found = services.sender.find_sent(message.phone, message.body, message.attempt_started_at)
        if found is not None:
            _record_sent(services, message_id, found.provider_sid, found.status)
            log.info("outbound %s was sent by an earlier attempt", message_id)
            return "sent"
    # Wait for this text's turn under OUTBOUND_MPS; STOP may arrive meanwhile.
    time.sleep(services.rate_limiter.reserve())
    if services.store.is_opted_out(message.phone):
        return _suppress(services, message_id, message.followup_id)
    services.outbound.begin_attempt(message_id, time.time())
    try:
        sent = services.sender.send(message.phone, message.body)
    except RecipientOptedOutError as exc:
        services.store.record_opt_out(message.phone, time.time())
        services.outbound.advance_status(
            message_id, DeliveryStatus.BLOCKED, time.time(), str(exc.code)
        )
        _add_problem(services, message_id)
        log.warning("outbound %s to %s: opted out (21610)", message_id, mask_phone(message.phone))
        return "blocked"
    except PermanentSendError as exc:
        services.outbound.clear_attempt(message_id)
        services.outbound.advance_status(
            message_id, DeliveryStatus.REJECTED, time.time(), str(exc.code or "")
        )
        _add_problem(services, message_id)
        log.error("outbound %s refused for good: %s", message_id, exc)
        return "rejected"
    except AmbiguousSendError:
        log.warning("outbound %s: no answer from the provider; will check, then retry", message_id)
        raise
    except RetryableSendError:
        services.outbound.clear_attempt(message_id)
        log.warning("outbound %s: provider busy or unreachable; will retry", message_id)
        raise
    _record_sent(services, message_id, sent.provider_sid, sent.status)
    log.info("outbound %s taken by the provider as %s", message_id, sent.provider_sid)
    return "sent"


def _add_problem(services: Services, message_id: str) -> None:
    """Tell staff on the follow-up why a text was not sent, and what to do."""
    message = services.outbound.get(message_id)
    delivery = message.delivery if message is not None else None
    if message is not None and delivery is not None:
        services.followups.add_problem(
            message.followup_id, delivery.problem(message.kind), time.time()
        )


def _record_sent(services: Services, message_id: str, provider_sid: str, status: str) -> None:
    """Record that the provider took the text, with the callbacks that came before."""
    services.outbound.record_sent(message_id, provider_sid, status, time.time())
    # A status callback may have come first (a timed-out send): apply it now.
    apply_parked(services, provider_sid, time.time())


def _suppress(services: Services, message_id: str, followup_id: str) -> str:
    """Stop a text for good because the phone opted out, and tell staff."""
    services.outbound.advance_status(message_id, DeliveryStatus.SUPPRESSED, time.time())
    services.followups.add_problem(
        followup_id, "not sent: the parent opted out (STOP)", time.time()
    )
    log.info("outbound %s suppressed: the phone opted out", message_id)
    return "suppressed"
