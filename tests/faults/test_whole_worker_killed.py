"""A worker killed mid-send: its work horse alone (the worker retries), or the whole worker
(another worker takes the job up within the bound README states). The text goes out once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from test_worker import (
    Workers,
    _children,
    _horses,
    complete,
    followup_count,
    settled,
    sid_recorded,
    slow_provider,
    wait_for,
)
from twilio_api import FakeTwilio

from sms_service.worker import recovery_bound

from .conftest import Figure

#: Short intervals, so the case takes seconds (production's defaults give 45 s: README).
MONITORING, GRACE, MAINTENANCE = 2, 5, 2
FLAGS = ("--job-monitoring-interval", str(MONITORING), "--heartbeat-grace", str(GRACE))
#: A send's claim outlives the dead worker: 2 x TWILIO_TIMEOUT_SECONDS (5, slow_provider) + 5.
CLAIM_SECONDS = 15


def test_a_whole_worker_killed_mid_send_is_recovered_by_another_in_time(
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    workers: Workers,
    env: dict[str, str],
    figure: Figure,
) -> None:
    app = slow_provider(redis_url, tmp_path, twilio_api, env)
    conversation_id = complete(app, "+15550100609")
    first = workers.start(*FLAGS)
    wait_for(lambda: len(twilio_api.messages) == 1, 30, "the provider to take it", workers)
    for pid in [*_children(first.pid), first.pid]:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    workers.start(*FLAGS, "--maintenance-interval", str(MAINTENANCE))

    wait_for(lambda: sid_recorded(app, conversation_id), 120, "another worker's retry", workers)
    took = time.monotonic() - killed_at
    figure("whole worker killed: text found and recorded by another worker after", f"{took:.1f} s")
    wait_for(lambda: settled(app, conversation_id), 30, "the jobs to end", workers)
    assert len(twilio_api.messages) == 1
    assert followup_count(app) == 1
    # Taken up within the bound (14 s here), then the retry waits out the dead send's claim:
    # twice that, so a slow machine cannot fail it, while RQ's own 60 s floor would.
    assert took <= 2 * (recovery_bound(MONITORING, GRACE, MAINTENANCE) + CLAIM_SECONDS)


def test_a_work_horse_killed_mid_send_still_sends_one_text(
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    workers: Workers,
    env: dict[str, str],
    figure: Figure,
) -> None:
    # The provider takes the text, then the horse dies before it hears back.
    app = slow_provider(redis_url, tmp_path, twilio_api, env)
    conversation_id = complete(app, "+15550100608")
    worker = workers.start()
    wait_for(lambda: len(twilio_api.messages) == 1, 30, "the provider to take it", workers)
    horses = _horses(worker, workers)
    assert len(horses) == 1, "the worker forks one work horse for the job"
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    wait_for(lambda: sid_recorded(app, conversation_id), 90, "the retry to find the text", workers)
    figure(
        "work horse killed: text found by the retry after", f"{time.monotonic() - killed_at:.1f} s"
    )
    wait_for(lambda: settled(app, conversation_id), 30, "the jobs to end", workers)
    figure("texts the provider got", str(len(twilio_api.messages)))
    assert len(twilio_api.messages) == 1
    assert followup_count(app) == 1
