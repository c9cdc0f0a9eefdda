"""sms-screener: a text-message screening service for special-education law offices."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from flask import Flask
from rq import Queue
from werkzeug.middleware.proxy_fix import ProxyFix

from . import health, jobs, staff, webhook
from .accounts import StaffStore
from .config import load_settings
from .conversation import ConversationService
from .engine import load_flows
from .followups import FollowupStore, FollowupWork
from .logs import configure_logging
from .outbound import OutboundStore
from .ratelimit import RateLimiter
from .redis_conn import connect, start_embedded
from .sender import make_sender
from .services import EXTENSION_KEY, Services
from .store import ConversationStore

#: Twilio's posts are a few KB; refuse anything far larger with 413.
MAX_CONTENT_LENGTH = 128 * 1024
FLOW_ID = "screening"


def create_app(test_config: Mapping[str, str] | None = None) -> Flask:
    """Build the app: settings, Redis, queue, flow, services, blueprints."""
    environ = dict(os.environ)
    environ.update(test_config or {})
    settings = load_settings(environ)
    configure_logging(settings.log_level)

    if not settings.dev_mode and settings.public_base_url is None:
        logging.getLogger(__name__).warning(
            "PUBLIC_BASE_URL is not set: no delivery status callbacks will be requested, and "
            "signatures are checked against the URL each request arrives at"
        )

    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH)

    embedded = None
    redis_url = settings.redis_url
    if redis_url is None:
        redis_url, embedded = start_embedded(settings.var_dir)
    client = connect(redis_url, decode=True)
    rq_client = connect(redis_url, decode=False)
    queue = Queue(jobs.QUEUE_NAME, connection=rq_client)

    flows = load_flows(settings.flows_dir, settings.flow_context())
    flow = flows[FLOW_ID]
    store = ConversationStore(client, settings.idle_seconds, settings.retention_seconds)
    followups = FollowupStore(client)
    conversations = ConversationService(
        store, flow, lambda conversation_id: jobs.enqueue_evaluation(queue, conversation_id)
    )
    app.extensions[EXTENSION_KEY] = Services(
        settings=settings,
        redis_url=redis_url,
        redis=client,
        rq_redis=rq_client,
        queue=queue,
        flow=flow,
        store=store,
        conversations=conversations,
        followups=followups,
        followup_work=FollowupWork(client, followups),
        staff=StaffStore(client),
        outbound=OutboundStore(
            client,
            settings.retention_seconds,
            claim_seconds=2 * settings.twilio_timeout_seconds + 5,
        ),
        sender=make_sender(settings, client),
        rate_limiter=RateLimiter(client, settings.outbound_mps),
        embedded_server=embedded,
    )

    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    app.register_blueprint(webhook.bp)
    app.register_blueprint(health.bp)
    staff.init_app(app, settings, redis_url)
    # The provider signs its posts; CSRF tokens are for staff forms.
    staff.csrf.exempt(webhook.bp)
    staff.csrf.exempt(health.bp)
    return app
