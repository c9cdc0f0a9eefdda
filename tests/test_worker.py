"""Real `rq` worker processes, the real twilio client and a local Twilio API: one result text
and one follow-up per screening, whatever happens to the workers or the provider."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import ROOT, TEST_AUTH_TOKEN, Phone, build_app, provider_config, services_of
from flask import Flask
from rq.job import JobStatus
from twilio_api import FakeTwilio

from sms_service.evaluator import Outcome, Priority, Suggestion
from sms_service.followups import FollowupStatus, result_message_id
from sms_service.jobs import RETENTION_JOB_ID, evaluation_job_id, send_job_id

pytestmark = pytest.mark.slow

ENGLISH = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]
SPANISH = ["HOLA", "9", "A", "S", "C", "S", "B", "N", "A", "A", "N", "S"]


class Workers:
    """Starts `sms-screener worker` processes and stops them after the test."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = env
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "sms_service.cli", "worker", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("worker-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(check: Callable[[], bool], timeout: float, what: str, workers: Workers) -> float:
    """Wait until check() holds; return the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{workers.logs()}")
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
def env(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, twilio_api: FakeTwilio
) -> dict[str, str]:
    return {**os.environ, **provider_config(redis_url, tmp_path, twilio_api)}


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(env, tmp_path)
    yield pool
    pool.stop()


def complete(app: Flask, number: str, texts: list[str] = ENGLISH) -> str:
    """Text a whole screening through the signed webhook; return its conversation id."""
    phone = Phone(app.test_client(), number, sign_with=TEST_AUTH_TOKEN)
    for body in texts:
        replies = phone.text(body)
    assert "reviewing" in replies[0] or "revisando" in replies[0], replies
    state = services_of(app).store.load(number)
    assert state is not None
    return state.conversation_id


def sid_recorded(app: Flask, conversation_id: str) -> bool:
    """Tell whether the result text's provider sid is recorded (it reached the provider)."""
    message = services_of(app).outbound.get(result_message_id(conversation_id))
    return message is not None and bool(message.provider_sid)


def settled(app: Flask, conversation_id: str) -> bool:
    """Tell whether the screening's jobs are over: evaluated, and the send done or failed for good.

    Checking counts once this holds, instead of after a pause, cannot miss a late duplicate:
    no retry is pending any more, however slow the machine.
    """
    queue = services_of(app).queue
    over = (JobStatus.FINISHED, JobStatus.FAILED)
    ids = (evaluation_job_id(conversation_id), send_job_id(result_message_id(conversation_id)))
    jobs = [queue.fetch_job(job_id) for job_id in ids]
    return all(job is not None and job.get_status() in over for job in jobs)


def followup_count(app: Flask) -> int:
    return len(services_of(app).followups.list())


def test_the_result_text_reaches_the_provider_once(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    number = "+15550100601"
    conversation_id = complete(provider_app, number)
    workers.start()
    wait_for(lambda: len(twilio_api.messages) == 1, 30, "the result text", workers)
    # The worker records the provider's sid after the provider answers: wait for the jobs to
    # end before reading the records, not just for the text to arrive.
    wait_for(lambda: settled(provider_app, conversation_id), 30, "the jobs to end", workers)
    [message] = twilio_api.messages
    assert message.to == number
    assert message.body.startswith("An IEP is likely the better fit for your child.")
    assert "https://example.org/book" in message.body
    assert message.status_callback == "https://sms.example.org/sms/status"
    followup = services_of(provider_app).followups.get(conversation_id)
    assert followup is not None
    assert (followup.outcome, followup.priority, followup.status) == ("iep", "normal", "new")
    outbound = services_of(provider_app).outbound.get(result_message_id(conversation_id))
    assert outbound is not None
    assert outbound.provider_sid == message.sid
    assert len(twilio_api.messages) == 1
    assert followup_count(provider_app) == 1


def test_the_spanish_result_is_in_spanish(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    complete(provider_app, "+15550100602", SPANISH)
    workers.start()
    wait_for(lambda: len(twilio_api.messages) == 1, 30, "the result text", workers)
    body = twilio_api.messages[0].body
    assert body.startswith("Un IEP es probablemente lo mejor para su hijo/a.")
    assert "Solo informacion, no es consejo legal." in body


def test_429_three_times_still_sends_one_text(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    twilio_api.script("429", "429", "429")
    conversation_id = complete(provider_app, "+15550100603")
    workers.start()
    took = wait_for(lambda: len(twilio_api.messages) == 1, 60, "the result text", workers)
    wait_for(lambda: settled(provider_app, conversation_id), 30, "the jobs to end", workers)
    assert twilio_api.creates() == 4, "three refusals, then the one text"
    assert len(twilio_api.messages) == 1
    print(f"429 x3 recovered in {took:.1f} s")


def test_stop_after_the_last_answer_means_no_result_text(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    number = "+15550100604"
    conversation_id = complete(provider_app, number)
    assert Phone(provider_app.test_client(), number, sign_with=TEST_AUTH_TOKEN).text("STOP") == []
    workers.start()
    services = services_of(provider_app)

    def suppressed() -> bool:
        message = services.outbound.get(result_message_id(conversation_id))
        return message is not None and message.status == "suppressed"

    wait_for(suppressed, 30, "the result to be suppressed", workers)
    assert twilio_api.messages == []
    followup = services.followups.get(conversation_id)
    assert followup is not None, "the office still gets the lead"
    assert any("opted out" in p for p in followup.problems)


def test_21610_marks_the_phone_opted_out_and_is_not_retried(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    number = "+15550100605"
    twilio_api.script("21610")
    conversation_id = complete(provider_app, number)
    workers.start()
    services = services_of(provider_app)
    wait_for(lambda: services.store.is_opted_out(number), 30, "the opt-out", workers)
    wait_for(lambda: settled(provider_app, conversation_id), 30, "the jobs to end", workers)
    assert twilio_api.creates() == 1
    message = services.outbound.get(result_message_id(conversation_id))
    assert message is not None
    assert message.status == "blocked"


def test_21211_fails_for_good_and_flags_the_followup(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    twilio_api.script("21211")
    conversation_id = complete(provider_app, "+15550100606")
    workers.start()
    services = services_of(provider_app)

    def flagged() -> bool:
        followup = services.followups.get(conversation_id)
        return followup is not None and bool(followup.problems)

    wait_for(flagged, 30, "the follow-up to be flagged", workers)
    followup = services.followups.get(conversation_id)
    assert followup is not None
    assert any("21211" in p for p in followup.problems)
    wait_for(lambda: settled(provider_app, conversation_id), 30, "the jobs to end", workers)
    assert twilio_api.creates() == 1


def test_a_timeout_after_the_provider_took_the_text_never_sends_it_twice(
    provider_app: Flask, twilio_api: FakeTwilio, workers: Workers
) -> None:
    twilio_api.script("timeout")  # taken, but the answer comes after the client gave up
    conversation_id = complete(provider_app, "+15550100607")
    workers.start()
    services = services_of(provider_app)

    wait_for(
        lambda: sid_recorded(provider_app, conversation_id),
        60,
        "the earlier send to be found",
        workers,
    )
    wait_for(lambda: settled(provider_app, conversation_id), 30, "the jobs to end", workers)
    assert len(twilio_api.messages) == 1
    message = services.outbound.get(result_message_id(conversation_id))
    assert message is not None
    assert message.provider_sid == twilio_api.messages[0].sid


def slow_provider(
    redis_url: str, tmp_path: Path, twilio_api: FakeTwilio, env: dict[str, str]
) -> Flask:
    """Return an app whose next text the provider takes, answering 4 s later (timeout 5 s)."""
    env.update(TWILIO_TIMEOUT_SECONDS="5")
    twilio_api.delay = 4
    twilio_api.script("timeout")
    return build_app(provider_config(redis_url, tmp_path, twilio_api, TWILIO_TIMEOUT_SECONDS="5"))


def _children(pid: int) -> list[int]:
    """Return the child processes of pid (read from /proc: no `ps` needed)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _horses(worker: subprocess.Popen[bytes], workers: Workers) -> list[int]:
    """Return the worker's work-horse processes (its children but the scheduler)."""
    scheduler = re.findall(r"Scheduler for \S+ started with PID (\d+)", workers.logs())
    return [pid for pid in _children(worker.pid) if str(pid) not in scheduler]


def test_twenty_completions_at_once_respect_outbound_mps(
    redis_url: str, tmp_path: Path, twilio_api: FakeTwilio, workers: Workers, env: dict[str, str]
) -> None:
    mps = 5
    env.update(OUTBOUND_MPS=str(mps))
    app = build_app(provider_config(redis_url, tmp_path, twilio_api, OUTBOUND_MPS=str(mps)))
    for i in range(20):
        complete(app, f"+155501007{i:02d}")
    for _ in range(3):  # several workers share the one limit
        workers.start()
    wait_for(lambda: len(twilio_api.messages) == 20, 90, "20 result texts", workers)
    times = sorted(m.received_at for m in twilio_api.messages)
    # The workers paced the texts through the one shared limit: 20 slots 1.1/mps apart span
    # 4.2 s, a burst would take a fraction of a second. (The exact spacing of slots is proven
    # in test_ratelimit.py on Redis's own clock; arrival times here also carry the machine's
    # scheduling jitter, so only a lower bound that lateness cannot break is asserted: the
    # span shrinks only if the *first* text arrives over 2 s after its slot.)
    assert times[-1] - times[0] >= (20 - 1) * 1.1 / mps / 2, times
    assert len({m.to for m in twilio_api.messages}) == 20
    print(f"20 texts at {mps}/s took {times[-1] - times[0]:.1f} s")


def test_a_starting_worker_purges_followups_closed_past_retention_and_schedules_tomorrow(
    provider_app: Flask, workers: Workers
) -> None:
    number = "+15550100691"
    conversation_id = complete(provider_app, number)
    services = services_of(provider_app)
    services.queue.empty()  # only the retention job matters here
    followup_id = conversation_id
    # Its evaluation is dropped: make the follow-up as it would, and close it 366 days ago.
    screening = services.store.screening(conversation_id)
    assert screening is not None
    services.followups.create(
        screening, Suggestion(Outcome.IEP, Priority.NORMAL, (), ()), time.time() - 400 * 86400
    )
    closed = time.time() - 366 * 86400
    services.followup_work.set_status(followup_id, FollowupStatus.CLOSED, "s@o.test", closed)
    workers.env["LOG_LEVEL"] = "INFO"
    workers.start()
    wait_for(
        lambda: services.followups.get(followup_id) is None, 30, "the retention purge", workers
    )
    wait_for(
        lambda: RETENTION_JOB_ID in services.queue.scheduled_job_registry,
        30,
        "tomorrow's run scheduled",
        workers,
    )
    workers.stop()
    logs = workers.logs()
    assert "retention: deleted 1 expired follow-up(s)" in logs
    assert number not in logs
