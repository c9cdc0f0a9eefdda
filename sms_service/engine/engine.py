"""The pure flow engine: one inbound text in, the next state and the replies out."""

from __future__ import annotations

import copy

from .answers import Invalid, Reason, normalize, read_answer
from .keywords import Keyword, classify, mentions_any
from .model import (
    LANG_STEP,
    LANGUAGES,
    NEW_STEP,
    AnswerValue,
    Event,
    Flow,
    Question,
    QuestionKind,
    State,
    Status,
    Step,
)

#: Invalid replies in a row after which a question that accepts "not sure" records it.
UNSURE_AFTER = 3
#: Invalid replies in a row after which the re-ask mentions HELP.
HELP_AFTER = 2

#: After the result, one acknowledgement per this many seconds; the texts in between get none.
ACK_WINDOW_SECONDS = 24 * 3600

#: Keywords that keep their meaning after the result; any other text is for the office's staff.
_AFTER_RESULT_KEYWORDS = frozenset(
    {Keyword.STOP, Keyword.REVOKE, Keyword.START, Keyword.HELP, Keyword.RESTART}
    | {Keyword.SPANISH, Keyword.ENGLISH}
)

#: Help words that are Spanish: the reply to them is in Spanish before a language is chosen.
SPANISH_HELP = frozenset({"ayuda"})

_REASON_MESSAGES = {
    Reason.GRADE: "grade_not_age",
    Reason.TWO_NUMBERS: "two_numbers",
    Reason.OUT_OF_RANGE: "out_of_range",
    Reason.TWO_ANSWERS: "two_answers",
}


def reask_lead(question: Question, reason: Reason) -> str:
    """Return the message that opens the re-ask of a question after an invalid reply."""
    if reason is Reason.UNSURE_NOT_ALLOWED:
        # Say what is needed: a yes or no, or one of the letters; an age has no letters.
        return {QuestionKind.YESNO: "need_yes_no", QuestionKind.NUMBER: "sorry"}.get(
            question.kind, "pick_one"
        )
    return _REASON_MESSAGES.get(reason, "sorry")


def new_state(conversation_id: str, phone: str, now: float, flow: Flow) -> State:
    """Return the state of a conversation that has not begun."""
    return State(
        conversation_id=conversation_id,
        phone=phone,
        started_at=now,
        updated_at=now,
        flow_version=flow.version,
    )


def next_question(flow: Flow, answers: dict[str, AnswerValue]) -> Question | None:
    """Return the first question still to ask, or None when all are answered."""
    for q in flow.questions:
        if q.key in answers:
            continue
        if all(answers.get(ref) in codes for ref, codes in q.ask_if.items()):
            return q
    return None


def completed_answers(flow: Flow, state: State) -> dict[str, AnswerValue]:
    """Return the answers of a finished conversation, in flow order."""
    return {q.key: state.answers[q.key] for q in flow.questions if q.key in state.answers}


def advance(
    flow: Flow,
    state: State,
    text: str,
    now: float,
    *,
    carrier: Keyword | None = None,
    media: int = 0,
) -> Step:
    """Apply one inbound text to a conversation.

    `carrier` is what the provider already made of the text (Twilio's Advanced Opt-Out:
    STOP, START or HELP, for the office's own keywords too): it wins over the words, and a
    HELP the provider answered itself gets no second answer. `media` counts the photos or
    files the text carried (we read only text).
    """
    s = copy.deepcopy(state)
    s.inbound_count += 1
    s.updated_at = now
    moved = _reconcile(flow, s)
    keyword = carrier or classify(text, flow.keywords, s.opted_out)

    after_result = s.status is Status.COMPLETED and keyword not in _AFTER_RESULT_KEYWORDS
    if s.opted_out:
        if keyword is Keyword.START:
            s.opted_out = False
            return _step(s, _resume(flow, s, welcome=True), Event.OPTED_IN)
        # After an opt-out nothing is sent, whatever the text, until START; staff still see
        # what a family writes after its result.
        if after_result:
            return _step(s, (), Event.IGNORED, Event.PARENT_MESSAGE)
        return _step(s, (), Event.IGNORED)
    if after_result:
        return _after_result(flow, s, now)
    if keyword is Keyword.STOP:
        # The carrier confirms a STOP itself; we send nothing.
        s.opted_out = True
        return _step(s, (), Event.OPTED_OUT)
    if keyword is Keyword.REVOKE:
        s.opted_out = True
        return _step(s, (flow.message("revoke_confirm", s.language),), Event.OPTED_OUT)
    if keyword is Keyword.START:
        return _step(s, _resume(flow, s, welcome=False))
    if keyword is Keyword.HELP:
        if carrier is Keyword.HELP:
            return _step(s, (), Event.HELP)  # the provider sent the office's HELP text
        language = s.language
        if s.current in (NEW_STEP, LANG_STEP) and normalize(text) in SPANISH_HELP:
            language = "es"  # no language chosen yet, but AYUDA says which one to answer in
        return _step(s, (flow.message("help", language),), Event.HELP)
    if keyword is Keyword.HINT:
        if s.current == NEW_STEP and s.status is Status.ACTIVE:
            return _start(flow, s)
        return _step(s, (_hint(flow, s),), Event.HINT)
    if keyword is Keyword.RESTART:
        return _restart(flow, s)
    if keyword is Keyword.BACK:
        return _back(flow, s)
    if keyword in (Keyword.SPANISH, Keyword.ENGLISH):
        return _switch_language(flow, s, "es" if keyword is Keyword.SPANISH else "en")

    if s.current == NEW_STEP:
        return _start(flow, s)
    if media and not text.strip():
        # A photo of the school's letter: say why it cannot count, and ask again.
        lead = flow.message("media_not_read", s.language)
        return _step(s, (f"{lead} {_prompt(flow, s)}",), Event.MEDIA)
    if moved:
        # The flow changed under this conversation: the text answered a question that is
        # gone or changed, so ask the one now due instead of guessing.
        return _step(s, (_prompt(flow, s),))
    # A yes-word is an answer to a yes/no question; elsewhere a reserved word is never one,
    # and "yes" only counts as START while opted out (handled above).
    return _answer(flow, s, text)


def _after_result(flow: Flow, state: State, now: float) -> Step:
    """Pass a text after the result to the office; acknowledge the first one in a window."""
    if state.acked_at and now - state.acked_at < ACK_WINDOW_SECONDS:
        return _step(state, (), Event.PARENT_MESSAGE)
    state.acked_at = now
    return _step(state, (flow.message("after_result", state.language),), Event.PARENT_MESSAGE)


def _step(state: State, replies: tuple[str, ...], *events: Event) -> Step:
    return Step(state=state, replies=replies, events=events)


def _prompt(flow: Flow, state: State) -> str:
    question = flow.question(state.current)
    assert question is not None, state.current
    return question.prompt[state.language]


def _hint(flow: Flow, state: State) -> str:
    question = flow.question(state.current)
    assert question is not None, state.current
    return question.hint[state.language]


def _start(flow: Flow, state: State) -> Step:
    state.current = LANG_STEP
    state.invalid_count = 0
    return _step(
        state,
        (flow.message("intro", state.language), _prompt(flow, state)),
        Event.STARTED,
    )


def _resume(flow: Flow, state: State, welcome: bool) -> tuple[str, ...]:
    """Say where the conversation stands after START."""
    lang = state.language
    if state.status is Status.COMPLETED:
        if welcome:
            return (flow.message("resubscribed_finished", lang),)
        return (flow.message("finished", lang),)
    if state.current == NEW_STEP:
        state.current = LANG_STEP
        return (flow.message("intro", lang), _prompt(flow, state))
    if welcome:
        return (flow.message("resubscribed", lang), _prompt(flow, state))
    return (_prompt(flow, state),)


def _first_question(flow: Flow, state: State) -> None:
    first = next_question(flow, state.answers)
    assert first is not None, "a flow has at least one question"
    state.current = first.key
    state.invalid_count = 0


def _restart(flow: Flow, state: State) -> Step:
    was_completed = state.status is Status.COMPLETED
    state.answers = {}
    state.history = []
    state.status = Status.ACTIVE
    if state.current in (NEW_STEP, LANG_STEP) and not was_completed:
        return _start(flow, state)
    _first_question(flow, state)
    return _step(
        state,
        (flow.message("restarting", state.language), _prompt(flow, state)),
        Event.RESTARTED,
    )


def _back(flow: Flow, state: State) -> Step:
    lang = state.language
    if state.current == NEW_STEP:
        return _start(flow, state)
    state.invalid_count = 0
    if state.history:
        key = state.history.pop()
        state.answers.pop(key, None)
        state.current = key
        return _step(state, (_prompt(flow, state),), Event.WENT_BACK)
    if state.current == LANG_STEP:
        return _step(state, (_prompt(flow, state),))
    return _step(state, (flow.message("first_question", lang), _prompt(flow, state)))


def _switch_language(flow: Flow, state: State, language: str) -> Step:
    state.language = language
    if state.status is Status.COMPLETED:
        return _step(state, (flow.message("finished", language),), Event.LANGUAGE_CHANGED)
    if state.current in (NEW_STEP, LANG_STEP):
        # HOLA as the first text (or at the language question) skips the language question.
        intro = (flow.message("intro", language),) if state.current == NEW_STEP else ()
        _first_question(flow, state)
        return _step(state, (*intro, _prompt(flow, state)), Event.STARTED, Event.LANGUAGE_CHANGED)
    return _step(state, (_prompt(flow, state),), Event.LANGUAGE_CHANGED)


def _answer(flow: Flow, state: State, text: str) -> Step:
    question = flow.question(state.current)
    assert question is not None, state.current
    lang = state.language
    if not normalize(text):
        # An empty text or a photo: ask again, without counting it as a wrong answer.
        return _step(state, (question.prompt[lang], question.hint[lang]))
    reading = read_answer(question, text, flow.vocabulary)
    if mentions_any(normalize(text), question.reask_words):
        # "he needs an IEP" names a choice but does not answer the question: ask again.
        reading = Invalid(Reason.UNCLEAR)
    if isinstance(reading, Invalid):
        return _invalid(flow, state, question, reading)
    return _record(flow, state, question, reading.value, ())


def _invalid(flow: Flow, state: State, question: Question, reading: Invalid) -> Step:
    lang = state.language
    state.invalid_count += 1
    if question.unsure_code and state.invalid_count >= UNSURE_AFTER:
        note = (flow.message("unsure_recorded", lang),)
        return _record(flow, state, question, question.unsure_code, note)
    lead = flow.message(reask_lead(question, reading.reason), lang)
    parts = [lead, question.hint[lang]]
    if state.invalid_count >= HELP_AFTER:
        parts.append(flow.message("help_tip", lang))
    return _step(state, (" ".join(parts),), Event.INVALID)


def _record(
    flow: Flow, state: State, question: Question, value: AnswerValue, lead: tuple[str, ...]
) -> Step:
    state.invalid_count = 0
    if question.key == LANG_STEP:
        assert isinstance(value, str) and value in LANGUAGES
        state.language = value
        _first_question(flow, state)
        return _step(state, (*lead, _prompt(flow, state)), Event.LANGUAGE_CHANGED)
    state.answers[question.key] = value
    if question.key in state.history:
        state.history.remove(question.key)
    state.history.append(question.key)
    upcoming = next_question(flow, state.answers)
    if upcoming is None:
        state.status = Status.COMPLETED
        state.current = NEW_STEP
        reply = (*lead, flow.message("reviewing", state.language))
        return _step(state, reply, Event.ANSWERED, Event.COMPLETED)
    state.current = upcoming.key
    return _step(state, (*lead, upcoming.prompt[state.language]), Event.ANSWERED)


def _reconcile(flow: Flow, state: State) -> bool:
    """Fit a conversation begun under an older flow to this one; tell if its question moved."""
    if state.flow_version == flow.version:
        return False
    state.flow_version = flow.version
    if state.language not in LANGUAGES:
        state.language = "en"
    if state.status is Status.COMPLETED:
        return False
    kept: dict[str, AnswerValue] = {}
    for key, value in state.answers.items():
        question = flow.question(key)
        if question is not None and key != LANG_STEP and question.valid_value(value):
            kept[key] = value
    state.answers = kept
    state.history = [k for k in state.history if k in kept]
    if state.current in (NEW_STEP, LANG_STEP):
        return False
    upcoming = next_question(flow, kept)
    if upcoming is not None and upcoming.key == state.current:
        return False
    # Every question already answered: ask the last one again rather than guess.
    state.current = upcoming.key if upcoming else flow.questions[-1].key
    if upcoming is None:
        kept.pop(state.current, None)
    state.invalid_count = 0
    return True
