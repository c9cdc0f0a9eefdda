"""Recognise reserved words (STOP, HELP, BACK...) before a text is read as an answer."""

from __future__ import annotations

from enum import StrEnum

from .answers import normalize
from .model import Keywords


class Keyword(StrEnum):
    STOP = "stop"
    #: A longer text that revokes consent in plain words; it gets one confirmation.
    REVOKE = "revoke"
    START = "start"
    HELP = "help"
    HINT = "hint"
    RESTART = "restart"
    BACK = "back"
    SPANISH = "spanish"
    ENGLISH = "english"


def classify(text: str, keywords: Keywords, opted_out: bool) -> Keyword | None:
    """Return the keyword a text is, or None when it is an ordinary reply."""
    raw = text.strip()
    if raw in keywords.hint:
        return Keyword.HINT
    norm = normalize(raw)
    if norm in keywords.stop:
        return Keyword.STOP
    if norm in keywords.start or (opted_out and norm in keywords.start_when_opted_out):
        return Keyword.START
    if revokes_consent(norm, keywords):
        return Keyword.REVOKE
    exact = {
        Keyword.HELP: keywords.help,
        Keyword.RESTART: keywords.restart,
        Keyword.BACK: keywords.back,
        Keyword.SPANISH: keywords.spanish,
        Keyword.ENGLISH: keywords.english,
    }
    for keyword, words in exact.items():
        if norm in words:
            return keyword
    return None


def revokes_consent(norm: str, keywords: Keywords) -> bool:
    """Tell whether a normalised text asks us to stop texting, in any words."""
    padded = f" {norm} "
    # Err toward honouring: a wrong opt-out costs one START, a missed one breaks the TCPA.
    return (
        any(f" {w} " in padded for w in keywords.revoke_words)
        or any(f" {p} " in padded for p in keywords.revoke_phrases)
        or any(p.search(norm) for p in keywords.revoke_patterns)
    )
