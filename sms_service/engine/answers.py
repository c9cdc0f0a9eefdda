"""Read a parent's SMS reply to one question: an age, a yes/no, or choices by letter or word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TypeAlias, TypeVar

from .model import AnswerValue, Choice, Question, QuestionKind, TimeFrame, Vocabulary

_T = TypeVar("_T")


def _words(text: str) -> frozenset[str]:
    """Return the set of space-separated words in text."""
    return frozenset(text.split())


class Reason(StrEnum):
    """Why a reply was not taken as an answer."""

    EMPTY = "empty"
    UNCLEAR = "unclear"
    TWO_ANSWERS = "two_answers"
    GRADE = "grade_not_age"
    TWO_NUMBERS = "two_numbers"
    OUT_OF_RANGE = "out_of_range"
    UNSURE_NOT_ALLOWED = "unsure_not_allowed"


@dataclass(frozen=True)
class Answer:
    """A reply read as an answer: an age, a code, or a list of codes."""

    value: AnswerValue


@dataclass(frozen=True)
class Invalid:
    """A reply to ask again about, and why."""

    reason: Reason


Reading: TypeAlias = Answer | Invalid

# Typed apostrophes join a word ("don't" -> "dont"); U+00B4 must go before NFKD splits it.
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`\u00b4\u02bc\u02b9\u2032")

#: Unsure phrases read whatever the flow lists: reading "no" in "no se" would be a misread.
_UNSURE_ALWAYS = ("not sure", "idk", "i dont know", "no se", "nose", "ns")
#: Words after "no se" that make it "no se le ..." (was not ...), not "I don't know".
_SE_CLITICS = _words("le les lo la los las me te nos ha han hizo hicieron dio puede pudo")
#: Text starts that look like an answer but are not one ("N/A"; "no c" is slang for "no se").
_AMBIGUOUS_STARTS = (("n", "a"), ("no", "c"))
_SHORT_REPLY = 6

#: Words that turn a nearby answer word around ("not public", "isnt in private school").
_NEGATORS = _words(
    "not dont doesnt didnt isnt wasnt arent werent cant cannot wont never nunca tampoco "
    "ni nor neither without sin"
)
#: Words that move a choice word to another time ("used to be private", "will be home").
_TIME_SHIFTS = _words("used previously formerly before antes solia will")
_HEDGE_WINDOW = 3
#: Words near a choice that say it has ended ("the IEP ended", "took away his 504", "le quitaron
#: el IEP"): true once, maybe not now, whatever time the question asks about.
_ENDED = (
    "used to",
    "anymore",
    "any more",
    "no longer",
    "ended",
    "ends",
    "expired",
    "stopped",
    "removed",
    "dropped",
    "discontinued",
    "lost",
    "away",
    "ya no",
    "quitaron",
    "quito",
    "quitado",
    "termino",
    "terminaron",
    "terminado",
    "acabo",
    "cancelaron",
    "perdio",
    "anteriormente",
)
#: For a question about now (not `asks_about: past`): past or future words just before a choice
#: ("had an IEP", "tenia un IEP", "was in private school", "trying to get a 504") say it held
#: or will hold at another time. "going"/"getting" stay out: "going to public school" is now.
_NOT_NOW_BEFORE = _words(
    "had tenia tenian tuvo tuvieron habia was were era eran estaba fue went iba gonna trying "
    "tratando intentando would tendra waiting esperando"
)
#: ... or near it on either side ("IEP last year", "a 504 next month", "IEP el ano pasado").
_NOT_NOW_AROUND = (
    "last",
    "ago",
    "next",
    "soon",
    "later",
    "until",
    "till",
    "pending",
    "waiting",
    "pronto",
    "proximo",
    "proxima",
    "pasado",
    "pasada",
    "hasta",
    "pendiente",
    "esperando",
)
#: "She's had an IEP since 2nd grade" still has one: "had" after these is not past.
_PERFECT_AUX = _words("has have hes shes ive weve theyve youve")
#: Words that qualify the answer before them ("no but the school thinks so", "si, aunque no
#: tiene diagnostico"): the reply could mean either, so it is asked again.
_CONTRASTS = (
    "but",
    "pero",
    "although",
    "altho",
    "though",
    "tho",
    "however",
    "except",
    "unless",
    "aunque",
    "sin embargo",
    "excepto",
    "salvo",
    "sino",
    "a menos que",
)

#: Words that may come before the letters ("option B", "es la C").
_LEAD_INS = _words(
    "letter letters letra letras option options opcion opciones choice answer respuesta "
    "its es la el"
)
#: Single letters that are also words ("a" article or preposition, "e"/"y"/"o" and/or).
_WORD_LETTERS = _words("a e i o u y")
#: Common words spelt only with choice letters; they are never joined letters.
_NOT_JOINED = _words(
    "ad be bed bead bad cab dab cad dec deb ace aced abed bade dace ced ed de da bc"
)
#: Choice words no article stands before: "A none" is letter A and "none", two answers.
_NOT_AFTER_ARTICLE = _NEGATORS | _words("no none nothing nope nah nada ninguno ninguna ningun")
#: Words between an article "a" and the choice words it belongs to ("a la escuela publica").
_ARTICLES = _words("la el las los una un the an en de del")

_YEAR_WORDS = _words("year years yr yrs ano anos")
_HALF_WORDS = _words("half medio media")
#: Counts that are "1" only right before a unit ("a year old", "un ano"); else articles.
_ARTICLE_ONES = _words("a an un una")
#: Words that make a number something other than today's age ("turning 10", "almost 3").
_AGE_HEDGES = _words(
    "turning turns turn almost nearly soon casi cumple cumplira cumplir pronto under over "
    "less more menos mas about around approximately aprox aproximadamente no least older "
    "younger plus"
)
#: Words that put the number at another time than today ("will be 10 next week", "was 9 last
#: year", "tenia 9", "va a cumplir 10", "10 in june"): the age today is not sure. Typed
#: contractions lose their apostrophe, so "he'll"/"she'll" come as "hell"/"shell". Days and
#: weeks are units too: "9 days old" is not 9 years.
_AGE_TIME_WORDS = _words(
    "will wil would hell shell itll theyll going gonna gunna next soon later until till "
    "tomorrow tonight birthday bday was were had used last ago before previously "
    "va vamos tendra sera hara proximo proxima siguiente viene entrante manana hasta tenia "
    "tuvo era fue pasado pasada antes hace cumpleanos "
    "day days week weeks wk wks semana semanas dia dias "
    "january february march april may june july august september october november december "
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre "
    "diciembre"
)
_ORDINAL_WORDS = sorted(
    _words(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
        "freshman sophomore primero primer primera segundo segunda tercero tercer tercera cuarto "
        "cuarta quinto quinta sexto sexta septimo septima octavo octava noveno novena decimo decima"
    )
)
_NUMBER_WITH_SUFFIX = re.compile(r"(\d+)([a-z]+)")
_ORDINAL_SUFFIXES = _words("st nd rd th o ro do to vo no er ero a ra da ta va na ma")
#: Spanish ordinals spelt with "mo" (7mo, 10mo); "6mo" is six months.
_ORDINAL_MO = frozenset({7, 10})
_YEAR_SUFFIXES = _words("y yo yr yrs year years ano anos")
_MONTH_SUFFIXES = _words("m mo mos mth mths month months mes meses")
#: More digits than an age has: read as out of range without building a huge int.
_MAX_DIGITS = 4
_TOO_BIG = 10**_MAX_DIGITS

_Span: TypeAlias = tuple[int, int]


#: The reasons each kind of question's reader can give for an invalid reply (EMPTY aside),
#: so the texts that answer them can all be checked (`sms-screener flows check`).
INVALID_REASONS: Mapping[QuestionKind, frozenset[Reason]] = {
    QuestionKind.NUMBER: frozenset(
        {
            Reason.UNCLEAR,
            Reason.GRADE,
            Reason.TWO_NUMBERS,
            Reason.OUT_OF_RANGE,
            Reason.UNSURE_NOT_ALLOWED,
        }
    ),
    QuestionKind.YESNO: frozenset({Reason.UNCLEAR, Reason.TWO_ANSWERS, Reason.UNSURE_NOT_ALLOWED}),
    QuestionKind.CHOICE: frozenset({Reason.UNCLEAR, Reason.TWO_ANSWERS, Reason.UNSURE_NOT_ALLOWED}),
    QuestionKind.MULTI: frozenset({Reason.UNCLEAR, Reason.TWO_ANSWERS, Reason.UNSURE_NOT_ALLOWED}),
}


def normalize(text: str) -> str:
    """Return text lower-cased, without accents or punctuation, "&" kept, spaces collapsed."""
    out: list[str] = []
    for char in text.translate(_APOSTROPHES).lower():
        if unicodedata.category(char) == "No":
            # "9½" is 9 and a half, not 91 and 2: a vulgar fraction stands apart.
            out.append(" ")
        for ch in unicodedata.normalize("NFKD", char):
            if unicodedata.category(ch) == "Mn":
                continue
            if ch.isalnum():
                out.append(ch)
            elif ch == "&":
                out.append(" & ")
            else:
                out.append(" ")
    return " ".join("".join(out).split())


def read_answer(question: Question, text: str, vocabulary: Vocabulary) -> Reading:
    """Read one reply as an answer to a question, or say why it is not one."""
    tokens = normalize(text).split()
    if not tokens:
        return Invalid(Reason.EMPTY)
    if question.kind is QuestionKind.NUMBER:
        return _read_number(question, tokens, vocabulary)
    if question.kind is QuestionKind.YESNO:
        return _read_yesno(question, tokens, vocabulary)
    return _read_choices(question, tokens, vocabulary)


@lru_cache(maxsize=256)
def _phrases(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Split phrases into tokens, normalised again so hand-built vocabularies work too."""
    return tuple(split for w in words if (split := tuple(normalize(w).split())))


class _Matcher:
    """Find phrases on token boundaries, each token used by one phrase at most."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tokens
        self.taken = [False] * len(tokens)
        self._at: dict[str, list[int]] = {}
        for i, token in enumerate(tokens):
            self._at.setdefault(token, []).append(i)

    def occurrences(self, words: tuple[str, ...]) -> list[int]:
        """Return where a phrase stands in the text, claimed or not."""
        n = len(words)
        return [i for i in self._at.get(words[0], ()) if tuple(self.tokens[i : i + n]) == words]

    def claim(self, phrases: Iterable[tuple[tuple[str, ...], _T]]) -> list[tuple[_Span, _T]]:
        """Claim phrases longest first, so "school said no" wins over its inner "no"."""
        ordered = sorted(phrases, key=lambda p: -len(p[0]))
        found: list[tuple[_Span, _T]] = []
        for words, value in ordered:
            n = len(words)
            for i in self.occurrences(words):
                if not any(self.taken[i : i + n]):
                    self.taken[i : i + n] = [True] * n
                    found.append(((i, i + n), value))
        return found

    def crossed(
        self, phrases: Iterable[tuple[tuple[str, ...], _T]], found: list[tuple[_Span, _T]]
    ) -> bool:
        """Tell whether a phrase overlaps a claimed one of another value without nesting in it.

        "dijeron que no es elegible" holds "dijeron que no" and "no es elegible": either
        reading could be the one meant, so neither is taken.
        """
        for words, value in phrases:
            n = len(words)
            for i in self.occurrences(words):
                for (start, end), other in found:
                    inside = start <= i and i + n <= end
                    if other != value and start < i + n and i < end and not inside:
                        return True
        return False

    def free(self, i: int) -> bool:
        """Tell whether token i exists and no phrase has claimed it."""
        return 0 <= i < len(self.tokens) and not self.taken[i]


def _find_unsure(matcher: _Matcher, vocabulary: Vocabulary) -> bool | None:
    """Claim the unsure phrases first; return whether one was found, None when unreadable."""
    phrases = _phrases(tuple(vocabulary.unsure) + _UNSURE_ALWAYS)
    found = matcher.claim((words, True) for words in phrases)
    tokens = matcher.tokens
    for (start, end), _ in found:
        if tuple(tokens[start:end]) in (("no", "se"), ("nose",)) and (
            end < len(tokens) and tokens[end] in _SE_CLITICS
        ):
            return None
        if matcher.free(end) and tokens[end] == "si":
            # "no se si ..." is "I don't know if ...": that "si" is not a yes.
            matcher.taken[end] = True
    return bool(found)


def _read_yesno(question: Question, tokens: list[str], vocabulary: Vocabulary) -> Reading:
    """Read yes, no or not sure; the first word decides, a later opposite word voids it."""
    if tuple(tokens[:2]) in _AMBIGUOUS_STARTS:
        return Invalid(Reason.UNCLEAR)
    matcher = _Matcher(tokens)
    unsure = _find_unsure(matcher, vocabulary)
    if unsure is None:
        return Invalid(Reason.UNCLEAR)
    words = [(w, "yes") for w in _phrases(vocabulary.yes)]
    words += [(w, "no") for w in _phrases(vocabulary.no)]
    # Spanish "y" means "and", "s"/"n" are initials: one letter is an answer only up front.
    letters = {w[0]: code for w, code in words if len(w) == 1 and len(w[0]) == 1}
    longer = [(w, code) for w, code in words if not (len(w) == 1 and w[0] in letters)]
    found = matcher.claim(longer)
    if matcher.free(0) and tokens[0] in letters:
        matcher.taken[0] = True
        found.append(((0, 1), letters[tokens[0]]))
        if any(letters.get(t, letters[tokens[0]]) != letters[tokens[0]] for t in tokens[1:]):
            # "Y/N", "S o N": the prompt's options copied back, no answer in them.
            return Invalid(Reason.TWO_ANSWERS)
    answers = {code for _, code in found} | ({"unsure"} if unsure else set())
    if len(answers) > 1 or matcher.crossed(longer, found):
        return Invalid(Reason.TWO_ANSWERS)
    if not answers:
        return Invalid(Reason.UNCLEAR)
    (answer,) = answers
    if answer == "unsure":
        # "Not sure" is already the hedge, and recording it is never a misread.
        return _unsure(question)
    if _contrasted(matcher):
        # "no but the school thinks so": the rest may take the answer back.
        return Invalid(Reason.UNCLEAR)
    at_start = any(start == 0 for (start, _), _ in found)
    if not at_start and (len(tokens) > _SHORT_REPLY or _NEGATORS.intersection(tokens)):
        # "I think yes" is fine; a longer text, or "not really sure", could mean either.
        return Invalid(Reason.UNCLEAR)
    return Answer(answer)


def _unsure(question: Question) -> Reading:
    """Return the question's "not sure" code, or why it has none."""
    if question.unsure_code is None:
        return Invalid(Reason.UNSURE_NOT_ALLOWED)
    return Answer(question.unsure_code)


def _read_choices(question: Question, tokens: list[str], vocabulary: Vocabulary) -> Reading:
    """Read choices given by letter or by word; letters and words must agree."""
    matcher = _Matcher(tokens)
    unsure = _find_unsure(matcher, vocabulary)
    if unsure is None:
        return Invalid(Reason.UNCLEAR)
    phrases = [(w, c.code) for c in question.choices for w in _phrases(c.words)]
    found = matcher.claim(phrases)
    word_codes = {code for _, code in found}
    letters = _Letters(question, vocabulary, matcher, {start for (start, _), _ in found})
    if letters.stray:
        return Invalid(Reason.UNCLEAR)
    if unsure:
        if question.unsure_code is None:
            has_other = bool(word_codes or letters.codes)
            return Invalid(Reason.TWO_ANSWERS if has_other else Reason.UNSURE_NOT_ALLOWED)
        word_codes.add(question.unsure_code)
    if matcher.crossed(phrases, found):
        return Invalid(Reason.UNCLEAR)
    if letters.codes and word_codes and letters.codes != word_codes:
        return Invalid(Reason.TWO_ANSWERS)
    codes = letters.codes | word_codes
    if not codes:
        return Invalid(Reason.UNCLEAR)
    exclusive = {c.code for c in question.choices if c.exclusive}
    several = len(codes) > 1
    if several and (question.kind is not QuestionKind.MULTI or codes & exclusive):
        return Invalid(Reason.TWO_ANSWERS)
    spans = [span for span, _ in found] + ([letters.span] if letters.span else [])
    if codes != {question.unsure_code} and (
        _hedged(question, matcher, spans) or _contrasted(matcher)
    ):
        # "Not sure" alone is recorded whatever comes with it: it is never a misread.
        return Invalid(Reason.UNCLEAR)
    if question.kind is not QuestionKind.MULTI:
        (code,) = codes
        return Answer(code)
    return Answer([c.code for c in question.choices if c.code in codes and not c.exclusive])


def _hedged(question: Question, matcher: _Matcher, spans: list[_Span]) -> bool:
    """Tell whether free words near a read choice (words or letters) negate it or move it in time.

    Negators only count before a choice: after it they are the parent's own words ("No he
    wasn't"). Words saying a choice ended count on either side ("the IEP ended").
    """
    now = question.asks_about is TimeFrame.NOW
    before = _NEGATORS | _TIME_SHIFTS | {"no"} | (_NOT_NOW_BEFORE if now else frozenset())
    around = _free_phrase_marks(matcher, _phrases(_ENDED + (_NOT_NOW_AROUND if now else ())))
    tokens = matcher.tokens
    for start, end in spans:
        for i in range(max(0, start - _HEDGE_WINDOW), start):
            perfect = tokens[i] == "had" and i > 0 and tokens[i - 1] in _PERFECT_AUX
            if matcher.free(i) and tokens[i] in before and not perfect:
                return True
        if any(around[max(0, start - _HEDGE_WINDOW) : end + _HEDGE_WINDOW]):
            return True
    return False


def _contrasted(matcher: _Matcher) -> bool:
    """Tell whether a free "but", "pero", "aunque"... qualifies the reply anywhere in it."""
    return any(_free_phrase_marks(matcher, _phrases(_CONTRASTS)))


def _free_phrase_marks(matcher: _Matcher, phrases: tuple[tuple[str, ...], ...]) -> list[bool]:
    """Mark the tokens of each phrase that stands on tokens no answer claimed.

    Marking once lets each choice check its window by a slice, so a long text of many
    choice words stays linear.
    """
    marks = [False] * len(matcher.tokens)
    for words in phrases:
        n = len(words)
        for i in matcher.occurrences(words):
            if all(matcher.free(k) for k in range(i, i + n)):
                marks[i : i + n] = [True] * n
    return marks


class _Letters:
    """The choice letters a reply leads with ("b", "AB", "a & c", "option B")."""

    def __init__(
        self,
        question: Question,
        vocabulary: Vocabulary,
        matcher: _Matcher,
        phrase_starts: set[int],
    ) -> None:
        self._by_letter: dict[str, Choice] = {normalize(c.letter): c for c in question.choices}
        self._connectors = frozenset(vocabulary.connectors) - self._by_letter.keys()
        tokens = matcher.tokens
        i = 0
        while matcher.free(i) and tokens[i] in _LEAD_INS:
            i += 1
        picked: list[Choice] = []
        letter_at: list[int] = []
        while matcher.free(i):
            choices = self._letters_of(tokens[i])
            if choices:
                picked += choices
                letter_at.append(i)
            elif not (picked and tokens[i] in self._connectors):
                break
            i += 1
        if len(letter_at) == 1 and tokens[letter_at[0]] == "a":
            # "a 504", "a la escuela privada": an article before choice words, not letter A.
            j = letter_at[0] + 1
            while matcher.free(j) and tokens[j] in _ARTICLES:
                j += 1
            if j in phrase_starts and tokens[j] not in _NOT_AFTER_ARTICLE:
                picked = []
        self.codes = {c.code for c in picked}
        #: Where the letters stand, so words near them can hedge them too ("A last year").
        self.span: _Span | None = (letter_at[0], letter_at[-1] + 1) if picked else None
        #: Letters later in the text ("I think B", "B ... actually C"): too loose to trust.
        self.stray = any(
            matcher.free(k) and tokens[k] not in _WORD_LETTERS and bool(self._letters_of(tokens[k]))
            for k in range(i, len(tokens))
        )

    def _letters_of(self, token: str) -> list[Choice]:
        """Return the choices a token names as one letter or as joined letters ("ab")."""
        single = self._by_letter.get(token)
        if single is not None:
            return [single]
        if len(token) < 2 or token in _NOT_JOINED or len(set(token)) != len(token):
            return []
        if all(ch in self._by_letter for ch in token):
            return [self._by_letter[ch] for ch in token]
        return []


def _read_number(question: Question, tokens: list[str], vocabulary: Vocabulary) -> Reading:
    """Read one age in whole years, from digits or number words, months rounded down."""
    matcher = _Matcher(tokens)
    unsure = _find_unsure(matcher, vocabulary)
    if unsure is None:
        return Invalid(Reason.UNCLEAR)
    if unsure:
        return Invalid(Reason.UNSURE_NOT_ALLOWED)
    grade_phrases = _phrases(tuple(vocabulary.grade_words) + tuple(_ORDINAL_WORDS))
    if matcher.claim((w, True) for w in grade_phrases):
        return Invalid(Reason.GRADE)
    numbers = _numbers(matcher, vocabulary)
    if isinstance(numbers, Invalid):
        return numbers
    halves = _HALF_WORDS.intersection(tokens)
    if len(numbers) + bool(halves) > 1:
        return Invalid(Reason.TWO_NUMBERS)
    hedges = _AGE_HEDGES | _AGE_TIME_WORDS | _NEGATORS
    if len(numbers) != 1 or hedges.intersection(tokens):
        return Invalid(Reason.UNCLEAR)
    value, unit = numbers[0]
    months = set(_phrases(vocabulary.month_words))
    has_months = unit == "months" or any(matcher.occurrences(m) for m in months)
    has_years = unit == "years" or bool(_YEAR_WORDS.intersection(tokens))
    if has_months and has_years:
        return Invalid(Reason.UNCLEAR)
    if has_months:
        # Under a year is 0 (the hint says so); 18 months is 1.
        value //= 12
    if not question.minimum <= value <= question.maximum:
        return Invalid(Reason.OUT_OF_RANGE)
    return Answer(value)


def _numbers(matcher: _Matcher, vocabulary: Vocabulary) -> list[tuple[int, str]] | Invalid:
    """Return each number in the text with its unit ("", "years", "months"), or why not."""
    tokens = matcher.tokens
    numbers: list[tuple[int, str]] = []
    for i, token in enumerate(tokens):
        if not any(ch.isdigit() for ch in token):
            continue
        matcher.taken[i] = True
        if token.isascii() and token.isdigit():
            digits = token.lstrip("0") or "0"
            numbers.append((int(digits) if len(digits) <= _MAX_DIGITS else _TOO_BIG, ""))
            continue
        reading = _number_with_suffix(token)
        if isinstance(reading, Invalid):
            return reading
        numbers.append(reading)
    units = _YEAR_WORDS | set(vocabulary.month_words)
    word_numbers = _number_phrases(tuple(vocabulary.numbers.items()))
    for (start, end), value in matcher.claim(word_numbers):
        article = end - start == 1 and tokens[start] in _ARTICLE_ONES
        if not article or (end < len(tokens) and tokens[end] in units):
            numbers.append((value, ""))
    for i, token in enumerate(tokens):
        if (
            matcher.free(i)
            and token in _ARTICLE_ONES
            and i + 1 < len(tokens)
            and tokens[i + 1] in units
        ):
            numbers.append((1, ""))
    return numbers


@lru_cache(maxsize=16)
def _number_phrases(items: tuple[tuple[str, int], ...]) -> tuple[tuple[tuple[str, ...], int], ...]:
    """Split number words ("twenty one") into tokens."""
    return tuple((split, v) for w, v in items if (split := tuple(normalize(w).split())))


def _number_with_suffix(token: str) -> tuple[int, str] | Invalid:
    """Read "9yo", "18mo", "2nd", "5to": a number stuck to a unit or an ordinal ending."""
    match = _NUMBER_WITH_SUFFIX.fullmatch(token)
    if match is None or len(match.group(1)) > _MAX_DIGITS:
        return Invalid(Reason.UNCLEAR)
    value, suffix = int(match.group(1)), match.group(2)
    if suffix == "mo" and value in _ORDINAL_MO:
        # "7mo" is both "7th" (septimo) and "7 months".
        return Invalid(Reason.UNCLEAR)
    if suffix in _MONTH_SUFFIXES:
        return value, "months"
    if suffix in _ORDINAL_SUFFIXES:
        return Invalid(Reason.GRADE)
    if suffix in _YEAR_SUFFIXES:
        return value, "years"
    return Invalid(Reason.UNCLEAR)
