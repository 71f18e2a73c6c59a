"""Show-if conditions ``{"all"|"any": [{"question", "op", "value"|"values"}]}``: check, evaluate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types import Facts, get_type

NUMBER_OPS = {"lt", "le", "gt", "ge"}
ALL_OPS = {"equals", "one_of", "not", "answered", "not_answered", *NUMBER_OPS}


def rules_of(condition: Mapping[str, Any] | None) -> tuple[str, list[dict]]:
    """Split a condition into its combinator and its rules."""
    if not condition:
        return "all", []
    combine = "any" if "any" in condition else "all"
    return combine, list(condition.get(combine) or [])


def condition_errors(condition: Any, earlier: Mapping[str, Question]) -> list[str]:
    """Problems with a condition, given the questions it may refer to (all earlier ones)."""
    if condition is None:
        return []
    if not isinstance(condition, dict) or len(condition) != 1 or not (
        set(condition) <= {"all", "any"}
    ):
        return ['a condition is {"all": [...]} or {"any": [...]}']
    combine, rules = rules_of(condition)
    if not isinstance(condition[combine], list) or not rules:
        return ["a condition needs at least one rule"]
    errors = []
    for rule in rules:
        if not isinstance(rule, dict):
            errors.append("a rule is an object")
            continue
        code, op = rule.get("question"), rule.get("op")
        source = earlier.get(code)
        if source is None:
            errors.append(f"rule refers to {code!r}, which is not an earlier question")
            continue
        if op not in ALL_OPS or op not in get_type(source.type).condition_ops:
            errors.append(f"operator {op!r} does not apply to {code!r} ({source.type})")
            continue
        errors.extend(_value_errors(rule, source))
    return errors


def _value_errors(rule: dict, source: Question) -> list[str]:
    op = rule["op"]
    source_type = get_type(source.type)
    valid_codes = set(source_type.all_codes(source))
    if op in NUMBER_OPS or (op == "equals" and source_type.condition_operand == "number"):
        value = rule.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"rule on {source.code!r} needs a number"]
    elif op in {"equals", "not"}:
        if rule.get("value") not in valid_codes:
            return [f"rule on {source.code!r} names an unknown option {rule.get('value')!r}"]
    elif op == "one_of":
        values = rule.get("values")
        if not isinstance(values, list) or not values or not set(values) <= valid_codes:
            return [f"rule on {source.code!r} needs a list of its option codes"]
    return []


def rule_holds(rule: Mapping[str, Any], facts: Facts | None) -> bool:
    """Evaluate one rule against what is known of the referenced answer."""
    facts = facts or Facts()
    op = rule["op"]
    if op == "answered":
        return facts.answered
    if op == "not_answered":
        return not facts.answered
    if op == "one_of":
        return bool(facts.codes & set(rule["values"]))
    if op == "not":
        return rule["value"] not in facts.codes
    value = rule.get("value")
    if op == "equals":
        if facts.number is not None:
            return facts.number == value
        return value in facts.codes
    if facts.number is None:
        return False
    return {
        "lt": facts.number < value,
        "le": facts.number <= value,
        "gt": facts.number > value,
        "ge": facts.number >= value,
    }[op]


def condition_holds(condition: Mapping[str, Any] | None, facts: Mapping[str, Facts]) -> bool:
    """True when the item with this condition is shown."""
    combine, rules = rules_of(condition)
    if not rules:
        return True
    results = (rule_holds(rule, facts.get(rule["question"])) for rule in rules)
    return any(results) if combine == "any" else all(results)
