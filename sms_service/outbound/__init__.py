"""The sending side: the texts we send, how they reach the provider, and what becomes of them."""

from .messages import OutboundMessage, OutboundStore
from .sender import Sender, SentMessage, make_sender, read_outbox

__all__ = [
    "OutboundMessage",
    "OutboundStore",
    "Sender",
    "SentMessage",
    "make_sender",
    "read_outbox",
]
