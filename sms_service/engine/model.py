"""Typed models of a screening flow and of one phone's conversation with it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: An answer as stored: an age, a choice code, or a list of codes (multi-select).
AnswerValue = int | str | list[str]

LANGUAGES = ("en", "es")
#: The pseudo-question that asks for the language before the flow's questions.
LANG_STEP = "lang"
#: The step of a conversation that has not yet said its intro.
NEW_STEP = ""


class QuestionKind(StrEnum):
    NUMBER = "number"
    CHOICE = "choice"
    MULTI = "multi"
    YESNO = "yesno"


class TimeFrame(StrEnum):
    """When the thing a question asks about holds."""

    NOW = "now"
    PAST = "past"


class Status(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"


class Event(StrEnum):
    """Things an input made happen, for the I/O edge to act on."""

    STARTED = "started"
    ANSWERED = "answered"
    INVALID = "invalid"
    COMPLETED = "completed"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    RESTARTED = "restarted"
    WENT_BACK = "went_back"
    LANGUAGE_CHANGED = "language_changed"
    HELP = "help"
    HINT = "hint"
    IGNORED = "ignored"
    #: A photo or file with no text, during the screening: we cannot read it.
    MEDIA = "media"
    #: A text after the screening was completed: it is for the office's staff, not the flow.
    PARENT_MESSAGE = "parent_message"


@dataclass(frozen=True)
class Choice:
    letter: str
    code: str
    #: Words and phrases (any language, normalised) that pick this choice.
    words: tuple[str, ...] = ()
    #: An exclusive choice ("none of these") records an empty list and cannot be combined.
    exclusive: bool = False
    #: How staff read this answer (English).
    label: str = ""


@dataclass(frozen=True)
class Question:
    key: str
    kind: QuestionKind
    #: language -> the text that asks the question (progress prefix included).
    prompt: Mapping[str, str]
    #: language -> what to reply ("Reply Y, N or NS").
    hint: Mapping[str, str]
    choices: tuple[Choice, ...] = ()
    #: The code recorded for "not sure"; None when the question does not accept it.
    unsure_code: str | None = None
    minimum: int = 0
    maximum: int = 0
    #: Ask only when every listed earlier answer has one of the listed codes.
    ask_if: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Words that make any reply to this question too doubtful to record ("needs an IEP").
    reask_words: tuple[str, ...] = ()
    #: PAST for what already happened ("was your child suspended", "have you asked"): past and
    #: future words near a choice are then the answer's own time, not another one.
    asks_about: TimeFrame = TimeFrame.NOW
    #: How staff read this question (English).
    label: str = ""

    def answer_label(self, value: Any) -> str:
        """Return a stored answer in plain English words, for staff."""
        if self.kind is QuestionKind.NUMBER:
            return str(value)
        if self.kind is QuestionKind.YESNO:
            return {"yes": "Yes", "no": "No", self.unsure_code: "Not sure"}.get(value, str(value))
        labels = {c.code: c.label or c.code for c in self.choices}
        if self.kind is QuestionKind.MULTI:
            if not value:
                return next((c.label for c in self.choices if c.exclusive), "None")
            return ", ".join(labels.get(v, v) for v in value)
        return labels.get(value, str(value))

    def valid_value(self, value: Any) -> bool:
        """Tell whether a stored value is still a possible answer to this question."""
        codes = {c.code for c in self.choices}
        if self.kind is QuestionKind.NUMBER:
            return (
                isinstance(value, int)
                and not isinstance(value, bool)
                and self.minimum <= value <= self.maximum
            )
        if self.kind is QuestionKind.MULTI:
            return isinstance(value, list) and all(v in codes for v in value)
        if self.kind is QuestionKind.YESNO:
            allowed = {"yes", "no"} | ({self.unsure_code} if self.unsure_code else set())
            return value in allowed
        return isinstance(value, str) and (value in codes or value == self.unsure_code)


@dataclass(frozen=True)
class Vocabulary:
    """Answer words of every language, normalised (lower case, no accents)."""

    yes: tuple[str, ...]
    no: tuple[str, ...]
    unsure: tuple[str, ...]
    #: "nine" -> 9, "nueve" -> 9, "twenty one" -> 21 ...
    numbers: Mapping[str, int]
    #: Words that make a number a school grade ("grade", "grado", "kindergarten"...).
    grade_words: tuple[str, ...]
    #: Words that make a number a count of months ("months", "meses").
    month_words: tuple[str, ...]
    #: Words joining letters of a multi-select answer ("and", "y").
    connectors: tuple[str, ...]


@dataclass(frozen=True)
class Keywords:
    """Reserved words, normalised; each set matches the whole trimmed text."""

    stop: frozenset[str]
    start: frozenset[str]
    help: frozenset[str]
    hint: frozenset[str]
    restart: frozenset[str]
    back: frozenset[str]
    spanish: frozenset[str]
    english: frozenset[str]
    #: Words that, standing as a word inside a longer text, revoke consent.
    revoke_words: tuple[str, ...]
    #: Phrases that ask us to stop texting.
    revoke_phrases: tuple[str, ...]
    #: Regular expressions (over normalised text) for wordings the phrases cannot list.
    revoke_patterns: tuple[re.Pattern[str], ...]
    #: Words that opt back in only while opted out ("yes").
    start_when_opted_out: frozenset[str]


@dataclass(frozen=True)
class ResultTexts:
    """The texts a result is built from, per language; the link is already filled in."""

    #: language -> template with {outcome}, {reasons} and {urgent}.
    template: Mapping[str, str]
    urgent: Mapping[str, str]
    #: outcome code -> language -> sentence.
    outcomes: Mapping[str, Mapping[str, str]]
    #: reason code -> language -> plain words.
    reasons: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Flow:
    flow_id: str
    #: Digest of the flow file; saved with each conversation.
    version: str
    questions: tuple[Question, ...]
    language_question: Question
    #: message name -> language -> text, placeholders already filled in.
    messages: Mapping[str, Mapping[str, str]]
    vocabulary: Vocabulary
    keywords: Keywords
    #: message name -> most SMS segments it may take (1 when not listed).
    segment_budget: Mapping[str, int] = field(default_factory=dict)
    #: The result texts, when the flow's answers are evaluated.
    results: ResultTexts | None = None

    def question(self, key: str) -> Question | None:
        """Return the question with this key, or None."""
        if key == LANG_STEP:
            return self.language_question
        for q in self.questions:
            if q.key == key:
                return q
        return None

    def message(self, name: str, language: str) -> str:
        """Return one system message in a language (English when it lacks one)."""
        texts = self.messages[name]
        return texts.get(language) or texts["en"]

    def both_languages(self, name: str) -> str:
        """Return one system message in every language, in one text (the sender's is unknown)."""
        return " / ".join(dict.fromkeys(self.message(name, lang) for lang in LANGUAGES))


@dataclass
class State:
    """One phone's conversation; round-trips through JSON."""

    conversation_id: str
    phone: str
    started_at: float
    updated_at: float
    language: str = "en"
    status: Status = Status.ACTIVE
    #: The question being asked: a question key, LANG_STEP, or NEW_STEP before the intro.
    current: str = NEW_STEP
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    #: Keys in the order they were answered, so BACK can undo the last one.
    history: list[str] = field(default_factory=list)
    #: Invalid replies in a row to the current question.
    invalid_count: int = 0
    opted_out: bool = False
    inbound_count: int = 0
    flow_version: str = ""
    #: When a text after the result was last acknowledged (0: never).
    acked_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "conversation_id": self.conversation_id,
            "phone": self.phone,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "language": self.language,
            "status": self.status.value,
            "current": self.current,
            "answers": dict(self.answers),
            "history": list(self.history),
            "invalid_count": self.invalid_count,
            "opted_out": self.opted_out,
            "inbound_count": self.inbound_count,
            "flow_version": self.flow_version,
            "acked_at": self.acked_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> State:
        """Build a State from what to_json returned."""
        return cls(
            conversation_id=str(data["conversation_id"]),
            phone=str(data["phone"]),
            started_at=float(data["started_at"]),
            updated_at=float(data["updated_at"]),
            language=str(data.get("language", "en")),
            status=Status(data.get("status", Status.ACTIVE.value)),
            current=str(data.get("current", NEW_STEP)),
            answers=dict(data.get("answers", {})),
            history=[str(k) for k in data.get("history", [])],
            invalid_count=int(data.get("invalid_count", 0)),
            opted_out=bool(data.get("opted_out", False)),
            inbound_count=int(data.get("inbound_count", 0)),
            flow_version=str(data.get("flow_version", "")),
            acked_at=float(data.get("acked_at", 0.0)),
        )


@dataclass(frozen=True)
class Step:
    """What one input did: the new state, the texts to reply, what happened."""

    state: State
    replies: tuple[str, ...]
    events: tuple[Event, ...]
