"""Recognise reserved words (STOP, HELP, BACK...) before a text is read as an answer."""

from __future__ import annotations

from collections.abc import Iterable
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
    # Err toward honouring: a wrong opt-out costs one START, a missed one breaks the TCPA.
    return (
        mentions_any(norm, keywords.revoke_words)
        or mentions_any(norm, keywords.revoke_phrases)
        or any(p.search(norm) for p in keywords.revoke_patterns)
    )


def mentions_any(norm: str, phrases: Iterable[str]) -> bool:
    """Tell whether a normalised text holds one of the phrases as whole words."""
    padded = f" {norm} "
    return any(f" {phrase} " in padded for phrase in phrases)
