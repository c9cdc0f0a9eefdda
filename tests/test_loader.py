"""The flow loader's checks: each bad flow is the real one with one thing broken."""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FLOWS_DIR

from sms_service.engine import FlowError, load_flow, load_flows
from sms_service.engine.loader import SCHEMA_FILE
from sms_service.engine.model import QuestionKind, TimeFrame

CONTEXT = {
    "office_name": "Test Office",
    "office_phone": "555-0100",
    "consultation_url": "https://example.org/book",
}

Data = dict[str, Any]


@pytest.fixture(scope="module")
def screening() -> Data:
    data: Data = yaml.safe_load((FLOWS_DIR / "screening.yaml").read_text(encoding="utf-8"))
    return data


def question(data: Data, key: str) -> Data:
    """Return the question with this key from a flow's raw data."""
    found: Data = next(q for q in data["questions"] if q["key"] == key)
    return found


def write(directory: Path, data: Data, name: str = "screening.yaml") -> Path:
    """Write a flow and the schema beside it; return the flow's path."""
    directory.mkdir(exist_ok=True)
    shutil.copy(FLOWS_DIR / SCHEMA_FILE, directory / SCHEMA_FILE)
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_error(tmp_path: Path, data: Data) -> str:
    """Load a flow that must be refused; return the FlowError's message."""
    with pytest.raises(FlowError) as caught:
        load_flow(write(tmp_path, data), CONTEXT)
    return str(caught.value)


def test_the_real_flow_loads_after_the_round_trip(tmp_path: Path, screening: Data) -> None:
    flow = load_flow(write(tmp_path, screening), CONTEXT)
    assert [q.key for q in flow.questions] == [q["key"] for q in screening["questions"]]


def test_text_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {})
    path.write_text("id: [screening\n", encoding="utf-8")
    with pytest.raises(FlowError, match=r"screening\.yaml: not valid YAML"):
        load_flow(path, CONTEXT)


# --- The schema ---------------------------------------------------------------------------


def _drop_spanish_prompt(data: Data) -> None:
    del question(data, "age")["prompt"]["es"]


def _drop_message(data: Data) -> None:
    del data["messages"]["help"]


def _unknown_question_field(data: Data) -> None:
    question(data, "age")["colour"] = "blue"


def _unknown_kind(data: Data) -> None:
    question(data, "behind")["kind"] = "maybe"


def _choice_without_choices(data: Data) -> None:
    del question(data, "school")["choices"]


def _yesno_with_choices(data: Data) -> None:
    question(data, "behind")["choices"] = question(data, "school")["choices"]


def _number_without_maximum(data: Data) -> None:
    del question(data, "age")["maximum"]


def _lower_case_letter(data: Data) -> None:
    question(data, "school")["choices"][0]["letter"] = "a"


def _bad_asks_about(data: Data) -> None:
    question(data, "discipline")["asks_about"] = "yesterday"


def _missing_result_translation(data: Data) -> None:
    del data["results"]["reasons"]["far_behind"]["es"]


@pytest.mark.parametrize(
    ("break_it", "where"),
    [
        pytest.param(_drop_spanish_prompt, "/questions/0/prompt", id="prompt-without-es"),
        pytest.param(_drop_message, "/messages", id="required-message-missing"),
        pytest.param(_unknown_question_field, "/questions/0", id="unknown-question-field"),
        pytest.param(_unknown_kind, "/questions/4/kind", id="unknown-kind"),
        pytest.param(_choice_without_choices, "/questions/1", id="choice-without-choices"),
        pytest.param(_yesno_with_choices, "/questions/4", id="yesno-with-choices"),
        pytest.param(_number_without_maximum, "/questions/0", id="number-without-maximum"),
        pytest.param(_lower_case_letter, "/questions/1/choices/0/letter", id="letter-case"),
        pytest.param(_bad_asks_about, "/questions/7/asks_about", id="asks_about-value"),
        pytest.param(
            _missing_result_translation, "/results/reasons/far_behind", id="reason-without-es"
        ),
    ],
)
def test_a_flow_off_the_schema_is_refused_where_it_is_wrong(
    tmp_path: Path, screening: Data, break_it: Callable[[Data], None], where: str
) -> None:
    data = copy.deepcopy(screening)
    break_it(data)
    message = load_error(tmp_path, data)
    assert f"screening.yaml does not match {SCHEMA_FILE}" in message
    assert re.search(rf"at {re.escape(where)}: ", message), message


def test_the_schema_errors_name_the_missing_field(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    del data["keywords"]
    assert "'keywords' is a required property" in load_error(tmp_path, data)


# --- Placeholders and words -----------------------------------------------------------------


def test_a_missing_placeholder_value_is_named(tmp_path: Path, screening: Data) -> None:
    with pytest.raises(FlowError, match="missing values for placeholders: office_phone"):
        load_flow(write(tmp_path, screening), {**CONTEXT, "office_phone": ""})


def _placeholder_in_prompt(data: Data) -> None:
    question(data, "age")["prompt"]["en"] += " {child_name}"


def _placeholder_in_message(data: Data) -> None:
    data["messages"]["help"]["es"] += " {child_name}"


def _placeholder_in_result(data: Data) -> None:
    data["results"]["template"]["en"] += " {child_name}"


@pytest.mark.parametrize(
    ("break_it", "where"),
    [
        pytest.param(_placeholder_in_prompt, "question age: en", id="prompt"),
        pytest.param(_placeholder_in_message, "es", id="message"),
        pytest.param(_placeholder_in_result, "en", id="result-template"),
    ],
)
def test_an_unknown_placeholder_is_named(
    tmp_path: Path, screening: Data, break_it: Callable[[Data], None], where: str
) -> None:
    data = copy.deepcopy(screening)
    break_it(data)
    message = load_error(tmp_path, data)
    assert message == f"screening.yaml: {where}: unknown placeholder {{child_name}}"


def test_a_word_empty_once_normalised_is_named(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "school")["choices"][0]["words"].append("!!!")
    assert load_error(tmp_path, data) == (
        "screening.yaml: question school: word '!!!' is empty once normalised"
    )


def test_a_vocabulary_word_empty_once_normalised_is_named(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    data["vocabulary"]["yes"].append("¡!")
    assert "word '¡!' is empty once normalised" in load_error(tmp_path, data)


def test_a_revoke_pattern_that_is_not_a_regex_is_named(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    data["keywords"]["revoke_patterns"] = ["stop (texting"]
    message = load_error(tmp_path, data)
    assert "revoke pattern 'stop (texting' is not a regular expression" in message


def test_a_language_choice_must_be_a_known_language(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    data["language_question"]["choices"][1]["code"] = "fr"
    assert "language_question choice codes must be among ('en', 'es')" in load_error(tmp_path, data)


# --- Questions ----------------------------------------------------------------------------


def test_a_question_key_used_twice_is_named(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "behind")["key"] = "condition"
    assert "question key 'condition' is used twice or reserved" in load_error(tmp_path, data)


def test_the_language_step_key_is_reserved(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "contact_ok")["key"] = "lang"
    assert "question key 'lang' is used twice or reserved" in load_error(tmp_path, data)


@pytest.mark.parametrize("field", ["letter", "code"])
def test_choice_letters_and_codes_are_unique(tmp_path: Path, screening: Data, field: str) -> None:
    data = copy.deepcopy(screening)
    choices = question(data, "school")["choices"]
    choices[1][field] = choices[0][field]
    assert "question school: choice letters and codes must be unique" in load_error(tmp_path, data)


def test_a_multi_question_has_one_exclusive_choice_at_most(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "services")["choices"][0]["exclusive"] = True
    message = load_error(tmp_path, data)
    assert "question services: one exclusive choice, on multi questions only" in message


def test_only_a_multi_question_has_an_exclusive_choice(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "school")["choices"][3]["exclusive"] = True
    message = load_error(tmp_path, data)
    assert "question school: one exclusive choice, on multi questions only" in message


def test_a_number_minimum_above_its_maximum_is_named(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "age").update(minimum=31, maximum=30)
    assert "question age: minimum is above maximum" in load_error(tmp_path, data)


@pytest.mark.parametrize("key", ["age", "services"])
def test_unsure_code_needs_a_yesno_or_choice_question(
    tmp_path: Path, screening: Data, key: str
) -> None:
    data = copy.deepcopy(screening)
    question(data, key)["unsure_code"] = "unsure"
    message = load_error(tmp_path, data)
    assert f"question {key}: unsure_code needs a yesno or choice question" in message


def test_a_word_that_picks_two_choices_is_named(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "school")["choices"][1]["words"].append("Public")
    assert "question school: word 'public' picks two choices" in load_error(tmp_path, data)


# --- asks_about ---------------------------------------------------------------------------


def test_asks_about_is_read_into_the_question(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "services")["asks_about"] = "past"
    question(data, "discipline")["asks_about"] = "now"
    flow = load_flow(write(tmp_path, data), CONTEXT)
    asks = {q.key: q.asks_about for q in flow.questions}
    assert asks["services"] is TimeFrame.PAST
    assert asks["discipline"] is TimeFrame.NOW
    assert asks["evaluation"] is TimeFrame.PAST
    assert asks["school"] is TimeFrame.NOW  # not given: now


def test_the_real_flow_asks_about_the_past_in_discipline_and_evaluation(
    tmp_path: Path, screening: Data
) -> None:
    flow = load_flow(write(tmp_path, screening), CONTEXT)
    past = [q.key for q in flow.questions if q.asks_about is TimeFrame.PAST]
    assert past == ["discipline", "evaluation"]


@pytest.mark.parametrize("key", ["age", "behind"])
def test_asks_about_the_past_needs_a_choice_or_multi_question(
    tmp_path: Path, screening: Data, key: str
) -> None:
    data = copy.deepcopy(screening)
    assert question(data, key)["kind"] in (QuestionKind.NUMBER, QuestionKind.YESNO)
    question(data, key)["asks_about"] = "past"
    message = load_error(tmp_path, data)
    assert f"question {key}: asks_about needs a choice or multi question" in message


# --- ask_if branches ----------------------------------------------------------------------


def test_ask_if_must_name_an_earlier_question(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "school")["ask_if"] = {"plan": ["iep"]}
    message = load_error(tmp_path, data)
    assert "question school: ask_if names 'plan', not an earlier question" in message


def test_ask_if_must_name_a_question_that_exists(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "plan")["ask_if"] = {"grade": ["third"]}
    message = load_error(tmp_path, data)
    assert "question plan: ask_if names 'grade', not an earlier question" in message


def test_ask_if_codes_must_be_answers_of_that_question(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "plan")["ask_if"] = {"school": ["public", "charter"], "condition": ["unsure"]}
    message = load_error(tmp_path, data)
    assert "question plan: ask_if codes ['charter'] are unknown" in message


def test_ask_if_on_known_codes_loads(tmp_path: Path, screening: Data) -> None:
    data = copy.deepcopy(screening)
    question(data, "plan")["ask_if"] = {"school": ["public"], "condition": ["yes", "unsure"]}
    plan = load_flow(write(tmp_path, data), CONTEXT).question("plan")
    assert plan is not None
    assert plan.ask_if == {"school": ("public",), "condition": ("yes", "unsure")}


# --- A directory of flows -----------------------------------------------------------------


def test_a_flow_id_used_twice_is_named(tmp_path: Path, screening: Data) -> None:
    write(tmp_path, screening, "a.yaml")
    write(tmp_path, screening, "b.yaml")
    with pytest.raises(FlowError, match=re.escape("b.yaml: flow id 'screening' is used twice")):
        load_flows(tmp_path, CONTEXT)


def test_a_directory_without_flows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=re.escape(f"no flow files (*.yaml) in {tmp_path}")):
        load_flows(tmp_path, CONTEXT)
