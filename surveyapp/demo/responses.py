"""Realistic responses for demos, tests and benchmarks, written fast with bulk inserts.

Every answer is what the respondent pages would store for its question type (codes from the
type's ``all_codes``, numbers and dates within the bounds, texts within ``max_length``), hidden
questions stay unanswered (the same ``condition_holds`` and ``facts`` the respondent flow uses),
and every response has the consent record ``start_response`` would have written.
"""

# ruff: noqa: RUF001 -- the phrases are Cyrillic and Turkish on purpose, not look-alikes.

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord, ConsentText
from surveyapp.consent.services import agreed_purposes, current_consent_text
from surveyapp.db import db
from surveyapp.questionnaires.conditions import condition_holds, rules_of
from surveyapp.questionnaires.models import Question, Questionnaire, QuestionnaireVersion
from surveyapp.questionnaires.question_types import (
    OTHER,
    PREFER_NOT,
    AnswerValue,
    Facts,
    get_type,
)
from surveyapp.questionnaires.question_types.date import parse_date
from surveyapp.questionnaires.question_types.rating import SCALE
from surveyapp.responses.models import Answer, Channel, Response, ResponseStatus
from surveyapp.responses.services import RECEIPT_ALPHABET

#: One stored value: (row_code, option_code, value_text, value_number, value_date).
Value = tuple[str | None, str | None, str | None, float | None, date | None]

#: Free-text answers as people type them, by script; short enough for every demo limit.
PHRASES: dict[str, list[str]] = {
    "de": [
        "Mehr Angebote am Wochenende wären gut.",
        "Die Beiträge sind für Familien zu hoch.",
        "Ich wusste lange nicht, wie man Mitglied wird.",
        "Eine Ansprechperson, die meine Sprache spricht, würde sehr helfen.",
        "Sehr nette Leute, aber die Sitzungen sind zu spät am Abend.",
        "Kinderbetreuung während der Treffen.",
        "Infos in einfacher Sprache, bitte.",
    ],
    "en": [
        "More activities for newcomers would be great.",
        "I did not know whom to ask.",
        "Meetings in the evening are hard with children.",
    ],
    "ar": [
        "أتمنى أن تكون هناك معلومات باللغة العربية.",
        "الاشتراك مكلف بالنسبة لعائلتي.",
        "لم أكن أعرف كيف أنضم إلى النادي.",
        "شكراً على هذا الاستبيان.",
    ],
    "fa": [
        "جلسات در ساعت مناسب برگزار شود.",
        "به اطلاعات بیشتر به زبان فارسی نیاز دارم.",
        "یک راهنما برای تازه‌واردان خیلی کمک می‌کند.",
    ],
    "uk": [
        "Було б добре мати більше інформації українською.",
        "Я хочу допомагати дітям у спортивному клубі.",
        "Зустрічі надто пізно ввечері.",
    ],
    "ru": [
        "Нужны курсы немецкого языка при клубе.",
        "Спасибо за приглашение, мне очень понравилось.",
    ],
    "ti": [
        "ብቋንቋይ ሓበሬታ እንተ ዝህሉ ጽቡቕ ነይሩ።",
        "ምስ ካልኦት ሰባት ክላለ ደስ ይብለኒ።",
    ],
    "tr": [
        "Hafta sonu daha fazla etkinlik olmalı.",
        "Üyelik ücreti çok yüksek.",
        "Türkçe bilgi almak isterdim.",
    ],
}
#: What people write next to "Other, please specify".
OTHER_PHRASES = ["Nachbarschaftshilfe", "Elterncafé", "كرة القدم", "کلاس زبان", "Хор",
                 "ስፖርት", "Kadın grubu", "Schach", "Community garden"]
EMAIL_NAMES = ["amina", "jonas", "olena", "reza", "selam", "mehmet", "lea", "yusuf", "irina"]

#: Share of optional questions left empty, of "prefer not to answer" and of "Other".
SKIP = 0.12
PREFER_NOT_SHARE = 0.04
OTHER_SHARE = 0.07
#: Share of free texts written in the response's own language (the rest: any script above).
OWN_LANGUAGE_TEXT = 0.6


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _shape(rng: random.Random, n: int) -> list[float]:
    """Uneven option weights, so that results look like a real distribution."""
    return [0.15 + rng.random() ** 2 * 3 for _ in range(n)]


def _clip_text(text: str, limit: int) -> str:
    return text[:limit].strip()


class _Plan:
    """How to answer one question: a function from (rng, language) to stored values."""

    def __init__(self, question: Question, shape_rng: random.Random):
        self.question = question
        self.code = question.code
        self.id = question.id
        self.type = get_type(question.type)
        self.show_if = question.show_if
        self.optional = not question.is_required
        self.prefer_not = question.has_prefer_not
        kind = "_text" if question.type in ("short_text", "long_text") else "_" + question.type
        self.answer: Callable[[random.Random, str], list[Value]] = getattr(self, kind)
        self._setup(shape_rng)

    def _setup(self, shape: random.Random) -> None:
        question, settings = self.question, self.question.settings or {}
        name = question.type
        if name in ("single_choice", "dropdown", "yes_no", "multiple_choice", "unit"):
            self.codes = self.type.codes(question)
            self.cum = _cumulative(_shape(shape, len(self.codes)))
            self.other = question.has_other
            self.low = settings.get("min_selections") or 1
            # Without a maximum, people still tick a handful of boxes, not all of them.
            self.high = settings.get("max_selections") or max(self.low, 5)
            self.weights = _shape(shape, len(self.codes))
        elif name == "matrix":
            self.scale = [o.code for o in question.options]
            self.rows = [(r.code, _cumulative(_shape(shape, len(self.scale))))
                         for r in question.rows]
        elif name == "rating":
            base = [1, 1, 1, 2, 2, 4, 5, 9, 12, 9, 7]
            self.cum = _cumulative([w * (0.5 + shape.random()) for w in base])
        elif name in ("integer", "decimal"):
            self.low = float(settings.get("min", 0))
            self.high = float(settings.get("max", self.low + 100))
            self.skew = 1 + shape.random() * 2
        elif name == "date":
            low = parse_date(str(settings["min"])) if settings.get("min") else None
            high = parse_date(str(settings["max"])) if settings.get("max") else None
            low = low or (high - timedelta(days=3650) if high else date(2015, 1, 1))
            high = high or max(low, date(2026, 12, 31))
            self.first, self.span = low.toordinal(), high.toordinal() - low.toordinal()
        elif name in ("short_text", "long_text"):
            self.limit = self.type.max_length(question)

    # One method per question type, named after it; each returns what ``parse`` would store.

    def _single_choice(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        if self.other and rng.random() < OTHER_SHARE:
            return [(None, OTHER, rng.choice(OTHER_PHRASES), None, None)]
        return [(None, rng.choices(self.codes, cum_weights=self.cum)[0], None, None, None)]

    _dropdown = _single_choice
    _yes_no = _single_choice
    _unit = _single_choice  # a unit's code, like an option's

    def _multiple_choice(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        candidates = list(zip(self.codes, self.weights, strict=True))
        if self.other:
            candidates.append((OTHER, 3 * OTHER_SHARE))
        high = min(self.high, len(candidates))
        count = min(high, self.low + int(rng.random() ** 2 * (high - self.low + 1)))
        # Weighted sampling without replacement (Efraimidis-Spirakis): the largest keys win.
        keyed = sorted(candidates, key=lambda c: rng.random() ** (1 / c[1]), reverse=True)
        chosen = {code for code, _weight in keyed[:count]}
        # Stored in the order of the checkboxes, as the posted list has them.
        return [(None, code, rng.choice(OTHER_PHRASES) if code == OTHER else None, None, None)
                for code, _weight in candidates if code in chosen]

    def _matrix(self, rng: random.Random, lang: str) -> list[Value]:
        values: list[Value] = []
        for row_code, cum in self.rows:
            if self.optional and rng.random() < 0.05:
                continue
            if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
                values.append((row_code, PREFER_NOT, None, None, None))
            else:
                values.append((row_code, rng.choices(self.scale, cum_weights=cum)[0],
                               None, None, None))
        return values

    def _rating(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        code = rng.choices(SCALE, cum_weights=self.cum)[0]
        return [(None, code, None, float(code), None)]

    def _integer(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        raw = self.low + (self.high - self.low) * rng.random() ** self.skew
        if self.question.type == "integer":
            number = float(min(math.floor(self.high), max(math.ceil(self.low), round(raw))))
        else:
            number = min(self.high, max(self.low, round(raw, 1)))
        return [(None, None, None, number, None)]

    _decimal = _integer

    def _date(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        day = date.fromordinal(self.first + int(rng.random() * (self.span + 1)))
        return [(None, None, None, None, day)]

    def _text(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        if lang not in PHRASES or rng.random() > OWN_LANGUAGE_TEXT:
            lang = rng.choice(list(PHRASES))
        text = rng.choice(PHRASES[lang])
        if self.question.type == "long_text" and rng.random() < 0.4:
            text += " " + rng.choice(PHRASES[lang])
        return [(None, None, _clip_text(text, self.limit), None, None)]

    def _email(self, rng: random.Random, lang: str) -> list[Value]:
        if self.prefer_not and rng.random() < PREFER_NOT_SHARE:
            return [(None, PREFER_NOT, None, None, None)]
        name = f"{rng.choice(EMAIL_NAMES)}.{rng.randrange(1, 1000)}@example.org"
        return [(None, None, name, None, None)]


@dataclass
class _Consent:
    """What the consent record of a response in one language holds."""

    text: ConsentText
    required: list[str]
    optional: list[str]


def _as_values(values: list[Value]) -> list[AnswerValue]:
    return [AnswerValue(row_code=row, option_code=option, value_text=text, value_number=number,
                        value_date=day) for row, option, text, number, day in values]


class _Generator:
    """Answers whole responses to one version, page by page, in the flow's order."""

    def __init__(self, version: QuestionnaireVersion, seed: int):
        # The shape of each question's distribution depends on the seed and its code only.
        self.pages = []
        referenced = set()
        for page in version.pages:
            for question in page.questions:
                referenced |= {rule["question"] for rule in rules_of(question.show_if)[1]}
            referenced |= {rule["question"] for rule in rules_of(page.show_if)[1]}
        for page in version.pages:
            plans = [_Plan(q, random.Random(f"{seed}:{q.code}")) for q in page.questions]
            self.pages.append((page.code, page.show_if, plans))
        self.referenced = referenced

    def answers(self, rng: random.Random, lang: str) -> Iterator[tuple[str, int, list[Value]]]:
        """(page code, question id, values) for every visible question, in order.

        Hidden questions yield nothing; a question left empty yields an empty list.
        """
        facts: dict[str, Facts] = {}
        for page_code, page_show_if, plans in self.pages:
            if not condition_holds(page_show_if, facts):
                continue
            for plan in plans:
                if plan.show_if and not condition_holds(plan.show_if, facts):
                    continue
                skipped = plan.optional and rng.random() < SKIP
                values = [] if skipped else plan.answer(rng, lang)
                if plan.code in self.referenced:
                    facts[plan.code] = plan.type.facts(_as_values(values))
                yield page_code, plan.id, values


def _skewed(items: list) -> list[float]:
    """Cumulative weights 1, 1/2, 1/3 ...: the first item (the base language) most frequent."""
    return _cumulative([1 / (i + 1) for i in range(len(items))])


def _day_of(moment: datetime) -> datetime:
    """Midnight UTC of the day, as a submission with coarse timestamps stores it."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _random_hex(random_bytes: bytes) -> str:
    return hashlib.sha256(random_bytes).hexdigest()


def _receipt_digest(random_bytes: bytes) -> str:
    """Digest of a receipt code like the ones issued, made from random bytes."""
    letters = "".join(RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)] for b in random_bytes[:16])
    code = "-".join(letters[i : i + 4] for i in range(0, 16, 4))
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def generate_responses(
    questionnaire: Questionnaire,
    count: int,
    *,
    seed: int = 0,
    drafts: int = 0,
    start: datetime | None = None,
    days: int = 90,
    units: list[int] | None = None,
    languages: list[str] | None = None,
    channel_phone_share: float = 0.1,
    batch: int = 5000,
) -> int:
    """Insert ``count`` complete responses and ``drafts`` unfinished ones; return ``count``.

    Answers go to the published version; submission times spread over the ``days`` days
    before ``start`` (default: now); ``units`` (ids) and ``languages`` are drawn with a skew
    toward the first ones (default languages: the questionnaire's, base language first).
    Everything is deterministic for a given ``seed`` and ``start`` except the start keys and
    digests, which come from the operating system's randomness: generating twice, or into
    several questionnaires, must never collide on those unique columns.

    Rows are written in batches of ``batch`` responses with Core bulk inserts (PostgreSQL:
    ``COPY``) in the caller's transaction; nothing is committed (a million responses are one
    transaction, which both engines handle). :raise ValueError: nothing is published.
    """
    version = questionnaire.published_version
    if version is None:
        raise ValueError(f"{questionnaire.slug} has no published version")
    rng = random.Random(seed)
    start = (start or datetime.now(UTC)).astimezone(UTC)
    languages = list(languages or questionnaire.languages or [questionnaire.base_language])
    language_cum = _skewed(languages)
    unit_cum = _skewed(units) if units else None
    generator = _Generator(version, seed)
    consents = {}
    for lang in languages:
        text = current_consent_text(questionnaire, lang)
        if text is None:
            raise ValueError(f"{questionnaire.slug} has no consent text")
        shown = text.purposes or []
        consents[lang] = _Consent(text, [p["code"] for p in shown if p["required"]],
                                  [p["code"] for p in shown if not p["required"]])
    # Submitting keeps only the day where the questionnaire says so (submit_response).
    coarse = questionnaire.keeps_day_only
    writer = _writer(questionnaire, version)
    kinds = [ResponseStatus.COMPLETE] * count + [ResponseStatus.DRAFT] * drafts
    for offset in range(0, len(kinds), batch):
        responses, records, answers = [], [], []
        for status in kinds[offset : offset + batch]:
            lang = rng.choices(languages, cum_weights=language_cum)[0]
            unit_id = rng.choices(units, cum_weights=unit_cum)[0] if units else None
            channel = Channel.PHONE if rng.random() < channel_phone_share else Channel.WEB
            submitted = start - timedelta(seconds=rng.random() * days * 86400)
            started = submitted - timedelta(seconds=rng.randrange(120, 1800))
            given = list(generator.answers(rng, lang))
            keys = os.urandom(72)
            response = {
                "questionnaire_id": questionnaire.id, "version_id": version.id,
                "status": status, "language": lang, "unit_id": unit_id, "channel": channel,
                "is_preview": False,
                "start_key": base64.urlsafe_b64encode(keys[:24]).decode("ascii"),
                "resume_digest": _random_hex(keys[24:48]),
                "started_at": started,
            }
            if status is ResponseStatus.COMPLETE:
                last_page = given[-1][0] if given else None
                if coarse:
                    started, submitted = _day_of(started), _day_of(submitted)
                    response["started_at"] = started
                response.update(receipt_digest=_receipt_digest(keys[48:]), submitted_at=submitted,
                                updated_at=submitted, current_page=last_page)
            else:
                # Stopped on some page: the answers of the pages before it are saved.
                pages = list(dict.fromkeys(page for page, _qid, _values in given))
                stop = pages[rng.randrange(len(pages))] if pages else None
                given = given[: next((i for i, g in enumerate(given) if g[0] == stop),
                                     len(given))]
                response.update(receipt_digest=None, submitted_at=None,
                                updated_at=started + timedelta(minutes=rng.randrange(1, 15)),
                                current_page=stop)
            consent = consents[lang]
            ticked = consent.required + [c for c in consent.optional if rng.random() < 0.35]
            record = {
                "questionnaire_id": questionnaire.id, "version_id": version.id,
                "consent_text_id": consent.text.id, "language": consent.text.language,
                "digest": consent.text.digest,
                "purposes": agreed_purposes(consent.text, ticked),
                "channel": channel.value, "interviewer_id": None, "given_at": started,
            }
            responses.append(response)
            records.append(record)
            answers.append([(qid, *value) for _page, qid, values in given for value in values])
        writer(responses, records, answers)
    db.session.flush()
    return count


Writer = Callable[[list[dict], list[dict], list[list[tuple]]], None]
ANSWER_COLUMNS = ("question_id", "row_code", "option_code", "value_text", "value_number",
                  "value_date")


def _writer(questionnaire: Questionnaire, version: QuestionnaireVersion) -> Writer:
    """A function writing one batch, by the fastest way the database offers."""
    db.session.flush()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return _copy_writer(connection)
    responses, answers = Response.__table__, Answer.__table__
    insert_responses = sa.insert(responses).returning(responses.c.id,
                                                      sort_by_parameter_order=True)

    def write(rows: list[dict], records: list[dict], answer_sets: list[list[tuple]]) -> None:
        ids = connection.execute(insert_responses, rows).scalars().all()
        for record, response_id in zip(records, ids, strict=True):
            record["response_id"] = response_id
        connection.execute(sa.insert(ConsentRecord.__table__), records)
        answer_rows = [dict(zip(ANSWER_COLUMNS, answer, strict=True), response_id=response_id)
                       for response_id, answer_set in zip(ids, answer_sets, strict=True)
                       for answer in answer_set]
        if answer_rows:
            connection.execute(sa.insert(answers), answer_rows)

    return write


RESPONSE_COLUMNS = ("id", "questionnaire_id", "version_id", "status", "language", "unit_id",
                    "channel", "is_preview", "start_key", "resume_digest", "receipt_digest",
                    "current_page", "started_at", "updated_at", "submitted_at")
RECORD_COLUMNS = ("response_id", "questionnaire_id", "version_id", "consent_text_id", "language",
                  "digest", "purposes", "channel", "interviewer_id", "given_at")


def _copy_writer(connection: sa.Connection) -> Writer:
    """PostgreSQL: ids reserved from the sequence, then one ``COPY`` per table and batch."""
    raw = connection.connection.driver_connection
    sequence = connection.scalar(sa.text("SELECT pg_get_serial_sequence('responses', 'id')"))

    def write(rows: list[dict], records: list[dict], answer_sets: list[list[tuple]]) -> None:
        ids = connection.scalars(sa.text("SELECT nextval(:seq) FROM generate_series(1, :n)"),
                                 {"seq": sequence, "n": len(rows)}).all()
        with raw.cursor() as cursor:
            # The status and channel columns hold enum names, as SQLAlchemy's Enum stores them.
            with cursor.copy(f"COPY responses ({', '.join(RESPONSE_COLUMNS)}) FROM STDIN") as copy:
                for response_id, row in zip(ids, rows, strict=True):
                    row["id"] = response_id
                    row["status"], row["channel"] = row["status"].name, row["channel"].name
                    copy.write_row([row.get(column) for column in RESPONSE_COLUMNS])
            with cursor.copy(f"COPY consent_records ({', '.join(RECORD_COLUMNS)}) FROM STDIN") \
                    as copy:
                for response_id, record in zip(ids, records, strict=True):
                    record["response_id"] = response_id
                    record["purposes"] = json.dumps(record["purposes"])
                    copy.write_row([record[column] for column in RECORD_COLUMNS])
            with cursor.copy(f"COPY answers (response_id, {', '.join(ANSWER_COLUMNS)}) "
                             "FROM STDIN") as copy:
                for response_id, answer_set in zip(ids, answer_sets, strict=True):
                    for answer in answer_set:
                        copy.write_row((response_id, *answer))

    return write


def demo_seed(slug: str) -> int:
    """A stable seed per questionnaire, so every demo installation shows the same results."""
    return zlib.crc32(slug.encode("utf-8"))
