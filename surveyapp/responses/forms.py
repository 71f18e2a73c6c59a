"""Forms of the respondent side; page forms are built from the question-type registry."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types import get_type


class ConsentForm(FlaskForm):
    """The start page: the consent box and the key that makes starting idempotent."""

    consent = BooleanField(_l("I have read the information above and agree to take part."))
    consent_text_id = HiddenField()
    start_key = HiddenField()


class WithdrawForm(FlaskForm):
    """The receipt code whose answers are to be deleted."""

    code = StringField(_l("Your receipt code"), validators=[Length(max=40)])


class PageForm(FlaskForm):
    """Base of every page form; the factory adds one set of inputs per question."""

    #: Set to 1 by the page script: the respondent saw conditional questions appear live.
    js = HiddenField()


def make_page_form(questions: list[Question]) -> type[PageForm]:
    """Build the form class of one page from its questions' types, fields named by code."""
    attrs = {}
    for question in questions:
        attrs.update(get_type(question.type).form_fields(question))
    return type("QuestionPageForm", (PageForm,), attrs)
