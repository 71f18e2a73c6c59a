"""Read and write the JSON definition format ``surveyapp/1`` (documented in the README)."""

from __future__ import annotations

import re
from typing import Any

from surveyapp.questionnaires.conditions import condition_errors
from surveyapp.questionnaires.models import (
    Option,
    Page,
    Question,
    Questionnaire,
    QuestionnaireVersion,
)
from surveyapp.questionnaires.question_types import REGISTRY

FORMAT = "surveyapp/1"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
ITEM_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
OPTION_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
QUESTION_KEYS = {
    "code", "type", "required", "text", "help", "other", "prefer_not", "settings", "options",
    "rows", "show_if",
}


class DefinitionError(ValueError):
    """A definition that cannot be imported; ``problems`` says every reason, with its place."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(value: Any, where: str, languages: list[str], base: str, problems: list[str],
          required: bool = True) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.append(f"{where}: must be an object of language -> text")
        return {}
    unknown = sorted(set(value) - set(languages))
    if unknown:
        problems.append(f"{where}: languages not offered: {', '.join(unknown)}")
    if required and not value.get(base, "").strip():
        problems.append(f"{where}: text in the base language {base!r} is missing")
    return {k: v for k, v in value.items() if v.strip()}


def parse_definition(data: Any) -> tuple[Questionnaire, QuestionnaireVersion, dict]:
    """Build unsaved objects from a definition; raise DefinitionError listing every problem.

    Returns the questionnaire, its first version and the consent (``text`` by language and
    further ``purposes``).
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DefinitionError(["the file must contain a JSON object"])
    if data.get("format") != FORMAT:
        problems.append(f"format must be {FORMAT!r}")
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        problems.append("slug: lower-case letters, digits and '-', 2 to 64 characters")
    base = data.get("base_language")
    languages = data.get("languages") or ([base] if base else [])
    if not isinstance(base, str) or not LANGUAGE.match(base):
        problems.append("base_language: a language code such as 'de'")
        base = "und"
    if (
        not isinstance(languages, list)
        or not all(isinstance(x, str) and LANGUAGE.match(x) for x in languages)
        or base not in languages
        or len(set(languages)) != len(languages)
    ):
        problems.append("languages: a list of distinct language codes including base_language")
        languages = [base]
    languages = [base, *[x for x in languages if x != base]]
    consent = data.get("consent") or {}
    if not isinstance(consent, dict):
        problems.append("consent: must be an object")
        consent = {}
    retention = {}
    for key, default, lowest, longest in (("retention_days", 730, 1, 3650),
                                          ("draft_days", 30, 1, 365),
                                          ("min_group_size", 5, 1, 100)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= longest:
            problems.append(f"{key}: a whole number from {lowest} to {longest}")
            value = default
        retention[key] = value
    questionnaire = Questionnaire(
        slug=slug,
        base_language=base,
        languages=languages,
        **retention,
        is_anonymous=bool(data.get("anonymous", True)),
        coarse_timestamps=bool(data.get("coarse_timestamps", True)),
        controller=str(consent.get("controller") or ""),
        privacy_url=str(consent.get("privacy_url") or ""),
    )
    version = QuestionnaireVersion(
        questionnaire=questionnaire,
        number=1,
        title=_text(data.get("title"), "title", languages, base, problems),
        intro=_text(data.get("intro"), "intro", languages, base, problems, required=False),
        thank_you=_text(data.get("thank_you"), "thank_you", languages, base, problems,
                        required=False),
    )
    consent_texts = _text(consent.get("text"), "consent.text", languages, base, problems)
    purposes = []
    for index, item in enumerate(consent.get("purposes") or [], start=1):
        code = item.get("code") if isinstance(item, dict) else None
        if (not isinstance(code, str) or not OPTION_CODE.match(code) or code == "answers"
                or code in {p["code"] for p in purposes}):
            problems.append(f"consent.purposes {index}: code missing, malformed, repeated or "
                            "'answers' (which is always asked)")
            continue
        purposes.append({
            "code": code,
            "required": bool(item.get("required", False)),
            "label": _text(item.get("label"), f"consent.purposes {code!r}", languages, base,
                           problems),
        })

    pages = data.get("pages")
    if not isinstance(pages, list) or not pages:
        problems.append("pages: at least one page")
        pages = []
    earlier: dict[str, Question] = {}
    page_codes: set[str] = set()
    for p_index, page_data in enumerate(pages, start=1):
        where = f"page {p_index}"
        if not isinstance(page_data, dict):
            problems.append(f"{where}: must be an object")
            continue
        code = page_data.get("code")
        if not isinstance(code, str) or not ITEM_CODE.match(code) or code in page_codes:
            problems.append(f"{where}: code missing, malformed or repeated")
        page_codes.add(code)
        where = f"page {code!r}"
        page = Page(
            version=version,
            position=p_index,
            code=code,
            title=_text(page_data.get("title"), f"{where} title", languages, base, problems,
                        required=False),
            show_if=page_data.get("show_if"),
        )
        problems.extend(f"{where} show_if: {e}" for e in condition_errors(page.show_if, earlier))
        questions = page_data.get("questions")
        if not isinstance(questions, list) or not questions:
            problems.append(f"{where}: at least one question")
            questions = []
        for q_index, q_data in enumerate(questions, start=1):
            question = _parse_question(q_data, f"{where} question {q_index}", page, q_index,
                                       version, earlier, languages, base, problems)
            if question is not None:
                earlier[question.code] = question
    if problems:
        raise DefinitionError(problems)
    return questionnaire, version, {"text": consent_texts, "purposes": purposes}


def _parse_question(data, where, page, position, version, earlier, languages, base, problems):
    if not isinstance(data, dict):
        problems.append(f"{where}: must be an object")
        return None
    unknown = sorted(set(data) - QUESTION_KEYS)
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(unknown)}")
    code = data.get("code")
    if not isinstance(code, str) or not ITEM_CODE.match(code) or code in earlier:
        problems.append(f"{where}: code missing, malformed or repeated")
        return None
    where = f"question {code!r}"
    qtype = data.get("type")
    if qtype not in REGISTRY:
        problems.append(f"{where}: unknown type {qtype!r}; known: {', '.join(REGISTRY)}")
        return None
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        problems.append(f"{where}: settings must be an object")
        settings = {}
    question = Question(
        version=version,
        page=page,
        position=position,
        code=code,
        type=qtype,
        is_required=bool(data.get("required", False)),
        text=_text(data.get("text"), f"{where} text", languages, base, problems),
        help=_text(data.get("help"), f"{where} help", languages, base, problems, required=False),
        settings=settings,
        has_other=bool(data.get("other", False)),
        has_prefer_not=bool(data.get("prefer_not", False)),
        show_if=data.get("show_if"),
    )
    for key in ("min_label", "max_label"):
        if key in settings:
            settings[key] = _text(settings[key], f"{where} {key}", languages, base, problems)
    position_counter = 0
    for is_row, key in ((False, "options"), (True, "rows")):
        items = data.get(key) or []
        if not isinstance(items, list):
            problems.append(f"{where}: {key} must be a list")
            continue
        seen: set[str] = set()
        for item in items:
            ocode = item.get("code") if isinstance(item, dict) else None
            if not isinstance(ocode, str) or not OPTION_CODE.match(ocode) or ocode in seen:
                problems.append(f"{where} {key}: code {ocode!r} missing, malformed or repeated")
                continue
            seen.add(ocode)
            position_counter += 1
            Option(
                question=question,
                position=position_counter,
                code=ocode,
                is_row=is_row,
                label=_text(item.get("label"), f"{where} {key} {ocode!r}", languages, base,
                            problems),
            )
    problems.extend(f"{where}: {e}" for e in REGISTRY[qtype].definition_errors(question))
    problems.extend(
        f"{where} show_if: {e}" for e in condition_errors(question.show_if, earlier)
    )
    return question


def export_definition(questionnaire: Questionnaire, consent: dict) -> dict:
    """The latest version of a questionnaire in the definition format."""
    version = questionnaire.latest_version
    assert version is not None
    return {
        "format": FORMAT,
        "slug": questionnaire.slug,
        "base_language": questionnaire.base_language,
        "languages": list(questionnaire.languages),
        "anonymous": questionnaire.is_anonymous,
        "coarse_timestamps": questionnaire.coarse_timestamps,
        "retention_days": questionnaire.retention_days,
        "draft_days": questionnaire.draft_days,
        "min_group_size": questionnaire.min_group_size,
        "title": version.title,
        "intro": version.intro,
        "thank_you": version.thank_you,
        "consent": {
            "controller": questionnaire.controller,
            "privacy_url": questionnaire.privacy_url,
            "text": consent["text"],
            "purposes": consent["purposes"],
        },
        "pages": [
            {
                "code": page.code,
                "title": page.title,
                "show_if": page.show_if,
                "questions": [_export_question(q) for q in page.questions],
            }
            for page in version.pages
        ],
    }


def _export_question(question: Question) -> dict:
    return {
        "code": question.code,
        "type": question.type,
        "required": question.is_required,
        "text": question.text,
        "help": question.help,
        "other": question.has_other,
        "prefer_not": question.has_prefer_not,
        "settings": question.settings,
        "options": [{"code": o.code, "label": o.label} for o in question.options],
        "rows": [{"code": r.code, "label": r.label} for r in question.rows],
        "show_if": question.show_if,
    }
