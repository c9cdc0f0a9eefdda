"""SMS segment counts: GSM-7 or UCS-2, one segment or a concatenated message."""

from __future__ import annotations

import pytest

from sms_service.outbound.segments import GSM7, UCS2, SegmentCount, count_segments, is_gsm7

NOT_GSM = "ç"  # Ç is in GSM-7's basic set, its lower case is not
EMOJI = "\N{GRINNING FACE}"  # two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("Hello, 123 @£$¥ ÄÖÑÜ äöñüà", True),
        ("{braces} [brackets] ~^|\\ €", True),
        ("Ç", True),
        (NOT_GSM, False),
        ("Nous avons reçu vos réponses", False),
        (EMOJI, False),
        ("¿Cómo está?", False),  # ó is not GSM-7
    ],
)
def test_gsm7_is_detected(text: str, expected: bool) -> None:
    assert is_gsm7(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentCount(GSM7, 0, 1)),
        # GSM-7: 160 septets in one segment, 153 in each part of a longer text.
        ("a" * 160, SegmentCount(GSM7, 160, 1)),
        ("a" * 161, SegmentCount(GSM7, 161, 2)),
        ("a" * 306, SegmentCount(GSM7, 306, 2)),
        ("a" * 307, SegmentCount(GSM7, 307, 3)),
        # UCS-2: 70 code units in one segment, 67 in each part.
        (NOT_GSM * 70, SegmentCount(UCS2, 70, 1)),
        (NOT_GSM * 71, SegmentCount(UCS2, 71, 2)),
        (NOT_GSM * 134, SegmentCount(UCS2, 134, 2)),
        (NOT_GSM * 135, SegmentCount(UCS2, 135, 3)),
        # One character outside GSM-7 makes the whole text UCS-2.
        ("a" * 69 + NOT_GSM, SegmentCount(UCS2, 70, 1)),
        ("a" * 70 + NOT_GSM, SegmentCount(UCS2, 71, 2)),
        # An emoji is a surrogate pair: two code units.
        (EMOJI * 35, SegmentCount(UCS2, 70, 1)),
        (EMOJI * 36, SegmentCount(UCS2, 72, 2)),
    ],
)
def test_segments_at_the_boundaries(text: str, expected: SegmentCount) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize("extended", list("^{}\\[~]|€\f"))
def test_gsm_extension_characters_count_double(extended: str) -> None:
    assert count_segments(extended) == SegmentCount(GSM7, 2, 1)
    assert count_segments(extended * 80) == SegmentCount(GSM7, 160, 1)
    assert count_segments(extended * 81) == SegmentCount(GSM7, 162, 2)
    assert count_segments("a" * 159 + extended) == SegmentCount(GSM7, 161, 2)
