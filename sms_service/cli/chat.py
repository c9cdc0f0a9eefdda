"""The `chat` command: be a parent's phone in this terminal, in-process or against a URL."""

from __future__ import annotations

import os
import random
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlencode

import click
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from twilio.request_validator import RequestValidator

from .. import FLOW_ID
from ..engine import FlowError, load_flows
from ..engine.model import LANGUAGES
from ..outbound import read_outbox
from ..redis_conn import connect, start_embedded
from ..services import get_services
from .startup import build_app, fail, read_settings

Sender = Callable[[str], list[str]]


def _in_process_app() -> Flask:
    # The terminal is the phone's screen here: keep the service's info logs off it.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return build_app()


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
            fail(f"the service answered HTTP {response.status_code}")
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
            fail(f"{endpoint} answered HTTP {exc.code}")
        except urllib.error.URLError as exc:
            fail(f"cannot reach {endpoint}: {exc.reason} (is `sms-screener run` running?)")

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
        settings = read_settings()
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


@click.command()
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
