"""No phone number in a worker's log, a job's results or the failed-job registry.

Real `sms-screener worker` processes, the real twilio client and the local Twilio API failing
in the ways that put the number in an error's text: the Messages list lookup after an
ambiguous send cannot connect (requests names the URL, `Messages.json?To=%2B1555...`), and a
send is refused with Twilio's own text naming the number (21211).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import zlib
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import build_app, provider_config
from rq import Queue
from rq.job import Job, JobStatus
from test_worker import Workers, complete, wait_for
from twilio_api import FakeTwilio

from sms_service.followups import result_message_id
from sms_service.jobs import QUEUE_NAME, send_job_id

from .conftest import Figure, RedisProcess


def phone_forms(phone: str) -> tuple[str, ...]:
    """Return the ways a log, a URL or a traceback may write the number."""
    digits = phone[1:]
    return (phone, "%2B" + digits, digits, digits[1:])


def texts_of(value: bytes) -> list[str]:
    """Return a stored value as text, and decompressed as RQ stores tracebacks."""
    texts = [value.decode("utf-8", "replace")]
    for raw in (value, _b64(value)):
        with contextlib.suppress(zlib.error, TypeError):
            texts.append(zlib.decompress(raw).decode("utf-8", "replace"))
    return texts


def _b64(value: bytes) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b""


def everything_rq_keeps(client: redis_lib.Redis) -> tuple[int, str]:
    """Return how many rq: keys there are and all they hold, as text."""
    found: list[str] = []
    count = 0
    for key in client.scan_iter("rq:*"):
        count += 1
        kind = client.type(key)
        values: list[bytes] = []
        if kind == b"string":
            values = [client.get(key) or b""]
        elif kind == b"hash":
            values = [v for pair in client.hgetall(key).items() for v in pair]
        elif kind == b"list":
            values = client.lrange(key, 0, -1)
        elif kind == b"set":
            values = list(client.smembers(key))
        elif kind == b"zset":
            values = [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
        elif kind == b"stream":
            values = [v for _, entry in client.xrange(key) for pair in entry.items() for v in pair]
        for value in [key, *values]:
            found.extend(texts_of(value))
    return count, "\n".join(found)


@pytest.fixture
def env(  # the worker processes' settings: this test's own Redis (conftest's `workers` uses it)
    own_redis: RedisProcess, tmp_path: Path, twilio_api: FakeTwilio
) -> dict[str, str]:
    import os

    config = provider_config(own_redis.url, tmp_path, twilio_api, LOG_LEVEL="INFO")
    return {**os.environ, **config}


def check_nothing_leaked(
    own_redis: RedisProcess, workers: Workers, phone: str, job_id: str, figure: Figure
) -> None:
    raw = redis_lib.Redis(port=own_redis.port)
    job = Job.fetch(job_id, connection=raw)
    failures = [r.exc_string or "" for r in job.results() if r.exc_string]
    assert failures, "the job failed at least once, and RQ kept why"
    keys, kept = everything_rq_keeps(raw)
    log = workers.logs()
    assert "Traceback" in log, "RQ logged the failure's traceback"
    places = {"worker log": log, "job results": "\n".join(failures), "rq keys": kept}
    found = {
        place: [form for form in phone_forms(phone) if form in text]
        for place, text in places.items()
    }
    occurrences = sum(text.count(form) for text in places.values() for form in phone_forms(phone))
    figure("rq keys scanned", str(keys))
    figure("failed attempts kept", str(len(failures)))
    figure("phone occurrences (log, results, rq keys)", str(occurrences))
    assert all(not forms for forms in found.values()), found


def test_a_failed_lookup_leaves_no_number_anywhere(
    env: dict[str, str],
    own_redis: RedisProcess,
    twilio_api: FakeTwilio,
    workers: Workers,
    figure: Figure,
) -> None:
    """The send times out (ambiguous), then the API is gone: the lookup cannot connect."""
    phone = "+15550100911"
    app = build_app({k: env[k] for k in env if k.isupper()})
    twilio_api.script("timeout")
    conversation_id = complete(app, phone)
    job_id = send_job_id(result_message_id(conversation_id))
    workers.start()
    wait_for(lambda: len(twilio_api.messages) == 1, 30, "the send that times out", workers)
    twilio_api.stop()  # the retry's lookup (Messages.json?To=...) cannot connect
    raw = redis_lib.Redis(port=own_redis.port)
    queue = Queue(QUEUE_NAME, connection=raw)

    def status() -> JobStatus | None:
        job = queue.fetch_job(job_id)
        return job.get_status() if job is not None else None

    wait_for(lambda: status() == JobStatus.SCHEDULED, 30, "the ambiguous send's retry", workers)
    # Make the retry the last try, so the failure is kept as it would be after an hour of them.
    raw.hset(f"rq:job:{job_id}", "retries_left", 0)
    wait_for(lambda: status() == JobStatus.FAILED, 40, "the lookup to fail for good", workers)
    job = queue.fetch_job(job_id)
    assert job is not None
    assert job_id in queue.failed_job_registry.get_job_ids()
    assert "could not check earlier attempt" in (job.latest_result().exc_string or "")
    check_nothing_leaked(own_redis, workers, phone, job_id, figure)


def test_a_refusal_naming_the_number_leaves_it_nowhere(
    env: dict[str, str],
    own_redis: RedisProcess,
    twilio_api: FakeTwilio,
    workers: Workers,
    figure: Figure,
) -> None:
    """Twilio's 21211 text names the number; then the job's next step fails in Redis."""
    phone = "+15550100912"
    app = build_app({k: env[k] for k in env if k.isupper()})
    twilio_api.name_the_number = True
    twilio_api.script("21211")
    conversation_id = complete(app, phone)
    job_id = send_job_id(result_message_id(conversation_id))
    workers.start()
    raw = redis_lib.Redis(port=own_redis.port)

    def rejected() -> bool:
        job = Queue(QUEUE_NAME, connection=raw).fetch_job(job_id)
        return job is not None and job.get_status() == JobStatus.FINISHED

    wait_for(rejected, 30, "the refused send's job to end", workers)
    log = workers.logs()
    assert "refused for good: provider refused the text: HTTP 400, error 21211" in log
    found = [form for form in phone_forms(phone) if form in log]
    _, kept = everything_rq_keeps(raw)
    found += [form for form in phone_forms(phone) if form in kept]
    figure("phone occurrences (log, rq keys)", str(len(found)))
    assert found == []
