"""Locale choice, content-text lookup and text direction."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import timedelta
from functools import cache, lru_cache

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request, session
from markupsafe import Markup, escape

#: Names of languages in their own script, for the language switch.
LANGUAGE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "fa": "فارسی",
    "tr": "Türkçe",
    "uk": "Українська",
    "ru": "Русский",
    "ti": "ትግርኛ",
    "fr": "Français",
}


@cache
def direction(lang: str) -> str:
    """``rtl`` for right-to-left scripts (Arabic, Farsi, ...), otherwise ``ltr``."""
    try:
        order = Locale.parse(lang.replace("-", "_")).character_order
    except (UnknownLocaleError, ValueError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def language_name(lang: str) -> str:
    """The language's own name for itself (endonym)."""
    if lang in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[lang]
    try:
        return Locale.parse(lang).get_display_name(lang) or lang
    except (UnknownLocaleError, ValueError):
        return lang


def pick_language(offered: list[str], base: str, explicit: str | None = None) -> str:
    """Choose a content language among those offered.

    The respondent's own choice > the link's ``?lang=`` (one QR code per language) > the
    browser's Accept-Language > the questionnaire's base language.
    """
    for candidate in (explicit, request.args.get("lang")):
        if candidate in offered:
            return candidate
    best = request.accept_languages.best_match(offered)
    return best or base


def select_locale() -> str:
    """Flask-Babel's locale: the respondent's content language, else the staff member's choice."""
    if "content_language" in g:
        return g.content_language
    if not has_request_context():  # commands and background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    interface = current_app.config["INTERFACE_LANGUAGES"]
    chosen = session.get("ui_lang")
    if chosen in interface:
        return chosen
    return request.accept_languages.best_match(interface) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def localized(texts: Mapping[str, str] | None, lang: str, base: str) -> tuple[str, str]:
    """Return ``(text, language it is in)``, falling back to the base language."""
    if not texts:
        return "", lang
    if texts.get(lang):
        return texts[lang], lang
    if texts.get(base):
        return texts[base], base
    for other, text in texts.items():
        if text:
            return text, other
    return "", lang


@lru_cache(maxsize=8192)  # the same labels come back on every page
def text_direction(text: str) -> str | None:
    """Direction of a text's first strong character (``ltr``/``rtl``), ``None`` if it has none."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def content_text(texts: Mapping[str, str] | None) -> Markup:
    """A questionnaire text in the current content language, isolated where its script differs.

    A fallback to the base language carries its own ``lang`` and ``dir``; a text in another
    script than the page (an option "English" on an Arabic page) is isolated with ``<bdi>``,
    so that its punctuation and numbers stay where its reader expects them.
    """
    lang = g.get("content_language", "en")
    text, used = localized(texts, lang, g.get("base_language", lang))
    if used != lang:
        return Markup('<span lang="{}" dir="{}">{}</span>').format(used, direction(used), text)
    own = text_direction(text)
    if own is not None and own != direction(lang):
        return Markup("<bdi>{}</bdi>").format(text)
    return escape(text)


def paragraphs(texts: Mapping[str, str] | None) -> Markup:
    """A multi-paragraph questionnaire text as ``<p>`` elements (a blank line starts one)."""
    lang = g.get("content_language", "en")
    text, used = localized(texts, lang, g.get("base_language", lang))
    attrs = Markup(' lang="{}" dir="{}"').format(used, direction(used)) if used != lang else ""
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("").join(
        Markup("<p{}>{}</p>").format(attrs, Markup("<br>").join(p.split("\n"))) for p in parts
    )


def template_context() -> dict:
    """Variables every template sees: the page language and its direction."""
    from flask_babel import get_locale

    lang = g.get("content_language") or str(get_locale() or "en")
    return {"page_lang": lang, "page_dir": direction(lang)}


#: Functions every template (and every imported macro module) can call.
def format_duration(days: int) -> str:
    """A period in the reader's language: "24 months", "30 days" (never "4 weeks")."""
    from flask_babel import format_timedelta

    return format_timedelta(timedelta(days=days), threshold=10)


TEMPLATE_GLOBALS = {
    "format_duration": format_duration,
    "language_name": language_name,
    "ct": content_text,
    "paragraphs": paragraphs,
    "direction": direction,
}
