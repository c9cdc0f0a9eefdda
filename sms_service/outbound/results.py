"""Write the result text of an evaluated screening, in the parent's language."""

from __future__ import annotations

from ..engine.model import ResultTexts
from ..evaluator import Priority, Suggestion


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
