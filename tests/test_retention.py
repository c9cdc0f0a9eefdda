"""Retention: closed follow-ups go FOLLOWUP_RETENTION_DAYS after closing, threads and sessions
expire, and after a whole run every key in Redis has a lifetime the table below allows."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest
import redis as redis_lib
from click.testing import CliRunner
from conftest import (
    STAFF_EMAIL,
    TEST_AUTH_TOKEN,
    AppFactory,
    Phone,
    add_staff,
    export_rows,
    html_of,
    log_in,
    make_config,
    post,
    provider_config,
    run_jobs,
    screen,
    services_of,
    sign,
)
from flask import Flask
from flask.testing import FlaskClient
from twilio_api import FakeTwilio

from sms_service import jobs, keys
from sms_service.cli import main
from sms_service.followups import FollowupStatus, result_message_id
from sms_service.health import HEALTH_TTL_SECONDS
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
    assert any(line.startswith("retention: deleted 1 expired follow-up(s), ") for line in lines)
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


# --- every key after a whole run ------------------------------------------------------------

#: Kept with no end: the record that we must not text a number, and the staff accounts.
FOREVER = "forever"
#: No expiry of its own: the daily retention job deletes it with its follow-up
#: (FOLLOWUP_RETENTION_DAYS after closing; an open follow-up is kept). Checked below.
WITH_FOLLOWUP = "with its follow-up"
#: No expiry of its own: an index of ids (no phone, no text) whose members go with what they
#: name; Redis drops it when it is empty.
INDEX = "index of ids"

MINUTE, HOUR = 60, 3600
IDLE, RETENTION = 7 * DAY, 30 * DAY


def _lifetimes(settings_claim: float) -> list[tuple[str, float | str, str]]:
    """Return (key pattern, longest TTL in seconds or a class above, why) for every key."""
    from rq.defaults import DEFAULT_WORKER_TTL

    from sms_service.accounts import LOGIN_WINDOW_SECONDS
    from sms_service.alerts import CLAIM_SECONDS, EVENT_TTL_SECONDS
    from sms_service.followups import VISIT_SECONDS
    from sms_service.outbound.errors import NOTICE_MAX_AGE_SECONDS
    from sms_service.outbound.messages import PARKED_TTL_SECONDS, SEEN_TTL_SECONDS
    from sms_service.outbound.sender import OUTBOX_TTL_SECONDS
    from sms_service.store import INBOUND_TTL_SECONDS, LOCK_MS

    staff_idle = 30 * MINUTE + 60
    return [
        (r"smss:optout:\+\d+", FOREVER, "we must never text an opted-out number"),
        (r"smss:staff:[^:]+@[^:]+", FOREVER, "a staff account"),
        (r"smss:staff-all", FOREVER, "every staff account's email"),
        (r"smss:conv:\+\d+", RETENTION, "idle conversation 7 d; a finished one 30 d"),
        (r"smss:lock:\+\d+", LOCK_MS / 1000, "one text's hold on its phone"),
        (r"smss:thread:\+\d+", RETENTION, "7 d with no finished screening, else 30 d"),
        (r"smss:inbound:SM\w+", INBOUND_TTL_SECONDS, "a MessageSid's claim and its reply"),
        (r"smss:screening:\w+", RETENTION, "a completed screening's answers"),
        (r"smss:suggestion:\w+", RETENTION, "its evaluation"),
        (r"smss:pending-evaluations", INDEX, "screenings not yet evaluated (ids)"),
        (r"smss:followup:\w+", WITH_FOLLOWUP, "the follow-up"),
        (r"smss:followup:\w+:notes", WITH_FOLLOWUP, "its notes"),
        (r"smss:followup:\w+:audit", WITH_FOLLOWUP, "its audit trail"),
        (r"smss:followup:\w+:texts", WITH_FOLLOWUP, "ids of staff texts"),
        (r"smss:followup:\w+:inbox", RETENTION, "MessageSids of the parent's texts"),
        (r"smss:followup:\w+:visit:.+", VISIT_SECONDS + 60, "a staff member's visit"),
        (r"smss:followups-of:\+\d+", WITH_FOLLOWUP, "a phone's follow-ups (ids)"),
        (r"smss:followups", INDEX, "the staff queue (follow-up keys)"),
        (r"smss:out:[\w-]+", RETENTION, "a text we send (phone, body, status)"),
        (r"smss:out-sid:\w+", RETENTION, "provider sid -> our text"),
        (r"smss:status-seen:SM\w+:\w+", SEEN_TTL_SECONDS, "drops repeated callbacks"),
        (r"smss:status-parked:SM\w+", PARKED_TTL_SECONDS, "a callback before its sid"),
        (r"smss:send-claim:[\w-]+", settings_claim, "one send attempt's claim"),
        (r"smss:send-outcomes", NOTICE_MAX_AGE_SECONDS, "latest 20 outcomes (no phone)"),
        (r"smss:health", HEALTH_TTL_SECONDS, "/healthz's write check"),
        (r"smss:rate:outbound", HOUR, "send-slot reservations (a backlog's worth at most)"),
        (r"smss:outbox", OUTBOX_TTL_SECONDS, "dev mode's outbox"),
        (r"smss:staff-session:[\w-]+", staff_idle, "a staff session"),
        (r"smss:staff-sessions:.+", staff_idle, "an account's sessions (expires with newest)"),
        (r"smss:login-failures:.+", LOGIN_WINDOW_SECONDS, "the login limit's window"),
        (r"smss:alert:[\w-]+", EVENT_TTL_SECONDS, "an alert event (no phone, no text)"),
        (r"smss:alert-claim:[\w-]+", CLAIM_SECONDS, "one alert email attempt's claim"),
        # RQ's own keys name jobs by ids only (jobs.py: no phone, no body in any argument).
        (r"rq:job:[\w-]+", jobs.FAILURE_TTL_SECONDS, "finished: result_ttl; failed: 30 d"),
        (r"rq:results:[\w-]+", jobs.FAILURE_TTL_SECONDS, "a job's results (its result_ttl)"),
        (r"rq:queues", INDEX, "RQ's list of queue names"),
        (r"rq:worker:\w+", DEFAULT_WORKER_TTL + 60, "a worker's record (its worker_ttl)"),
        (r"rq:clean_groups", HOUR, "RQ's lock while it cleans job groups"),
        (r"rq:queue:[\w-]+", INDEX, "job ids waiting"),
        (r"rq:(finished|failed|started|deferred|scheduled|canceled):[\w-]+", INDEX,
         "RQ's registries of job ids (RQ cleans them by each job's ttl)"),
    ]  # fmt: skip


def _scheduled_job_ids(redis: redis_lib.Redis) -> set[str]:
    return {str(m) for m in redis.zrange(f"rq:scheduled:{jobs.QUEUE_NAME}", 0, -1)}


def test_after_a_whole_run_every_key_has_a_lifetime_the_table_allows(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    provider_staff: tuple[Flask, FlaskClient],
    make_app: AppFactory,
    twilio_api: FakeTwilio,
) -> None:
    app, staff = provider_staff
    services = services_of(app)
    assert services.settings.alert_emails is None, "an alert-free config: no alert email"
    status_url = "https://sms.example.org/sms/status"

    # Screenings through the signed webhook, evaluated, their result texts sent.
    family = screen(app, FAMILY, sign_with=TEST_AUTH_TOKEN)
    neighbour = screen(app, OTHER, sign_with=TEST_AUTH_TOKEN)
    result = services.outbound.get(result_message_id(family))
    assert result is not None
    assert result.provider_sid
    for sid, status in [(result.provider_sid, "delivered"), ("SM" + "f" * 32, "sent")]:
        form = {"MessageSid": sid, "MessageStatus": status}
        response = app.test_client().post(
            "/sms/status", data=form, headers={"X-Twilio-Signature": sign(status_url, form)}
        )
        assert response.status_code == 204
    assert app.test_client().get("/healthz").status_code == 200  # its write check's key
    # An abandoned screening, an opt-out, a failed staff login.
    abandoned = Phone(app.test_client(), "+15550100774", sign_with=TEST_AUTH_TOKEN)
    for body in ["Hi", "1", "my son is 9"]:
        abandoned.text(body)
    Phone(app.test_client(), "+15550100775", sign_with=TEST_AUTH_TOKEN).text("STOP")
    assert log_in(app.test_client(), STAFF_EMAIL, "wrong password!!").status_code == 401
    # Staff work: the page, a note, the status, a text, the CSV export.
    html_of(staff, f"/staff/f/{family}")
    for url, form in [
        (f"/staff/f/{family}/notes", {"note": "called the school"}),
        (f"/staff/f/{family}/status", {"status": "contacted"}),
        (f"/staff/f/{family}/text", {"body": "We will call you tomorrow."}),
        (f"/staff/f/{family}/status", {"status": "closed"}),
    ]:
        assert post(staff, url, form).status_code == 302
    run_jobs(app)
    assert export_rows(staff)
    # The parent texts after it was closed (it reopens); then one family is purged.
    Phone(app.test_client(), FAMILY, sign_with=TEST_AUTH_TOKEN).text("thank you, call at 5")
    env = provider_config(redis_url, tmp_path, twilio_api)
    outcome = CliRunner().invoke(main, ["purge", "--phone", OTHER, "--yes"], env=env)
    assert outcome.exit_code == 0, outcome.output
    # A dev-mode screening on the same Redis (its outbox) and the worker's scheduled chains.
    screen(make_app(make_config(redis_url, tmp_path, OUTBOUND_MPS="100")), "+15550100776")
    jobs.schedule_sweep(services.queue)
    jobs.schedule_retention(services.queue)

    table = _lifetimes(2 * services.settings.twilio_timeout_seconds + 5)
    scheduled = _scheduled_job_ids(redis)
    checked, unknown, too_long = 0, [], []
    for key in sorted(redis.scan_iter("*")):
        checked += 1
        match = next(
            ((limit, why) for pattern, limit, why in table if re.fullmatch(pattern, key)), None
        )
        if match is None:
            unknown.append(key)
            continue
        ttl_ms = redis.pttl(key)
        if ttl_ms == -2:
            continue  # expired since the scan saw it (a lock, a rate slot)
        limit, _ = match
        if key.startswith("rq:job:") and key.removeprefix("rq:job:") in scheduled:
            continue  # a scheduled run (sweep, retention) lives until it runs: ids only
        if isinstance(limit, str):
            continue  # checked below (WITH_FOLLOWUP, INDEX) or kept by design (FOREVER)
        if not 0 < ttl_ms <= limit * 1000:
            too_long.append((key, ttl_ms, limit))
    assert unknown == [], [(k, redis.type(k), redis.ttl(k)) for k in unknown]
    assert too_long == [], too_long
    assert checked > 40
    assert 0 < redis.ttl(keys.thread("+15550100774")) <= IDLE, "an abandoned screening's texts"
    assert redis.ttl(keys.staff_sessions(STAFF_EMAIL)) > 0
    assert neighbour not in str(list(redis.scan_iter("smss:*")))

    # What has no expiry of its own goes with its follow-up: close them all, let a year pass.
    for followup in services.followups.list():
        closing = (followup.id, FollowupStatus.CLOSED, STAFF_EMAIL, time.time())
        services.followup_work.set_status(*closing)
    purge_closed_followups(services, time.time() + YEAR + DAY)
    forever = {k for k in redis.scan_iter("smss:*") if redis.ttl(k) == -1}
    assert forever == {
        keys.opt_out("+15550100775"),
        keys.staff(STAFF_EMAIL),
        keys.STAFF_ALL,
    }, "only opt-outs and staff accounts live forever"
