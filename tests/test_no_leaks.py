"""No phone number in an exception's text, a traceback, a job's failure or any log record.

Our exceptions name no phone or body (redacted at the source); a job's failure reaches RQ
redacted; and every log record of the process is redacted as a second line of defence.
"""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, signed_config
from twilio_api import FakeTwilio

from sms_service.config import load_settings
from sms_service.jobs import JobFailedError, redacted_failures
from sms_service.logs import OneLineFormatter, configure_logging, redact
from sms_service.outbound.sender import PermanentSendError, RetryableSendError, TwilioSender

PHONE = "+15550100987"
#: The number as a log line, a URL or a traceback may write it.
PHONE_FORMS = (PHONE, "%2B15550100987", "15550100987", "5550100987", "+1 555-010-0987")


def leaks(text: str) -> list[str]:
    """Return the forms of PHONE that text holds."""
    return [form for form in PHONE_FORMS if form in text]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "GET /Messages.json?To=%2B15550100987&PageSize=50",
            "GET /Messages.json?To=***0987&PageSize=50",
        ),
        (f"to {PHONE}.", "to ***0987."),
        ("call +1 555-010-0987 now", "call ***0987 now"),
        ("To=15550100987&", "To=***0987&"),
        ("number 5550100987", "number ***0987"),
        ("whatsapp:+15550100987", "whatsapp:***0987"),
        ("sid SM0123456789abcdef0123456789abcdef", "sid SM0123456789abcdef0123456789abcdef"),
        ("HTTP 400, error 21211", "HTTP 400, error 21211"),
        (
            "Command # 2 (SET smss:staff-session:tok3n a@office.test EX 30) of pipeline caused "
            "error: OOM command not allowed",
            "Command # 2 (arguments hidden) of pipeline caused error: OOM command not allowed",
        ),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Capture what a handler of a library's own logger writes (as RQ's does)."""
    configure_logging("INFO")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    rq_log = logging.getLogger("rq.worker")
    rq_log.addHandler(handler)
    yield out
    rq_log.removeHandler(handler)


def test_any_logger_s_records_are_redacted(stream: io.StringIO) -> None:
    """A record of RQ's logger, with its traceback, has no phone: message, args, exc_text."""
    log = logging.getLogger("rq.worker")
    try:
        raise ValueError("Max retries exceeded with url: /Messages.json?To=%2B15550100987")
    except ValueError:
        log.exception("job failed for %s\n%s", PHONE, "To=15550100987")
    written = stream.getvalue()
    assert "***0987" in written
    assert "Traceback" in written
    assert leaks(written) == [], written


def test_pipeline_arguments_are_not_logged(stream: io.StringIO) -> None:
    log = logging.getLogger("rq.worker")
    try:
        raise RuntimeError(
            "Command # 1 (SET smss:staff-session:s3cr3t-token someone@office.test) of pipeline "
            "caused error: OOM command not allowed when used memory > 'maxmemory'."
        )
    except RuntimeError:
        log.exception("failed")
    written = stream.getvalue()
    assert "OOM command not allowed" in written
    assert "s3cr3t-token" not in written and "someone@office.test" not in written, written


def sender_at(base_url: str) -> TwilioSender:
    config = signed_config(
        "redis://127.0.0.1:1/0",
        Path("/nonexistent"),
        TWILIO_API_BASE_URL=base_url,
        TWILIO_TIMEOUT_SECONDS="1",
    )
    return TwilioSender(load_settings(config))


def whole_text(exc: BaseException) -> str:
    """Return all RQ would keep of an exception: its traceback with every cause."""
    return "".join(traceback.format_exception(exc))


def test_a_failed_lookup_names_no_number() -> None:
    """find_sent against an unreachable API: the client's error holds the URL with To=."""
    sender = sender_at(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RetryableSendError) as raised:
        sender.find_sent(PHONE, "your result", 0.0)
    assert "could not check earlier attempt: ConnectionError" in str(raised.value)
    assert leaks(whole_text(raised.value)) == [], whole_text(raised.value)


def test_a_refused_send_names_no_number(twilio_api: FakeTwilio) -> None:
    """Twilio's 21211 text names the number; ours keeps the status and code only."""
    twilio_api.name_the_number = True
    twilio_api.script("21211")
    with pytest.raises(PermanentSendError) as raised:
        sender_at(twilio_api.url).send(PHONE, "your result")
    assert (raised.value.status, raised.value.code) == (400, 21211)
    assert str(raised.value) == "provider refused the text: HTTP 400, error 21211"
    assert leaks(whole_text(raised.value)) == [], whole_text(raised.value)


def test_a_job_s_failure_reaches_rq_redacted() -> None:
    """Whatever a job raises, what RQ stores is the traceback with the number masked."""

    @redacted_failures
    def job(phone: str) -> str:
        try:
            raise KeyError(phone)
        except KeyError as exc:
            raise RuntimeError(f"lookup of {phone} failed") from exc

    with pytest.raises(JobFailedError) as raised:
        job(PHONE)
    text = whole_text(raised.value)
    assert "RuntimeError: lookup of ***0987 failed" in text
    assert "KeyError" in text, "the cause is kept, redacted"
    assert leaks(text) == [], text


def test_a_job_s_failure_with_nothing_to_hide_is_raised_as_it_is() -> None:
    """Retries and tests still see the job's own exception type."""

    @redacted_failures
    def job() -> str:
        raise LookupError("follow-up abc123 does not exist yet")

    with pytest.raises(LookupError, match="abc123"):
        job()
