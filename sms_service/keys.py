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


def suggestion(conversation_id: str) -> str:
    """Return the key of a screening's evaluated Suggestion (JSON)."""
    return f"{PREFIX}suggestion:{conversation_id}"


def followup(followup_id: str) -> str:
    """Return the key of one follow-up record (JSON)."""
    return f"{PREFIX}followup:{followup_id}"


#: The staff queue: follow-up id -> score ordering by priority, then time waiting.
FOLLOWUP_QUEUE = f"{PREFIX}followups"


def outbound(message_id: str) -> str:
    """Return the key of one text we send (a hash: phone, body, status, provider sid...)."""
    return f"{PREFIX}out:{message_id}"


def outbound_by_provider_sid(provider_sid: str) -> str:
    """Return the key that maps a provider's message sid to our message id."""
    return f"{PREFIX}out-sid:{provider_sid}"


def status_seen(provider_sid: str, status: str) -> str:
    """Return the key that dedupes one delivery status callback."""
    return f"{PREFIX}status-seen:{provider_sid}:{status}"


#: The office's latest send outcomes, newest first ("<time> <error code or status>"; no phone,
#: no text): a bounded list that expires when nothing has been sent for a week.
SEND_OUTCOMES = f"{PREFIX}send-outcomes"
#: Reservations of outbound send slots, shared by every worker (OUTBOUND_MPS).
OUTBOUND_RATE = f"{PREFIX}rate:outbound"
#: Dev mode's outbox: texts that would have gone to the provider.
OUTBOX = f"{PREFIX}outbox"


def send_claim(message_id: str) -> str:
    """Return the key one send attempt holds while it talks to the provider."""
    return f"{PREFIX}send-claim:{message_id}"


def status_parked(provider_sid: str) -> str:
    """Return the key of status callbacks that came before their sid was recorded."""
    return f"{PREFIX}status-parked:{provider_sid}"


def thread(phone: str) -> str:
    """Return the key of every text in and out with one phone, in order, across screenings.

    It expires CONVERSATION_IDLE_DAYS after the last text while the phone has no completed
    screening, SCREENING_RETENTION_DAYS after it once one has (then it is the follow-ups').
    """
    return f"{PREFIX}thread:{phone}"


def staff(email: str) -> str:
    """Return the key of one staff account (a hash; the password only as an argon2id hash)."""
    return f"{PREFIX}staff:{email}"


#: Every staff account's email.
STAFF_ALL = f"{PREFIX}staff-all"


def followup_notes(followup_id: str) -> str:
    """Return the key of a follow-up's notes (append-only list)."""
    return f"{PREFIX}followup:{followup_id}:notes"


def followup_audit(followup_id: str) -> str:
    """Return the key of a follow-up's audit trail (append-only list)."""
    return f"{PREFIX}followup:{followup_id}:audit"


def followup_visit(followup_id: str, email: str) -> str:
    """Return the key of a staff member's current visit to a follow-up (when they last looked)."""
    return f"{PREFIX}followup:{followup_id}:visit:{email}"


def followup_inbox(followup_id: str) -> str:
    """Return the key of the parent's texts after the result (MessageSid -> time, sorted)."""
    return f"{PREFIX}followup:{followup_id}:inbox"


def followups_of(phone: str) -> str:
    """Return the key of one phone's follow-ups (id -> creation time, sorted)."""
    return f"{PREFIX}followups-of:{phone}"


def followup_texts(followup_id: str) -> str:
    """Return the key of the ids of texts staff sent from a follow-up."""
    return f"{PREFIX}followup:{followup_id}:texts"


def staff_session(token: str) -> str:
    """Return the key of one open staff session (its email and last use, as JSON)."""
    return f"{PREFIX}staff-session:{token}"


def login_failures(bucket: str) -> str:
    """Return the key of one login-limit bucket's recent failure times (a sorted set)."""
    return f"{PREFIX}login-failures:{bucket}"


def staff_sessions(email: str) -> str:
    """Return the key of the set of an account's session tokens (expires with the newest)."""
    return f"{PREFIX}staff-sessions:{email}"


def alert(event_id: str) -> str:
    """Return the key of one alert event (a hash: kind, follow-up id, times; no phone, no text)."""
    return f"{PREFIX}alert:{event_id}"


def alert_claim(event_id: str) -> str:
    """Return the key one attempt at an alert email holds while it talks to the SMTP server."""
    return f"{PREFIX}alert-claim:{event_id}"


#: Written by every /healthz (with a short expiry): health means Redis takes a write.
HEALTH = f"{PREFIX}health"
