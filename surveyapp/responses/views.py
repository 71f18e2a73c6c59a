"""Respondent pages: start with consent, answer page by page, resume, submit once, receipt."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, can, public
from surveyapp.consent.services import current_consent_text
from surveyapp.db import db
from surveyapp.extensions import limiter
from surveyapp.fieldwork.links import UNIT_PARAMETER, unit_from_parameter
from surveyapp.i18n import pick_language
from surveyapp.questionnaires.models import (
    Page,
    Questionnaire,
    QuestionnaireVersion,
)
from surveyapp.questionnaires.question_types import AnswerInvalid, AnswerValue, get_type
from surveyapp.questionnaires.services import (
    get_by_slug,
    load_version,
    may_work_on,
    published_version_tree,
)
from surveyapp.responses import services
from surveyapp.responses.flow import Flow
from surveyapp.responses.forms import (
    ConsentForm,
    PrefilledPage,
    WithdrawForm,
    make_page_form,
)
from surveyapp.responses.models import Response, ResponseStatus

bp = Blueprint("responses", __name__, template_folder="templates")


def _cookie_name(questionnaire: Questionnaire) -> str:
    return f"resume_{questionnaire.id}"


def _use_language(questionnaire: Questionnaire, lang: str) -> None:
    """Render this request in ``lang`` (content and interface)."""
    g.content_language = lang
    g.base_language = questionnaire.base_language
    refresh()
    g.pop("jinja_translations", None)


def _questionnaire(slug: str) -> Questionnaire:
    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        abort(404)
    return questionnaire


def _may_preview() -> bool:
    return can(current_user, Permission.PREVIEW)


def _closed_page(questionnaire: Questionnaire, reason: str | None = None):
    version = questionnaire.published_version or questionnaire.latest_version
    return render_template(
        "responses/closed.html", questionnaire=questionnaire, version=version, reason=reason
    ), 410


@bp.route("/s/<slug>", methods=["GET", "POST"])
@public
def start(slug: str):
    """The start page: language choice, introduction and consent; nothing is stored before it."""
    questionnaire = _questionnaire(slug)
    preview = (request.args.get("preview") == "1" and _may_preview()
               and may_work_on(current_user, questionnaire))
    choice_key = f"lang_{questionnaire.id}"
    if request.args.get("choose") in questionnaire.languages:
        session[choice_key] = request.args["choose"]  # the respondent used the switch
    lang = pick_language(questionnaire.languages, questionnaire.base_language,
                         explicit=session.get(choice_key))
    _use_language(questionnaire, lang)
    reason = None if preview else services.accepting_answers(questionnaire)
    if reason not in (None, "full"):
        return _closed_page(questionnaire, reason)

    token = request.cookies.get(_cookie_name(questionnaire))
    if request.method == "GET" and token and not preview:
        draft = services.find_by_token(questionnaire, token)
        if draft is not None and draft.status is ResponseStatus.DRAFT:
            # Also when full: a draft started before the maximum was reached may be finished.
            return redirect(_page_url(questionnaire, token, draft.current_page))
    if reason is not None:
        return _closed_page(questionnaire, reason)
    version = questionnaire.latest_version if preview else questionnaire.published_version

    consent_text = current_consent_text(questionnaire, lang)
    # A unit link attributes the response without asking; its parameter travels through the
    # consent form in a hidden field and is verified again on the POST. One that does not
    # verify starts an unattributed response (see fieldwork.links).
    unit_param = (request.form.get("unit") if request.method == "POST"
                  else request.args.get(UNIT_PARAMETER))
    unit_id = unit_from_parameter(questionnaire, unit_param)
    form = ConsentForm()
    message = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            message = _("You were away for a while, so nothing was saved yet. "
                        "Please tick the box and press “Start” again.")
        else:
            try:
                response, token = services.start_response(
                    questionnaire,
                    language=lang,
                    # Only the box's own value counts: "n", "false" or "0" are not consent.
                    consent_given=request.form.getlist("consent") == ["y"],
                    consent_text_id=form.consent_text_id.data,
                    start_key=form.start_key.data or "",
                    purposes=request.form.getlist("purpose"),
                    unit_id=unit_id,
                    is_preview=preview,
                )
            except services.StartRefused as refused:
                message = {
                    "closed": _("This questionnaire is not open for answers."),
                    "no_consent": _("Please tick the box to agree before you start."),
                    "purpose_required": _("Please tick every box marked as needed to take "
                                          "part."),
                    "consent_changed": _("The information text has changed. Please read it "
                                         "again and tick the box if you agree."),
                }[refused.reason]
            else:
                db.session.commit()
                redirect_to = redirect(_page_url(questionnaire, token, response.current_page))
                if not preview:
                    _set_resume_cookie(redirect_to, questionnaire, token)
                return redirect_to
        status = 422
    form.consent_text_id.data = consent_text.id if consent_text else ""
    form.start_key.data = services.new_start_key()
    return render_template(
        "responses/start.html",
        questionnaire=questionnaire,
        version=version,
        consent_text=consent_text,
        form=form,
        message=message,
        preview=preview,
        unit_param=unit_param if unit_id is not None else None,
    ), status


def _set_resume_cookie(resp, questionnaire: Questionnaire, token: str) -> None:
    resp.set_cookie(
        _cookie_name(questionnaire),
        token,
        max_age=current_app.config["RESUME_COOKIE_DAYS"] * 86400,
        path=f"/s/{questionnaire.slug}",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def _page_url(questionnaire: Questionnaire, token: str, page_code: str | None) -> str:
    return url_for("responses.page", slug=questionnaire.slug, token=token,
                   page_code=page_code or "-")


def _load(slug: str, token: str) -> tuple[Questionnaire, Response, QuestionnaireVersion]:
    found = services.find_draft_context(slug, token)
    if found is None:
        questionnaire = _questionnaire(slug)
        if services.was_sent(questionnaire.id, token):
            # An anonymous response sent with this link, which was cut on submission (a
            # second click on "Send answers", or the back button): show the thank-you page,
            # with the receipt code if this press carried the one that was stored.
            _remember_offered_receipt(questionnaire, token)
            abort(redirect(url_for("responses.thanks", slug=slug)))
        _use_language(questionnaire, pick_language(questionnaire.languages,
                                                   questionnaire.base_language))
        abort(404)
    questionnaire, response, published_at, text_revision = found
    if published_at is not None and not response.is_preview:
        version = published_version_tree(response.version_id, published_at, text_revision)
    else:
        version = load_version(response.version_id)
    return questionnaire, response, version


def _refusal(questionnaire: Questionnaire, response: Response) -> str | None:
    # The response's version was published when it started; state and dates may have changed.
    if response.is_preview:
        return None
    return services.accepting_answers(questionnaire, starting=False)


@bp.route("/s/<slug>/r/<token>/", defaults={"page_code": "-"})
@bp.route("/s/<slug>/r/<token>/<page_code>", methods=["GET", "POST"])
@public
def page(slug: str, token: str, page_code: str):
    """One page of questions; POST saves it and moves on, back, or to another language."""
    questionnaire, response, version = _load(slug, token)
    if response.status is not ResponseStatus.DRAFT:
        if request.method == "POST" and not _receipt_in_session(response):
            # "Send answers" reached us twice: the browser shows this reply, not the first
            # one that carried the receipt code. The press carried the code that was stored,
            # or else (an old form) it gets a fresh code; only digests are kept.
            offered = services.offered_receipt(token, request.form.get("receipt"))
            code = (offered if offered and response.receipt_digest == services.digest(offered)
                    else services.renew_receipt(response))
            if code is not None:
                db.session.commit()
                session["receipt"] = {"slug": slug, "code": code, "version": version.id,
                                      "lang": response.language,
                                      "preview": response.is_preview, "response": response.id}
        return redirect(url_for("responses.done", slug=slug, token=token))
    switch = request.form.get("lang") if request.method == "POST" else None
    language = switch if switch in questionnaire.languages else response.language
    _use_language(questionnaire, language)
    reason = _refusal(questionnaire, response)
    if reason is not None:
        return _closed_page(questionnaire, reason)

    values = services.stored_values(response, version)
    flow = Flow(version, values)
    current = next((p for p in version.pages if p.code == page_code), None)
    if current is None or not flow.is_visible(current):
        target = response.current_page
        valid = next((p for p in flow.visible_pages if p.code == target), None)
        target_page = valid or (flow.visible_pages[0] if flow.visible_pages else None)
        if target_page is None or target_page is current:
            abort(404)
        return redirect(_page_url(questionnaire, token, target_page.code))

    form_class = make_page_form(current.questions)
    if request.method == "GET":
        data = {}
        for question in current.questions:
            data.update(get_type(question.type).form_data(question, values.get(question.code, [])))
        form = PrefilledPage(data)
        return _render_page(questionnaire, version, response, token, current, flow, form, {})

    form = form_class()
    nav = "stay" if switch else request.form.get("nav", "next")
    if not form.validate():
        message = _("You were away for a while, so this page was not saved yet. "
                    "Your answers are still here: please press the button again.")
        return _render_page(questionnaire, version, response, token, current, flow, form, {},
                            message=message, status=422)

    posted: dict[str, list[AnswerValue]] = {}
    errors: dict[str, str] = {}
    for question in current.questions:
        try:
            posted[question.code] = get_type(question.type).parse(question, form)
        except AnswerInvalid as invalid:
            errors[question.code] = invalid.message
            posted[question.code] = []
    after = Flow(version, services.merge_page(values, current, posted))
    shown_after = after.questions_on(current)
    errors = {code: msg for code, msg in errors.items() if code in {q.code for q in shown_after}}
    if nav == "next":
        for question in shown_after:
            unanswered = not posted.get(question.code) and question.code not in errors
            if question.is_required and unanswered:
                errors[question.code] = _("Please answer this question.")
    if errors:
        return _render_page(questionnaire, version, response, token, current, after, form,
                            errors, status=422)

    shown_before = set((request.form.get("shown") or "").split())
    appeared = nav == "next" and not form.js.data and any(
        q.code not in shown_before for q in shown_after
    )
    if appeared:
        # Without the page script the respondent has not seen these yet: show them first.
        flash(_("Based on your answers, more questions appeared on this page. "
                "Please look at them, then press the button at the end of the page again."),
              "notice")
    target = _next_page(after, current, "stay" if appeared else nav)
    services.save_answers(response, version, after, (target or current).code, language)
    if target is not None:
        url = _page_url(questionnaire, token, target.code)
        db.session.commit()
        return redirect(url)

    real = not response.is_preview
    unlink = questionnaire.is_anonymous and real
    code = services.submit_response(
        response, unlink=unlink, coarse=questionnaire.keeps_day_only and real,
        code=services.offered_receipt(token, request.form.get("receipt")))
    db.session.commit()
    if code is not None:
        session["receipt"] = {"slug": slug, "code": code, "version": version.id,
                              "lang": language, "preview": response.is_preview}
        if not unlink:  # the browser may know which response is its own
            session["receipt"]["response"] = response.id
    elif unlink:  # a concurrent press of "Send answers" won the race
        _remember_offered_receipt(questionnaire, token)
    resp = redirect(url_for("responses.thanks", slug=slug) if unlink
                    else url_for("responses.done", slug=slug, token=token))
    resp.delete_cookie(_cookie_name(questionnaire), path=f"/s/{questionnaire.slug}")
    return resp


def _next_page(flow: Flow, current: Page, nav: str) -> Page | None:
    """Where to go after saving; ``None`` means the questionnaire is complete: submit it."""
    if nav == "stay":
        return current
    if nav == "back":
        return flow.neighbour(current, -1) or current
    following = flow.neighbour(current, 1)
    if following is not None:
        return following
    missing = flow.first_missing()
    return missing[0] if missing is not None else None


def _render_page(questionnaire, version, response, token, current: Page, flow: Flow, form,
                 errors: dict[str, str], *, message=None, status=200):
    shown = {q.code for q in flow.questions_on(current)}
    number, total = flow.position(current)
    is_last = flow.neighbour(current, 1) is None
    earlier_pages = version.pages[: version.pages.index(current)]
    earlier_codes = {q.code for p in earlier_pages for q in p.questions}
    # What the page script needs to evaluate conditions on answers from earlier pages.
    earlier_facts = {
        code: {"answered": f.answered, "codes": sorted(f.codes), "number": f.number}
        for code, f in flow.facts.items()
        if code in earlier_codes
    }
    return render_template(
        "responses/page.html",
        questionnaire=questionnaire,
        version=version,
        response=response,
        token=token,
        page=current,
        form=form,
        shown=shown,
        errors=errors,
        message=message,
        number=number,
        total=total,
        is_last=is_last,
        receipt_offer=services.offer_receipt(token) if is_last else None,
        has_previous=flow.neighbour(current, -1) is not None,
        earlier_facts=earlier_facts,
        get_type=get_type,
        resume_url=url_for("responses.page", slug=questionnaire.slug, token=token,
                           page_code=current.code, _external=True),
    ), status


def _remember_offered_receipt(questionnaire: Questionnaire, token: str) -> None:
    """Keep the receipt code this press of "Send answers" carried, if it is the stored one."""
    code = services.offered_receipt(token, request.form.get("receipt"))
    if request.method == "POST" and code and services.receipt_is_stored(code):
        version = questionnaire.published_version or questionnaire.latest_version
        session["receipt"] = {"slug": questionnaire.slug, "code": code,
                              "version": version.id if version else None,
                              "lang": g.get("content_language"), "preview": False}


def _receipt_in_session(response: Response) -> bool:
    return (session.get("receipt") or {}).get("response") == response.id


@bp.route("/s/<slug>/r/<token>/done")
@public
def done(slug: str, token: str):
    """The thank-you page with the receipt code (shown again on reload in the same browser)."""
    questionnaire, response, version = _load(slug, token)
    chosen = request.args.get("choose")
    _use_language(questionnaire,
                  chosen if chosen in questionnaire.languages else response.language)
    if response.status is ResponseStatus.DRAFT:
        return redirect(_page_url(questionnaire, token, response.current_page))
    receipt = session.get("receipt") or {}
    code = receipt.get("code") if receipt.get("response") == response.id else None
    return render_template(
        "responses/done.html", questionnaire=questionnaire, version=version,
        is_preview=response.is_preview, receipt_code=code,
    )


@bp.route("/s/<slug>/thanks")
@public
def thanks(slug: str):
    """The thank-you page of an anonymous questionnaire: everything it shows is in the session.

    The server no longer knows which response this browser sent, so the receipt code comes
    from the signed session cookie alone, and a reload shows it again.
    """
    questionnaire = _questionnaire(slug)
    receipt = session.get("receipt") or {}
    if receipt.get("slug") != slug:
        receipt = {}
    version = (load_version(receipt["version"]) if receipt.get("version") else None) \
        or questionnaire.published_version or questionnaire.latest_version
    if version is None or version.questionnaire_id != questionnaire.id:
        abort(404)
    chosen = request.args.get("choose")
    _use_language(questionnaire, chosen if chosen in questionnaire.languages else
                  receipt.get("lang") or pick_language(questionnaire.languages,
                                                       questionnaire.base_language))
    return render_template(
        "responses/done.html", questionnaire=questionnaire, version=version,
        is_preview=bool(receipt.get("preview")), receipt_code=receipt.get("code"),
    )


def _withdraw_limit() -> str:
    return current_app.config["WITHDRAW_RATE_LIMIT"]


@bp.route("/s/<slug>/withdraw", methods=["GET", "POST"])
@limiter.limit(_withdraw_limit, methods=["POST"])
@public
def withdraw(slug: str):
    """Withdraw one's answers with the receipt code, without an account, in one's language."""
    questionnaire = _questionnaire(slug)
    choice_key = f"lang_{questionnaire.id}"
    if request.args.get("choose") in questionnaire.languages:
        session[choice_key] = request.args["choose"]
    _use_language(questionnaire, pick_language(questionnaire.languages,
                                               questionnaire.base_language,
                                               explicit=session.get(choice_key)))
    version = questionnaire.published_version or questionnaire.latest_version
    form = WithdrawForm()
    message = None
    if request.method == "POST":
        if not form.validate():
            message = _("You were away for a while. Please enter the code again.")
        else:
            outcome = services.withdraw_by_receipt(questionnaire, form.code.data or "")
            if outcome is not services.WithdrawOutcome.UNKNOWN:
                db.session.commit()
                return render_template("responses/withdrawn.html", questionnaire=questionnaire,
                                       version=version, outcome=outcome.value)
            message = _("We found no answers with this code. Please check it: it has 16 "
                        "letters and digits, like K7QM-2XRA-9PZD-HT4W.")
    return render_template("responses/withdraw.html", questionnaire=questionnaire,
                           version=version, form=form, message=message), 422 if message else 200
