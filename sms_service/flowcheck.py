"""Measure every text a flow can send against its SMS segment budget."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .engine.answers import INVALID_REASONS
from .engine.engine import reask_lead
from .engine.model import LANGUAGES, Flow, Question
from .evaluator import Priority, Suggestion, possible_reasons
from .outbound import SegmentCount, count_segments, render_result


@dataclass(frozen=True)
class MessageCheck:
    name: str
    language: str
    text: str
    count: SegmentCount
    budget: int

    @property
    def ok(self) -> bool:
        return self.count.segments <= self.budget


def _leads(question: Question) -> list[str]:
    """Return the message names that can open a re-ask of this question (the engine's own)."""
    return sorted({reask_lead(question, r) for r in INVALID_REASONS[question.kind]})


def check_flow(flow: Flow) -> list[MessageCheck]:
    """Return one check per text the flow can send, in every language."""
    return list(_texts(flow))


def _texts(flow: Flow) -> Iterator[MessageCheck]:
    def check(name: str, language: str, text: str) -> MessageCheck:
        budget = flow.segment_budget.get(name.split(":", 1)[0], 1)
        return MessageCheck(name, language, text, count_segments(text), budget)

    for name in flow.messages:
        for language in LANGUAGES:
            yield check(name, language, flow.message(name, language))
    # Sent in every language at once, to a sender whose language we cannot know.
    yield check("sms_only", "both", flow.both_languages("sms_only"))
    for question in (flow.language_question, *flow.questions):
        for language in LANGUAGES:
            prompt, hint = question.prompt[language], question.hint[language]
            yield check(f"{question.key}:prompt", language, prompt)
            yield check(f"{question.key}:hint", language, hint)
            tip = flow.message("help_tip", language)
            for lead in _leads(question):
                text = f"{flow.message(lead, language)} {hint} {tip}"
                yield check(f"{question.key}:reask:{lead}", language, text)
    yield from _results(flow)


def _results(flow: Flow) -> Iterator[MessageCheck]:
    """Check every result text the evaluator's outcomes and reasons can make."""
    if flow.results is None:
        return
    budget = flow.segment_budget.get("result", 2)
    for outcome, reasons in possible_reasons():
        for priority in (Priority.URGENT, Priority.NORMAL):
            suggestion = Suggestion(outcome, priority, reasons, ())
            name = f"result:{outcome.value}:{'+'.join(reasons)}"
            if priority is Priority.URGENT:
                name += ":urgent"
            for language in LANGUAGES:
                try:
                    text = render_result(flow.results, suggestion, language, contact_ok=True)
                except KeyError as exc:
                    text = f"MISSING WORDS FOR {exc}"
                    yield MessageCheck(name, language, text, count_segments(text), 0)
                    continue
                yield MessageCheck(name, language, text, count_segments(text), budget)
