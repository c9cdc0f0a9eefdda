"""The `sms-screener` command: run, chat, worker, flows, purge."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import NoReturn
from urllib.parse import urlencode

import click
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from twilio.request_validator import RequestValidator

from .. import FLOW_ID
from ..config import ConfigError, Settings, load_settings
from ..engine import FlowError, load_flows
from ..engine.model import LANGUAGES
from ..followups import FollowupStatus
from ..logs import mask_phone
from ..redis_conn import connect, start_embedded
from ..sender import read_outbox
from ..services import get_services

Sender = Callable[[str], list[str]]


def _fail(message: str) -> NoReturn:
    click.echo(f"sms-screener: {message}", err=True)
    sys.exit(2)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        _fail(str(exc))


def _app() -> Flask:
    from .. import create_app

    try:
        return create_app()
    except (ConfigError, FlowError) as exc:
        _fail(str(exc))


@click.group()
def main() -> None:
    """Screen parents by text: a 504 plan or an IEP, and a consultation link."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, envvar="PORT", help="Port to serve on.")
@click.option("--web-workers", default=2, show_default=True, help="gunicorn worker processes.")
def run(host: str, port: int, web_workers: int) -> None:
    """Run the whole service here: Redis (embedded unless REDIS_URL), web and worker."""
    settings = _settings()
    env = dict(os.environ)
    embedded = None
    if settings.redis_url is None:
        url, embedded = start_embedded(settings.var_dir)
        env["REDIS_URL"] = url
    _app()  # fail fast, naming the bad setting or flow, before starting anything
    web = [
        sys.executable, "-m", "gunicorn", "--workers", str(web_workers),
        "--bind", f"{host}:{port}", "--access-logfile", "-",
        "sms_service:create_app()",
    ]  # fmt: skip
    worker = [sys.executable, "-m", "sms_service.cli", "worker"]
    procs = [subprocess.Popen(web, env=env), subprocess.Popen(worker, env=env)]
    base = f"http://{host}:{port}"
    mode = "dev mode: texts go to the local outbox" if settings.dev_mode else "Twilio mode"
    redis_where = "embedded Redis under " + str(settings.var_dir) if embedded else "REDIS_URL"
    click.echo(
        f"\nsms-screener is running ({mode}; {redis_where}).\n"
        f"  webhook:  POST {base}/sms   health: {base}/healthz\n"
        f"  try it:   .venv/bin/sms-screener chat --url {base}   (in another terminal)\n"
        f"  staff:    {base}/staff/   (create a login: .venv/bin/sms-screener staff add EMAIL"
        " --admin)\n"
        "  stop:     Ctrl-C\n"
    )

    def stop(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        code = next(proc.returncode for proc in procs if proc.poll() is not None) or 1
        click.echo("sms-screener: a process stopped; stopping the others", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    sys.exit(code)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--maintenance-interval",
    default=30,
    show_default=True,
    help="Seconds between checks for jobs that a dead worker left behind.",
)
@click.option(
    "--job-monitoring-interval",
    default=10,
    show_default=True,
    help="Seconds between heartbeats of a running job (a dead worker's job is taken up "
    "about 60 s after its last heartbeat).",
)
def worker(burst: bool, maintenance_interval: int, job_monitoring_interval: int) -> None:
    """Run an RQ worker (with its scheduler) on the service's queue."""
    from rq import Worker

    from ..jobs import schedule_sweep, sweep_pending_evaluations

    app = _app()
    with app.app_context():
        services = get_services()
        rq_worker = Worker(
            [services.queue],
            connection=services.rq_redis,
            maintenance_interval=maintenance_interval,
            job_monitoring_interval=job_monitoring_interval,
            # An idle worker blocks on the queue for worker_ttl - 15 s between maintenance
            # passes: keep that to the maintenance interval so abandoned jobs are found.
            worker_ttl=maintenance_interval + 15,
        )
        if burst:
            sweep_pending_evaluations()
        else:
            schedule_sweep(services.queue)
        rq_worker.work(with_scheduler=True, burst=burst)


def _in_process_app() -> Flask:
    # The terminal is the phone's screen here: keep the service's info logs off it.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return _app()


def _in_process_sender(phone: str, app: Flask | None) -> Sender:
    assert app is not None
    client = app.test_client()
    token = os.environ.get("TWILIO_AUTH_TOKEN")

    def send(body: str) -> list[str]:
        form = _form(phone, body)
        headers = {}
        if token:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                "http://localhost/sms", form
            )
        response = client.post("/sms", data=form, headers=headers)
        if response.status_code != 200:
            _fail(f"the service answered HTTP {response.status_code}")
        return _twiml_messages(response.get_data(as_text=True))

    return send


def _url_sender(phone: str, base_url: str) -> Sender:
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    endpoint = base_url.rstrip("/") + "/sms"
    public = os.environ.get("PUBLIC_BASE_URL")
    signed_url = public.rstrip("/") + "/sms" if public else endpoint

    def send(body: str) -> list[str]:
        form = _form(phone, body)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            validator = RequestValidator(token)
            headers["X-Twilio-Signature"] = validator.compute_signature(signed_url, form)
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's own)
            endpoint, data=urlencode(form).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return _twiml_messages(response.read().decode())
        except urllib.error.HTTPError as exc:
            _fail(f"{endpoint} answered HTTP {exc.code}")
        except urllib.error.URLError as exc:
            _fail(f"cannot reach {endpoint}: {exc.reason} (is `sms-screener run` running?)")

    return send


def _form(phone: str, body: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+15550100000",
        "Body": body,
        "NumMedia": "0",
    }


def _twiml_messages(xml: str) -> list[str]:
    root = ET.fromstring(xml)  # noqa: S314 (our own service's reply)
    return [el.text or "" for el in root.iter("Message")]


class OutboxWatcher:
    """Shows the texts the worker sends this phone (dev mode's local outbox)."""

    def __init__(self, phone: str, in_process_app: Flask | None) -> None:
        self.phone = phone
        self.seen = 0
        self.reviewing: set[str] = set()
        self._app = in_process_app
        self._redis: Redis | None = None
        settings = _settings()
        if not settings.dev_mode:
            return  # texts go to the provider: nothing local to show
        try:
            flow = load_flows(settings.flows_dir, settings.flow_context())[FLOW_ID]
            self.reviewing = {flow.message("reviewing", lang) for lang in LANGUAGES}
            if in_process_app is not None:
                with in_process_app.app_context():
                    self._redis = get_services().redis
            else:
                url = settings.redis_url
                if url is None:
                    url, self._embedded = start_embedded(settings.var_dir)
                self._redis = connect(url, decode=True)
            self.seen = len(read_outbox(self._redis, phone))
        except (FlowError, RedisError, OSError):
            self._redis = None

    def show_new(self, wait: float = 0.0) -> None:
        """Print outbox texts not shown yet, waiting up to `wait` seconds for one."""
        if self._redis is None:
            return
        deadline = time.monotonic() + wait
        while True:
            if self._app is not None:
                self._work_in_process()
            entries = read_outbox(self._redis, self.phone)
            for entry in entries[self.seen :]:
                click.secho(f"  office > {entry['body']}", fg="green")
                click.secho("           (sent by the worker; dev mode's local outbox)", dim=True)
            if len(entries) > self.seen or time.monotonic() >= deadline:
                self.seen = len(entries)
                return
            time.sleep(0.3)

    def _work_in_process(self) -> None:
        """Run queued jobs here when no worker is running (chat without `run`)."""
        from rq import SimpleWorker, Worker

        assert self._app is not None
        with self._app.app_context():
            services = get_services()
            if Worker.count(queue=services.queue) == 0 and services.queue.count:
                SimpleWorker([services.queue], connection=services.rq_redis).work(
                    burst=True, logging_level="WARNING"
                )


@main.command()
@click.option("--phone", default=None, help="The parent's number (default: a new test number).")
@click.option("--lang", type=click.Choice(["en", "es"]), default=None, help="Start in a language.")
@click.option("--url", default=None, help="A running server's base URL (default: in-process).")
def chat(phone: str | None, lang: str | None, url: str | None) -> None:
    """Be a parent's phone in this terminal: type texts, read the replies."""
    opening: str | None = None
    if phone is None:
        # 555-01XX numbers are reserved for fiction: no real family gets these texts.
        phone = f"+1555010{random.randint(0, 9999):04d}"
        opening = "HOLA" if lang == "es" else "Hi"
    elif lang is not None:
        opening = "HOLA" if lang == "es" else "ENGLISH"
    app = None if url else _in_process_app()
    send = _url_sender(phone, url) if url else _in_process_sender(phone, app)
    watcher = OutboxWatcher(phone, app)
    click.echo(f"Texting as {phone}. Type a reply and press Enter; Ctrl-D quits.\n")

    def exchange(body: str) -> None:
        replies = send(body)
        if not replies:
            click.secho("  (no reply)", dim=True)
        for text in replies:
            click.secho(f"  office > {text}", fg="cyan")
        # After the last answer the result follows from the worker: wait for it a while.
        watcher.show_new(wait=30.0 if watcher.reviewing & set(replies) else 0.0)
        click.echo()

    if opening is not None:
        click.echo(f"  you    > {opening}")
        exchange(opening)
    while True:
        try:
            body = input("  you    > ")
        except EOFError:
            click.echo()
            return
        exchange(body)


@main.command()
@click.argument("answers_file", type=click.Path(dir_okay=False, allow_dash=True))
def evaluate(answers_file: str) -> None:
    """Print the Suggestion for a JSON file of answers (screening.md keys and codes)."""
    from ..evaluator import AnswersError, parse_answers
    from ..evaluator import evaluate as evaluate_answers

    try:
        with click.open_file(answers_file, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        _fail(f"cannot read {answers_file}: {exc.strerror or exc}")
    except json.JSONDecodeError as exc:
        _fail(f"{answers_file} is not JSON: {exc}")
    if not isinstance(raw, dict):
        _fail(f"{answers_file} must hold a JSON object of answers")
    try:
        answers = parse_answers(raw)
    except AnswersError as exc:
        _fail(str(exc))
    click.echo(json.dumps(evaluate_answers(answers).to_json()))


@main.group()
def followups() -> None:
    """The staff queue of follow-ups."""


@followups.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in FollowupStatus]),
    default=None,
    help="Only follow-ups with this status.",
)
def followups_list(as_json: bool, status: str | None) -> None:
    """List follow-ups by priority, then time waiting (oldest first)."""
    app = _app()
    with app.app_context():
        records = get_services().followups.list(status)
    if as_json:
        click.echo(json.dumps([f.to_json() for f in records], indent=2, ensure_ascii=False))
        return
    if not records:
        click.echo("no follow-ups" + (f" with status {status}" if status else ""))
        return
    now = time.time()
    click.echo(f"{'priority':<8} {'outcome':<8} {'status':<9} {'waiting':>8}  {'phone':<16} flags")
    for f in records:
        waiting = _duration(now - f.created_at)
        notes = ", ".join(f.flags) + (" [do not contact]" if f.do_not_contact else "")
        if f.problems:
            notes += " [" + "; ".join(f.problems) + "]"
        click.echo(
            f"{f.priority:<8} {f.outcome:<8} {f.status:<9} {waiting:>8}  {f.phone:<16} {notes}"
        )


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


@main.command()
@click.option("--phone", default=None, help="Only texts to this number.")
def outbox(phone: str | None) -> None:
    """Show the texts the local outbox holds (dev mode: what would have gone out)."""
    app = _app()
    with app.app_context():
        services = get_services()
        if not services.settings.dev_mode:
            click.echo("Twilio credentials are set: texts go to the provider, not the outbox.")
            return
        entries = read_outbox(services.redis, phone)
    if not entries:
        click.echo("the outbox is empty")
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(entry["at"])))
        click.echo(f"{when}  to {entry['to']}\n  {entry['body']}\n")


@main.group()
def staff() -> None:
    """Staff logins for the follow-up pages."""


@staff.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May add and disable staff.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(email: str, admin: bool, password_stdin: bool) -> None:
    """Create a staff login (the password is prompted, or read with --password-stdin)."""
    from ..accounts import AccountError, Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app()
    with app.app_context():
        try:
            account = get_services().staff.add(email, password, Role.ADMIN if admin else Role.STAFF)
        except AccountError as exc:
            _fail(str(exc))
    click.echo(f"added {account.email} ({account.role.value}); log in at /staff/login")


@staff.command("list")
def staff_list() -> None:
    """List staff logins."""
    app = _app()
    with app.app_context():
        accounts = get_services().staff.all()
    for a in accounts:
        click.echo(f"{a.email:<40} {a.role.value:<6} {'disabled' if a.disabled else 'active'}")
    if not accounts:
        click.echo("no staff accounts yet: sms-screener staff add EMAIL --admin")


@staff.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Disable a staff login (its sessions end at their next request)."""
    from ..accounts import AccountError

    app = _app()
    with app.app_context():
        try:
            get_services().staff.set_disabled(email, True)
        except AccountError as exc:
            _fail(str(exc))
    click.echo(f"disabled {email}")


@main.group()
def flows() -> None:
    """Check the screening flows."""


@flows.command("check")
@click.option("--quiet", is_flag=True, help="Print only the texts over budget.")
def flows_check(quiet: bool) -> None:
    """Validate every flow and count each text's SMS segments against its budget."""
    from ..flowcheck import check_flow

    settings = _settings()
    try:
        loaded = load_flows(settings.flows_dir, settings.flow_context())
    except FlowError as exc:
        click.echo(f"FAIL {exc}", err=True)
        sys.exit(1)
    over = 0
    for flow_id, flow in loaded.items():
        click.echo(f"flow {flow_id} (version {flow.version}): {len(flow.questions)} questions")
        click.echo(f"  {'text':<34} {'lang':<4} {'encoding':<8} {'chars':>5} {'segs':>4}")
        for item in check_flow(flow):
            if not item.ok:
                over += 1
            if quiet and item.ok:
                continue
            mark = "" if item.ok else f"  OVER BUDGET ({item.budget})"
            click.echo(
                f"  {item.name:<34} {item.language:<4} {item.count.encoding:<8} "
                f"{item.count.units:>5} {item.count.segments:>4}{mark}"
            )
    if over:
        click.echo(f"FAIL {over} text(s) over their segment budget", err=True)
        sys.exit(1)
    click.echo("OK every text is within its segment budget")


@flows.command("graph")
@click.option("--flow", "flow_id", default=FLOW_ID, show_default=True, help="Which flow.")
def flows_graph(flow_id: str) -> None:
    """Print a flow as a Mermaid diagram (paste it into any Mermaid viewer)."""
    from ..flowgraph import mermaid

    settings = _settings()
    try:
        loaded = load_flows(settings.flows_dir, settings.flow_context())
    except FlowError as exc:
        _fail(str(exc))
    if flow_id not in loaded:
        _fail(f"no flow {flow_id!r}; flows: {', '.join(sorted(loaded))}")
    click.echo(mermaid(loaded[flow_id]))


@main.command()
@click.option("--phone", required=True, help="The family's number, as it texted us.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(phone: str, yes: bool) -> None:
    """Delete one family's data: conversation, screenings, follow-ups, texts (not the opt-out)."""
    if not yes:
        click.confirm(f"Delete every record of {mask_phone(phone)}?", abort=True)
    app = _app()
    with app.app_context():
        services = get_services()
        deleted = services.store.purge(phone) + services.followups.purge_phone(phone)
    click.echo(f"deleted {deleted} record(s) of {mask_phone(phone)}")
