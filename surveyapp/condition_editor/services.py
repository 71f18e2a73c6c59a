"""The condition editor's verbs: what a condition may use, checking, saving and describing it.

A condition (``Question.show_if``, ``Page.show_if``) may only use questions asked before its
item, so visibility is decided in one pass over the questionnaire and can never go round in
a circle. The operators offered for a question come from its type in the registry
(``condition_ops`` and ``condition_operand``), never from a list of type names here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.i18n import localized
from surveyapp.questionnaires.conditions import condition_errors, rules_of
from surveyapp.questionnaires.models import Page, Question, QuestionnaireVersion
from surveyapp.questionnaires.question_types import PREFER_NOT, Label, get_type
from surveyapp.questionnaires.question_types.base import parse_number

#: Rules in one condition; more is a mistake or an attack, not a questionnaire.
MAX_RULES = 20
#: Question texts longer than this are shortened in menus and messages.
SHORT_TEXT = 80


@dataclass(frozen=True)
class Operator:
    """How the editor offers an operator of the condition format."""

    label: Any
    #: What the rule needs besides the question: ``codes`` (a list of option codes),
    #: ``code`` (one option code), ``number``, or ``None`` (nothing).
    takes: str | None
    #: The ``condition_operand`` kinds of question types it is offered for.
    kinds: frozenset[str]


_ALL_KINDS = frozenset({"codes", "number", "none"})
_NUMBER = frozenset({"number"})

#: Operators in the order the editor offers them. ``equals`` on options is not offered (it
#: says the same as "is one of" with one answer); stored ones are read as "is one of".
OPERATORS: dict[str, Operator] = {
    "one_of": Operator(_l("is one of"), "codes", frozenset({"codes"})),
    "not": Operator(_l("is not"), "code", frozenset({"codes"})),
    "equals": Operator(_l("is exactly"), "number", _NUMBER),
    "lt": Operator(_l("is less than"), "number", _NUMBER),
    "le": Operator(_l("is at most"), "number", _NUMBER),
    "gt": Operator(_l("is more than"), "number", _NUMBER),
    "ge": Operator(_l("is at least"), "number", _NUMBER),
    "answered": Operator(_l("is answered"), None, _ALL_KINDS),
    "not_answered": Operator(_l("is not answered"), None, _ALL_KINDS),
}


class StaleCondition(Exception):
    """Someone else changed the condition since the editor was opened."""


@dataclass
class RuleInput:
    """One rule as the editor form holds it (possibly incomplete)."""

    question: str = ""
    op: str = ""
    values: list[str] = field(default_factory=list)
    value: str = ""
    #: The question the operator and answer fields were shown for; another question chosen
    #: without JavaScript means those fields still belong to the previous one.
    shown_for: str = ""

    @property
    def is_empty(self) -> bool:
        """Nothing chosen at all."""
        return not (self.question or self.op or self.values or self.value.strip())


@dataclass(frozen=True)
class Problem:
    """Why a condition cannot be saved: a message for one field of one rule (or the whole)."""

    rule: int | None
    #: ``question``, ``op``, ``values``, ``value`` or ``combine``.
    field: str
    message: str


def is_item_editable(item: Question | Page) -> bool:
    """Only a version that was never published may change its conditions."""
    return item.version.published_at is None


def short_text(texts: Mapping[str, str] | None, lang: str, base: str) -> str:
    """A question text for a menu or a message, in ``lang`` (else the base language), cut short."""
    text = " ".join(localized(texts, lang, base)[0].split())
    return text if len(text) <= SHORT_TEXT else text[: SHORT_TEXT - 1].rstrip() + "…"


def operators_for(question: Question) -> list[str]:
    """The operators the editor offers for conditions on ``question`` (empty: not usable)."""
    question_type = get_type(question.type)
    return [
        op for op, operator in OPERATORS.items()
        if op in question_type.condition_ops and question_type.condition_operand in operator.kinds
    ]


def answer_choices(question: Question, lang: str, base: str) -> list[Label]:
    """The answers a rule on ``question`` may name, labelled in ``lang``.

    "Prefer not to answer" is left out: conditions see it as answered, never as an option.
    """
    if get_type(question.type).condition_operand != "codes":
        return []
    return [label for label in get_type(question.type).answer_labels(question, lang, base)
            if label.code != PREFER_NOT]


def _order(version: QuestionnaireVersion) -> list[tuple[Page, Question]]:
    return [(page, question) for page in version.pages for question in page.questions]


def earlier_questions(item: Question | Page) -> list[Question]:
    """The questions a condition on ``item`` may use, in questionnaire order.

    For a question: those on earlier pages and before it on its page; for a page: those on
    earlier pages. Types that conditions cannot test (a matrix) are left out.
    """
    earlier = []
    for page, question in _order(item.version):
        if question is item or page is item:
            break
        if operators_for(question):
            earlier.append(question)
    return earlier


def condition_digest(condition: Any) -> str:
    """A short fingerprint of a stored condition, to notice someone else's change."""
    text = json.dumps(condition, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _number_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def rules_for_editor(condition: Mapping[str, Any] | None,
                     version: QuestionnaireVersion) -> tuple[str, list[RuleInput]]:
    """A stored condition as the editor's combinator and rows."""
    combine, rules = rules_of(condition)
    questions = {q.code: q for _page, q in _order(version)}
    rows = []
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        code, op = str(rule.get("question") or ""), str(rule.get("op") or "")
        source = questions.get(code)
        operand = get_type(source.type).condition_operand if source is not None else "none"
        if op == "equals" and operand == "codes":
            # Same meaning as "is one of" with a single answer, which the editor offers.
            op, values = "one_of", [str(rule.get("value"))]
        elif op == "one_of":
            values = [str(v) for v in rule.get("values") or []]
        elif op == "not":
            values = [str(rule.get("value"))]
        else:
            values = []
        rows.append(RuleInput(question=code, op=op, values=values,
                              value=_number_text(rule.get("value")), shown_for=code))
    return combine, rows


def prepare_rows(rows: Sequence[RuleInput], item: Question | Page) -> list[RuleInput]:
    """Rows ready to show again: a newly chosen question gets its own first operator."""
    usable = {q.code: q for q in earlier_questions(item)}
    prepared = []
    for row in rows:
        source = usable.get(row.question)
        if source is None:
            prepared.append(row)
            continue
        offered = operators_for(source)
        if row.question != row.shown_for or row.op not in offered:
            row = RuleInput(question=row.question, op=offered[0], shown_for=row.question)
        prepared.append(row)
    return prepared


def build_condition(item: Question | Page, combine: str,
                    rows: Sequence[RuleInput]) -> tuple[dict | None, list[Problem]]:
    """Turn the editor's rows into a condition, or say every reason it cannot be saved.

    No rows means no condition: the item is always shown.
    """
    version = item.version
    base = version.questionnaire.base_language
    position = {q.code: n for n, (_page, q) in enumerate(_order(version))}
    questions = {q.code: (page, q) for page, q in _order(version)}
    usable = {q.code: q for q in earlier_questions(item)}
    problems: list[Problem] = []
    if combine not in ("all", "any"):
        problems.append(Problem(None, "combine", gettext("Choose “all” or “any”.")))
    if len(rows) > MAX_RULES:
        problems.append(Problem(None, "combine", gettext(
            "A condition can have at most %(num)d rules.", num=MAX_RULES)))
    rules = []
    for index, row in enumerate(rows):
        rule, problem = _build_rule(item, index, row, usable, questions, position, base)
        if problem:
            problems.append(problem)
        else:
            rules.append(rule)
    if problems:
        return None, problems
    if not rules:
        return None, []
    condition = {combine: rules}
    # The format's own check as a last guard: the editor must never store what import refuses.
    if condition_errors(condition, usable):
        return None, [Problem(None, "combine", gettext("This condition cannot be saved."))]
    return condition, []


def _build_rule(item, index, row, usable, questions, position, base):
    number = index + 1
    found = questions.get(row.question)
    if row.is_empty:
        return None, Problem(index, "question", gettext(
            "Rule %(number)d is empty: choose a question, or remove the rule.", number=number))
    if not row.question:
        return None, Problem(index, "question", gettext(
            "Rule %(number)d: choose a question.", number=number))
    if found is None:
        return None, Problem(index, "question", gettext(
            "Rule %(number)d: this question does not exist in this version.", number=number))
    page, source = found
    name = short_text(source.text, base, base)
    if source is item:
        return None, Problem(index, "question", gettext(
            "Rule %(number)d: a question cannot depend on its own answer.", number=number))
    if isinstance(item, Page) and page is item:
        return None, Problem(index, "question", gettext(
            "Rule %(number)d: “%(question)s” is on this page. Whether a page is shown cannot "
            "depend on its own answers: that would go round in a circle.",
            number=number, question=name))
    if source.code not in usable and operators_for(source):
        mine = position[item.code] if isinstance(item, Question) else None
        if mine is not None and position[source.code] > mine:
            message = gettext("Rule %(number)d: “%(question)s” is asked after this question. "
                              "A condition can only use questions asked earlier.",
                              number=number, question=name)
        else:
            message = gettext("Rule %(number)d: “%(question)s” is asked on this page or "
                              "later. A page's condition can only use questions of earlier "
                              "pages.", number=number, question=name)
        return None, Problem(index, "question", message)
    if source.code not in usable:
        return None, Problem(index, "question", gettext(
            "Rule %(number)d: “%(question)s” cannot be used in a condition.",
            number=number, question=name))
    if row.question != row.shown_for:
        return None, Problem(index, "op", gettext(
            "Rule %(number)d: you chose another question. Choose how to compare its answer, "
            "then save.", number=number))
    if not row.op:
        return None, Problem(index, "op", gettext(
            "Rule %(number)d: choose how to compare the answer.", number=number))
    if row.op not in operators_for(source):
        operator = OPERATORS.get(row.op)
        return None, Problem(index, "op", gettext(
            "Rule %(number)d: “%(operator)s” does not apply to “%(question)s”.",
            number=number, operator=str(operator.label) if operator else row.op,
            question=name))
    return _rule_value(index, row, source, base)


def _rule_value(index: int, row: RuleInput, source: Question, base: str):
    number = index + 1
    takes = OPERATORS[row.op].takes
    rule: dict[str, Any] = {"question": source.code, "op": row.op}
    if takes is None:
        return rule, None
    if takes == "number":
        value = parse_number(row.value.strip())
        if value is None:
            return None, Problem(index, "value", gettext(
                "Rule %(number)d: please enter a number, such as 3 or 2.5.", number=number))
        rule["value"] = int(value) if value.is_integer() else value
        return rule, None
    valid = [label.code for label in answer_choices(source, base, base)]
    chosen = list(dict.fromkeys(row.values))
    unknown = [code for code in chosen if code not in valid]
    if unknown:
        return None, Problem(index, "values", gettext(
            "Rule %(number)d: “%(code)s” is not an answer of this question.",
            number=number, code=unknown[0]))
    if not chosen:
        return None, Problem(index, "values", gettext(
            "Rule %(number)d: tick at least one answer.", number=number))
    if takes == "code":
        if len(chosen) > 1:
            return None, Problem(index, "values", gettext(
                "Rule %(number)d: “is not” takes exactly one answer. To exclude several, "
                "use “is one of” with the others.", number=number))
        rule["value"] = chosen[0]
    else:
        # In the questionnaire's order, whatever order the boxes were ticked in.
        rule["values"] = [code for code in valid if code in chosen]
    return rule, None


def _target(item: Question | Page) -> str:
    version = item.version
    kind = "question" if isinstance(item, Question) else "page"
    return f"questionnaire:{version.questionnaire.slug} v{version.number} {kind}:{item.code}"[:120]


def save_condition(item: Question | Page, condition: dict | None, expected: str,
                   user_id: int | None) -> bool:
    """Store ``condition`` on ``item`` and log it; ``False`` when it was already stored.

    ``expected`` is the fingerprint of the condition the editor was opened with; the same
    condition sent twice is no change, not a conflict.

    :raise StaleCondition: someone else changed the condition meanwhile.
    :raise ValueError: the item belongs to a published version (also one published while
        this request ran).
    """
    # Lock the version row first, as publishing does (builder.services.editable_tree with
    # lock=True), and read published_at under the lock from the database, not from the
    # session's copy: checked before the lock, a publish committing meanwhile would let this
    # save write into the version respondents already see. (SQLite's writers queue anyway.)
    published_at = db.session.scalar(
        sa.select(QuestionnaireVersion.published_at)
        .where(QuestionnaireVersion.id == item.version_id).with_for_update())
    if published_at is not None:
        raise ValueError("published versions never change")
    # Re-read under a row lock (PostgreSQL), so two saves cannot both pass the check.
    db.session.refresh(item, with_for_update=True)
    if item.show_if == condition:
        return False
    if condition_digest(item.show_if) != expected:
        raise StaleCondition()
    item.show_if = condition
    record(user_id, "condition.remove" if condition is None else "condition.change",
           _target(item))
    db.session.flush()
    return True


def _quoted(text: str) -> str:
    # Isolated (FSI ... PDI), so that a German text inside an Arabic sentence keeps its order.
    # i18n: quotation marks around a question or answer text in a sentence
    return gettext("“%(text)s”", text=f"\u2068{text}\u2069")


def _describe_rule(rule: Mapping[str, Any], source: Question | None, lang: str,
                   base: str) -> str:
    code = str(rule.get("question"))
    name = _quoted(short_text(source.text, lang, base) if source is not None else code)
    labels: dict[str, str] = {}
    operand = "none"
    if source is not None:
        operand = get_type(source.type).condition_operand
        labels = {label.code: label.text for label in answer_choices(source, lang, base)}

    def answer(value: Any) -> str:
        return _quoted(labels.get(str(value), str(value)))

    def number(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        return format_decimal(value)

    op, value = rule.get("op"), rule.get("value")
    if op == "one_of":
        answers = ", ".join(answer(v) for v in rule.get("values") or [])
        return gettext("%(question)s is one of %(answers)s", question=name, answers=answers)
    if op == "not":
        return gettext("%(question)s is not %(answer)s", question=name, answer=answer(value))
    if op == "equals" and operand == "codes":
        return gettext("%(question)s is %(answer)s", question=name, answer=answer(value))
    sentences = {
        "equals": _l("%(question)s is exactly %(number)s"),
        "lt": _l("%(question)s is less than %(number)s"),
        "le": _l("%(question)s is at most %(number)s"),
        "gt": _l("%(question)s is more than %(number)s"),
        "ge": _l("%(question)s is at least %(number)s"),
        "answered": _l("%(question)s is answered"),
        "not_answered": _l("%(question)s is not answered"),
    }
    if op in sentences:
        return str(sentences[op]) % {"question": name, "number": number(value)}
    return f"{name} {op} {value}"


def describe_condition(condition: Mapping[str, Any] | None, version: QuestionnaireVersion,
                       lang: str, *, questions: Mapping[str, Question] | None = None) -> str:
    """The condition as a sentence: interface words in the current locale, texts in ``lang``.

    "Shown when “How long were you a member?” is one of “less than a year”, “1-3 years”."
    A page describing many conditions may pass ``questions`` (the version's questions by
    code), so the version is not indexed again for each one.
    """
    combine, rules = rules_of(condition)
    if not rules:
        return gettext("Always shown.")
    base = version.questionnaire.base_language
    if questions is None:
        questions = {q.code: q for _page, q in _order(version)}
    parts = [_describe_rule(rule, questions.get(rule.get("question")), lang, base)
             for rule in rules if isinstance(rule, Mapping)]
    if len(parts) == 1:
        return gettext("Shown when %(rule)s.", rule=parts[0])
    if combine == "any":
        return gettext("Shown when any of these is true: %(rules)s.", rules="; ".join(parts))
    return gettext("Shown when all of these are true: %(rules)s.", rules="; ".join(parts))


def editor_choices(questions: Sequence[Question], base: str) -> dict[str, Any]:
    """For the page script: each usable question's operators and answers (base language)."""
    return {
        question.code: {
            "ops": [[op, str(OPERATORS[op].label), OPERATORS[op].takes]
                    for op in operators_for(question)],
            "answers": [[label.code, label.text, label.lang]
                        for label in answer_choices(question, base, base)],
        }
        for question in questions
    }
