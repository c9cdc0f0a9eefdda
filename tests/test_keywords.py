"""Reserved words: exact keywords, and consent revoked in plain words (FCC 24-24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms_service.engine import Flow, load_flow
from sms_service.engine.keywords import Keyword, classify

CONTEXT = {"office_name": "T", "office_phone": "1", "consultation_url": "https://e.org/b"}


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(Path(__file__).parent.parent / "flows" / "screening.yaml", CONTEXT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", Keyword.STOP),
        ("stop", Keyword.STOP),
        (" Stop ", Keyword.STOP),
        ("Stop.", Keyword.STOP),
        ("STOPALL", Keyword.STOP),
        ("Unsubscribe", Keyword.STOP),
        ("cancel", Keyword.STOP),
        ("END", Keyword.STOP),
        ("quit", Keyword.STOP),
        ("revoke", Keyword.STOP),
        ("optout", Keyword.STOP),
        ("PARAR", Keyword.STOP),
        ("START", Keyword.START),
        ("unstop", Keyword.START),
        ("HELP", Keyword.HELP),
        ("info", Keyword.HELP),
        ("Ayuda", Keyword.HELP),
        ("?", Keyword.HINT),
        (" ? ", Keyword.HINT),
        ("RESTART", Keyword.RESTART),
        ("reiniciar", Keyword.RESTART),
        ("BACK", Keyword.BACK),
        ("atrás", Keyword.BACK),
        ("ATRAS", Keyword.BACK),
        ("HOLA", Keyword.SPANISH),
        ("Español", Keyword.SPANISH),
        ("espanol", Keyword.SPANISH),
        ("English", Keyword.ENGLISH),
        # Consent revoked in a longer text: opt out, with one confirmation.
        ("Stop please", Keyword.REVOKE),
        ("please stop texting me", Keyword.REVOKE),
        ("no me escriban mas", Keyword.REVOKE),
        ("I want to opt out", Keyword.REVOKE),
        ("opt-out", Keyword.REVOKE),
        ("ALTO", Keyword.REVOKE),
        ("ya basta", Keyword.REVOKE),
        ("cancelar todo", Keyword.REVOKE),
        ("quit texting me", Keyword.REVOKE),
        ("no more texts", Keyword.REVOKE),
        ("no texts", Keyword.REVOKE),
        ("no, never text me again", Keyword.REVOKE),
        ("I don't want these texts", Keyword.REVOKE),
        ("I do not want to receive texts", Keyword.REVOKE),
        ("please remove my number", Keyword.REVOKE),
        ("take my number off your list", Keyword.REVOKE),
        ("don't contact me", Keyword.REVOKE),
        ("no quiero recibir mensajes", Keyword.REVOKE),
        ("no mas mensajes", Keyword.REVOKE),
        ("no más mensajes por favor", Keyword.REVOKE),
        ("Dejen de enviarme mensajes", Keyword.REVOKE),
        ("dejen de mandarme mensajes", Keyword.REVOKE),
        ("deja de escribirme", Keyword.REVOKE),
        ("borren mi numero", Keyword.REVOKE),
        ("by the end of the year", Keyword.REVOKE),  # the spec errs toward honouring
        # Ordinary replies, and words that merely look like keywords.
        ("YES", None),  # an answer while not opted out
        ("no", None),
        ("N", None),
        ("no se", None),
        ("not sure", None),
        ("no, he is fine", None),
        ("she is 9", None),
        ("no tiene plan", None),
        ("no va a la escuela", None),
        ("don't call me", None),  # about calls: contact_ok answers it
        ("STOPS", None),
        ("helpful", None),
        ("backpack", None),
        ("hola, tiene 9", None),
        ("", None),
        ("🙂", None),
    ],
)
def test_classify_while_opted_in(flow: Flow, text: str, expected: Keyword | None) -> None:
    assert classify(text, flow.keywords, opted_out=False) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("YES", Keyword.START),
        ("yes", Keyword.START),
        ("START", Keyword.START),
        ("UNSTOP", Keyword.START),
        ("STOP", Keyword.STOP),
        ("Y", None),
        ("si", None),
        ("9", None),
    ],
)
def test_classify_while_opted_out(flow: Flow, text: str, expected: Keyword | None) -> None:
    assert classify(text, flow.keywords, opted_out=True) == expected
