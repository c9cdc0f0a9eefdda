"""Turn a finished screening's answers into a Suggestion, by screening.md's rule table.

Pure: no I/O. Each rule below is one row of the law office's table, in the same order, with
the row's own words beside it, so an attorney can check one against the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    IEP = "iep"  # "an IEP is likely the better fit"
    PLAN_504 = "504"  # "a 504 plan may be enough"
    CONSULT = "consult"  # "we need to talk it through with you"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


#: Every answer key with the codes it may hold (age is a whole number 0-30).
ANSWER_CODES: Mapping[str, frozenset[str]] = {
    "school": frozenset({"public", "private", "home", "none"}),
    "condition": frozenset({"yes", "no", "unsure"}),
    "plan": frozenset({"iep", "504", "neither", "unsure"}),
    "behind": frozenset({"yes", "no", "unsure"}),
    "services": frozenset({"speech", "instruction", "therapy", "behavior"}),
    "accommodations_enough": frozenset({"yes", "no", "unsure"}),
    "discipline": frozenset({"none", "short", "long", "expulsion"}),
    "evaluation": frozenset({"not_requested", "pending", "refused", "found_ineligible"}),
    "deadline_soon": frozenset({"yes", "no"}),
    "contact_ok": frozenset({"yes", "no"}),
}
ANSWER_KEYS = ("age", *ANSWER_CODES)
AGE_RANGE = range(31)


class AnswersError(ValueError):
    """Answers with missing or invalid keys; the message names every one."""


@dataclass(frozen=True)
class Answers:
    age: int
    school: str
    condition: str
    plan: str
    behind: str
    services: frozenset[str]
    accommodations_enough: str
    discipline: str
    evaluation: str
    deadline_soon: str
    contact_ok: str


@dataclass(frozen=True)
class Suggestion:
    outcome: Outcome
    priority: Priority
    reasons: tuple[str, ...]
    flags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the Suggestion as screening.md prints it."""
        return {
            "outcome": self.outcome.value,
            "priority": self.priority.value,
            "reasons": list(self.reasons),
            "flags": list(self.flags),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suggestion:
        """Build a Suggestion from what to_json returned."""
        return cls(
            outcome=Outcome(data["outcome"]),
            priority=Priority(data["priority"]),
            reasons=tuple(data["reasons"]),
            flags=tuple(data["flags"]),
        )


def parse_answers(raw: Mapping[str, Any]) -> Answers:
    """Check raw answers (screening.md keys and codes); raise AnswersError naming problems."""
    problems: list[str] = [f"{key}: missing" for key in ANSWER_KEYS if key not in raw]
    age = raw.get("age")
    if "age" in raw and (not isinstance(age, int) or isinstance(age, bool) or age not in AGE_RANGE):
        problems.append(f"age: {age!r} is not a whole number from 0 to 30")
    for key, codes in ANSWER_CODES.items():
        if key not in raw:
            continue
        value = raw[key]
        if key == "services":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"services: {value!r} is not a list of codes")
            elif unknown := sorted(set(value) - codes):
                problems.append(f"services: unknown code(s) {unknown}, expected {sorted(codes)}")
        elif not isinstance(value, str) or value not in codes:
            problems.append(f"{key}: {value!r} is not one of {sorted(codes)}")
    if unknown_keys := sorted(set(raw) - set(ANSWER_KEYS)):
        problems.append(f"unknown key(s): {', '.join(unknown_keys)}")
    if problems:
        raise AnswersError("invalid answers:\n  " + "\n  ".join(problems))
    values = {key: raw[key] for key in ANSWER_KEYS}
    values["services"] = frozenset(raw["services"])
    return Answers(**values)


# An outcome rule: its number in screening.md, the row's "when" in words, the outcome, and a
# test returning the reason codes when the row matches (None when it does not).
@dataclass(frozen=True)
class Rule:
    number: int
    when: str
    outcome: Outcome
    test: Callable[[Answers], list[str] | None]


def _only(reason: str, holds: bool) -> list[str] | None:
    return [reason] if holds else None


def _unsure_count(a: Answers) -> int:
    return [a.condition, a.behind, a.accommodations_enough].count("unsure")


def _rule_iep(a: Answers) -> list[str] | None:
    reasons = [
        reason
        for reason, holds in (
            ("far_behind", a.behind == "yes"),
            ("needs_speech", "speech" in a.services),
            ("needs_instruction", "instruction" in a.services),
        )
        if holds
    ]
    return reasons or None


def _rule_504(a: Answers) -> list[str] | None:
    if not (
        a.condition == "yes"
        and a.behind == "no"
        and a.accommodations_enough == "yes"
        and a.services <= {"therapy", "behavior"}
    ):
        return None
    reasons = ["accommodations_enough"]
    if "therapy" in a.services:
        reasons.append("needs_therapy")
    if "behavior" in a.services:
        reasons.append("needs_behavior_support")
    return reasons


RULES: tuple[Rule, ...] = (
    Rule(1, "age >= 22", Outcome.CONSULT, lambda a: _only("age_over_21", a.age >= 22)),
    Rule(2, "age <= 2", Outcome.CONSULT, lambda a: _only("under_3", a.age <= 2)),
    Rule(3, "school = private", Outcome.CONSULT,
         lambda a: _only("private_school", a.school == "private")),
    Rule(4, "school = home", Outcome.CONSULT, lambda a: _only("home_school", a.school == "home")),
    Rule(5, "plan = iep", Outcome.CONSULT, lambda a: _only("has_iep", a.plan == "iep")),
    Rule(6, "condition = no", Outcome.CONSULT,
         lambda a: _only("no_condition_identified", a.condition == "no")),
    Rule(7, "2 or more of condition, behind, accommodations_enough are unsure", Outcome.CONSULT,
         lambda a: _only("unsure_answers", _unsure_count(a) >= 2)),
    Rule(8, "behind = yes, or services has speech, or services has instruction", Outcome.IEP,
         _rule_iep),
    Rule(9, "condition = yes, behind = no, accommodations_enough = yes, "
            "services within {therapy, behavior} (an empty list counts)", Outcome.PLAN_504,
         _rule_504),
    Rule(10, "otherwise", Outcome.CONSULT, lambda a: ["mixed_answers"]),
)  # fmt: skip


# A priority trigger: its flag, its level, and its test (some look at the outcome too).
@dataclass(frozen=True)
class Trigger:
    flag: str
    level: Priority
    test: Callable[[Answers, Outcome], bool]


TRIGGERS: tuple[Trigger, ...] = (
    Trigger("long_removal", Priority.URGENT, lambda a, o: a.discipline == "long"),
    Trigger("expulsion", Priority.URGENT, lambda a, o: a.discipline == "expulsion"),
    Trigger("evaluation_refused", Priority.URGENT, lambda a, o: a.evaluation == "refused"),
    Trigger("deadline_soon", Priority.URGENT, lambda a, o: a.deadline_soon == "yes"),
    Trigger("under_3", Priority.URGENT, lambda a, o: a.age <= 2),
    Trigger("short_removal", Priority.HIGH,
            lambda a, o: a.discipline == "short" and a.condition != "no"),
    Trigger("evaluation_pending", Priority.HIGH, lambda a, o: a.evaluation == "pending"),
    Trigger("eligibility_dispute", Priority.HIGH,
            lambda a, o: a.evaluation == "found_ineligible" and o is Outcome.IEP),
)  # fmt: skip


def evaluate(answers: Answers) -> Suggestion:
    """Apply the outcome rules (first match wins) and the priority triggers."""
    for rule in RULES:
        reasons = rule.test(answers)
        if reasons is not None:
            outcome = rule.outcome
            break
    else:  # pragma: no cover - rule 10 always matches
        raise AssertionError("the last rule matches every answer")
    fired = [t for t in TRIGGERS if t.test(answers, outcome)]
    levels = {t.level for t in fired}
    priority = next(
        (level for level in (Priority.URGENT, Priority.HIGH) if level in levels), Priority.NORMAL
    )
    return Suggestion(outcome, priority, tuple(reasons), tuple(t.flag for t in fired))
