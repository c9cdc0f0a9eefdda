"""Count how many SMS segments a text takes, and in which encoding."""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape septet plus itself.
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    encoding: str
    #: Septets for GSM-7, UTF-16 code units for UCS-2.
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Tell whether every character of a text has a GSM-7 encoding."""
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text)


def count_segments(text: str) -> SegmentCount:
    """Return the encoding, length and segment count of one SMS body."""
    if is_gsm7(text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
        encoding = GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = UCS2
    segments = 1 if units <= single else math.ceil(units / multi)
    return SegmentCount(encoding=encoding, units=units, segments=max(segments, 1))
