"""Delivery errors as staff see them: each Twilio error code through the real paths.

Carrier errors (30xxx) arrive in signed status callbacks (POST /sms/status); REST errors
(21xxx) are the local Twilio API's answer to the send job. Each ends up on the follow-up's
page (the text's status with what the code means and what to do), in the queue (a "Text
failed" mark), in `followups list --json` (`delivery`), and, for a number that cannot take
texts, as the refusal of staff texts. Many sends ending with 30007 (or 21610, 30034) raise an
office-wide notice on every staff page.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import (
    STAFF_EMAIL,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    Phone,
    add_staff,
    flashes,
    html_of,
    log_in,
    make_config,
    post,
    run_jobs,
    screen,
    seed_followup,
    services_of,
    sign,
)
from flask import Flask
from flask.testing import FlaskClient
from twilio.base.exceptions import TwilioRestException
from twilio_api import FakeTwilio

from sms_service import jobs
from sms_service.cli import main
from sms_service.followups import result_message_id
from sms_service.outbound import OutboundMessage
from sms_service.outbound.errors import ERRORS, describe, office_notices
from sms_service.outbound.sender import (
    PermanentSendError,
    RecipientOptedOutError,
    RetryableSendError,
    classify_send_error,
)

PARENT = "+15550100888"
STATUS_URL = "https://sms.example.org/sms/status"
STOP_REFUSAL = "This number opted out of texts (STOP). They can text START to opt back in."


# --- helpers -------------------------------------------------------------------------------


@dataclass
class Office:
    """An app sending through the local Twilio API, a staff member logged in, and the CLI."""

    app: Flask
    staff: FlaskClient
    twilio: FakeTwilio
    cli_env: dict[str, str]

    def screen(self, number: str = PARENT, rest_error: str = "") -> str:
        """Text a whole screening and run its jobs (the provider answering rest_error)."""
        if rest_error:
            self.twilio.script(rest_error)
        return screen(self.app, number, sign_with=TEST_AUTH_TOKEN)

    def message(self, message_id: str) -> OutboundMessage:
        message = services_of(self.app).outbound.get(message_id)
        assert message is not None
        return message

    def result(self, followup_id: str) -> OutboundMessage:
        return self.message(result_message_id(followup_id))

    def callback(self, message_id: str, status: str, error_code: str = "") -> None:
        """Post the status callback Twilio sends for one of our texts, signed."""
        form = {
            "MessageSid": self.message(message_id).provider_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": TEST_ACCOUNT_SID,
            "From": TEST_FROM_NUMBER,
            "To": self.message(message_id).phone,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = error_code
        headers = {"X-Twilio-Signature": sign(STATUS_URL, form)}
        response = self.app.test_client().post("/sms/status", data=form, headers=headers)
        assert response.status_code in (200, 204), response.get_data(as_text=True)

    def staff_text(self, followup_id: str, body: str) -> str:
        """Text the parent from the follow-up's page and run the send; return the text's id."""
        response = post(self.staff, f"/staff/f/{followup_id}/text", {"body": body})
        assert response.status_code == 302
        run_jobs(self.app)
        return services_of(self.app).followup_work.texts(followup_id)[-1]

    def page(self, followup_id: str) -> str:
        return unescape(html_of(self.staff, f"/staff/f/{followup_id}"))

    def queue(self) -> str:
        return unescape(html_of(self.staff, "/staff/"))

    def delivery_json(self, followup_id: str) -> Any:
        """Return the follow-up's `delivery` as `sms-screener followups list --json` prints it."""
        result = CliRunner().invoke(main, ["followups", "list", "--json"], env=self.cli_env)
        assert result.exit_code == 0, result.output
        [item] = [i for i in json.loads(result.output) if i["id"] == followup_id]
        return item["delivery"]


def why(page: str) -> list[str]:
    """Return what the conversation says about each of our texts that did not arrive."""
    return [" ".join(w.split()) for w in re.findall(r'<span class="why">(.*?)</span>', page, re.S)]


def marks(queue: str) -> list[str]:
    """Return the queue's "Text failed" marks."""
    return re.findall(r'<span class="flag textfail">(.*?)</span>', queue, re.S)


def notice(page: str) -> str:
    """Return the office-wide notice a staff page shows ("" when none)."""
    match = re.search(r'<section class="office-notice"[^>]*>(.*?)</section>', page, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


@pytest.fixture
def office(provider_app: Flask, twilio_api: FakeTwilio, redis_url: str, tmp_path: Path) -> Office:
    add_staff(provider_app, STAFF_EMAIL)
    staff = provider_app.test_client()
    assert log_in(staff, STAFF_EMAIL).status_code == 302
    # The CLI reads the same Redis; it needs no provider to list follow-ups.
    return Office(provider_app, staff, twilio_api, make_config(redis_url, tmp_path / "cli"))


# --- each code: what staff see --------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    code: str
    #: "callback": a status callback with this ErrorCode; "rest": the API's answer to the send.
    via: str
    #: The result text's status afterwards.
    status: str
    #: The queue row's mark.
    mark: str
    #: Words of the meaning, and what to do, as the page shows them.
    meaning: str
    action: str
    #: What the text form says instead ("": staff may text the parent).
    refusal: str = ""


CASES = [
    ErrorCase("30003", "callback", "undelivered", "Text failed: phone unreachable",
              "The parent's phone could not be reached", "Try again later, or call."),
    ErrorCase("30004", "callback", "undelivered", "Text failed: blocked by the phone or carrier",
              "The parent's phone or carrier blocked the text", "Call instead"),
    ErrorCase("30005", "callback", "undelivered", "Text failed: number does not exist",
              "The number does not exist or is no longer in service.",
              "Call to check it, or ask the family for another number.",
              "Texts to this number cannot arrive (error 30005): The number does not exist or "
              "is no longer in service."),
    ErrorCase("30006", "callback", "undelivered", "Text failed: landline, cannot get texts",
              "The number is a landline, or its carrier cannot take our texts.",
              "Call instead.",
              "Texts to this number cannot arrive (error 30006): The number is a landline"),
    ErrorCase("30007", "callback", "undelivered", "Text failed: filtered as spam by the carrier",
              "filtered the text as spam", "tell whoever runs the office's Twilio account"),
    ErrorCase("30008", "callback", "failed", "Text failed: unknown carrier error",
              "The carrier could not deliver the text and did not say why.",
              "Try again later, or call."),
    ErrorCase("30034", "callback", "undelivered", "Text failed: our number is not registered",
              "not registered for A2P 10DLC", "tell whoever runs the office's Twilio account"),
    ErrorCase("21610", "callback", "failed", "Text failed: opted out (STOP)",
              "This number has opted out of the office's texts", "Do not text.", STOP_REFUSAL),
    ErrorCase("21211", "rest", "rejected", "Text failed: not a valid number",
              "Twilio refused the text: this is not a valid phone number.",
              "Check the number with the family by phone, or ask for another one.",
              "Texts to this number cannot arrive (error 21211): Twilio refused the text"),
    ErrorCase("21614", "rest", "rejected", "Text failed: cannot receive texts",
              "the number is not a mobile number", "Call instead.",
              "Texts to this number cannot arrive (error 21614): Twilio refused the text"),
    ErrorCase("21408", "rest", "rejected", "Text failed: country not enabled",
              "may not text numbers in this country", "Messaging geographic permissions"),
    ErrorCase("21610", "rest", "blocked", "Text failed: opted out (STOP)",
              "This number has opted out of the office's texts", "Do not text.", STOP_REFUSAL),
    ErrorCase("39999", "callback", "undelivered", "Text failed: error 39999",
              "this service has no description of it", "twilio.com/docs/api/errors/39999"),
    ErrorCase("", "callback", "undelivered", "Text failed: no reason given",
              "The text did not arrive, and the carrier gave no reason.",
              "Try again later, or call."),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[f"{c.code or 'no code'} {c.via}" for c in CASES])
def test_what_staff_see_for_each_error(office: Office, case: ErrorCase) -> None:
    followup_id = office.screen(rest_error=case.code if case.via == "rest" else "")
    if case.via == "callback":
        office.callback(result_message_id(followup_id), "sent")
        office.callback(result_message_id(followup_id), case.status, case.code)
    assert office.result(followup_id).status == case.status

    # The follow-up: the result text's status, what the code means and what to do.
    page = office.page(followup_id)
    [said] = why(page)
    assert said.startswith(f"Error {case.code}: " if case.code else case.meaning[:20]), said
    assert case.meaning in said and case.action in said, said
    assert f'<span class="status">{case.status}</span>' in page
    how = "not sent" if case.via == "rest" else case.status
    code = f"error {case.code}" if case.code else "no error code"
    [problem] = [f for f in flashes(page) if f.startswith("The result text was")]
    assert problem.startswith(f"The result text was {how} ({code}): ") and case.meaning in problem

    # The queue: a short mark on the row.
    assert marks(office.queue()) == [case.mark]

    # Texting the parent: refused, with the reason, for a number that cannot take texts.
    if case.refusal:
        assert case.refusal in page
        assert 'id="text-form"' not in page
        sent_before = office.twilio.creates()
        response = post(office.staff, f"/staff/f/{followup_id}/text", {"body": "Please call us."},
                        follow_redirects=True)  # fmt: skip
        assert any(f.startswith(f"Not sent: {case.refusal}") for f in flashes(
            unescape(response.get_data(as_text=True))))  # fmt: skip
        run_jobs(office.app)
        assert office.twilio.creates() == sent_before
        assert services_of(office.app).followup_work.texts(followup_id) == []
    else:
        assert 'id="text-form"' in page
        assert "Texts to this number cannot arrive" not in page

    # The CLI's JSON.
    delivery = office.delivery_json(followup_id)
    assert delivery["status"] == case.status
    assert delivery["error_code"] == (case.code or None)
    assert case.meaning in delivery["meaning"]


def test_a_delivered_text_shows_no_error(office: Office) -> None:
    followup_id = office.screen()
    office.callback(result_message_id(followup_id), "delivered")
    page = office.page(followup_id)
    assert why(page) == []
    assert '<span class="status">delivered</span>' in page
    assert 'id="text-form"' in page
    assert marks(office.queue()) == []


def test_json_delivery_is_null_until_the_first_callback(office: Office) -> None:
    followup_id = office.screen()
    assert office.result(followup_id).status == "queued"  # the provider's answer to the send
    assert office.delivery_json(followup_id) is None
    office.callback(result_message_id(followup_id), "queued")  # no news: still queued
    assert office.delivery_json(followup_id) is None
    office.callback(result_message_id(followup_id), "sent")
    assert office.delivery_json(followup_id) == {
        "status": "sent",
        "error_code": None,
        "meaning": None,
    }
    office.callback(result_message_id(followup_id), "undelivered", "30005")
    assert office.delivery_json(followup_id) == {
        "status": "undelivered",
        "error_code": "30005",
        "meaning": "The number does not exist or is no longer in service.",
    }


def test_json_delivery_of_a_text_the_provider_refused(office: Office) -> None:
    """No callback ever comes for a text the API refused: its outcome is known at once."""
    followup_id = office.screen(rest_error="21211")
    assert office.delivery_json(followup_id) == {
        "status": "rejected",
        "error_code": "21211",
        "meaning": "Twilio refused the text: this is not a valid phone number.",
    }


def test_json_delivery_in_dev_mode(app: Flask, redis_url: str, tmp_path: Path) -> None:
    """The local outbox delivers at once: there is news without any callback."""
    followup_id = screen(app, PARENT)
    result = CliRunner().invoke(main, ["followups", "list", "--json"],
                                env=make_config(redis_url, tmp_path / "cli"))  # fmt: skip
    [item] = json.loads(result.output)
    assert item["id"] == followup_id
    assert item["delivery"] == {"status": "delivered", "error_code": None, "meaning": None}


def test_the_cli_table_marks_a_failed_text(office: Office) -> None:
    followup_id = office.screen()
    office.callback(result_message_id(followup_id), "undelivered", "30006")
    result = CliRunner().invoke(main, ["followups", "list"], env=office.cli_env)
    assert "[text failed: landline, cannot get texts]" in result.output


# --- the refusal: which texts decide, and when it lifts --------------------------------------


def test_a_staff_text_that_came_back_30006_refuses_the_next(office: Office) -> None:
    followup_id = office.screen()
    office.callback(result_message_id(followup_id), "delivered")
    message_id = office.staff_text(followup_id, "Can we call you on Monday?")
    office.callback(message_id, "undelivered", "30006")
    page = office.page(followup_id)
    assert "Texts to this number cannot arrive (error 30006)" in page
    assert why(page) == [
        "Error 30006: The number is a landline, or its carrier cannot take our texts. Call "
        "instead. Texts to it are refused until the parent texts from it."
    ]
    # The queue marks the newest text with news: the staff text.
    assert marks(office.queue()) == ["Text failed: landline, cannot get texts"]


def test_the_refusal_lifts_when_the_parent_texts_from_the_number(office: Office) -> None:
    followup_id = office.screen()
    office.callback(result_message_id(followup_id), "undelivered", "30005")
    assert "Texts to this number cannot arrive (error 30005)" in office.page(followup_id)
    Phone(office.app.test_client(), PARENT, sign_with=TEST_AUTH_TOKEN).text("I got a new phone")
    page = office.page(followup_id)
    assert "Texts to this number cannot arrive" not in page
    assert 'id="text-form"' in page
    office.staff_text(followup_id, "Thanks, we will call you.")
    assert office.twilio.bodies_to(PARENT)[-1] == "Thanks, we will call you."


def test_a_later_text_that_arrived_lifts_the_refusal(office: Office) -> None:
    """A text queued before the failure came back, then delivered: the number works."""
    followup_id = office.screen()
    message_id = office.staff_text(followup_id, "Hello from the office.")
    office.callback(result_message_id(followup_id), "undelivered", "30005")
    assert "error 30005" in office.page(followup_id)  # the staff text has no news yet
    office.callback(message_id, "delivered")
    assert "Texts to this number cannot arrive" not in office.page(followup_id)
    assert marks(office.queue()) == []


def test_codes_that_do_not_refuse_leave_texting_open(office: Office) -> None:
    followup_id = office.screen()
    office.callback(result_message_id(followup_id), "undelivered", "30003")
    office.staff_text(followup_id, "Trying again: please call the office.")
    assert office.twilio.bodies_to(PARENT)[-1] == "Trying again: please call the office."


# --- the office-wide notice ------------------------------------------------------------------


def send_many(office: Office, followup_id: str, outcomes: list[str], phone: str = PARENT) -> None:
    """Send one staff-kind text per outcome and report it ("delivered", or an error code)."""
    services = services_of(office.app)
    for outcome in outcomes:
        message_id = f"staff-{uuid.uuid4().hex}"
        assert services.outbound.create(
            message_id, phone, f"Office text {message_id[-6:]}", "staff", followup_id, time.time()
        )
        with office.app.app_context():
            assert jobs.send_text(message_id) == "sent"
        if outcome == "delivered":
            office.callback(message_id, "sent")
            office.callback(message_id, "delivered")
        else:
            office.callback(message_id, "undelivered", outcome)


FILTERED = (
    "Carriers are filtering our texts as spam (error 30007 on {} of the last {} texts): check "
    "the Twilio account's A2P 10DLC registration, and tell whoever runs it. Call families "
    "meanwhile."
)


def test_the_notice_shows_at_3_of_the_last_20_sends_and_not_at_2(office: Office) -> None:
    followup_id = seed_followup(office.app, phone=PARENT, answers={"age": 9, "contact_ok": "yes"})
    send_many(office, followup_id, ["delivered"] * 9 + ["30007"] + ["delivered"] * 8 + ["30007"])
    assert notice(office.queue()) == ""
    assert notice(office.page(followup_id)) == ""

    send_many(office, followup_id, ["30007"])  # the 21st send: 3 of the last 20
    expected = FILTERED.format(3, 20)
    assert notice(office.queue()) == expected
    assert notice(office.page(followup_id)) == expected
    assert notice(unescape(html_of(office.staff, "/staff/rows"))) == ""  # rows: no page chrome

    # The first 30007 falls out of the last 20.
    send_many(office, followup_id, ["delivered"] * 10)
    assert notice(office.queue()) == ""


def test_the_notice_for_texts_to_opted_out_numbers(office: Office) -> None:
    """REST 21610s are send outcomes too (the phones differ: each is opted out after)."""
    followup_id = seed_followup(office.app, phone=PARENT, answers={"age": 9, "contact_ok": "yes"})
    send_many(office, followup_id, ["delivered"] * 4)
    services = services_of(office.app)
    office.twilio.script("21610", "21610", "21610")
    for n in range(3):
        message_id = f"staff-{uuid.uuid4().hex}"
        services.outbound.create(message_id, f"+1555010070{n}", "Hello", "staff", followup_id,
                                 time.time())  # fmt: skip
        with office.app.app_context():
            assert jobs.send_text(message_id) == "blocked"
    assert notice(office.queue()) == (
        "Texts are going to numbers that had opted out (error 21610 on 3 of the last 7 texts): "
        "the service's opt-out records and Twilio's disagree. Tell whoever runs the service; "
        "check the Advanced Opt-Out keywords in the Twilio console."
    )


def test_one_text_counts_once_however_often_twilio_reports_it(office: Office) -> None:
    followup_id = seed_followup(office.app, phone=PARENT, answers={"age": 9, "contact_ok": "yes"})
    send_many(office, followup_id, ["30007"])
    outbound = services_of(office.app).outbound
    assert outbound.recent_outcomes(time.time()) == ["30007"]
    [text] = [line for line in services_of(office.app).store.thread(PARENT) if "message_id" in line]
    for status in ("undelivered", "failed", "undelivered"):  # retried, and a late other final
        office.callback(text["message_id"], status, "30007")
    assert outbound.recent_outcomes(time.time()) == ["30007"]
    assert notice(office.queue()) == ""


def test_texts_never_sent_are_no_send_outcomes(office: Office) -> None:
    """A text stopped because the phone opted out never went out."""
    followup_id = office.screen()
    Phone(office.app.test_client(), PARENT, sign_with=TEST_AUTH_TOKEN).text("STOP")
    services = services_of(office.app)
    message_id = f"staff-{uuid.uuid4().hex}"
    services.outbound.create(message_id, PARENT, "Hello", "staff", followup_id, time.time())
    with office.app.app_context():
        assert jobs.send_text(message_id) == "suppressed"
    assert services.outbound.recent_outcomes(time.time()) == []  # the result is still queued


def test_old_outcomes_no_longer_count(office: Office) -> None:
    followup_id = seed_followup(office.app, phone=PARENT, answers={"age": 9, "contact_ok": "yes"})
    send_many(office, followup_id, ["30007"] * 3)
    assert notice(office.queue()) != ""
    later = time.time() + 8 * 86400
    assert services_of(office.app).outbound.recent_outcomes(later) == []


def test_no_notice_before_login(office: Office) -> None:
    followup_id = seed_followup(office.app, phone=PARENT, answers={"age": 9, "contact_ok": "yes"})
    send_many(office, followup_id, ["30007"] * 3)
    login = unescape(html_of(office.app.test_client(), "/staff/login"))
    assert notice(login) == ""


# --- the table itself ---------------------------------------------------------------------------


def test_the_table_answers_what_the_issue_asks() -> None:
    assert {c for c, e in ERRORS.items() if e.refuses_texts} == {"30005", "30006", "21211", "21614"}
    assert {c for c, e in ERRORS.items() if e.notice} == {"30007", "30034", "21610"}
    assert {c for c, e in ERRORS.items() if e.retryable} == {"30003", "30008"}
    assert {c for c, e in ERRORS.items() if e.opts_out} == {"21610"}
    for entry in ERRORS.values():
        assert entry.title and entry.short and entry.meaning and entry.action, entry.code
        assert entry.meaning.endswith(".") and entry.action.endswith("."), entry.code
    assert describe("") is None and describe(None) is None
    assert describe(30005) is ERRORS["30005"]


def test_notices_need_three_of_one_code() -> None:
    assert office_notices(["30007", "30007", "delivered"]) == []
    assert office_notices(["30007", "21610", "30007", "21610", "30034"]) == []
    [only] = office_notices(["30007"] * 3 + ["delivered"] * 30)
    assert "30007 on 3 of the last 20" in only


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21610, RecipientOptedOutError),
        (400, 21211, PermanentSendError),
        (400, 21614, PermanentSendError),
        (400, 21408, PermanentSendError),
        (400, 12345, PermanentSendError),
        (429, 20429, RetryableSendError),
        (503, 20503, RetryableSendError),
    ],
)
def test_send_errors_are_classified_from_the_table(
    status: int, code: int, expected: type[Exception]
) -> None:
    refused = TwilioRestException(status, "/2010-04-01/Accounts/AC/Messages.json", "no", code)
    assert type(classify_send_error(refused)) is expected
