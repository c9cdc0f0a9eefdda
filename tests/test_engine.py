"""The pure engine, without Redis: state in, state and replies out."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms_service.engine import Event, Flow, State, Status, advance, load_flow, new_state

CONTEXT = {"office_name": "T", "office_phone": "1", "consultation_url": "https://e.org/b"}


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(Path(__file__).parent.parent / "flows" / "screening.yaml", CONTEXT)


def run(flow: Flow, texts: list[str], state: State | None = None) -> State:
    state = state or new_state("c1", "+15550100000", 0.0, flow)
    for i, text in enumerate(texts):
        state = advance(flow, state, text, float(i)).state
    return state


@pytest.mark.parametrize(
    "reply",
    ["he needs an IEP", "we asked for a 504", "we want an IEP", "necesita un IEP", "pidio un 504"],
)
def test_wanting_a_plan_is_not_having_one(flow: Flow, reply: str) -> None:
    state = run(flow, ["Hi", "1", "9", "A", "Y"])
    assert state.current == "plan"
    step = advance(flow, state, reply, 10.0)
    assert "plan" not in step.state.answers
    assert step.events == (Event.INVALID,)
    assert step.replies[0].startswith("Sorry")


@pytest.mark.parametrize(("reply", "code"), [("she has an IEP", "iep"), ("a 504", "504")])
def test_having_a_plan_is_recorded(flow: Flow, reply: str, code: str) -> None:
    state = run(flow, ["Hi", "1", "9", "A", "Y", reply])
    assert state.answers["plan"] == code


def test_advance_does_not_change_the_state_it_was_given(flow: Flow) -> None:
    state = run(flow, ["Hi", "1"])
    before = state.to_json()
    advance(flow, state, "9", 5.0)
    assert state.to_json() == before


def test_state_round_trips_through_json(flow: Flow) -> None:
    state = run(flow, ["Hi", "1", "9", "A", "Y", "C", "Y", "AB"])
    assert State.from_json(state.to_json()) == state
    assert state.answers["services"] == ["speech", "instruction"]


def test_the_last_answer_completes_and_says_so(flow: Flow) -> None:
    state = run(flow, ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N"])
    step = advance(flow, state, "Y", 20.0)
    assert step.state.status is Status.COMPLETED
    assert Event.COMPLETED in step.events
    assert "reviewing your answers" in step.replies[0]


@pytest.mark.parametrize(
    ("answers", "key", "lead"),
    [
        (["Hi", "1"], "age", "Sorry, we didn't get that."),
        (["Hi", "1", "9"], "school", "Please pick one of the letters."),
        (["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A"], "deadline_soon",
         "This one needs a yes or a no."),
    ],
)  # fmt: skip
def test_not_sure_where_it_is_not_allowed_says_what_is_needed(
    flow: Flow, answers: list[str], key: str, lead: str
) -> None:
    state = run(flow, answers)
    assert state.current == key
    reply = advance(flow, state, "not sure", 30.0).replies[0]
    assert reply.startswith(lead), reply
