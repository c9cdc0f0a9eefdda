"""RQ jobs: module-level functions that take ids, re-read state and are safe to run twice."""

from __future__ import annotations

import logging

from rq import Queue, Retry

from . import keys
from .services import get_services

log = logging.getLogger(__name__)

QUEUE_NAME = "sms-screener"
#: Failed jobs stay inspectable for a month.
FAILURE_TTL_SECONDS = 30 * 86400
EVALUATE_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])


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
