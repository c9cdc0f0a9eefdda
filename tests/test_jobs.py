"""The completion hand-off: a real RQ worker process takes the job; lost enqueues are swept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import ROOT, Phone, make_config, services_of
from flask import Flask

from sms_service import keys
from sms_service.jobs import evaluation_job_id, sweep_pending_evaluations
from sms_service.outbound import read_outbox

NUMBER = "+15550100444"
ANSWERS = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]


def _complete(app: Flask) -> str:
    phone = Phone(app.test_client(), NUMBER)
    for body in ANSWERS:
        phone.text(body)
    state = services_of(app).store.load(NUMBER)
    assert state is not None
    return state.conversation_id


@pytest.mark.slow
def test_a_real_worker_takes_the_evaluation_job(
    app: Flask, redis: redis_lib.Redis, redis_url: str, tmp_path: Path
) -> None:
    conversation_id = _complete(app)
    assert redis.zscore(keys.PENDING_EVALUATIONS, conversation_id) is not None
    env = {**os.environ, **make_config(redis_url, tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "sms_service.cli", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    job = services_of(app).queue.fetch_job(evaluation_job_id(conversation_id))
    assert job is not None
    assert job.get_status() == "finished"
    assert job.return_value() == "iep"
    assert redis.zscore(keys.PENDING_EVALUATIONS, conversation_id) is None
    services = services_of(app)
    followup = services.followups.get(conversation_id)
    assert followup is not None
    assert (followup.outcome, followup.priority) == ("iep", "normal")
    # Dev mode: the result text went to the local outbox.
    texts = read_outbox(services.redis, NUMBER)
    assert len(texts) == 1
    assert texts[0]["body"].startswith("An IEP is likely the better fit")
    assert NUMBER not in result.stderr, "the worker's log never shows the phone number"


def test_a_lost_enqueue_is_swept_up(app: Flask, redis: redis_lib.Redis) -> None:
    conversation_id = _complete(app)
    services = services_of(app)
    # The web process died between saving the screening and enqueuing its job.
    job = services.queue.fetch_job(evaluation_job_id(conversation_id))
    assert job is not None
    job.delete()
    with app.app_context():
        assert sweep_pending_evaluations() == 0, "too recent: its enqueue may be under way"
        redis.zadd(keys.PENDING_EVALUATIONS, {conversation_id: 1.0})
        assert sweep_pending_evaluations() == 1
        assert sweep_pending_evaluations() == 0, "a job exists now: not enqueued twice"
    assert services.queue.get_job_ids() == [evaluation_job_id(conversation_id)]
