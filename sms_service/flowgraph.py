"""Draw a flow as a Mermaid flowchart: the questions, their answers and the branches."""

from __future__ import annotations

from .engine.model import Flow, Question, QuestionKind


def _answers(question: Question) -> str:
    if question.kind is QuestionKind.NUMBER:
        return f"number {question.minimum}-{question.maximum}"
    if question.kind is QuestionKind.YESNO:
        codes = ["Y yes", "N no"] + (["NS " + question.unsure_code] if question.unsure_code else [])
        return ", ".join(codes)
    return ", ".join(f"{c.letter} {c.code}" for c in question.choices)


def _label(text: str) -> str:
    return text.replace('"', "'")


def mermaid(flow: Flow) -> str:
    """Return the flow as Mermaid flowchart text."""
    lines = ["flowchart TD"]
    lines.append('  start(["first text"]) --> intro["intro"]')
    lines.append('  start -- "HOLA / ENGLISH" --> q0')
    lines.append(f'  intro --> lang{{"language: {_label(_answers(flow.language_question))}"}}')
    lines.append("  lang --> q0")
    for n, question in enumerate(flow.questions):
        node = f"q{n}"
        label = f"{n + 1}. {question.key}: {question.label}<br/>{_answers(question)}"
        lines.append(f'  {node}["{_label(label)}"]')
        nxt = f"q{n + 1}" if n + 1 < len(flow.questions) else "done"
        if question.ask_if:
            condition = " and ".join(f"{k} in {'/'.join(v)}" for k, v in question.ask_if.items())
            lines.append(f'  {node} -. "skipped unless {_label(condition)}" .-> {nxt}')
        lines.append(f"  {node} --> {nxt}")
    lines.append(
        '  done(["reviewing reply"]) --> evaluate[["worker: evaluate, result text, follow-up"]]'
    )
    return "\n".join(lines)
