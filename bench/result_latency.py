"""Benchmark: time from a parent's last answer to the provider accepting the result text,
under a burst of completions, with real worker processes and a local Twilio API.

Usage: .venv/bin/python bench/result_latency.py [--completions 100] [--mps 1] [--workers 2]
       [--redis-url redis://127.0.0.1:6379/13]

The provider's acceptance time is when the local Twilio API server received the create
request. Uses its own Redis database, flushed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from twilio_api import FakeTwilio  # noqa: E402

from sms_service import create_app  # noqa: E402

SID = "AC" + "b" * 32
TOKEN = "bench-token-0123456789abcdef0123"
ANSWERS = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "N", "Y"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--completions", type=int, default=100)
    parser.add_argument("--mps", type=float, default=1.0, help="OUTBOUND_MPS")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    redis.Redis.from_url(args.redis_url).flushdb()
    fake = FakeTwilio(SID, TOKEN).start()
    tmp = tempfile.mkdtemp()
    config = {
        "REDIS_URL": args.redis_url,
        "FLOWS_DIR": str(ROOT / "flows"),
        "VAR_DIR": tmp,
        "LOG_LEVEL": "WARNING",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": "+15550100999",
        "TWILIO_API_BASE_URL": fake.url,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PUBLIC_BASE_URL": "http://localhost",
        "CONSULTATION_URL": "https://example.org/book",
        "OFFICE_PHONE": "555-0100",
        "OUTBOUND_MPS": str(args.mps),
    }
    app = create_app(config)
    client = app.test_client()
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)

    def text(phone: str, body: str) -> None:
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "Body": body}
        signature = validator.compute_signature("http://localhost/sms", form)
        response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.status_code

    phones = [f"+1555020{i:04d}" for i in range(args.completions)]
    for phone in phones:  # everyone answers all but the last question
        for body in ANSWERS[:-1]:
            text(phone, body)

    env = {**os.environ, **config}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sms_service.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    time.sleep(2)  # workers up
    last_answer: dict[str, float] = {}
    for phone in phones:  # the burst: every last answer at once
        last_answer[phone] = time.time()
        text(phone, ANSWERS[-1])
    burst = time.time() - min(last_answer.values())

    deadline = time.time() + args.completions / args.mps + 120
    while len(fake.messages) < args.completions and time.time() < deadline:
        time.sleep(0.2)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)
    fake.stop()
    redis.Redis.from_url(args.redis_url).flushdb()

    latencies = sorted(m.received_at - last_answer[m.to] for m in fake.messages)
    sent_to = [m.to for m in fake.messages]
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    print(
        f"{args.completions} completions in a {burst:.2f} s burst, {args.workers} workers, "
        f"OUTBOUND_MPS={args.mps:g}"
    )
    print(
        f"result texts accepted: {len(latencies)} (duplicates: {len(sent_to) - len(set(sent_to))})"
    )
    print(
        f"last answer -> provider accepted: p50 {q[49]:.2f} s, p99 {q[98]:.2f} s, "
        f"min {latencies[0]:.2f} s, max {latencies[-1]:.2f} s"
    )
    ideal = (args.completions - 1) / args.mps
    print(f"(at {args.mps:g}/s the last of {args.completions} cannot go before {ideal:.1f} s)")


if __name__ == "__main__":
    main()
