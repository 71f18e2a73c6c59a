"""Campaign pages: supervision for staff, the call screen and interviewer mode for callers."""

from __future__ import annotations

import secrets
from datetime import UTC

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, ngettext, to_utc
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.campaigns import metrics as _metrics  # noqa: F401 (registers its target mark)
from surveyapp.campaigns import services
from surveyapp.campaigns.forms import (
    BuildListForm,
    CampaignForm,
    InterviewConsentForm,
    InterviewersForm,
    OutcomeForm,
    PlainForm,
)
from surveyapp.campaigns.models import CallEntry, CallOutcome, Campaign
from surveyapp.consent.services import current_consent_text
from surveyapp.db import db, utcnow
from surveyapp.i18n import format_duration
from surveyapp.questionnaires.services import get_by_slug, list_questionnaires
from surveyapp.responses import services as responses
from surveyapp.responses.models import ResponseStatus

bp = Blueprint("campaigns", __name__, url_prefix="/staff/campaigns",
               template_folder="templates")

#: Session key of the interview in progress in this browser: the way back to the call list.
INTERVIEW_KEY = "interview"


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _supervised(campaign_id: int) -> Campaign:
    campaign = _campaign(campaign_id)
    if not services.may_supervise(current_user, campaign):
        abort(403)
    return campaign


def _called(campaign_id: int) -> Campaign:
    campaign = _campaign(campaign_id)
    if not services.may_call(current_user, campaign):
        abort(403)
    return campaign


def _entry(campaign: Campaign, entry_id: int) -> CallEntry:
    entry = db.session.get(CallEntry, entry_id)
    if entry is None or entry.campaign_id != campaign.id:
        abort(404)
    return entry


def _interviewer_choices(form) -> None:
    form.interviewers.choices = [SelectChoice(u.id, u.email)
                                 for u in services.interviewer_accounts()]


# --- supervisors ------------------------------------------------------------------------------

@bp.route("/")
@permission_required(Permission.RUN_CAMPAIGNS)
def index():
    """The campaigns of the questionnaires this user works on."""
    campaigns = services.supervised_campaigns(current_user)
    return render_template("campaigns/index.html", campaigns=campaigns,
                           progress={c.id: services.campaign_progress(c) for c in campaigns})


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.RUN_CAMPAIGNS)
def new():
    """Create a campaign and assign its interviewers."""
    form = CampaignForm()
    questionnaires = list_questionnaires(current_user)
    form.questionnaire_id.choices = [SelectChoice(q.id, q.slug) for q in questionnaires]
    preselected = next((q for q in questionnaires if q.slug == request.args.get("questionnaire")),
                       None)
    if request.method == "GET" and preselected is not None:
        form.questionnaire_id.data = preselected.id
    _interviewer_choices(form)
    if not form.form_key.data:
        form.form_key.data = secrets.token_urlsafe(24)
    if form.validate_on_submit():
        earlier = services.already_created(current_user.id, form.form_key.data)
        if earlier is not None:  # the same form pressed again
            return redirect(url_for("campaigns.show", campaign_id=earlier.id))
        questionnaire = next(q for q in questionnaires if q.id == form.questionnaire_id.data)
        campaign = services.create_campaign(
            questionnaire, name=form.name.data, script=form.script.data or "",
            max_attempts=form.max_attempts.data, retry_minutes=form.retry_minutes.data,
            created_by=current_user.id, interviewer_ids=form.interviewers.data or [],
            form_key=form.form_key.data)
        db.session.commit()
        flash(_("The campaign was created."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/new.html", form=form), status


@bp.route("/<int:campaign_id>")
@permission_required(Permission.RUN_CAMPAIGNS)
def show(campaign_id: int):
    """The supervisor's view: progress per outcome and per interviewer, call backs due."""
    campaign = _supervised(campaign_id)
    form = InterviewersForm(interviewers=[u.id for u in campaign.interviewers])
    _interviewer_choices(form)
    build_form = _build_list_form(campaign)
    build_form.units.choices = [SelectChoice(u.id, u.name) for u in services.unit_choices()]
    return render_template(
        "campaigns/show.html", campaign=campaign, form=form, build_form=build_form,
        progress=services.campaign_progress(campaign),
        per_interviewer=services.progress_by_interviewer(campaign),
        callbacks=services.due_callbacks(campaign), outcomes=list(CallOutcome),
        now=utcnow())


@bp.route("/<int:campaign_id>/interviewers", methods=["POST"])
@permission_required(Permission.RUN_CAMPAIGNS)
def interviewers(campaign_id: int):
    """Change who calls for a campaign."""
    campaign = _supervised(campaign_id)
    form = InterviewersForm()
    _interviewer_choices(form)
    if form.validate_on_submit():
        services.assign_interviewers(campaign, form.interviewers.data or [])
        db.session.commit()
        flash(_("The interviewers were saved."), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def _build_list_form(campaign: Campaign) -> BuildListForm:
    """The call-list form; anonymous questionnaires do not offer "not answered yet", which
    would show who has answered."""
    form = BuildListForm()
    if campaign.questionnaire.is_anonymous:
        form.source.choices = [c for c in form.source.choices if c.value != "invitations"]
    return form


@bp.route("/<int:campaign_id>/entries", methods=["POST"])
@permission_required(Permission.RUN_CAMPAIGNS)
def build_list(campaign_id: int):
    """Add contacts (all, or those who have not answered their invitation) to the call list."""
    campaign = _supervised(campaign_id)
    form = _build_list_form(campaign)
    form.units.choices = [SelectChoice(u.id, u.name) for u in services.unit_choices()]
    if form.validate_on_submit():
        added = services.build_call_list(campaign, source=services.ListSource(form.source.data),
                                         unit_ids=form.units.data or None)
        db.session.commit()
        flash(ngettext("%(num)d person was added to the call list.",
                       "%(num)d people were added to the call list.", added), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


# --- interviewers -----------------------------------------------------------------------------

@bp.route("/mine")
@permission_required(Permission.CALL)
def mine():
    """The campaigns this interviewer calls for: where they land after logging in."""
    campaigns = services.assigned_campaigns(current_user)
    return render_template("campaigns/mine.html", campaigns=campaigns,
                           progress={c.id: services.campaign_progress(c) for c in campaigns})


@bp.route("/<int:campaign_id>/next", methods=["GET", "POST"])
@permission_required(Permission.CALL)
def next_call(campaign_id: int):
    """The next person to call: GET shows the one held, POST takes the next from the list."""
    campaign = _called(campaign_id)
    if request.method == "POST":
        if PlainForm().validate_on_submit():
            services.claim_next(campaign, current_user)
            db.session.commit()
        return redirect(url_for("campaigns.next_call", campaign_id=campaign.id))
    entry = services.held_entry(campaign, current_user)
    return _call_screen(campaign, entry, OutcomeForm(formdata=None), {})


def _call_screen(campaign: Campaign, entry: CallEntry | None, form: OutcomeForm,
                 errors: dict[str, str], status: int = 200):
    if entry is not None:
        form.attempts.data = str(entry.attempts)
    return render_template(
        "campaigns/next.html", campaign=campaign, entry=entry, form=form, errors=errors,
        outcomes=list(CallOutcome), interview=_interview_in_progress(campaign),
        open_interviews=services.open_interviews(campaign, current_user),
        progress=services.campaign_progress(campaign), plain=PlainForm(),
    ), status


@bp.route("/<int:campaign_id>/entries/<int:entry_id>/outcome", methods=["POST"])
@permission_required(Permission.CALL)
def outcome(campaign_id: int, entry_id: int):
    """Record how a call ended, then hand out the next person (or start the interview)."""
    campaign = _called(campaign_id)
    entry = _entry(campaign, entry_id)
    form = OutcomeForm()
    try:
        chosen = CallOutcome(request.form.get("outcome", ""))
        seen = int(form.attempts.data or "")
    except ValueError:
        abort(400)
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400)
        messages = {"callback_at": _("Please give the date and time like this: "
                                     "2026-03-31 18:30."),
                    "note": _("Please keep the note under 2000 characters.")}
        return _call_screen(campaign, entry, form,
                            {name: messages[name] for name in form.errors if name in messages},
                            422)
    callback_at = None
    if form.callback_at.data is not None:
        callback_at = to_utc(form.callback_at.data).replace(tzinfo=UTC)
    try:
        recorded = services.record_outcome(entry, current_user, chosen, seen_attempts=seen,
                                           callback_at=callback_at, note=form.note.data or "")
    except services.OutcomeRefused:
        return _call_screen(campaign, entry, form,
                            {"callback_at": _("Please give a date and time in the future "
                                              "for the call back.")}, 422)
    if services.is_interviewing(entry, current_user) and chosen is CallOutcome.REACHED:
        # Recorded now, or by the first of two presses: either way the interview comes next.
        db.session.commit()
        return redirect(url_for("campaigns.interview", campaign_id=campaign.id,
                                entry_id=entry.id))
    if not recorded and entry.attempts == seen:
        # Not a second press: the claim lapsed and someone else has the person now.
        flash(_("This person was given to another interviewer while the call lasted. "
                "Nothing was recorded."), "notice")
    if recorded:
        services.claim_next(campaign, current_user)
    db.session.commit()
    return redirect(url_for("campaigns.next_call", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/entries/<int:entry_id>/release", methods=["POST"])
@permission_required(Permission.CALL)
def release(campaign_id: int, entry_id: int):
    """Give the person held back to the list (the interviewer takes a break)."""
    campaign = _called(campaign_id)
    entry = _entry(campaign, entry_id)
    if PlainForm().validate_on_submit():
        services.release(entry, current_user)
        db.session.commit()
    return redirect(url_for("campaigns.mine"))


@bp.route("/<int:campaign_id>/entries/<int:entry_id>/interview", methods=["GET", "POST"])
@permission_required(Permission.CALL)
def interview(campaign_id: int, entry_id: int):
    """Interviewer mode: read the consent text aloud, confirm, then answer page by page."""
    campaign = _called(campaign_id)
    entry = _entry(campaign, entry_id)
    if not services.is_interviewing(entry, current_user):
        abort(404)
    questionnaire = campaign.questionnaire
    language = services.interview_language(entry)
    consent_text = current_consent_text(questionnaire, language)
    form = InterviewConsentForm()
    message = None
    if request.method == "POST":
        if not form.validate():
            message = _("You were away for a while, so nothing was saved yet. "
                        "Please tick the box and press the button again.")
        else:
            try:
                response, token = services.start_interview(
                    entry, current_user,
                    consent_given=request.form.getlist("consent") == ["y"],
                    consent_text_id=form.consent_text_id.data,
                    start_key=form.start_key.data or "", purposes=request.form.getlist("purpose"))
            except responses.StartRefused as refused:
                message = {
                    "closed": _("This questionnaire is not open for answers."),
                    "no_consent": _("Please confirm that the person agreed."),
                    "purpose_required": _("Please confirm every purpose marked as needed to "
                                          "take part."),
                    "consent_changed": _("The information text has changed. Please read it "
                                         "aloud again."),
                    "not_interviewing": _("This person is no longer yours to interview."),
                }[refused.reason]
            else:
                db.session.commit()
                # No resume cookie: the interviewer's browser must not keep a way back to
                # the answers; the way back to the call list is kept instead.
                session[INTERVIEW_KEY] = {"campaign": campaign.id, "entry": entry.id,
                                          "slug": questionnaire.slug, "token": token}
                return redirect(url_for("responses.page", slug=questionnaire.slug,
                                        token=token, page_code=response.current_page or "-"))
    form.consent_text_id.data = consent_text.id if consent_text else ""
    form.start_key.data = responses.new_start_key()
    return render_template(
        "campaigns/interview.html", campaign=campaign, entry=entry, form=form,
        questionnaire=questionnaire, facts=_consent_facts(questionnaire, language),
        consent_text=consent_text, language=language, message=message, plain=PlainForm(),
        outcome_form=OutcomeForm(formdata=None, attempts=str(entry.attempts)),
    ), 422 if message else 200


def _consent_facts(questionnaire, language: str) -> list[str]:
    """What the web start page tells about keeping the answers, in the interview language."""
    with force_locale(language):
        facts = [_("Your answers are kept for %(duration)s after you send them and then "
                   "deleted. Unfinished answers are deleted after %(draft)s.",
                   duration=format_duration(questionnaire.retention_days),
                   draft=format_duration(questionnaire.draft_days))]
        if questionnaire.is_anonymous:
            anonymous = _("This questionnaire is anonymous: once you send your answers, nothing "
                          "links them to you, to your phone or to your link.")
            if questionnaire.keeps_day_only:
                anonymous += " " + _("Only the day is kept, not the time.")
            facts.append(anonymous)
        facts.append(_("After sending you get a receipt code. With it you can withdraw your "
                       "answers at any time, without an account."))
    return facts


def _interview_in_progress(campaign: Campaign | None = None) -> dict | None:
    """The interview this browser started and has not come back from, if any."""
    started = session.get(INTERVIEW_KEY)
    if not started or (campaign is not None and started.get("campaign") != campaign.id):
        return None
    return started


@bp.route("/back")
@permission_required(Permission.CALL)
def after_interview():
    """Back from an interview: mark the person completed if the answers were sent."""
    started = _interview_in_progress()
    if started is None:
        return redirect(url_for("campaigns.mine"))
    campaign = _called(started["campaign"])
    questionnaire = get_by_slug(started["slug"])
    entry = db.session.get(CallEntry, started["entry"])
    if questionnaire is None or entry is None:
        session.pop(INTERVIEW_KEY, None)
        return redirect(url_for("campaigns.mine"))
    response = responses.find_by_token(questionnaire, started["token"])
    sent = (response is not None and response.status is ResponseStatus.COMPLETE) or (
        response is None and responses.was_sent(questionnaire.id, started["token"]))
    if not sent:
        flash(_("The interview is not finished yet."), "notice")
        return redirect(url_for("responses.page", slug=questionnaire.slug,
                                token=started["token"], page_code="-"))
    services.finish_interview(entry, current_user)
    session.pop(INTERVIEW_KEY, None)
    db.session.commit()
    flash(_("The interview was recorded. Thank you!"), "success")
    return redirect(url_for("campaigns.next_call", campaign_id=campaign.id))
