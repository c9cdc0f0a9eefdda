"""A completed screening: what a family answered, kept until it is evaluated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .engine.model import AnswerValue


@dataclass(frozen=True)
class Screening:
    """One finished conversation's answers, as saved for its evaluation job."""

    conversation_id: str
    phone: str
    language: str
    #: Question key -> answer, in flow order.
    answers: Mapping[str, AnswerValue]
    flow_id: str
    flow_version: str
    started_at: float
    completed_at: float

    def to_json(self) -> dict[str, Any]:
        """Return the stored JSON record (this key order is the format in Redis)."""
        return {
            "conversation_id": self.conversation_id,
            "phone": self.phone,
            "language": self.language,
            "answers": dict(self.answers),
            "flow_id": self.flow_id,
            "flow_version": self.flow_version,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Screening:
        """Build a Screening from its stored JSON record."""
        return cls(
            conversation_id=str(data["conversation_id"]),
            phone=str(data["phone"]),
            language=str(data["language"]),
            answers=dict(data["answers"]),
            flow_id=str(data["flow_id"]),
            flow_version=str(data["flow_version"]),
            started_at=float(data["started_at"]),
            completed_at=float(data["completed_at"]),
        )
