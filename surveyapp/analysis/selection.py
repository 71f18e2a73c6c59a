"""The filtered responses, and the cheaper of two equal ways to count their answers.

Counting the selected responses' answers directly costs one look-up per answer row. When the
selection is most of the questionnaire (the usual case: "all responses", or "German answers"),
it is much cheaper to count *all* answers to the questionnaire's questions from the covering
index ``ix_answers_summary`` and subtract the answers of the few responses left out (drafts,
previews, other units). Both give the same numbers; ``Selection`` picks by the sizes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from surveyapp.analysis.catalogue import Catalogue
from surveyapp.analysis.filters import ResultFilter, selected_ids
from surveyapp.analysis.sql import unindexed
from surveyapp.db import db
from surveyapp.responses.models import Answer, Response


@dataclass
class Selection:
    """The complete responses a filter selects, with sizes to choose how to aggregate."""

    catalogue: Catalogue
    flt: ResultFilter
    #: Selected (complete, real, filtered) responses.
    selected: int
    #: Other responses of the questionnaire (drafts, previews, withdrawn, filtered out).
    others: int

    @classmethod
    def of(cls, catalogue: Catalogue, flt: ResultFilter,
           selected: int | None = None) -> Selection:
        """Measure the selection; ``selected`` if the caller has counted it already."""
        if selected is None:
            ids = selected_ids(catalogue, flt)
            selected = db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
            Response.questionnaire_id == catalogue.questionnaire.id))
        return cls(catalogue, flt, int(selected or 0), int(total or 0) - int(selected or 0))

    @property
    def ids(self) -> sa.Select:
        """``SELECT id`` of the selected responses."""
        return selected_ids(self.catalogue, self.flt)

    @property
    def by_complement(self) -> bool:
        """Whether to count everything and subtract the responses left out."""
        return self.others < self.selected

    def _left_out(self) -> sa.Select:
        # NOT EXISTS, not NOT IN: PostgreSQL plans it as a hash anti-join, while NOT IN over a
        # million ids outgrew work_mem and became a quadratic scan (minutes at 1M responses).
        selected = self.ids.subquery()
        return sa.select(Response.id).where(
            Response.questionnaire_id == self.catalogue.questionnaire.id,
            ~sa.exists().where(selected.c.id == Response.id))

    def count(self, columns: Sequence[sa.ColumnElement], question_ids: Sequence[int],
              *conditions: sa.ColumnElement[bool], distinct_respondents: bool = False
              ) -> Counter[tuple]:
        """Answers (or distinct respondents) of the selection, grouped by ``columns``."""
        if not question_ids or not self.selected:
            return Counter()
        measure = (sa.func.count(sa.distinct(Answer.response_id)) if distinct_respondents
                   else sa.func.count())

        def run(*where: sa.ColumnElement[bool], by_response: bool = False) -> Counter[tuple]:
            # by_response: few responses, so look their answers up through the response
            # index rather than scanning every answer to these questions.
            question = unindexed(Answer.question_id) if by_response else Answer.question_id
            statement = (sa.select(*columns, measure)
                         .where(question.in_(question_ids), *conditions, *where)
                         .group_by(*columns))
            # Core, not the ORM: a table of numbers may have a row per distinct value.
            result = db.session.connection().execute(statement)
            return Counter({tuple(row[:-1]): row[-1] for row in result})

        if not self.by_complement:
            return run(Answer.response_id.in_(self.ids), by_response=True)
        counts = run()
        if self.others:
            # For distinct respondents this subtraction holds too: each response is wholly
            # inside or outside the selection.
            counts.subtract(run(Answer.response_id.in_(self._left_out()), by_response=True))
        return +counts  # drops the keys that only left-out responses had

    def newest_texts(self, question_ids: Sequence[int], limit: int) -> list[str]:
        """The newest free texts given to these questions by selected respondents."""
        # Walk answers from the newest and stop at ``limit``: cheap for common answers. The
        # selection is checked per answer walked (a correlated EXISTS, one primary-key look-up
        # each), not as ``IN (SELECT ...)``, which builds the list of every selected response
        # first: about 25 ms at 100,000 responses, for each free-text question.
        statement = (sa.select(Answer.value_text)
                     .where(unindexed(Answer.question_id).in_(question_ids),
                            Answer.value_text.is_not(None),
                            self.ids.where(Response.id == Answer.response_id).exists())
                     .order_by(Answer.id.desc()).limit(limit))
        return list(db.session.scalars(statement))
