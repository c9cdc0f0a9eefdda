"""Request bodies: too large is 413 before the signature, chunked too; bad UTF-8 is replaced."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from conftest import inbound_form, sign, twiml_messages
from flask import Flask

from sms_service import MAX_CONTENT_LENGTH

#: What a server that reads chunked bodies (gunicorn) tells the app.
CHUNKED = {"wsgi.input_terminated": True}


def test_a_chunked_body_over_the_limit_is_413_not_403(signed_app: Flask) -> None:
    """No Content-Length: werkzeug cut the body at the limit, and the signature failed."""
    body = urlencode(inbound_form("+15550100321", "x" * (10 * 1024 * 1024))).encode()
    response = signed_app.test_client().post(
        "/sms",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "whatever", "Transfer-Encoding": "chunked"},
        environ_overrides=CHUNKED,
    )
    assert response.status_code == 413


def test_a_chunked_body_under_the_limit_is_read(signed_app: Flask) -> None:
    form = inbound_form("+15550100322", "hi")
    response = signed_app.test_client().post(
        "/sms",
        input_stream=io.BytesIO(urlencode(form).encode()),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign("http://localhost/sms", form)},
        environ_overrides=CHUNKED,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert twiml_messages(response.get_data(as_text=True))


def test_a_large_content_length_is_413_before_the_signature(signed_app: Flask) -> None:
    response = signed_app.test_client().post(
        "/sms",
        data=b"Body=" + b"x" * MAX_CONTENT_LENGTH,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "whatever"},
    )
    assert response.status_code == 413


def test_bytes_that_are_not_utf8_are_replaced_not_the_whole_form_dropped(
    signed_app: Flask,
) -> None:
    """A raw 0xE9 (latin-1 é) in Body: the text is answered, its bad byte read as U+FFFD."""
    form = inbound_form("+15550100323", "caf\ufffd")
    raw = urlencode(form).encode().replace(b"caf%EF%BF%BD", b"caf\xe9")
    assert b"caf\xe9" in raw
    response = signed_app.test_client().post(
        "/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign("http://localhost/sms", form)},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert twiml_messages(response.get_data(as_text=True)), "the first reply"


def test_percent_encoded_bytes_that_are_not_utf8_are_replaced(signed_app: Flask) -> None:
    form = inbound_form("+15550100324", "\ufffd")
    raw = urlencode(form).encode().replace(b"Body=%EF%BF%BD", b"Body=%FF")
    assert b"Body=%FF" in raw
    response = signed_app.test_client().post(
        "/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign("http://localhost/sms", form)},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
