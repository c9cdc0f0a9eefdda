"""The sms-screener command: flows check, chat (in-process), purge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis as redis_lib
import yaml
from click.testing import CliRunner
from conftest import FLOWS_DIR, make_config

from sms_service import keys
from sms_service.cli import main


@pytest.fixture
def env(redis: redis_lib.Redis, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return make_config(redis_url, tmp_path)


def test_flows_check_passes_and_counts_segments(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["flows", "check"], env=env)
    assert result.exit_code == 0, result.output
    assert "OK every text is within its segment budget" in result.output
    assert "services:prompt" in result.output
    assert "GSM-7" in result.output


def test_flows_check_fails_on_an_over_long_message(env: dict[str, str], tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    data = yaml.safe_load((flows / "screening.yaml").read_text(encoding="utf-8"))
    data["questions"][1]["prompt"]["es"] = "¿Dónde estudia su hijo? " + "x" * 80
    (flows / "screening.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    result = CliRunner().invoke(main, ["flows", "check"], env={**env, "FLOWS_DIR": str(flows)})
    assert result.exit_code == 1
    assert "school:prompt" in result.output
    assert "UCS-2" in result.output
    assert "OVER BUDGET" in result.output


def test_flows_check_reports_a_schema_error(env: dict[str, str], tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    text = (flows / "screening.yaml").read_text(encoding="utf-8")
    (flows / "screening.yaml").write_text(text.replace("kind: yesno", "kind: maybe", 1))
    result = CliRunner().invoke(main, ["flows", "check"], env={**env, "FLOWS_DIR": str(flows)})
    assert result.exit_code == 1
    assert "does not match flow.schema.json" in result.output


ENGLISH = "she's 9\npublic\ny\nneither\nyes\nAB\nno\nA\nA\nN\nyes thanks\n"
SPANISH = "tiene 9 años\npublica\nsi\nninguno\nsi\nA y B\nno\nA\nA\nN\nsi\n"


def test_chat_walks_the_whole_screening_in_english(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["chat", "--phone", "+15550100321"], input="Hi\n1\n" + ENGLISH, env=env
    )
    assert result.exit_code == 0, result.output
    assert "1/11 How old is your child?" in result.output
    assert "11/11 May our staff text or call you" in result.output
    assert "We are reviewing your answers now" in result.output
    assert "Sorry" not in result.output


def test_chat_walks_the_whole_screening_in_spanish(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["chat", "--lang", "es"], input=SPANISH, env=env)
    assert result.exit_code == 0, result.output
    assert "¿Que edad tiene su hijo/a?" in result.output
    assert "Estamos revisando sus respuestas" in result.output
    assert "Perdone" not in result.output


def test_purge_deletes_a_family_but_keeps_the_opt_out(
    env: dict[str, str], redis: redis_lib.Redis
) -> None:
    runner = CliRunner()
    number = "+15550100322"
    runner.invoke(main, ["chat", "--phone", number], input="Hi\n1\n9\nSTOP\n", env=env)
    assert redis.exists(keys.conversation(number))
    result = runner.invoke(main, ["purge", "--phone", number, "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "***0322" in result.output
    assert not redis.exists(keys.conversation(number))
    assert redis.exists(keys.opt_out(number))


def test_purge_deletes_the_follow_up_and_every_text_too(
    env: dict[str, str], redis: redis_lib.Redis
) -> None:
    runner = CliRunner()
    number = "+15550100323"
    texts = "Hi\n1\n" + ENGLISH
    result = runner.invoke(main, ["chat", "--phone", number], input=texts, env=env)
    assert "An IEP is likely" in result.output, "the chat ran the jobs: follow-up and result"
    assert redis.zcard(keys.FOLLOWUP_QUEUE) == 1
    result = runner.invoke(main, ["purge", "--phone", number, "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert redis.zcard(keys.FOLLOWUP_QUEUE) == 0
    # What may stay: the dev outbox, the shared send-rate slot, MessageSid claims, which
    # hold only our own replies (no answers) and expire after 72 h, and the office's latest
    # send outcomes (error codes and times only).
    kept = ("smss:outbox", "smss:rate:", "smss:inbound:", "smss:send-outcomes")
    left = [k for k in redis.scan_iter("smss:*") if not k.startswith(kept)]
    assert left == [], left


def test_flows_graph_draws_every_question_in_order(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["flows", "graph"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "flowchart TD"
    keys = [
        "age", "school", "condition", "plan", "behind", "services",
        "accommodations_enough", "discipline", "evaluation", "deadline_soon", "contact_ok",
    ]  # fmt: skip
    positions = [next(i for i, line in enumerate(lines) if f". {key}:" in line) for key in keys]
    assert positions == sorted(positions)
    assert "E none" in result.output
    assert "worker: evaluate" in result.output
