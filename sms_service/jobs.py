"""RQ jobs: thin module-level entry points that take ids, re-read state and are safe to run twice.

Each job gets the app's services and calls one function that does the work (`intake.take_in`,
`outbound.sending.send_once`, `alerts.Alerts.deliver`); this module keeps the queue name, job
ids, retries and the sweep.
No job argument or description holds a phone number or a message body, and no failed job's
record does either: a job's exception reaches RQ (its log, its results, the failed-job
registry) as a JobFailedError carrying the original traceback redacted.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

from redis.client import Pipeline
from rq import Queue, Retry

from .intake import take_in
from .logs import redact
from .outbound.sending import send_once
from .purge import purge_closed_followups
from .services import get_services

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

QUEUE_NAME = "sms-screener"
#: Failed jobs stay inspectable for a month.
FAILURE_TTL_SECONDS = 30 * 86400
EVALUATE_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])
# Sends back off from a busy or failing provider for about an hour in all.
SEND_RETRY = Retry(max=8, interval=[5, 15, 30, 60, 120, 300, 900, 1800])
# An SMTP server that is down delays an alert email; it is tried for about an hour in all.
ALERT_RETRY = Retry(max=8, interval=[10, 30, 60, 120, 300, 600, 900, 1800])
#: A send may wait its turn under OUTBOUND_MPS for a while: give it room.
SEND_TIMEOUT_SECONDS = 900
SWEEP_JOB_ID = "sweep-pending-evaluations"
SWEEP_EVERY = timedelta(seconds=60)
#: A completed screening with no job this long after completion lost its enqueue.
SWEEP_GRACE_SECONDS = 30
RETENTION_JOB_ID = "purge-closed-followups"
#: Closed follow-ups past FOLLOWUP_RETENTION_DAYS are deleted once a day.
RETENTION_EVERY = timedelta(days=1)


class JobFailedError(Exception):
    """A job's failure as RQ keeps it: the original traceback, redacted."""


def redacted_failures(job: Callable[P, R]) -> Callable[P, R]:
    """Make a job raise its failures with no phone number or Redis command arguments in them.

    RQ stores and logs the text of whatever a job raises (redis-py's pipeline errors name
    every argument, a client's error may hold a number in a URL). A failure with nothing to
    hide is raised as it is; any other becomes a JobFailedError with the traceback redacted.
    """

    @wraps(job)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return job(*args, **kwargs)
        except Exception as exc:
            text = "".join(traceback.format_exception(exc)).rstrip()
            if redact(text) == text:
                raise
            raise JobFailedError(redact(text)) from None

    return run


def evaluation_job_id(conversation_id: str) -> str:
    """Return the one job id an evaluation may have, so enqueuing twice runs it once."""
    return f"evaluate-{conversation_id}"


def send_job_id(message_id: str) -> str:
    """Return the one job id a text's send may have."""
    return f"send-{message_id}"


def alert_job_id(event_id: str) -> str:
    """Return the one job id an alert event's email may have."""
    return f"alert-{event_id}"


def enqueue_evaluation(queue: Queue, conversation_id: str) -> None:
    """Queue the evaluation of a completed screening."""
    queue.enqueue_call(
        evaluate_screening,
        args=(conversation_id,),
        job_id=evaluation_job_id(conversation_id),
        retry=EVALUATE_RETRY,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="evaluate_screening",
    )


def enqueue_send(queue: Queue, message_id: str) -> None:
    """Queue the send of a recorded outbound text."""
    queue.enqueue_call(
        send_text,
        args=(message_id,),
        job_id=send_job_id(message_id),
        retry=SEND_RETRY,
        timeout=SEND_TIMEOUT_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="send_text",
    )


def enqueue_alert(queue: Queue, event_id: str, pipeline: Pipeline | None = None) -> None:
    """Queue the email of a recorded alert event (in the caller's transaction, if given)."""
    queue.enqueue_call(
        send_alert,
        args=(event_id,),
        job_id=alert_job_id(event_id),
        retry=ALERT_RETRY,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="send_alert",
        pipeline=pipeline,
    )


@redacted_failures
def evaluate_screening(conversation_id: str) -> str:
    """Evaluate a completed screening, create its follow-up and queue its result text."""
    services = get_services()
    return take_in(services, conversation_id, lambda m: enqueue_send(services.queue, m))


@redacted_failures
def send_text(message_id: str) -> str:
    """Send one recorded text once, whatever happens to the workers or the provider."""
    return send_once(get_services(), message_id)


@redacted_failures
def send_alert(event_id: str) -> str:
    """Email the office about one alert event once; raise to be retried later."""
    return get_services().alerts.deliver(event_id)


def schedule_sweep(queue: Queue) -> None:
    """Schedule the next sweep; its fixed job id keeps one sweep chain per queue."""
    queue.enqueue_in(
        SWEEP_EVERY,
        sweep_pending_evaluations,
        job_id=SWEEP_JOB_ID,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="sweep_pending_evaluations",
    )


@redacted_failures
def sweep_pending_evaluations() -> int:
    """Enqueue completed screenings whose evaluation job was lost; then schedule the next sweep.

    A web process that saved a completed screening but died before enqueuing its job leaves it
    in the pending set with no job: no lead is lost, it is picked up here.
    """
    services = get_services()
    cutoff = time.time() - SWEEP_GRACE_SECONDS
    requeued = 0
    for conversation_id in services.store.pending_evaluations(completed_by=cutoff):
        if services.queue.fetch_job(evaluation_job_id(conversation_id)) is None:
            enqueue_evaluation(services.queue, conversation_id)
            requeued += 1
    if requeued:
        log.warning("re-enqueued %d evaluation(s) whose job was lost", requeued)
    schedule_sweep(services.queue)
    return requeued


def ensure_retention(queue: Queue) -> None:
    """Run the retention purge now unless its next daily run is already scheduled.

    Restarting workers leaves a scheduled run where it is, so frequent deploys never put it off.
    """
    if RETENTION_JOB_ID in queue.scheduled_job_registry:
        return
    queue.enqueue_call(
        purge_closed_followups_job,
        job_id=RETENTION_JOB_ID,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="purge_closed_followups",
    )


def schedule_retention(queue: Queue) -> None:
    """Schedule the next daily retention purge (one chain per queue: a fixed job id)."""
    queue.enqueue_in(
        RETENTION_EVERY,
        purge_closed_followups_job,
        job_id=RETENTION_JOB_ID,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="purge_closed_followups",
    )


def purge_closed_followups_job() -> dict[str, int]:
    """Delete follow-ups closed longer than FOLLOWUP_RETENTION_DAYS ago; log counts only."""
    services = get_services()
    try:
        counts = purge_closed_followups(services, time.time())
    finally:
        # A failed run must not end the daily chain.
        schedule_retention(services.queue)
    expired = counts["expired follow-ups"]
    deleted = sum(count for what, count in counts.items() if what != "expired follow-ups")
    log.info("retention: deleted %d expired follow-up(s), %d key(s) in all", expired, deleted)
    return counts
