"""RQ jobs: module-level functions that take ids, re-read state and are safe to run twice."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import cast

from rq import Queue, Retry

from . import keys
from .services import get_services

log = logging.getLogger(__name__)

QUEUE_NAME = "sms-screener"
#: Failed jobs stay inspectable for a month.
FAILURE_TTL_SECONDS = 30 * 86400
EVALUATE_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])
SWEEP_JOB_ID = "sweep-pending-evaluations"
SWEEP_EVERY = timedelta(seconds=60)
#: A completed screening with no job this long after completion lost its enqueue.
SWEEP_GRACE_SECONDS = 30


def evaluation_job_id(conversation_id: str) -> str:
    """Return the one job id an evaluation may have, so enqueuing twice runs it once."""
    return f"evaluate-{conversation_id}"


def enqueue_evaluation(queue: Queue, conversation_id: str) -> None:
    """Queue the evaluation of a completed screening (no phone or answers in the job)."""
    queue.enqueue_call(
        evaluate_screening,
        args=(conversation_id,),
        job_id=evaluation_job_id(conversation_id),
        retry=EVALUATE_RETRY,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="evaluate_screening",
    )


def evaluate_screening(conversation_id: str) -> str:
    """Take a completed screening off the pending set (the evaluation itself is issue 3)."""
    services = get_services()
    record = services.store.screening(conversation_id)
    if record is None:
        log.warning("screening %s is gone (purged or expired)", conversation_id)
        services.redis.zrem(keys.PENDING_EVALUATIONS, conversation_id)
        return "missing"
    services.redis.zrem(keys.PENDING_EVALUATIONS, conversation_id)
    log.info("screening %s received for evaluation", conversation_id)
    return "received"


def schedule_sweep(queue: Queue) -> None:
    """Schedule the next sweep; its fixed job id keeps one sweep chain per queue."""
    queue.enqueue_in(
        SWEEP_EVERY,
        sweep_pending_evaluations,
        job_id=SWEEP_JOB_ID,
        failure_ttl=FAILURE_TTL_SECONDS,
        description="sweep_pending_evaluations",
    )


def sweep_pending_evaluations() -> int:
    """Enqueue completed screenings whose evaluation job was lost; then schedule the next sweep.

    A web process that saved a completed screening but died before enqueuing its job leaves it
    in the pending set with no job: no lead is lost, it is picked up here.
    """
    services = get_services()
    cutoff = time.time() - SWEEP_GRACE_SECONDS
    requeued = 0
    due = services.redis.zrangebyscore(keys.PENDING_EVALUATIONS, "-inf", cutoff)
    for conversation_id in cast(list[str], due):
        if services.queue.fetch_job(evaluation_job_id(conversation_id)) is None:
            enqueue_evaluation(services.queue, conversation_id)
            requeued += 1
    if requeued:
        log.warning("re-enqueued %d evaluation(s) whose job was lost", requeued)
    schedule_sweep(services.queue)
    return requeued
