"""The provider's webhook: verify, parse, hand to the conversation service, answer TwiML."""

from __future__ import annotations

import logging
import time

import redis
from flask import Blueprint, Response, abort
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from .conversation import InboundMessage, Media, PhoneBusyError
from .logs import mask_phone
from .numbers import NumberKind, channel_of, classify
from .outbound.delivery import apply_status
from .provider_request import verified_fields
from .services import Services, get_services
from .status_callbacks import INBOUND_STATUSES, parse_status_callback
from .store import MAX_MEDIA

log = logging.getLogger(__name__)

bp = Blueprint("webhook", __name__)

#: Longest From we accept; E.164 is at most 16 characters, short codes and other ids less.
MAX_PHONE_LENGTH = 64
#: Longest MessageSid we accept; Twilio's are 34 characters ("SM" and 32 hex digits).
MAX_SID_LENGTH = 64
#: Longest media URL and content type kept (Twilio's URLs are about 150 characters).
MAX_MEDIA_URL_LENGTH = 1000
MAX_CONTENT_TYPE_LENGTH = 100


@bp.post("/sms")
def inbound_sms() -> Response:
    """Apply one inbound text and reply with TwiML."""
    services = get_services()
    message = parse_inbound(verified_fields(services.settings))
    kind = classify(message.phone, services.settings, also_ours=message.to)
    if kind is not NumberKind.PHONE:
        return not_a_conversation(services, message, kind)
    if services.breaker.is_open():
        log.warning("inbound %s: Redis failed just now, 503 at once", message.message_sid)
        return unavailable()
    started = time.perf_counter()
    try:
        handled = services.conversations.handle(message)
    except redis.RedisError as exc:
        services.breaker.record(exc)
        log.exception("inbound %s: Redis unavailable", message.message_sid)
        return unavailable()
    except PhoneBusyError:
        log.error(
            "inbound %s from %s: phone stayed locked",
            message.message_sid,
            mask_phone(message.phone),
        )
        return Response("busy, retry", status=503, headers={"Retry-After": "1"})
    log.info(
        "inbound %s from %s: %d replies%s in %.1f ms",
        message.message_sid,
        mask_phone(message.phone),
        len(handled.replies),
        " (retried delivery)" if handled.duplicate else "",
        (time.perf_counter() - started) * 1000,
    )
    return twiml(handled.replies)


@bp.post("/sms/status")
def delivery_status() -> Response:
    """Record a delivery status callback: deduped, and never moving a text backwards."""
    services = get_services()
    callback = parse_status_callback(verified_fields(services.settings))
    if callback is None:
        log.info("blank status callback: ignored")
        return Response(status=200)
    if callback.status in INBOUND_STATUSES:
        log.info(
            "status %s for %s: an inbound text's, ignored", callback.status, callback.provider_sid
        )
        return Response(status=204)
    # The opt-out a 21610 records goes to a parent's phone only, never to ours or a sender id.
    to = callback.to if classify(callback.to, services.settings) is NumberKind.PHONE else ""
    if services.breaker.is_open():
        log.warning("status for %s: Redis failed just now, 503 at once", callback.provider_sid)
        return unavailable()
    try:
        outcome = apply_status(
            services,
            callback.provider_sid,
            callback.status,
            callback.error_code,
            time.time(),
            to=to,
        )
    except redis.RedisError as exc:
        services.breaker.record(exc)
        log.exception("status for %s: Redis unavailable", callback.provider_sid)
        return unavailable()
    log.info("status %s for %s: %s", callback.status, callback.provider_sid, outcome)
    return Response(status=204)


def not_a_conversation(services: Services, message: InboundMessage, kind: NumberKind) -> Response:
    """Answer a text that is not a parent's SMS: nothing is stored, nothing starts."""
    if kind is NumberKind.CHANNEL:
        log.info(
            "inbound %s from %s over %s: SMS only, told so",
            message.message_sid,
            mask_phone(message.phone),
            channel_of(message.phone),
        )
        return twiml((services.flow.both_languages("sms_only"),))
    log.warning(
        "inbound %s from %s: %s, not a conversation (ignored)",
        message.message_sid,
        mask_phone(message.phone),
        "our own number" if kind is NumberKind.OURS else "not a phone",
    )
    return twiml(())


def unavailable() -> Response:
    """Answer 503 so the provider retries (or tries the fallback URL)."""
    return Response("unavailable, retry", status=503, headers={"Retry-After": "5"})


def twiml(replies: tuple[str, ...]) -> Response:
    """Render replies as a TwiML response (no <Message> when there is nothing to say)."""
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


def parse_inbound(form: MultiDict[str, str]) -> InboundMessage:
    """Turn the provider's form into a message; 400 when a required field is missing."""
    sid = form.get("MessageSid", "").strip() or form.get("SmsSid", "").strip()
    phone = form.get("From", "").strip()
    missing = [name for name, value in (("MessageSid", sid), ("From", phone)) if not value]
    if missing:
        abort(400, description=f"missing form field(s): {', '.join(missing)}")
    if len(phone) > MAX_PHONE_LENGTH or len(sid) > MAX_SID_LENGTH:
        abort(400, description="From or MessageSid is too long")
    return InboundMessage(
        message_sid=sid,
        phone=phone,
        to=form.get("To", ""),
        body=form.get("Body", ""),
        media=parse_media(form),
        opt_out_type=form.get("OptOutType", "").strip()[:16],
    )


def parse_media(form: MultiDict[str, str]) -> tuple[Media, ...]:
    """Return the photos and files of an MMS as the provider lists them (MediaUrl0...)."""
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media = []
    for i in range(max(count, 0)):
        url = form.get(f"MediaUrl{i}", "").strip()
        if not url or len(url) > MAX_MEDIA_URL_LENGTH:
            continue
        content_type = form.get(f"MediaContentType{i}", "").strip()[:MAX_CONTENT_TYPE_LENGTH]
        media.append(Media(content_type or "application/octet-stream", url))
    return tuple(media)
