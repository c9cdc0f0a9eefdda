"""Logging that keeps sensitive data out: masked phones, one line per record."""

from __future__ import annotations

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def mask_phone(phone: str) -> str:
    """Return a phone number with all but its last 4 digits hidden."""
    digits = re.sub(r"\D", "", phone)
    # A short code or odd sender id would be shown whole by its last 4: hide it all.
    return f"***{digits[-4:]}" if len(digits) >= 7 else "***"


def escape_controls(text: str) -> str:
    """Replace CR, LF and other control characters so a log record stays one line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class OneLineFormatter(logging.Formatter):
    """Format records with control characters escaped (tracebacks stay multi-line)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return escape_controls(super().formatMessage(record))


def configure_logging(level: str) -> None:
    """Send the service's logs to stderr, one escaped line per record."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("sms_service")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False
