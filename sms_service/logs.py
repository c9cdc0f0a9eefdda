"""Logging that keeps sensitive data out: masked phones, one line per record.

Our own log lines mask phones where they are written (`mask_phone`). As a second line of
defence every record of the process, ours or a library's (RQ's tracebacks, gunicorn's), is
redacted when it is made: anything that looks like a phone number is masked and the command
arguments redis-py puts in a pipeline error's text are dropped, in the message and in the
traceback alike.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: What may be a phone number in free text: E.164 (+ or URL-encoded %2B), a written-out
#: number with a country code, or a bare run of 10 to 15 digits (a number without its +).
_PHONE_LIKE = re.compile(
    r"(?:\+|%2[Bb])\d{7,15}(?!\d)"
    r"|\+\d{1,3}[ .-]?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}(?!\d)"
    r"|(?<!\w)\d{10,15}(?!\w)"
)
#: redis-py writes a failed pipeline command with all its arguments (keys, tokens, emails).
_PIPELINE_COMMAND = re.compile(r"Command # (\d+) \(.*?\) of pipeline caused error", re.DOTALL)


def mask_phone(phone: str) -> str:
    """Return a phone number with all but its last 4 digits hidden."""
    digits = re.sub(r"\D", "", phone)
    # A short code or odd sender id would be shown whole by its last 4: hide it all.
    return f"***{digits[-4:]}" if len(digits) >= 7 else "***"


def escape_controls(text: str) -> str:
    """Replace CR, LF and other control characters so a log record stays one line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def redact(text: str) -> str:
    """Return text with phone-like numbers masked and pipeline command arguments dropped."""
    text = _PIPELINE_COMMAND.sub(r"Command # \1 (arguments hidden) of pipeline caused error", text)
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group().replace("%2B", "+")), text)


class RedactingFilter(logging.Filter):
    """Redact a record's message, traceback and stack in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Redact a record in place: its message (args merged in), traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string still must not leak its args
        message = f"{record.msg!r} (unformattable arguments)"
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_redaction() -> None:
    """Redact every record the process makes, whichever logger or handler it goes to.

    A record factory, not only a handler filter: RQ and gunicorn add their handlers after
    startup, and a filter on one logger misses records its children propagate.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class OneLineFormatter(logging.Formatter):
    """Format records with control characters escaped (tracebacks stay multi-line)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return escape_controls(super().formatMessage(record))


def configure_logging(level: str) -> None:
    """Send the service's logs to stderr, one escaped line per record."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    install_redaction()
    for existing in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in existing.filters):
            existing.addFilter(RedactingFilter())
    package = logging.getLogger("sms_service")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False
