"""How the staff pages word things: audit entries as sentences, phones as tel: URIs."""

from __future__ import annotations

import pytest

from sms_service.followups import Entry
from sms_service.staff.formatting import audit_sentence, phone_uri

WHO = "paralegal@office.test"


@pytest.mark.parametrize(
    ("action", "text", "sentence"),
    [
        ("view", "opened the follow-up", f"{WHO} opened the follow-up"),
        ("status", "new -> contacted", f"{WHO} changed the status from new to contacted"),
        ("assign", "x@y.test", f"{WHO} assigned it to x@y.test"),
        ("assign", "unassigned", f"{WHO} unassigned it"),
        ("note", "12 characters", f"{WHO} added a note (12 characters)"),
        ("note", "1 character", f"{WHO} added a note (1 character)"),
        ("note", "1 characters", f"{WHO} added a note (1 character)"),  # as once stored
        ("text", "1 segment", f"{WHO} texted the parent (1 segment)"),
        ("text", "1 segment(s)", f"{WHO} texted the parent (1 segment)"),  # as once stored
        ("text", "3 segment(s)", f"{WHO} texted the parent (3 segments)"),
        ("export", "CSV export", f"{WHO} exported the queue to CSV"),
        ("something-new", "did something new", f"{WHO} did something new"),
    ],
)
def test_each_audit_entry_reads_as_a_sentence(action: str, text: str, sentence: str) -> None:
    assert audit_sentence(Entry(0.0, WHO, action, text)) == sentence


def test_a_reopening_by_the_parents_text_says_why() -> None:
    entry = Entry(0.0, "parent", "reopen", "texted after the follow-up was closed")
    assert audit_sentence(entry) == (
        "The parent texted after the follow-up was closed, so it is open again as new"
    )


def test_a_reply_to_a_no_contact_family_says_what_it_answers() -> None:
    entry = Entry(
        0.0, WHO, "text", "1 segment, answering the parent's text of 2026-01-02 15:04 UTC"
    )
    assert audit_sentence(entry) == (
        f"{WHO} texted the parent (1 segment, answering the parent's text of 2026-01-02 15:04 UTC)"
    )


def test_an_entry_without_an_actor_starts_with_a_capital() -> None:
    entry = Entry(0.0, "", "something-new", "reopened: the parent texted")
    assert audit_sentence(entry) == "Reopened: the parent texted"


@pytest.mark.parametrize(
    ("phone", "uri"),
    [
        ("+15550100123", "tel:+1-555-010-0123"),
        ("+442079460958", "tel:+442079460958"),
        ("+5215512345678", "tel:+5215512345678"),
        ("+15550100123\n", ""),
        ("5550100123", ""),
        ('=HYPERLINK("x")', ""),
        ("", ""),
    ],
)
def test_a_phone_as_a_tel_uri(phone: str, uri: str) -> None:
    assert phone_uri(phone) == uri
