"""Read flow files into typed models, schema-checked, so a bad flow stops the boot."""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .answers import normalize
from .model import (
    LANGUAGES,
    Choice,
    Flow,
    Keywords,
    Question,
    QuestionKind,
    ResultTexts,
    TimeFrame,
    Vocabulary,
)

SCHEMA_FILE = "flow.schema.json"
#: Placeholders a flow may use; their values come from settings.
CONTEXT_KEYS = ("office_name", "office_phone", "consultation_url")
#: Placeholders of a result template, filled per result rather than at load.
RESULT_KEYS = ("outcome", "reasons", "urgent")


class FlowError(ValueError):
    """A flow file that cannot be used."""


def load_flow(path: Path, context: Mapping[str, str]) -> Flow:
    """Load, check and render one flow file."""
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise FlowError(f"{path.name}: not valid YAML: {exc}") from exc
    _validate_schema(path, data)
    try:
        return _build(data, context, version=hashlib.sha256(raw).hexdigest()[:12])
    except FlowError as exc:
        raise FlowError(f"{path.name}: {exc}") from exc


def load_flows(directory: Path, context: Mapping[str, str]) -> dict[str, Flow]:
    """Load every *.yaml flow in a directory, keyed by flow id."""
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        flow = load_flow(path, context)
        if flow.flow_id in flows:
            raise FlowError(f"{path.name}: flow id {flow.flow_id!r} is used twice")
        flows[flow.flow_id] = flow
    if not flows:
        raise FlowError(f"no flow files (*.yaml) in {directory}")
    return flows


def _validate_schema(path: Path, data: Any) -> None:
    schema = json.loads((path.parent / SCHEMA_FILE).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at /{'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
            for err in errors[:10]
        ]
        raise FlowError(f"{path.name} does not match {SCHEMA_FILE}:\n" + "\n".join(lines))


def _build(data: Mapping[str, Any], context: Mapping[str, str], version: str) -> Flow:
    missing = [k for k in CONTEXT_KEYS if not context.get(k)]
    if missing:
        raise FlowError(f"missing values for placeholders: {', '.join(missing)}")
    questions = tuple(
        _question(q, context, n, len(data["questions"]))
        for n, q in enumerate(data["questions"], start=1)
    )
    _check_questions(questions)
    lang_data = data["language_question"]
    language_question = Question(
        key="lang",
        kind=QuestionKind.CHOICE,
        prompt=_all_languages(_render_texts(lang_data["prompt"], context)),
        hint=_all_languages(_render_texts(lang_data["hint"], context)),
        choices=tuple(_choice(c) for c in lang_data["choices"]),
    )
    if {c.code for c in language_question.choices} - set(LANGUAGES):
        raise FlowError(f"language_question choice codes must be among {LANGUAGES}")
    messages = {name: _render_texts(texts, context) for name, texts in data["messages"].items()}
    return Flow(
        flow_id=data["id"],
        version=version,
        questions=questions,
        language_question=language_question,
        messages=messages,
        vocabulary=_vocabulary(data["vocabulary"]),
        keywords=_keywords(data["keywords"]),
        segment_budget=dict(data.get("segment_budget", {})),
        results=_results(data["results"], context) if "results" in data else None,
    )


def _render(text: str, values: Mapping[str, str | int], where: str) -> str:
    for _, field_name, _, _ in string.Formatter().parse(text):
        if field_name is not None and field_name not in values:
            raise FlowError(f"{where}: unknown placeholder {{{field_name}}}")
    return text.format(**values)


def _render_texts(texts: Mapping[str, str], values: Mapping[str, str | int]) -> dict[str, str]:
    return {lang: _render(text, values, lang) for lang, text in texts.items()}


def _results(data: Mapping[str, Any], context: Mapping[str, str]) -> ResultTexts:
    # Keep the per-result placeholders for later: they render as themselves now.
    values: dict[str, str | int] = {**context, **{k: f"{{{k}}}" for k in RESULT_KEYS}}
    return ResultTexts(
        template=_render_texts(data["template"], values),
        urgent=_render_texts(data["urgent"], context),
        outcomes={k: _render_texts(v, context) for k, v in data["outcomes"].items()},
        reasons={k: _render_texts(v, context) for k, v in data["reasons"].items()},
    )


def _all_languages(texts: dict[str, str]) -> dict[str, str]:
    """Give every language a text; a bilingual text written once serves all."""
    return {lang: texts.get(lang, texts["en"]) for lang in LANGUAGES}


def _question(data: Mapping[str, Any], context: Mapping[str, str], n: int, total: int) -> Question:
    values: dict[str, str | int] = {**context, "n": n, "total": total}
    key = data["key"]
    try:
        return Question(
            key=key,
            kind=QuestionKind(data["kind"]),
            prompt=_render_texts(data["prompt"], values),
            hint=_render_texts(data["hint"], values),
            choices=tuple(_choice(c) for c in data.get("choices", ())),
            unsure_code=data.get("unsure_code"),
            minimum=int(data.get("minimum", 0)),
            maximum=int(data.get("maximum", 0)),
            ask_if={k: tuple(v) for k, v in data.get("ask_if", {}).items()},
            reask_words=_words(data.get("reask_words", ())),
            asks_about=TimeFrame(data.get("asks_about", TimeFrame.NOW)),
            label=str(data.get("label", key)),
        )
    except FlowError as exc:
        raise FlowError(f"question {key}: {exc}") from exc


def _choice(data: Mapping[str, Any]) -> Choice:
    return Choice(
        letter=str(data["letter"]).upper(),
        code=str(data["code"]),
        words=_words(data.get("words", ())),
        exclusive=bool(data.get("exclusive", False)),
        label=str(data.get("label", data["code"])),
    )


def _words(words: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for word in words:
        norm = normalize(word)
        if not norm:
            raise FlowError(f"word {word!r} is empty once normalised")
        seen[norm] = None
    return tuple(seen)


def _check_questions(questions: tuple[Question, ...]) -> None:
    seen: dict[str, Question] = {}
    for q in questions:
        if q.key in seen or q.key == "lang":
            raise FlowError(f"question key {q.key!r} is used twice or reserved")
        letters = [c.letter for c in q.choices]
        codes = [c.code for c in q.choices]
        if len(set(letters)) != len(letters) or len(set(codes)) != len(codes):
            raise FlowError(f"question {q.key}: choice letters and codes must be unique")
        if sum(c.exclusive for c in q.choices) > 1 or (
            q.kind is not QuestionKind.MULTI and any(c.exclusive for c in q.choices)
        ):
            raise FlowError(f"question {q.key}: one exclusive choice, on multi questions only")
        if q.kind is QuestionKind.NUMBER and q.minimum > q.maximum:
            raise FlowError(f"question {q.key}: minimum is above maximum")
        if q.unsure_code and q.kind not in (QuestionKind.YESNO, QuestionKind.CHOICE):
            raise FlowError(f"question {q.key}: unsure_code needs a yesno or choice question")
        if q.asks_about is not TimeFrame.NOW and q.kind not in (
            QuestionKind.CHOICE,
            QuestionKind.MULTI,
        ):
            # Only choice words are read in time: elsewhere the option would do nothing.
            raise FlowError(f"question {q.key}: asks_about needs a choice or multi question")
        word_owner: dict[str, str] = {}
        for choice in q.choices:
            for word in choice.words:
                if word_owner.setdefault(word, choice.code) != choice.code:
                    raise FlowError(f"question {q.key}: word {word!r} picks two choices")
        for ref, codes_wanted in q.ask_if.items():
            earlier = seen.get(ref)
            if earlier is None:
                raise FlowError(f"question {q.key}: ask_if names {ref!r}, not an earlier question")
            possible = {c.code for c in earlier.choices} | {"yes", "no"}
            if earlier.unsure_code:
                possible.add(earlier.unsure_code)
            unknown = set(codes_wanted) - possible
            if unknown:
                raise FlowError(f"question {q.key}: ask_if codes {sorted(unknown)} are unknown")
        seen[q.key] = q


def _vocabulary(data: Mapping[str, Any]) -> Vocabulary:
    numbers: dict[str, int] = {}
    for word, value in data["numbers"].items():
        numbers[normalize(word)] = int(value)
    return Vocabulary(
        yes=_words(data["yes"]),
        no=_words(data["no"]),
        unsure=_words(data["unsure"]),
        numbers=numbers,
        grade_words=_words(data["grade_words"]),
        month_words=_words(data["month_words"]),
        connectors=_words(data["connectors"]),
    )


def _pattern(source: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise FlowError(f"revoke pattern {source!r} is not a regular expression: {exc}") from exc


def _keywords(data: Mapping[str, Any]) -> Keywords:
    def words(name: str) -> frozenset[str]:
        return frozenset(_words(data[name]))

    return Keywords(
        stop=words("stop"),
        start=words("start"),
        help=words("help"),
        # "?" is punctuation, which normalising removes: keep hint words as typed.
        hint=frozenset(w.strip() for w in data["hint"]),
        restart=words("restart"),
        back=words("back"),
        spanish=words("spanish"),
        english=words("english"),
        revoke_words=_words(data["revoke_words"]),
        revoke_phrases=_words(data["revoke_phrases"]),
        revoke_patterns=tuple(_pattern(p) for p in data.get("revoke_patterns", ())),
        start_when_opted_out=words("start_when_opted_out"),
    )
