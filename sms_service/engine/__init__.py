"""The pure flow engine: flows as data, conversations as JSON-able state, no I/O."""

from .engine import advance, completed_answers, new_state, next_question
from .keywords import Keyword
from .loader import FlowError, load_flow, load_flows
from .model import Event, Flow, Question, State, Status, Step

__all__ = [
    "Event",
    "Flow",
    "FlowError",
    "Keyword",
    "Question",
    "State",
    "Status",
    "Step",
    "advance",
    "completed_answers",
    "load_flow",
    "load_flows",
    "new_state",
    "next_question",
]
