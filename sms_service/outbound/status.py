"""The delivery statuses of the texts we send, and the order they move in."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """Where a text we send stands; the values are stored in Redis and shown to staff."""

    #: Recorded, not yet taken by the provider.
    CREATED = "created"
    # The provider's, as its answers and status callbacks spell them.
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    PARTIALLY_DELIVERED = "partially_delivered"
    CANCELED = "canceled"
    READ = "read"
    # Ours: the text never went to the provider, for good.
    #: The parent opted out (STOP), or a staff text to a family that said no contact.
    SUPPRESSED = "suppressed"
    #: The carrier says the number opted out (21610).
    BLOCKED = "blocked"
    #: The provider refused the text for good (another 4xx).
    REJECTED = "rejected"

    @property
    def rank(self) -> int:
        """Return this status's place in the order; a text only moves to a higher rank."""
        return _RANK[self]


# The order statuses happen in; a callback never moves a text backwards, nor sideways
# between two final statuses (a late "sent" never overwrites "delivered").
_RANK = {
    DeliveryStatus.CREATED: 0,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SCHEDULED: 1,
    DeliveryStatus.QUEUED: 2,
    DeliveryStatus.SENDING: 3,
    DeliveryStatus.SENT: 4,
    DeliveryStatus.DELIVERED: 5,
    DeliveryStatus.UNDELIVERED: 5,
    DeliveryStatus.FAILED: 5,
    DeliveryStatus.PARTIALLY_DELIVERED: 5,
    DeliveryStatus.CANCELED: 5,
    DeliveryStatus.READ: 6,
    DeliveryStatus.SUPPRESSED: 9,
    DeliveryStatus.BLOCKED: 9,
    DeliveryStatus.REJECTED: 9,
}

#: Final statuses of a text that never went to the provider: no attempt sends it.
NEVER_SENT = frozenset({DeliveryStatus.SUPPRESSED, DeliveryStatus.BLOCKED, DeliveryStatus.REJECTED})
#: The provider's word that a text did not arrive: staff must hear of it.
NOT_DELIVERED = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})
