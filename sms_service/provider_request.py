"""A provider's webhook request: its signature checked, its account checked, its fields read.

Twilio signs with the account's auth token and HMAC-SHA1, or, when a Webhook Setting names a
SharedKey, with that key and the algorithm the X-Twilio-Webhooks-Signature-Settings header
names. Either way the signed string is the URL followed by every form field (each value of a
repeated key too); a JSON body is instead signed through the URL's bodySHA256 parameter, its
SHA-256.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from flask import abort, request
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
)
from werkzeug.datastructures import MultiDict

from .config import Settings

log = logging.getLogger(__name__)

#: The algorithms a settings header may name (twilio's own spelling).
ALGORITHMS = (HMAC_SHA1, HMAC_SHA256)
#: Longest settings header read: Twilio's holds a key id and an algorithm name.
MAX_SETTINGS_LENGTH = 256
_KEY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
#: An algorithm name short and plain enough to put in a log line.
_SHOWABLE = re.compile(r"[A-Za-z0-9_-]{1,32}")
JSON = "application/json"


class SignatureError(Exception):
    """Why a request's signature is refused; the text goes in a log line (never a secret)."""


@dataclass(frozen=True)
class SigningKey:
    """The secret and algorithm a request says it is signed with."""

    secret: str = field(repr=False)
    algorithm: str
    #: What signed it, for log lines: "the auth token" or "shared key <id>".
    name: str


def verified_fields(settings: Settings) -> MultiDict[str, str]:
    """Return the request's fields once its signature and account check out (403 if not)."""
    verify_signature(settings)
    fields = webhook_fields()
    check_account(settings, fields)
    return fields


def verify_signature(settings: Settings) -> None:
    """Abort with 403 unless the request is signed as the provider signs (dev mode: no check)."""
    token = settings.twilio_auth_token
    if token is None:
        return  # dev mode: no provider, nothing to verify against
    try:
        key = signing_key(settings, token, request.headers.get(SIGNATURE_SETTINGS_HEADER))
        _check(key, public_url(settings))
    except SignatureError as why:
        log.warning("rejected %s %s: %s", request.method, request.path, why)
        abort(403)


def signing_key(settings: Settings, token: str, settings_header: str | None) -> SigningKey:
    """Return the key and algorithm a request claims; raise SignatureError if unusable."""
    # A blank header names nothing, as twilio's get_signature_algorithm reads it.
    if settings_header is None or not settings_header.strip():
        return SigningKey(token, HMAC_SHA1, "the auth token")
    key_id, algorithm = parse_signature_settings(settings_header)
    secret = settings.twilio_webhook_signing_key
    if secret is None:
        raise SignatureError(
            f"signed with shared key {key_id}, and TWILIO_WEBHOOK_SIGNING_KEY is not set"
        )
    return SigningKey(secret, algorithm, f"shared key {key_id}")


def parse_signature_settings(header: str) -> tuple[str, str]:
    """Return (key id, algorithm) of a signature settings header: key=<id>,algorithm=<name>."""
    if len(header) > MAX_SETTINGS_LENGTH:
        raise SignatureError("the signature settings header is too long")
    items: dict[str, str] = {}
    for part in header.split(","):
        name, equals, value = (text.strip() for text in part.partition("="))
        if not equals or not name or not value or name in items:
            raise SignatureError("the signature settings header is malformed")
        items[name] = value
    key_id = items.get("key", "")
    if not _KEY_ID.fullmatch(key_id):
        raise SignatureError("the signature settings header names no readable key")
    algorithm = items.get("algorithm", "")
    if algorithm.upper() not in ALGORITHMS:
        shown = algorithm if _SHOWABLE.fullmatch(algorithm) else "(unreadable)"
        raise SignatureError(f"signature algorithm {shown} is not supported")
    return key_id, algorithm.upper()


def _check(key: SigningKey, url: str) -> None:
    # The body first: one too large is a 413 whether or not it is signed.
    # The raw multi-valued form: flattening it would drop a repeated key's other values.
    params: str | MultiDict[str, str] = (
        _json_body(url) if request.mimetype == JSON else request.form
    )
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise SignatureError("no signature")
    if not RequestValidator(key.secret).validate(url, params, signature, key.algorithm):
        raise SignatureError(f"bad signature ({key.name}, {key.algorithm})")


def _json_body(url: str) -> str:
    """Return a JSON body as the validator hashes it; it must be signed through bodySHA256."""
    if "bodySHA256" not in parse_qs(urlsplit(url).query):
        raise SignatureError("a JSON body without bodySHA256 in the URL")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("a JSON body that is not UTF-8") from None


def public_url(settings: Settings) -> str:
    """Return the URL the provider called: PUBLIC_BASE_URL and the request's path and query."""
    # Never the request's Host or X-Forwarded-*: a client picks those, so a signature made for
    # a URL of the client's choosing would pass. Outside dev mode the setting is required.
    if settings.public_base_url is None:
        raise SignatureError("PUBLIC_BASE_URL is not set")
    # The query string exactly as sent: Twilio signs it undecoded (request.url re-encodes it).
    query = request.query_string.decode("latin-1")
    return settings.public_base_url + request.path + (f"?{query}" if query else "")


def webhook_fields() -> MultiDict[str, str]:
    """Return the request's fields: its form, or its JSON object's (400 if not an object)."""
    if request.mimetype != JSON:
        return request.form
    try:
        data = json.loads(request.get_data())
    except (ValueError, RecursionError):
        abort(400, description="the body is not JSON")
    if not isinstance(data, dict):
        abort(400, description="the JSON body must be an object of fields")
    return MultiDict(_field_pairs(data))


def _field_pairs(data: Mapping[str, object]) -> Iterator[tuple[str, str]]:
    """Yield a JSON object's fields as a form's: text values, a list's items as repeats."""
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                yield name, "true" if item else "false"
            elif isinstance(item, str | int | float):
                yield name, str(item)
            # null and nested objects are no form field's value: skipped.


def check_account(settings: Settings, fields: MultiDict[str, str]) -> None:
    """Abort with 403 when the request is for another provider account than ours."""
    ours = settings.twilio_account_sid
    if ours is None:
        return
    named = [sid.strip() for sid in fields.getlist("AccountSid") if sid.strip()]
    if any(sid.lower() != ours.lower() for sid in named):
        log.warning("rejected %s %s: for another account", request.method, request.path)
        abort(403)
