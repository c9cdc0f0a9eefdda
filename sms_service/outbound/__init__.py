"""The sending side: the texts we send, how they reach the provider, and what becomes of them.

- `messages`: one Redis record per text we send (OutboundStore), its send claim and status,
  and the status callbacks seen or parked for it.
- `status`: DeliveryStatus, its rank, and the "never backwards" order a status moves in.
- `sender`: the provider's REST API (twilio client) or the dev outbox; send errors classified.
- `ratelimit`: OUTBOUND_MPS, shared by every worker.
- `sending`: the send state machine a send job runs (send_once).
- `delivery`: the provider's status callbacks, applied once and never backwards.
- `results`: the result text a family gets after its screening.
- `segments`: how many SMS segments a text takes, and in which encoding.

The names below are the package's surface. `sending` and `delivery` stay out of it: they work
on the app's Services, which holds this package's stores and sender, so import them from their
own modules (that keeps services.py free to import this package).
"""

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
