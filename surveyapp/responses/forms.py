"""Forms of the respondent side; page forms are built from the question-type registry."""

from __future__ import annotations

from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
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


class PrefilledPage:
    """A page as first shown: the stored values and a CSRF token, without building a form.

    Templates read ``form[name].data`` and ``form.csrf_token`` alike from this and from a
    posted ``PageForm``; a GET needs no parsing, so it skips WTForms (about 5 % of a page).
    """

    def __init__(self, data: dict):
        self._data = data

    def __getitem__(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(data=self._data.get(name))

    @property
    def csrf_token(self) -> Markup:
        """The hidden CSRF input, as WTForms renders it."""
        return Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="{}">').format(
            generate_csrf()
        )


def make_page_form(questions: list[Question]) -> type[PageForm]:
    """Build the form class of one page from its questions' types, fields named by code."""
    attrs = {}
    for question in questions:
        attrs.update(get_type(question.type).form_fields(question))
    return type("QuestionPageForm", (PageForm,), attrs)
