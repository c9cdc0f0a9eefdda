"""The startup check of Redis persistence, against the embedded Redis the dev run uses."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis as redis_lib

from sms_service.durability import check_durability
from sms_service.redis_conn import start_embedded


def test_the_embedded_redis_persists_by_rdb_and_never_evicts_so_the_dev_run_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, server = start_embedded(tmp_path / "var")
    client = redis_lib.Redis.from_url(url, decode_responses=True)
    try:
        assert client.config_get("save")["save"]  # RDB snapshots: what it says is true
        logger = logging.getLogger("sms_service.durability")
        logger.addHandler(caplog.handler)
        caplog.set_level(logging.DEBUG, logger="sms_service.durability")
        try:
            check_durability(client)
        finally:
            logger.removeHandler(caplog.handler)
    finally:
        client.close()
        server.shutdown()  # type: ignore[attr-defined]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("maxmemory-policy noeviction" in r.getMessage() for r in caplog.records)
