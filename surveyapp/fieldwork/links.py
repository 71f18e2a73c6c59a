"""Public links to a questionnaire: general, per language, and per unit (attributed answers).

A unit link is ``/s/<slug>?u=<unit id>.<tag>``, where the tag is 72 bits of an HMAC-SHA256
over the questionnaire and the unit, keyed from the app's secret with a purpose of its own.
Why a signed parameter and not the unit's code (``?unit=koeln``): anyone could type a
neighbouring region's code and skew its numbers; the tag can be neither guessed nor derived
for another unit or questionnaire. Why not a code stored per unit: it would need a table and
a migration for what a key derivation gives for free.

A parameter that does not verify (typed wrong, cut off, forged, for a unit since deleted)
starts an *unattributed* response, never an error: the respondent cannot fix a link and their
answers still count. Printed flyers outlive a change of ``SECRET_KEY``; a deployment that
rotates it can keep its unit links valid by setting ``LINK_SECRET_KEY`` to the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app, url_for

from surveyapp.accounts.models import Unit
from surveyapp.db import db
from surveyapp.questionnaires.models import Questionnaire

#: The query parameter of a unit link (short: every character makes the QR code denser).
UNIT_PARAMETER = "u"
#: The query parameter of a language link; ``pick_language`` reads it below the respondent's
#: own choice, so the language switch on the page still wins.
LANGUAGE_PARAMETER = "lang"
#: Bytes of the HMAC kept: 72 bits, twelve URL-safe characters.
TAG_BYTES = 9
#: Separates the purpose of this key from every other use of the secret (sessions, CSRF).
PURPOSE = b"surveyapp.fieldwork.unit-link.v1"


def _key() -> bytes:
    secret = current_app.config.get("LINK_SECRET_KEY") or current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, PURPOSE, hashlib.sha256).digest()


def _tag(questionnaire_id: int, unit_id: int) -> str:
    mac = hmac.new(_key(), f"{questionnaire_id}:{unit_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:TAG_BYTES]).decode()


def unit_parameter(questionnaire: Questionnaire, unit: Unit) -> str:
    """The value of ``?u=`` that attributes responses to ``questionnaire`` to ``unit``."""
    return f"{unit.id}.{_tag(questionnaire.id, unit.id)}"


def unit_from_parameter(questionnaire: Questionnaire, value: str | None) -> int | None:
    """The id of the unit a ``?u=`` value names, or ``None`` if it does not verify."""
    if not value or len(value) > 40:
        return None
    unit_id, _dot, tag = value.partition(".")
    if not unit_id.isascii() or not unit_id.isdigit() or len(unit_id) > 12:
        return None
    if not hmac.compare_digest(tag.encode(), _tag(questionnaire.id, int(unit_id)).encode()):
        return None
    # A unit deleted since the flyer was printed attributes nothing.
    return int(unit_id) if db.session.get(Unit, int(unit_id)) is not None else None


def public_link(questionnaire: Questionnaire, lang: str | None = None) -> str:
    """The absolute public link, opening in ``lang`` if given (else the phone's language)."""
    params = {LANGUAGE_PARAMETER: lang} if lang else {}
    return url_for("responses.start", slug=questionnaire.slug, _external=True, **params)


def unit_link(questionnaire: Questionnaire, unit: Unit, lang: str | None = None) -> str:
    """The absolute link whose responses count for ``unit``, opening in ``lang`` if given."""
    params = {LANGUAGE_PARAMETER: lang} if lang else {}
    params[UNIT_PARAMETER] = unit_parameter(questionnaire, unit)
    return url_for("responses.start", slug=questionnaire.slug, _external=True, **params)


def has_working_links(questionnaire: Questionnaire) -> bool:
    """Whether respondents can use the links: only once a version is published."""
    return questionnaire.published_version is not None
