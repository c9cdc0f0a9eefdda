"""A hung Redis (SIGSTOP) under the Procfile's web: every webhook and /healthz answers 503 fast."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import free_port, gunicorn_server, inbound_form, make_config

from sms_service.breaker import OPEN_SECONDS

from .conftest import Figure, RedisProcess

#: The issue's bound: Twilio gives up at 15 s, and its fallback URL needs time of its own.
BOUND_SECONDS = 2.0
#: Texts at once, more than the two sync workers can take: the rest queue behind them.
CONCURRENT_TEXTS = 5


def call(base: str, path: str, form: dict[str, str] | None = None) -> tuple[int, float, str]:
    """Return the status, seconds taken and body of one request (GET without a form)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{base}{path}", data=data, timeout=30) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, time.monotonic() - started, body


def burst(base: str) -> list[tuple[str, int, float]]:
    """Fire the texts, a status callback and a health check at once; return each answer."""
    status_form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    # Two from one phone: the second would wait for the first's lock if Redis answered.
    phones = [f"+1555020{max(n - 1, 0):04d}" for n in range(CONCURRENT_TEXTS)]
    requests = [("/sms", inbound_form(phone, "hello")) for phone in phones]
    requests += [("/sms/status", status_form), ("/healthz", None)]
    with ThreadPoolExecutor(len(requests)) as pool:
        futures = [(path, pool.submit(call, base, path, form)) for path, form in requests]
        return [(path, *future.result()[:2]) for path, future in futures]


def test_a_hung_redis_gets_503_within_2_s_and_the_service_recovers_without_a_restart(
    own_redis: RedisProcess, tmp_path: Path, figure: Figure
) -> None:
    config = make_config(own_redis.url, tmp_path)
    with gunicorn_server(config, tmp_path, free_port(), "--workers", "2") as base:
        status, _, body = call(base, "/sms", inbound_form("+15550109999", "hello"))
        assert status == 200 and "<Message>" in body

        own_redis.pause()
        try:
            first = burst(base)
            # Again once the fast-fail window has closed: each worker tries Redis afresh.
            time.sleep(OPEN_SECONDS + 0.5)
            second = burst(base)
        finally:
            own_redis.resume()

        answers = first + second
        assert [(path, status) for path, status, _ in answers if status != 503] == []
        slowest = max(seconds for _, _, seconds in answers)
        figure(
            f"slowest of {len(answers)} answers while Redis hung (2 workers)", f"{slowest:.2f} s"
        )
        assert slowest <= BOUND_SECONDS

        # Redis is back: within a generous deadline a new text gets its reply, no restart.
        started = time.monotonic()
        deadline = started + 20
        while True:
            status, _, body = call(base, "/sms", inbound_form("+15550108888", "hello"))
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200 and "<Message>" in body
        assert call(base, "/healthz")[0] == 200
        figure(
            "a text got its reply again after Redis resumed in",
            f"{time.monotonic() - started:.2f} s",
        )
