"""The follow-up queue: its order, filters, counts and rows, and its CSV export."""

from __future__ import annotations

import re
import time
from datetime import datetime
from html import unescape
from typing import Any

import pytest
from conftest import (
    ADMIN_EMAIL,
    OTHER_PASSWORD,
    STAFF_EMAIL,
    audit_actions,
    export_rows,
    html_of,
    post,
    seed_followup,
    services_of,
)
from flask import Flask
from flask.testing import FlaskClient

from sms_service.evaluator import FLAG_LABELS, OUTCOME_LABELS, Outcome, Priority
from sms_service.followups import FollowupStatus

E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="priority-[a-z]+(?: has-unread)?" data-id="([^"]+)"', html)


def counts_in_rows(html: str) -> dict[str, int]:
    template = re.search(r'<template id="counts">(.*?)</template>', html, re.S)
    assert template, "the rows partial carries the counts"
    return {k: int(v) for k, v in re.findall(r'data-count="([a-z]+)">(\d+)<', template.group(1))}


def counts_in_tabs(html: str) -> dict[str, int]:
    tabs = re.search(r'<nav class="tabs".*?</nav>', html, re.S)
    assert tabs
    return {
        k: int(v)
        for k, v in re.findall(r'class="count" data-count="([a-z]+)">(\d+)<', tabs.group(0))
    }


@pytest.fixture
def queue_seed(app: Flask) -> dict[str, str]:
    """Five follow-ups of known priority, age, status, outcome and assignee."""
    now = time.time()
    ids = {
        "a": seed_followup(
            app, phone="+15550101001", priority=Priority.NORMAL, created_at=now - 5000
        ),
        "b": seed_followup(
            app, phone="+15550101002", priority=Priority.URGENT, created_at=now - 1000
        ),
        "c": seed_followup(
            app,
            phone="+15550101003",
            priority=Priority.HIGH,
            outcome=Outcome.PLAN_504,
            created_at=now - 2000,
        ),
        "d": seed_followup(
            app, phone="+15550101004", priority=Priority.URGENT, created_at=now - 1500
        ),
        "e": seed_followup(
            app,
            phone="+15550101005",
            priority=Priority.HIGH,
            outcome=Outcome.CONSULT,
            created_at=now - 3000,
        ),
    }
    work = services_of(app).followup_work
    work.set_status(ids["a"], FollowupStatus.SCHEDULED, "x@office.test", now)
    work.set_status(ids["c"], FollowupStatus.CONTACTED, "x@office.test", now)
    work.set_status(ids["e"], FollowupStatus.CLOSED, "x@office.test", now)
    work.assign(ids["b"], STAFF_EMAIL, "x@office.test", now)
    work.assign(ids["e"], STAFF_EMAIL, "x@office.test", now)
    work.assign(ids["c"], ADMIN_EMAIL, "x@office.test", now)
    return ids


# --- the queue ------------------------------------------------------------------------------------


QUEUE_FILTERS = [
    ("", "dbca"),
    ("?status=open", "dbca"),
    ("?status=new", "db"),
    ("?status=contacted", "c"),
    ("?status=scheduled", "a"),
    ("?status=closed", "e"),
    ("?status=all", "dbeca"),
    ("?status=bogus", "dbca"),
    ("?outcome=504", "c"),
    ("?outcome=consult", ""),
    ("?outcome=consult&status=all", "e"),
    ("?outcome=bogus", "dbca"),
    ("?priority=urgent", "db"),
    ("?priority=high", "c"),
    ("?priority=high&status=all", "ec"),
    ("?priority=normal", "a"),
    ("?assignee=mine", "b"),
    ("?assignee=mine&status=all", "be"),
    ("?assignee=unassigned", "da"),
    ("?assignee=unassigned&priority=urgent", "d"),
    ("?assignee=bogus", "dbca"),
]


@pytest.mark.parametrize(("query", "expected"), QUEUE_FILTERS)
@pytest.mark.parametrize("page", ["/staff/", "/staff/rows", "/staff/export.csv"])
def test_the_queue_is_sorted_and_filtered(
    staff_client: FlaskClient, queue_seed: dict[str, str], page: str, query: str, expected: str
) -> None:
    by_id = {v: k for k, v in queue_seed.items()}
    if page.endswith(".csv"):
        shown = [by_id[row["id"]] for row in export_rows(staff_client, query)]
    else:
        shown = [by_id[i] for i in row_ids(html_of(staff_client, page + query))]
    assert "".join(shown) == expected


def test_the_queue_counts_each_status(
    staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    expected = {"open": 4, "new": 2, "contacted": 1, "scheduled": 1, "closed": 1, "all": 5}
    assert counts_in_tabs(html_of(staff_client, "/staff/")) == expected
    # The counts are of the whole queue, whatever the filter shows.
    assert counts_in_rows(html_of(staff_client, "/staff/rows?priority=normal")) == {
        **expected,
        "replied": 0,
    }


def test_the_queue_counts_move_with_status_changes(
    app: Flask, staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    post(staff_client, f"/staff/f/{queue_seed['d']}/status", {"status": "closed"})
    counts = counts_in_rows(html_of(staff_client, "/staff/rows"))
    assert (counts["open"], counts["new"], counts["closed"], counts["all"]) == (3, 1, 2, 5)
    assert queue_seed["d"] not in row_ids(html_of(staff_client, "/staff/"))


def test_the_rows_partial_is_only_rows_and_counts(
    staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    partial = html_of(staff_client, "/staff/rows")
    assert "<html" not in partial
    assert "<body" not in partial
    assert partial.lstrip().startswith("<tr")
    assert len(row_ids(partial)) == 4
    assert '<template id="counts">' in partial


def test_an_empty_queue_says_so(staff_client: FlaskClient) -> None:
    assert "Nothing here." in html_of(staff_client, "/staff/rows")
    assert counts_in_rows(html_of(staff_client, "/staff/rows"))["all"] == 0


def test_the_queue_masks_phones_and_the_detail_shows_the_number(
    staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    for url in ["/staff/?status=all", "/staff/rows?status=all"]:
        page = html_of(staff_client, url)
        for n in range(1, 6):
            assert f"***100{n}" in page
            assert f"5550101{n:03d}"[:-1] not in page, url  # no more than the last 4 digits
            assert f"+1555010100{n}" not in page
    detail = html_of(staff_client, f"/staff/f/{queue_seed['a']}")
    assert "+15550101001" in detail


def test_the_queue_shows_outcome_priority_flags_and_waiting_time(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = seed_followup(
        app,
        priority=Priority.URGENT,
        flags=("deadline_soon", "expulsion"),
        created_at=time.time() - 2 * 3600 - 60,
        answers={"age": 9, "contact_ok": "no"},
    )
    row = re.search(
        rf'<tr [^>]*data-id="{followup_id}">(.*?)</tr>', html_of(staff_client, "/staff/"), re.S
    )
    assert row
    text = unescape(row.group(1))
    for expected in [
        "urgent",
        "IEP likely",
        "Meeting or deadline within 14 days",
        "Expulsion threatened",
        "Do not contact",
        "2 h",
        "new",
    ]:
        assert expected in text


def test_the_queue_links_each_row_to_its_detail(
    staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    page = html_of(staff_client, "/staff/")
    for key in "abd":
        assert f'href="/staff/f/{queue_seed[key]}"' in page


def test_the_queue_page_keeps_filters_in_its_links(
    staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    page = unescape(html_of(staff_client, "/staff/?priority=urgent&assignee=mine"))
    assert re.search(r'data-rows-url="/staff/rows\?[^"]*priority=urgent', page)
    assert re.search(r'href="/staff/export.csv\?[^"]*assignee=mine', page)


# --- CSV export -----------------------------------------------------------------------------------


def test_the_export_has_the_queues_rows_with_answers_and_times(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    post(staff_client, f"/staff/f/{followup_id}/assign", {"assignee": "me"})
    post(staff_client, f"/staff/f/{followup_id}/status", {"status": "contacted"})
    post(staff_client, f"/staff/f/{followup_id}/notes", {"note": "Left a voicemail."})
    post(staff_client, f"/staff/f/{followup_id}/notes", {"note": "Mom called back;\nbooked."})
    response = staff_client.get("/staff/export.csv")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=followups-")
    assert response.headers["Content-Disposition"].endswith(".csv")
    (row,) = export_rows(staff_client)
    assert row["id"] == followup_id
    assert row["priority"] == "normal"
    assert row["outcome"] == "IEP likely"
    assert row["reasons"] == "far behind even with help; needs special teaching"
    assert row["flags"] == ""
    assert row["status"] == "contacted"
    assert row["assignee"] == STAFF_EMAIL
    assert row["language"] == "en"
    assert row["phone"] == "tel:+1-555-010-0123"
    assert row["do_not_contact"] == "no"
    assert row["notes"] == "2"
    assert row["last_note"] == "Mom called back;\nbooked."
    assert row["age"] == "9"
    assert row["school"] == "Public or charter"
    assert row["services"] == "Special teaching (reading, math)"
    assert row["contact_ok"] == "Yes"
    created = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%SZ").timestamp()
    updated = datetime.strptime(row["updated_at"], "%Y-%m-%dT%H:%M:%SZ").timestamp()
    followup = services_of(app).followups.get(followup_id)
    assert followup is not None
    assert abs(created - time.mktime(time.gmtime(followup.created_at))) < 2
    assert updated >= created


def test_the_export_follows_the_filters(
    staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    rows = export_rows(staff_client, "?status=closed")
    assert [r["id"] for r in rows] == [queue_seed["e"]]
    assert rows[0]["status"] == "closed"
    assert rows[0]["outcome"] == "Talk it through"


def test_the_export_labels_outcomes_reasons_and_flags_in_plain_english(
    app: Flask, staff_client: FlaskClient
) -> None:
    seed_followup(
        app,
        outcome=Outcome.PLAN_504,
        priority=Priority.URGENT,
        reasons=("accommodations_enough", "no_code_we_know"),
        flags=("deadline_soon", "expulsion"),
    )
    (row,) = export_rows(staff_client)
    assert row["outcome"] == OUTCOME_LABELS[Outcome.PLAN_504]
    # The flow's English reason text, as the detail page shows it; a code it lacks as itself.
    assert row["reasons"] == "changes like extra time may be enough; no_code_we_know"
    assert row["flags"] == (f"{FLAG_LABELS['deadline_soon']}; {FLAG_LABELS['expulsion']}")
    assert row["notes"] == "0"
    assert row["last_note"] == ""


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+15550101234", "tel:+1-555-010-1234"),
        ("+442079460958", "tel:+442079460958"),
    ],
)
def test_the_export_keeps_phones_as_text_an_importer_reads(
    app: Flask, staff_client: FlaskClient, phone: str, shown: str
) -> None:
    seed_followup(app, phone=phone)
    (row,) = export_rows(staff_client)
    # A spreadsheet reads "+15550101234" as the number 15550101234 (the + gone, shown as
    # 1.56E+10); an RFC 3966 tel: URI starts with a letter, so it stays text, and it is the
    # standard written form of the number, with all its digits.
    assert row["phone"] == shown
    assert "+" + re.sub(r"\D", "", row["phone"]) == phone


def test_every_exported_row_is_audited(
    app: Flask, staff_client: FlaskClient, queue_seed: dict[str, str]
) -> None:
    export_rows(staff_client, "?priority=urgent")
    for key, followup_id in queue_seed.items():
        exported = "export" in audit_actions(app, followup_id)
        assert exported == (key in "bd"), key


@pytest.mark.parametrize(
    ("field", "column", "value"),
    [
        ("phone", "phone", '=HYPERLINK("http://evil.example","click")'),
        ("phone", "phone", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("phone", "phone", "-2+3+cmd|' /C calc'!A0"),
        ("phone", "phone", "+2+3"),
        ("phone", "phone", "+15550100123+cmd|' /C calc'!A0"),
        ("phone", "phone", "+15550100123\n=1+1"),
        ("phone", "phone", "\t=1+1"),
        ("phone", "phone", "\r=1+1"),
        ("school", "school", "=cmd|' /C calc'!A0"),
        ("age", "age", "-1+1"),
        ("services", "services", ["=1+2", "speech"]),
        ("reason", "reasons", "=evil()"),
        ("flag", "flags", "@evil"),
    ],
)
def test_the_export_neutralises_formulas(
    app: Flask, staff_client: FlaskClient, field: str, column: str, value: Any
) -> None:
    answers: dict[str, Any] = {"age": 9, "school": "public"}
    kwargs: dict[str, Any] = {}
    if field == "phone":
        kwargs["phone"] = value
    elif field == "reason":
        kwargs["reasons"] = (value,)
    elif field == "flag":
        kwargs["flags"] = (value,)
    else:
        answers[field] = value
    seed_followup(app, answers=answers, **kwargs)
    (row,) = export_rows(staff_client)
    assert row[column].startswith("'"), row[column]
    for cell in row.values():
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or E164.fullmatch(cell), cell


def test_the_export_neutralises_a_formula_in_the_assignee(
    app: Flask, admin_client: FlaskClient
) -> None:
    evil = "=1+2@evil.example"
    post(admin_client, "/staff/admin/add", {"email": evil, "password": OTHER_PASSWORD})
    assert services_of(app).staff.get(evil) is not None
    followup_id = seed_followup(app)
    post(admin_client, f"/staff/f/{followup_id}/assign", {"assignee": evil})
    (row,) = export_rows(admin_client)
    assert row["assignee"] == "'" + evil


def test_the_export_neutralises_a_formula_in_a_problem(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = seed_followup(app)
    services_of(app).followups.add_problem(followup_id, '=WEBSERVICE("x")', time.time())
    (row,) = export_rows(staff_client)
    assert row["problems"] == '\'=WEBSERVICE("x")'


def test_the_export_neutralises_a_formula_in_the_last_note(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = seed_followup(app)
    post(staff_client, f"/staff/f/{followup_id}/notes", {"note": '=HYPERLINK("x")'})
    (row,) = export_rows(staff_client)
    assert row["last_note"] == '\'=HYPERLINK("x")'


def test_an_empty_export_has_the_header_only(staff_client: FlaskClient) -> None:
    response = staff_client.get("/staff/export.csv")
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("id,created_at,updated_at,priority,outcome,reasons")
