"""Benchmark one inbound text: Redis round trips and latency through the webhook.

Usage: .venv/bin/python bench/inbound.py [--redis-url redis://127.0.0.1:6379/14] [-n 2000]

Counts every command the service's Redis clients send (client-side, so a pipeline or a
script call is one round trip), and times POST /sms in-process with Flask's test client.
Uses its own database, flushed before and after.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import redis
from redis.connection import AbstractConnection

from sms_service import create_app

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ["9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]

_counts: Counter[str] = Counter()
_label: list[str] = []
_original_send = AbstractConnection.send_command
_original_packed = AbstractConnection.send_packed_command


def _labelling_send(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
    _label.append(str(args[0]))
    try:
        _original_send(self, *args, **kwargs)
    finally:
        _label.pop()


def _counting_packed(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
    # One packed send is one round trip: a single command, or a whole pipeline.
    _counts[_label[-1] if _label else "pipeline (MULTI..EXEC)"] += 1
    _original_packed(self, *args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("-n", type=int, default=2000, help="texts to time")
    args = parser.parse_args()

    redis.Redis.from_url(args.redis_url).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "REDIS_URL": args.redis_url,
                "FLOWS_DIR": str(ROOT / "flows"),
                "VAR_DIR": tmp,
                "LOG_LEVEL": "WARNING",
            }
        )
        client = app.test_client()

        def text(phone: str, body: str) -> None:
            form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "Body": body}
            response = client.post("/sms", data=form)
            assert response.status_code == 200

        # Warm up: load scripts, open connections (one screening to the end).
        for body in ["Hi", "1", *ANSWERS]:
            text("+15550107777", body)
        for body in ["Hi", "1", "9"]:
            text("+15550109999", body)

        AbstractConnection.send_command = _labelling_send  # type: ignore[method-assign]
        AbstractConnection.send_packed_command = _counting_packed  # type: ignore[method-assign]
        _counts.clear()
        text("+15550109999", "A")  # one ordinary answer (school)
        ordinary = dict(_counts)
        _counts.clear()
        text("+15550109999", "banana")  # one re-ask
        reask = dict(_counts)
        _counts.clear()
        phone = "+15550108888"
        for body in ["Hi", "1", *ANSWERS[:-1]]:
            text(phone, body)
        _counts.clear()
        text(phone, ANSWERS[-1])  # the last answer: completion and hand-off
        completion = dict(_counts)
        AbstractConnection.send_command = _original_send  # type: ignore[method-assign]
        AbstractConnection.send_packed_command = _original_packed  # type: ignore[method-assign]

        latencies = []
        for i in range(args.n):
            phone = f"+1555{i // 13:07d}"
            body = (["Hi", "1", *ANSWERS])[i % 13]
            started = time.perf_counter()
            text(phone, body)
            latencies.append((time.perf_counter() - started) * 1000)
    redis.Redis.from_url(args.redis_url).flushdb()

    def show(name: str, counts: dict[str, int]) -> None:
        detail = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))
        print(f"{name:<22} {sum(counts.values()):>3} round trips  ({detail})")

    print(f"Redis: {args.redis_url}")
    show("ordinary answer", ordinary)
    show("re-ask (typo)", reask)
    show("last answer + enqueue", completion)
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"POST /sms in-process, {args.n} texts: p50 {quantiles[49]:.2f} ms, "
        f"p99 {quantiles[98]:.2f} ms, max {max(latencies):.2f} ms"
    )


if __name__ == "__main__":
    main()
