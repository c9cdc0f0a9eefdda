"""Every route answers 4xx or 503, never 500, whatever state Redis is in.

gunicorn with two workers in production mode (signed webhooks, secure cookies), a staff admin
logged in, then every route probed with Redis up, killed, and out of memory (maxmemory with
noeviction: reads work, writes fail). The log must not hold a staff session's token: redis-py
writes a failed pipeline command with its arguments.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis as redis_lib
import requests
from conftest import (
    ADMIN_EMAIL,
    STAFF_PASSWORD,
    TEST_ACCOUNT_SID,
    add_staff,
    build_app,
    csrf_token,
    free_port,
    gunicorn_server,
    seed_followup,
    sign,
    signed_config,
)

from .conftest import Figure, RedisProcess

TIMEOUT = 30


@dataclass
class Browser:
    """A staff member's browser over plain HTTP: it sends the Secure cookies itself."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: object
    ) -> requests.Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method,
            self.base + path,
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT,
            **kwargs,  # type: ignore[arg-type]
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def token(self) -> str:
        return csrf_token(self.request("GET", "/staff/login").text)

    def log_in(self, next_: str = "") -> requests.Response:
        data = {"email": ADMIN_EMAIL, "password": STAFF_PASSWORD, "csrf_token": self.token()}
        return self.request("POST", "/staff/login", params={"next": next_}, data=data)


@dataclass
class Site:
    base: str
    log: Path
    browser: Browser
    csrf: str
    followup_id: str


def inbound() -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TEST_ACCOUNT_SID,
        "From": "+15550100777",
        "To": "+15550100000",
        "Body": "hi",
        "NumMedia": "0",
    }


def status_callback() -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TEST_ACCOUNT_SID,
        "MessageStatus": "delivered",
        "To": "+15550100777",
    }


def probe(site: Site) -> list[tuple[str, str, int, requests.Response]]:
    """Call every route once; return (method, path, status, response) for each."""
    fid, csrf = site.followup_id, site.csrf
    results = []

    def call(method: str, path: str, who: Browser | None = None, **kwargs: object) -> None:
        response = (who or site.browser).request(method, path, **kwargs)
        results.append((method, path, response.status_code, response))

    def webhook(path: str, form: dict[str, str]) -> None:
        signature = sign(site.base + path, form)
        call("POST", path, Browser(site.base), data=form, headers={"X-Twilio-Signature": signature})

    call("GET", "/healthz", Browser(site.base))
    webhook("/sms", inbound())
    webhook("/sms/status", status_callback())
    stranger = Browser(site.base)
    call("GET", "/staff/login", stranger)
    data = {"email": ADMIN_EMAIL, "password": STAFF_PASSWORD, "csrf_token": stranger.token()}
    call("POST", "/staff/login", stranger, data=data)
    again = Browser(site.base)  # a login clears the session and its CSRF token: a new one
    data = {**data, "csrf_token": again.token()}
    call("POST", "/staff/login?next=/staff%0d%0aX:y", again, data=data)
    for path in ("/staff/", "/staff/rows", "/staff/export.csv", f"/staff/f/{fid}", "/staff/admin"):
        call("GET", path)
    call("GET", f"/staff/f/{fid}:audit")
    call("GET", f"/staff/f/{fid}:notes")
    call("GET", "/staff/f/%00")
    call("GET", "/staff/f/" + "a" * 5000)
    for action, form in (
        ("assign", {"assignee": "me"}),
        ("status", {"status": "contacted"}),
        ("notes", {"note": "called, no answer"}),
        ("text", {"body": "Please call the office."}),
    ):
        call("POST", f"/staff/f/{fid}/{action}", data={**form, "csrf_token": csrf})
    call(
        "POST",
        "/staff/admin/add",
        data={"email": f"{uuid.uuid4().hex[:8]}@office.test", "password": STAFF_PASSWORD,
              "role": "staff", "csrf_token": csrf},
    )  # fmt: skip
    call("POST", "/staff/admin/paralegal@office.test/disable", data={"csrf_token": csrf})
    call("GET", "/staff/static/staff.css")
    call("GET", "/no-such-page")
    return results


@contextlib.contextmanager
def running_site(server: RedisProcess, tmp_path: Path) -> Iterator[Site]:
    """Run the service under gunicorn on this redis-server, an admin logged in."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = signed_config(server.url, tmp_path, PUBLIC_BASE_URL=base, LOG_LEVEL="INFO")
    app = build_app(config)
    add_staff(app, ADMIN_EMAIL, admin=True)
    followup_id = seed_followup(app)
    with gunicorn_server(config, tmp_path, port, "--workers", "2") as base:
        browser = Browser(base)
        assert browser.log_in().status_code == 302
        page = browser.request("GET", f"/staff/f/{followup_id}")
        assert page.status_code == 200
        log = tmp_path / f"gunicorn-{port}.log"
        yield Site(base, log, browser, csrf_token(page.text), followup_id)


def session_tokens(client: redis_lib.Redis) -> list[str]:
    return [key.split(":", 2)[2] for key in client.scan_iter("smss:staff-session:*")]


def assert_no_500(results: list[tuple[str, str, int, requests.Response]]) -> None:
    bad = [(m, p, s) for m, p, s, _ in results if s >= 500 and s != 503]
    assert bad == [], bad


def test_redis_killed_every_route_answers_503_or_4xx(
    own_redis: RedisProcess, tmp_path: Path, figure: Figure
) -> None:
    with running_site(own_redis, tmp_path) as site:
        up = probe(site)
        assert_no_500(up)
        by_route = {(m, p): s for m, p, s, _ in up}
        assert by_route[("POST", "/staff/login?next=/staff%0d%0aX:y")] == 302
        assert by_route[("GET", f"/staff/f/{site.followup_id}:audit")] == 404
        own_redis.kill()
        down = probe(site)
        assert_no_500(down)
        by_route = {(m, p): (s, r) for m, p, s, r in down}
        for route in (("POST", "/sms/status"), ("POST", "/staff/login"), ("GET", "/staff/")):
            status, response = by_route[route]
            assert status == 503, route
            assert response.headers.get("Retry-After"), route
        assert "unavailable" in by_route[("GET", "/staff/")][1].text
        figure("routes probed (up, then killed)", f"{len(up)} + {len(down)}")
        figure("500s seen", str(sum(s == 500 for _, _, s, _ in up + down)))
        figure("503s with Redis killed", str(sum(s == 503 for _, _, s, _ in down)))


def fill(client: redis_lib.Redis) -> None:
    """Put the server over its maxmemory for good: every write is refused (noeviction)."""
    for n in range(200):
        client.set(f"junk:{n}", "x" * 10_000)
    # Well under what it holds now: no freed buffer lets a small write slip in.
    client.config_set("maxmemory", "1mb")
    with pytest.raises(redis_lib.exceptions.OutOfMemoryError):
        client.set("one-more", "x")


def test_redis_out_of_memory_every_route_answers_503_or_4xx(tmp_path: Path, figure: Figure) -> None:
    server = RedisProcess(
        tmp_path, free_port(), "--maxmemory", "64mb", "--maxmemory-policy", "noeviction"
    )
    server.start()
    try:
        with running_site(server, tmp_path) as site:
            client = server.client()
            tokens = session_tokens(client)
            assert tokens, "the logged-in session's token"
            fill(client)
            full = probe(site)
            assert_no_500(full)
            by_route = {(m, p): (s, r) for m, p, s, r in full}
            for route in (("POST", "/sms"), ("POST", "/sms/status"), ("POST", "/staff/login")):
                status, response = by_route[route]
                assert status == 503, (route, status)
                assert response.headers.get("Retry-After"), route
            log = site.log.read_text()
            assert "OutOfMemoryError" in log, "the failures are logged"
            leaked = [token for token in tokens + session_tokens(client) if token in log]
            assert leaked == [], "a session token in the log"
            assert not re.search(r"Command # \d+ \((?!arguments hidden)", log), log
            figure("routes probed out of memory", str(len(full)))
            figure("500s seen", str(sum(s == 500 for _, _, s, _ in full)))
            figure("session tokens in the log", str(len(leaked)))
    finally:
        server.kill()


def chunked(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    """Yield a urlencoded body of about size bytes in pieces (requests sends it chunked)."""
    yield b"MessageSid=SM1&From=%2B15550100778&Body="
    for _ in range(size // piece):
        yield b"x" * piece


def test_a_10_mb_chunked_body_is_413_and_bad_utf8_is_read(
    own_redis: RedisProcess, tmp_path: Path, figure: Figure
) -> None:
    """Under gunicorn, which reads chunked bodies: 413 before the signature (403 before)."""
    with running_site(own_redis, tmp_path) as site:
        response = requests.post(
            site.base + "/sms",
            data=chunked(10 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Twilio-Signature": "whatever"},
            timeout=TIMEOUT,
        )  # fmt: skip
        assert response.status_code == 413
        form = {**inbound(), "Body": "caf\ufffd"}
        raw = urlencode(form).encode().replace(b"caf%EF%BF%BD", b"caf\xe9")
        signed = {"X-Twilio-Signature": sign(site.base + "/sms", form),
                  "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        answered = requests.post(site.base + "/sms", data=raw, headers=signed, timeout=TIMEOUT)
        assert answered.status_code == 200, answered.text
        assert "<Message>" in answered.text
        figure("10 MB chunked body", str(response.status_code))
        figure("a form with a raw 0xE9 byte", str(answered.status_code))
