"""The objects one app instance is built from, kept in app.extensions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue

from .accounts import StaffStore
from .alerts import Alerts
from .breaker import RedisBreaker
from .config import Settings
from .conversation import ConversationService
from .engine import Flow
from .followups import FollowupStore, FollowupWork
from .outbound import OutboundStore, RateLimiter, Sender
from .store import ConversationStore

EXTENSION_KEY = "sms_screener"


@dataclass
class Services:
    settings: Settings
    redis_url: str
    #: Client that decodes replies to str (the service's own keys).
    redis: Redis
    #: Client that returns bytes, as RQ requires.
    rq_redis: Redis
    queue: Queue
    flow: Flow
    store: ConversationStore
    conversations: ConversationService
    followups: FollowupStore
    followup_work: FollowupWork
    staff: StaffStore
    outbound: OutboundStore
    sender: Sender
    rate_limiter: RateLimiter
    #: Alert emails to the office (urgent follow-ups, parent replies); inert when off.
    alerts: Alerts
    #: Answers 503 at once for a moment after Redis failed to answer (this process only).
    breaker: RedisBreaker = field(default_factory=RedisBreaker)
    #: Keeps an embedded Redis server alive while this app lives.
    embedded_server: Any = field(default=None, repr=False)


def get_services() -> Services:
    """Return the current app's services."""
    services: Services = current_app.extensions[EXTENSION_KEY]
    return services
