"""The sending side: the texts we send, how they reach the provider, and what becomes of them."""

from .messages import OutboundMessage, OutboundStore
from .ratelimit import RateLimiter
from .results import render_result
from .segments import SegmentCount, count_segments
from .sender import Sender, SentMessage, make_sender, read_outbox
from .status import DeliveryStatus

__all__ = [
    "DeliveryStatus",
    "OutboundMessage",
    "OutboundStore",
    "RateLimiter",
    "SegmentCount",
    "Sender",
    "SentMessage",
    "count_segments",
    "make_sender",
    "read_outbox",
    "render_result",
]
