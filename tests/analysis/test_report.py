"""The PDF summary: its text as a reader (and a search) finds it, in German, Arabic, Tigrinya.

Each report here is really rendered (typst, about half a second) and read back with poppler's
``pdftotext``, the way a golden test of a document should: what matters is what is on the page.
"""

# ruff: noqa: RUF001 -- Arabic, Farsi and Cyrillic letters on purpose, not look-alikes.

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from surveyapp.accounts.models import Role
from surveyapp.analysis import charts
from surveyapp.analysis.filters import ResultFilter
from surveyapp.analysis.protection import protected_period, protected_timeline
from surveyapp.analysis.report import render_report
from surveyapp.analysis.summaries import Cell
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.demo.responses import generate_responses
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Channel, Response, ResponseStatus
from tests.analysis.test_results_pages import login

SLUG = "needs-tcn"
START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
#: Free texts in three scripts, as respondents type them. The Arabic one has no lam-alef:
#: poppler reverses the two letters of that ligature when it extracts right-to-left text.
ARABIC = "نحتاج معلومات عن النوادي في مدينتي"
UKRAINIAN = "Потрібно більше інформації українською мовою"
TIGRINYA = "ኣብ ከተማና ዝያዳ ሓበሬታ ንደሊ"
FARSI = "می‌خواهم درباره‌ی انجمن‌ها بیشتر بدانم"
#: Marks a PDF text extractor puts around right-to-left runs.
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftotext) is not installed")


@pytest.fixture
def needs(app):
    """The nine-language needs survey with 40 complete and 3 unfinished generated responses,
    the newest four answering the last question in Arabic, Ukrainian, Tigrinya and Farsi."""
    questionnaire = get_by_slug(SLUG)
    generate_responses(questionnaire, 40, seed=11, drafts=3, start=START)
    wishes = db.session.scalar(sa.select(Question.id).where(
        Question.version_id == questionnaire.published_version.id, Question.code == "wishes"))
    newest = db.session.scalars(sa.select(Response.id).where(
        Response.questionnaire_id == questionnaire.id,
        Response.status == ResponseStatus.COMPLETE).order_by(Response.id.desc()).limit(4)).all()
    db.session.execute(sa.delete(Answer).where(Answer.question_id == wishes,
                                               Answer.response_id.in_(newest)))
    for response_id, text in zip(newest, (FARSI, TIGRINYA, UKRAINIAN, ARABIC), strict=True):
        db.session.add(Answer(response_id=response_id, question_id=wishes, value_text=text))
    db.session.commit()
    return questionnaire


def pdf_text(pdf: bytes, tmp_path: Path, first: int | None = None, last: int | None = None
             ) -> str:
    """The text poppler extracts (pages ``first`` to ``last``), bidi marks removed."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"],
                         capture_output=True, check=True, text=True).stdout
    return BIDI_MARKS.sub("", out)


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def complete_count(questionnaire, channel: Channel | None = None) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.questionnaire_id == questionnaire.id,
        Response.status == ResponseStatus.COMPLETE,
        *([Response.channel == channel] if channel else [])))


def test_golden_title_page_in_german(app, needs, tmp_path):
    flt = ResultFilter(channel="web")
    pdf = render_report(needs, flt, "de")
    assert pdf.startswith(b"%PDF")
    page = one_line(pdf_text(pdf, tmp_path, 1, 1))
    assert "Was brauchen Sie? Befragung zu Vereinen, Gremien und Verbänden" in page
    with force_locale("de"):
        complete, channel = _("Complete responses"), _("Channel")
    assert f"{channel}: Online" in page  # the filter, in words
    web = complete_count(needs, Channel.WEB)
    assert 0 < web < 40
    assert f"{complete} {web} " in page
    everything = pdf_text(pdf, tmp_path)
    # German question texts from the questionnaire, and a chart label as searchable text.
    assert "Wie alt sind Sie?" in everything
    assert "Keine Angabe" in everything


def test_arabic_report_is_right_to_left_and_quotes_keep_their_script(app, needs, tmp_path):
    pdf = render_report(needs, ResultFilter(), "ar", free_text=True)
    text = pdf_text(pdf, tmp_path)
    assert ARABIC in text  # searchable: real text, in reading order
    assert UKRAINIAN in one_line(text)
    assert "ما هي فئتكم العمرية؟" in text  # the question in Arabic
    first = pdf_text(pdf, tmp_path, 1, 1)
    assert "ماذا تحتاجون؟" in first


def test_tigrinya_report_has_ethiopic_text(app, needs, tmp_path):
    pdf = render_report(needs, ResultFilter(), "ti", free_text=True)
    text = one_line(pdf_text(pdf, tmp_path))
    assert TIGRINYA in text
    assert len(re.findall("[\u1200-\u137f]", text)) > 200  # questions and answers in Ge'ez
    path = tmp_path / "ti.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert "NotoSansEthiopic" in fonts and "DejaVuSans" in fonts


def test_small_counts_are_shown_as_fewer_than(app, needs, tmp_path):
    pdf = render_report(needs, ResultFilter(), "en", crosstabs=[("age_group", "german_level")])
    text = one_line(pdf_text(pdf, tmp_path))
    assert "fewer than 5" in text
    assert "Cross-tabulations" in text and "Small-number protection" in text

def test_a_selection_smaller_than_k_shows_nothing(app, needs, tmp_path):
    needs.min_group_size = 50  # more than the 40 responses
    db.session.commit()
    text = one_line(pdf_text(render_report(needs, ResultFilter(), "en"), tmp_path))
    assert "Fewer than 50 complete responses match this selection" in text
    assert "Results by question" not in text and "Wie alt" not in text


def test_free_texts_only_when_asked_for(app, needs, tmp_path):
    text = pdf_text(render_report(needs, ResultFilter(), "uk"), tmp_path)
    assert UKRAINIAN not in one_line(text)
    assert "Що Вам потрібно?" in text


def test_evaluators_download_the_report_and_it_is_logged(app, client, needs, tmp_path):
    login(client, Role.EVALUATOR)
    response = client.get(f"/staff/results/{SLUG}/report.pdf?labels=ar&free_text=1"
                          "&crosstab=age_group:german_level&channel=web")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ARABIC in pdf_text(response.data, tmp_path)
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "download_report"))
    assert entry is not None and entry.target.startswith(SLUG) and "channel=web" in entry.target
    bad = client.get(f"/staff/results/{SLUG}/report.pdf?from=yesterday&crosstab=wishes:x")
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "YYYY-MM-DD" in page and "wishes:x" in page


def test_interviewers_get_no_report(app, client, needs):
    login(client, Role.INTERVIEWER)
    assert client.get(f"/staff/results/{SLUG}/report.pdf").status_code == 403


def test_cli_writes_the_report(app, runner, needs, tmp_path):
    output = tmp_path / "needs-uk.pdf"
    result = runner.invoke(args=["report", SLUG, "--format", "pdf", "--lang", "uk",
                                 "--output", str(output), "--response-lang", "de",
                                 "--free-text"])
    assert result.exit_code == 0, result.output
    first = one_line(pdf_text(output.read_bytes(), tmp_path, 1, 1))
    assert "Що Вам потрібно?" in first and "Deutsch" in first  # title, and the filter
    wrong = runner.invoke(args=["report", SLUG, "--lang", "xx", "--output", str(output)])
    assert wrong.exit_code != 0 and "xx" in wrong.output


def test_chart_svg_stands_alone_on_a_page_with_others():
    cells = [Cell("a", "نعم، بالتأكيد!", "ar", 12, 60.0), Cell("b", "Ні", "uk", None, None),
             Cell("c", "ኣይፋል", "ti", 8, 40.0)]
    first = charts.bar_chart(cells, "Question one", hidden_text="fewer than 5")
    second = charts.bar_chart(cells, "Question two", hidden_text="fewer than 5", rtl=True)
    for svg in (first, second):
        assert svg.startswith("<svg ") and "<?xml" not in svg and "<style" not in svg
        assert 'role="img"' in svg and "<title>Question" in svg
        assert "ኣይፋል" in svg and "fewer than 5" in svg  # text stays text
        assert "\u200fنعم، بالتأكيد!\u200f" in svg  # right-to-left label kept together
    ids = [set(re.findall(r'id="([^"]+)"', svg)) for svg in (first, second)]
    assert not ids[0] & ids[1]
    for svg in (first, second):  # every reference points into the same chart
        assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= set(re.findall(r'id="([^"]+)"', svg))


def test_timeline_adds_up_days_until_no_count_singles_anyone_out():
    busy = [(date(2026, 3, d), 6, 0) for d in range(1, 29)]
    assert protected_period(busy, 5) == "day"
    # Two people on 2 March: the days would show them, weeks do not.
    sparse = [(date(2026, 3, 2), 2, 0), (date(2026, 3, 4), 4, 5), (date(2026, 3, 20), 9, 0)]
    assert protected_period(sparse, 5) == "week"
    assert charts.timeline_periods(sparse, "week")[0] == (date(2026, 3, 2), 6, 5)
    assert protected_period([(date(2026, 3, 2), 3, 0)], 5) is None
    assert protected_period([], 5) is None


def test_few_unfinished_responses_drop_out_of_the_timeline_not_the_whole_chart():
    # One unfinished response in the whole month: it cannot be shown in any period.
    days = [(date(2026, 3, 2) + timedelta(days=i), 6, 1 if i == 0 else 0) for i in range(10)]
    period, rows, with_partial = protected_timeline(days, 5)
    assert period == "day" and not with_partial
    assert all(partial == 0 for _day, _complete, partial in rows)
    assert protected_timeline([(date(2026, 3, 2), 2, 9)], 5) is None


def test_title_page_gives_the_response_rate_of_personal_invitations(app, needs, tmp_path):
    from surveyapp.db import utcnow
    from surveyapp.fieldwork.services import create_codes

    assert "invitations answered" not in one_line(
        pdf_text(render_report(needs, ResultFilter(), "en"), tmp_path, 1, 1))
    codes = create_codes(needs, 8)
    for invitation in codes[:3]:
        invitation.used_at = utcnow()
    db.session.commit()
    page = one_line(pdf_text(render_report(needs, ResultFilter(), "en"), tmp_path, 1, 1))
    assert "3 of 8 invitations answered (38%)" in page
