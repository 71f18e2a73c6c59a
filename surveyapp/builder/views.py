"""Builder pages: start a questionnaire, edit its draft on one screen, preview, publish.

Every change is a plain form post that redirects back to the editor, so everything works
without JavaScript; builder.js sends the question forms in the background and swaps in only
the question that was saved, so that what is typed elsewhere on the page stays.
"""

from __future__ import annotations

import json
import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.builder import services
from surveyapp.builder.forms import (
    BlankForm,
    CopyForm,
    TemplateForm,
    TextsForm,
    UploadForm,
    read_question_form,
    typed_values,
)
from surveyapp.db import db
from surveyapp.questionnaires.definition import DefinitionError
from surveyapp.questionnaires.lifecycle import may_share
from surveyapp.questionnaires.models import QuestionnaireState
from surveyapp.questionnaires.question_types import REGISTRY
from surveyapp.questionnaires.services import (
    get_by_slug,
    list_questionnaires,
    may_work_on,
    questionnaire_for_staff,
)

bp = Blueprint("builder", __name__, url_prefix="/staff/build", template_folder="templates")


def _is_fetch() -> bool:
    """Whether builder.js sent this request (it wants a fragment, not a redirect)."""
    return request.headers.get("X-Requested-With") == "builder"


# --------------------------------------------------------------------------------------------
# Starting


def _start_forms():
    blank = BlankForm(prefix="blank")
    template = TemplateForm(prefix="template")
    template.template.choices = [
        (d["slug"], d["title"].get(d["base_language"], d["slug"]))
        for d in services.template_definitions()]
    copy = CopyForm(prefix="copy")
    copy.source.choices = [("", _("Choose…"))] + [
        (q.slug, (q.latest_version.title.get(q.base_language) if q.latest_version else q.slug)
         or q.slug) for q in list_questionnaires(current_user)]
    upload = UploadForm(prefix="upload")
    forms = {"blank": blank, "template": template, "copy": copy, "upload": upload}
    for form in forms.values():
        if not form.start_key.data:
            form.start_key.data = secrets.token_urlsafe(24)
    return forms


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.BUILD)
def new():
    """Start a questionnaire: blank, from a template, as a copy, or from a JSON file."""
    forms = _start_forms()
    chosen = request.form.get("how") if request.method == "POST" else None
    problems: list[str] = []
    message = None
    if chosen in forms and forms[chosen].validate_on_submit():
        form = forms[chosen]
        earlier = services.already_started(current_user.id, form.start_key.data)
        if earlier is not None:  # the same form pressed again
            return redirect(url_for("builder.edit", slug=earlier.slug))
        try:
            questionnaire = _start(chosen, form)
        except services.BuilderError as error:
            db.session.rollback()
            form.slug.errors = [error.message]
        except DefinitionError as error:
            db.session.rollback()
            message = _("The file has problems; nothing was imported.")
            problems = error.problems
        else:
            db.session.commit()
            flash(_("The questionnaire was created. You can now edit it."), "success")
            return redirect(url_for("builder.edit", slug=questionnaire.slug))
    status = 422 if request.method == "POST" else 200
    templates = {d["slug"]: d for d in services.template_definitions()}
    return render_template("builder/new.html", forms=forms, chosen=chosen, problems=problems,
                           message=message, templates=templates), status


def _start(how: str, form):
    slug = (form.slug.data or "").strip() or None
    key = form.start_key.data
    if how == "blank":
        return services.start_blank(
            slug=slug or services.derive_slug(form.title.data), title=form.title.data,
            base_language=form.base_language.data, languages=form.languages.data or [],
            owner_id=current_user.id, start_key=key)
    if how == "template":
        data = next(d for d in services.template_definitions()
                    if d["slug"] == form.template.data)
        title = data["title"].get(data["base_language"], data["slug"])
        return services.start_from_definition(data, current_user.id,
                                              slug or services.derive_slug(title), key)
    if how == "copy":
        source = get_by_slug(form.source.data)
        if source is None or not may_work_on(current_user, source):
            abort(403)
        title = source.latest_version.title.get(source.base_language, source.slug)
        return services.copy_questionnaire(source, current_user.id,
                                           slug or services.derive_slug(title), key)
    raw = form.file.data.read()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError([f"not valid JSON: {error}"]) from error
    return services.start_from_definition(data, current_user.id, slug, key)


# --------------------------------------------------------------------------------------------
# The editor


def _questionnaire(slug: str):
    return questionnaire_for_staff(slug)


def _render_editor(questionnaire, status: int = 200, *, typed=None, question_messages=None,
                   texts_form=None, open_question: int | None = None, problems=None,
                   missing=None):
    draft = services.draft_version(questionnaire)
    try:
        version, option_counts = services.outline(questionnaire)
    except LookupError:
        abort(404)
    base = questionnaire.base_language
    if texts_form is None:
        texts_form = TextsForm(formdata=None, prefix="texts", token=services.texts_token(version),
                               title=version.title.get(base, ""),
                               intro=version.intro.get(base, ""),
                               thank_you=version.thank_you.get(base, ""))
    answered = services.answered_codes(questionnaire)
    open_question = open_question or request.args.get("open", type=int)
    fixed = _answered_choices(questionnaire, version, open_question, answered)
    return render_template(
        "builder/edit.html", answered_choices=fixed, questionnaire=questionnaire, version=version,
        is_draft=draft is not None, option_counts=option_counts, base=base, texts_form=texts_form,
        structure=services.structure_token(version), answered=answered,
        typed=typed or {}, question_messages=question_messages or {},
        open_question=open_question,
        types=REGISTRY, typed_values=typed_values, question_token=services.question_token,
        page_token=services.page_token, problems=problems or [], missing=missing or {},
        has_conditions="conditions.edit" in _view_functions(),
        has_page_conditions="conditions.edit_page" in _view_functions(),
        may_delete=may_share(current_user, questionnaire),
    ), status


def _answered_choices(questionnaire, version, question_id, answered) -> tuple[set, set]:
    """Option and row codes with answers, for the question open in the editor (fixed codes)."""
    question = services.find_question(version, question_id) if question_id else None
    if question is None or question.code not in answered:
        return set(), set()
    return services.answered_choice_codes(questionnaire, question.code)


def _view_functions():
    from flask import current_app

    return current_app.view_functions


def _back(questionnaire, anchor: str | None = None, **args):
    url = url_for("builder.edit", slug=questionnaire.slug, **args)
    return redirect(f"{url}#{anchor}" if anchor else url)


@bp.route("/<slug>")
@permission_required(Permission.BUILD)
def edit(slug: str):
    """The whole draft on one screen: texts, pages, questions, options."""
    return _render_editor(_questionnaire(slug))


@bp.route("/<slug>/make-changes", methods=["POST"])
@permission_required(Permission.BUILD)
def make_changes(slug: str):
    """Start a new draft version from the published one (or go to the existing draft)."""
    questionnaire = _questionnaire(slug)
    try:
        version = services.make_changes(questionnaire, current_user.id)
    except services.BuilderError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back(questionnaire)
    db.session.commit()
    flash(_("You are editing version %(number)d. Respondents keep answering the published "
            "version until you publish this one.", number=version.number), "success")
    return _back(questionnaire)


def _fail(questionnaire, error: services.BuilderError, anchor: str | None = None):
    """Undo the request's changes and show why, on the editor with its current state."""
    db.session.rollback()
    db.session.expire_all()
    if _is_fetch():
        return {"message": error.message}, 409 if isinstance(error, services.StaleEdit) else 422
    flash(error.message, "error")
    return _back(questionnaire, anchor)


@bp.route("/<slug>/texts", methods=["POST"])
@permission_required(Permission.BUILD)
def texts(slug: str):
    """Save the title, introduction and thank-you text."""
    questionnaire = _questionnaire(slug)
    form = TextsForm(prefix="texts")
    if not form.validate_on_submit():
        return _render_editor(questionnaire, 422, texts_form=form)
    try:
        version = services.editable_tree(questionnaire, lock=True)
        services.update_texts(version, form.token.data, questionnaire.base_language,
                              title=form.title.data, intro=form.intro.data,
                              thank_you=form.thank_you.data)
    except services.BuilderError as error:
        db.session.rollback()
        db.session.expire_all()
        form.form_errors.append(error.message)
        form.token.data = services.texts_token(services.editable_tree(questionnaire))
        return _render_editor(questionnaire, 409, texts_form=form)
    db.session.commit()
    flash(_("Saved."), "success")
    return _back(questionnaire, "texts")


@bp.route("/<slug>/pages", methods=["POST"])
@permission_required(Permission.BUILD)
def add_page(slug: str):
    """Add a page at the end."""
    questionnaire = _questionnaire(slug)
    try:
        version = services.editable_tree(questionnaire, lock=True)
        page = services.add_page(version, request.form.get("structure"),
                                 questionnaire.base_language,
                                 (request.form.get("title") or "").strip()[:200])
    except services.BuilderError as error:
        return _fail(questionnaire, error)
    db.session.commit()
    flash(_("Page added."), "success")
    return _back(questionnaire, f"page-{page.id}")


@bp.route("/<slug>/pages/<int:page_id>", methods=["POST"])
@permission_required(Permission.BUILD)
def page(slug: str, page_id: int):
    """Rename, move, duplicate or delete a page."""
    questionnaire = _questionnaire(slug)
    action = request.form.get("action")
    try:
        version = services.editable_tree(questionnaire, lock=True)
        target = services.find_page(version, page_id)
        if target is None:
            abort(404)
        token = request.form.get("structure")
        if action == "rename":
            services.rename_page(target, request.form.get("token"),
                                 questionnaire.base_language,
                                 (request.form.get("title") or "").strip()[:200])
            message = _("Saved.")
        elif action in ("up", "down"):
            services.move_page(version, target, token, -1 if action == "up" else 1)
            message = _("Page moved.")
        elif action == "duplicate":
            twin = services.duplicate_page(questionnaire, version, target, token)
            page_id = twin.id
            message = _("Page duplicated.")
        elif action == "delete":
            retired = services.delete_page(version, target, token,
                                           services.answered_codes(questionnaire),
                                           current_user.id)
            message = _retired_message(retired) or _("Page removed.")
        else:
            abort(400)
    except services.BuilderError as error:
        return _fail(questionnaire, error, f"page-{page_id}")
    db.session.commit()
    flash(message, "success")
    return _back(questionnaire, f"page-{page_id}" if action != "delete" else None)


def _retired_message(codes: list[str]) -> str | None:
    if not codes:
        return None
    return _("Retired: %(codes)s. They leave the new version; their answers stay in the "
             "results.", codes=", ".join(codes))


@bp.route("/<slug>/pages/<int:page_id>/questions", methods=["POST"])
@permission_required(Permission.BUILD)
def add_question(slug: str, page_id: int):
    """Add a question to a page (from the short form, or written in the JSON format)."""
    questionnaire = _questionnaire(slug)
    try:
        version = services.editable_tree(questionnaire, lock=True)
        target = services.find_page(version, page_id)
        if target is None:
            abort(404)
        token = request.form.get("structure")
        if request.form.get("json", "").strip():
            try:
                data = json.loads(request.form["json"])
            except json.JSONDecodeError as error:
                raise DefinitionError([f"not valid JSON: {error}"]) from error
            question = services.add_question_from_json(questionnaire, version, target, token,
                                                       data)
        else:
            text = (request.form.get("text") or "").strip()[:2000]
            if not text:
                raise services.BuilderError(_("Please write the question."))
            question = services.add_question(questionnaire, version, target, token,
                                             questionnaire.base_language,
                                             type_name=request.form.get("type", ""), text=text)
    except services.BuilderError as error:
        return _fail(questionnaire, error, f"page-{page_id}")
    except DefinitionError as error:
        db.session.rollback()
        flash(_("The question was not added:") + " " + "; ".join(error.problems), "error")
        return _back(questionnaire, f"page-{page_id}")
    db.session.commit()
    flash(_("Question added."), "success")
    return _back(questionnaire, f"q-{question.id}", open=question.id)


@bp.route("/<slug>/questions/<int:question_id>", methods=["GET", "POST"])
@permission_required(Permission.BUILD)
def question(slug: str, question_id: int):
    """Save one question with its options (and the option button pressed, if any).

    GET opens the question's editor: alone for builder.js, else in the whole page.
    """
    questionnaire = _questionnaire(slug)
    if request.method == "GET":
        if not _is_fetch() or services.draft_version(questionnaire) is None:
            return _back(questionnaire, f"q-{question_id}", open=question_id)
        return _question_fragment(questionnaire, question_id)
    change, errors = read_question_form(request.form)
    try:
        version = services.editable_tree(questionnaire, lock=True)
    except services.BuilderError as error:
        return _fail(questionnaire, error)
    current = services.find_question(version, question_id)
    if current is None:
        abort(404)
    message = None
    status = 200
    if errors:
        status = 422
    else:
        try:
            retired = services.update_question(questionnaire, version, current,
                                               request.form.get("token"),
                                               questionnaire.base_language, change)
        except services.BuilderError as error:
            db.session.rollback()
            db.session.expire_all()
            status = 409 if isinstance(error, services.StaleEdit) else 422
            errors = {"_": error.message}
        else:
            db.session.commit()
            message = _retired_message(retired) or _("Saved.")
    if status == 200:
        if _is_fetch():
            return _question_fragment(questionnaire, question_id, message=message)
        flash(message, "success")
        return _back(questionnaire, f"q-{question_id}", open=question_id)
    if _is_fetch():
        return _question_fragment(questionnaire, question_id, typed=change, errors=errors,
                                   status=status)
    return _render_editor(questionnaire, status, typed={question_id: change},
                          question_messages={question_id: errors}, open_question=question_id)


def _question_fragment(questionnaire, question_id: int, *, typed=None, errors=None,
                       message=None, status: int = 200):
    version = services.editable_tree(questionnaire)
    current = services.find_question(version, question_id)
    if current is None:
        abort(404)
    answered = services.answered_codes(questionnaire)
    fixed = _answered_choices(questionnaire, version, question_id, answered)
    return render_template(
        "builder/_question_fragment.html", answered_choices=fixed,
        questionnaire=questionnaire, version=version,
        option_counts={question_id: len(current.choices)},
        q=current, base=questionnaire.base_language, structure=services.structure_token(version),
        answered=answered, typed={question_id: typed},
        question_messages={question_id: errors or {}}, saved_message=message,
        open_question=question_id, types=REGISTRY, typed_values=typed_values,
        question_token=services.question_token, is_draft=True,
        has_conditions="conditions.edit" in _view_functions(),
    ), status


@bp.route("/<slug>/questions/<int:question_id>/structure", methods=["POST"])
@permission_required(Permission.BUILD)
def question_structure(slug: str, question_id: int):
    """Move, duplicate or remove a question."""
    questionnaire = _questionnaire(slug)
    action = request.form.get("action")
    anchor = f"q-{question_id}"
    try:
        version = services.editable_tree(questionnaire, lock=True)
        current = services.find_question(version, question_id)
        if current is None:
            abort(404)
        token = request.form.get("structure")
        if action in ("up", "down"):
            services.move_question(version, current, token, step=-1 if action == "up" else 1)
            message = _("Question moved.")
        elif action == "move":
            target = services.find_page(version, request.form.get("page", type=int) or 0)
            if target is None:
                raise services.BuilderError(_("Please choose a page."))
            services.move_question(version, current, token, page=target)
            message = _("Question moved.")
        elif action == "duplicate":
            twin = services.duplicate_question(questionnaire, version, current, token)
            anchor = f"q-{twin.id}"
            message = _("Question duplicated.")
        elif action == "delete":
            retired = services.delete_question(version, current, token,
                                               services.answered_codes(questionnaire),
                                               current_user.id)
            anchor = f"page-{current.page_id}"
            message = (_retired_message([current.code]) if retired
                       else _("Question removed."))
        else:
            abort(400)
    except services.BuilderError as error:
        return _fail(questionnaire, error, anchor)
    db.session.commit()
    flash(message, "success")
    return _back(questionnaire, anchor)


@bp.route("/<slug>/order", methods=["POST"])
@permission_required(Permission.BUILD)
def order(slug: str):
    """Save the order of pages and questions after drag and drop (builder.js)."""
    questionnaire = _questionnaire(slug)
    try:
        layout = [(int(item["page"]), [int(q) for q in item["questions"]])
                  for item in json.loads(request.form.get("layout") or "[]")]
    except (ValueError, KeyError, TypeError):
        abort(400)
    try:
        version = services.editable_tree(questionnaire, lock=True)
        services.reorder(version, request.form.get("structure"), layout)
    except services.BuilderError as error:
        return _fail(questionnaire, error)
    db.session.commit()
    version = services.editable_tree(questionnaire)
    if _is_fetch():
        return {"structure": services.structure_token(version)}
    flash(_("Order saved."), "success")
    return _back(questionnaire)


@bp.route("/<slug>/publish", methods=["POST"])
@permission_required(Permission.BUILD)
def publish(slug: str):
    """Check the draft and publish it; respondents answer it from now on."""
    questionnaire = _questionnaire(slug)
    if questionnaire.state is QuestionnaireState.ARCHIVED:
        abort(409)
    try:
        version = services.publish_draft(questionnaire, current_user.id)
    except services.PublishRefused as refused:
        db.session.rollback()
        db.session.expire_all()
        flash(refused.message, "error")
        return _render_editor(questionnaire, 422, problems=refused.problems,
                              missing=refused.missing)
    except services.BuilderError as error:
        return _fail(questionnaire, error)
    db.session.commit()
    flash(_("Version %(number)d is published.", number=version.number), "success")
    return _back(questionnaire)


@bp.route("/<slug>/discard", methods=["POST"])
@permission_required(Permission.BUILD)
def discard(slug: str):
    """Throw the draft away (after a confirmation tick) and go back to the published version."""
    questionnaire = _questionnaire(slug)
    if request.form.get("confirm") != "y":
        flash(_("Please tick the box to confirm."), "error")
        return _back(questionnaire, "discard")
    try:
        number = services.discard_draft(questionnaire, current_user.id)
    except services.BuilderError as error:
        return _fail(questionnaire, error)
    db.session.commit()
    flash(_("The changes of version %(number)d were thrown away.", number=number), "success")
    return _back(questionnaire)


@bp.route("/<slug>/delete", methods=["POST"])
@permission_required(Permission.BUILD)
def delete(slug: str):
    """Delete a questionnaire that was never published (after a confirmation tick)."""
    questionnaire = _questionnaire(slug)
    if request.form.get("confirm") != "y":
        flash(_("Please tick the box to confirm."), "error")
        return _back(questionnaire, "delete")
    # Only the owner or an admin: a builder it is shared with works on it, it is not theirs
    # (they are not shown the control; checked after the tick so that an unticked press
    # anywhere still just asks for it).
    if not may_share(current_user, questionnaire):
        abort(403)
    try:
        services.delete_questionnaire(questionnaire, current_user.id)
    except services.BuilderError as error:
        return _fail(questionnaire, error)
    db.session.commit()
    flash(_("The questionnaire was deleted."), "success")
    return redirect(url_for("questionnaires.index"))


@bp.route("/<slug>/preview")
@permission_required(Permission.BUILD)
def preview(slug: str):
    """The respondent pages in a phone-sized frame, in any of the questionnaire's languages."""
    questionnaire = _questionnaire(slug)
    lang = request.args.get("lang")
    if lang not in questionnaire.languages:
        lang = questionnaire.base_language
    return render_template("builder/preview.html", questionnaire=questionnaire, lang=lang)
