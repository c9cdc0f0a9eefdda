"""Golden transcripts: whole conversations replayed through the webhook against a real Redis.

Each `tests/transcripts/<case>.json` holds what a parent sends and the replies the service
must give, step by step, and the state saved at the end. After a deliberate wording or
behaviour change, `pytest tests/test_transcripts.py --update-transcripts` rewrites the replies
and final states from what the service does now; read the diff before committing it.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Phone, state_of
from flask import Flask
from flask.testing import FlaskClient

TRANSCRIPTS_DIR = Path(__file__).resolve().parent / "transcripts"
CASES = sorted(TRANSCRIPTS_DIR.glob("*.json"))

#: Keys a transcript file may hold, in the order they are written back.
FILE_KEYS = ("description", "phone", "steps", "final")
#: Keys a step may hold; `send` and `sid` are input, `replies` is what the service says.
STEP_KEYS = ("send", "sid", "replies")


def load_case(path: Path) -> dict[str, Any]:
    """Read a transcript and check its shape, so a typo fails here and not as a diff."""
    case = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(case) - set(FILE_KEYS)
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    assert case.get("description"), f"{path.name}: a description is required"
    assert str(case.get("phone", "")).startswith("+"), f"{path.name}: phone must be E.164"
    assert case.get("steps"), f"{path.name}: at least one step is required"
    for i, step in enumerate(case["steps"]):
        unknown = set(step) - set(STEP_KEYS)
        assert not unknown, f"{path.name} step {i}: unknown keys {sorted(unknown)}"
        assert isinstance(step.get("send"), str), f"{path.name} step {i}: `send` must be text"
    return case


def save_case(path: Path, case: dict[str, Any]) -> None:
    """Write a transcript back with a stable key order, readable non-ASCII and a final newline."""
    ordered = {k: case[k] for k in FILE_KEYS if k in case}
    ordered["steps"] = [{k: step[k] for k in STEP_KEYS if k in step} for step in case["steps"]]
    path.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def final_state(app: Flask, number: str) -> dict[str, Any] | None:
    """Return the part of the saved state a transcript asserts."""
    state = state_of(app, number)
    if state is None:
        return None
    return {
        "status": state.status.value,
        "language": state.language,
        "opted_out": state.opted_out,
        "answers": state.answers,
    }


def describe_mismatch(
    name: str, index: int, step: dict[str, Any], expected: list[str], got: list[str]
) -> str:
    """Say where a conversation went off its transcript, with a line diff of the replies."""
    diff = difflib.unified_diff(
        [f"{i}: {r}" for i, r in enumerate(expected)],
        [f"{i}: {r}" for i, r in enumerate(got)],
        fromfile="expected",
        tofile="got",
        lineterm="",
    )
    sid = f" (sid {step['sid']})" if "sid" in step else ""
    return "\n".join(
        [
            f"{name}: step {index} sent {step['send']!r}{sid}",
            f"  expected: {json.dumps(expected, ensure_ascii=False)}",
            f"  got:      {json.dumps(got, ensure_ascii=False)}",
            *diff,
            "(if the change is deliberate: pytest tests/test_transcripts.py --update-transcripts)",
        ]
    )


def test_transcripts_exist() -> None:
    assert CASES, f"no transcripts in {TRANSCRIPTS_DIR}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_transcript(
    path: Path, app: Flask, client: FlaskClient, request: pytest.FixtureRequest
) -> None:
    """Replay a transcript's texts and compare every reply and the final state."""
    update = bool(request.config.getoption("--update-transcripts"))
    case = load_case(path)
    phone = Phone(client, case["phone"])

    if update:
        for step in case["steps"]:
            step["replies"] = phone.text(step["send"], sid=step.get("sid"))
        case["final"] = final_state(app, case["phone"])
        save_case(path, case)
        return

    for index, step in enumerate(case["steps"]):
        got = phone.text(step["send"], sid=step.get("sid"))
        expected = step.get("replies")
        if got != expected:
            message = describe_mismatch(path.stem, index, step, expected or [], got)
            pytest.fail(message, pytrace=False)
    final = final_state(app, case["phone"])
    if final != case.get("final"):
        pytest.fail(
            f"{path.stem}: final state after the last step\n"
            f"  expected: {json.dumps(case.get('final'), ensure_ascii=False)}\n"
            f"  got:      {json.dumps(final, ensure_ascii=False)}",
            pytrace=False,
        )
