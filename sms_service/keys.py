"""Every Redis key name the service uses, under one prefix."""

from __future__ import annotations

PREFIX = "smss:"


def conversation(phone: str) -> str:
    """Return the key of one phone's current conversation state (JSON)."""
    return f"{PREFIX}conv:{phone}"


def lock(phone: str) -> str:
    """Return the key of the lock that serialises one phone's texts."""
    return f"{PREFIX}lock:{phone}"


def opt_out(phone: str) -> str:
    """Return the key that marks a phone as opted out (no expiry)."""
    return f"{PREFIX}optout:{phone}"


def inbound(message_sid: str) -> str:
    """Return the key that claims one inbound MessageSid and keeps its reply."""
    return f"{PREFIX}inbound:{message_sid}"


def screening(conversation_id: str) -> str:
    """Return the key of a completed screening's answers, waiting for evaluation."""
    return f"{PREFIX}screening:{conversation_id}"


#: Completed screenings not yet evaluated: conversation id -> completion time.
PENDING_EVALUATIONS = f"{PREFIX}pending-evaluations"
