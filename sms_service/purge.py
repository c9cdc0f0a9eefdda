"""Deleting one family's data: each store deletes its own keys; the opt-out is kept."""

from __future__ import annotations

from .followups import result_message_id
from .services import Services


def purge_family(services: Services, phone: str) -> dict[str, int]:
    """Delete a phone's conversation, screenings, follow-ups and texts; return keys deleted.

    The opt-out stays: it is the record that we must not text this number.
    """
    # Read what links the stores before any of them deletes it.
    followups = services.followups.of_phone(phone)
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
        "conversations": services.store.purge_phone(
            phone, [followup.conversation_id for followup in followups]
        ),
        "follow-ups": services.followups.purge(followup_ids),
        "follow-up work": services.followup_work.purge(followup_ids),
        "texts": services.outbound.purge(message_ids),
    }
