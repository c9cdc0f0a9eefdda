"""Retention: closed follow-ups go FOLLOWUP_RETENTION_DAYS after closing, threads and sessions
expire, and after a whole run every key in Redis has a lifetime the table below allows."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import redis as redis_lib
from click.testing import CliRunner
from conftest import (
    STAFF_EMAIL,
    Phone,
    add_staff,
    make_config,
    run_jobs,
    screen,
    services_of,
)
from flask import Flask

from sms_service import jobs, keys
from sms_service.cli import main
from sms_service.followups import FollowupStatus, result_message_id
from sms_service.purge import purge_closed_followups

DAY = 86400.0
YEAR = 365 * DAY
FAMILY = "+15550100771"
OTHER = "+15550100772"


def _followup_keys(redis: redis_lib.Redis, followup_id: str) -> list[str]:
    return [k for k in redis.scan_iter(f"*{followup_id}*") if not k.startswith("rq:")]


def test_closing_records_the_time_and_reopening_clears_it(fast_app: Flask) -> None:
    services = services_of(fast_app)
    followup_id = screen(fast_app, FAMILY)
    work = services.followup_work
    work.set_status(followup_id, FollowupStatus.CLOSED, "staff@office.test", 1000.0)
    followup = services.followups.get(followup_id)
    assert followup is not None
    assert followup.closed_at == 1000.0
    work.set_status(followup_id, FollowupStatus.CONTACTED, "staff@office.test", 2000.0)
    followup = services.followups.get(followup_id)
    assert followup is not None
    assert followup.closed_at == 0.0
    work.set_status(followup_id, FollowupStatus.CLOSED, "staff@office.test", 3000.0)
    Phone(fast_app.test_client(), FAMILY).text("can someone call me back?")
    followup = services.followups.get(followup_id)
    assert followup is not None
    assert (followup.status, followup.closed_at) == ("new", 0.0), "the parent's text reopens it"


def test_a_followup_closed_past_retention_goes_with_everything_of_its_own(
    fast_app: Flask, redis: redis_lib.Redis
) -> None:
    services = services_of(fast_app)
    add_staff(fast_app, STAFF_EMAIL)
    old = screen(fast_app, FAMILY)
    Phone(fast_app.test_client(), FAMILY).text("please call after 5")  # the inbox
    work = services.followup_work
    now = time.time()
    work.add_note(old, "left a voicemail", STAFF_EMAIL, now)
    work.record_view(old, STAFF_EMAIL, now)
    followup = services.followups.get(old)
    assert followup is not None
    work.text_parent(followup, "We will call you tomorrow.", STAFF_EMAIL, now)
    run_jobs(fast_app)
    work.set_status(old, FollowupStatus.CLOSED, STAFF_EMAIL, now)
    recent = screen(fast_app, OTHER)
    work.set_status(recent, FollowupStatus.CLOSED, STAFF_EMAIL, now + 300 * DAY)
    still_open = screen(fast_app, "+15550100773")
    before = set(_followup_keys(redis, old))
    staff_text = next(k for k in redis.scan_iter(keys.outbound("staff-*")))
    assert {
        keys.followup(old),
        keys.followup_notes(old),
        keys.followup_audit(old),
        keys.followup_inbox(old),
        keys.followup_texts(old),
        keys.followup_visit(old, STAFF_EMAIL),
        keys.outbound(result_message_id(old)),
    } <= before

    counts = purge_closed_followups(services, now + YEAR + DAY)

    assert counts["expired follow-ups"] == 1
    assert _followup_keys(redis, old) == []
    assert not redis.exists(staff_text), "the staff text's record goes with it"
    assert redis.zrange(keys.followups_of(FAMILY), 0, -1) == []
    assert keys.followup(old) not in redis.zrange(keys.FOLLOWUP_QUEUE, 0, -1)
    assert {f.id for f in services.followups.list()} == {recent, still_open}, (
        "open ones, and ones closed less long ago, stay"
    )
    assert services.outbound.get(result_message_id(recent)) is not None


def test_a_followup_closed_before_closing_times_were_kept_counts_from_its_last_change(
    fast_app: Flask, redis: redis_lib.Redis
) -> None:
    services = services_of(fast_app)
    followup_id = screen(fast_app, FAMILY)
    # As an older version left it: closed, with no closed_at.
    redis.hset(keys.followup(followup_id), mapping={"status": "closed", "updated_at": "1000.0"})
    assert purge_closed_followups(services, 1000.0 + YEAR - DAY)["expired follow-ups"] == 0
    assert purge_closed_followups(services, 1000.0 + YEAR + DAY)["expired follow-ups"] == 1
    assert services.followups.get(followup_id) is None


def test_the_daily_job_logs_counts_only_and_schedules_its_next_run(
    fast_app: Flask, redis: redis_lib.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    services = services_of(fast_app)
    followup_id = screen(fast_app, FAMILY)
    long_ago = time.time() - YEAR - DAY
    services.followup_work.set_status(followup_id, FollowupStatus.CLOSED, "s@o.test", long_ago)
    assert jobs.RETENTION_JOB_ID not in services.queue.scheduled_job_registry
    jobs.ensure_retention(services.queue)
    with caplog.at_level(logging.INFO, logger="sms_service.jobs"):
        run_jobs(fast_app)
    assert services.followups.get(followup_id) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "sms_service.jobs"]
    assert any(line.startswith("retention: deleted 1 expired follow-ups") for line in lines)
    assert not any(FAMILY[-4:] in line or followup_id in line for line in lines)
    assert jobs.RETENTION_JOB_ID in services.queue.scheduled_job_registry, "tomorrow's run"
    jobs.ensure_retention(services.queue)
    assert services.queue.count == 0, "a worker starting does not put the daily run off"


def test_purge_deletes_the_texts_of_an_earlier_conversation_that_had_expired(
    fast_app: Flask, redis: redis_lib.Redis, redis_url: str, tmp_path: Path
) -> None:
    phone = Phone(fast_app.test_client(), FAMILY)
    for body in ["Hi", "1", "my child is 9 and struggling"]:
        phone.text(body)
    redis.delete(keys.conversation(FAMILY))  # the abandoned conversation idled out
    screen(fast_app, FAMILY)  # a later, finished screening
    assert redis.exists(keys.thread(FAMILY))

    env = make_config(redis_url, tmp_path)
    outcome = CliRunner().invoke(main, ["purge", "--phone", FAMILY, "--yes"], env=env)
    assert outcome.exit_code == 0, outcome.output

    left = []
    for key in redis.scan_iter("*"):
        if key.startswith("rq:"):
            continue  # RQ's records name jobs by ids, never a phone (see test_purge)
        dump = _dump(redis, key)
        if FAMILY in key or FAMILY in dump or "struggling" in dump:
            left.append(key)
    assert left == []


def _dump(redis: redis_lib.Redis, key: str) -> str:
    kind = redis.type(key)
    if kind == "string":
        return str(redis.get(key))
    if kind == "hash":
        return str(redis.hgetall(key))
    if kind == "list":
        return str(redis.lrange(key, 0, -1))
    if kind == "set":
        return str(redis.smembers(key))
    if kind == "zset":
        return str(redis.zrange(key, 0, -1))
    return ""
