"""sms-screener: a text-message screening service for special-education law offices.

`create_app` builds one app: settings (config), Redis, the RQ queue, the flow (engine), the
stores (store, followups, accounts with the login limit, outbound), the sender, the send
rate limit and the alert emails (alerts), kept in app.extensions as Services, and the
blueprints (webhook, health, staff). README's "Layout" says which module owns what.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from argon2 import PasswordHasher
from flask import Flask
from rq import Queue
from werkzeug.middleware.proxy_fix import ProxyFix

from . import health, jobs, request_body, staff, unavailable, webhook
from .accounts import StaffStore
from .alerts import AlertKind, Alerts, Mail
from .clock import Clock, system_clock
from .config import load_settings
from .conversation import ConversationService
from .durability import check_durability
from .engine import Flow, load_flows
from .followups import FollowupStore, FollowupWork
from .logs import configure_logging
from .outbound import OutboundStore, RateLimiter, make_sender
from .redis_conn import WEB, Timeouts, connect, start_embedded
from .services import EXTENSION_KEY, Services
from .store import ConversationStore

#: Twilio's posts are a few KB; refuse anything far larger with 413.
MAX_CONTENT_LENGTH = 128 * 1024
FLOW_ID = "screening"
#: Redis URLs whose persistence this process has checked: the warning comes once per process.
_checked_durability: set[str] = set()


def create_app(
    test_config: Mapping[str, str] | None = None,
    *,
    clock: Clock = system_clock,
    password_hasher: PasswordHasher | None = None,
    flows: Mapping[str, Flow] | None = None,
    redis_timeouts: Timeouts = WEB,
) -> Flask:
    """Build the app: settings, Redis, queue, flow, services, blueprints.

    Tests inject a clock they move by hand, a cheap password hasher and flows loaded once;
    production takes the defaults (the system clock, argon2id's production cost, flows_dir).
    The web takes the default Redis timeouts (fail fast); the worker passes WORKER's.
    """
    environ = dict(os.environ)
    environ.update(test_config or {})
    settings = load_settings(environ)
    configure_logging(settings.log_level)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH)

    embedded = None
    redis_url = settings.redis_url
    if redis_url is None:
        redis_url, embedded = start_embedded(settings.var_dir)
    client = connect(redis_url, decode=True, timeouts=redis_timeouts)
    rq_client = connect(redis_url, decode=False, timeouts=redis_timeouts)
    if redis_url not in _checked_durability:
        _checked_durability.add(redis_url)
        check_durability(client)
    queue = Queue(jobs.QUEUE_NAME, connection=rq_client)

    if flows is None:
        flows = load_flows(settings.flows_dir, settings.flow_context())
    flow = flows[FLOW_ID]
    store = ConversationStore(client, settings.idle_seconds, settings.retention_seconds)
    followups = FollowupStore(client)
    alerts = Alerts(
        client,
        Mail.from_settings(settings),
        followups,
        lambda event_id, pipeline: jobs.enqueue_alert(queue, event_id, pipeline),
        jobs_redis=rq_client,
        clock=clock,
        being_evaluated=lambda followup_id: store.screening(followup_id) is not None,
    )
    conversations = ConversationService(
        store,
        flow,
        lambda conversation_id: jobs.enqueue_evaluation(queue, conversation_id),
        clock=clock,
        parent_replied=lambda followup_id, message_sid: alerts.notify(
            AlertKind.PARENT_REPLIED, followup_id, message_sid
        ),
    )
    staff_accounts = StaffStore(
        client,
        password_hasher,
        clock,
        session_idle_seconds=round(settings.staff_idle_minutes * 60),
    )
    outbound = OutboundStore(
        client,
        settings.retention_seconds,
        claim_seconds=2 * settings.twilio_timeout_seconds + 5,
    )
    followup_work = FollowupWork(
        client,
        followups,
        staff=staff_accounts,
        outbound=outbound,
        conversations=store,
        send=lambda message_id: jobs.enqueue_send(queue, message_id),
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
        followup_work=followup_work,
        staff=staff_accounts,
        outbound=outbound,
        sender=make_sender(settings, client),
        rate_limiter=RateLimiter(client, settings.outbound_mps),
        alerts=alerts,
        embedded_server=embedded,
    )

    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    request_body.init_app(app)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(health.bp)
    staff.init_app(app, settings, clock)
    unavailable.init_app(app)
    # The provider signs its posts; CSRF tokens are for staff forms.
    staff.csrf.exempt(webhook.bp)
    staff.csrf.exempt(health.bp)
    return app
