"""Outbound texts: the provider's REST API through the real twilio client, or a local outbox.

Failures are classified so jobs know what to do: retry (429, 5xx, nothing sent), stop for good
(21610 opted out; any other 4xx, such as 21211 bad number: what each code means is in
`errors`), or check before any second try (a timeout after the request went out: the provider
may have accepted it).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import requests
from redis import Redis
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from .. import keys
from ..config import Settings
from .errors import ERRORS
from .status import DeliveryStatus

log = logging.getLogger(__name__)


class SendError(Exception):
    """A text the provider did not take."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class RetryableSendError(SendError):
    """Nothing was sent and trying later may work (429, 5xx, no connection)."""


class AmbiguousSendError(RetryableSendError):
    """The request went out and no answer came: the text may have been sent."""


class PermanentSendError(SendError):
    """The provider refused the text for good; do not retry."""


class RecipientOptedOutError(PermanentSendError):
    """The carrier says the recipient opted out (21610)."""


@dataclass(frozen=True)
class SentMessage:
    provider_sid: str
    status: str


class Sender(Protocol):
    """Sends one text, and can tell whether an earlier attempt got through."""

    def send(self, to: str, body: str) -> SentMessage: ...

    def find_sent(self, to: str, body: str, since: float) -> SentMessage | None: ...


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """A TwilioHttpClient that sends to another base URL (compatible providers, tests)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._prefix = parts.path.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request to the configured host, keeping the API path."""
        parts = urlsplit(url)
        swapped = urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )
        return super().request(method, swapped, *args, **kwargs)


def classify_send_error(exc: Exception) -> SendError:
    """Map a failure of the twilio client to retry, stop, or check-before-retry."""
    if isinstance(exc, requests.exceptions.ConnectTimeout) or (
        isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc)
    ):
        return RetryableSendError(f"could not reach the provider: {type(exc).__name__}")
    if isinstance(exc, requests.exceptions.RequestException):
        # The request may have reached the provider: the next try checks before sending.
        return AmbiguousSendError(f"no answer from the provider: {type(exc).__name__}")
    status, code = _status_of(exc), _code_of(exc)
    text = f"provider refused the text: HTTP {status}, error {code}"
    # Only the table's own codes: an unknown one is judged by its HTTP status alone.
    known = ERRORS.get(str(code)) if code is not None else None
    if known is not None and known.opts_out:
        return RecipientOptedOutError(text, status, code)
    if status == 429 or (status is not None and status >= 500):
        return RetryableSendError(text, status, code)
    if (status is not None and 400 <= status < 500) or (known is not None and not known.retryable):
        return PermanentSendError(text, status, code)
    return AmbiguousSendError(f"unexpected provider failure: {type(exc).__name__}", status, code)


def _status_of(exc: Exception) -> int | None:
    return cast(int | None, getattr(exc, "status", None))


def _code_of(exc: Exception) -> int | None:
    return cast(int | None, getattr(exc, "code", None))


def _described(exc: Exception) -> str:
    """Name a client failure by its type, HTTP status and error code: never its text."""
    status, code = _status_of(exc), _code_of(exc)
    if status is None and code is None:
        return type(exc).__name__
    return f"{type(exc).__name__}, HTTP {status}, error {code}"


def _never_connected(exc: Exception) -> bool:
    """Tell whether a connection error happened before any byte of the request left."""
    text = repr(exc)
    return "NewConnectionError" in text or "Failed to establish a new connection" in text


class TwilioSender:
    """Sends through the provider's Messages API with the real twilio client."""

    def __init__(self, settings: Settings) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        self._client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=BaseUrlHttpClient(
                settings.twilio_api_base_url, settings.twilio_timeout_seconds
            ),
        )
        self._from = settings.twilio_from_number
        self._service = settings.twilio_messaging_service_sid
        base = settings.public_base_url
        self._status_callback = f"{base}/sms/status" if base else None

    def send(self, to: str, body: str) -> SentMessage:
        """Create one message; raise a SendError subclass when it is not taken."""
        params: dict[str, Any] = {"to": to, "body": body}
        if self._service:
            params["messaging_service_sid"] = self._service
        else:
            params["from_"] = self._from
        if self._status_callback:
            params["status_callback"] = self._status_callback
        try:
            message = self._client.messages.create(**params)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            # Not chained: the client's error text holds the number (the URL, Twilio's
            # message); ours keeps what debugging needs, the HTTP status and error code.
            raise classify_send_error(exc) from None
        return SentMessage(str(message.sid), str(message.status or DeliveryStatus.QUEUED))

    def find_sent(self, to: str, body: str, since: float) -> SentMessage | None:
        """Look for a message to this number with this body created since a time."""
        sent_after = datetime.fromtimestamp(since - 120, tz=UTC)
        try:
            candidates = self._client.messages.list(
                to=to, date_sent_after=sent_after, page_size=50, limit=50
            )
        except (TwilioException, requests.exceptions.RequestException) as exc:
            # The client's text holds the lookup's URL (Messages.json?To=<the number>).
            raise RetryableSendError(
                f"could not check earlier attempt: {_described(exc)}",
                _status_of(exc),
                _code_of(exc),
            ) from None
        for message in candidates:
            if message.body == body:
                return SentMessage(str(message.sid), str(message.status))
        return None


#: Dev mode's outbox forgets its texts a week after the last one (it holds phones and bodies).
OUTBOX_TTL_SECONDS = 7 * 86400


class OutboxSender:
    """Dev mode: keeps texts in a Redis list that `chat` and `outbox` show."""

    def __init__(self, client: Redis) -> None:
        self._r = client

    def send(self, to: str, body: str) -> SentMessage:
        """Put a text in the local outbox."""
        sid = "OB" + uuid.uuid4().hex
        entry = {"sid": sid, "to": to, "body": body, "at": time.time()}
        pipe = self._r.pipeline()
        pipe.rpush(keys.OUTBOX, json.dumps(entry))
        pipe.ltrim(keys.OUTBOX, -1000, -1)
        pipe.expire(keys.OUTBOX, OUTBOX_TTL_SECONDS)
        pipe.execute()
        return SentMessage(sid, DeliveryStatus.DELIVERED)

    def find_sent(self, to: str, body: str, since: float) -> SentMessage | None:
        """Look for a text already in the outbox."""
        for entry in read_outbox(self._r):
            if entry["to"] == to and entry["body"] == body and entry["at"] >= since - 120:
                return SentMessage(str(entry["sid"]), DeliveryStatus.DELIVERED)
        return None


def purge_outbox(client: Redis, phone: str) -> int:
    """Delete a phone's texts from the dev outbox; return how many."""
    raw = cast(list[str], client.lrange(keys.OUTBOX, 0, -1))
    doomed = [item for item in raw if json.loads(item)["to"] == phone]
    pipe = client.pipeline()
    for item in doomed:
        pipe.lrem(keys.OUTBOX, 0, item)
    pipe.execute()
    return len(doomed)


def read_outbox(client: Redis, phone: str | None = None) -> list[Mapping[str, Any]]:
    """Return the outbox's texts, oldest first (for one phone if given)."""
    raw = cast(list[str], client.lrange(keys.OUTBOX, 0, -1))
    entries = [cast(Mapping[str, Any], json.loads(item)) for item in raw]
    return [e for e in entries if phone is None or e["to"] == phone]


def make_sender(settings: Settings, client: Redis) -> Sender:
    """Return the provider sender, or the local outbox in dev mode."""
    if settings.dev_mode:
        return OutboxSender(client)
    return TwilioSender(settings)
