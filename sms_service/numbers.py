"""Which senders are a parent's phone: not our own number, not another channel, not a name."""

from __future__ import annotations

import re
from enum import StrEnum

from .config import Settings

#: A channel's address through the same number: whatsapp:+1..., messenger:..., rcs:...
_CHANNEL = re.compile(r"([A-Za-z][A-Za-z0-9-]{0,19}):.*", re.S)
#: A phone number as people or providers write it: digits, an optional +, spaces, ( ) . -
_PHONE = re.compile(r"\+?[0-9(][0-9 ().-]*")
#: An E.164 number has at most 15 digits; fewer than 7 is a short code, not a phone.
MIN_DIGITS, MAX_DIGITS = 7, 15


class NumberKind(StrEnum):
    """What a text's sender (or a callback's recipient) is to us."""

    #: A phone we hold a conversation with.
    PHONE = "phone"
    #: Our own sending number, or the number the text came to: a loop.
    OURS = "ours"
    #: Another channel through our number (WhatsApp, Messenger...): this line is SMS only.
    CHANNEL = "channel"
    #: No phone at all: an alphanumeric sender id, a short code, something else.
    NOT_A_PHONE = "not a phone"


def classify(number: str, settings: Settings, also_ours: str = "") -> NumberKind:
    """Tell what a number is; also_ours is another number of ours (the text's To)."""
    if _CHANNEL.fullmatch(number):
        return NumberKind.CHANNEL
    digits = _digits(number)
    if not _PHONE.fullmatch(number) or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return NumberKind.NOT_A_PHONE
    ours = {_digits(n) for n in (settings.twilio_from_number, also_ours) if n}
    return NumberKind.OURS if digits in ours else NumberKind.PHONE


def channel_of(number: str) -> str:
    """Return the channel a prefixed address names, lower-cased ("whatsapp"), or ""."""
    match = _CHANNEL.fullmatch(number)
    return match.group(1).lower() if match else ""


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)
