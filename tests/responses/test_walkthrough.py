"""Every demo questionnaire can be completed by a client that only reads the HTML."""

import pytest
import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.responses.models import Answer, Response, ResponseStatus
from tests.respondent import Respondent

DEMOS = ["needs-tcn", "mentors", "clubs-inclusion", "member-activation", "exit-survey"]


@pytest.mark.parametrize("slug", DEMOS)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_generic_filler_completes_demo(app, client, slug, lang):
    respondent = Respondent(client, slug, lang)
    assert respondent.start().status_code == 302
    html = respondent.complete()
    assert "receipt-code" in html
    with app.app_context():
        response = db.session.scalars(sa.select(Response)).one()
        assert response.status is ResponseStatus.COMPLETE
        assert response.language == lang
        assert response.submitted_at is not None
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer).filter_by(response_id=response.id)
        ) >= 5
        record = db.session.scalars(sa.select(ConsentRecord)).one()
        assert record.response_id == response.id
        assert record.channel == "web"
        assert len(record.digest) == 64


def test_needs_survey_in_arabic_is_right_to_left(client):
    respondent = Respondent(client, "needs-tcn", "ar")
    start = client.get("/s/needs-tcn?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in start
    respondent.start()
    page = respondent.page().get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "receipt-code" in respondent.complete()
