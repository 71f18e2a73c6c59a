"""Links and QR codes: per language and per unit, attribution through the respondent pages."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image

from surveyapp.accounts.models import Role, Unit
from surveyapp.accounts.permissions import ROLE_PERMISSIONS, Permission
from surveyapp.accounts.services import create_user
from surveyapp.cli import DEMO_DIR
from surveyapp.db import db
from surveyapp.fieldwork.links import public_link, unit_from_parameter, unit_link
from surveyapp.questionnaires.models import QuestionnaireState
from surveyapp.questionnaires.services import get_by_slug, share
from surveyapp.responses.models import Response, ResponseStatus
from surveyapp.transfer import import_questionnaire
from tests.conftest import csrf_token, hidden_values
from tests.respondent import Respondent

zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test extra) decodes QR codes")

SLUG = "needs-tcn"


def decode(png: bytes) -> list[str]:
    """The texts of every QR code in a PNG."""
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def unit(code: str) -> Unit:
    return db.session.scalar(sa.select(Unit).filter_by(code=code))


def links(app, slug: str = SLUG, unit_code: str | None = None, lang: str | None = None) -> str:
    """A link as the application builds it for a request to http://localhost/."""
    with app.test_request_context():
        questionnaire = get_by_slug(slug)
        if unit_code:
            return unit_link(questionnaire, unit(unit_code), lang)
        return public_link(questionnaire, lang)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def start(client, url: str, **override):
    """Open a link and give consent with what the page carries; return the POST's answer."""
    page = client.get(path_of(url))
    assert page.status_code == 200
    data = {**hidden_values(page.get_data(as_text=True)), "consent": "y", **override}
    return client.post(path_of(url), data=data)


def finish(client, started) -> Response:
    """Answer every page after a successful start; return the stored response."""
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    respondent = Respondent(client, SLUG)
    respondent.url = started.headers["Location"]
    respondent.complete()
    return db.session.scalars(sa.select(Response)).one()


# --- links -------------------------------------------------------------------------------

def test_unit_link_attributes_the_response_end_to_end(app, client):
    url = links(app, unit_code="koeln")
    page = client.get(path_of(url)).get_data(as_text=True)
    assert hidden_values(page)["unit"] == parse_qs(urlsplit(url).query)["u"][0]
    response = finish(client, start(client, url))
    assert response.status is ResponseStatus.COMPLETE
    assert response.unit_id == unit("koeln").id


@pytest.mark.parametrize("tamper", [
    lambda value: value[:-1] + ("A" if value[-1] != "A" else "B"),  # one character changed
    lambda value: value.split(".")[0],                               # the tag cut off
    lambda value: str(int(value.split(".")[0]) + 1) + "." + value.split(".")[1],  # other unit
    lambda value: "koeln",                                           # a guessed code
    lambda value: "x" * 500,
])
def test_a_tampered_unit_link_starts_an_unattributed_response(app, client, tamper):
    url = links(app, unit_code="koeln")
    value = parse_qs(urlsplit(url).query)["u"][0]
    page = client.get(f"/s/{SLUG}?u={tamper(value)}")
    assert page.status_code == 200  # never an error for the respondent
    assert "unit" not in hidden_values(page.get_data(as_text=True))
    response = finish(client, start(client, f"/s/{SLUG}?u={tamper(value)}"))
    assert response.status is ResponseStatus.COMPLETE and response.unit_id is None


def test_the_unit_is_verified_again_on_the_consent_post(app, client):
    valid = parse_qs(urlsplit(links(app, unit_code="koeln")).query)["u"][0]
    forged = valid[:-2] + "zz"
    response = finish(client, start(client, links(app, unit_code="koeln"), unit=forged))
    assert response.unit_id is None


def test_a_unit_link_of_another_questionnaire_attributes_nothing(app):
    with app.test_request_context():
        other = get_by_slug("mentors")
        value = parse_qs(urlsplit(unit_link(other, unit("koeln"))).query)["u"][0]
        assert unit_from_parameter(other, value) == unit("koeln").id
        assert unit_from_parameter(get_by_slug(SLUG), value) is None


def test_unit_links_change_with_the_secret(app):
    with app.test_request_context():
        questionnaire = get_by_slug(SLUG)
        value = parse_qs(urlsplit(unit_link(questionnaire, unit("koeln"))).query)["u"][0]
        app.config["LINK_SECRET_KEY"] = "another secret"
        try:
            assert unit_from_parameter(questionnaire, value) is None
        finally:
            del app.config["LINK_SECRET_KEY"]
        assert unit_from_parameter(questionnaire, value) == unit("koeln").id


def test_the_unit_survives_the_language_switch(app, client):
    url = links(app, unit_code="leipzig")
    page = client.get(path_of(url)).get_data(as_text=True)
    switch = re.search(r'href="(\?choose=ar[^"]*)"', page).group(1).replace("&amp;", "&")
    switched = client.get(f"/s/{SLUG}{switch}")
    assert 'lang="ar"' in switched.get_data(as_text=True)
    started = client.post(f"/s/{SLUG}{switch}", data={
        **hidden_values(switched.get_data(as_text=True)), "consent": "y"})
    response = finish(client, started)
    assert response.unit_id == unit("leipzig").id and response.language == "ar"


@pytest.mark.parametrize("lang", ["ar", "ti", "uk"])
def test_a_language_link_opens_in_that_language(app, client, lang):
    url = links(app, lang=lang)
    assert url.endswith(f"/s/{SLUG}?lang={lang}")
    html = client.get(path_of(url)).get_data(as_text=True)
    title = get_by_slug(SLUG).published_version.title[lang]
    assert f'<html lang="{lang}"' in html and title in html
    response = finish(client, start(client, url))
    assert response.language == lang and response.unit_id is None


def test_the_general_link_is_the_start_page(app):
    assert links(app) == f"http://localhost/s/{SLUG}"


# --- the share page and its downloads ------------------------------------------------------

def log_in(app, role: Role, shared: bool = True):
    """A client logged in with ``role``; a builder gets the questionnaire shared if asked."""
    client = app.test_client()
    user, _ = create_user(f"share-{role.value}@example.org", role, "a long enough password")
    if shared:
        share(get_by_slug(SLUG), user)
    db.session.commit()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    assert client.post("/staff/login", data={
        "csrf_token": token, "email": f"share-{role.value}@example.org",
        "password": "a long enough password"}).status_code == 302
    return client


SHARE = f"/staff/questionnaires/{SLUG}/share"


def test_the_share_page_shows_every_link_with_its_code(app, staff_client):
    html = staff_client.get(SHARE).get_data(as_text=True)
    def shown(url: str) -> str:
        return f">{url}</textarea>".replace("&", "&amp;")

    assert shown(links(app)) in html
    for lang in get_by_slug(SLUG).languages:
        assert shown(links(app, lang=lang)) in html
    units = list(db.session.scalars(sa.select(Unit)))
    for each in units:
        assert shown(links(app, unit_code=each.code)) in html
        assert f"qr.svg?unit={each.id}" in html
    # The tree: a chapter's <details> sits inside its region's.
    nrw = html.index(">Nordrhein-Westfalen</bdi></summary>")
    koeln = html.index(">Köln</bdi></summary>")
    sachsen = html.index(">Sachsen</bdi></summary>")
    assert nrw < koeln < sachsen
    between = html[nrw:koeln]
    assert between.count("<details") - between.count("</details>") == 1  # Köln's, inside
    assert html[koeln:sachsen].count("</details>") == 2  # Köln's, then the region's
    assert html.count("<details") == len(units) + len(get_by_slug(SLUG).languages)


@pytest.mark.parametrize("query", ["", "lang=ar", "unit={koeln}", "unit={koeln}&lang=ti"])
def test_png_codes_decode_to_the_exact_link(app, staff_client, query):
    koeln = unit("koeln")
    query = query.format(koeln=koeln.id)
    args = parse_qs(query)
    expected = links(app, unit_code="koeln" if "unit" in args else None,
                     lang=args.get("lang", [None])[0])
    png = staff_client.get(f"{SHARE}/qr.png?{query}&download=1")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode(png.data) == [expected]
    name = "-".join(p for p in (SLUG, "koeln" if "unit" in args else None,
                                 args.get("lang", [None])[0], "qr.png") if p)
    assert png.headers["Content-Disposition"] == f"attachment; filename={name}"


def test_svg_codes_are_offered_for_the_page_and_as_download(app, staff_client):
    shown = staff_client.get(f"{SHARE}/qr.svg?lang=fa")
    assert shown.status_code == 200 and shown.mimetype == "image/svg+xml"
    assert "attachment" not in shown.headers.get("Content-Disposition", "")
    assert b"<svg" in shown.data and links(app, lang="fa").encode() in shown.data
    saved = staff_client.get(f"{SHARE}/qr.svg?lang=fa&download=1")
    assert saved.headers["Content-Disposition"] == \
        f"attachment; filename={SLUG}-fa-qr.svg"


@pytest.mark.parametrize("query", ["lang=xx", "unit=999999", "unit=abc", "paper=a3",
                                   "flyer_lang=xx"])
def test_unknown_choices_are_not_found(staff_client, query):
    assert staff_client.get(f"{SHARE}/flyer.pdf?{query}").status_code == 404


def test_only_admins_and_builders_of_the_questionnaire_may_share(app):
    assert Permission.SHARE_LINKS in ROLE_PERMISSIONS[Role.BUILDER]
    assert Permission.SHARE_LINKS not in ROLE_PERMISSIONS[Role.EVALUATOR]
    assert log_in(app, Role.BUILDER).get(SHARE).status_code == 200
    assert log_in(app, Role.EVALUATOR).get(SHARE).status_code == 403
    assert log_in(app, Role.INTERVIEWER).get(f"{SHARE}/qr.png").status_code == 403
    other = app.test_client()
    create_user("other-builder@example.org", Role.BUILDER, "a long enough password")
    db.session.commit()
    token = csrf_token(other.get("/staff/login").get_data(as_text=True))
    other.post("/staff/login", data={"csrf_token": token, "email": "other-builder@example.org",
                                     "password": "a long enough password"})
    assert other.get(SHARE).status_code == 403  # not their questionnaire
    assert other.get(f"{SHARE}/flyer.pdf").status_code == 403
    assert app.test_client().get(SHARE).status_code == 302  # to the login


def test_the_questionnaire_list_links_to_the_share_page(app):
    assert SHARE in log_in(app, Role.BUILDER).get("/staff/questionnaires/").get_data(
        as_text=True)
    assert SHARE not in log_in(app, Role.EVALUATOR).get("/staff/questionnaires/").get_data(
        as_text=True)


def test_a_draft_shows_a_note_instead_of_codes(app, staff_client):
    data = json.loads((DEMO_DIR / "exit-survey.json").read_text(encoding="utf-8"))
    data["slug"] = "links-draft"
    import_questionnaire(data)
    db.session.commit()
    html = staff_client.get("/staff/questionnaires/links-draft/share").get_data(as_text=True)
    assert "not been published yet" in html
    assert "<img" not in html and "/s/links-draft" not in html
    for download in ("qr.svg", "qr.png", "flyer.pdf"):
        assert staff_client.get(f"/staff/questionnaires/links-draft/share/{download}"
                                ).status_code == 404


def test_a_closed_questionnaire_still_has_codes_with_a_warning(app, staff_client):
    get_by_slug(SLUG).move_to(QuestionnaireState.CLOSED)
    db.session.commit()
    html = staff_client.get(SHARE).get_data(as_text=True)
    assert "not open for answers" in html and "<img" in html


def test_a_link_of_a_deleted_unit_attributes_nothing(app):
    from surveyapp.accounts.models import UnitKind
    from surveyapp.accounts.services import ensure_unit

    with app.test_request_context():
        questionnaire = get_by_slug(SLUG)
        gone = ensure_unit("links-gone", "Gone", UnitKind.CHAPTER)
        value = parse_qs(urlsplit(unit_link(questionnaire, gone)).query)["u"][0]
        assert unit_from_parameter(questionnaire, value) == gone.id
        db.session.delete(gone)
        db.session.flush()
        assert unit_from_parameter(questionnaire, value) is None
