"""Counted target marks: a small registry of things the app can count per unit and period.

Each metric is a function ``(unit_ids, start, end, **params) -> int`` that counts with one SQL
aggregate what happened in those units (a unit and its sub-units) from ``start`` to ``end``
(both days counted in). Other packages add theirs with :func:`register_metric`, for example
fieldwork's "new contacts" and campaigns' "calls reached".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class MetricParam:
    """A setting a metric needs, chosen from a list (a questionnaire, a campaign)."""

    name: str
    label: object
    #: ``() -> [(value, label), ...]`` offered to staff; values are stored in the mark.
    choices: Callable[[], list[tuple[str, str]]]


@dataclass(frozen=True)
class Metric:
    """Something the app counts for a target mark."""

    name: str
    label: object
    count: Callable[..., int]
    params: tuple[MetricParam, ...] = field(default_factory=tuple)


_REGISTRY: dict[str, Metric] = {}


def register_metric(name: str, label, count: Callable[..., int],
                    params: tuple[MetricParam, ...] = ()) -> Metric:
    """Make ``count`` available for counted marks under ``name`` (a stable code).

    :param label: a lazy translated label, shown to staff.
    :param count: ``(unit_ids: list[int], start: date, end: date, **params) -> int``.
    """
    metric = Metric(name, label, count, tuple(params))
    _REGISTRY[name] = metric
    return metric


def get_metric(name: str | None) -> Metric | None:
    """The registered metric called ``name``, if any."""
    return _REGISTRY.get(name or "")


def all_metrics() -> list[Metric]:
    """Every registered metric, in the order they were registered."""
    return list(_REGISTRY.values())


def count_mark(name: str, unit_ids: list[int], start: date, end: date, params: dict) -> int | None:
    """The metric's value, or ``None`` when the metric is not (or no longer) registered."""
    metric = get_metric(name)
    if metric is None:
        return None
    return metric.count(unit_ids, start, end, **params)


def _questionnaire_choices() -> list[tuple[str, str]]:
    from surveyapp.questionnaires.services import list_questionnaires

    choices = []
    for questionnaire in list_questionnaires():
        version = questionnaire.latest_version
        title = version.title.get(questionnaire.base_language) if version else None
        choices.append((questionnaire.slug, f"{title} ({questionnaire.slug})" if title
                        else questionnaire.slug))
    return choices


QUESTIONNAIRE = MetricParam("questionnaire", _l("Questionnaire"), _questionnaire_choices)


def _complete_responses(unit_ids: list[int], start: date, end: date, *,
                        questionnaire: str) -> int:
    from surveyapp.responses.services import count_complete_between

    return count_complete_between(questionnaire, unit_ids, start, end)


register_metric("complete_responses", _l("Complete responses to a questionnaire"),
                _complete_responses, (QUESTIONNAIRE,))
