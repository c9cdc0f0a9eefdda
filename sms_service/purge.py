"""Deleting one family's data, or closed follow-ups past retention: each store deletes its own
keys; the opt-out is kept."""

from __future__ import annotations

from collections.abc import Sequence

from .followups import Followup, result_message_id
from .outbound.sender import purge_outbox
from .services import Services


def purge_family(services: Services, phone: str) -> dict[str, int]:
    """Delete a phone's conversation, screenings, follow-ups and texts; return keys deleted.

    The opt-out stays: it is the record that we must not text this number.
    """
    followups = services.followups.of_phone(phone)
    return {
        "conversations": services.store.purge_phone(
            phone, [followup.conversation_id for followup in followups]
        ),
        **purge_followups(services, followups),
        "dev outbox texts": purge_outbox(services.redis, phone),
    }


def purge_closed_followups(services: Services, now: float) -> dict[str, int]:
    """Delete follow-ups closed longer than FOLLOWUP_RETENTION_DAYS ago; return counts.

    With each go its notes, audit trail, inbox, visits, texts and its place in the queue and
    in its phone's index. The phone's thread is not touched: it expires on its own
    (SCREENING_RETENTION_DAYS after the phone's last text) and may belong to a newer screening.
    """
    cutoff = now - services.settings.followup_retention_seconds
    ids = services.followups.closed_before(cutoff)
    followups = [f for f in (services.followups.get(i) for i in ids) if f is not None]
    return {
        "expired follow-ups": len(followups),
        "screenings": services.store.purge_screenings(f.conversation_id for f in followups),
        **purge_followups(services, followups),
    }


def purge_followups(services: Services, followups: Sequence[Followup]) -> dict[str, int]:
    """Delete these follow-ups, their work and their texts' records; return keys deleted."""
    # Read what links the stores before any of them deletes it.
    followup_ids = [followup.id for followup in followups]
    message_ids = [
        message_id
        for followup in followups
        for message_id in (
            result_message_id(followup.conversation_id),
            *services.followup_work.texts(followup.id),
        )
    ]
    return {
        "follow-ups": services.followups.purge(followup_ids),
        "follow-up work": services.followup_work.purge(followup_ids),
        "texts": services.outbound.purge(message_ids),
    }
