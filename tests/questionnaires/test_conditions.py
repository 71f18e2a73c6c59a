"""Show-if conditions: checked at import, evaluated in order, same answers as the script sees."""

import pytest

from surveyapp.questionnaires.conditions import condition_errors, condition_holds, rule_holds
from surveyapp.questionnaires.question_types import Facts
from tests.questionnaires.test_question_types import question

CHOICE = question("single_choice", code="c", options=["a", "b", "c"], pna=True)
NUMBER = question("integer", code="n")
MATRIX = question("matrix", code="m", options=["1"], rows=["r"])
EARLIER = {"c": CHOICE, "n": NUMBER, "m": MATRIX}


@pytest.mark.parametrize(
    "rule,facts,expected",
    [
        ({"op": "equals", "value": "a"}, Facts(True, {"a"}), True),
        ({"op": "equals", "value": "a"}, Facts(True, {"b"}), False),
        ({"op": "one_of", "values": ["a", "b"]}, Facts(True, {"b"}), True),
        ({"op": "one_of", "values": ["a"]}, Facts(True, set()), False),
        ({"op": "not", "value": "a"}, Facts(True, {"b"}), True),
        ({"op": "not", "value": "a"}, Facts(True, {"a", "b"}), False),
        ({"op": "answered"}, Facts(True), True),
        ({"op": "answered"}, Facts(), False),
        ({"op": "not_answered"}, Facts(), True),
        ({"op": "lt", "value": 5}, Facts(True, number=4), True),
        ({"op": "le", "value": 5}, Facts(True, number=5), True),
        ({"op": "gt", "value": 5}, Facts(True, number=5), False),
        ({"op": "ge", "value": 5}, Facts(True, number=5), True),
        ({"op": "equals", "value": 5}, Facts(True, number=5), True),
        ({"op": "gt", "value": 5}, Facts(True), False),  # prefer-not: no number, no match
        ({"op": "lt", "value": 5}, None, False),
    ],
)
def test_rules(rule, facts, expected):
    assert rule_holds({"question": "x", **rule}, facts) is expected


def test_all_and_any():
    facts = {"c": Facts(True, {"a"}), "n": Facts(True, number=3)}
    rules = [{"question": "c", "op": "equals", "value": "a"},
             {"question": "n", "op": "gt", "value": 10}]
    assert condition_holds({"all": rules}, facts) is False
    assert condition_holds({"any": rules}, facts) is True
    assert condition_holds(None, facts) is True


@pytest.mark.parametrize(
    "condition,problem",
    [
        ({"all": [{"question": "later", "op": "answered"}]}, "not an earlier question"),
        ({"all": [{"question": "c", "op": "gt", "value": 1}]}, "does not apply"),
        ({"all": [{"question": "n", "op": "one_of", "values": ["a"]}]}, "does not apply"),
        ({"all": [{"question": "m", "op": "answered"}]}, "does not apply"),
        ({"all": [{"question": "c", "op": "equals", "value": "zz"}]}, "unknown option"),
        ({"all": [{"question": "c", "op": "one_of", "values": []}]}, "list of its option"),
        ({"all": [{"question": "n", "op": "lt", "value": "5"}]}, "needs a number"),
        ({"all": []}, "at least one rule"),
        ({"both": []}, '{"all"'),
        ("c == a", '{"all"'),
    ],
)
def test_condition_errors(condition, problem):
    errors = condition_errors(condition, EARLIER)
    assert any(problem in e for e in errors), errors


def test_valid_condition_has_no_errors():
    assert condition_errors(
        {"any": [{"question": "c", "op": "one_of", "values": ["a", "_pna"]},
                 {"question": "n", "op": "ge", "value": 18}]}, EARLIER
    ) == []
