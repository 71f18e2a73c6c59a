"""Cross-tabulation of two choice questions, with row and column percentages.

Counts are respondents: a respondent who chose two options of a multiple-choice question
counts in both rows, so rows may sum to more than the row's respondents; the bases (``row_n``,
``col_n``, ``n``) are always distinct respondents who answered both questions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from surveyapp.analysis.catalogue import Catalogue, CatalogueQuestion
from surveyapp.analysis.filters import ResultFilter, selected_ids
from surveyapp.analysis.protection import is_too_small, protect_table
from surveyapp.db import db
from surveyapp.questionnaires.question_types import Label
from surveyapp.responses.models import Answer


class NotCrossTabulable(ValueError):
    """One of the two questions is unknown or has no answer codes to count."""


@dataclass
class Crosstab:
    """Respondents by the answer to ``row`` (lines) and to ``column`` (columns)."""

    row: CatalogueQuestion
    column: CatalogueQuestion
    row_labels: list[Label]
    column_labels: list[Label]
    #: counts[i][j]: respondents with row answer i and column answer j (None: suppressed).
    counts: list[list[int | None]]
    #: Respondents per row / column answer who answered both questions (None: suppressed).
    row_n: list[int | None]
    col_n: list[int | None]
    #: Respondents who answered both questions.
    n: int
    threshold: int
    #: The whole table is hidden: fewer than ``threshold`` respondents answered both.
    suppressed: bool = False

    def row_percent(self, i: int, j: int) -> float | None:
        """Share of row i's respondents that gave column answer j."""
        count, base = self.counts[i][j], self.row_n[i]
        return None if count is None or not base else 100.0 * count / base

    def column_percent(self, i: int, j: int) -> float | None:
        """Share of column j's respondents that gave row answer i."""
        count, base = self.counts[i][j], self.col_n[j]
        return None if count is None or not base else 100.0 * count / base


def _codes(question_ids: list[int]) -> pd.DataFrame:
    """(response_id, code) of every coded answer to these question rows."""
    rows = db.session.connection().execute(
        sa.select(Answer.response_id, Answer.option_code)
        .where(Answer.question_id.in_(question_ids), Answer.option_code.is_not(None))).all()
    return pd.DataFrame(rows, columns=["response_id", "code"]).astype({"response_id": "int64"})


def _labels_with_codes(question: CatalogueQuestion, codes: set[str]) -> list[Label]:
    known = {label.code for label in question.labels}
    return question.labels + [Label(code, code, "") for code in sorted(codes - known)]


def build_crosstab(catalogue: Catalogue, flt: ResultFilter, row_code: str, col_code: str,
                   k: int | None = None) -> Crosstab:
    """Cross-tabulate two choice questions over the filtered complete responses."""
    row, column = catalogue.get(row_code), catalogue.get(col_code)
    for code, question in ((row_code, row), (col_code, column)):
        if question is None or not question.is_choice:
            raise NotCrossTabulable(code)
    assert row is not None and column is not None
    k = catalogue.questionnaire.min_group_size if k is None else k
    # A self-join of the answers table is planned badly by SQLite (minutes at 100,000
    # responses); two index range scans joined in pandas take a fraction of a second.
    selected = pd.DataFrame({"response_id": pd.Series(
        db.session.connection().execute(selected_ids(catalogue, flt)).scalars().all(),
        dtype="int64")})
    pairs = (_codes(row.ids).merge(selected, on="response_id")
             .merge(_codes(column.ids), on="response_id", suffixes=("_r", "_c")))
    table = pairs.groupby(["code_r", "code_c"]).size().to_dict()
    row_counts = pairs.groupby("code_r")["response_id"].nunique().to_dict()
    col_counts = pairs.groupby("code_c")["response_id"].nunique().to_dict()
    n = int(pairs["response_id"].nunique())
    row_labels = _labels_with_codes(row, set(row_counts))
    column_labels = _labels_with_codes(column, set(col_counts))
    raw = [[table.get((rl.code, cl.code), 0) for cl in column_labels] for rl in row_labels]
    suppressed = is_too_small(n, k)
    counts = protect_table(raw, k) if not suppressed else [[None] * len(column_labels)
                                                           for _ in row_labels]

    def margin(values: dict[str, int], labels: list[Label]) -> list[int | None]:
        return [None if suppressed or is_too_small(values.get(label.code, 0), k)
                else values.get(label.code, 0) for label in labels]

    return Crosstab(row=row, column=column, row_labels=row_labels, column_labels=column_labels,
                    counts=counts, row_n=margin(row_counts, row_labels),
                    col_n=margin(col_counts, column_labels), n=n, threshold=k,
                    suppressed=suppressed)
