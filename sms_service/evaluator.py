"""Turn a finished screening's answers into a Suggestion, by screening.md's rule table.

Pure: no I/O. Each rule below is one row of the law office's table, in the same order, with
the row's own words beside it, so an attorney can check one against the other. The outcome,
reason and flag codes are defined here once (the rules carry their reasons, the triggers their
flags and staff labels); every other module derives its lists from these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations
from typing import Any


class Outcome(StrEnum):
    IEP = "iep"  # "an IEP is likely the better fit"
    PLAN_504 = "504"  # "a 504 plan may be enough"
    CONSULT = "consult"  # "we need to talk it through with you"


#: outcome -> how staff read it (English).
OUTCOME_LABELS: Mapping[Outcome, str] = {
    Outcome.IEP: "IEP likely",
    Outcome.PLAN_504: "504 plan may be enough",
    Outcome.CONSULT: "Talk it through",
}


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


@dataclass(frozen=True)
class Because:
    """A reason code an outcome rule gives, and the test that adds it (None: always)."""

    code: str
    holds: Callable[[Answers], bool] | None = None


# An outcome rule: its number in screening.md, the row's "when" in words, the outcome, and
# the row's reason codes. The row matches when `requires` holds (None: nothing required) and
# at least one of its reasons does; it gives every reason that holds, in the row's order.
@dataclass(frozen=True)
class Rule:
    number: int
    when: str
    outcome: Outcome
    reasons: tuple[Because, ...]
    requires: Callable[[Answers], bool] | None = None

    def reasons_for(self, answers: Answers) -> tuple[str, ...] | None:
        """Return the reason codes the row gives these answers, or None when it does not match."""
        if self.requires is not None and not self.requires(answers):
            return None
        given = tuple(r.code for r in self.reasons if r.holds is None or r.holds(answers))
        return given or None

    def reason_lists(self) -> list[tuple[str, ...]]:
        """Return every list of reason codes the row can give, fewest first."""
        optional = [r.code for r in self.reasons if r.holds is not None]
        lists: list[tuple[str, ...]] = []
        for size in range(len(optional) + 1):
            for picked in combinations(optional, size):
                given = tuple(r.code for r in self.reasons if r.holds is None or r.code in picked)
                if given:
                    lists.append(given)
        return lists


def _unsure_count(a: Answers) -> int:
    return [a.condition, a.behind, a.accommodations_enough].count("unsure")


def _fits_504(a: Answers) -> bool:
    return (
        a.condition == "yes"
        and a.behind == "no"
        and a.accommodations_enough == "yes"
        and a.services <= {"therapy", "behavior"}
    )


RULES: tuple[Rule, ...] = (
    Rule(1, "age >= 22", Outcome.CONSULT, (Because("age_over_21", lambda a: a.age >= 22),)),
    Rule(2, "age <= 2", Outcome.CONSULT, (Because("under_3", lambda a: a.age <= 2),)),
    Rule(3, "school = private", Outcome.CONSULT,
         (Because("private_school", lambda a: a.school == "private"),)),
    Rule(4, "school = home", Outcome.CONSULT,
         (Because("home_school", lambda a: a.school == "home"),)),
    Rule(5, "plan = iep", Outcome.CONSULT, (Because("has_iep", lambda a: a.plan == "iep"),)),
    Rule(6, "condition = no", Outcome.CONSULT,
         (Because("no_condition_identified", lambda a: a.condition == "no"),)),
    Rule(7, "2 or more of condition, behind, accommodations_enough are unsure", Outcome.CONSULT,
         (Because("unsure_answers", lambda a: _unsure_count(a) >= 2),)),
    Rule(8, "behind = yes, or services has speech, or services has instruction", Outcome.IEP,
         (Because("far_behind", lambda a: a.behind == "yes"),
          Because("needs_speech", lambda a: "speech" in a.services),
          Because("needs_instruction", lambda a: "instruction" in a.services))),
    Rule(9, "condition = yes, behind = no, accommodations_enough = yes, "
            "services within {therapy, behavior} (an empty list counts)", Outcome.PLAN_504,
         (Because("accommodations_enough"),
          Because("needs_therapy", lambda a: "therapy" in a.services),
          Because("needs_behavior_support", lambda a: "behavior" in a.services)),
         requires=_fits_504),
    Rule(10, "otherwise", Outcome.CONSULT, (Because("mixed_answers"),)),
)  # fmt: skip

#: The reason given when the answers cannot be evaluated at all (no rule could read them).
ANSWERS_INCOMPLETE = "answers_incomplete"
#: Every reason code a Suggestion may carry, in rule order.
REASONS: tuple[str, ...] = (
    *dict.fromkeys(r.code for rule in RULES for r in rule.reasons),
    ANSWERS_INCOMPLETE,
)


def possible_reasons() -> list[tuple[Outcome, tuple[str, ...]]]:
    """Return every (outcome, reasons) pair the rules can produce, by outcome then rule."""
    return [
        (outcome, reasons)
        for outcome in Outcome
        for rule in RULES
        if rule.outcome is outcome
        for reasons in rule.reason_lists()
    ]


# A priority trigger: its flag, how staff read it, its level, and its test (some look at the
# outcome too).
@dataclass(frozen=True)
class Trigger:
    flag: str
    label: str
    level: Priority
    test: Callable[[Answers, Outcome], bool]


TRIGGERS: tuple[Trigger, ...] = (
    Trigger("long_removal", "Removed over 10 school days", Priority.URGENT,
            lambda a, o: a.discipline == "long"),
    Trigger("expulsion", "Expulsion threatened", Priority.URGENT,
            lambda a, o: a.discipline == "expulsion"),
    Trigger("evaluation_refused", "School refused to evaluate", Priority.URGENT,
            lambda a, o: a.evaluation == "refused"),
    Trigger("deadline_soon", "Meeting or deadline within 14 days", Priority.URGENT,
            lambda a, o: a.deadline_soon == "yes"),
    Trigger("under_3", "Under age 3", Priority.URGENT, lambda a, o: a.age <= 2),
    Trigger("short_removal", "Removed 10 school days or less", Priority.HIGH,
            lambda a, o: a.discipline == "short" and a.condition != "no"),
    Trigger("evaluation_pending", "Evaluation requested, waiting", Priority.HIGH,
            lambda a, o: a.evaluation == "pending"),
    Trigger("eligibility_dispute", "Found not eligible, but IEP fits", Priority.HIGH,
            lambda a, o: a.evaluation == "found_ineligible" and o is Outcome.IEP),
)  # fmt: skip

#: flag -> how staff read it (English).
FLAG_LABELS: Mapping[str, str] = {t.flag: t.label for t in TRIGGERS}


def evaluate(answers: Answers) -> Suggestion:
    """Apply the outcome rules (first match wins) and the priority triggers."""
    for rule in RULES:
        reasons = rule.reasons_for(answers)
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
    return Suggestion(outcome, priority, reasons, tuple(t.flag for t in fired))
