"""Intake: a completed screening becomes the office's follow-up and the family's result text.

Run by the evaluation job; safe to run twice (the Suggestion is kept after the first run, the
follow-up is created once, the result text has one message id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from .alerts import AlertKind
from .engine.model import AnswerValue
from .evaluator import (
    ANSWERS_INCOMPLETE,
    AnswersError,
    Outcome,
    Priority,
    Suggestion,
    evaluate,
    parse_answers,
)
from .followups import result_message_id
from .outbound import render_result
from .services import Services

log = logging.getLogger(__name__)


def take_in(services: Services, conversation_id: str, send: Callable[[str], None]) -> str:
    """Evaluate a completed screening, create its follow-up and hand its result text to send.

    Return the outcome (or "missing" when the screening is gone).
    """
    screening = services.store.screening(conversation_id)
    if screening is None:
        log.warning("screening %s is gone (purged or expired)", conversation_id)
        services.store.mark_evaluated(conversation_id)
        return "missing"
    now = time.time()
    suggestion = _suggestion(services, conversation_id, screening.answers)
    # The follow-up first: whatever happens to the text, staff see the family.
    services.followups.create(screening, suggestion, now)
    if suggestion.priority is Priority.URGENT:
        # Also on a re-run (the follow-up existed): a crash may have come before the alert.
        # The alert is deduplicated per event, and notify never raises.
        services.alerts.notify(AlertKind.URGENT_FOLLOWUP, conversation_id, "created")
    answers_ok = suggestion.reasons != (ANSWERS_INCOMPLETE,)
    if answers_ok and services.flow.results is not None:
        message_id = result_message_id(conversation_id)
        contact_ok = screening.answers.get("contact_ok") == "yes"
        body = render_result(services.flow.results, suggestion, screening.language, contact_ok)
        services.outbound.create(message_id, screening.phone, body, "result", conversation_id, now)
        send(message_id)
    services.store.mark_evaluated(conversation_id)
    log.info(
        "screening %s evaluated: %s, %s",
        conversation_id,
        suggestion.outcome.value,
        suggestion.priority.value,
    )
    return suggestion.outcome.value


def _suggestion(
    services: Services, conversation_id: str, raw: Mapping[str, AnswerValue]
) -> Suggestion:
    """Evaluate once and keep it: a second run reuses the first Suggestion."""
    saved = services.store.suggestion(conversation_id)
    if saved is not None:
        return saved
    try:
        suggestion = evaluate(parse_answers(raw))
    except AnswersError:
        # The flow and the rules disagree (an edited flow?): staff must still see the family.
        log.exception("screening %s has answers the rules cannot read", conversation_id)
        suggestion = Suggestion(Outcome.CONSULT, Priority.HIGH, (ANSWERS_INCOMPLETE,), ())
    return services.store.keep_suggestion(conversation_id, suggestion)
