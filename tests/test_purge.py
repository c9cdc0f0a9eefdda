"""`sms-screener purge`: every store deletes its own keys of a family; the opt-out stays."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import redis as redis_lib
from click.testing import CliRunner
from conftest import (
    TEST_AUTH_TOKEN,
    Phone,
    add_staff,
    provider_config,
    run_jobs,
    services_of,
    sign,
)
from flask import Flask
from twilio_api import FakeTwilio

from sms_service import keys
from sms_service.cli import main
from sms_service.followups import result_message_id
from sms_service.jobs import enqueue_send

FAMILY = "+15550100881"
NEIGHBOUR = "+15550100882"
SCREENING = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]
STATUS_URL = "https://sms.example.org/sms/status"


def _screen(app: Flask, number: str) -> str:
    """Text a whole screening, run its jobs (the result text goes out); return its id."""
    phone = Phone(app.test_client(), number, sign_with=TEST_AUTH_TOKEN)
    for body in SCREENING:
        phone.text(body)
    run_jobs(app)
    state = services_of(app).store.load(number)
    assert state is not None
    return state.conversation_id


def _deliver(app: Flask, provider_sid: str) -> None:
    """Post the provider's 'delivered' callback for a text."""
    form = {"MessageSid": provider_sid, "MessageStatus": "delivered"}
    headers = {"X-Twilio-Signature": sign(STATUS_URL, form)}
    response = app.test_client().post("/sms/status", data=form, headers=headers)
    assert response.status_code == 204


def _everything(redis_url: str) -> dict[str, bytes]:
    """Return every key in the test Redis with a dump of its contents (bytes, RQ's too)."""
    raw = redis_lib.Redis.from_url(redis_url)
    try:
        dumps: dict[str, bytes] = {}
        for name in raw.scan_iter("*"):
            kind = raw.type(name)
            if kind == b"string":
                content = [raw.get(name) or b""]
            elif kind == b"hash":
                content = [b for pair in raw.hgetall(name).items() for b in pair]
            elif kind == b"list":
                content = raw.lrange(name, 0, -1)
            elif kind == b"set":
                content = list(raw.smembers(name))
            elif kind == b"zset":
                content = [member for member, _ in raw.zrange(name, 0, -1, withscores=True)]
            else:  # streams (RQ's results): every entry's fields and values
                content = [
                    b for _, fields in raw.xrange(name) for pair in fields.items() for b in pair
                ]
            dumps[name.decode()] = b"\n".join([name, *content])
        return dumps
    finally:
        raw.close()


def test_purge_leaves_nothing_that_names_the_family_but_its_opt_out(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    provider_app: Flask,
) -> None:
    services = services_of(provider_app)
    # A finished screening: follow-up, result text (sent and delivered), a note, a staff text.
    first = _screen(provider_app, FAMILY)
    result = services.outbound.get(result_message_id(first))
    assert result is not None
    assert result.provider_sid
    _deliver(provider_app, result.provider_sid)
    services.followup_work.add_note(first, "called the school", "staff@office.test", time.time())
    staff_text = f"staff-{uuid.uuid4().hex}"
    services.outbound.create(staff_text, FAMILY, "Hello", "staff", first, time.time())
    services.followup_work.add_text(first, staff_text)
    services.followup_work.audit(first, "staff@office.test", "text", "1 segment(s)", time.time())
    add_staff(provider_app, "staff@office.test")
    assert services.followup_work.record_view(first, "staff@office.test", time.time())
    enqueue_send(services.queue, staff_text)
    run_jobs(provider_app)
    # Then the parent texted the office, started over (a second conversation id), opted out.
    phone = Phone(provider_app.test_client(), FAMILY, sign_with=TEST_AUTH_TOKEN)
    for body in ["please call me after 5", "RESTART", "1", "9", "STOP"]:
        phone.text(body)
    second = services.store.load(FAMILY)
    assert second is not None
    assert second.conversation_id != first
    # Another family, whose data must not be touched.
    neighbour = _screen(provider_app, NEIGHBOUR)
    neighbour_keys = {k for k, dump in _everything(redis_url).items() if neighbour.encode() in dump}
    assert len(twilio_api.messages) == 3, "two result texts and the staff text went out"

    env = provider_config(redis_url, tmp_path, twilio_api)
    outcome = CliRunner().invoke(main, ["purge", "--phone", FAMILY, "--yes"], env=env)
    assert outcome.exit_code == 0, outcome.output

    ours = [FAMILY.encode(), first.encode(), second.conversation_id.encode()]
    left = _everything(redis_url)
    # RQ's own job records and registries name jobs by ids only (never a phone number; see
    # jobs.py) and expire on their own: they may still name the conversations.
    naming = [
        key
        for key, dump in left.items()
        if any(word in dump for word in ours)
        and key != keys.opt_out(FAMILY)
        and not (key.startswith("rq:") and FAMILY.encode() not in dump)
    ]
    assert naming == [], naming
    assert keys.opt_out(FAMILY) in left, "the opt-out is the record that we must not text them"
    assert neighbour_keys <= set(left), "the other family's data is untouched"
    assert services.followups.get(neighbour) is not None
