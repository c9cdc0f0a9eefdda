"""What a real Twilio account sends to /sms and /sms/status, each signed both ways Twilio signs.

The payloads are written from Twilio's documentation of the incoming-message webhook and of
message status callbacks: the fields each carries, form-encoded, and the JSON body Twilio signs
through a `bodySHA256` URL parameter. Signing follows Twilio's documentation too: the URL, then
each field's name and value, names sorted (a repeated key's values sorted, each once, as
twilio-python does), as HMAC-SHA1 with the auth token, or, under a Webhook Setting's SharedKey,
with that key and the algorithm the `X-Twilio-Webhooks-Signature-Settings` header names
(conftest's Signing, written from that text rather than taken from twilio's RequestValidator,
so the service's check meets an independent computation).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from conftest import (
    AUTH_TOKEN,
    SHARED_KEY,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    TEST_SIGNING_KEY,
    TEST_SIGNING_KEY_ID,
    AppFactory,
    Signing,
    build_app,
    free_port,
    gunicorn_server,
    provider_config,
    run_jobs,
    seed_followup,
    services_of,
    twilio_signature,
    twiml_messages,
)
from flask import Flask
from flask.testing import FlaskClient
from twilio_api import FakeTwilio
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from sms_service import jobs, keys
from sms_service.followups import result_message_id
from sms_service.outbound import DeliveryStatus
from sms_service.outbound.segments import count_segments
from sms_service.outbound.sender import AmbiguousSendError

BASE = "https://sms.example.org"
PARENT = "+15550100123"
OPTED_OUT = "21610"
SMS_ONLY = (
    "This number works by text message (SMS) only. / "
    "Este numero solo funciona por mensaje de texto (SMS)."
)
ENGLISH = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]

Fields = list[tuple[str, str]]

BOTH_WAYS = pytest.mark.parametrize(
    "signing", [AUTH_TOKEN, SHARED_KEY], ids=["auth-token", "shared-key"]
)


def post_form(
    client: FlaskClient,
    path: str,
    fields: Fields,
    signing: Signing,
    *,
    after_signing: Callable[[Fields], Fields] | None = None,
) -> TestResponse:
    """POST a form signed for BASE+path; after_signing changes what is sent, not what is signed."""
    headers = signing.headers(BASE + path, fields)
    sent = after_signing(list(fields)) if after_signing else fields
    return client.post(path, data=MultiDict(sent), headers=headers)


def post_json(
    client: FlaskClient,
    path: str,
    body: bytes,
    signing: Signing,
    *,
    sent_body: bytes | None = None,
    hash_in_url: bool = True,
) -> TestResponse:
    """POST a JSON body the way Twilio signs one: its SHA-256 in the URL, the URL signed."""
    query = f"?bodySHA256={hashlib.sha256(body).hexdigest()}" if hash_in_url else ""
    headers = signing.headers(BASE + path + query, [])
    return client.post(
        path + query,
        data=body if sent_body is None else sent_body,
        content_type="application/json",
        headers=headers,
    )


# --- payloads, as Twilio documents them --------------------------------------------------------


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


MESSAGING_SERVICE = "MG" + "2" * 32
OTHER_ACCOUNT = "AC" + "9" * 32


def sms(body: str = "Hi", sender: str = PARENT, to: str = TEST_FROM_NUMBER, **extra: str) -> Fields:
    """Return the form Twilio posts to the incoming-message webhook for one SMS."""
    sid = new_sid()
    form = {
        "ToCountry": "US",
        "ToState": "NY",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "NEW YORK",
        "FromZip": "10001",
        "SmsSid": sid,
        "FromState": "NY",
        "SmsStatus": "received",
        "FromCity": "NEW YORK",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "MessagingServiceSid": MESSAGING_SERVICE,
        "ToZip": "10001",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TEST_ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return list(form.items())


def whatsapp(body: str = "Hi", number: str = PARENT) -> Fields:
    """Return the form of a WhatsApp message to our number (channel-prefixed addresses)."""
    sid = new_sid()
    return [
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ProfileName", "Maria"),
        ("MessageType", "text"),
        ("SmsSid", sid),
        ("WaId", number.lstrip("+")),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", f"whatsapp:{TEST_FROM_NUMBER}"),
        ("NumSegments", "1"),
        ("ReferralNumMedia", "0"),
        ("MessageSid", sid),
        ("AccountSid", TEST_ACCOUNT_SID),
        ("From", f"whatsapp:{number}"),
        ("ApiVersion", "2010-04-01"),
    ]


def status_callback(sid: str, status: str, error_code: str = "", to: str = PARENT) -> Fields:
    """Return the form Twilio posts to a message's StatusCallback URL."""
    fields = [
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", to),
        ("MessagingServiceSid", MESSAGING_SERVICE),
        ("MessageSid", sid),
        ("AccountSid", TEST_ACCOUNT_SID),
        ("From", TEST_FROM_NUMBER),
        ("ApiVersion", "2010-04-01"),
    ]
    if error_code:
        fields.append(("ErrorCode", error_code))
    if status in ("delivered", "undelivered"):
        fields.append(("RawDlrDoneDate", "2412021530"))
    return fields


def without(fields: Fields, *names: str) -> Fields:
    return [(n, v) for n, v in fields if n not in names]


def replaced(fields: Fields, **values: str) -> Fields:
    return [(n, values.get(n, v)) for n, v in fields]


# --- fixtures and what a test looks at --------------------------------------------------------


@pytest.fixture
def app(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    make_app: AppFactory,
) -> Flask:
    """An app with credentials and a shared signing key, sending through the local Twilio API."""
    return make_app(
        provider_config(
            redis_url, tmp_path, twilio_api, TWILIO_WEBHOOK_SIGNING_KEY=TEST_SIGNING_KEY
        )
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@contextlib.contextmanager
def capturing(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture the service's log records (its logger, set up by each app, does not propagate)."""
    package = logging.getLogger("sms_service")
    package.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="sms_service")
    try:
        yield caplog
    finally:
        package.removeHandler(caplog.handler)


@pytest.fixture
def captured(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture what the test's app logs."""
    with capturing(caplog) as records:
        yield records


def replies(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return twiml_messages(response.get_data(as_text=True))


def first_reply(app: Flask) -> list[str]:
    flow = services_of(app).flow
    return [flow.message("intro", "en"), flow.language_question.prompt["en"]]


def stored_keys(redis: redis_lib.Redis) -> set[str]:
    return {str(key) for key in redis.keys("*")}


def conversation_of(app: Flask, phone: str) -> Any:
    return services_of(app).store.load(phone)


# --- an inbound SMS, as Twilio posts it -------------------------------------------------------


@BOTH_WAYS
def test_an_inbound_sms_as_twilio_posts_it(app: Flask, signing: Signing) -> None:
    client, flow = app.test_client(), services_of(app).flow
    assert replies(post_form(client, "/sms", sms("Hi"), signing)) == first_reply(app)
    assert replies(post_form(client, "/sms", sms("1"), signing)) == [flow.questions[0].prompt["en"]]
    state = conversation_of(app, PARENT)
    assert (state.phone, state.inbound_count) == (PARENT, 2)


# --- the signature: auth token or shared key, on both webhooks ---------------------------------


@dataclass(frozen=True)
class SignatureCase:
    label: str
    signing: Signing
    accepted: bool
    #: Sign with the app that has no TWILIO_WEBHOOK_SIGNING_KEY.
    no_key_configured: bool = False


def _shared(
    settings: str | None, hash_name: str = "HMAC_SHA256", secret: str = TEST_SIGNING_KEY
) -> Signing:
    return Signing(secret, hash_name, settings)


#: The SharedKey's id, as the settings header names it.
KEY = TEST_SIGNING_KEY_ID
HEADER = f"key={KEY},algorithm=HMAC_SHA256"
OTHER_KEY = "another-shared-key-0123456789"
S = SignatureCase
SIGNATURE_CASES = [
    S("auth token, no settings header", AUTH_TOKEN, True),
    S("shared key, HMAC-SHA256", SHARED_KEY, True),
    S("auth token, blank settings header", Signing(TEST_AUTH_TOKEN, "HMAC_SHA1", ""), True),
    S("shared key, header spaced", _shared(f" key = {KEY} , algorithm = HMAC_SHA256 "), True),
    S("shared key, algorithm in lower case", _shared(f"key={KEY},algorithm=hmac_sha256"), True),
    S("shared key, HMAC-SHA1 named", _shared(f"key={KEY},algorithm=HMAC_SHA1", "HMAC_SHA1"),
      True),
    S("shared key signature, no settings header", _shared(None), False),
    S("auth token signature, shared-key header", Signing(TEST_AUTH_TOKEN, "HMAC_SHA1", HEADER),
      False),
    S("auth token HMAC-SHA256, shared-key header", _shared(HEADER, secret=TEST_AUTH_TOKEN), False),
    S("another shared key", _shared(HEADER, secret=OTHER_KEY), False),
    S("SHA1 signature, header says SHA256", _shared(HEADER, "HMAC_SHA1"), False),
    S("unknown algorithm", _shared(f"key={KEY},algorithm=HMAC_SHA512"), False),
    S("algorithm not a word", _shared(f"key={KEY},algorithm=\u00e9\u00e9"), False),
    S("no algorithm", _shared(f"key={KEY}"), False),
    S("no key id", _shared("algorithm=HMAC_SHA256"), False),
    S("empty key id", _shared("key=,algorithm=HMAC_SHA256"), False),
    S("algorithm twice", _shared(f"{HEADER},algorithm=HMAC_SHA1"), False),
    S("semicolons", _shared(f"key={KEY};algorithm=HMAC_SHA256"), False),
    S("not name=value", _shared("HMAC_SHA256"), False),
    S("header of 2 KB", _shared(HEADER + ",pad=" + "x" * 2000), False),
    S("shared key, none configured", SHARED_KEY, False, no_key_configured=True),
    S("auth token, no key configured", AUTH_TOKEN, True, no_key_configured=True),
]  # fmt: skip


@pytest.mark.parametrize("path", ["/sms", "/sms/status"])
@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=lambda c: c.label)
def test_signature(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    make_app: AppFactory,
    case: SignatureCase,
    path: str,
) -> None:
    key = {} if case.no_key_configured else {"TWILIO_WEBHOOK_SIGNING_KEY": TEST_SIGNING_KEY}
    app = make_app(provider_config(redis_url, tmp_path, twilio_api, **key))
    fields = sms() if path == "/sms" else status_callback(new_sid(), "delivered")
    response = post_form(app.test_client(), path, fields, case.signing)
    if case.accepted:
        assert response.status_code == (200 if path == "/sms" else 204)
    else:
        assert response.status_code == 403


def test_a_shared_key_webhook_without_a_configured_key_is_logged_plainly(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    make_app: AppFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(provider_config(redis_url, tmp_path, twilio_api))
    with capturing(caplog) as captured:
        assert post_form(app.test_client(), "/sms", sms(), SHARED_KEY).status_code == 403
    [line] = [r.getMessage() for r in captured.records if r.levelno >= logging.WARNING]
    assert line == (
        f"rejected POST /sms: signed with shared key {KEY}, "
        "and TWILIO_WEBHOOK_SIGNING_KEY is not set"
    )


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            f"key={KEY},algorithm=HMAC_SHA512",
            "signature algorithm HMAC_SHA512 is not supported",
        ),
        (
            f"key={KEY},algorithm=" + "A" * 200,
            "signature algorithm (unreadable) is not supported",
        ),
        ("key=a b,algorithm=HMAC_SHA256", "the signature settings header names no readable key"),
        ("x" * 300, "the signature settings header is too long"),
        ("nonsense", "the signature settings header is malformed"),
    ],
)
def test_a_refused_settings_header_is_logged_bounded_and_without_secrets(
    client: FlaskClient, captured: pytest.LogCaptureFixture, settings: str, reason: str
) -> None:
    response = post_form(client, "/sms", sms(), _shared(settings))
    assert response.status_code == 403
    [record] = [r for r in captured.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == f"rejected POST /sms: {reason}"
    for secret in (TEST_SIGNING_KEY, TEST_AUTH_TOKEN):
        assert secret not in str(vars(record))


def test_a_bad_shared_key_signature_names_the_key_not_the_secret(
    client: FlaskClient, captured: pytest.LogCaptureFixture
) -> None:
    signing = _shared(HEADER, secret="another-shared-key-0123456789")
    assert (
        post_form(client, "/sms/status", status_callback(new_sid(), "sent"), signing).status_code
        == 403
    )
    [record] = [r for r in captured.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == (
        f"rejected POST /sms/status: bad signature (shared key {KEY}, HMAC_SHA256)"
    )
    assert TEST_SIGNING_KEY not in str(vars(record))


# --- every value of a repeated key is signed ---------------------------------------------------

REPEATED = [("Tag", "b-second"), ("Tag", "a-first"), ("Tag", "c-third")]


def _drop_last_tag(fields: Fields) -> Fields:
    tags = [i for i, (n, _) in enumerate(fields) if n == "Tag"]
    return [f for i, f in enumerate(fields) if i != tags[-1]]


def _change_a_tag(fields: Fields) -> Fields:
    return [(n, "z-changed" if v == "a-first" else v) for n, v in fields]


def _add_a_tag(fields: Fields) -> Fields:
    return [*fields, ("Tag", "d-added")]


@BOTH_WAYS
@pytest.mark.parametrize("path", ["/sms", "/sms/status"])
@pytest.mark.parametrize(
    ("after_signing", "accepted"),
    [
        (None, True),
        (_drop_last_tag, False),
        (_change_a_tag, False),
        (_add_a_tag, False),
    ],
    ids=["as signed", "one value dropped", "one value changed", "one value added"],
)
def test_every_value_of_a_repeated_key_is_signed(
    app: Flask,
    signing: Signing,
    path: str,
    after_signing: Callable[[Fields], Fields] | None,
    accepted: bool,
) -> None:
    base = sms() if path == "/sms" else status_callback(new_sid(), "sent")
    response = post_form(
        app.test_client(), path, base + REPEATED, signing, after_signing=after_signing
    )
    if not accepted:
        assert response.status_code == 403
    elif path == "/sms":
        assert replies(response) == first_reply(app)
    else:
        assert response.status_code == 204


def test_repeated_values_sign_like_twilio_python() -> None:
    """The signer here agrees with the library's over a multi-valued form (one vector)."""
    from twilio.request_validator import RequestValidator

    fields = sms("Hi") + REPEATED
    url = f"{BASE}/sms?office=east"
    library = RequestValidator(TEST_SIGNING_KEY).compute_signature(
        url, MultiDict(fields), "HMAC_SHA256"
    )
    assert library == twilio_signature(url, fields, TEST_SIGNING_KEY, "HMAC_SHA256")


# --- JSON bodies: bodySHA256 in the signed URL ------------------------------------------------


def json_of(fields: Fields) -> bytes:
    return json.dumps(dict(fields)).encode()


@BOTH_WAYS
def test_a_json_inbound_text_is_verified_and_read(app: Flask, signing: Signing) -> None:
    client = app.test_client()
    assert replies(post_json(client, "/sms", json_of(sms("Hi")), signing)) == first_reply(app)
    assert replies(post_json(client, "/sms", json_of(sms("1")), signing)) == [
        services_of(app).flow.questions[0].prompt["en"]
    ]
    assert conversation_of(app, PARENT).inbound_count == 2


@BOTH_WAYS
def test_a_json_body_reads_numbers_and_lists_as_form_values(app: Flask, signing: Signing) -> None:
    fields = dict(sms("Hi"))
    body = json.dumps({**fields, "NumMedia": 0, "NumSegments": 1, "Tags": ["a", "b"], "X": None})
    response = post_json(app.test_client(), "/sms", body.encode(), signing)
    assert replies(response) == first_reply(app)


@BOTH_WAYS
def test_a_json_status_callback_is_verified_and_applied(
    app: Flask, signing: Signing, twilio_api: FakeTwilio
) -> None:
    message_id, sid = send_a_text(app, twilio_api)
    body = json_of(status_callback(sid, "delivered"))
    assert post_json(app.test_client(), "/sms/status", body, signing).status_code == 204
    assert outbound_status(app, message_id) == "delivered"


@dataclass(frozen=True)
class JsonCase:
    label: str
    body: bytes
    status: int
    sent_body: bytes | None = None
    hash_in_url: bool = True


_GOOD = json.dumps({"MessageSid": "SM" + "a" * 32, "From": PARENT, "Body": "Hi"}).encode()
JSON_CASES = [
    JsonCase("body changed after hashing", _GOOD, 403, sent_body=_GOOD.replace(b"Hi", b"STOP")),
    JsonCase("no bodySHA256 in the URL", _GOOD, 403, hash_in_url=False),
    JsonCase("not UTF-8", b'{"Body": "\xff"}', 403),
    JsonCase("signed, not JSON", b"MessageSid=SM1&From=%2B15550100123", 400),
    JsonCase("signed, a JSON array", b'[["From", "+15550100123"]]', 400),
    JsonCase("signed, a JSON string", b'"hello"', 400),
    JsonCase("signed, nested 100000 deep", b"[" * 100_000 + b"]" * 100_000, 413),
    JsonCase("signed, nested 50000 deep", b"[" * 50_000 + b"]" * 50_000, 400),
    JsonCase("signed, 200 KB", json.dumps({"Body": "x" * 200_000}).encode(), 413),
    JsonCase("signed, no From", json.dumps({"MessageSid": "SM" + "a" * 32}).encode(), 400),
]  # fmt: skip


@BOTH_WAYS
@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.label)
def test_a_json_body_that_does_not_check_out(
    app: Flask, redis: redis_lib.Redis, signing: Signing, case: JsonCase
) -> None:
    before = stored_keys(redis)
    response = post_json(
        app.test_client(),
        "/sms",
        case.body,
        signing,
        sent_body=case.sent_body,
        hash_in_url=case.hash_in_url,
    )
    assert response.status_code == case.status
    assert stored_keys(redis) == before


# --- texts that are not for us -----------------------------------------------------------------


@dataclass(frozen=True)
class NotOursCase:
    label: str
    fields: Callable[[], Fields]
    status: int
    #: The TwiML's messages on a 200.
    replies: tuple[str, ...] = ()
    #: A number that must appear in no log line, whole.
    number: str = ""


NOT_OURS = [
    NotOursCase("another account's text", lambda: sms(AccountSid=OTHER_ACCOUNT), 403),
    NotOursCase("another account's, repeated key", lambda: [*sms(), ("AccountSid", OTHER_ACCOUNT)],
                403),
    NotOursCase("our account in capitals", lambda: sms(AccountSid=TEST_ACCOUNT_SID.upper()), 200,
                ("first reply",)),
    NotOursCase("no AccountSid (a compatible provider)", lambda: without(sms(), "AccountSid"), 200,
                ("first reply",)),
    NotOursCase("from our own number (a loop)", lambda: sms(sender=TEST_FROM_NUMBER), 200,
                number=TEST_FROM_NUMBER),
    NotOursCase("from the number it came to", lambda: sms(sender="+15550100555", to="+15550100555"),
                200, number="+15550100555"),
    NotOursCase("our number without its +", lambda: sms(sender=TEST_FROM_NUMBER[1:]), 200,
                number=TEST_FROM_NUMBER[1:]),
    NotOursCase("alphanumeric sender id", lambda: sms(sender="ACMEBANK"), 200, number="ACMEBANK"),
    NotOursCase("alphanumeric id with digits", lambda: sms(sender="Acme 5550100"), 200,
                number="Acme 5550100"),
    NotOursCase("short code", lambda: sms(sender="72345"), 200, number="72345"),
    NotOursCase("too many digits", lambda: sms(sender="+1555010012345678"), 200,
                number="+1555010012345678"),
    NotOursCase("WhatsApp", lambda: whatsapp("Hi"), 200, (SMS_ONLY,), number=PARENT),
    NotOursCase("WhatsApp, a STOP", lambda: whatsapp("STOP"), 200, (SMS_ONLY,), number=PARENT),
    NotOursCase("Messenger", lambda: sms(sender="messenger:2459872389823", to="messenger:1029384"),
                200, (SMS_ONLY,), number="2459872389823"),
    NotOursCase("RCS", lambda: sms(sender=f"rcs:{PARENT}", to="rcs:office_agent"), 200, (SMS_ONLY,),
                number=PARENT),
]  # fmt: skip


@BOTH_WAYS
@pytest.mark.parametrize("case", NOT_OURS, ids=lambda c: c.label)
def test_a_text_not_for_us(
    app: Flask,
    redis: redis_lib.Redis,
    captured: pytest.LogCaptureFixture,
    signing: Signing,
    case: NotOursCase,
) -> None:
    before = stored_keys(redis)
    response = post_form(app.test_client(), "/sms", case.fields(), signing)
    assert response.status_code == case.status
    if case.replies == ("first reply",):
        assert replies(response) == first_reply(app)
        return
    if case.status == 200:
        assert replies(response) == list(case.replies)
    # Nothing stored: no conversation, no thread, no claimed MessageSid.
    assert stored_keys(redis) == before
    logged = "\n".join(str(vars(r)) for r in captured.records)
    if case.number:
        assert case.number not in logged


def test_the_sms_only_reply_is_one_gsm_segment(app: Flask) -> None:
    text = services_of(app).flow.both_languages("sms_only")
    assert text == SMS_ONLY
    count = count_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1)


def test_a_whatsapp_text_never_starts_the_phone_s_sms_conversation(app: Flask) -> None:
    client = app.test_client()
    for body in ("Hi", "1", "9"):
        assert replies(post_form(client, "/sms", whatsapp(body), SHARED_KEY)) == [SMS_ONLY]
    assert conversation_of(app, PARENT) is None
    assert conversation_of(app, f"whatsapp:{PARENT}") is None
    # The same parent by SMS starts from the beginning.
    assert replies(post_form(client, "/sms", sms("Hi"), SHARED_KEY)) == first_reply(app)


def test_a_loop_is_logged_masked(app: Flask, captured: pytest.LogCaptureFixture) -> None:
    assert (
        replies(post_form(app.test_client(), "/sms", sms(sender=TEST_FROM_NUMBER), AUTH_TOKEN))
        == []
    )
    [line] = [r.getMessage() for r in captured.records if "not a conversation" in r.getMessage()]
    assert line.endswith(
        f"from ***{TEST_FROM_NUMBER[-4:]}: our own number, not a conversation (ignored)"
    )


# --- status callbacks as Twilio sends them ----------------------------------------------------


def send_a_text(app: Flask, twilio_api: FakeTwilio, phone: str = PARENT) -> tuple[str, str]:
    """Send a staff text through the local Twilio API; return (message id, provider sid)."""
    followup_id = seed_followup(app, phone=phone)
    services = services_of(app)
    message_id = "staff-" + uuid.uuid4().hex
    assert services.outbound.create(
        message_id, phone, "Can we call you?", "staff", followup_id, time.time()
    )
    with app.app_context():
        assert jobs.send_text(message_id) == "sent"
    return message_id, twilio_api.messages[-1].sid


def outbound_status(app: Flask, message_id: str) -> str:
    message = services_of(app).outbound.get(message_id)
    assert message is not None
    return str(message.status)


#: Each status Twilio documents, and where a queued text stands after it.
STATUS_AFTER = {
    "accepted": "queued",  # before queued: a text never moves back
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "read": "read",
    "canceled": "canceled",
    "partially_delivered": "partially_delivered",
    "receiving": "queued",  # an inbound message's: ignored
    "received": "queued",
}


@BOTH_WAYS
@pytest.mark.parametrize(("status", "after"), STATUS_AFTER.items())
def test_each_status_twilio_sends(
    app: Flask, twilio_api: FakeTwilio, signing: Signing, status: str, after: str
) -> None:
    message_id, sid = send_a_text(app, twilio_api)
    assert outbound_status(app, message_id) == "queued"
    response = post_form(app.test_client(), "/sms/status", status_callback(sid, status), signing)
    assert response.status_code == 204
    assert outbound_status(app, message_id) == after
    assert after in {s.value for s in DeliveryStatus}


@BOTH_WAYS
@pytest.mark.parametrize("status", STATUS_AFTER)
def test_each_status_for_a_sid_we_do_not_know_is_accepted(
    app: Flask, redis: redis_lib.Redis, signing: Signing, status: str
) -> None:
    sid = new_sid()
    response = post_form(app.test_client(), "/sms/status", status_callback(sid, status), signing)
    assert response.status_code == 204
    parked = redis.llen(keys.status_parked(sid))
    assert parked == (0 if status in ("receiving", "received") else 1)


@dataclass(frozen=True)
class CallbackCase:
    label: str
    #: Builds the callback for a sent text's sid.
    fields: Callable[[str], Fields]
    status: int
    #: The text's status afterwards.
    after: str = "queued"


def callback(
    status: str,
    error_code: str = "",
    to: str = PARENT,
    *,
    drop: tuple[str, ...] = (),
    extra: Sequence[tuple[str, str]] = (),
    **values: str,
) -> Callable[[str], Fields]:
    """Return a builder of a sent text's callback: some fields dropped, changed or added."""
    return lambda sid: [
        *replaced(without(status_callback(sid, status, error_code, to), *drop), **values),
        *extra,
    ]


HUGE = "x" * 60_000
C = CallbackCase
CALLBACK_CASES = [
    C("SmsStatus without MessageStatus", callback("delivered", drop=("MessageStatus",)), 204,
      "delivered"),
    C("SmsSid without MessageSid", callback("sent", drop=("MessageSid",)), 204, "sent"),
    C("only the old names", callback("sent", drop=("MessageSid", "MessageStatus")), 204, "sent"),
    C("MessageStatus wins over SmsStatus", callback("delivered", SmsStatus="sent"), 204,
      "delivered"),
    C("status in capitals", callback("sent", MessageStatus="SENT"), 204, "sent"),
    C("unknown status", callback("exploded"), 400),
    C("one of our own statuses", callback("suppressed"), 400),
    C("status blank, sid given", callback("sent", MessageStatus="", SmsStatus=""), 400),
    C("sid blank, status given", callback("sent", MessageSid="", SmsSid=""), 400),
    C("sid with spaces", callback("sent", MessageSid="SM 1"), 400),
    C("60 KB MessageStatus", callback("sent", MessageStatus=HUGE), 400),
    C("60 KB SmsStatus alone", callback("sent", drop=("MessageStatus",), SmsStatus=HUGE), 400),
    C("60 KB MessageSid", callback("sent", MessageSid=HUGE), 400),
    C("60 KB ErrorCode", callback("failed", HUGE), 400),
    C("60 KB To", callback("failed", OPTED_OUT, to=HUGE), 400),
    C("ErrorCode not a number", callback("failed", "30003x"), 400),
    C("ErrorCode of 11 digits", callback("failed", "1" * 11), 400),
    C("60 KB field we do not read", callback("sent", extra=[("ChannelToAddress", HUGE)]), 204,
      "sent"),
    C("another account's", callback("sent", AccountSid=OTHER_ACCOUNT), 403),
]  # fmt: skip


@BOTH_WAYS
@pytest.mark.parametrize("case", CALLBACK_CASES, ids=lambda c: c.label)
def test_a_status_callback(
    app: Flask,
    redis: redis_lib.Redis,
    twilio_api: FakeTwilio,
    captured: pytest.LogCaptureFixture,
    signing: Signing,
    case: CallbackCase,
) -> None:
    message_id, sid = send_a_text(app, twilio_api)
    before = stored_keys(redis)
    response = post_form(app.test_client(), "/sms/status", case.fields(sid), signing)
    assert response.status_code == case.status, response.get_data(as_text=True)
    assert outbound_status(app, message_id) == case.after
    if case.status != 204:
        assert stored_keys(redis) == before, "nothing seen, parked or applied"
    logged = "\n".join(str(vars(r)) for r in captured.records)
    assert "x" * 100 not in logged
    assert "x" * 100 not in response.get_data(as_text=True)


@BOTH_WAYS
@pytest.mark.parametrize(
    "fields",
    [
        [("AccountSid", TEST_ACCOUNT_SID), ("ApiVersion", "2010-04-01")],
        [("MessageSid", ""), ("MessageStatus", ""), ("AccountSid", TEST_ACCOUNT_SID)],
        [],
    ],
    ids=["no sid, no status", "both blank", "empty form"],
)
def test_a_blank_callback_gets_200_and_is_ignored(
    app: Flask, redis: redis_lib.Redis, signing: Signing, fields: Fields
) -> None:
    before = stored_keys(redis)
    response = post_form(app.test_client(), "/sms/status", fields, signing)
    assert response.status_code == 200
    assert response.get_data() == b""
    assert stored_keys(redis) == before


@BOTH_WAYS
@pytest.mark.parametrize(
    "error_codes",
    [("",) * 5, ("30003",) * 5, ("30003", "30005", "", "30008", "30003")],
    ids=["same", "same error", "errors vary"],
)
def test_duplicate_callbacks_for_an_unknown_sid_park_once(
    app: Flask,
    redis: redis_lib.Redis,
    twilio_api: FakeTwilio,
    signing: Signing,
    error_codes: tuple[str, ...],
) -> None:
    """Twilio retries a callback; five of one (sid, status) before the sid is known park once."""
    client, sid = app.test_client(), new_sid()
    for code in error_codes:
        callback = status_callback(sid, "undelivered", code)
        assert post_form(client, "/sms/status", callback, signing).status_code == 204
    assert redis.llen(keys.status_parked(sid)) == 1
    # Another status of the same text is another callback: parked beside it.
    assert (
        post_form(client, "/sms/status", status_callback(sid, "sent"), signing).status_code == 204
    )
    assert redis.llen(keys.status_parked(sid)) == 2


def test_parked_duplicates_apply_once_when_the_sid_is_recorded(
    app: Flask, redis: redis_lib.Redis, twilio_api: FakeTwilio
) -> None:
    """Five retries of a failure that beat the send's answer: one problem for staff, not five."""
    client = app.test_client()
    for body in ENGLISH:
        assert post_form(client, "/sms", sms(body), SHARED_KEY).status_code == 200
    followup_id = conversation_of(app, PARENT).conversation_id
    message_id = result_message_id(followup_id)
    twilio_api.delay = 1.5
    twilio_api.script("timeout")  # taken by the provider, but its answer comes too late
    with app.app_context():
        jobs.evaluate_screening(followup_id)
        with pytest.raises(AmbiguousSendError):
            jobs.send_text(message_id)
    [taken] = twilio_api.messages
    for _ in range(5):
        callback = status_callback(taken.sid, "undelivered", "30003")
        assert post_form(client, "/sms/status", callback, SHARED_KEY).status_code == 204
    assert redis.llen(keys.status_parked(taken.sid)) == 1
    with app.app_context():
        assert jobs.send_text(message_id) == "sent"  # the retry finds it, and applies what waited
    assert outbound_status(app, message_id) == "undelivered"
    assert redis.llen(keys.status_parked(taken.sid)) == 0
    followup = services_of(app).followups.get(followup_id)
    assert followup is not None
    assert len(followup.problems) == 1
    assert "30003" in followup.problems[0]


# --- 21610 for a phone we hold no message for ---------------------------------------------------

STRANGER = "+15550109876"


@BOTH_WAYS
@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_a_21610_for_a_phone_we_never_texted_records_the_opt_out(
    app: Flask, captured: pytest.LogCaptureFixture, signing: Signing, status: str
) -> None:
    store, client = services_of(app).store, app.test_client()
    assert not store.is_opted_out(STRANGER)
    callback = status_callback(new_sid(), status, OPTED_OUT, to=STRANGER)
    assert post_form(client, "/sms/status", callback, signing).status_code == 204
    assert store.is_opted_out(STRANGER)
    # The phone's first text gets silence, as after STOP.
    assert replies(post_form(client, "/sms", sms("Hi", sender=STRANGER), signing)) == []
    logged = "\n".join(str(vars(r)) for r in captured.records)
    assert STRANGER not in logged and STRANGER[1:] not in logged
    assert "***9876" in logged


@BOTH_WAYS
@pytest.mark.parametrize(
    "to",
    [TEST_FROM_NUMBER, "ACMEBANK", "72345", f"whatsapp:{STRANGER}", ""],
    ids=["our number", "sender id", "short code", "whatsapp", "no To"],
)
def test_a_21610_opts_out_only_a_parent_s_phone(
    app: Flask, redis: redis_lib.Redis, signing: Signing, to: str
) -> None:
    callback = status_callback(new_sid(), "failed", OPTED_OUT, to=to)
    if not to:
        callback = without(callback, "To")
    assert post_form(app.test_client(), "/sms/status", callback, signing).status_code == 204
    assert not redis.keys(keys.opt_out("*"))


@BOTH_WAYS
def test_a_retried_21610_for_an_unknown_sid_does_not_undo_a_later_start(
    app: Flask, signing: Signing
) -> None:
    client, store = app.test_client(), services_of(app).store
    callback = status_callback(new_sid(), "undelivered", OPTED_OUT, to=STRANGER)
    assert post_form(client, "/sms/status", callback, signing).status_code == 204
    assert replies(post_form(client, "/sms", sms("START", sender=STRANGER), signing)) != []
    assert not store.is_opted_out(STRANGER)
    assert post_form(client, "/sms/status", callback, signing).status_code == 204
    assert not store.is_opted_out(STRANGER)


# --- a whole screening under shared-key signing, through gunicorn ------------------------------


@dataclass(frozen=True)
class Server:
    """A gunicorn server, called as Twilio calls PUBLIC_BASE_URL."""

    base: str

    def post(self, path: str, fields: Fields, signing: Signing) -> tuple[int, str]:
        """POST a signed form; return the status and the body."""
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(fields).encode(),
            headers=signing.headers(self.base + path, fields),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def expected_replies(app: Flask) -> list[list[str]]:
    """Return the replies the English screening gets, text by text: the flow's own texts."""
    flow = services_of(app).flow
    return [
        first_reply(app),
        *[[question.prompt["en"]] for question in flow.questions],
        [flow.message("reviewing", "en")],
    ]


@pytest.mark.slow
def test_a_whole_screening_under_shared_key_signing_through_gunicorn(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, twilio_api: FakeTwilio
) -> None:
    port = free_port()
    config = provider_config(
        redis_url,
        tmp_path,
        twilio_api,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        TWILIO_WEBHOOK_SIGNING_KEY=TEST_SIGNING_KEY,
    )
    app = build_app(config)  # on the same Redis: runs the jobs, reads the records
    flow = services_of(app).flow
    with gunicorn_server(config, tmp_path, port, "--workers", "2") as base:
        server = Server(base)
        for body, expected in zip(ENGLISH, expected_replies(app), strict=True):
            status, xml = server.post("/sms", sms(body), SHARED_KEY)
            assert status == 200, xml
            assert twiml_messages(xml) == expected, body
        # A forged shared-key signature is refused; the auth token's still works beside it.
        forged = _shared(HEADER, secret="not-the-shared-key-0123456789")
        assert server.post("/sms", sms("RESTART"), forged)[0] == 403
        status, xml = server.post("/sms", sms("HELP"), AUTH_TOKEN)
        assert (status, twiml_messages(xml)) == (200, [flow.message("help", "en")])

        # The worker's part, in this process: the result text reaches the provider's API.
        run_jobs(app)
        [result] = [m for m in twilio_api.messages if m.to == PARENT]
        assert "not legal advice" in result.body.lower()
        assert result.status_callback == f"{base}/sms/status"

        # Twilio's callbacks for it, shared-key signed (one retried), through gunicorn too.
        for word in ("sent", "delivered", "delivered"):
            code, _ = server.post("/sms/status", status_callback(result.sid, word), SHARED_KEY)
            assert code == 204
    followup_id = conversation_of(app, PARENT).conversation_id
    assert outbound_status(app, result_message_id(followup_id)) == "delivered"
