"""Alert emails, read from a real SMTP server (aiosmtpd) running in the test.

An urgent follow-up and a parent's reply each send one email per event to every ALERT_EMAIL
address, with the priority and the follow-up's link and nothing about the family; an SMTP
server that is down delays the email (RQ retries it) and never the parent's texts.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_lib
import trustme
from conftest import (
    BASE_URL,
    PARENT,
    RECIPIENTS,
    SCREENING,
    SMTP_PASSWORD,
    SMTP_USER,
    AppFactory,
    Inbox,
    Phone,
    alert_config,
    assert_nothing_about_the_family,
    run_jobs,
    screen,
    seed_followup,
    services_of,
    smtp_server,
)
from flask import Flask
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from sms_service import jobs, keys
from sms_service.alerts import AlertKind, FollowupNotReadyError, InsecureSmtpError, event_id
from sms_service.evaluator import Priority
from sms_service.outbound import read_outbox
from sms_service.purge import purge_family

#: A screening whose meeting is within 14 days: deadline_soon yes, so urgent.
URGENT_SCREENING = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "Y", "Y"]
#: SMTP_PASSWORD URL-encoded, as SMTP_URL carries it.
SMTP_PASSWORD_IN_URL = "p%40ss%3Aw%2Frd"


@pytest.fixture
def alert_app(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, make_app: AppFactory, smtp_port: int
) -> Flask:
    """Return a dev-mode app that emails alerts through the test's SMTP server (plain SMTP)."""
    return make_app(alert_config(redis_url, tmp_path, f"smtp://127.0.0.1:{smtp_port}"))


def alert_job(app: Flask, event: str) -> Job:
    job = services_of(app).queue.fetch_job(jobs.alert_job_id(event))
    assert job is not None
    return job


def retry_now(app: Flask, job: Job) -> None:
    """Move a job scheduled for retry back onto its queue, as the scheduler will when it is due."""
    ScheduledJobRegistry(queue=services_of(app).queue).requeue(job)


def expected_body(what: str, priority: str, followup_id: str) -> str:
    return (
        f"{what}\n\n"
        f"Priority: {priority}\n\n"
        "Open this link to see the details (staff login required):\n"
        f"{BASE_URL}/staff/f/{followup_id}\n\n"
        "This email leaves out the family's phone number, answers and messages on purpose:\n"
        "email is not a safe place for a child's data.\n"
    )


def test_an_urgent_screening_emails_each_address_once(alert_app: Flask, inbox: Inbox) -> None:
    followup_id = screen(alert_app, PARENT, URGENT_SCREENING)
    followup = services_of(alert_app).followups.get(followup_id)
    assert followup is not None
    assert followup.priority == "urgent"
    assert inbox.recipients() == sorted(RECIPIENTS)
    [message] = inbox.messages
    assert message["Subject"] == "Urgent follow-up waiting"
    assert message["From"] == RECIPIENTS[0]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    [body] = inbox.bodies()
    assert body == expected_body(
        "An urgent follow-up is waiting in the staff queue.", "urgent", followup_id
    )
    assert_nothing_about_the_family(message, alert_app, followup_id)
    # The parent's screening went on as ever: the result text is out.
    assert len(read_outbox(services_of(alert_app).redis, PARENT)) == 1


def test_an_evaluation_run_twice_sends_one_email(alert_app: Flask, inbox: Inbox) -> None:
    followup_id = screen(alert_app, PARENT, URGENT_SCREENING)
    with alert_app.app_context():
        jobs.evaluate_screening(followup_id)  # a re-run: the worker died after the work
        assert jobs.send_alert(event_id(AlertKind.URGENT_FOLLOWUP, followup_id, "created")) == (
            "done"
        )
    run_jobs(alert_app)
    assert len(inbox.envelopes) == 1


def test_a_normal_screening_sends_no_email(
    alert_app: Flask, inbox: Inbox, redis: redis_lib.Redis
) -> None:
    followup_id = screen(alert_app, PARENT, SCREENING)
    followup = services_of(alert_app).followups.get(followup_id)
    assert followup is not None
    assert followup.priority == "normal"
    assert inbox.envelopes == []
    assert redis.keys(keys.alert("*")) == []


def test_a_parent_reply_emails_once_per_text(alert_app: Flask, inbox: Inbox) -> None:
    followup_id = seed_followup(alert_app, priority=Priority.HIGH)
    alerts = services_of(alert_app).alerts
    alerts.notify(AlertKind.PARENT_REPLIED, followup_id, "SM" + "1" * 32)
    alerts.notify(AlertKind.PARENT_REPLIED, followup_id, "SM" + "1" * 32)  # the same text again
    run_jobs(alert_app)
    [message] = inbox.messages
    assert message["Subject"] == "A parent replied (high priority)"
    assert inbox.bodies() == [
        expected_body(
            "A parent sent a text on a follow-up, and no one on staff has seen it yet.",
            "high",
            followup_id,
        )
    ]
    assert_nothing_about_the_family(message, alert_app, followup_id)
    alerts.notify(AlertKind.PARENT_REPLIED, followup_id, "SM" + "2" * 32)  # another text
    run_jobs(alert_app)
    assert len(inbox.envelopes) == 2
    assert inbox.messages[0]["Message-ID"] != inbox.messages[1]["Message-ID"]


def test_a_parents_texts_after_the_result_email_once_until_staff_look(
    alert_app: Flask, inbox: Inbox
) -> None:
    followup_id = screen(alert_app, PARENT)
    parent = Phone(alert_app.test_client(), PARENT)
    for i in range(30):
        parent.text(f"please call me {i}")
    run_jobs(alert_app)
    assert [m["Subject"] for m in inbox.messages] == ["A parent replied (normal priority)"]
    assert "please call me" not in inbox.messages[0].as_string()
    assert_nothing_about_the_family(inbox.messages[0], alert_app, followup_id)
    # Staff open the follow-up; the parent's next text is news again.
    services = services_of(alert_app)
    followup = services.followups.get(followup_id)
    assert followup is not None
    services.followups.mark_seen(followup_id, followup.last_parent_text_at)
    parent.text("are you there?")
    run_jobs(alert_app)
    assert len(inbox.envelopes) == 2


def test_an_alert_of_a_purged_follow_up_is_dropped(alert_app: Flask, inbox: Inbox) -> None:
    followup_id = screen(alert_app, PARENT)
    services = services_of(alert_app)
    services.alerts.notify(AlertKind.PARENT_REPLIED, followup_id, "SM" + "4" * 32)
    purge_family(services, PARENT)
    with alert_app.app_context():
        assert jobs.send_alert(
            event_id(AlertKind.PARENT_REPLIED, followup_id, "SM" + "4" * 32)
        ) == ("missing")
    run_jobs(alert_app)
    assert inbox.envelopes == []


def test_the_event_and_its_job_hold_no_phone(
    alert_app: Flask, inbox: Inbox, redis: redis_lib.Redis
) -> None:
    followup_id = screen(alert_app, PARENT, URGENT_SCREENING)
    event = event_id(AlertKind.URGENT_FOLLOWUP, followup_id, "created")
    record = redis.hgetall(keys.alert(event))
    assert set(record) == {"kind", "followup_id", "at", "sent_at"}
    assert (record["kind"], record["followup_id"]) == ("urgent_followup", followup_id)
    assert 0 < redis.ttl(keys.alert(event)) <= 7 * 86400
    job = alert_job(alert_app, event)
    assert job.args == [event] or job.args == (event,)
    assert job.get_status() == JobStatus.FINISHED


def test_a_down_smtp_server_delays_the_email_and_nothing_else(
    alert_app: Flask, smtp_port: int
) -> None:
    # Nothing listens on the port yet: the server is down.
    followup_id = screen(alert_app, PARENT, URGENT_SCREENING)
    services = services_of(alert_app)
    evaluation = services.queue.fetch_job(jobs.evaluation_job_id(followup_id))
    assert evaluation is not None
    assert evaluation.get_status() == JobStatus.FINISHED
    assert len(read_outbox(services.redis, PARENT)) == 1, "the result text did not wait"
    job = alert_job(alert_app, event_id(AlertKind.URGENT_FOLLOWUP, followup_id, "created"))
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 7
    assert job in ScheduledJobRegistry(queue=services.queue)
    with smtp_server(smtp_port) as inbox:
        retry_now(alert_app, job)
        run_jobs(alert_app)
        assert inbox.recipients() == sorted(RECIPIENTS)
    assert job.get_status() == JobStatus.FINISHED


def test_a_reply_before_its_follow_up_exists_is_sent_once_it_does(
    alert_app: Flask, inbox: Inbox
) -> None:
    # The parent texts while the screening is still being evaluated.
    followup_id = screen(alert_app, PARENT, URGENT_SCREENING, evaluate=False)
    services = services_of(alert_app)
    services.queue.remove(jobs.evaluation_job_id(followup_id))  # the evaluation is behind
    services.alerts.notify(AlertKind.PARENT_REPLIED, followup_id, "SM" + "3" * 32)
    event = event_id(AlertKind.PARENT_REPLIED, followup_id, "SM" + "3" * 32)
    with alert_app.app_context(), pytest.raises(FollowupNotReadyError):
        jobs.send_alert(event)
    run_jobs(alert_app)
    job = alert_job(alert_app, event)
    assert job.get_status() == JobStatus.SCHEDULED
    assert inbox.envelopes == []
    jobs.enqueue_evaluation(services.queue, followup_id)
    retry_now(alert_app, job)
    run_jobs(alert_app)
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == ["A parent replied (urgent priority)", "Urgent follow-up waiting"]


def test_no_email_settings_no_alerts(app: Flask, redis: redis_lib.Redis) -> None:
    alerts = services_of(app).alerts
    assert not alerts.enabled
    screen(app, PARENT, URGENT_SCREENING)
    alerts.notify(AlertKind.PARENT_REPLIED, "some-followup", "SM" + "4" * 32)
    assert redis.keys(keys.alert("*")) == []
    assert not [j for j in services_of(app).queue.get_job_ids() if j.startswith("alert-")]


def test_notify_never_raises_when_redis_is_down(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(alert_config("redis://127.0.0.1:1/0", tmp_path, "smtp://127.0.0.1:1"))
    package = logging.getLogger("sms_service")  # it does not propagate to caplog's root
    package.addHandler(caplog.handler)
    try:
        services_of(app).alerts.notify(AlertKind.URGENT_FOLLOWUP, "f1", "created")
    finally:
        package.removeHandler(caplog.handler)
    assert "alert urgent_followup-f1-created was not queued" in caplog.text


def test_a_password_is_never_sent_without_tls(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    make_app: AppFactory,
    smtp_port: int,
) -> None:
    url = f"smtp://alerts%40office.test:{SMTP_PASSWORD_IN_URL}@127.0.0.1:{smtp_port}"
    app = make_app(alert_config(redis_url, tmp_path, url))
    followup_id = seed_followup(app)
    services_of(app).alerts.notify(AlertKind.PARENT_REPLIED, followup_id, "SM5")
    event = event_id(AlertKind.PARENT_REPLIED, followup_id, "SM5")
    with (
        smtp_server(smtp_port, authenticator=True, auth_require_tls=False) as inbox,
        app.app_context(),
        pytest.raises(InsecureSmtpError),
    ):
        jobs.send_alert(event)
    assert inbox.logins == []
    assert inbox.envelopes == []


@dataclass(frozen=True)
class SelfSigned:
    """A test certificate authority's certificate file, and a server certificate it issued."""

    cert: Path
    server: trustme.LeafCert

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    """Make a certificate for 127.0.0.1 from a throwaway authority (trustme)."""
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return SelfSigned(path, authority.issue_cert("127.0.0.1"))


@pytest.fixture
def trusted(certificate: SelfSigned, monkeypatch: pytest.MonkeyPatch) -> SelfSigned:
    """Make the test certificate the one authority TLS clients in this process trust."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificate


def _tls_app(make_app: AppFactory, redis_url: str, tmp_path: Path, url: str) -> tuple[Flask, str]:
    app = make_app(alert_config(redis_url, tmp_path, url))
    followup_id = seed_followup(app, priority=Priority.URGENT)
    services_of(app).alerts.notify(AlertKind.URGENT_FOLLOWUP, followup_id, "created")
    return app, followup_id


def test_smtps_sends_over_tls_with_the_decoded_login(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    make_app: AppFactory,
    smtp_port: int,
    trusted: SelfSigned,
) -> None:
    url = f"smtps://alerts%40office.test:{SMTP_PASSWORD_IN_URL}@127.0.0.1:{smtp_port}"
    app, followup_id = _tls_app(make_app, redis_url, tmp_path, url)
    with smtp_server(
        smtp_port,
        ssl_context=trusted.server_context(),
        authenticator=True,
        # Implicit TLS: aiosmtpd only counts STARTTLS as TLS for AUTH.
        auth_require_tls=False,
    ) as inbox:
        run_jobs(app)
    assert inbox.logins == [(SMTP_USER, SMTP_PASSWORD)]
    [message] = inbox.messages
    assert message["From"] == SMTP_USER, "the SMTP user is the default From"
    assert f"{BASE_URL}/staff/f/{followup_id}" in inbox.bodies()[0]


def test_smtp_upgrades_with_starttls_when_offered(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    make_app: AppFactory,
    smtp_port: int,
    trusted: SelfSigned,
) -> None:
    url = f"smtp://alerts%40office.test:{SMTP_PASSWORD_IN_URL}@127.0.0.1:{smtp_port}"
    app, _ = _tls_app(make_app, redis_url, tmp_path, url)
    with smtp_server(
        smtp_port,
        tls_context=trusted.server_context(),
        require_starttls=True,  # refuses mail (and logins) before STARTTLS
        authenticator=True,
        auth_required=True,
    ) as inbox:
        run_jobs(app)
    assert inbox.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert inbox.recipients() == sorted(RECIPIENTS)


def test_an_untrusted_certificate_is_refused(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    make_app: AppFactory,
    smtp_port: int,
    certificate: SelfSigned,
) -> None:
    app, followup_id = _tls_app(make_app, redis_url, tmp_path, f"smtps://127.0.0.1:{smtp_port}")
    event = event_id(AlertKind.URGENT_FOLLOWUP, followup_id, "created")
    with smtp_server(smtp_port, ssl_context=certificate.server_context()) as inbox:
        with app.app_context(), pytest.raises(ssl.SSLCertVerificationError):
            jobs.send_alert(event)
        run_jobs(app)
    assert inbox.envelopes == []
    job = alert_job(app, event)
    assert job.get_status() == JobStatus.SCHEDULED, "retried: the certificate may be fixed"
