"""The respondent side in Chromium on a 390 px phone: whole questionnaires, conditions, errors,
resuming, double submits and right-to-left layout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses import services
from surveyapp.responses.models import Response, ResponseStatus
from tests.browser.walker import (
    complete,
    start,
    token_of,
)

ARABIC = {"locale": "ar", "lang": "ar", "dir": "rtl", "slug": "needs-tcn"}
GERMAN = {"locale": "de-DE", "lang": "de", "dir": "ltr", "slug": "exit-survey"}


# --------------------------------------------------------------------------------------------
# Database look-ups through the app


def complete_count(app, slug: str) -> int:
    with app.app_context():
        questionnaire = get_by_slug(slug)
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Response).where(
                Response.questionnaire_id == questionnaire.id,
                Response.status == ResponseStatus.COMPLETE,
            )
        )


def stored_response(app, slug: str, token: str):
    """(status, language, {question code: [stored values]}) of the response behind ``token``."""
    with app.app_context():
        response = services.find_by_token(get_by_slug(slug), token)
        assert response is not None, "no response for this token"
        values = {
            code: [
                next((x for x in (v.value_text, v.option_code, v.value_number, v.value_date)
                      if x is not None), None)
                for v in vals
            ]
            for code, vals in services.stored_values(response).items()
        }
        return response.status, response.language, values


def _js_id(javascript: bool) -> str:
    return "js" if javascript else "nojs"


# --------------------------------------------------------------------------------------------
# Whole questionnaires


@pytest.mark.parametrize("javascript", [True, False], ids=_js_id)
@pytest.mark.parametrize(
    ("locale", "case"), [("ar", ARABIC), ("de-DE", GERMAN)], ids=["needs-tcn-ar", "exit-survey-de"]
)
def test_questionnaire_completed_on_a_phone(
    live_app, live_server, new_phone, screenshots, locale, case, javascript
):
    page = new_phone(locale, javascript=javascript).new_page()
    slug, lang, direction = case["slug"], case["lang"], case["dir"]
    before = complete_count(live_app, slug)
    prefix = f"{lang}-{slug}" + ("" if javascript else "-nojs")
    start(page, live_server, slug, lang, direction,
          shots=screenshots if javascript else None, shot_name=f"{prefix}-00-start")
    token = token_of(page)

    walk = complete(page, lang=lang, direction=direction, javascript=javascript,
                    shots=screenshots if javascript else None, prefix=prefix)

    assert [p.value for p in walk.progress] == list(range(1, len(walk.pages) + 1))
    assert len(walk.pages) >= 3, walk.pages
    if javascript:
        assert walk.notices == [], "with the page script on, no question may appear late"
    else:
        # The generic answers reveal conditional questions on one page at least.
        assert walk.notices, "expected a 'more questions appeared' notice without the script"
    status, language, values = stored_response(live_app, slug, token)
    assert status is ResponseStatus.COMPLETE
    assert language == lang
    assert complete_count(live_app, slug) == before + 1
    # Answers typed in the browser reached the database.
    texts = [v for vals in values.values() for v in vals if isinstance(v, str) and " " in v]
    assert texts, values
