"""Logs keep parents' data out: phones masked, no message bodies, one line per record."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import (
    build_app,
    inbound_form,
    make_config,
    services_of,
    signed_config,
    twiml_messages,
)
from flask import Flask

from sms_service.logs import OneLineFormatter, mask_phone

PHONE = "+15550100123"
#: The number as it may also be written: with or without the country code.
PHONE_FORMS = (PHONE, PHONE[1:], PHONE[2:])
MASKED = "***0123"
#: A word that appears in the texts below and nowhere in the service's own messages.
SECRET = "quokka"
EXCHANGE = [
    f"Hi, {SECRET} here",
    "1",
    f"{SECRET} pancakes",  # not an age: re-asked
    "9",
    "?",
    "A",
    "Y",
    "C",
    "Y",
    "B",
    "N",
    "A",
    "A",
    "N",
    "Y",  # the last answer: the screening is complete
    f"what happens now {SECRET}",
    f"please stop texting me {SECRET}",
]
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@pytest.fixture
def app(redis: redis_lib.Redis, redis_url: str, tmp_path: Path) -> Flask:
    """Return a dev-mode app that logs at INFO, as in production."""
    return build_app(make_config(redis_url, tmp_path, LOG_LEVEL="INFO"))


@pytest.fixture
def captured(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every record logged during the test (the package logger does not propagate)."""
    package = logging.getLogger("sms_service")
    package.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="sms_service")
    yield caplog
    package.removeHandler(caplog.handler)


def text(app: Flask, body: str, phone: str = PHONE, **extra: str) -> list[str]:
    response = app.test_client().post("/sms", data=inbound_form(phone, body, **extra))
    assert response.status_code == 200, response.get_data(as_text=True)
    return twiml_messages(response.get_data(as_text=True))


def everything_in(record: logging.LogRecord) -> str:
    """Return all a record holds and all a handler could print of it."""
    return f"{OneLineFormatter(FORMAT).format(record)}\n{record.getMessage()}\n{vars(record)}"


def test_full_exchange_logs_phone_masked_and_no_body(
    app: Flask, captured: pytest.LogCaptureFixture
) -> None:
    replies = [text(app, body) for body in EXCHANGE]
    flow = services_of(app).flow
    assert replies[14] == [flow.message("reviewing", "en")]
    assert replies[-1] == [flow.message("revoke_confirm", "en")]

    records = captured.records
    service_records = [r for r in records if r.name.startswith("sms_service")]
    assert len(service_records) >= len(EXCHANGE)
    assert any(MASKED in r.getMessage() for r in service_records)
    for record in records:
        logged = everything_in(record)
        for form in PHONE_FORMS:
            assert form not in logged, logged
        assert SECRET not in logged.casefold(), logged


def test_rejected_signature_logs_no_phone(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    signed_app = build_app(signed_config(redis_url, tmp_path, LOG_LEVEL="INFO"))
    package = logging.getLogger("sms_service")
    package.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="sms_service")
    try:
        form = inbound_form(PHONE, f"hello {SECRET}")
        response = signed_app.test_client().post(
            "/sms", data=form, headers={"X-Twilio-Signature": "bad"}
        )
    finally:
        package.removeHandler(caplog.handler)
    assert response.status_code == 403
    assert caplog.records, "a rejected request is logged"
    for record in caplog.records:
        logged = everything_in(record)
        assert all(form not in logged for form in PHONE_FORMS), logged
        assert SECRET not in logged.casefold(), logged


INJECTIONS = ["\r\nFAKE LOG LINE", "\nFAKE LOG LINE", "\rFAKE LOG LINE", "\u2028FAKE LOG LINE"]


def _cases() -> Iterator[object]:
    for injection in INJECTIONS:
        label = repr(injection)[1:8]
        yield pytest.param("Body", injection, id=f"Body {label}")
        yield pytest.param("MessageSid", injection, id=f"MessageSid {label}")
        yield pytest.param("From", injection, id=f"From {label}")
    nel = "\x85FAKE LOG LINE"
    yield pytest.param("Body", nel, id="Body NEL")
    yield pytest.param("MessageSid", nel, id="MessageSid NEL")


@pytest.mark.parametrize(("field", "injection"), list(_cases()))
def test_injected_line_breaks_stay_on_one_line(
    app: Flask,
    captured: pytest.LogCaptureFixture,
    field: str,
    injection: str,
) -> None:
    captured.set_level(logging.DEBUG, logger="sms_service")  # even DEBUG never shows a body
    values = {"Body": "9", "MessageSid": "SM0123456789abcdef", "From": PHONE}
    values[field] = values[field] + injection
    form = inbound_form(values["From"], values["Body"], sid=values["MessageSid"])
    text(app, "hi", phone=values["From"])
    response = app.test_client().post("/sms", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)

    formatter = OneLineFormatter(FORMAT)
    lines = [formatter.format(r) for r in captured.records if r.name.startswith("sms_service")]
    assert lines
    if field == "MessageSid":  # logged, escaped; a body is never logged, a phone only masked
        assert any("FAKE LOG LINE" in line for line in lines), lines
    else:
        assert not any("FAKE LOG LINE" in line for line in lines), lines
    for line in lines:
        assert "\n" not in line, line
        assert "\r" not in line, line
        assert len(line.splitlines()) == 1, line


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+15551234567", "***4567"),
        ("15551234567", "***4567"),
        ("+447911123456", "***3456"),
        ("whatsapp:+15551234567", "***4567"),
        ("(555) 123-4567", "***4567"),
        ("12345", "***"),  # a short sender would be shown whole by its last 4
        ("123", "***"),
        ("", "***"),
        ("not a number", "***"),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["+15551234567", "whatsapp:+15551234567", "+447911123456"])
def test_mask_phone_hides_all_but_four_digits(phone: str) -> None:
    masked = mask_phone(phone)
    digits = "".join(ch for ch in phone if ch.isdigit())
    assert digits not in masked
    assert sum(ch.isdigit() for ch in masked) == 4
