"""How the staff pages show codes and times: plain-English labels, waiting times, dates."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from ..engine import Flow
from ..evaluator import FLAG_LABELS, OUTCOME_LABELS, Outcome
from ..followups import Entry
from ..logs import mask_phone
from ..store import PARENT_ACTOR


def view_context() -> dict[str, Any]:
    """Return what every page listing follow-ups needs to show their codes and times."""
    return {
        "flag_labels": FLAG_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "mask_phone": mask_phone,
        "phone_uri": phone_uri,
        "audit_sentence": audit_sentence,
        "now": time.time(),
        "ago": _ago,
        "when": _when,
    }


def outcome_label(code: str) -> str:
    """Return an outcome code in plain English (an unknown code as itself)."""
    return OUTCOME_LABELS[Outcome(code)] if code in OUTCOME_LABELS else code


def reason_texts(flow: Flow, codes: Iterable[str]) -> list[str]:
    """Return reason codes as the flow's English reason text (a code it lacks as itself)."""
    results = flow.results
    return [
        results.reasons[code]["en"] if results and code in results.reasons else code
        for code in codes
    ]


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


def audit_sentence(entry: Entry) -> str:
    """Return an audit entry as a sentence with its actor: "x@y changed the status from..."."""
    phrase = _audit_phrase(entry.action, entry.text)
    actor = "The parent" if entry.actor == PARENT_ACTOR else entry.actor
    return f"{actor} {phrase}" if actor else phrase[:1].upper() + phrase[1:]


# Entries written before counts were pluralised say "2 segment(s)".
_OLD_PLURAL = re.compile(r"\b(\d+) (segment|character)(?:\(s\)|s)?(?!\w)")


def _audit_phrase(action: str, text: str) -> str:
    text = _OLD_PLURAL.sub(lambda m: f"{m[1]} {m[2]}" + ("" if m[1] == "1" else "s"), text)
    if action == "view":
        return "opened the follow-up"
    if action == "status":
        old, arrow, new = text.partition(" -> ")
        return f"changed the status from {old} to {new}" if arrow else f"set the status: {text}"
    if action == "assign":
        return "unassigned it" if text == "unassigned" else f"assigned it to {text}"
    if action == "note":
        return f"added a note ({text})"
    if action == "text":
        return f"texted the parent ({text})"
    if action == "export":
        return "exported the queue to CSV"
    if action == "reopen":
        return f"{text}, so it is open again as new"
    # An action this function does not know yet: its text is written to be read as it is.
    return text or action


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
