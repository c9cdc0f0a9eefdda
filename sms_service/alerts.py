"""Alert emails: the office is told at once of an urgent follow-up or a parent's reply.

An alert carries no phone number, no answers and no message text, only the priority, what
happened and the follow-up's link: email is not a safe place for a child's data. Each event is
recorded once (kind, follow-up id, times) and sent by an RQ job with retries; a sent-marker on
the record keeps a re-run from sending it twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from enum import StrEnum
from typing import cast

from redis import Redis
from redis.client import Pipeline

from . import keys
from .clock import Clock
from .config import Settings, SmtpServer
from .followups import FollowupStore

log = logging.getLogger(__name__)

#: An event is remembered (and so deduplicated) this long.
EVENT_TTL_SECONDS = 7 * 86400
#: Seconds the SMTP server may take to answer each step.
SMTP_TIMEOUT_SECONDS = 10.0
#: One attempt holds its claim this long at most (connect, TLS, login, send, quit).
CLAIM_SECONDS = int(6 * SMTP_TIMEOUT_SECONDS)

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class AlertKind(StrEnum):
    URGENT_FOLLOWUP = "urgent_followup"
    PARENT_REPLIED = "parent_replied"


class FollowupNotReadyError(RuntimeError):
    """The alert's follow-up does not exist yet (its screening is being evaluated): retry."""


class AlertBusyError(RuntimeError):
    """Another attempt at this alert is talking to the SMTP server: retry."""


class InsecureSmtpError(smtplib.SMTPException):
    """The server offers no TLS, so the SMTP password is not sent."""


@dataclass(frozen=True)
class Mail:
    """Where alert emails go, from whom, and the base of the links they carry."""

    server: SmtpServer
    sender: str
    recipients: tuple[str, ...]
    base_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Mail | None:
        """Return the email settings, or None when alert emails are off."""
        server, recipients = settings.smtp_server, settings.alert_emails
        sender, base_url = settings.alert_sender, settings.public_base_url
        if server is None or not recipients or sender is None or base_url is None:
            return None
        return cls(server, sender, recipients, base_url)


def event_id(kind: AlertKind, followup_id: str, event_key: str) -> str:
    """Return the id of one event: the same event notified twice has the same id."""
    readable = f"{AlertKind(kind).value}-{followup_id}-{event_key}"
    # RQ job ids (which embed it) take letters, digits, _ and - only.
    if _SAFE_ID.fullmatch(readable):
        return readable
    return f"{AlertKind(kind).value}-{hashlib.sha256(readable.encode()).hexdigest()[:40]}"


class Alerts:
    """Alert events in Redis, queued as jobs, sent as emails."""

    def __init__(
        self,
        client: Redis,
        mail: Mail | None,
        followups: FollowupStore,
        enqueue: Callable[[str, Pipeline], None],
        jobs_redis: Redis,
        clock: Clock,
        being_evaluated: Callable[[str], bool],
    ) -> None:
        self._r = client
        self._mail = mail
        self._followups = followups
        self._enqueue = enqueue
        # The job and its event are written in one transaction on the queue's connection.
        self._jobs_redis = jobs_redis
        self._clock = clock
        #: Tells whether a follow-up is still to come (its screening awaits evaluation).
        self._being_evaluated = being_evaluated
        self._release = client.register_script(_RELEASE)

    @property
    def enabled(self) -> bool:
        """Tell whether alert emails are on (SMTP_URL and ALERT_EMAIL set)."""
        return self._mail is not None

    def notify(self, kind: AlertKind, followup_id: str, event_key: str) -> None:
        """Queue one email about an event, once per event; never raise.

        Called from the webhook and the evaluation job: an alert that cannot be queued is
        logged, and costs the parent nothing. Two Redis round trips, one for a repeat.
        """
        if self._mail is None:
            return
        event = f"{kind}-{followup_id}-{event_key}"  # for the log line, if event_id fails
        try:
            event = event_id(kind, followup_id, event_key)
            if self._r.exists(keys.alert(event)):
                return
            # Both or neither: an event recorded without its job would never be sent.
            with self._jobs_redis.pipeline(transaction=True) as pipe:
                pipe.multi()  # as RQ expects of a pipeline it is handed
                pipe.hset(
                    keys.alert(event),
                    mapping={"kind": str(kind), "followup_id": followup_id, "at": self._clock()},
                )
                pipe.expire(keys.alert(event), EVENT_TTL_SECONDS)
                self._enqueue(event, pipe)
                pipe.execute()
        except Exception:
            # Whatever broke (Redis down, the queue refusing), the caller's work goes on.
            log.exception("alert %s was not queued", event)

    def deliver(self, event: str) -> str:
        """Send the email of one recorded event once (the alert job's work).

        Return sent, done (sent before), missing (expired, or its follow-up purged) or off
        (emails turned off since).
        Raise for RQ to retry: the follow-up does not exist yet, another attempt is sending, or
        the SMTP server failed.
        """
        if self._mail is None:
            log.warning("alert %s dropped: alert emails are off now", event)
            return "off"
        record = self._event(event)
        if record is None:
            log.warning("alert %s is gone (expired)", event)
            return "missing"
        if record.get("sent_at"):
            return "done"
        followup = self._followups.get(record["followup_id"])
        if followup is None:
            if not self._being_evaluated(record["followup_id"]):
                log.warning("alert %s dropped: its follow-up is gone (purged)", event)
                return "missing"
            raise FollowupNotReadyError(f"follow-up {record['followup_id']} does not exist yet")
        token = uuid.uuid4().hex
        if not self._r.set(keys.alert_claim(event), token, nx=True, ex=CLAIM_SECONDS):
            raise AlertBusyError(f"another attempt at alert {event} is under way")
        try:
            # Re-read under the claim: an attempt that just ended may have sent it.
            if (self._event(event) or {}).get("sent_at"):
                return "done"
            message = compose(
                self._mail,
                event,
                AlertKind(record["kind"]),
                followup.id,
                followup.priority,
                self._clock(),
            )
            refused = send_mail(self._mail.server, message)
            with self._r.pipeline(transaction=True) as pipe:
                pipe.hset(keys.alert(event), "sent_at", repr(self._clock()))
                # Even if the event expired meanwhile: no marker is left without an expiry.
                pipe.expire(keys.alert(event), EVENT_TTL_SECONDS)
                pipe.execute()
        finally:
            self._release(keys=[keys.alert_claim(event)], args=[token])
        if refused:
            log.warning("alert %s refused by the SMTP server for %s", event, ", ".join(refused))
        log.info("alert %s sent", event)
        return "sent"

    def _event(self, event: str) -> dict[str, str] | None:
        """Return one event's record, or None."""
        data = cast(dict[str, str], self._r.hgetall(keys.alert(event)))
        return data or None


def compose(
    mail: Mail, event: str, kind: AlertKind, followup_id: str, priority: str, now: float
) -> EmailMessage:
    """Return the alert email: priority, what happened, the link; nothing about the family."""
    link = f"{mail.base_url}/staff/f/{followup_id}"
    if kind is AlertKind.URGENT_FOLLOWUP:
        subject = "Urgent follow-up waiting"
        what = "An urgent follow-up is waiting in the staff queue."
    else:
        subject = f"A parent replied ({priority} priority)"
        what = "A parent sent a text on a follow-up, and no one on staff has seen it yet."
    body = (
        f"{what}\n\n"
        f"Priority: {priority}\n\n"
        f"Open this link to see the details (staff login required):\n{link}\n\n"
        "This email leaves out the family's phone number, answers and messages on purpose:\n"
        "email is not a safe place for a child's data.\n"
    )
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    message["Date"] = formatdate(now)
    # The same event always has the same Message-ID, so a mail client can fold a repeat.
    digest = hashlib.sha256(event.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<alert.{digest}@{mail.sender.rpartition('@')[2]}>"
    # RFC 3834: an automatic message, so no vacation replier answers it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_mail(server: SmtpServer, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Send one email; return the recipients the server refused (it took the others).

    smtp:// upgrades with STARTTLS when the server offers it; smtps:// is TLS from the start;
    certificates are verified. SMTP and connection errors propagate (the job is retried).
    """
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        smtp.ehlo()
        secure = server.security == "tls"
        if not secure and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
            secure = True
        if server.username is not None and server.password is not None:
            if not secure:
                raise InsecureSmtpError("the SMTP server offers no STARTTLS: not logging in")
            smtp.login(server.username, server.password)
        return smtp.send_message(message)
