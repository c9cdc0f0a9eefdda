"""The provider's webhook: verify, parse, hand to the conversation service, answer TwiML."""

from __future__ import annotations

import logging
import time

import redis
from flask import Blueprint, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from .config import Settings
from .conversation import InboundMessage, Media, PhoneBusyError
from .logs import mask_phone
from .outbound.delivery import apply_status
from .services import get_services
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
    verify_signature(services.settings)
    message = parse_inbound(request.form)
    started = time.perf_counter()
    try:
        handled = services.conversations.handle(message)
    except redis.RedisError:
        log.exception("inbound %s: Redis unavailable", message.message_sid)
        return Response("unavailable, retry", status=503, headers={"Retry-After": "5"})
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
    verify_signature(services.settings)
    provider_sid = request.form.get("MessageSid", "").strip()
    status = request.form.get("MessageStatus", "").strip().lower()
    if not provider_sid or not status or len(provider_sid) > MAX_SID_LENGTH:
        abort(400, description="MessageSid and MessageStatus are required")
    error_code = request.form.get("ErrorCode", "").strip()[:10]
    outcome = apply_status(services, provider_sid, status, error_code, time.time())
    log.info("status %s for %s: %s", status, provider_sid, outcome)
    return Response(status=204)


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


def public_url(settings: Settings) -> str:
    """Return the URL the provider called, as it saw it (behind proxies too)."""
    # The query string exactly as sent: Twilio signs it undecoded (request.url re-encodes it).
    query = request.query_string.decode("latin-1")
    suffix = request.path + (f"?{query}" if query else "")
    if settings.public_base_url:
        return settings.public_base_url + suffix
    return f"{request.scheme}://{request.host}{request.script_root}{suffix}"


def verify_signature(settings: Settings) -> None:
    """Abort with 403 unless the request carries a valid X-Twilio-Signature."""
    token = settings.twilio_auth_token
    if token is None:
        return  # dev mode: no provider, nothing to verify against
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(token)
    params = request.form.to_dict(flat=True)
    if not signature or not validator.validate(public_url(settings), params, signature):
        log.warning("rejected %s %s: bad or missing signature", request.method, request.path)
        abort(403)
