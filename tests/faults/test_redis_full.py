"""A Redis full under noeviction: texts get 503, and so does /healthz (health is a write)."""

from __future__ import annotations

from pathlib import Path

import redis as redis_lib
from conftest import free_port, gunicorn_server, inbound_form, make_config

from .conftest import Figure, RedisProcess
from .test_hung_redis import call

FILLER = "filler:"


def fill(client: redis_lib.Redis) -> int:
    """Write filler keys until Redis refuses even a small write; return how many it took."""
    filled = 0
    # Big values first, then smaller: a refused big SET's own buffer counted towards the limit.
    for size in (64 * 1024, 1024, 16):
        while filled < 100_000:
            try:
                client.set(f"{FILLER}{filled}", "x" * size)
            except redis_lib.OutOfMemoryError:
                break
            filled += 1
        else:
            raise AssertionError("Redis never filled up")
    return filled


def test_a_full_redis_makes_healthz_503_like_the_texts_and_freeing_it_heals_both(
    tmp_path: Path, figure: Figure
) -> None:
    server = RedisProcess(
        tmp_path, free_port(), "--maxmemory", "4mb", "--maxmemory-policy", "noeviction"
    )
    server.start()
    client = server.client()
    try:
        with gunicorn_server(make_config(server.url, tmp_path), tmp_path, free_port()) as base:
            assert call(base, "/sms", inbound_form("+15550107777", "hello"))[0] == 200

            filled = fill(client)
            assert client.ping()  # Redis still answers: only writes are refused

            texted = call(base, "/sms", inbound_form("+15550107776", "hello"))[0]
            health = call(base, "/healthz")
            assert (texted, health[0]) == (503, 503)
            assert '"redis":false' in health[2].replace(" ", "")
            figure(
                f"full after {filled} filler keys (maxmemory 4mb, noeviction): /sms, /healthz",
                f"{texted}, {health[0]}",
            )

            client.delete(*(f"{FILLER}{n}" for n in range(filled)))  # DEL works when full
            assert call(base, "/healthz")[0] == 200
            assert call(base, "/sms", inbound_form("+15550107776", "hello"))[0] == 200
    finally:
        client.close()
        server.kill()
