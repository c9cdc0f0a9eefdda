"""How the staff pages show codes and times: plain-English labels, waiting times, dates."""

from __future__ import annotations

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
        "now": time.time(),
        "ago": _ago,
        "when": _when,
    }


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
