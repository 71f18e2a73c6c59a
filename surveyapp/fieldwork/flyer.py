"""A printable flyer with a link's QR code: the questionnaire's title, an invitation, the link.

The flyer's language is chosen on its own (an Arabic flyer may carry a link that opens in
the phone's language); typst shapes Arabic and Farsi right to left and sets Tigrinya in
Ethiopic with the shipped fonts (``surveyapp.typesetting``). Laid out by
``templates/share/flyer.typ``; every word is translated here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from surveyapp.accounts.models import Unit
from surveyapp.fieldwork.qr import qr_svg
from surveyapp.i18n import direction, localized, text_direction
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.typesetting import compile_pdf

TEMPLATE = Path(__file__).parent / "templates" / "share" / "flyer.typ"
#: Paper sizes offered, with the width the link may take (page width less the margins), in pt.
PAPERS = {"a4": 595.28 - 2 * 56.69, "a5": 419.53 - 2 * 42.52}
#: Advance width of a DejaVu Sans Mono character, in em: the link is sized to fit one line.
MONO_ADVANCE = 0.602


def _own(text: str, doc_dir: str) -> Any:
    """A text as the template takes it: plain, or with its direction if it reads the other way."""
    own = text_direction(text)
    return {"text": text, "dir": own} if own and own != doc_dir else text


def _link_size(url: str, paper: str) -> float:
    """The largest type size (at most 14 pt on A4, 11 pt on A5) that keeps the link on one line.

    A link broken over two lines is often typed in wrong; it never gets a hyphen from us.
    """
    largest = 14.0 if paper == "a4" else 11.0
    # 3 % to spare: a line that fits exactly may still break after a rounding.
    fitting = 0.97 * PAPERS[paper] / (MONO_ADVANCE * max(len(url), 1))
    return round(min(largest, fitting), 2)


def flyer_data(questionnaire: Questionnaire, url: str, lang: str, paper: str,
               unit: Unit | None = None) -> dict[str, Any]:
    """The template's data, worded in ``lang``."""
    doc_dir = direction(lang)
    version = questionnaire.published_version or questionnaire.latest_version
    title, title_lang = localized(version.title if version else {}, lang,
                                  questionnaire.base_language)
    title = title or questionnaire.slug
    with force_locale(lang):
        return {
            "version": 1,
            "lang": lang,
            "dir": doc_dir,
            "paper": paper,
            "title": _own(title, doc_dir),
            "title_lang": title_lang,
            # A sentence not yet translated comes in English: _own keeps it left to right.
            "invitation": _own(_("Your opinion counts. Scan the code with your phone's "
                                 "camera to take part."), doc_dir),
            # i18n: on a printed flyer, above the questionnaire's web address
            "or_link": _own(_("Or open this address:"), doc_dir),
            "url": url,
            "url_size": _link_size(url, paper),
            "unit": unit.name if unit is not None else None,
        }


def render_flyer(questionnaire: Questionnaire, url: str, lang: str, paper: str = "a4",
                 unit: Unit | None = None) -> bytes:
    """The flyer as a PDF: title and invitation in ``lang``, the QR code of ``url``."""
    if paper not in PAPERS:
        raise ValueError(f"unknown paper size {paper!r}")
    data = flyer_data(questionnaire, url, lang, paper, unit)

    def prepare(folder: Path) -> dict[str, Any]:
        (folder / "qr.svg").write_bytes(qr_svg(url))
        return data

    return compile_pdf(TEMPLATE, prepare)
