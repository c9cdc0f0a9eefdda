"""Benchmark the answer reader on the longest, most hostile texts a parent's phone can send.

Usage: .venv/bin/python bench/answers.py [-n 20]

A text is at most 1,600 characters (10 concatenated segments). Prints, per text, the slowest
of n readings against every question; the reader should stay far under a millisecond per
ordinary text and well under 100 ms for these (no pattern may backtrack badly).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_answers import LONG_TEXTS  # noqa: E402

from sms_service.engine import load_flows  # noqa: E402
from sms_service.engine.answers import read_answer  # noqa: E402

CONTEXT = {
    "office_name": "Bench Office",
    "office_phone": "555-0100",
    "consultation_url": "https://example.org/book",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="readings of each text")
    args = parser.parse_args()
    flow = load_flows(ROOT / "flows", CONTEXT)["screening"]
    questions = (*flow.questions, flow.language_question)
    print(f"{'text':<24} {'chars':>6} {'slowest ms (all questions)':>28}")
    worst = 0.0
    for text in LONG_TEXTS:
        slowest = 0.0
        for _ in range(args.n):
            started = time.perf_counter()
            for question in questions:
                read_answer(question, text, flow.vocabulary)
            slowest = max(slowest, time.perf_counter() - started)
        worst = max(worst, slowest)
        print(f"{text[:20]!r:<24} {len(text):>6} {slowest * 1000:>28.2f}")
    print(f"worst: {worst * 1000:.2f} ms for {len(questions)} questions")


if __name__ == "__main__":
    main()
