"""The respondent's rights, exercised through staff: access to and erasure of one response."""

from __future__ import annotations

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.i18n import localized
from surveyapp.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveyapp.questionnaires.question_types import get_type
from surveyapp.questionnaires.services import load_version
from surveyapp.responses.models import Answer, Response
from surveyapp.responses.services import digest, normalise_receipt_code


def find_by_receipt(typed_code: str) -> Response | None:
    """The response a receipt code belongs to, in any questionnaire."""
    code = normalise_receipt_code(typed_code)
    if code is None:
        return None
    return db.session.scalar(sa.select(Response).filter_by(receipt_digest=digest(code)))


def access_document(response: Response) -> dict:
    """Everything stored about one response, readable by the person it belongs to.

    Question and option texts are given in the language the person answered in.
    """
    questionnaire = db.session.get(Questionnaire, response.questionnaire_id)
    version: QuestionnaireVersion = load_version(response.version_id)
    lang, base = response.language, questionnaire.base_language
    questions = {q.id: q for q in version.questions}
    record = db.session.scalar(sa.select(ConsentRecord).filter_by(response_id=response.id))
    answers = []
    for answer in db.session.scalars(
        sa.select(Answer).filter_by(response_id=response.id).order_by(Answer.id)
    ):
        question = questions[answer.question_id]
        rows = {o.code: o.label for o in question.rows}
        # The type's own labels: options, and the interface-worded ones (Yes, Other, ...).
        labels = {label.code: label.text
                  for label in get_type(question.type).answer_labels(question, lang, base)}
        answers.append({
            "question": question.code,
            "question_text": localized(question.text, lang, base)[0],
            "row": answer.row_code,
            "row_text": localized(rows.get(answer.row_code), lang, base)[0]
            if answer.row_code else None,
            "option": answer.option_code,
            "option_text": labels.get(answer.option_code) if answer.option_code else None,
            "text": answer.value_text,
            "number": answer.value_number,
            "date": answer.value_date.isoformat() if answer.value_date else None,
        })
    stamp = lambda value: value.isoformat() if value else None  # noqa: E731
    return {
        "questionnaire": questionnaire.slug,
        "questionnaire_version": version.number,
        "response_id": response.id,
        "status": response.status.value,
        "language": response.language,
        "channel": response.channel.value,
        "started_at": stamp(response.started_at),
        "submitted_at": stamp(response.submitted_at),
        "withdrawn_at": stamp(response.withdrawn_at),
        "consent": None if record is None else {
            "consent_text_version": record.consent_text.version,
            "language": record.language,
            "text": record.consent_text.body,
            "text_sha256": record.digest,
            "purposes": record.purposes,
            "purpose_labels": [
                next((p["label"] for p in record.consent_text.purposes or []
                      if p.get("code") == code), code)
                for code in record.purposes],
            "channel": record.channel,
            "given_at": stamp(record.given_at),
        },
        "answers": answers,
    }


def erase(response: Response) -> None:
    """Delete the response, its answers and its consent record: nothing of it is left."""
    db.session.execute(sa.delete(Answer).where(Answer.response_id == response.id))
    db.session.execute(sa.delete(ConsentRecord).where(ConsentRecord.response_id == response.id))
    db.session.delete(response)
    db.session.flush()
