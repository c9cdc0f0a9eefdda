"""The conversation service on a real Redis: expiry, TTLs, hand-off, flow edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis as redis_lib
import yaml
from conftest import FLOWS_DIR, FakeClock, services_of
from flask import Flask

from sms_service import keys
from sms_service.conversation import ConversationService, InboundMessage
from sms_service.engine import Status, load_flow
from sms_service.jobs import evaluation_job_id
from sms_service.store import INBOUND_TTL_SECONDS, ConversationStore

CONTEXT = {
    "office_name": "Test Law Office",
    "office_phone": "555-0100",
    "consultation_url": "https://example.org/book",
}
DAY = 86400
NUMBER = "+15550100555"
ENGLISH_ANSWERS = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]


class Harness:
    def __init__(self, redis: redis_lib.Redis, flow_path: Path = FLOWS_DIR / "screening.yaml"):
        self.clock = FakeClock(start=1_800_000_000.0)
        self.enqueued: list[str] = []
        self.store = ConversationStore(redis, idle_seconds=7 * DAY, retention_seconds=30 * DAY)
        self.service = ConversationService(
            self.store, load_flow(flow_path, CONTEXT), self.enqueued.append, clock=self.clock
        )
        self.count = 0

    def text(self, body: str, number: str = NUMBER) -> tuple[str, ...]:
        self.count += 1
        message = InboundMessage(f"SM{self.count:032d}", number, "+15550100000", body)
        return self.service.handle(message).replies


@pytest.fixture
def harness(redis: redis_lib.Redis) -> Harness:
    return Harness(redis)


def test_a_conversation_idle_for_seven_days_starts_fresh(harness: Harness) -> None:
    for body in ["Hi", "1", "9"]:
        harness.text(body)
    harness.clock.now += 7 * DAY - 60
    assert harness.text("A")[0].startswith("3/11"), "still within 7 days: the flow goes on"
    harness.clock.now += 7 * DAY + 1
    replies = harness.text("Y")
    assert "free check" in replies[0], "after 7 idle days the parent gets the intro again"
    state = harness.store.load(NUMBER)
    assert state is not None
    assert state.answers == {}


def test_every_write_reapplies_the_expiry(harness: Harness, redis: redis_lib.Redis) -> None:
    harness.text("Hi")
    redis.expire(keys.conversation(NUMBER), 100)
    harness.text("1")
    assert redis.ttl(keys.conversation(NUMBER)) > 7 * DAY - 3600  # days, not the 100 s it had
    assert redis.ttl(keys.inbound(f"SM{2:032d}")) > 48 * 3600
    assert INBOUND_TTL_SECONDS >= 48 * 3600


def test_completion_saves_the_screening_and_enqueues_it_once(
    harness: Harness, redis: redis_lib.Redis
) -> None:
    for body in ENGLISH_ANSWERS:
        replies = harness.text(body)
    assert "reviewing your answers" in replies[0]
    state = harness.store.load(NUMBER)
    assert state is not None
    assert state.status is Status.COMPLETED
    assert harness.enqueued == [state.conversation_id]
    screening = harness.store.screening(state.conversation_id)
    assert screening is not None
    assert screening.answers == {
        "age": 9,
        "school": "public",
        "condition": "yes",
        "plan": "neither",
        "behind": "yes",
        "services": ["instruction"],
        "accommodations_enough": "no",
        "discipline": "none",
        "evaluation": "not_requested",
        "deadline_soon": "no",
        "contact_ok": "yes",
    }
    assert screening.phone == NUMBER
    assert screening.language == "en"
    assert harness.store.pending_evaluations() == [state.conversation_id]
    assert 29 * DAY < redis.ttl(keys.screening(state.conversation_id)) <= 30 * DAY
    # Later texts do not complete it again.
    harness.text("Y")
    assert harness.enqueued == [state.conversation_id]


def test_restart_after_completion_is_a_new_screening(harness: Harness) -> None:
    for body in ENGLISH_ANSWERS:
        harness.text(body)
    first = harness.store.load(NUMBER)
    assert first is not None
    harness.text("RESTART")
    for body in ENGLISH_ANSWERS[2:]:
        harness.text(body)
    second = harness.store.load(NUMBER)
    assert second is not None
    assert second.conversation_id != first.conversation_id
    assert harness.enqueued == [first.conversation_id, second.conversation_id]
    assert harness.store.screening(first.conversation_id) is not None


def test_completion_enqueues_a_real_rq_job(app: Flask) -> None:
    services = services_of(app)
    client = app.test_client()
    from conftest import Phone

    phone = Phone(client, NUMBER)
    for body in ENGLISH_ANSWERS:
        phone.text(body)
    state = services.store.load(NUMBER)
    assert state is not None
    job_ids = services.queue.get_job_ids()
    assert job_ids == [evaluation_job_id(state.conversation_id)]
    job = services.queue.fetch_job(job_ids[0])
    assert job is not None
    assert job.args == (state.conversation_id,)
    assert NUMBER not in (job.description or "")


def test_opt_out_outlives_the_conversation(harness: Harness, redis: redis_lib.Redis) -> None:
    harness.text("Hi")
    assert harness.text("STOP") == ()
    redis.delete(keys.conversation(NUMBER))
    assert harness.text("Hi") == (), "no conversation, still opted out: silence"
    assert redis.ttl(keys.opt_out(NUMBER)) == -1, "an opt-out never expires"
    assert harness.text("START")


def _edited_flow(tmp_path: Path, edit: dict[str, object]) -> Path:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    path = flows / "screening.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = data["questions"]
    if "drop" in edit:
        data["questions"] = [q for q in questions if q["key"] != edit["drop"]]
    if "recode" in edit:
        for q in data["questions"]:
            if q["key"] == edit["recode"]:
                q["choices"][0]["code"] = "public_or_charter"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_flow_edited_mid_conversation_does_not_break_it(
    redis: redis_lib.Redis, tmp_path: Path
) -> None:
    old = Harness(redis)
    for body in ["Hi", "1", "9", "A", "Y"]:  # age, school=public, condition=yes; now at plan
        old.text(body)
    # The office removes the plan question (the one being asked) and renames a code.
    new = Harness(redis, _edited_flow(tmp_path, {"drop": "plan", "recode": "school"}))
    new.count = old.count
    replies = new.text("C")
    state = new.store.load(NUMBER)
    assert state is not None
    # school's stored code no longer exists, so it is asked again; plan is gone.
    assert state.current == "school"
    assert "school" not in state.answers
    assert state.answers["age"] == 9
    assert "plan" not in state.answers
    assert replies, "the parent gets an answer, not an error"
    for body in ["A", "Y", "B", "N", "A", "A", "N", "Y"]:
        replies = new.text(body)
    assert "reviewing your answers" in replies[0]
    done = new.store.load(NUMBER)
    assert done is not None
    assert done.answers["school"] == "public_or_charter"


def test_the_transcript_keeps_both_sides_in_order(harness: Harness) -> None:
    harness.text("Hi")
    harness.text("she's nine")
    state = harness.store.load(NUMBER)
    assert state is not None
    lines = harness.store.thread(NUMBER)
    assert [(line["dir"], line["body"][:12]) for line in lines] == [
        ("in", "Hi"),
        ("out", "Test Law Off"),
        ("out", "Reply 1 for "),
        ("in", "she's nine"),
        ("out", "Sorry, we di"),
    ]
    assert all(isinstance(line["at"], float) for line in lines)
