"""After the result: the family's texts go to its follow-up, and the office sees who is waiting.

Screenings are completed through the webhook; their evaluations run in-process. The app's
clock is a FakeClock, so the 24-hour acknowledgement window is crossed by moving it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis as redis_lib
from click.testing import CliRunner
from conftest import (
    PARENT,
    SCREENING,
    FakeClock,
    Phone,
    html_of,
    make_config,
    post,
    run_jobs,
    screen,
    services_of,
    transcript_items,
)
from flask import Flask
from flask.testing import FlaskClient

from sms_service.cli import main
from sms_service.engine import Event, Flow, State, Status, advance, load_flow, new_state
from sms_service.engine.engine import ACK_WINDOW_SECONDS
from sms_service.followups import FollowupStatus

ACK_EN = "Thanks, we got your message. Our staff will reply during office hours."
ACK_ES = "Gracias, recibimos su mensaje."
#: The Spanish screening: the language question answered 2, then the same answers.
SPANISH = ["Hola", *SCREENING[2:]]
NO_CONTACT = [*SCREENING[:-1], "N"]


def unread_of(app: Flask, followup_id: str) -> int:
    followup = services_of(app).followups.get(followup_id)
    assert followup is not None
    return followup.unread


def queue_row(html: str, followup_id: str) -> str:
    start = html.index(f'data-id="{followup_id}"')
    return html[start : html.index("</tr>", start)]


# --- the engine, pure ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flow() -> Flow:
    context = {"office_name": "T", "office_phone": "555-0100", "consultation_url": "https://e.org"}
    return load_flow(Path(__file__).parent.parent / "flows" / "screening.yaml", context)


def finished(flow: Flow, texts: list[str] = SCREENING) -> tuple[State, float]:
    state = new_state("c1", PARENT, 0.0, flow)
    for i, text in enumerate(texts):
        state = advance(flow, state, text, float(i)).state
    assert state.status is Status.COMPLETED
    return (state, float(len(texts)))


def test_the_first_text_after_the_result_is_acknowledged_once_a_day(flow: Flow) -> None:
    state, now = finished(flow)
    step = advance(flow, state, "yes 3pm works, call me", now)
    assert step.events == (Event.PARENT_MESSAGE,)
    assert step.replies[0].startswith(ACK_EN)
    assert "555-0100" in step.replies[0] and "RESTART" in step.replies[0]
    for later in (60.0, ACK_WINDOW_SECONDS - 1):
        quiet = advance(flow, step.state, "hello?", now + later)
        assert (quiet.replies, quiet.events) == ((), (Event.PARENT_MESSAGE,))
    again = advance(flow, step.state, "hello?", now + ACK_WINDOW_SECONDS)
    assert again.replies[0].startswith(ACK_EN), "a new day gets one acknowledgement again"


def test_the_acknowledgement_is_in_the_parents_language(flow: Flow) -> None:
    state, now = finished(flow, SPANISH)
    step = advance(flow, state, "gracias, me pueden llamar?", now)
    assert step.replies[0].startswith(ACK_ES)
    assert "REINICIAR" in step.replies[0]


@pytest.mark.parametrize("text", ["BACK", "?", "thanks", "Can you call me tomorrow"])
def test_any_other_text_after_the_result_is_for_staff(flow: Flow, text: str) -> None:
    state, now = finished(flow)
    step = advance(flow, state, text, now)
    assert Event.PARENT_MESSAGE in step.events
    assert step.state.status is Status.COMPLETED


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("HELP", Event.HELP),
        ("RESTART", Event.RESTARTED),
        ("REINICIAR", Event.RESTARTED),
        ("STOP", Event.OPTED_OUT),
        ("please stop texting me", Event.OPTED_OUT),
        ("ESPANOL", Event.LANGUAGE_CHANGED),
    ],
)
def test_keywords_keep_their_meaning_after_the_result(flow: Flow, text: str, event: Event) -> None:
    state, now = finished(flow)
    step = advance(flow, state, text, now)
    assert event in step.events
    assert Event.PARENT_MESSAGE not in step.events


def test_an_opted_out_family_gets_silence_but_staff_get_the_text(flow: Flow) -> None:
    state, now = finished(flow)
    stopped = advance(flow, state, "STOP", now).state
    step = advance(flow, stopped, "actually please call me", now + 1)
    assert step.replies == ()
    assert Event.PARENT_MESSAGE in step.events
    assert advance(flow, stopped, "STOP", now + 2).events == (Event.IGNORED,)


# --- through the webhook ---------------------------------------------------------------------


def test_a_reply_to_staff_reaches_the_followup_not_the_flow(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = screen(app, PARENT)
    post(staff_client, f"/staff/f/{followup_id}/text", {"body": "Can we call you today?"})
    parent = Phone(app.test_client(), PARENT)
    replies = parent.text("yes 3pm works, call me")
    assert len(replies) == 1 and replies[0].startswith(ACK_EN)
    assert "We have your answers" not in replies[0]
    assert unread_of(app, followup_id) == 1
    row = queue_row(html_of(staff_client, "/staff/rows"), followup_id)
    assert "1 new text from the parent" in row
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert ("in", "yes 3pm works, call me") in transcript_items(page)
    assert ("out", "Can we call you today?") in transcript_items(page)
    assert unread_of(app, followup_id) == 0, "opening it marks the texts seen"
    assert "new text" not in queue_row(html_of(staff_client, "/staff/rows"), followup_id)


def test_thirty_texts_in_a_minute_get_one_acknowledgement_and_all_are_kept(
    app: Flask, clock: FakeClock
) -> None:
    followup_id = screen(app, PARENT)
    parent = Phone(app.test_client(), PARENT)
    replies = []
    for i in range(30):
        replies += parent.text(f"message {i}")
        clock.advance(2)
    assert len(replies) == 1 and replies[0].startswith(ACK_EN)
    assert unread_of(app, followup_id) == 30
    kept = [line["body"] for line in services_of(app).store.thread(PARENT) if line["dir"] == "in"]
    assert kept[-30:] == [f"message {i}" for i in range(30)]
    clock.advance(ACK_WINDOW_SECONDS)
    assert parent.text("still there?")[0].startswith(ACK_EN), "the next day: acknowledged again"


def test_a_text_while_the_result_is_evaluated_is_attached(app: Flask) -> None:
    followup_id = screen(app, PARENT, evaluate=False)
    Phone(app.test_client(), PARENT).text("do I need to do anything?")
    assert services_of(app).followups.get(followup_id) is None, "still being evaluated"
    run_jobs(app)
    assert unread_of(app, followup_id) == 1


def test_a_family_with_two_screenings_texts_the_newest_followup(
    app: Flask, staff_client: FlaskClient
) -> None:
    first = screen(app, PARENT)
    parent = Phone(app.test_client(), PARENT)
    parent.text("RESTART")
    second = screen(app, PARENT, SCREENING[2:])
    assert second != first
    parent.text("which one counts?")
    assert (unread_of(app, first), unread_of(app, second)) == (0, 1)
    later = html_of(staff_client, f"/staff/f/{second}")
    assert f'href="/staff/f/{first}"' in later, "the later screening links to the earlier one"
    earlier = html_of(staff_client, f"/staff/f/{first}")
    assert f'href="/staff/f/{second}"' in earlier
    assert ("in", "which one counts?") in transcript_items(earlier), "the thread follows the phone"


def test_a_closed_followup_reopens_when_the_parent_texts(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = screen(app, PARENT)
    post(staff_client, f"/staff/f/{followup_id}/status", {"status": "closed"})
    Phone(app.test_client(), PARENT).text("we still need help")
    followup = services_of(app).followups.get(followup_id)
    assert followup is not None
    assert (followup.status, followup.unread) == (FollowupStatus.NEW.value, 1)
    last = services_of(app).followup_work.audit_trail(followup_id)[-1]
    assert (last.actor, last.action) == ("parent", "reopen")
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert "texted after the follow-up was closed" in page


def test_the_queue_floats_and_filters_those_waiting_for_us(
    app: Flask, staff_client: FlaskClient, clock: FakeClock
) -> None:
    older = screen(app, "+15550100701")
    clock.advance(60)
    newer = screen(app, "+15550100702")
    ids = services_of(app).followups.list()
    assert [f.id for f in ids] == [older, newer]
    Phone(app.test_client(), "+15550100702").text("any news?")
    assert [f.id for f in services_of(app).followups.list()] == [newer, older]
    replied = html_of(staff_client, "/staff/rows?replied=1")
    assert f'data-id="{newer}"' in replied and f'data-id="{older}"' not in replied
    assert 'data-count="replied">1<' in replied


def test_restart_stop_and_later_texts_stay_on_the_familys_page(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = screen(app, PARENT)
    parent = Phone(app.test_client(), PARENT)
    parent.text("REINICIAR")
    parent.text("STOP")
    assert parent.text("why did you stop?") == []
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    items = transcript_items(page)
    for text in ("REINICIAR", "STOP"):
        assert ("in", text) in items
    assert 'id="opted-out"' in page
    assert "Opted out" in queue_row(html_of(staff_client, "/staff/rows"), followup_id)
    assert "opted out of texts (STOP)" in page, "staff cannot text them"


def test_a_no_contact_family_that_texts_may_be_answered(
    app: Flask, staff_client: FlaskClient
) -> None:
    followup_id = screen(app, PARENT, NO_CONTACT)
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert "may not text or call" in page and 'id="text-form"' not in page
    Phone(app.test_client(), PARENT).text("Actually, can someone call me?")
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert 'id="answering"' in page and 'id="text-form"' in page
    post(staff_client, f"/staff/f/{followup_id}/text", {"body": "Yes, we will call at 3."})
    last = services_of(app).followup_work.audit_trail(followup_id)[-1]
    assert last.action == "text" and "answering the parent's text" in last.text
    run_jobs(app)
    sent = [
        services_of(app).outbound.get(message_id)
        for message_id in services_of(app).followup_work.texts(followup_id)
    ]
    assert [m.status for m in sent if m] != ["suppressed"], "the send is not refused"
    Phone(app.test_client(), PARENT).text("STOP")
    assert "opted out of texts (STOP)" in html_of(staff_client, f"/staff/f/{followup_id}")


def test_followups_list_shows_unread_and_opted_out(
    app: Flask, redis: redis_lib.Redis, redis_url: str, tmp_path: Path
) -> None:
    quiet = screen(app, "+15550100711")
    waiting = screen(app, "+15550100712")
    stopped = screen(app, "+15550100713")
    Phone(app.test_client(), "+15550100712").text("hello?")
    Phone(app.test_client(), "+15550100712").text("hello??")
    Phone(app.test_client(), "+15550100713").text("STOP")
    env = make_config(redis_url, tmp_path)
    result = CliRunner().invoke(main, ["followups", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert {k: (rows[k]["unread"], rows[k]["opted_out"]) for k in rows} == {
        quiet: (0, False),
        waiting: (2, False),
        stopped: (0, True),
    }
    table = CliRunner().invoke(main, ["followups", "list"], env=env).output.splitlines()
    assert "unread" in table[0]
    by_phone = {line.split("+1555")[1][:7]: line for line in table[1:]}
    assert " 2  " in by_phone["0100712"]
    assert "[opted out]" in by_phone["0100713"]
    assert "[opted out]" not in by_phone["0100711"]
