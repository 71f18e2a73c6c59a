"""The share page: a questionnaire's links with QR codes (SVG, PNG) and printable flyers.

Which link a download is for comes as ``?lang=`` (the language the link opens in) and
``?unit=`` (the unit id whose link it is); the link itself is always built here, so a staff
member can never make a code for an address that is not the questionnaire's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.utils import secure_filename

from surveyapp.accounts.models import Unit
from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.accounts.services import active_units
from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.fieldwork.flyer import PAPERS, render_flyer
from surveyapp.fieldwork.links import has_working_links, public_link, unit_link
from surveyapp.fieldwork.qr import qr_png, qr_svg
from surveyapp.i18n import localized
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import questionnaire_for_staff
from surveyapp.responses.services import accepting_answers

bp = Blueprint("share", __name__, url_prefix="/staff/questionnaires/<slug>/share",
               template_folder="templates")


@dataclass
class UnitNode:
    """A unit of the tree with its link, and the units below it."""

    unit: Unit
    url: str
    children: list[UnitNode] = field(default_factory=list)


def _unit_nodes(questionnaire: Questionnaire) -> list[UnitNode]:
    """The unit tree as nested nodes, each with its link (for ``<details>`` in ``<details>``)."""
    roots: list[UnitNode] = []
    path: list[UnitNode] = []
    for unit, depth in active_units():  # parents before children; retired units left out
        node = UnitNode(unit, unit_link(questionnaire, unit))
        del path[depth:]
        (path[-1].children if path else roots).append(node)
        path.append(node)
    return roots


def _published(slug: str) -> Questionnaire:
    """The questionnaire, if its links work; a draft has no codes to hand out (404)."""
    questionnaire = questionnaire_for_staff(slug)
    if not has_working_links(questionnaire):
        abort(404)
    return questionnaire


def _chosen_link(questionnaire: Questionnaire) -> tuple[str, str | None, Unit | None]:
    """The link the query names: ``(url, lang, unit)``; 404 for a language or unit not there."""
    lang = request.args.get("lang") or None
    if lang is not None and lang not in questionnaire.languages:
        abort(404)
    unit = None
    if request.args.get("unit"):
        unit_id = request.args["unit"]
        unit = db.session.get(Unit, int(unit_id)) if unit_id.isdigit() else None
        if unit is None:
            abort(404)
        return unit_link(questionnaire, unit, lang), lang, unit
    return public_link(questionnaire, lang), lang, None


def _filename(questionnaire: Questionnaire, lang: str | None, unit: Unit | None,
              *rest: str) -> str:
    parts = [questionnaire.slug, unit.code if unit else None, lang, *rest]
    return secure_filename("-".join(p for p in parts if p)) or "qr"


def _default_language(questionnaire: Questionnaire) -> str:
    interface = str(get_locale() or "")
    return interface if interface in questionnaire.languages else questionnaire.base_language


@bp.route("")
@permission_required(Permission.SHARE_LINKS)
def index(slug: str):
    """Every link of the questionnaire, each with its QR code and flyer downloads."""
    questionnaire = questionnaire_for_staff(slug)
    version = questionnaire.published_version or questionnaire.latest_version
    interface = str(get_locale() or questionnaire.base_language)
    title, title_lang = localized(version.title if version else {}, interface,
                                  questionnaire.base_language)
    working = has_working_links(questionnaire)
    return render_template(
        "share/index.html",
        questionnaire=questionnaire,
        title=title or questionnaire.slug,
        title_lang=title_lang,
        working=working,
        # Closed, not yet open, past its end or full: the links then lead to a closed page.
        accepting=accepting_answers(questionnaire) is None,
        general=public_link(questionnaire) if working else None,
        by_language=[(lang, public_link(questionnaire, lang))
                     for lang in questionnaire.languages] if working else [],
        units=_unit_nodes(questionnaire) if working else [],
        papers=list(PAPERS),
        flyer_lang=_default_language(questionnaire),
    )


def _image(body: bytes, mimetype: str, name: str):
    download = request.args.get("download") == "1"
    response = send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=download,
                         download_name=name)
    # Staff pages only; a unit link changes with the secret, so no year-long caching.
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.route("/qr.svg")
@permission_required(Permission.SHARE_LINKS)
def qr_svg_file(slug: str):
    """The QR code of one link as SVG (shown on the page; ``?download=1`` to save it)."""
    questionnaire = _published(slug)
    url, lang, unit = _chosen_link(questionnaire)
    return _image(qr_svg(url), "image/svg+xml",
                  _filename(questionnaire, lang, unit, "qr") + ".svg")


@bp.route("/qr.png")
@permission_required(Permission.SHARE_LINKS)
def qr_png_file(slug: str):
    """The QR code of one link as PNG, to paste into messages and office documents."""
    questionnaire = _published(slug)
    url, lang, unit = _chosen_link(questionnaire)
    return _image(qr_png(url), "image/png", _filename(questionnaire, lang, unit, "qr") + ".png")


@bp.route("/flyer.pdf")
@permission_required(Permission.SHARE_LINKS)
def flyer(slug: str):
    """A printable A4 or A5 flyer of one link, worded in its own language; logged."""
    questionnaire = _published(slug)
    url, lang, unit = _chosen_link(questionnaire)
    flyer_lang = request.args.get("flyer_lang") or _default_language(questionnaire)
    paper = request.args.get("paper", "a4")
    if flyer_lang not in questionnaire.languages or paper not in PAPERS:
        abort(404)
    pdf = render_flyer(questionnaire, url, flyer_lang, paper, unit)
    record(current_user.id, "download_flyer",
           f"{slug} unit={unit.code if unit else '-'} link_lang={lang or '-'} "
           f"flyer_lang={flyer_lang} paper={paper}"[:120])
    db.session.commit()
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=_filename(questionnaire, lang, unit, "flyer",
                                                 flyer_lang, paper) + ".pdf")
    response.headers["Cache-Control"] = "no-store"
    return response
