"""The settings page of a questionnaire: languages, privacy, dates, life cycle and sharing."""

from __future__ import annotations

from datetime import UTC

from babel.dates import format_datetime
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.content_translation.workbook import translation_status
from surveyapp.db import db
from surveyapp.questionnaires import lifecycle
from surveyapp.questionnaires.models import InvalidTransition, Questionnaire
from surveyapp.questionnaires.services import questionnaire_for_staff, shared_with
from surveyapp.questionnaires.settings_forms import (
    CONTENT_LANGUAGES,
    ActionForm,
    SettingsForm,
    ShareForm,
    UnshareForm,
    language_choices,
)
from surveyapp.responses.services import accepting_answers, count_by_status

bp = Blueprint("settings", __name__, url_prefix="/staff/questionnaires",
               template_folder="templates")

#: What each reason of ``accepting_answers`` means for staff.
REASONS = {
    "not_open": _l("Not accepting answers: the questionnaire is not open."),
    "not_yet_open": _l("Not accepting answers yet: the opening time has not come."),
    "ended": _l("Not accepting answers: the closing time has passed."),
    "full": _l("Not accepting new respondents: the maximum number of complete responses is "
               "reached. Respondents who have started may still finish."),
}
BASE_PROBLEMS = {
    "not_offered": _l("The base language must be one of the languages offered."),
    "locked": _l("The base language cannot change any more: there are responses, given "
                 "with the texts of the current base language."),
    "incomplete": _l("The base language can only change to a language in which every text "
                     "is translated."),
}
DONE = {
    "close": _l("The questionnaire is closed: respondents cannot start or go on."),
    "reopen": _l("The questionnaire is open again."),
    "archive": _l("The questionnaire is archived."),
}


def utc_text(value) -> str:
    """A UTC time in the reader's locale, marked as UTC."""
    return format_datetime(value, "medium", tzinfo=UTC, locale=get_locale()) + " UTC"


def _settings_form(questionnaire: Questionnaire, *, posted: bool = False) -> SettingsForm:
    """The settings form: as posted, or (``posted=False``) as the questionnaire is now."""
    if posted:
        form = SettingsForm()
    else:
        form = SettingsForm(formdata=None, obj=questionnaire)
        form.revision.data = questionnaire.settings_revision
    # Languages a questionnaire was imported with stay choosable even if not in our list.
    codes = list(CONTENT_LANGUAGES) + [c for c in questionnaire.languages
                                       if c not in CONTENT_LANGUAGES]
    form.languages.choices = language_choices(codes)
    form.base_language.choices = form.languages.choices
    return form


def _render(questionnaire: Questionnaire, form: SettingsForm | None = None, *, status=200,
            message=None, conflict=None, action_form=None, share_form=None):
    form = form or _settings_form(questionnaire)
    counts = count_by_status([questionnaire.id])
    reason = accepting_answers(questionnaire)
    return render_template(
        "settings/settings.html", questionnaire=questionnaire, form=form,
        action_form=action_form or ActionForm(formdata=None),
        share_form=share_form or ShareForm(formdata=None), unshare_form=UnshareForm(),
        actions=lifecycle.allowed_actions(questionnaire),
        counts={status: counts.get((questionnaire.id, status), 0)
                for status in ("complete", "draft", "withdrawn")},
        reason=REASONS.get(reason) if reason else None,
        base_locked=lifecycle.has_responses(questionnaire),
        may_share=lifecycle.may_share(current_user, questionnaire),
        shares=shared_with(questionnaire), message=message, conflict=conflict,
        utc_text=utc_text,
    ), status


def _values(form: SettingsForm, questionnaire: Questionnaire) -> dict:
    base = form.base_language.data
    chosen = form.languages.data or []
    codes = [choice.value for choice in form.languages.choices]
    return {
        # The base language first, then in the order of the list.
        "languages": [base, *[c for c in codes if c in chosen and c != base]]
        if base in chosen else chosen,
        "base_language": base,
        "is_anonymous": form.is_anonymous.data,
        "coarse_timestamps": form.coarse_timestamps.data,
        "min_group_size": form.min_group_size.data,
        "retention_days": form.retention_days.data,
        "draft_days": form.draft_days.data,
        "controller": (form.controller.data or "").strip(),
        "privacy_url": (form.privacy_url.data or "").strip(),
        "opens_at": lifecycle.in_utc(form.opens_at.data),
        "closes_at": lifecycle.in_utc(form.closes_at.data),
        "max_responses": form.max_responses.data,
    }


def _missing_texts(questionnaire: Questionnaire) -> dict[str, list[str]]:
    """The keys of the texts each offered language misses (none before there is content)."""
    if questionnaire.latest_version is None:
        return {choice: [] for choice in CONTENT_LANGUAGES}
    return {lang: keys for lang, (_d, _n, keys) in translation_status(questionnaire).items()}


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_QUESTIONNAIRE)
def settings(slug: str):
    """The settings and life cycle of one questionnaire; POST saves the settings form."""
    questionnaire = questionnaire_for_staff(slug)
    if request.method == "GET":
        return _render(questionnaire)
    form = _settings_form(questionnaire, posted=True)
    if not form.validate_on_submit():
        return _render(questionnaire, form, status=422)
    values = _values(form, questionnaire)
    missing = _missing_texts(questionnaire)
    problem = lifecycle.base_language_problem(questionnaire, values["base_language"],
                                              values["languages"], missing)
    if problem:
        form.base_language.errors = [BASE_PROBLEMS[problem]]
        return _render(questionnaire, form, status=422)
    if lifecycle.ends_anonymity(questionnaire, values):
        form.is_anonymous.errors = [_("This questionnaire stays anonymous: people have "
                                      "answered on that promise.")]
        return _render(questionnaire, form, status=422)
    if lifecycle.turns_anonymous(questionnaire, values) and request.form.get(
            "confirm_anonymise") != "y":
        return render_template(
            "settings/confirm_anonymise.html", questionnaire=questionnaire, form=form,
            complete=lifecycle.complete_responses(questionnaire))
    try:
        revision = int(form.revision.data or 0)
    except ValueError:
        revision = 0
    added = [lang for lang in values["languages"] if lang not in questionnaire.languages]
    try:
        changed, anonymised = lifecycle.update_settings(questionnaire, values,
                                                        revision=revision,
                                                        user_id=current_user.id)
    except lifecycle.StaleSettings:
        db.session.rollback()
        db.session.refresh(questionnaire)
        conflict = lifecycle.changed_settings(questionnaire, values)
        if not conflict:  # a double click, or the same change made twice: nothing is lost
            flash(_("The settings are saved."), "success")
            return redirect(url_for("settings.settings", slug=slug))
        # Show what is saved now beside what this person typed; their next save is deliberate.
        form.revision.data = questionnaire.settings_revision
        return _render(questionnaire, form, status=409, conflict=conflict)
    db.session.commit()
    if not changed:
        flash(_("Nothing was changed."), "notice")
    else:
        flash(_("The settings are saved."), "success")
    if anonymised:
        flash(_("The questionnaire is anonymous now; %(count)s complete responses were "
                "unlinked and their times cut to the day.", count=anonymised), "success")
    if added and any(_missing_texts(questionnaire).get(lang) for lang in added):
        flash(_("Some languages still miss texts; respondents see those texts in the base "
                "language until they are translated."), "notice")
    return redirect(url_for("settings.settings", slug=slug))


@bp.route("/<slug>/settings/state", methods=["POST"])
@permission_required(Permission.MANAGE_QUESTIONNAIRE)
def change_state(slug: str):
    """Close, reopen or archive (archiving after a confirmation)."""
    questionnaire = questionnaire_for_staff(slug)
    form = ActionForm()
    action = form.action.data or ""
    valid = form.validate_on_submit()
    if valid and lifecycle.ACTIONS.get(action) is questionnaire.state:
        flash(str(DONE[action]), "success")  # a second click of the same button
        return redirect(url_for("settings.settings", slug=slug))
    if not valid or action not in lifecycle.allowed_actions(questionnaire):
        return _render(questionnaire, status=409, message=_(
            "This change is not possible in the questionnaire's current state. The page "
            "shows the state as it is now."))
    if action == "archive" and not form.confirm.data:
        # The button asks first; the confirmation page posts again with the box.
        unticked = request.form.get("step") == "confirm"
        return render_template("settings/confirm_archive.html", questionnaire=questionnaire,
                               form=form, unticked=unticked), 422 if unticked else 200
    try:
        lifecycle.change_state(questionnaire, action, current_user.id)
    except InvalidTransition:  # a concurrent change since the check above
        db.session.rollback()
        return _render(questionnaire, status=409, message=_(
            "This change is not possible in the questionnaire's current state."))
    db.session.commit()
    flash(str(DONE[action]), "success")
    return redirect(url_for("settings.settings", slug=slug))


@bp.route("/<slug>/settings/shares", methods=["POST"])
@permission_required(Permission.MANAGE_QUESTIONNAIRE)
def add_share(slug: str):
    """Share with a builder, by e-mail address (owner and admins)."""
    questionnaire = questionnaire_for_staff(slug)
    if not lifecycle.may_share(current_user, questionnaire):
        flash(_("Only the owner of this questionnaire or an admin can share it."), "error")
        return redirect(url_for("settings.settings", slug=slug))
    form = ShareForm()
    if not form.validate_on_submit():
        return _render(questionnaire, share_form=form, status=422)
    try:
        user = lifecycle.share_with(questionnaire, form.email.data.strip(), current_user.id)
    except lifecycle.ShareRefused as refused:
        db.session.rollback()
        if refused.reason == "already":  # also a second click of the button
            flash(_("This person can already work on this questionnaire."), "notice")
            return redirect(url_for("settings.settings", slug=slug) + "#sharing")
        form.email.errors = [{
            "no_account": _("There is no account with this e-mail address."),
            "not_builder": _("This account is not a builder; admins and evaluators see every "
                             "questionnaire already, interviewers none."),
        }[refused.reason]]
        return _render(questionnaire, share_form=form, status=422)
    db.session.commit()
    flash(_("%(email)s can now work on this questionnaire.", email=user.email), "success")
    return redirect(url_for("settings.settings", slug=slug) + "#sharing")


@bp.route("/<slug>/settings/shares/<int:user_id>/remove", methods=["POST"])
@permission_required(Permission.MANAGE_QUESTIONNAIRE)
def remove_share(slug: str, user_id: int):
    """Stop sharing with a builder (owner and admins)."""
    questionnaire = questionnaire_for_staff(slug)
    if not lifecycle.may_share(current_user, questionnaire):
        flash(_("Only the owner of this questionnaire or an admin can share it."), "error")
        return redirect(url_for("settings.settings", slug=slug))
    if not UnshareForm().validate_on_submit():
        return _render(questionnaire, status=422, message=_(
            "You were away for a while. Please try again."))
    user = lifecycle.stop_sharing(questionnaire, user_id, current_user.id)
    db.session.commit()
    if user is None:
        flash(_("This questionnaire was not shared with that account."), "notice")
    else:
        flash(_("%(email)s can no longer work on this questionnaire.", email=user.email),
              "success")
    return redirect(url_for("settings.settings", slug=slug) + "#sharing")
