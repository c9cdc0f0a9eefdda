"""Texts from one phone arriving at once on different web workers: none lost, none doubled."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import free_port, gunicorn_server, inbound_form, make_config, twiml_messages

from sms_service import keys
from sms_service.engine.model import State

pytestmark = pytest.mark.slow

WORKERS = 4
CONCURRENT_TEXTS = 20


def _post(base: str, form: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{base}/sms", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def server(redis: redis_lib.Redis, redis_url: str, tmp_path: Path) -> Iterator[str]:
    """Run the app under gunicorn with several worker processes; yield its base URL."""
    config = make_config(redis_url, tmp_path)
    args = ("--workers", str(WORKERS), "--threads", "5")
    with gunicorn_server(config, tmp_path, free_port(), *args) as base:
        yield base


def test_twenty_texts_at_once_from_one_phone_are_each_applied_once(
    server: str, redis: redis_lib.Redis
) -> None:
    number = "+15550100777"
    assert _post(server, inbound_form(number, "Hi"))[0] == 200
    assert _post(server, inbound_form(number, "1"))[0] == 200  # English; now at the age question

    # Twenty different texts, all at once: hints, re-asks and answers interleave.
    bodies = ["?", "banana", "9", "HELP"] * (CONCURRENT_TEXTS // 4)
    forms = [inbound_form(number, body) for body in bodies]
    with ThreadPoolExecutor(max_workers=CONCURRENT_TEXTS) as pool:
        results = list(pool.map(lambda f: _post(server, f), forms))

    assert [status for status, _ in results] == [200] * CONCURRENT_TEXTS
    assert all(twiml_messages(body) for _, body in results), "every text got a reply"
    raw = redis.get(keys.conversation(number))
    assert raw is not None
    state = State.from_json(json.loads(raw))
    # Every text applied exactly once: 2 before the burst, 20 in it.
    assert state.inbound_count == 2 + CONCURRENT_TEXTS
    # Five "9"s: the first answered age, later ones answered (or re-asked) what came next,
    # one at a time, so the answers form a prefix of the flow without gaps.
    assert state.answers.get("age") == 9
    # A retried delivery of any of them, even now, changes nothing and repeats its reply.
    status, again = _post(server, forms[7])
    assert status == 200
    assert again == results[7][1]
    raw_after = redis.get(keys.conversation(number))
    assert raw_after is not None
    assert State.from_json(json.loads(raw_after)).inbound_count == 22
