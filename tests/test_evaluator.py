"""The evaluator against screening.md: rules, priority, flags, answer checks, and the CLI.

Every expectation here is read from shared/design/screening.md ("The flow", "Rules",
"Priority", "Flags", "Readings that settle the edges" and the `sms-screener evaluate FILE`
paragraph), not from the code. The lists of keys and codes to go through come from the
evaluator, their one home; the cases' literal answers and results pin them to the spec.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FLOWS_DIR

from sms_service.cli import main
from sms_service.engine import load_flow
from sms_service.engine.model import QuestionKind
from sms_service.evaluator import (
    ANSWER_CODES,
    ANSWER_KEYS,
    Answers,
    AnswersError,
    Suggestion,
    evaluate,
    parse_answers,
    possible_reasons,
)


def base(**overrides: Any) -> dict[str, Any]:
    """Return raw answers of a plain case, with some answers replaced.

    The plain case matches no rule before 9 and fires no priority trigger: a 9-year-old in
    public school, condition yes, no plan, not far behind, no services, changes alone enough,
    no discipline, no evaluation asked, no deadline, contact ok -> 504, normal.
    """
    answers: dict[str, Any] = {
        "age": 9,
        "school": "public",
        "condition": "yes",
        "plan": "neither",
        "behind": "no",
        "services": [],
        "accommodations_enough": "yes",
        "discipline": "none",
        "evaluation": "not_requested",
        "deadline_soon": "no",
        "contact_ok": "yes",
    }
    unknown = set(overrides) - set(answers)
    assert not unknown, f"base() has no key(s) {unknown}"
    answers.update(overrides)
    return answers


def suggest(**overrides: Any) -> dict[str, Any]:
    """Return the Suggestion JSON for base() with overrides."""
    return evaluate(parse_answers(base(**overrides))).to_json()


def test_base_is_a_plain_504_case() -> None:
    assert suggest() == {
        "outcome": "504",
        "priority": "normal",
        "reasons": ["accommodations_enough"],
        "flags": [],
    }


# --- Outcome rules 1-10 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "outcome", "reasons"),
    [
        pytest.param({"age": 22}, "consult", ["age_over_21"], id="rule1-age-22"),
        pytest.param({"age": 2}, "consult", ["under_3"], id="rule2-age-2"),
        pytest.param({"school": "private"}, "consult", ["private_school"], id="rule3-private"),
        pytest.param({"school": "home"}, "consult", ["home_school"], id="rule4-home"),
        pytest.param({"plan": "iep"}, "consult", ["has_iep"], id="rule5-plan-iep"),
        pytest.param(
            {"condition": "no"}, "consult", ["no_condition_identified"], id="rule6-condition-no"
        ),
        pytest.param(
            {"condition": "unsure", "behind": "unsure"},
            "consult",
            ["unsure_answers"],
            id="rule7-two-unsure",
        ),
        pytest.param({"behind": "yes"}, "iep", ["far_behind"], id="rule8-far-behind"),
        pytest.param({"services": []}, "504", ["accommodations_enough"], id="rule9-no-services"),
        pytest.param(
            {"accommodations_enough": "no"}, "consult", ["mixed_answers"], id="rule10-otherwise"
        ),
    ],
)
def test_each_rule_row(overrides: dict[str, Any], outcome: str, reasons: list[str]) -> None:
    result = suggest(**overrides)
    assert (result["outcome"], result["reasons"]) == (outcome, reasons)


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        pytest.param({"behind": "yes"}, ["far_behind"], id="far_behind-alone"),
        pytest.param({"services": ["speech"]}, ["needs_speech"], id="needs_speech-alone"),
        pytest.param(
            {"services": ["instruction"]}, ["needs_instruction"], id="needs_instruction-alone"
        ),
        pytest.param(
            {"behind": "yes", "services": ["speech"]},
            ["far_behind", "needs_speech"],
            id="far_behind+needs_speech",
        ),
        pytest.param(
            {"behind": "yes", "services": ["instruction"]},
            ["far_behind", "needs_instruction"],
            id="far_behind+needs_instruction",
        ),
        pytest.param(
            {"services": ["instruction", "speech"]},
            ["needs_speech", "needs_instruction"],
            id="needs_speech+needs_instruction-given-out-of-order",
        ),
        pytest.param(
            {"behind": "yes", "services": ["instruction", "speech"]},
            ["far_behind", "needs_speech", "needs_instruction"],
            id="all-three",
        ),
        pytest.param(
            {"behind": "yes", "services": ["speech", "instruction", "therapy", "behavior"]},
            ["far_behind", "needs_speech", "needs_instruction"],
            id="all-three-with-therapy-and-behavior",
        ),
        pytest.param(
            {"services": ["therapy", "speech", "behavior"]},
            ["needs_speech"],
            id="speech-with-therapy-and-behavior",
        ),
        pytest.param(
            {"services": ["speech"], "accommodations_enough": "no"},
            ["needs_speech"],
            id="speech-accommodations-not-enough",
        ),
        pytest.param(
            {"behind": "yes", "condition": "unsure"},
            ["far_behind"],
            id="far_behind-with-one-unsure",
        ),
        pytest.param(
            {"behind": "yes", "accommodations_enough": "unsure"},
            ["far_behind"],
            id="far_behind-with-accommodations-unsure",
        ),
        pytest.param(
            {"services": ["instruction"], "behind": "unsure"},
            ["needs_instruction"],
            id="instruction-with-behind-unsure",
        ),
    ],
)
def test_rule_8_iep_reasons_in_order(overrides: dict[str, Any], reasons: list[str]) -> None:
    assert suggest(**overrides) == {
        "outcome": "iep",
        "priority": "normal",
        "reasons": reasons,
        "flags": [],
    }


@pytest.mark.parametrize(
    ("services", "reasons"),
    [
        pytest.param([], ["accommodations_enough"], id="none"),
        pytest.param(["therapy"], ["accommodations_enough", "needs_therapy"], id="therapy"),
        pytest.param(
            ["behavior"], ["accommodations_enough", "needs_behavior_support"], id="behavior"
        ),
        pytest.param(
            ["therapy", "behavior"],
            ["accommodations_enough", "needs_therapy", "needs_behavior_support"],
            id="therapy+behavior",
        ),
        pytest.param(
            ["behavior", "therapy"],
            ["accommodations_enough", "needs_therapy", "needs_behavior_support"],
            id="behavior+therapy-given-out-of-order",
        ),
    ],
)
def test_rule_9_504_with_services(services: list[str], reasons: list[str]) -> None:
    assert suggest(services=services) == {
        "outcome": "504",
        "priority": "normal",
        "reasons": reasons,
        "flags": [],
    }


@pytest.mark.parametrize(
    ("overrides", "outcome", "reasons"),
    [
        # services outside {therapy, behavior}: rule 8 has already matched.
        pytest.param(
            {"services": ["speech", "therapy"]}, "iep", ["needs_speech"], id="services-speech"
        ),
        pytest.param(
            {"services": ["behavior", "instruction"]},
            "iep",
            ["needs_instruction"],
            id="services-instruction",
        ),
        pytest.param({"behind": "yes"}, "iep", ["far_behind"], id="behind-yes"),
        # a single unsure is not rule 7, and rule 9 wants firm answers: rule 10.
        pytest.param({"behind": "unsure"}, "consult", ["mixed_answers"], id="behind-unsure"),
        pytest.param({"condition": "unsure"}, "consult", ["mixed_answers"], id="condition-unsure"),
        pytest.param(
            {"accommodations_enough": "unsure"},
            "consult",
            ["mixed_answers"],
            id="accommodations-unsure",
        ),
        pytest.param(
            {"accommodations_enough": "no"}, "consult", ["mixed_answers"], id="accommodations-no"
        ),
        pytest.param(
            {"accommodations_enough": "no", "services": ["therapy", "behavior"]},
            "consult",
            ["mixed_answers"],
            id="accommodations-no-with-therapy-behavior",
        ),
        pytest.param(
            {"condition": "unsure", "services": ["therapy"]},
            "consult",
            ["mixed_answers"],
            id="condition-unsure-with-therapy",
        ),
    ],
)
def test_rule_9_failing_falls_through(
    overrides: dict[str, Any], outcome: str, reasons: list[str]
) -> None:
    result = suggest(**overrides)
    assert (result["outcome"], result["reasons"]) == (outcome, reasons)


# --- First matching rule wins --------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        pytest.param({"age": 25, "school": "private"}, ["age_over_21"], id="age25+private"),
        pytest.param(
            {
                "age": 25,
                "school": "home",
                "plan": "iep",
                "condition": "no",
                "behind": "yes",
                "services": ["speech"],
            },
            ["age_over_21"],
            id="age25-beats-everything",
        ),
        pytest.param({"age": 1, "school": "home"}, ["under_3"], id="age1+home"),
        pytest.param({"age": 2, "behind": "yes"}, ["under_3"], id="age2+far_behind"),
        pytest.param({"school": "private", "plan": "iep"}, ["private_school"], id="private+iep"),
        pytest.param(
            {"school": "private", "condition": "no"}, ["private_school"], id="private+condition-no"
        ),
        pytest.param({"school": "home", "plan": "iep"}, ["home_school"], id="home+iep"),
        pytest.param({"plan": "iep", "condition": "no"}, ["has_iep"], id="plan-iep+condition-no"),
        pytest.param(
            {"plan": "iep", "behind": "yes", "services": ["speech"]},
            ["has_iep"],
            id="plan-iep+far_behind",
        ),
        pytest.param(
            {"condition": "no", "behind": "unsure", "accommodations_enough": "unsure"},
            ["no_condition_identified"],
            id="condition-no+two-unsure",
        ),
        pytest.param(
            {"condition": "no", "behind": "yes", "services": ["instruction"]},
            ["no_condition_identified"],
            id="condition-no+far_behind",
        ),
        pytest.param(
            {"condition": "unsure", "accommodations_enough": "unsure", "behind": "yes"},
            ["unsure_answers"],
            id="rule7-before-rule8-behind",
        ),
        pytest.param(
            {"behind": "unsure", "accommodations_enough": "unsure", "services": ["speech"]},
            ["unsure_answers"],
            id="rule7-before-rule8-speech",
        ),
    ],
)
def test_first_matching_rule_wins(overrides: dict[str, Any], reasons: list[str]) -> None:
    result = suggest(**overrides)
    assert (result["outcome"], result["reasons"]) == ("consult", reasons)


# --- Boundaries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "outcome", "reasons"),
    [
        pytest.param(0, "consult", ["under_3"], id="age-0"),
        pytest.param(2, "consult", ["under_3"], id="age-2"),
        pytest.param(3, "504", ["accommodations_enough"], id="age-3"),
        pytest.param(21, "504", ["accommodations_enough"], id="age-21"),
        pytest.param(22, "consult", ["age_over_21"], id="age-22"),
        pytest.param(30, "consult", ["age_over_21"], id="age-30"),
    ],
)
def test_age_boundaries(age: int, outcome: str, reasons: list[str]) -> None:
    result = suggest(age=age)
    assert (result["outcome"], result["reasons"]) == (outcome, reasons)


@pytest.mark.parametrize(
    ("overrides", "outcome", "reasons"),
    [
        pytest.param(
            {"condition": "unsure"}, "consult", ["mixed_answers"], id="one-unsure-condition"
        ),
        pytest.param(
            {"behind": "unsure", "services": ["speech"]},
            "iep",
            ["needs_speech"],
            id="one-unsure-behind-then-rule8",
        ),
        pytest.param(
            {"condition": "unsure", "behind": "unsure"},
            "consult",
            ["unsure_answers"],
            id="two-unsure-condition+behind",
        ),
        pytest.param(
            {"condition": "unsure", "accommodations_enough": "unsure"},
            "consult",
            ["unsure_answers"],
            id="two-unsure-condition+accommodations",
        ),
        pytest.param(
            {"behind": "unsure", "accommodations_enough": "unsure"},
            "consult",
            ["unsure_answers"],
            id="two-unsure-behind+accommodations",
        ),
        pytest.param(
            {"condition": "unsure", "behind": "unsure", "accommodations_enough": "unsure"},
            "consult",
            ["unsure_answers"],
            id="three-unsure",
        ),
        # plan = unsure is not one of the three answers rule 7 counts.
        pytest.param(
            {"plan": "unsure", "condition": "unsure"},
            "consult",
            ["mixed_answers"],
            id="plan-unsure-does-not-count",
        ),
        pytest.param({"plan": "unsure"}, "504", ["accommodations_enough"], id="plan-unsure-alone"),
    ],
)
def test_unsure_count_boundary(overrides: dict[str, Any], outcome: str, reasons: list[str]) -> None:
    result = suggest(**overrides)
    assert (result["outcome"], result["reasons"]) == (outcome, reasons)


@pytest.mark.parametrize(
    ("overrides", "outcome", "reasons"),
    [
        pytest.param({}, "504", ["accommodations_enough"], id="to-rule9"),
        pytest.param({"condition": "no"}, "consult", ["no_condition_identified"], id="to-rule6"),
        pytest.param(
            {"condition": "unsure", "behind": "unsure"},
            "consult",
            ["unsure_answers"],
            id="to-rule7",
        ),
        pytest.param({"services": ["speech"]}, "iep", ["needs_speech"], id="to-rule8"),
        pytest.param({"accommodations_enough": "no"}, "consult", ["mixed_answers"], id="to-rule10"),
        pytest.param({"plan": "iep"}, "consult", ["has_iep"], id="rule5-still-applies"),
        pytest.param({"age": 2}, "consult", ["under_3"], id="rule2-still-applies"),
    ],
)
def test_school_none_falls_through(
    overrides: dict[str, Any], outcome: str, reasons: list[str]
) -> None:
    result = suggest(school="none", **overrides)
    assert (result["outcome"], result["reasons"]) == (outcome, reasons)


#: One case for each outcome rule, to vary the answers that must not change the outcome.
RULE_CASES = [
    pytest.param({"age": 25}, id="rule1"),
    pytest.param({"age": 1}, id="rule2"),
    pytest.param({"school": "private"}, id="rule3"),
    pytest.param({"school": "home"}, id="rule4"),
    pytest.param({"plan": "iep"}, id="rule5"),
    pytest.param({"condition": "no"}, id="rule6"),
    pytest.param({"behind": "unsure", "accommodations_enough": "unsure"}, id="rule7"),
    pytest.param({"behind": "yes", "services": ["speech"]}, id="rule8"),
    pytest.param({"services": ["therapy"]}, id="rule9"),
    pytest.param({"accommodations_enough": "no"}, id="rule10"),
]


@pytest.mark.parametrize("overrides", RULE_CASES)
@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"contact_ok": "no"}, id="contact_ok-no"),
        pytest.param({"deadline_soon": "yes"}, id="deadline_soon-yes"),
        pytest.param({"contact_ok": "no", "deadline_soon": "yes"}, id="both"),
    ],
)
def test_contact_ok_and_deadline_soon_never_change_the_outcome(
    overrides: dict[str, Any], changed: dict[str, Any]
) -> None:
    plain = suggest(**overrides)
    other = suggest(**{**overrides, **changed})
    assert (other["outcome"], other["reasons"]) == (plain["outcome"], plain["reasons"])


# --- Priority and flags -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "priority", "flags"),
    [
        pytest.param({}, "normal", [], id="normal"),
        # urgent triggers, each alone
        pytest.param({"discipline": "long"}, "urgent", ["long_removal"], id="urgent-long"),
        pytest.param({"discipline": "expulsion"}, "urgent", ["expulsion"], id="urgent-expulsion"),
        pytest.param(
            {"evaluation": "refused"}, "urgent", ["evaluation_refused"], id="urgent-refused"
        ),
        pytest.param(
            {"deadline_soon": "yes"}, "urgent", ["deadline_soon"], id="urgent-deadline_soon"
        ),
        pytest.param({"age": 2}, "urgent", ["under_3"], id="urgent-age-2"),
        pytest.param({"age": 0}, "urgent", ["under_3"], id="urgent-age-0"),
        pytest.param({"age": 3}, "normal", [], id="normal-age-3"),
        # high triggers, each alone
        pytest.param(
            {"discipline": "short"}, "high", ["short_removal"], id="high-short-condition-yes"
        ),
        pytest.param(
            {"discipline": "short", "condition": "unsure"},
            "high",
            ["short_removal"],
            id="high-short-condition-unsure",
        ),
        pytest.param(
            {"discipline": "short", "condition": "no"},
            "normal",
            [],
            id="normal-short-condition-no",
        ),
        pytest.param({"evaluation": "pending"}, "high", ["evaluation_pending"], id="high-pending"),
        pytest.param(
            {"evaluation": "found_ineligible", "behind": "yes"},
            "high",
            ["eligibility_dispute"],
            id="high-found_ineligible-outcome-iep",
        ),
        pytest.param(
            {"evaluation": "found_ineligible"},
            "normal",
            [],
            id="normal-found_ineligible-outcome-504",
        ),
        pytest.param(
            {"evaluation": "found_ineligible", "accommodations_enough": "no"},
            "normal",
            [],
            id="normal-found_ineligible-outcome-consult",
        ),
        pytest.param(
            {"evaluation": "found_ineligible", "behind": "yes", "plan": "iep"},
            "normal",
            [],
            id="normal-found_ineligible-has-iep-consult",
        ),
        pytest.param({"contact_ok": "no"}, "normal", [], id="normal-contact_ok-no"),
        # combinations
        pytest.param(
            {"deadline_soon": "yes", "evaluation": "pending"},
            "urgent",
            ["deadline_soon", "evaluation_pending"],
            id="urgent-deadline+pending",
        ),
        pytest.param(
            {"discipline": "short", "evaluation": "pending"},
            "high",
            ["short_removal", "evaluation_pending"],
            id="high-short+pending",
        ),
        pytest.param(
            {"discipline": "short", "evaluation": "found_ineligible", "services": ["speech"]},
            "high",
            ["short_removal", "eligibility_dispute"],
            id="high-short+eligibility_dispute",
        ),
        pytest.param(
            {"discipline": "long", "evaluation": "refused", "deadline_soon": "yes", "age": 1},
            "urgent",
            ["long_removal", "evaluation_refused", "deadline_soon", "under_3"],
            id="urgent-long+refused+deadline+under_3",
        ),
        pytest.param(
            {"discipline": "expulsion", "evaluation": "pending", "deadline_soon": "yes"},
            "urgent",
            ["expulsion", "deadline_soon", "evaluation_pending"],
            id="urgent-expulsion+deadline+pending",
        ),
        pytest.param(
            {"discipline": "expulsion", "evaluation": "found_ineligible", "behind": "yes"},
            "urgent",
            ["expulsion", "eligibility_dispute"],
            id="urgent-expulsion+eligibility_dispute",
        ),
        pytest.param(
            {"discipline": "short", "evaluation": "refused", "deadline_soon": "yes"},
            "urgent",
            ["evaluation_refused", "deadline_soon", "short_removal"],
            id="urgent-refused+deadline+short",
        ),
        pytest.param(
            {"age": 2, "discipline": "short", "evaluation": "pending"},
            "urgent",
            ["under_3", "short_removal", "evaluation_pending"],
            id="urgent-under_3+short+pending",
        ),
        pytest.param(
            {
                "deadline_soon": "yes",
                "discipline": "short",
                "evaluation": "found_ineligible",
                "behind": "yes",
            },
            "urgent",
            ["deadline_soon", "short_removal", "eligibility_dispute"],
            id="urgent-deadline+short+eligibility_dispute",
        ),
        # age <= 2 makes the outcome consult (rule 2), so no eligibility dispute
        pytest.param(
            {"age": 2, "evaluation": "found_ineligible", "behind": "yes"},
            "urgent",
            ["under_3"],
            id="urgent-under_3-found_ineligible-not-iep",
        ),
        # condition = no stops short_removal even alongside other triggers
        pytest.param(
            {"condition": "no", "discipline": "short", "evaluation": "pending"},
            "high",
            ["evaluation_pending"],
            id="high-pending-short-condition-no",
        ),
    ],
)
def test_priority_and_flags(overrides: dict[str, Any], priority: str, flags: list[str]) -> None:
    result = suggest(**overrides)
    assert (result["priority"], result["flags"]) == (priority, flags)


@pytest.mark.parametrize("overrides", RULE_CASES)
def test_priority_is_independent_of_outcome(overrides: dict[str, Any]) -> None:
    """Urgent triggers (other than age) fire whatever rule gives the outcome."""
    result = suggest(**{**overrides, "discipline": "long", "evaluation": "refused"})
    expected = ["long_removal", "evaluation_refused"]
    if overrides.get("age", 9) <= 2:
        expected.append("under_3")
    assert (result["priority"], result["flags"]) == ("urgent", expected)


def test_suggestion_json_has_exactly_the_spec_keys() -> None:
    suggestion = evaluate(parse_answers(base(behind="yes", evaluation="pending")))
    data = suggestion.to_json()
    assert data == {
        "outcome": "iep",
        "priority": "high",
        "reasons": ["far_behind"],
        "flags": ["evaluation_pending"],
    }
    assert json.loads(json.dumps(data)) == data
    assert Suggestion.from_json(data) == suggestion


# --- parse_answers --------------------------------------------------------------------------


def named(key: str, message: str) -> bool:
    """Tell whether an error message names a key (as a whole word)."""
    return re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", message) is not None


def test_parse_answers_accepts_the_base_case() -> None:
    answers = parse_answers(base(services=["speech", "therapy"]))
    assert isinstance(answers, Answers)
    assert answers.age == 9
    assert answers.school == "public"
    assert answers.services == {"speech", "therapy"}


@pytest.mark.parametrize("age", [0, 30], ids=["age-0", "age-30"])
def test_parse_answers_accepts_the_ends_of_the_age_range(age: int) -> None:
    assert parse_answers(base(age=age)).age == age


@pytest.mark.parametrize("key", ANSWER_KEYS)
def test_each_missing_key_is_named(key: str) -> None:
    raw = base()
    del raw[key]
    with pytest.raises(AnswersError) as caught:
        parse_answers(raw)
    message = str(caught.value)
    assert named(key, message), message
    assert not [k for k in ANSWER_KEYS if k != key and named(k, message)], message


def test_every_missing_key_is_named_at_once() -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers({})
    message = str(caught.value)
    assert [k for k in ANSWER_KEYS if not named(k, message)] == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("school", "charter", id="school-charter"),
        pytest.param("school", "Public", id="school-wrong-case"),
        pytest.param("school", "A", id="school-letter"),
        pytest.param("school", None, id="school-null"),
        pytest.param("condition", "maybe", id="condition-maybe"),
        pytest.param("condition", "Y", id="condition-letter"),
        pytest.param("condition", True, id="condition-true"),
        pytest.param("plan", "IEP", id="plan-wrong-case"),
        pytest.param("plan", 504, id="plan-504-number"),
        pytest.param("plan", "none", id="plan-none"),
        pytest.param("behind", "", id="behind-empty"),
        pytest.param("accommodations_enough", "ns", id="accommodations-ns"),
        pytest.param("discipline", "suspended", id="discipline-suspended"),
        pytest.param("discipline", "no", id="discipline-no"),
        pytest.param("evaluation", "no", id="evaluation-no"),
        pytest.param("evaluation", "ineligible", id="evaluation-ineligible"),
        pytest.param("deadline_soon", "unsure", id="deadline_soon-unsure-not-allowed"),
        pytest.param("contact_ok", "unsure", id="contact_ok-unsure-not-allowed"),
        pytest.param("contact_ok", False, id="contact_ok-false"),
    ],
)
def test_wrong_code_is_named(key: str, value: Any) -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers(base(**{key: value}))
    message = str(caught.value)
    assert named(key, message), message
    assert not [k for k in ANSWER_KEYS if k != key and named(k, message)], message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("school", ["public"], id="school-list"),
        pytest.param("condition", {"yes": True}, id="condition-object"),
        pytest.param("plan", ["iep"], id="plan-list"),
    ],
)
def test_unhashable_code_is_named(key: str, value: Any) -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers(base(**{key: value}))
    assert named(key, str(caught.value))


@pytest.mark.parametrize(
    "services",
    [
        pytest.param("speech", id="a-string"),
        pytest.param("", id="empty-string"),
        pytest.param(None, id="null"),
        pytest.param({"speech": True}, id="an-object"),
        pytest.param(["speech", 1], id="list-with-a-number"),
        pytest.param([["speech"]], id="nested-list"),
    ],
)
def test_services_not_a_list_of_codes_is_named(services: Any) -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers(base(services=services))
    assert named("services", str(caught.value))


@pytest.mark.parametrize(
    "services",
    [
        # "none" is choice E's code in the flow; E records an empty list, so "none" is never
        # a service code. "E with others" is the flow's concern: the evaluator takes a list.
        pytest.param(["none"], id="none"),
        pytest.param(["speech", "none"], id="speech+none"),
        pytest.param(["ot"], id="ot"),
        pytest.param(["Speech"], id="wrong-case"),
        pytest.param(["A"], id="letter"),
    ],
)
def test_unknown_service_code_is_named(services: list[str]) -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers(base(services=services))
    message = str(caught.value)
    assert named("services", message)
    assert next(s for s in services if s not in ANSWER_CODES["services"]) in message


@pytest.mark.parametrize(
    "age",
    [
        pytest.param(-1, id="minus-1"),
        pytest.param(31, id="31"),
        pytest.param("9", id="string-9"),
        pytest.param(9.5, id="9.5"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(None, id="null"),
    ],
)
def test_bad_age_is_named(age: Any) -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers(base(age=age))
    message = str(caught.value)
    assert named("age", message), message
    assert not [k for k in ANSWER_KEYS if k != "age" and named(k, message)], message


@pytest.mark.parametrize("extra", ["name", "lang", "notes"])
def test_unknown_extra_key_is_rejected_and_named(extra: str) -> None:
    with pytest.raises(AnswersError) as caught:
        parse_answers({**base(), extra: "x"})
    assert named(extra, str(caught.value))


def test_several_problems_are_all_named() -> None:
    raw = base(school="charter", services=["none"], age=31)
    del raw["contact_ok"]
    raw["phone"] = "+15550100123"
    with pytest.raises(AnswersError) as caught:
        parse_answers(raw)
    message = str(caught.value)
    for word in ("school", "services", "age", "contact_ok", "phone"):
        assert named(word, message), (word, message)


# --- Consistency with the flow ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "code"), [(key, code) for key, codes in ANSWER_CODES.items() for code in sorted(codes)]
)
def test_every_answer_code_is_accepted(key: str, code: str) -> None:
    value = [code] if key == "services" else code
    assert getattr(parse_answers(base(**{key: value})), key) == (
        frozenset(value) if key == "services" else value
    )


def test_possible_reasons_are_exactly_what_the_rules_give() -> None:
    """The flow check measures these result texts: every pair the rules give, and no other."""
    codes = sorted(ANSWER_CODES["services"])
    services = [list(c) for n in range(len(codes) + 1) for c in itertools.combinations(codes, n)]
    # Every answer an outcome rule reads, in every combination (age on each side of the rules).
    read = ("school", "condition", "plan", "behind", "accommodations_enough")
    options: dict[str, list[Any]] = {
        "age": [1, 9, 22],
        "services": services,
        **{key: sorted(ANSWER_CODES[key]) for key in read},
    }
    given: set[tuple[str, tuple[str, ...]]] = set()
    for values in itertools.product(*options.values()):
        result = suggest(**dict(zip(options, values, strict=True)))
        given.add((result["outcome"], tuple(result["reasons"])))
    possible = possible_reasons()
    assert len(possible) == len(set(possible))
    assert {(outcome.value, reasons) for outcome, reasons in possible} == given


def test_answer_codes_match_the_real_flow() -> None:
    flow = load_flow(
        FLOWS_DIR / "screening.yaml",
        {"office_name": "x", "office_phone": "1", "consultation_url": "https://e.org/b"},
    )
    assert tuple(q.key for q in flow.questions) == ANSWER_KEYS
    flow_codes: dict[str, set[str]] = {}
    for q in flow.questions:
        if q.kind is QuestionKind.NUMBER:
            assert (q.minimum, q.maximum) == (0, 30)
            continue
        # An exclusive choice ("E none") records an empty list, not its code.
        codes = {c.code for c in q.choices if not (q.kind is QuestionKind.MULTI and c.exclusive)}
        if q.unsure_code:
            codes.add(q.unsure_code)
        if q.kind is QuestionKind.YESNO:
            codes |= {"yes", "no"}
        flow_codes[q.key] = codes
    assert flow_codes == {key: set(codes) for key, codes in ANSWER_CODES.items()}
    services = flow.question("services")
    assert services is not None
    exclusive = [c.code for c in services.choices if c.exclusive]
    assert exclusive == ["none"]
    assert "none" not in ANSWER_CODES["services"]


# --- The CLI: sms-screener evaluate FILE --------------------------------------------------


def write_answers(tmp_path: Path, raw: Any) -> str:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {},
            {
                "outcome": "504",
                "priority": "normal",
                "reasons": ["accommodations_enough"],
                "flags": [],
            },
            id="504-normal",
        ),
        pytest.param(
            {
                "behind": "yes",
                "services": ["instruction", "speech"],
                "deadline_soon": "yes",
                "evaluation": "pending",
            },
            {
                "outcome": "iep",
                "priority": "urgent",
                "reasons": ["far_behind", "needs_speech", "needs_instruction"],
                "flags": ["deadline_soon", "evaluation_pending"],
            },
            id="iep-urgent",
        ),
        pytest.param(
            {"school": "private", "discipline": "short"},
            {
                "outcome": "consult",
                "priority": "high",
                "reasons": ["private_school"],
                "flags": ["short_removal"],
            },
            id="consult-high",
        ),
    ],
)
def test_cli_prints_the_suggestion_json(
    tmp_path: Path, overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = CliRunner().invoke(main, ["evaluate", write_answers(tmp_path, base(**overrides))])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected


def test_cli_reads_stdin_with_dash() -> None:
    result = CliRunner().invoke(
        main, ["evaluate", "-"], input=json.dumps(base(condition="no", age=22))
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "outcome": "consult",
        "priority": "normal",
        "reasons": ["age_over_21"],
        "flags": [],
    }


def test_cli_names_every_missing_key(tmp_path: Path) -> None:
    raw = base()
    missing = ["age", "services", "contact_ok"]
    for key in missing:
        del raw[key]
    result = CliRunner().invoke(main, ["evaluate", write_answers(tmp_path, raw)])
    assert result.exit_code == 2
    for key in missing:
        assert named(key, result.output), (key, result.output)
    assert "{" not in result.stdout, "no Suggestion is printed"


def test_cli_names_an_invalid_key(tmp_path: Path) -> None:
    path = write_answers(tmp_path, base(discipline="suspended"))
    result = CliRunner().invoke(main, ["evaluate", path])
    assert result.exit_code == 2
    assert named("discipline", result.output), result.output


def test_cli_names_a_list_given_for_a_code(tmp_path: Path) -> None:
    path = write_answers(tmp_path, base(school=["public"]))
    result = CliRunner().invoke(main, ["evaluate", path])
    assert result.exit_code == 2
    assert named("school", result.output), result.output


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("not json", id="words"),
        pytest.param("{", id="truncated"),
        pytest.param("", id="empty"),
    ],
)
def test_cli_rejects_text_that_is_not_json(tmp_path: Path, text: str) -> None:
    path = tmp_path / "answers.json"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize("raw", [pytest.param([1, 2], id="list"), pytest.param("age", id="string")])
def test_cli_rejects_json_that_is_not_an_object(tmp_path: Path, raw: Any) -> None:
    result = CliRunner().invoke(main, ["evaluate", write_answers(tmp_path, raw)])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_cli_rejects_not_json_on_stdin() -> None:
    result = CliRunner().invoke(main, ["evaluate", "-"], input="age=9")
    assert result.exit_code == 2


def test_cli_rejects_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "nope.json" in result.output
