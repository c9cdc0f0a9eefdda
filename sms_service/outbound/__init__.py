"""The sending side: the texts we send, how they reach the provider, and what becomes of them."""

from .messages import OutboundMessage, OutboundStore
from .ratelimit import RateLimiter
from .sender import Sender, SentMessage, make_sender, read_outbox

__all__ = [
    "OutboundMessage",
    "OutboundStore",
    "RateLimiter",
    "Sender",
    "SentMessage",
    "make_sender",
    "read_outbox",
]
