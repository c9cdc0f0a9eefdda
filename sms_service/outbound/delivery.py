"""Delivery status callbacks: applied once, never backwards, and never lost to a race.

A callback can beat the worker that records the provider's sid (the send timed out, the retry
has not found it yet): such a callback is parked under its sid and applied when the sid is
recorded.
"""

from __future__ import annotations

import logging

from ..logs import mask_phone
from ..services import Services
from .errors import describe
from .status import NOT_DELIVERED

log = logging.getLogger(__name__)


def apply_status(
    services: Services,
    provider_sid: str,
    status: str,
    error_code: str,
    now: float,
    to: str = "",
) -> str:
    """Apply one status callback; return what happened (applied, duplicate, parked...).

    to is the phone the callback says the text went to ("" when it is no phone of a parent's).
    """
    if not services.outbound.mark_status_seen(provider_sid, status, error_code):
        return "duplicate"
    message_id = services.outbound.by_provider_sid(provider_sid)
    error = describe(error_code)
    if message_id is None:
        if error is not None and error.opts_out and to:
            # Perhaps no text of ours (sent from the console, or purged since): the carrier's
            # word that this phone opted out holds all the same.
            services.store.record_opt_out(to, now)
            log.warning("status for unknown %s: %s opted out (21610)", provider_sid, mask_phone(to))
        # Perhaps ours, sid not recorded yet: keep it for when it is.
        services.outbound.park_status(provider_sid, status, error_code)
        if services.outbound.by_provider_sid(provider_sid) is not None:
            apply_parked(services, provider_sid, now)  # recorded meanwhile: apply it now
        return "parked"
    return _apply(services, message_id, status, error_code, now)


def _apply(services: Services, message_id: str, status: str, error_code: str, now: float) -> str:
    """Apply a callback (seen for the first time) to the text it is about."""
    moved = services.outbound.advance_status(message_id, status, now, error_code)
    message = services.outbound.get(message_id)
    if message is None:
        return "gone"
    error = describe(error_code)
    if error is not None and error.opts_out:
        services.store.record_opt_out(message.phone, now)
        log.warning("message %s: %s opted out (21610)", message_id, mask_phone(message.phone))
    delivery = message.delivery
    if moved and status in NOT_DELIVERED and delivery is not None:
        # What it means and what to do, from the one table of error codes.
        services.followups.add_problem(message.followup_id, delivery.problem(message.kind), now)
    return "applied" if moved else "stale"


def apply_parked(services: Services, provider_sid: str, now: float) -> int:
    """Apply the callbacks that arrived before this sid was recorded."""
    parked = services.outbound.take_parked(provider_sid)
    message_id = services.outbound.by_provider_sid(provider_sid)
    if message_id is not None:
        for status, error_code in parked:
            _apply(services, message_id, status, error_code, now)
    return len(parked)
