"""Status callbacks as a bad day sends them: duplicated, out of order, all at once.

gunicorn (2 workers) takes every callback for a batch of texts shuffled, each sent three
times from several threads, some before the text's provider sid is recorded. Each text must
end at its furthest status (never moved back), each callback applied once.
"""

from __future__ import annotations

import random
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import redis as redis_lib
from conftest import build_app, free_port, gunicorn_server, make_config, services_of

from sms_service.outbound.delivery import apply_parked

from .conftest import Figure

TEXTS = 20
#: The order Twilio means; the storm sends them in any order, each three times.
LIFE = ["queued", "sending", "sent", "delivered"]


def post_status(base: str, sid: str, status: str) -> int:
    data = urllib.parse.urlencode({"MessageSid": sid, "MessageStatus": status}).encode()
    try:
        with urllib.request.urlopen(f"{base}/sms/status", data=data, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_duplicated_out_of_order_callbacks_end_at_the_furthest_status(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, figure: Figure
) -> None:
    config = make_config(redis_url, tmp_path)
    app = build_app(config)
    services = services_of(app)
    sids = {}
    for i in range(TEXTS):
        message_id = f"storm-{i}"
        services.outbound.create(message_id, f"+1555010{5000 + i}", "Hello", "staff", "f", 0.0)
        sids[message_id] = "SM" + uuid.uuid4().hex
    early = list(sids)[: TEXTS // 2]
    for message_id in early:  # half have their provider sid before the storm, half after
        services.outbound.record_sent(message_id, sids[message_id], "queued", 0.0)
    callbacks = [(sid, status) for sid in sids.values() for status in LIFE for _ in range(3)]
    random.Random(7).shuffle(callbacks)
    answers: list[int] = []
    lock = threading.Lock()
    with gunicorn_server(config, tmp_path, free_port(), "--workers", "2") as base:

        def storm(part: list[tuple[str, str]]) -> None:
            for sid, status in part:
                code = post_status(base, sid, status)
                with lock:
                    answers.append(code)

        threads = [threading.Thread(target=storm, args=(callbacks[i::6],)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    for message_id, sid in sids.items():
        if message_id not in early:  # the send records its sid late, and takes what was parked
            services.outbound.record_sent(message_id, sid, "queued", 1.0)
            apply_parked(services, sid, 1.0)
    records = {m: services.outbound.get(m) for m in sids}
    final = {m: record.status if record else "gone" for m, record in records.items()}
    figure("callbacks posted (duplicated, shuffled, 6 threads)", str(len(callbacks)))
    figure("texts ending delivered", f"{sum(s == 'delivered' for s in final.values())}/{TEXTS}")
    assert set(answers) <= {200, 204}, sorted(set(answers))
    assert all(status == "delivered" for status in final.values()), final
