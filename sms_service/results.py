"""Write the result text of an evaluated screening, in the parent's language."""

from __future__ import annotations

from itertools import combinations

from .engine.model import ResultTexts
from .evaluator import Outcome, Priority, Suggestion


def render_result(
    texts: ResultTexts, suggestion: Suggestion, language: str, contact_ok: bool
) -> str:
    """Return the text that tells a parent the suggestion, its reasons and the link."""
    lang = language if language in texts.template else "en"
    reasons = "; ".join(texts.reasons[code][lang] for code in suggestion.reasons)
    # The promise to call is only made to a parent who said we may.
    urgent = texts.urgent[lang] if suggestion.priority is Priority.URGENT and contact_ok else ""
    return (
        texts.template[lang]
        .replace("{outcome}", texts.outcomes[suggestion.outcome.value][lang])
        .replace("{reasons}", reasons)
        .replace("{urgent}", urgent)
    )


def possible_reasons() -> list[tuple[Outcome, tuple[str, ...]]]:
    """Return every (outcome, reasons) pair the evaluator can produce."""
    pairs: list[tuple[Outcome, tuple[str, ...]]] = []
    iep = ("far_behind", "needs_speech", "needs_instruction")
    for size in range(1, len(iep) + 1):
        pairs.extend((Outcome.IEP, combo) for combo in combinations(iep, size))
    extras = ("needs_therapy", "needs_behavior_support")
    for size in range(len(extras) + 1):
        pairs.extend(
            (Outcome.PLAN_504, ("accommodations_enough", *combo))
            for combo in combinations(extras, size)
        )
    consult = (
        "age_over_21", "under_3", "private_school", "home_school", "has_iep",
        "no_condition_identified", "unsure_answers", "mixed_answers",
    )  # fmt: skip
    pairs.extend((Outcome.CONSULT, (code,)) for code in consult)
    return pairs
