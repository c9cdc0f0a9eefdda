"""POST /sms/status: Twilio's delivery status callbacks for the texts we send.

Callbacks are signed like /sms (PUBLIC_BASE_URL is https://sms.example.org in provider_config,
so Twilio signs https://sms.example.org/sms/status). A known text's status only moves forward;
each (MessageSid, MessageStatus) is applied once; 21610 opts the phone out; a failed or
undelivered result text becomes a problem on the family's follow-up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    Phone,
    inbound_form,
    services_of,
    sign,
    twiml_messages,
)
from flask import Flask
from flask.testing import FlaskClient
from twilio_api import FakeTwilio
from werkzeug.test import TestResponse

from sms_service import jobs
from sms_service.followups import result_message_id
from sms_service.outbound import DeliveryStatus
from sms_service.outbound.sender import AmbiguousSendError
from sms_service.services import Services

PUBLIC_BASE = "https://sms.example.org"
STATUS_URL = f"{PUBLIC_BASE}/sms/status"
SMS_URL = f"{PUBLIC_BASE}/sms"
PARENT = "+15550100777"
#: A whole screening in English: outcome iep, priority normal, contact_ok yes.
SCREENING = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]
OPTED_OUT = "21610"


# --- helpers -------------------------------------------------------------------------------


class PublicPhone(Phone):
    """A phone texting an app whose PUBLIC_BASE_URL is set: Twilio signs the public URL."""

    def text(self, body: str, sid: str | None = None, **extra: str) -> list[str]:
        form = inbound_form(self.number, body, sid, **extra)
        headers = {"X-Twilio-Signature": sign(SMS_URL, form, TEST_AUTH_TOKEN)}
        response = self.client.post("/sms", data=form, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return twiml_messages(response.get_data(as_text=True))


def status_form(
    sid: str, status: str, error_code: str = "", to: str = PARENT, **extra: str
) -> dict[str, str]:
    """Return the form Twilio posts for one status callback."""
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": TEST_ACCOUNT_SID,
        "From": TEST_FROM_NUMBER,
        "To": to,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    form.update(extra)
    return form


def post_status(client: FlaskClient, form: Mapping[str, str]) -> TestResponse:
    """Post a callback signed as Twilio signs it."""
    headers = {"X-Twilio-Signature": sign(STATUS_URL, dict(form))}
    return client.post("/sms/status", data=dict(form), headers=headers)


@dataclass
class Sent:
    """A completed screening whose result text the fake Twilio took."""

    app: Flask
    services: Services
    client: FlaskClient
    conversation_id: str
    message_id: str
    provider_sid: str

    def callback(self, status: str, error_code: str = "", sid: str | None = None) -> int:
        form = status_form(sid or self.provider_sid, status, error_code)
        return post_status(self.client, form).status_code

    @property
    def status(self) -> str:
        message = self.services.outbound.get(self.message_id)
        assert message is not None
        return message.status

    @property
    def problems(self) -> list[str]:
        followup = self.services.followups.get(self.conversation_id)
        assert followup is not None
        return followup.problems


@pytest.fixture
def sent(provider_app: Flask, twilio_api: FakeTwilio) -> Sent:
    """Complete a screening, run its jobs, and return the result text the provider took."""
    client = provider_app.test_client()
    phone = PublicPhone(client, PARENT)
    for body in SCREENING:
        phone.text(body)
    services = services_of(provider_app)
    state = services.store.load(PARENT)
    assert state is not None
    conversation_id = state.conversation_id
    message_id = result_message_id(conversation_id)
    with provider_app.app_context():
        assert jobs.evaluate_screening(conversation_id) == "iep"
        assert jobs.send_text(message_id) == "sent"
    [taken] = twilio_api.messages
    assert taken.to == PARENT
    assert taken.status_callback == STATUS_URL
    message = services.outbound.get(message_id)
    assert message is not None
    assert message.provider_sid == taken.sid
    assert message.status == "queued"
    return Sent(provider_app, services, client, conversation_id, message_id, taken.sid)


def table(cases: Iterable[Any], label: str = "label") -> list[Any]:
    """Parametrize rows; a row with a `bug` is a strict xfail naming it."""
    return [
        pytest.param(
            case,
            id=getattr(case, label),
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in cases
    ]


# --- the request: signature and form --------------------------------------------------------


@dataclass(frozen=True)
class RequestCase:
    label: str
    #: What is posted (signed over `signed_form`, or not at all).
    form: Mapping[str, str]
    expected: int
    #: Sign for this URL (None: no signature header).
    signed_for: str | None = STATUS_URL
    token: str = TEST_AUTH_TOKEN
    #: The form the signature covers, when it differs from the one posted.
    signed_form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    bug: str = ""


UNKNOWN = "SM" + "0" * 32
VALID = status_form(UNKNOWN, "delivered")


def _without(form: Mapping[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in names}


REQUEST_CASES = [
    RequestCase("valid signature", VALID, 204),
    RequestCase("no signature", VALID, 403, signed_for=None),
    RequestCase("empty signature", VALID, 403, signed_for=None,
                headers={"X-Twilio-Signature": ""}),
    RequestCase("garbage signature", VALID, 403, signed_for=None,
                headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}),
    RequestCase("signed with another token", VALID, 403, token="another-auth-token"),
    RequestCase("signed for /sms", VALID, 403, signed_for=SMS_URL),
    RequestCase("signed for the local URL", VALID, 403,
                signed_for="http://localhost/sms/status"),
    RequestCase("status changed after signing", status_form(UNKNOWN, "failed"), 403,
                signed_form=VALID),
    RequestCase("ErrorCode added after signing", status_form(UNKNOWN, "delivered", OPTED_OUT),
                403, signed_form=VALID),
    RequestCase("missing MessageSid, unsigned", _without(VALID, "MessageSid", "SmsSid"), 403,
                signed_for=None),
    RequestCase("missing MessageSid", _without(VALID, "MessageSid", "SmsSid"), 400),
    RequestCase("missing MessageStatus", _without(VALID, "MessageStatus", "SmsStatus"), 400),
    RequestCase("blank MessageSid", {**VALID, "MessageSid": "  "}, 400),
    RequestCase("blank MessageStatus", {**VALID, "MessageStatus": ""}, 400),
    RequestCase("empty form: a blank callback, ignored", {}, 200),
    RequestCase("unknown status word", status_form(UNKNOWN, "exploded"), 400),
    RequestCase("status in capitals", status_form(UNKNOWN, "DELIVERED"), 204),
]  # fmt: skip


@pytest.mark.parametrize("case", table(REQUEST_CASES))
def test_request(provider_app: Flask, case: RequestCase) -> None:
    headers = dict(case.headers)
    if case.signed_for is not None:
        covered = case.signed_form if case.signed_form is not None else case.form
        headers["X-Twilio-Signature"] = sign(case.signed_for, dict(covered), case.token)
    response = provider_app.test_client().post("/sms/status", data=dict(case.form), headers=headers)
    assert response.status_code == case.expected, response.get_data(as_text=True)
    if case.expected in (200, 204):
        assert response.get_data() == b""


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        pytest.param(VALID, 204, id="unsigned is fine in dev mode"),
        pytest.param(_without(VALID, "MessageSid", "SmsSid"), 400, id="missing MessageSid"),
        pytest.param(_without(VALID, "MessageStatus", "SmsStatus"), 400, id="missing status"),
    ],
)
def test_request_in_dev_mode(app: Flask, form: Mapping[str, str], expected: int) -> None:
    response = app.test_client().post("/sms/status", data=dict(form))
    assert response.status_code == expected


def test_the_provider_took_the_result_with_our_callback_url(sent: Sent) -> None:
    """The fixture's own checks: queued, with a provider sid and our status callback URL."""
    assert sent.status == "queued"
    assert sent.problems == []


# --- status moves forward only, and each (sid, status) once -----------------------------------


@dataclass(frozen=True)
class StatusSequence:
    label: str
    #: Callbacks in arrival order, each with the status the record must show after it.
    steps: tuple[tuple[str, str], ...]
    bug: str = ""


S = StatusSequence
SEQUENCES = [
    S("in order", (("sent", "sent"), ("delivered", "delivered"))),
    S("every step", (("queued", "queued"), ("sending", "sending"), ("sent", "sent"),
                     ("delivered", "delivered"))),
    S("late sent after delivered", (("delivered", "delivered"), ("sent", "delivered"))),
    S("late duplicate sent twice", (("sent", "sent"), ("delivered", "delivered"),
                                    ("sent", "delivered"), ("sent", "delivered"))),
    S("delivered twice", (("delivered", "delivered"), ("delivered", "delivered"))),
    S("late queued after sent", (("sent", "sent"), ("queued", "sent"))),
    S("skips straight to delivered", (("delivered", "delivered"),)),
    S("late sending after sent", (("sent", "sent"), ("sending", "sent"))),
    S("read after delivered", (("delivered", "delivered"), ("read", "read"))),
    S("failed, then a late sent", (("failed", "failed"), ("sent", "failed"))),
    S("undelivered after sent", (("sent", "sent"), ("undelivered", "undelivered"))),
    S("status in capitals", (("DELIVERED", "delivered"),)),
]  # fmt: skip


@pytest.mark.parametrize("case", table(SEQUENCES))
def test_status_moves_forward_only(sent: Sent, case: StatusSequence) -> None:
    for status, expected in case.steps:
        assert sent.callback(status) == 204
        assert sent.status == expected, f"after {status}"


def test_statuses_keep_their_stored_spelling_and_order() -> None:
    # The values live in Redis and on staff pages; the ranks decide what a callback may move.
    assert {s.value: s.rank for s in DeliveryStatus} == {
        "created": 0, "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
        "delivered": 5, "undelivered": 5, "failed": 5, "partially_delivered": 5, "canceled": 5,
        "read": 6, "suppressed": 9, "blocked": 9, "rejected": 9,
    }  # fmt: skip


def test_a_status_is_applied_once_per_sid(sent: Sent) -> None:
    """A retried failed callback (another ErrorCode) is the same callback: one problem."""
    assert sent.callback("sent") == 204
    assert sent.callback("undelivered", "30003") == 204
    assert sent.callback("undelivered", "30005") == 204
    assert sent.status == "undelivered"
    message = sent.services.outbound.get(sent.message_id)
    assert message is not None
    assert message.error_code == "30003"
    assert len(sent.problems) == 1
    assert "30003" in sent.problems[0]


def test_a_duplicate_callback_does_not_touch_the_record(sent: Sent) -> None:
    assert sent.callback("delivered") == 204
    before = sent.services.redis.hgetall(f"smss:out:{sent.message_id}")
    time.sleep(0.01)
    for status in ("delivered", "sent", "sent", "queued"):
        assert sent.callback(status) == 204
    assert sent.services.redis.hgetall(f"smss:out:{sent.message_id}") == before


def test_a_retried_21610_callback_does_not_undo_a_later_start(sent: Sent) -> None:
    """The one effect forward-only cannot hide: a repeated 21610 would opt out again."""
    assert sent.callback("undelivered", OPTED_OUT) == 204
    assert sent.services.store.is_opted_out(PARENT)
    phone = PublicPhone(sent.client, PARENT)
    assert phone.text("START") != []
    assert not sent.services.store.is_opted_out(PARENT)
    assert sent.callback("undelivered", OPTED_OUT) == 204  # Twilio retries the same callback
    assert not sent.services.store.is_opted_out(PARENT)
    assert phone.text("HELP") != []


def test_callbacks_of_two_texts_do_not_mix(sent: Sent, twilio_api: FakeTwilio) -> None:
    """Dedupe is per (sid, status): the same status for another text still applies."""
    services = sent.services
    other_id = "staff-" + uuid.uuid4().hex
    assert services.outbound.create(other_id, PARENT, "Hello from the office", "staff",
                                    sent.conversation_id, time.time())  # fmt: skip
    with sent.app.app_context():
        assert jobs.send_text(other_id) == "sent"
    other_sid = twilio_api.messages[-1].sid
    assert sent.callback("delivered") == 204
    assert sent.callback("delivered", sid=other_sid) == 204
    other = services.outbound.get(other_id)
    assert other is not None
    assert (sent.status, other.status) == ("delivered", "delivered")


# --- 21610: the carrier says the parent opted out ---------------------------------------------


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_error_21610_opts_the_phone_out(sent: Sent, twilio_api: FakeTwilio, status: str) -> None:
    services = sent.services
    assert not services.store.is_opted_out(PARENT)
    assert sent.callback(status, OPTED_OUT) == 204
    assert services.store.is_opted_out(PARENT)
    assert sent.status == status

    # A later text from that phone gets an empty TwiML reply.
    phone = PublicPhone(sent.client, PARENT)
    assert phone.text("Hi") == []
    assert phone.text("RESTART") == []

    # A later send to that phone sends nothing.
    taken = len(twilio_api.messages)
    later = "staff-" + uuid.uuid4().hex
    assert services.outbound.create(later, PARENT, "Can we call you?", "staff",
                                    sent.conversation_id, time.time())  # fmt: skip
    with sent.app.app_context():
        assert jobs.send_text(later) == "suppressed"
        assert jobs.send_text(later) == "done"
    assert len(twilio_api.messages) == taken
    assert twilio_api.creates() == taken
    message = services.outbound.get(later)
    assert message is not None
    assert message.status == "suppressed"


@pytest.mark.parametrize(
    ("status", "error_code"),
    [("failed", "30003"), ("undelivered", "30005"), ("undelivered", ""), ("delivered", "")],
)
def test_other_errors_do_not_opt_out(sent: Sent, status: str, error_code: str) -> None:
    assert sent.callback(status, error_code) == 204
    assert not sent.services.store.is_opted_out(PARENT)
    assert PublicPhone(sent.client, PARENT).text("HELP") != []


def test_start_after_21610_opts_back_in(sent: Sent) -> None:
    """The opt-out lasts: START opts back in, only then do texts flow again."""
    assert sent.callback("undelivered", OPTED_OUT) == 204
    phone = PublicPhone(sent.client, PARENT)
    assert phone.text("START") != []
    assert not sent.services.store.is_opted_out(PARENT)


# --- failed and undelivered become problems on the follow-up ----------------------------------


@dataclass(frozen=True)
class ProblemCase:
    label: str
    callbacks: tuple[tuple[str, str], ...]
    #: How many problems the follow-up has afterwards, and words each must hold.
    problems: int
    words: tuple[str, ...] = ()
    bug: str = ""


PROBLEM_CASES = [
    ProblemCase("failed", (("failed", "30008"),), 1, ("failed", "30008")),
    ProblemCase("undelivered", (("sent", ""), ("undelivered", "30003")), 1,
                ("undelivered", "30003")),
    ProblemCase("undelivered without a code", (("undelivered", ""),), 1, ("undelivered",)),
    ProblemCase("opted out", (("failed", OPTED_OUT),), 1, ("failed", OPTED_OUT)),
    ProblemCase("delivered", (("sent", ""), ("delivered", "")), 0),
    ProblemCase("sent only", (("sent", ""),), 0),
    ProblemCase("failed after delivered (final already)", (("delivered", ""), ("failed", "30003")),
                0),
    ProblemCase("failed twice", (("failed", "30003"), ("failed", "30003")), 1, ("30003",)),
]  # fmt: skip


@pytest.mark.parametrize("case", table(PROBLEM_CASES))
def test_failed_texts_become_problems(sent: Sent, case: ProblemCase) -> None:
    for status, code in case.callbacks:
        assert sent.callback(status, code) == 204
    problems = sent.problems
    assert len(problems) == case.problems, problems
    for word in case.words:
        assert word in problems[0], problems


# --- unknown sids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_code"),
    [("delivered", ""), ("sent", ""), ("failed", "30003"), ("undelivered", "30005")],
)
def test_unknown_sid_changes_nothing(sent: Sent, status: str, error_code: str) -> None:
    services = sent.services
    outbound_before = services.outbound.get(sent.message_id)
    followup_before = services.followups.get(sent.conversation_id)
    unknown = "SM" + uuid.uuid4().hex
    assert sent.callback(status, error_code, sid=unknown) == 204
    assert services.outbound.get(sent.message_id) == outbound_before
    assert services.followups.get(sent.conversation_id) == followup_before
    assert not services.store.is_opted_out(PARENT)
    assert services.outbound.by_provider_sid(unknown) is None


def test_a_21610_for_an_unknown_sid_still_opts_the_phone_out(sent: Sent) -> None:
    """Perhaps no text of ours (sent from the console, or purged): the opt-out holds anyway."""
    unknown = "SM" + uuid.uuid4().hex
    assert sent.callback("undelivered", OPTED_OUT, sid=unknown) == 204
    assert sent.services.store.is_opted_out(PARENT)
    assert sent.status == "queued"
    assert sent.problems == []


def test_a_callback_before_the_sid_is_recorded_is_not_lost(
    provider_app: Flask, twilio_api: FakeTwilio
) -> None:
    client = provider_app.test_client()
    phone = PublicPhone(client, PARENT)
    for body in SCREENING:
        phone.text(body)
    services = services_of(provider_app)
    state = services.store.load(PARENT)
    assert state is not None
    message_id = result_message_id(state.conversation_id)
    twilio_api.delay = 1.5
    twilio_api.script("timeout")  # taken by the provider, but the answer comes too late
    with provider_app.app_context():
        jobs.evaluate_screening(state.conversation_id)
        with pytest.raises(AmbiguousSendError):
            jobs.send_text(message_id)
    [taken] = twilio_api.messages
    # Twilio reports the failure before the job's retry has found the text.
    assert post_status(client, status_form(taken.sid, "failed", OPTED_OUT)).status_code == 204
    with provider_app.app_context():
        assert jobs.send_text(message_id) == "sent"  # the retry finds it: not sent twice
    assert len(twilio_api.messages) == 1
    message = services.outbound.get(message_id)
    assert message is not None
    assert message.provider_sid == taken.sid
    followup = services.followups.get(state.conversation_id)
    assert followup is not None
    assert (message.status, services.store.is_opted_out(PARENT), len(followup.problems)) == (
        "failed",
        True,
        1,
    )
