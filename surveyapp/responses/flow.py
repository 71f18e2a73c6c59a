"""Which pages and questions a respondent sees, given the answers so far."""

from __future__ import annotations

from collections.abc import Mapping

from surveyapp.questionnaires.conditions import condition_holds
from surveyapp.questionnaires.models import Page, Question, QuestionnaireVersion
from surveyapp.questionnaires.question_types import AnswerValue, Facts, get_type


class Flow:
    """Visibility of a version's pages and questions, evaluated in order over the answers.

    A hidden question counts as unanswered for the conditions after it, whatever was stored,
    so that answers to hidden questions never steer the rest of the questionnaire.
    """

    def __init__(self, version: QuestionnaireVersion, values: Mapping[str, list[AnswerValue]]):
        self.version = version
        self.values = values
        self.facts: dict[str, Facts] = {}
        self.visible_pages: list[Page] = []
        self.visible_questions: dict[str, list[Question]] = {}
        for page in version.pages:
            page_shown = condition_holds(page.show_if, self.facts)
            shown: list[Question] = []
            for question in page.questions:
                if page_shown and condition_holds(question.show_if, self.facts):
                    shown.append(question)
                    self.facts[question.code] = get_type(question.type).facts(
                        list(values.get(question.code, []))
                    )
            if page_shown and shown:
                self.visible_pages.append(page)
                self.visible_questions[page.code] = shown

    def is_visible(self, page: Page) -> bool:
        """Whether the page is shown at all."""
        return page.code in self.visible_questions

    def questions_on(self, page: Page) -> list[Question]:
        """The visible questions of a page (empty when the page is hidden)."""
        return self.visible_questions.get(page.code, [])

    def visible_codes(self) -> set[str]:
        """Codes of every visible question."""
        return {q.code for qs in self.visible_questions.values() for q in qs}

    def neighbour(self, page: Page, step: int) -> Page | None:
        """The next (``step=1``) or previous (``-1``) visible page from ``page``."""
        pages = self.version.pages
        index = pages.index(page) + step
        while 0 <= index < len(pages):
            if self.is_visible(pages[index]):
                return pages[index]
            index += step
        return None

    def first_missing(self) -> tuple[Page, Question] | None:
        """The first visible required question without an answer."""
        for page in self.visible_pages:
            for question in self.visible_questions[page.code]:
                if question.is_required and not self.values.get(question.code):
                    return page, question
        return None

    def position(self, page: Page) -> tuple[int, int]:
        """``(n, of)``: the page's place among the visible pages."""
        if page in self.visible_pages:
            return self.visible_pages.index(page) + 1, len(self.visible_pages)
        return 1, max(len(self.visible_pages), 1)
