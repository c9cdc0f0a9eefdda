"""The delivery statuses of the texts we send, and the order they move in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import DeliveryError, describe


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
#: Statuses with no news yet of the text's way to the phone: recorded, or taken by the provider
#: and waiting. The provider's answer to a send says queued (accepted with a messaging
#: service); every later status comes in a status callback.
NO_NEWS = frozenset(
    {
        DeliveryStatus.CREATED,
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.SCHEDULED,
        DeliveryStatus.QUEUED,
    }
)
#: The text did not reach the phone, and never will.
NOT_ARRIVED = NOT_DELIVERED | NEVER_SENT | {DeliveryStatus.CANCELED}

# What a text that did not arrive without an error code means, by its status.
_UNCODED = {
    DeliveryStatus.FAILED: "The text did not arrive, and the carrier gave no reason.",
    DeliveryStatus.UNDELIVERED: "The text did not arrive, and the carrier gave no reason.",
    DeliveryStatus.SUPPRESSED: "Not sent: the phone opted out of texts (STOP), or the family "
    "said no contact.",
    DeliveryStatus.BLOCKED: "Not sent: the carrier says this number opted out.",
    DeliveryStatus.REJECTED: "Twilio refused the text.",
    DeliveryStatus.CANCELED: "The text was canceled before it went out.",
}

_UNCODED_SHORT = {
    DeliveryStatus.FAILED: "no reason given",
    DeliveryStatus.UNDELIVERED: "no reason given",
    DeliveryStatus.SUPPRESSED: "not sent, opted out or no contact",
    DeliveryStatus.BLOCKED: "opted out (STOP)",
    DeliveryStatus.REJECTED: "refused by Twilio",
    DeliveryStatus.CANCELED: "canceled",
}


@dataclass(frozen=True)
class Delivery:
    """What became of one text we sent: its status and error code, and what they mean."""

    status: DeliveryStatus
    error_code: str = ""

    @property
    def error(self) -> DeliveryError | None:
        """Return the error code's entry in the table, or None without a code."""
        return describe(self.error_code)

    @property
    def failed(self) -> bool:
        """Tell whether the text did not reach the phone, for good."""
        return self.status in NOT_ARRIVED

    @property
    def meaning(self) -> str:
        """Return what went wrong in plain English ("" for a text that has not failed)."""
        if not self.failed:
            return ""
        error = self.error
        return error.meaning if error is not None else _UNCODED.get(self.status, "")

    @property
    def action(self) -> str:
        """Return what staff should do about a text that did not arrive ("" if nothing)."""
        error = self.error if self.failed else None
        if error is not None:
            return error.action
        if self.status in NOT_DELIVERED:
            return "Try again later, or call."
        return ""

    @property
    def short(self) -> str:
        """Return a few words on why it did not arrive, for the queue's mark."""
        if not self.failed:
            return ""
        error = self.error
        return error.short if error is not None else _UNCODED_SHORT.get(self.status, "")

    def problem(self, kind: str) -> str:
        """Return the sentence a follow-up shows about its text that did not arrive."""
        how = "not sent" if self.status in NEVER_SENT else self.status.value
        code = f"error {self.error_code}" if self.error_code else "no error code"
        return f"The {kind} text was {how} ({code}): {self.meaning} {self.action}".strip()

    def to_json(self) -> dict[str, Any]:
        """Return {status, error_code, meaning}: null code and meaning when nothing failed."""
        return {
            "status": self.status.value,
            "error_code": self.error_code or None,
            "meaning": self.meaning or None,
        }


def delivery_of(status: str, error_code: str = "") -> Delivery | None:
    """Return what became of a text with this stored status; None while there is no news."""
    try:
        known = DeliveryStatus(status)
    except ValueError:
        return None
    if known in NO_NEWS:
        return None
    return Delivery(known, error_code)
