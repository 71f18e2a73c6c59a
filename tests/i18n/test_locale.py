"""The language chain, plural forms and locale formatting."""

from datetime import date

import pytest
from flask_babel import force_locale, format_date, format_decimal, ngettext

from surveyapp.i18n import direction, localized, pick_language

OFFERED = ["de", "en", "ar", "fa"]


@pytest.mark.parametrize(
    "explicit,query,accept,expected",
    [
        ("fa", "ar", "en", "fa"),  # the respondent's choice beats everything
        (None, "ar", "en", "ar"),  # then the link parameter
        (None, None, "en-GB,en;q=0.9", "en"),  # then the browser
        (None, None, "fr, ar;q=0.5", "ar"),  # the browser's best offered language
        (None, None, "tr", "de"),  # then the base language
        ("xx", "yy", "tr", "de"),  # languages not offered are never chosen
    ],
)
def test_language_chain(app, explicit, query, accept, expected):
    path = f"/?lang={query}" if query else "/"
    with app.test_request_context(path, headers={"Accept-Language": accept}):
        assert pick_language(OFFERED, "de", explicit=explicit) == expected


def test_directions():
    assert [direction(lang) for lang in ("ar", "fa", "de", "ti", "uk")] == [
        "rtl", "rtl", "ltr", "ltr", "ltr"]


def test_content_fallback_names_its_language():
    assert localized({"de": "Hallo", "ar": ""}, "ar", "de") == ("Hallo", "de")
    assert localized({"de": "Hallo", "ar": "مرحبا"}, "ar", "de") == ("مرحبا", "ar")


@pytest.mark.parametrize(
    "n,expected",
    # Arabic has six plural forms: zero, one, two, few (3-10), many (11-99), other.
    [(0, 0), (1, 1), (2, 2), (3, 3), (10, 3), (11, 4), (99, 4), (100, 5), (102, 5)],
)
def test_arabic_plural_forms(app, n, expected):
    with app.test_request_context(), force_locale("ar"):
        from flask_babel import get_translations

        catalog = get_translations()
        assert catalog.plural(n) == expected
        text = ngettext("Please choose at least %(num)d option.",
                        "Please choose at least %(num)d options.", n)
        assert str(n) in text and "Please" not in text


def test_every_arabic_plural_form_is_distinct_where_the_language_needs_it(app):
    with app.test_request_context(), force_locale("ar"):
        forms = {ngettext("Please choose at least %(num)d option.",
                          "Please choose at least %(num)d options.", n).replace(str(n), "N")
                 for n in (0, 1, 2, 3, 11, 100)}
    assert len(forms) >= 4


def test_numbers_and_dates_follow_the_locale(app):
    with app.test_request_context():
        with force_locale("de"):
            assert format_decimal(1234.5) == "1.234,5"
            assert format_date(date(2026, 11, 21)) == "21.11.2026"
        with force_locale("en"):
            assert format_decimal(1234.5) == "1,234.5"
        with force_locale("uk"):
            assert format_decimal(1234.5).replace("\xa0", " ") == "1 234,5"


def test_text_in_another_script_is_isolated(app):
    from flask import g

    from surveyapp.i18n import content_text, text_direction

    assert text_direction("  (English)") == "ltr" and text_direction("العربية") == "rtl"
    assert text_direction("18\u201325") is None
    with app.test_request_context():
        g.content_language, g.base_language = "ar", "de"
        assert str(content_text({"ar": "English"})) == "<bdi>English</bdi>"
        assert str(content_text({"ar": "العربية"})) == "العربية"
        assert str(content_text({"ar": "18\u201325"})) == "18\u201325"
        assert str(content_text({"de": "Nur Deutsch"})) == (
            '<span lang="de" dir="ltr">Nur Deutsch</span>')
        g.content_language = "de"
        assert str(content_text({"de": "Arabisch: العربية"})) == "Arabisch: العربية"
