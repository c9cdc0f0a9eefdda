"""How the staff pages show codes and times: plain-English labels, waiting times, dates."""

from __future__ import annotations

import re
import time
from typing import Any

from ..evaluator import FLAG_LABELS, OUTCOME_LABELS
from ..logs import mask_phone


def view_context() -> dict[str, Any]:
    """Return what every page listing follow-ups needs to show their codes and times."""
    return {
        "flag_labels": FLAG_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "mask_phone": mask_phone,
        "phone_uri": phone_uri,
        "now": time.time(),
        "ago": _ago,
        "when": _when,
    }


_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def phone_uri(phone: str) -> str:
    """Return an E.164 phone as an RFC 3966 tel: URI (+1 numbers grouped 3-3-4), else ""."""
    if not _E164.fullmatch(phone):
        return ""
    digits = phone[1:]
    if len(digits) == 11 and digits[0] == "1":
        return f"tel:+1-{digits[1:4]}-{digits[4:7]}-{digits[7:]}"
    # Elsewhere the country code's length varies: grouping without a numbering plan could
    # split it wrongly, so the digits stay together.
    return f"tel:{phone}"


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
