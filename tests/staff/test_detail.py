"""A follow-up's page and the work done from it: notes, status, assignee, texts to the parent."""

from __future__ import annotations

import re
import time
from datetime import datetime
from html import unescape

import pytest
from conftest import (
    ADMIN_EMAIL,
    PARENT,
    SCREENING,
    STAFF_EMAIL,
    Phone,
    add_staff,
    audit_actions,
    export_rows,
    flashes,
    html_of,
    post,
    run_jobs,
    screen,
    section,
    seed_followup,
    services_of,
    token_for,
    transcript_items,
)
from flask import Flask
from flask.testing import FlaskClient
from twilio_api import FakeTwilio

from sms_service import keys
from sms_service.evaluator import FLAG_LABELS, OUTCOME_LABELS, REASONS, Outcome, Priority
from sms_service.followups import VISIT_SECONDS
from sms_service.outbound import read_outbox

NO_CONTACT = [*SCREENING[:-1], "N"]


SPANISH = ["HOLA", "tiene 9 años", "publica", "si", "ninguno", "si", "A y B", "no", "A", "A",
           "N", "si"]  # fmt: skip


#: Deadline within 14 days: urgent, with the deadline flag.
URGENT = [*SCREENING[:11], "Y", "Y"]


def answers_table(html: str) -> dict[str, str]:
    table = re.search(r'<table class="answers">(.*?)</table>', html, re.S)
    assert table
    return {
        unescape(q): unescape(a)
        for q, a in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", table.group(1), re.S)
    }


def reasons_shown(html: str) -> list[str]:
    reasons = re.search(r'<ul class="reasons">(.*?)</ul>', html, re.S)
    assert reasons
    return [unescape(r) for r in re.findall(r"<li>(.*?)</li>", reasons.group(1))]


# --- the page -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "route", "form"),
    [
        ("GET", "/staff/f/no-such-id", {}),
        ("POST", "/staff/f/no-such-id/assign", {"assignee": "me"}),
        ("POST", "/staff/f/no-such-id/status", {"status": "closed"}),
        ("POST", "/staff/f/no-such-id/notes", {"note": "hello"}),
        ("POST", "/staff/f/no-such-id/text", {"body": "hello"}),
    ],
)
def test_an_unknown_follow_up_is_404(
    app: Flask, staff_client: FlaskClient, method: str, route: str, form: dict[str, str]
) -> None:
    response = staff_client.get(route) if method == "GET" else post(staff_client, route, form)
    assert response.status_code == 404
    assert services_of(app).redis.exists(keys.followup_notes("no-such-id")) == 0
    assert services_of(app).redis.exists(keys.followup_audit("no-such-id")) == 0


def test_the_detail_shows_answers_outcome_and_reasons_in_plain_english(
    staff_client: FlaskClient, followup_id: str
) -> None:
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    answers = answers_table(page)
    assert answers["Child's age"] == "9"
    assert answers["School"] == "Public or charter"
    assert answers["Disability or condition identified"] == "Yes"
    assert answers["School plan now"] == "Neither"
    assert answers["Help needed at school"] == "Special teaching (reading, math)"
    assert answers["Changes alone would be enough"] == "No"
    assert answers["Suspended or sent home this year"] == "No"
    assert answers["Staff may text or call"] == "Yes"
    assert len(answers) == 11
    assert "Suggestion: IEP likely" in page
    assert reasons_shown(page) == ["far behind even with help", "needs special teaching"]
    assert "English" in page
    assert f'<a class="phone" href="tel:+1-555-010-0123">{PARENT}</a>' in page
    assert "far_behind" not in page  # codes are translated


def test_a_spanish_screening_is_shown_in_english(app: Flask, staff_client: FlaskClient) -> None:
    followup_id = screen(app, PARENT, SPANISH)
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    meta = re.search(r'<p class="meta">(.*?)</p>', page, re.S)
    assert meta
    assert "Spanish" in meta.group(1)
    answers = answers_table(page)
    assert answers["Child's age"] == "9"
    assert answers["School"] == "Public or charter"
    assert answers["Disability or condition identified"] == "Yes"
    assert (
        answers["Help needed at school"] == "Speech or language, Special teaching (reading, math)"
    )
    assert answers["Staff may text or call"] == "Yes"
    assert reasons_shown(page) == [
        "far behind even with help",
        "needs speech or language help",
        "needs special teaching",
    ]
    assert "Suggestion: IEP likely" in page
    # The parent's Spanish texts are in the conversation as sent.
    assert ("in", "tiene 9 años") in transcript_items(page)


def test_the_detail_shows_priority_flags(app: Flask, staff_client: FlaskClient) -> None:
    followup_id = screen(app, PARENT, URGENT)
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert "Priority flags" in page
    assert "Meeting or deadline within 14 days" in page
    assert '<span class="badge urgent">urgent</span>' in page


@pytest.mark.parametrize("code", REASONS)
def test_every_reason_is_shown_in_plain_english(
    app: Flask, staff_client: FlaskClient, code: str
) -> None:
    followup_id = seed_followup(app, reasons=(code,))
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    (shown,) = reasons_shown(page)
    assert shown
    assert shown != code
    assert "_" not in shown
    assert code not in page


@pytest.mark.parametrize(("flag", "label"), FLAG_LABELS.items())
def test_every_flag_is_shown_in_plain_english(
    app: Flask, staff_client: FlaskClient, flag: str, label: str
) -> None:
    followup_id = seed_followup(app, priority=Priority.HIGH, flags=(flag,))
    for url in ["/staff/", f"/staff/f/{followup_id}"]:
        page = html_of(staff_client, url)
        assert label in unescape(page), url
        assert f">{flag}<" not in page, url


@pytest.mark.parametrize(("outcome", "label"), OUTCOME_LABELS.items())
def test_every_outcome_is_shown_in_plain_english(
    app: Flask, staff_client: FlaskClient, outcome: Outcome, label: str
) -> None:
    followup_id = seed_followup(app, outcome=outcome)
    assert f"Suggestion: {label}" in html_of(staff_client, f"/staff/f/{followup_id}")
    assert label in html_of(staff_client, "/staff/")


def test_the_detail_shows_the_whole_conversation(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    items = transcript_items(page)
    inbound = [body for d, body in items if d == "in"]
    outbound = [body for d, body in items if d == "out"]
    assert inbound == SCREENING
    assert any("Test Law Office" in body for body in outbound)  # the intro
    assert len(outbound) >= len(SCREENING)
    # The result text the worker sent is there, with its status.
    assert "result text" in page
    result = services_of(app).outbound.get(f"result-{followup_id}")
    assert result is not None
    assert ("out", result.body) in items


def test_a_parents_text_after_the_screening_shows_in_the_conversation(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    Phone(app.test_client(), PARENT).text("Please call me after 5pm, thanks")
    items = transcript_items(html_of(staff_client, f"/staff/f/{followup_id}"))
    assert ("in", "Please call me after 5pm, thanks") in items
    assert items.index(("in", "Please call me after 5pm, thanks")) > items.index(("in", "Hi"))


# --- notes, assignee, status and the audit trail --------------------------------------------------


def test_notes_are_appended_with_author_and_time(
    app: Flask, staff_client: FlaskClient, admin_client: FlaskClient, followup_id: str
) -> None:
    post(staff_client, f"/staff/f/{followup_id}/notes", {"note": "Left a voicemail."})
    response = post(
        admin_client,
        f"/staff/f/{followup_id}/notes",
        {"note": "Called back; booked."},
        follow_redirects=True,
    )
    assert "Note added." in flashes(response.get_data(as_text=True))
    notes = services_of(app).followup_work.notes(followup_id)
    assert [(n.actor, n.text) for n in notes] == [
        (STAFF_EMAIL, "Left a voicemail."),
        (ADMIN_EMAIL, "Called back; booked."),
    ]
    shown = re.findall(
        r'<li><span class="when">(\d{4}-\d\d-\d\d \d\d:\d\d) · (.*?)</span> (.*?)</li>',
        section(html_of(staff_client, f"/staff/f/{followup_id}"), "notes"),
    )
    assert [(who, unescape(text)) for _, who, text in shown] == [
        (STAFF_EMAIL, "Left a voicemail."),
        (ADMIN_EMAIL, "Called back; booked."),
    ]
    today = datetime.now().strftime("%Y-%m-%d")
    assert all(when.startswith(today) for when, _, _ in shown)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "A note needs some text."),
        ("   \n ", "A note needs some text."),
        ("x" * 5001, "A note can have at most 5,000 characters."),
    ],
    ids=["empty", "blank", "too long"],
)
def test_a_bad_note_is_refused(
    app: Flask, staff_client: FlaskClient, followup_id: str, note: str, message: str
) -> None:
    response = post(
        staff_client, f"/staff/f/{followup_id}/notes", {"note": note}, follow_redirects=True
    )
    assert message in flashes(response.get_data(as_text=True))
    assert services_of(app).followup_work.notes(followup_id) == []


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("POST", "/staff/f/{id}/notes/0/delete"),
        ("POST", "/staff/f/{id}/notes/0"),
        ("DELETE", "/staff/f/{id}/notes"),
        ("PUT", "/staff/f/{id}/notes"),
    ],
)
def test_notes_cannot_be_edited_or_deleted(
    app: Flask, staff_client: FlaskClient, followup_id: str, method: str, route: str
) -> None:
    post(staff_client, f"/staff/f/{followup_id}/notes", {"note": "Keep me."})
    response = staff_client.open(
        route.format(id=followup_id),
        method=method,
        data={"csrf_token": token_for(staff_client), "note": "changed"},
    )
    assert response.status_code in (404, 405)
    notes = services_of(app).followup_work.notes(followup_id)
    assert [n.text for n in notes] == ["Keep me."]


def test_assign_to_me_someone_and_no_one(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    add_staff(app, ADMIN_EMAIL, admin=True)
    add_staff(app, "gone@office.test")
    services_of(app).staff.set_disabled("gone@office.test", True)
    steps = [
        ("me", STAFF_EMAIL, f"Assigned to {STAFF_EMAIL}."),
        (ADMIN_EMAIL.upper(), ADMIN_EMAIL, f"Assigned to {ADMIN_EMAIL}."),
        ("nobody@office.test", ADMIN_EMAIL, "No active staff account has that email."),
        ("gone@office.test", ADMIN_EMAIL, "No active staff account has that email."),
        ("", "", "Unassigned."),
    ]
    for target, expected, message in steps:
        response = post(
            staff_client,
            f"/staff/f/{followup_id}/assign",
            {"assignee": target},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert message in flashes(page), target
        followup = services_of(app).followups.get(followup_id)
        assert followup is not None
        assert followup.assignee == expected, target
        shown = re.search(r'<strong id="assignee">(.*?)</strong>', page)
        assert shown
        assert shown.group(1) == (expected or "no one")
    trail = [
        e.text
        for e in services_of(app).followup_work.audit_trail(followup_id)
        if e.action == "assign"
    ]
    assert trail == [STAFF_EMAIL, ADMIN_EMAIL, "unassigned"]


def test_the_assign_list_offers_active_staff_only(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    add_staff(app, ADMIN_EMAIL, admin=True)
    add_staff(app, "gone@office.test")
    services_of(app).staff.set_disabled("gone@office.test", True)
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert f'<option value="{ADMIN_EMAIL}"' in page
    assert '<option value="gone@office.test"' not in page


def test_status_moves_through_new_contacted_scheduled_closed(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    for status in ["contacted", "scheduled", "closed", "new"]:
        response = post(
            staff_client,
            f"/staff/f/{followup_id}/status",
            {"status": status},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert f"Status: {status}." in flashes(page)
        assert f'<strong id="status">{status}</strong>' in page
        followup = services_of(app).followups.get(followup_id)
        assert followup is not None
        assert followup.status == status
    trail = [
        e.text
        for e in services_of(app).followup_work.audit_trail(followup_id)
        if e.action == "status"
    ]
    assert trail == [
        "new -> contacted",
        "contacted -> scheduled",
        "scheduled -> closed",
        "closed -> new",
    ]


@pytest.mark.parametrize("status", ["", "archived", "open", "all", "CLOSED "])
def test_an_unknown_status_is_refused(
    app: Flask, staff_client: FlaskClient, followup_id: str, status: str
) -> None:
    response = post(staff_client, f"/staff/f/{followup_id}/status", {"status": status})
    assert response.status_code == 400
    followup = services_of(app).followups.get(followup_id)
    assert followup is not None
    assert followup.status == "new"


def work_it(client: FlaskClient, followup_id: str) -> None:
    """Do every kind of work on a follow-up: open, assign, status, note, text, unassign, export."""
    html_of(client, f"/staff/f/{followup_id}")
    post(client, f"/staff/f/{followup_id}/assign", {"assignee": "me"})
    post(client, f"/staff/f/{followup_id}/status", {"status": "contacted"})
    post(client, f"/staff/f/{followup_id}/notes", {"note": "Spoke to mom."})
    post(client, f"/staff/f/{followup_id}/text", {"body": "Hi, this is the office."})
    post(client, f"/staff/f/{followup_id}/assign", {"assignee": ""})
    export_rows(client)


def test_the_audit_trail_records_every_kind_of_work(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    work_it(staff_client, followup_id)
    trail = services_of(app).followup_work.audit_trail(followup_id)
    assert [e.action for e in trail] == [
        "view",
        "assign",
        "status",
        "note",
        "text",
        "assign",
        "export",
    ]
    assert {e.actor for e in trail} == {STAFF_EMAIL}
    assert all(abs(e.at - time.time()) < 60 for e in trail)


def history(client: FlaskClient, followup_id: str) -> list[str]:
    """Return the detail page's history, newest first, each entry without its time."""
    items = re.findall(
        r'<li><span class="when">[^<]*</span> (.*?)</li>',
        section(html_of(client, f"/staff/f/{followup_id}"), "audit"),
        re.S,
    )
    return [unescape(item) for item in items]


def test_the_history_reads_as_sentences_newest_first(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    work_it(staff_client, followup_id)
    assert history(staff_client, followup_id) == [
        f"{STAFF_EMAIL} exported the queue to CSV",
        f"{STAFF_EMAIL} unassigned it",
        f"{STAFF_EMAIL} texted the parent (1 segment)",
        f"{STAFF_EMAIL} added a note (13 characters)",
        f"{STAFF_EMAIL} changed the status from new to contacted",
        f"{STAFF_EMAIL} assigned it to {STAFF_EMAIL}",
        f"{STAFF_EMAIL} opened the follow-up",
    ]


def test_a_view_is_audited_once_per_staff_member_per_visit(
    app: Flask, staff_client: FlaskClient, admin_client: FlaskClient, followup_id: str
) -> None:
    url = f"/staff/f/{followup_id}"
    html_of(staff_client, url)
    html_of(staff_client, url)  # a reload
    # Each action redirects back to the page: still the same visit.
    post(staff_client, f"{url}/notes", {"note": "Called."}, follow_redirects=True)
    post(staff_client, f"{url}/status", {"status": "contacted"}, follow_redirects=True)
    html_of(admin_client, url)
    html_of(admin_client, url)
    other = seed_followup(app)
    html_of(staff_client, f"/staff/f/{other}")
    trail = services_of(app).followup_work.audit_trail(followup_id)
    assert [(e.action, e.actor) for e in trail] == [
        ("view", STAFF_EMAIL),
        ("note", STAFF_EMAIL),
        ("status", STAFF_EMAIL),
        ("view", ADMIN_EMAIL),
    ]
    assert audit_actions(app, other) == ["view"]


def test_a_visit_lasts_while_the_staff_member_keeps_looking(app: Flask, followup_id: str) -> None:
    work = services_of(app).followup_work
    start = time.time()
    looks = [0, 60, 60 + VISIT_SECONDS, 60 + 2 * VISIT_SECONDS]  # each within the visit
    assert [work.record_view(followup_id, STAFF_EMAIL, start + at) for at in looks] == [
        True,
        False,
        False,
        False,
    ]
    # Away longer than VISIT_SECONDS since the last look: a new visit, audited again.
    later = start + looks[-1] + VISIT_SECONDS + 1
    assert work.record_view(followup_id, STAFF_EMAIL, later)
    assert [e.at for e in work.audit_trail(followup_id)] == [start, later]
    # The visit's key expires on its own a little after the visit could last.
    ttl = services_of(app).redis.ttl(keys.followup_visit(followup_id, STAFF_EMAIL))
    assert VISIT_SECONDS < ttl <= VISIT_SECONDS + 60


def test_the_queue_itself_is_not_a_view_of_each_follow_up(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    html_of(staff_client, "/staff/")
    html_of(staff_client, "/staff/rows")
    assert audit_actions(app, followup_id) == []


# --- texting the parent ---------------------------------------------------------------------------


def test_a_staff_text_goes_through_the_queue_and_the_sender(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    services = services_of(app)
    before = [e["body"] for e in read_outbox(services.redis, PARENT)]
    body = "Hi, this is Test Law Office. Can we call you at 3pm?"
    response = post(
        staff_client,
        f"/staff/f/{followup_id}/text",
        {"body": f"  {body}\n "},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Text queued; its delivery status shows in the conversation." in flashes(page)
    (message_id,) = services.followup_work.texts(followup_id)
    message = services.outbound.get(message_id)
    assert message is not None
    assert (message.phone, message.body, message.kind, message.sender) == (
        PARENT,
        body,
        "staff",
        STAFF_EMAIL,
    )
    assert f"send-{message_id}" in services.queue.job_ids  # queued, not sent in the request
    assert [e["body"] for e in read_outbox(services.redis, PARENT)] == before
    run_jobs(app)
    assert [e["body"] for e in read_outbox(services.redis, PARENT)] == [*before, body]
    detail = html_of(staff_client, f"/staff/f/{followup_id}")
    assert ("out", body) in transcript_items(detail)
    assert f"staff: {STAFF_EMAIL}" in detail


def test_a_staff_text_reaches_the_provider(
    provider_staff: tuple[Flask, FlaskClient], twilio_api: FakeTwilio
) -> None:
    app, client = provider_staff
    followup_id = seed_followup(app, phone="+15550100777", answers={"age": 9, "contact_ok": "yes"})
    body = "Hello from the office: please call 555-0100."
    response = post(client, f"/staff/f/{followup_id}/text", {"body": body})
    assert response.status_code == 302
    run_jobs(app)
    assert twilio_api.bodies_to("+15550100777") == [body]
    (message_id,) = services_of(app).followup_work.texts(followup_id)
    message = services_of(app).outbound.get(message_id)
    assert message is not None
    assert message.provider_sid


def _text_refused(
    app: Flask, client: FlaskClient, followup_id: str, body: str, message: str
) -> None:
    services = services_of(app)
    response = post(client, f"/staff/f/{followup_id}/text", {"body": body}, follow_redirects=True)
    assert message in flashes(response.get_data(as_text=True))
    assert services.followup_work.texts(followup_id) == []
    assert "text" not in audit_actions(app, followup_id)


def test_no_text_to_a_do_not_contact_follow_up(app: Flask, staff_client: FlaskClient) -> None:
    followup_id = screen(app, PARENT, NO_CONTACT)
    services = services_of(app)
    followup = services.followups.get(followup_id)
    assert followup is not None
    assert followup.do_not_contact
    reason = "The parent said staff may not text or call (do not contact)."
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert reason in unescape(page)
    assert 'id="text-form"' not in page
    assert "Do not contact" in page
    outbox_before = len(read_outbox(services.redis, PARENT))
    _text_refused(app, staff_client, followup_id, "Hi, please call us.", f"Not sent: {reason}")
    run_jobs(app)
    assert len(read_outbox(services.redis, PARENT)) == outbox_before


@pytest.mark.parametrize(
    "opt_out", ["STOP", "stop", "Please don't text me anymore", "no more texts please"]
)
def test_no_text_to_a_phone_that_opted_out(
    app: Flask, staff_client: FlaskClient, followup_id: str, opt_out: str
) -> None:
    Phone(app.test_client(), PARENT).text(opt_out)
    assert services_of(app).store.is_opted_out(PARENT)
    reason = "This number opted out of texts (STOP). They can text START to opt back in."
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert reason in unescape(page)
    assert 'id="text-form"' not in page
    services = services_of(app)
    outbox_before = len(read_outbox(services.redis, PARENT))
    _text_refused(app, staff_client, followup_id, "Hi, please call us.", f"Not sent: {reason}")
    run_jobs(app)
    assert len(read_outbox(services.redis, PARENT)) == outbox_before


def test_a_phone_that_opted_back_in_can_be_texted(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    phone = Phone(app.test_client(), PARENT)
    phone.text("STOP")
    phone.text("START")
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert 'id="text-form"' in page
    post(staff_client, f"/staff/f/{followup_id}/text", {"body": "Welcome back."})
    run_jobs(app)
    assert "Welcome back." in [e["body"] for e in read_outbox(services_of(app).redis, PARENT)]


def test_a_text_queued_before_stop_is_not_sent(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    services = services_of(app)
    post(staff_client, f"/staff/f/{followup_id}/text", {"body": "Hi, please call us."})
    Phone(app.test_client(), PARENT).text("STOP")
    run_jobs(app)
    assert "Hi, please call us." not in [e["body"] for e in read_outbox(services.redis, PARENT)]
    (message_id,) = services.followup_work.texts(followup_id)
    message = services.outbound.get(message_id)
    assert message is not None
    assert message.status == "suppressed"


SEGMENT_CASES = [
    ("", False, "Not sent: the text is empty."),
    ("   \n\t ", False, "Not sent: the text is empty."),
    ("a" * 160, True, ""),
    ("a" * 459, True, ""),
    ("a" * 460, False, "Not sent: keep a text to 3 SMS segments or fewer."),
    ("a" * 458 + "€", False, "Not sent: keep a text to 3 SMS segments or fewer."),
    ("á" * 201, True, ""),
    ("á" * 202, False, "Not sent: keep a text to 3 SMS segments or fewer."),
    ("😀" * 100, True, ""),
    ("😀" * 101, False, "Not sent: keep a text to 3 SMS segments or fewer."),
]


@pytest.mark.parametrize(
    ("body", "sent", "message"),
    SEGMENT_CASES,
    ids=["empty", "blank", "1 segment", "3 GSM segments", "4 GSM segments", "GSM extended",
         "3 UCS-2 segments", "4 UCS-2 segments", "emoji 3", "emoji 4"],
)  # fmt: skip
def test_a_staff_text_must_be_one_to_three_segments(
    app: Flask, staff_client: FlaskClient, body: str, sent: bool, message: str
) -> None:
    followup_id = seed_followup(app, answers={"age": 9, "contact_ok": "yes"})
    if sent:
        post(staff_client, f"/staff/f/{followup_id}/text", {"body": body})
        (message_id,) = services_of(app).followup_work.texts(followup_id)
        stored = services_of(app).outbound.get(message_id)
        assert stored is not None
        assert stored.body == body
    else:
        _text_refused(app, staff_client, followup_id, body, message)
