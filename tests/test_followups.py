"""The staff queue: one follow-up per completed screening, its order, and the CLI over it.

Screenings are completed through the webhook (dev mode: the result text goes to the local
outbox) and their jobs run in-process with an RQ SimpleWorker.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from click.testing import CliRunner
from conftest import make_config, run_jobs, screen, services_of
from flask import Flask

from sms_service import jobs, keys
from sms_service.cli import main
from sms_service.evaluator import Outcome, Priority, Suggestion
from sms_service.followups import queue_score, result_message_id
from sms_service.outbound import read_outbox
from sms_service.screening import Screening as ScreeningRecord

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
CONTRACT_KEYS = {
    "id", "phone", "language", "answers", "outcome", "priority", "reasons", "flags", "status",
    "created_at",
}  # fmt: skip
ANSWER_KEYS = {
    "age", "school", "condition", "plan", "behind", "services", "accommodations_enough",
    "discipline", "evaluation", "deadline_soon", "contact_ok",
}  # fmt: skip
TIME_SENSITIVE_EN = "This may be time-sensitive; we will try to reach you soon."


@dataclass(frozen=True)
class Screening:
    """One parent's texts, and what the follow-up must hold afterwards."""

    label: str
    texts: tuple[str, ...]
    language: str
    answers: dict[str, Any]
    outcome: str
    priority: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...] = ()


def _answers(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
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
    base.update(changes)
    return base


#: 9, public, condition Y, neither, behind Y, B, N, discipline A, evaluation A, deadline, contact.
def _english(
    discipline: str = "A", evaluation: str = "A", deadline: str = "N", contact: str = "Y"
) -> tuple[str, ...]:
    return ("Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", discipline, evaluation, deadline,
            contact)  # fmt: skip


NORMAL = Screening(
    "normal", _english(), "en", _answers(), "iep", "normal", ("far_behind", "needs_instruction")
)
HIGH = Screening(
    "high", _english(evaluation="B"), "en", _answers(evaluation="pending"), "iep", "high",
    ("far_behind", "needs_instruction"), ("evaluation_pending",),
)  # fmt: skip
URGENT = Screening(
    "urgent", _english(deadline="Y"), "en", _answers(deadline_soon="yes"), "iep", "urgent",
    ("far_behind", "needs_instruction"), ("deadline_soon",),
)  # fmt: skip
URGENT_NO_CONTACT = Screening(
    "urgent, contact no", _english(discipline="C", contact="N"), "en",
    _answers(discipline="long", contact_ok="no"), "iep", "urgent",
    ("far_behind", "needs_instruction"), ("long_removal",),
)  # fmt: skip
PLAN_504 = Screening(
    "504, services none", ("Hi", "1", "10", "A", "Y", "B", "N", "E", "Y", "B", "D", "N", "Y"),
    "en", _answers(age=10, plan="504", behind="no", services=[], accommodations_enough="yes",
                   discipline="short", evaluation="found_ineligible"),
    "504", "high", ("accommodations_enough",), ("short_removal",),
)  # fmt: skip
CONSULT = Screening(
    "consult, private", ("Hi", "1", "2", "B", "NS", "D", "NS", "AC", "NS", "A", "C", "N", "N"),
    "en", _answers(age=2, school="private", condition="unsure", plan="unsure", behind="unsure",
                   services=["speech", "therapy"], accommodations_enough="unsure",
                   evaluation="refused", contact_ok="no"),
    "consult", "urgent", ("under_3",), ("evaluation_refused", "under_3"),
)  # fmt: skip
SPANISH = Screening(
    "spanish", ("HOLA", "tiene 9 años", "publica", "si", "ninguno", "si", "A y B", "no", "A",
                "A", "N", "si"),
    "es", _answers(services=["speech", "instruction"]), "iep", "normal",
    ("far_behind", "needs_speech", "needs_instruction"),
)  # fmt: skip
ALL = [NORMAL, HIGH, URGENT, URGENT_NO_CONTACT, PLAN_504, CONSULT, SPANISH]


@pytest.fixture
def env(redis: redis_lib.Redis, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The CLI's settings: the same Redis as the apps."""
    return make_config(redis_url, tmp_path, OUTBOUND_MPS="100")


def cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def as_epoch(value: Any) -> float:
    """created_at as seconds: a number, or an ISO 8601 string."""
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def number(i: int) -> str:
    return f"+1555010{i:04d}"


NORMAL_PHONE = number(1)


# --- one follow-up per completed screening -----------------------------------------------------


@pytest.mark.parametrize("screening", [pytest.param(s, id=s.label) for s in ALL])
def test_a_completed_screening_gives_one_full_followup(
    fast_app: Flask, screening: Screening
) -> None:
    phone = number(100)
    before = time.time()
    conversation_id = screen(fast_app, phone, screening.texts)
    after = time.time()
    services = services_of(fast_app)
    [followup] = services.followups.list()
    assert followup == services.followups.get(conversation_id)
    assert E164.match(followup.phone)
    assert followup.phone == phone
    assert followup.language == screening.language
    assert followup.answers == screening.answers
    assert set(followup.answers) == ANSWER_KEYS
    assert followup.outcome == screening.outcome
    assert followup.priority == screening.priority
    assert tuple(followup.reasons) == screening.reasons
    assert tuple(followup.flags) == screening.flags
    assert before <= followup.created_at <= after
    assert followup.status == "new"
    assert followup.assignee == ""
    assert followup.do_not_contact is (screening.answers["contact_ok"] == "no")
    assert followup.problems == []
    # ... and one result text, in the outbox.
    [text] = read_outbox(services.redis, phone)
    message = services.outbound.get(result_message_id(conversation_id))
    assert message is not None
    assert message.body == text["body"]
    assert message.status == "delivered"


def test_evaluating_twice_makes_one_followup_and_one_text(app: Flask) -> None:
    conversation_id = screen(app, NORMAL_PHONE, NORMAL.texts, evaluate=False)
    services = services_of(app)
    with app.app_context():
        assert jobs.evaluate_screening(conversation_id) == "iep"
        first = services.followups.get(conversation_id)
        assert jobs.evaluate_screening(conversation_id) == "iep"
        message_id = result_message_id(conversation_id)
        assert jobs.send_text(message_id) == "sent"
        assert jobs.send_text(message_id) == "done"
    run_jobs(app)  # the evaluation job the webhook queued, and the send jobs: all run again
    # The same record; only what became of its result text is news (it was sent once).
    [again] = services.followups.list()
    assert again.delivery is not None
    assert replace(again, delivery=None) == first
    assert services.redis.zcard(keys.FOLLOWUP_QUEUE) == 1
    assert len(read_outbox(services.redis)) == 1


# --- queue order ------------------------------------------------------------------------------


BASE = 1_750_000_000.0
#: (id, priority, seconds after BASE it was created), created in this (shuffled) order.
ROWS = [
    ("normal-b", Priority.NORMAL, 1_000.0),
    ("urgent-b", Priority.URGENT, 3_000.0),
    ("high-a", Priority.HIGH, 1_500.0),
    ("urgent-a", Priority.URGENT, 2_000.0),
    ("normal-old", Priority.NORMAL, -90 * 86400.0),  # waiting three months
    ("high-b", Priority.HIGH, 4_000.0),
    ("urgent-c", Priority.URGENT, 3_000.001),  # a millisecond after urgent-b
    ("normal-c", Priority.NORMAL, 5_000.0),
    ("high-new", Priority.HIGH, 400 * 86400.0),  # far in the future still sorts by priority
]
EXPECTED_ORDER = [
    "urgent-a", "urgent-b", "urgent-c", "high-a", "high-b", "high-new",
    "normal-old", "normal-b", "normal-c",
]  # fmt: skip


def _record(followup_id: str, i: int) -> ScreeningRecord:
    return ScreeningRecord(
        conversation_id=followup_id,
        phone=number(i),
        language="en",
        answers=_answers(),
        flow_id="screening",
        flow_version="test",
        started_at=BASE,
        completed_at=BASE,
    )


def test_queue_order_priority_then_oldest_first(app: Flask) -> None:
    services = services_of(app)
    for i, (followup_id, priority, offset) in enumerate(ROWS):
        suggestion = Suggestion(Outcome.CONSULT, priority, ("mixed_answers",), ())
        assert services.followups.create(_record(followup_id, i), suggestion, BASE + offset)
    assert [f.id for f in services.followups.list()] == EXPECTED_ORDER
    assert [f.id for f in services.followups.list("new")] == EXPECTED_ORDER
    # Creating again changes nothing (not the time, not the place in the queue).
    suggestion = Suggestion(Outcome.CONSULT, Priority.URGENT, ("mixed_answers",), ())
    assert not services.followups.create(_record("normal-c", 0), suggestion, BASE - 10**6)
    assert [f.id for f in services.followups.list()] == EXPECTED_ORDER
    normal_c = services.followups.get("normal-c")
    assert normal_c is not None
    assert (normal_c.priority, normal_c.created_at) == ("normal", BASE + 5_000.0)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (("urgent", BASE + 10), ("high", BASE)),
        (("high", BASE + 10), ("normal", BASE)),
        (("urgent", BASE + 365 * 86400), ("normal", BASE)),
        (("normal", BASE), ("normal", BASE + 0.001)),
        (("high", 0.0), ("high", BASE)),
    ],
)
def test_queue_score_orders(earlier: tuple[str, float], later: tuple[str, float]) -> None:
    assert queue_score(*earlier) < queue_score(*later)


def test_real_screenings_are_queued_urgent_high_normal_oldest_first(fast_app: Flask) -> None:
    order = [
        ("normal-1", NORMAL), ("high-1", HIGH), ("urgent-1", URGENT), ("normal-2", NORMAL),
        ("urgent-2", URGENT_NO_CONTACT), ("high-2", PLAN_504), ("urgent-3", CONSULT),
    ]  # fmt: skip
    ids: dict[str, str] = {}
    for i, (name, screening) in enumerate(order):
        # Evaluated now (screen runs the jobs): each follow-up is created after the one before.
        ids[screen(fast_app, number(200 + i), screening.texts)] = name
        time.sleep(0.005)
    got = [ids[f.id] for f in services_of(fast_app).followups.list()]
    assert got == ["urgent-1", "urgent-2", "urgent-3", "high-1", "high-2", "normal-1", "normal-2"]


# --- contact_ok and language --------------------------------------------------------------


def test_contact_no_is_do_not_contact_and_still_gets_the_result(fast_app: Flask) -> None:
    phone = number(300)
    conversation_id = screen(fast_app, phone, URGENT_NO_CONTACT.texts)
    services = services_of(fast_app)
    followup = services.followups.get(conversation_id)
    assert followup is not None
    assert followup.do_not_contact is True
    assert followup.answers["contact_ok"] == "no"
    [text] = read_outbox(services.redis, phone)
    assert text["body"].startswith("An IEP is likely the better fit")
    assert "Info only, not legal advice" in text["body"]
    # The urgent promise to call is only made to a parent who said we may.
    assert "time-sensitive" not in text["body"]


def test_urgent_with_contact_yes_promises_a_call(fast_app: Flask) -> None:
    phone = number(301)
    conversation_id = screen(fast_app, phone, URGENT.texts)
    services = services_of(fast_app)
    followup = services.followups.get(conversation_id)
    assert followup is not None
    assert followup.do_not_contact is False
    [text] = read_outbox(services.redis, phone)
    assert TIME_SENSITIVE_EN in text["body"]


def test_a_spanish_screening_is_recorded_in_codes_and_answered_in_spanish(app: Flask) -> None:
    phone = number(400)
    conversation_id = screen(app, phone, SPANISH.texts)
    services = services_of(app)
    followup = services.followups.get(conversation_id)
    assert followup is not None
    assert followup.language == "es"
    assert followup.answers == SPANISH.answers
    [text] = read_outbox(services.redis, phone)
    body = text["body"]
    assert body.startswith("Un IEP es probablemente lo mejor para su hijo/a.")
    assert "Porque usted dijo: muy atrasado/a aun con ayuda" in body
    assert "necesita ayuda del habla o lenguaje" in body
    assert "Solo informacion, no es consejo legal." in body
    assert "Because you said" not in body
    assert "legal advice" not in body


# --- the CLI --------------------------------------------------------------------------------


@pytest.fixture
def queue(fast_app: Flask) -> dict[str, Screening]:
    """Several completed, evaluated screenings: follow-up id -> its screening."""
    made: dict[str, Screening] = {}
    for i, screening in enumerate(ALL):
        made[screen(fast_app, number(500 + i), screening.texts)] = screening
    return made


def test_followups_list_json_follows_the_contract(
    queue: dict[str, Screening], env: dict[str, str], tmp_path: Path
) -> None:
    rows = json.loads(cli(env, "followups", "list", "--json"))
    assert isinstance(rows, list)
    assert {row["id"] for row in rows} == set(queue)
    order = {"urgent": 0, "high": 1, "normal": 2}
    ranks = [(order[row["priority"]], as_epoch(row["created_at"])) for row in rows]
    assert ranks == sorted(ranks)
    for row in rows:
        screening = queue[row["id"]]
        assert set(row) >= CONTRACT_KEYS, CONTRACT_KEYS - set(row)
        assert E164.match(row["phone"]), row["phone"]
        assert row["language"] == screening.language
        assert row["answers"] == screening.answers
        assert (row["outcome"], row["priority"]) == (screening.outcome, screening.priority)
        assert tuple(row["reasons"]) == screening.reasons
        assert tuple(row["flags"]) == screening.flags
        assert row["status"] == "new"
        assert abs(as_epoch(row["created_at"]) - time.time()) < 300
        # `evaluate` reads the answers as they are and agrees with the follow-up.
        path = tmp_path / f"answers-{row['id']}.json"
        path.write_text(json.dumps(row["answers"]), encoding="utf-8")
        suggestion = json.loads(cli(env, "evaluate", str(path)))
        assert suggestion == {key: row[key] for key in ("outcome", "priority", "reasons", "flags")}


def test_followups_list_filters_by_status(
    queue: dict[str, Screening], env: dict[str, str], redis: redis_lib.Redis
) -> None:
    closed = next(iter(queue))
    # No staff pages yet: close one the way they would, in its record.
    redis.hset(keys.followup(closed), "status", "closed")
    new = json.loads(cli(env, "followups", "list", "--json", "--status", "new"))
    assert {row["id"] for row in new} == set(queue) - {closed}
    assert all(row["status"] == "new" for row in new)
    done = json.loads(cli(env, "followups", "list", "--json", "--status", "closed"))
    assert [(row["id"], row["status"]) for row in done] == [(closed, "closed")]
    assert json.loads(cli(env, "followups", "list", "--json", "--status", "scheduled")) == []
    everything = json.loads(cli(env, "followups", "list", "--json"))
    assert len(everything) == len(queue)
    bad = CliRunner().invoke(main, ["followups", "list", "--status", "lost"], env=env)
    assert bad.exit_code == 2


def test_followups_list_with_none(env: dict[str, str]) -> None:
    assert json.loads(cli(env, "followups", "list", "--json")) == []
    assert "no follow-ups" in cli(env, "followups", "list")


def test_followups_list_prints_a_readable_table(
    queue: dict[str, Screening], env: dict[str, str]
) -> None:
    output = cli(env, "followups", "list")
    lines = output.splitlines()
    header, rows = lines[0], lines[1:]
    for column in ("priority", "outcome", "status", "phone"):
        assert column in header
    assert len(rows) == len(queue)
    assert [row.split()[0] for row in rows] == sorted(
        (row.split()[0] for row in rows), key=["urgent", "high", "normal"].index
    )
    services_phones = {number(500 + i) for i in range(len(ALL))}
    assert {next(w for w in row.split() if w.startswith("+")) for row in rows} == services_phones
    no_contact = [row for row in rows if "do not contact" in row]
    assert len(no_contact) == sum(s.answers["contact_ok"] == "no" for s in queue.values())
    assert any("deadline_soon" in row for row in rows)
    assert "{" not in output, "not JSON"


def test_outbox_lists_the_dev_mode_result_text(app: Flask, env: dict[str, str]) -> None:
    phone = number(600)
    screen(app, phone, NORMAL.texts)
    [text] = read_outbox(services_of(app).redis, phone)
    output = cli(env, "outbox")
    assert f"to {phone}" in output
    assert text["body"] in output
    assert "An IEP is likely the better fit" in output
    assert phone in cli(env, "outbox", "--phone", phone)
    assert "the outbox is empty" in cli(env, "outbox", "--phone", number(601))
