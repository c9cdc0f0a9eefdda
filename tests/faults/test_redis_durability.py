"""The startup warning: a Redis that keeps nothing on disk or evicts keys is named, once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import build_app, free_port, make_config

from .conftest import Figure, RedisProcess

NO_PERSISTENCE = "Redis keeps nothing on disk"
EVICTS = "an evicted key is a lost opt-out"

Start = Callable[..., RedisProcess]


@pytest.fixture
def server_with(tmp_path: Path) -> Iterator[Start]:
    """Start a redis-server with the given arguments (killed at the end)."""
    started: list[RedisProcess] = []

    def start(*extra: str) -> RedisProcess:
        server = RedisProcess(tmp_path, free_port(), *extra)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def startup_log(
    server: RedisProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str], apps: int = 1
) -> str:
    """Build apps against the server (as gunicorn's workers would) and return what they logged."""
    for _ in range(apps):
        build_app(make_config(server.url, tmp_path, LOG_LEVEL="DEBUG"))
    return capsys.readouterr().err


def test_no_aof_and_no_rdb_is_warned_of_once_per_process(
    own_redis: RedisProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str], figure: Figure
) -> None:
    log = startup_log(own_redis, tmp_path, capsys, apps=2)  # own_redis runs with save ""
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len([line for line in warnings if NO_PERSISTENCE in line]) == 1
    assert not any(EVICTS in line for line in warnings)
    figure("warnings for a Redis without AOF or RDB, two apps built", str(len(warnings)))


def test_aof_with_noeviction_starts_quietly(
    server_with: Start, tmp_path: Path, capsys: pytest.CaptureFixture[str], figure: Figure
) -> None:
    server = server_with("--appendonly", "yes", "--maxmemory-policy", "noeviction")
    log = startup_log(server, tmp_path, capsys)
    assert " WARNING " not in log
    assert "appendonly yes" in log
    figure("warnings for AOF with noeviction", "0")


def test_an_evicting_policy_is_warned_of_even_with_aof(
    server_with: Start, tmp_path: Path, capsys: pytest.CaptureFixture[str], figure: Figure
) -> None:
    server = server_with("--appendonly", "yes", "--maxmemory-policy", "allkeys-lru")
    log = startup_log(server, tmp_path, capsys)
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and EVICTS in warnings[0] and "allkeys-lru" in warnings[0]
    figure("warnings for AOF with allkeys-lru", str(len(warnings)))


def test_a_redis_with_config_disabled_skips_the_check_and_says_so(
    server_with: Start, tmp_path: Path, capsys: pytest.CaptureFixture[str], figure: Figure
) -> None:
    server = server_with("--rename-command", "CONFIG", "")
    log = startup_log(server, tmp_path, capsys)
    assert " WARNING " not in log
    assert "persistence and eviction not checked" in log
    figure("a Redis without CONFIG", "check skipped, INFO line")
