"""The `evaluate` command: a JSON file of answers in, the Suggestion out."""

from __future__ import annotations

import json

import click

from .startup import fail


@click.command()
@click.argument("answers_file", type=click.Path(dir_okay=False, allow_dash=True))
def evaluate(answers_file: str) -> None:
    """Print the Suggestion for a JSON file of answers (screening.md keys and codes)."""
    from ..evaluator import AnswersError, parse_answers
    from ..evaluator import evaluate as evaluate_answers

    try:
        with click.open_file(answers_file, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        fail(f"cannot read {answers_file}: {exc.strerror or exc}")
    except json.JSONDecodeError as exc:
        fail(f"{answers_file} is not JSON: {exc}")
    if not isinstance(raw, dict):
        fail(f"{answers_file} must hold a JSON object of answers")
    try:
        answers = parse_answers(raw)
    except AnswersError as exc:
        fail(str(exc))
    click.echo(json.dumps(evaluate_answers(answers).to_json()))
