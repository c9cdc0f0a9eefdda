"""redis-server killed (-9) under load, with AOF (everysec): nothing acknowledged is lost.

gunicorn (2 workers, as the Procfile) serves texts from several phones at once; Redis is killed
mid-way and restarted from its append-only file. Every text the webhook answered 200 must be
found applied afterwards (its MessageSid claimed with the reply it got); texts that got 503 were
not acknowledged, so the provider retries them; the service answers again without a restart.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from conftest import free_port, gunicorn_server, make_config

from sms_service import keys

from .conftest import Figure, RedisProcess

PHONES = [f"+1555010{n:04d}" for n in range(4000, 4006)]
TEXTS_PER_PHONE = 12


def post_text(base: str, phone: str, sid: str, body: str) -> int:
    """POST one inbound text as the provider does (dev mode: unsigned); return the status."""
    form = {"MessageSid": sid, "From": phone, "To": "+15550100000", "Body": body, "NumMedia": "0"}
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(f"{base}/sms", data=data, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0  # no answer at all: not acknowledged either


def test_nothing_acknowledged_is_lost_when_redis_is_killed(tmp_path: Path, figure: Figure) -> None:
    server = RedisProcess(tmp_path, free_port(), "--appendonly", "yes", "--appendfsync", "everysec")
    server.start()
    acknowledged: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    try:
        config = make_config(server.url, tmp_path)
        with gunicorn_server(config, tmp_path, free_port(), "--workers", "2") as base:
            half = threading.Event()

            def parent(phone: str) -> None:
                for i in range(TEXTS_PER_PHONE):
                    sid = "SM" + uuid.uuid4().hex
                    status = post_text(base, phone, sid, "Hi" if i == 0 else "9")
                    with lock:
                        (acknowledged if status == 200 else refused).append(sid)
                        if len(acknowledged) + len(refused) >= len(PHONES) * TEXTS_PER_PHONE // 2:
                            half.set()

            threads = [threading.Thread(target=parent, args=(p,)) for p in PHONES]
            for thread in threads:
                thread.start()
            assert half.wait(60), "the load never got half way"
            server.kill()
            time.sleep(0.5)  # texts in flight meet the dead server: 503
            server.start()  # from its append-only file
            for thread in threads:
                thread.join(60)
            # The service answers again without a restart (as the provider would, retrying a
            # few times: the fast-fail window may still be closing).
            deadline = time.monotonic() + 20
            while post_text(base, "+15550104999", "SM" + uuid.uuid4().hex, "HELP") != 200:
                assert time.monotonic() < deadline, "the service did not come back"
                time.sleep(0.5)
        with server.client() as client:
            lost = [sid for sid in acknowledged if not client.exists(keys.inbound(sid))]
    finally:
        server.kill()
    figure("texts acknowledged before, during and after the kill", str(len(acknowledged)))
    figure("texts refused with 503 (the provider retries them)", str(len(refused)))
    figure("acknowledged texts lost", str(len(lost)))
    assert acknowledged, "some texts were answered"
    assert lost == []
