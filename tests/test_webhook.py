"""POST /sms and GET /healthz: signatures, form parsing, exactly-once delivery, bad input.

Most tests are tables, after nyaruka/courier's handler tests: each row builds one request
(signing it like Twilio would), then names the status and the replies it expects.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from conftest import (
    TEST_AUTH_TOKEN,
    build_app,
    inbound_form,
    make_config,
    services_of,
    sign,
    signed_config,
    state_of,
    twiml_messages,
)
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sms_service.engine import Flow

PARENT = "+15550100123"
LOCAL_URL = "http://localhost/sms"
PUBLIC_BASE = "https://sms.example.org"
PUBLIC_URL = f"{PUBLIC_BASE}/sms"
#: What a TLS-terminating proxy adds when it forwards Twilio's https call.
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example.org"}
#: A URL of the client's choosing, and the headers that would claim it past a proxy.
OTHER_URL = "http://other.example/sms"
CLIENT_FORWARDED = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "other.example"}
#: Several hundred KB: far over MAX_CONTENT_LENGTH (Twilio's real posts are a few KB).
HUGE = "x" * 400_000


# --- building requests -------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    form: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/sms"


Build = Callable[[], Req]


def _form(omit: Iterable[str], fields: Mapping[str, str]) -> dict[str, str]:
    form = inbound_form(PARENT, "hello")
    form.update(fields)
    for name in omit:
        form.pop(name)
    return form


def signed(
    url: str = LOCAL_URL,
    *,
    path: str = "/sms",
    token: str = TEST_AUTH_TOKEN,
    headers: Mapping[str, str] | None = None,
    omit: Iterable[str] = (),
    tamper: Mapping[str, str | None] | None = None,
    **fields: str,
) -> Build:
    """Build a request signed for url; `tamper` then changes (None: drops) form fields."""

    def build() -> Req:
        form = _form(omit, fields)
        signature = sign(url, form, token)
        for name, value in (tamper or {}).items():
            if value is None:
                form.pop(name)
            else:
                form[name] = value
        return Req(form, {"X-Twilio-Signature": signature, **(headers or {})}, path)

    return build


def unsigned(
    *, headers: Mapping[str, str] | None = None, omit: Iterable[str] = (), **fields: str
) -> Build:
    """Build a request without a signature (or with the headers given)."""
    return lambda: Req(_form(omit, fields), dict(headers or {}))


def post(client: FlaskClient, req: Req) -> TestResponse:
    return client.post(req.path, data=req.form, headers=req.headers)


# --- expected replies --------------------------------------------------------------------

Text = Callable[[Flow], str]
Expect = Callable[[Flow, list[str]], bool]


def prompt(key: str) -> Text:
    return lambda flow: _question(flow, key).prompt["en"]


def hint(key: str) -> Text:
    return lambda flow: _question(flow, key).hint["en"]


def media_not_read(key: str) -> Text:
    """The one reply to a photo with no text: we read only text, then the question again."""
    return lambda flow: (
        f"{flow.message('media_not_read', 'en')} {_question(flow, key).prompt['en']}"
    )


def message(name: str) -> Text:
    return lambda flow: flow.message(name, "en")


def _question(flow: Flow, key: str) -> Any:
    question = flow.question(key)
    assert question is not None, key
    return question


def exactly(*texts: Text) -> Expect:
    """Expect exactly these messages, in this order."""
    return lambda flow, got: got == [text(flow) for text in texts]


def reasks(key: str) -> Expect:
    """Expect the question `key` asked again (its prompt or its hint in a reply)."""

    def check(flow: Flow, got: list[str]) -> bool:
        q = _question(flow, key)
        return bool(got) and any(q.prompt["en"] in m or q.hint["en"] in m for m in got)

    return check


NOTHING = exactly()
FIRST_REPLY = exactly(message("intro"), prompt("lang"))


def assert_twiml(response: TestResponse) -> list[str]:
    """Check a reply is TwiML from MessagingResponse and return its messages."""
    assert response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>'), body
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root), body
    return twiml_messages(body)


# --- tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    label: str
    build: Build
    status: int
    #: Checked on a 200: the replies the TwiML carries.
    expect: Expect = FIRST_REPLY
    #: Settings on top of the fixture's (signed_config or make_config).
    config: Mapping[str, str] = field(default_factory=dict)
    #: Texts the same phone sends first (dev mode tables only).
    before: tuple[str, ...] = ()
    #: Why this row fails today: a known bug, kept as a strict xfail.
    bug: str = ""


def table(cases: Iterable[Case]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.label,
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in cases
    ]


@pytest.fixture
def case_app(redis: redis_lib.Redis, redis_url: str, tmp_path: Path) -> Callable[..., Flask]:
    """Return a factory of apps on the test Redis, signed (credentials set) or in dev mode."""

    def build(config: Mapping[str, str], *, credentials: bool) -> Flask:
        settings = (signed_config if credentials else make_config)(redis_url, tmp_path, **config)
        return build_app(settings)

    return build


def run_case(app: Flask, case: Case) -> None:
    client = app.test_client()
    for body in case.before:
        response = client.post("/sms", data=inbound_form(PARENT, body))
        assert response.status_code == 200, response.get_data(as_text=True)
    response = post(client, case.build())
    assert response.status_code == case.status, response.get_data(as_text=True)
    if case.status == 200:
        got = assert_twiml(response)
        assert case.expect(services_of(app).flow, got), got


PUBLIC = {"PUBLIC_BASE_URL": PUBLIC_BASE}
PROXIED = {"TRUSTED_PROXIES": "1"}

SIGNATURE_CASES = [
    Case("valid signature", signed(), 200),
    Case("missing header", unsigned(), 403),
    Case("empty header", unsigned(headers={"X-Twilio-Signature": ""}), 403),
    Case("wrong signature", unsigned(headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}), 403),
    Case("signed with another token", signed(token="another-auth-token"), 403),
    Case("Body changed after signing", signed(tamper={"Body": "STOP"}), 403),
    Case("From changed after signing", signed(tamper={"From": "+15550199999"}), 403),
    Case("field added after signing", signed(tamper={"MediaUrl0": "https://x.example/a"}), 403),
    Case("field dropped after signing", signed(tamper={"To": None}), 403),
    Case("signed for another path", signed("http://localhost/sms/status"), 403),
    Case("signed for https, called over http", signed("https://localhost/sms"), 403),
    Case("signed for another host", signed("http://sms.example.org/sms"), 403),
    Case("query signed", signed(f"{LOCAL_URL}?office=east", path="/sms?office=east"), 200),
    Case("query not signed", signed(LOCAL_URL, path="/sms?office=east"), 403),
    Case("query changed", signed(f"{LOCAL_URL}?office=east", path="/sms?office=west"), 403),
    Case("query signed, not sent", signed(f"{LOCAL_URL}?office=east"), 403),
    Case(
        "percent-encoded query signed",
        signed(f"{LOCAL_URL}?key=ab%2Fcd", path="/sms?key=ab%2Fcd"),
        200,
    ),
    # The signature is checked before the form is read: 400 only for a genuine request.
    Case("missing From, signed", signed(omit=["From"]), 400),
    Case("missing MessageSid, signed", signed(omit=["MessageSid"]), 400),
    Case("missing From, unsigned", unsigned(omit=["From"]), 403),
    Case("huge POST, signed", signed(Body=HUGE), 413),
    Case("huge POST, unsigned", unsigned(Body=HUGE), 413),
    # PUBLIC_BASE_URL: the URL Twilio calls, whatever the request looks like behind TLS.
    Case("public URL: signed for it", signed(PUBLIC_URL), 200, config=PUBLIC),
    Case("public URL: signed for local URL", signed(LOCAL_URL), 403, config=PUBLIC),
    Case(
        "public URL: given with a trailing slash",
        signed(PUBLIC_URL),
        200,
        config={"PUBLIC_BASE_URL": f"{PUBLIC_BASE}/"},
    ),
    Case(
        "public URL: query signed",
        signed(f"{PUBLIC_URL}?office=east", path="/sms?office=east"),
        200,
        config=PUBLIC,
    ),
    Case(
        "public URL: query not signed",
        signed(PUBLIC_URL, path="/sms?office=east"),
        403,
        config=PUBLIC,
    ),
    Case(
        "public URL: percent-encoded query signed",
        signed(f"{PUBLIC_URL}?key=ab%2Fcd", path="/sms?key=ab%2Fcd"),
        200,
        config=PUBLIC,
    ),
    # The signed URL is PUBLIC_BASE_URL's, never one the request names: a client picks its
    # Host and, reaching the app past the proxy, its X-Forwarded-* headers too.
    Case(
        "Host chosen by the client, signed for it",
        signed(OTHER_URL, headers={"Host": "other.example"}),
        403,
    ),
    Case(
        "Host chosen by the client, signed for the public URL",
        signed(LOCAL_URL, headers={"Host": "other.example"}),
        200,
    ),
    Case(
        "proxy trusted: forwarded host chosen by the client, signed for it",
        signed(OTHER_URL, headers=CLIENT_FORWARDED),
        403,
        config=PROXIED,
    ),
    Case(
        "proxy trusted: forwarded https chosen by the client, signed for it",
        signed("https://localhost/sms", headers={"X-Forwarded-Proto": "https"}),
        403,
        config=PROXIED,
    ),
    Case(
        "proxy not trusted: forwarded, signed for the forwarded URL",
        signed(PUBLIC_URL, headers=FORWARDED),
        403,
    ),
    Case(
        "proxy trusted: forwarded, signed for the public URL",
        signed(PUBLIC_URL, headers=FORWARDED),
        200,
        config={**PUBLIC, **PROXIED},
    ),
    Case(
        "proxy trusted: forwarded port 443, signed for the public URL",
        signed(PUBLIC_URL, headers={**FORWARDED, "X-Forwarded-Port": "443"}),
        200,
        config={**PUBLIC, **PROXIED},
    ),
    Case(
        "proxy trusted: forwarded, signed for the local URL",
        signed(LOCAL_URL, headers=FORWARDED),
        403,
        config={**PUBLIC, **PROXIED},
    ),
    Case(
        "proxy trusted: query signed",
        signed(f"{PUBLIC_URL}?office=east", path="/sms?office=east", headers=FORWARDED),
        200,
        config={**PUBLIC, **PROXIED},
    ),
    Case(
        "proxy trusted: percent-encoded query signed",
        signed(f"{PUBLIC_URL}?key=ab%2Fcd", path="/sms?key=ab%2Fcd", headers=FORWARDED),
        200,
        config={**PUBLIC, **PROXIED},
    ),
]


@pytest.mark.parametrize("case", table(SIGNATURE_CASES))
def test_signature(case_app: Callable[..., Flask], case: Case) -> None:
    run_case(case_app(case.config, credentials=True), case)


FORM_CASES = [
    Case("dev mode: unsigned text served", unsigned(), 200),
    Case("dev mode: bad signature ignored", unsigned(headers={"X-Twilio-Signature": "x"}), 200),
    Case("missing From", unsigned(omit=["From"]), 400),
    Case("missing MessageSid", unsigned(omit=["MessageSid"]), 400),
    Case("blank From", unsigned(From="   "), 400),
    Case("blank MessageSid", unsigned(MessageSid=""), 400),
    Case("empty form", lambda: Req({}), 400),
    Case("From too long", unsigned(From="+1" + "5" * 100), 400),
    Case(
        "SmsSid instead of MessageSid", unsigned(omit=["MessageSid"], SmsSid="SM" + "a" * 32), 200
    ),
    Case("NumMedia not a number", unsigned(NumMedia="lots"), 200),
    Case("huge Body", unsigned(Body=HUGE), 413),
    Case("huge unknown field", unsigned(Padding=HUGE), 413),
]


@pytest.mark.parametrize("case", table(FORM_CASES))
def test_form(case_app: Callable[..., Flask], case: Case) -> None:
    run_case(case_app(case.config, credentials=False), case)


def text(body: str, **fields: str) -> Build:
    return unsigned(Body=body, **fields)


MEDIA = {
    "NumMedia": "1",
    "MediaUrl0": "https://api.example/media/ME1",
    "MediaContentType0": "image/jpeg",
}
AT_LANGUAGE = ("hi",)
AT_AGE = ("hi", "1")

INPUT_CASES = [
    Case("empty body", text(""), 200, exactly(prompt("lang"), hint("lang")), before=AT_LANGUAGE),
    Case(
        "blank body", text(" \t "), 200, exactly(prompt("lang"), hint("lang")), before=AT_LANGUAGE
    ),
    Case("no Body field", unsigned(omit=["Body"]), 200, reasks("lang"), before=AT_LANGUAGE),
    Case(
        "media only",
        text("", **MEDIA),
        200,
        exactly(media_not_read("lang")),
        before=AT_LANGUAGE,
    ),
    Case(
        "media only at age",
        text("", **MEDIA),
        200,
        exactly(media_not_read("age")),
        before=AT_AGE,
    ),
    Case("1600 emoji", text("\U0001f600" * 1600), 200, reasks("age"), before=AT_AGE),
    Case(
        "1600 characters of joined emoji",
        text(("\U0001f469\u200d\U0001f467" * 600)[:1600]),
        200,
        reasks("age"),
        before=AT_AGE,
    ),
    Case(
        "CRLF and control characters only",
        text("\r\n\x00\x07\x1b[2J\x7f\u2028\r\n"),
        200,
        reasks("age"),
        before=AT_AGE,
    ),
    Case(
        "CRLF around an answer",
        text("\r\n9\x00\r\n"),
        200,
        exactly(prompt("school")),
        before=AT_AGE,
    ),
    Case("STOP as the first text", text("STOP"), 200, NOTHING),
    Case("STOP", text("STOP"), 200, NOTHING, before=AT_LANGUAGE),
    Case("stop", text("stop"), 200, NOTHING, before=AT_LANGUAGE),
    Case("' Stop '", text(" Stop "), 200, NOTHING, before=AT_AGE),
    Case(
        "Stop please", text("Stop please"), 200, exactly(message("revoke_confirm")), before=AT_AGE
    ),
    Case(
        "please stop texting me",
        text("please stop texting me"),
        200,
        exactly(message("revoke_confirm")),
        before=AT_LANGUAGE,
    ),
    Case(
        "no me escriban mas",
        text("no me escriban mas"),
        200,
        exactly(message("revoke_confirm")),
        before=AT_AGE,
    ),
]


@pytest.mark.parametrize("case", table(INPUT_CASES))
def test_input(app: Flask, case: Case) -> None:
    run_case(app, case)


# --- opt-out, exactly once, odd senders --------------------------------------------------

WHILE_OPTED_OUT = [
    "hi",
    "9",
    "HELP",
    "?",
    "RESTART",
    "hola",
    "Stop please",
    "please stop texting me",
]


@pytest.mark.parametrize(
    ("opt_out", "confirmation"),
    [
        ("STOP", NOTHING),
        ("stop", NOTHING),
        (" Stop ", NOTHING),
        ("Stop please", exactly(message("revoke_confirm"))),
        ("please stop texting me", exactly(message("revoke_confirm"))),
        ("no me escriban mas", exactly(message("revoke_confirm"))),
    ],
)
def test_opt_out_is_silent_until_start(app: Flask, opt_out: str, confirmation: Expect) -> None:
    client, flow, store = app.test_client(), services_of(app).flow, services_of(app).store

    def send(body: str) -> list[str]:
        response = client.post("/sms", data=inbound_form(PARENT, body))
        assert response.status_code == 200, response.get_data(as_text=True)
        return assert_twiml(response)

    send("hi")
    got = send(opt_out)
    assert confirmation(flow, got), got
    assert store.is_opted_out(PARENT)
    for body in WHILE_OPTED_OUT:
        assert send(body) == [], body
    assert store.is_opted_out(PARENT)
    assert send("START") == [flow.message("resubscribed", "en"), prompt("lang")(flow)]
    assert not store.is_opted_out(PARENT)


@pytest.mark.parametrize(
    ("before", "body", "expect", "inbound_count"),
    [
        pytest.param((), "hi", FIRST_REPLY, 1, id="first text"),
        pytest.param(AT_AGE, "9", exactly(prompt("school")), 3, id="an answer"),
        pytest.param(AT_LANGUAGE, "STOP", NOTHING, 2, id="STOP"),
    ],
)
def test_message_sid_applied_once(
    app: Flask, before: tuple[str, ...], body: str, expect: Expect, inbound_count: int
) -> None:
    client = app.test_client()
    for earlier in before:
        assert client.post("/sms", data=inbound_form(PARENT, earlier)).status_code == 200
    form = inbound_form(PARENT, body, sid="SM" + uuid.uuid4().hex)
    first = client.post("/sms", data=form)
    assert first.status_code == 200
    assert expect(services_of(app).flow, assert_twiml(first))
    state = state_of(app, PARENT)

    for _ in range(4):
        retry = client.post("/sms", data=form)
        assert retry.status_code == 200
        assert retry.get_data() == first.get_data()
        assert retry.headers["Content-Type"] == first.headers["Content-Type"]
    after = state_of(app, PARENT)
    assert after.inbound_count == inbound_count
    assert after.to_json() == state.to_json()


# Short codes, sender ids and other channels are not conversations: tests/test_twilio_payloads.py.
@pytest.mark.parametrize("sender", ["(555) 010-0123", "15550100123", "+44 20 7946 0958"])
def test_a_phone_written_another_way_is_served(app: Flask, sender: str) -> None:
    client, flow = app.test_client(), services_of(app).flow
    first = client.post("/sms", data=inbound_form(sender, "hi"))
    assert first.status_code == 200
    assert FIRST_REPLY(flow, assert_twiml(first))
    second = client.post("/sms", data=inbound_form(sender, "1"))
    assert assert_twiml(second) == [prompt("age")(flow)]

    state = state_of(app, sender)
    assert state is not None
    assert state.phone == sender
    assert state.inbound_count == 2
    digits = "+" + "".join(ch for ch in sender if ch.isdigit())
    assert digits == sender or state_of(app, digits) is None


# --- health ------------------------------------------------------------------------------


def test_healthz_ok_when_redis_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "redis": True}


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:1/0", "unix:///nonexistent/sms-screener/redis.sock"],
    ids=["closed port", "missing socket"],
)
def test_healthz_503_when_redis_is_down(tmp_path: Path, url: str) -> None:
    app = build_app(make_config(url, tmp_path))  # building needs no Redis
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "redis": False}


def test_a_text_while_redis_is_down_gets_503_so_the_provider_retries(tmp_path: Path) -> None:
    app = build_app(make_config("redis://127.0.0.1:1/0", tmp_path))
    response = app.test_client().post("/sms", data=inbound_form("+15550100123", "9"))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
