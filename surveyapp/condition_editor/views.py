"""Staff pages: edit the show-if condition of a question or a page of a draft version."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.condition_editor.forms import COMBINE_LABELS, ConditionForm, read_rules
from surveyapp.condition_editor.services import (
    OPERATORS,
    Problem,
    RuleInput,
    StaleCondition,
    answer_choices,
    build_condition,
    condition_digest,
    describe_condition,
    earlier_questions,
    editor_choices,
    is_item_editable,
    operators_for,
    prepare_rows,
    rules_for_editor,
    save_condition,
    short_text,
)
from surveyapp.db import db
from surveyapp.questionnaires.models import Page, Question
from surveyapp.questionnaires.services import load_version, questionnaire_for_staff

bp = Blueprint("conditions", __name__, url_prefix="/staff/build", template_folder="templates")


@bp.route("/<slug>/questions/<int:question_id>/condition", methods=["GET", "POST"])
@permission_required(Permission.BUILD)
def edit(slug: str, question_id: int):
    """The condition under which a question is shown."""
    return _editor(slug, Question, question_id, "conditions.edit")


@bp.route("/<slug>/pages/<int:page_id>/condition", methods=["GET", "POST"])
@permission_required(Permission.BUILD)
def edit_page(slug: str, page_id: int):
    """The condition under which a whole page is shown."""
    return _editor(slug, Page, page_id, "conditions.edit_page")


def _editor(slug: str, model: type[Question] | type[Page], item_id: int, endpoint: str):
    questionnaire = questionnaire_for_staff(slug)
    item = db.session.get(model, item_id)
    if item is None or item.version.questionnaire_id != questionnaire.id:
        abort(404)
    # The whole tree in four queries: menus and answers read every page, question and option.
    version = load_version(item.version_id)
    base = questionnaire.base_language
    kind = "question" if model is Question else "page"
    self_url = url_for(endpoint, slug=slug, **{f"{kind}_id": item_id})
    if not is_item_editable(item):
        return render_template("condition_editor/published.html", questionnaire=questionnaire,
                               version=version, kind=kind), 409

    form = ConditionForm()
    status, problems, conflict, focus = 200, [], False, None
    if request.method == "POST":
        combine = form.combine.data
        rows = read_rules(request.form)
        action = request.form.get("action", "save")
        removed = request.form.get("remove", "")
        # Without a script every step reloads the page: the focus goes where the work goes on.
        if removed.isdigit():
            rows = [row for n, row in enumerate(rows) if n != int(removed)]
            focus = "add-rule"
        elif action == "add":
            rows.append(RuleInput())
            focus = f"rule-{len(rows) - 1}-question"
        elif action == "update":
            changed = [n for n, row in enumerate(rows) if row.question != row.shown_for]
            focus = f"rule-{changed[0]}-op" if changed else None
        elif action in ("save", "clear"):
            condition, problems = (None, []) if action == "clear" else build_condition(
                item, combine, rows)
            if problems:
                status = 422
            else:
                try:
                    save_condition(item, condition, form.expected.data or "", current_user.id)
                except ValueError:  # published by someone else while this request ran
                    db.session.rollback()
                    return render_template("condition_editor/published.html",
                                           questionnaire=questionnaire,
                                           version=load_version(item.version_id),
                                           kind=kind), 409
                except StaleCondition:
                    db.session.rollback()
                    status, conflict = 409, True
                    # Saving again now replaces the other change, knowingly.
                    form.expected.data = condition_digest(item.show_if)
                    version = load_version(item.version_id)
                else:
                    db.session.commit()
                    # Also after a repeated send: what the page says is stored is stored.
                    flash(gettext("The condition was removed: it is always shown.")
                          if condition is None else gettext("The condition was saved."),
                          "success")
                    return redirect(self_url)
    else:
        combine, rows = rules_for_editor(item.show_if, version)
        form.combine.data = combine
        form.expected.data = condition_digest(item.show_if)
        if not rows:
            rows = [RuleInput()]
        # A condition saved before its questions were moved may no longer be valid.
        if item.show_if:
            problems = build_condition(item, combine, rows)[1]
    if combine not in ("all", "any"):
        form.combine.data = "all"

    earlier = earlier_questions(item)
    usable = {q.code: q for q in earlier}
    shown_rows = prepare_rows(rows, item)
    return render_template(
        "condition_editor/edit.html",
        questionnaire=questionnaire, version=version, item=item, kind=kind, base=base,
        form=form, combine_labels=COMBINE_LABELS,
        rows=[_row_view(n, row, usable, base) for n, row in enumerate(shown_rows)],
        groups=_question_groups(earlier, base),
        problems=[{"href": _anchor(p), "message": p.message} for p in problems],
        errors={f"{p.rule}-{p.field}": p.message for p in problems if p.rule is not None},
        conflict=conflict, focus=focus, is_get=request.method == "GET",
        subject=_subject(item, kind, base),
        current=describe_condition(item.show_if, version, base) if item.show_if else None,
        choices={"questions": editor_choices(earlier, base), "text": {
            "op": gettext("Comparison"), "answer": gettext("Answer"),
            "answers": gettext("Answers"), "number": gettext("Number")}},
    ), status


def _anchor(problem: Problem) -> str:
    """The id of the field a problem is about, for the error summary's link."""
    if problem.rule is None:
        return "combine-all"
    suffix = "values-0" if problem.field == "values" else problem.field
    return f"rule-{problem.rule}-{suffix}"


def _subject(item, kind: str, base: str) -> str:
    if kind == "question":
        return short_text(item.text, base, base)
    return short_text(item.title, base, base) or gettext(
        "Page %(number)d", number=item.version.pages.index(item) + 1)


def _question_groups(questions: list[Question], base: str) -> list[dict]:
    """The offered questions grouped by page, for the question menus."""
    groups: list[dict] = []
    for question in questions:
        page = question.page
        if not groups or groups[-1]["page"] is not page:
            number = page.version.pages.index(page) + 1
            title = short_text(page.title, base, base)
            label = (gettext("Page %(number)d: %(title)s", number=number, title=title) if title
                     else gettext("Page %(number)d", number=number))
            groups.append({"page": page, "label": label, "questions": []})
        groups[-1]["questions"].append(
            {"code": question.code, "text": short_text(question.text, base, base)})
    return groups


def _row_view(number: int, row: RuleInput, usable: dict[str, Question], base: str) -> dict:
    source = usable.get(row.question)
    ops = operators_for(source) if source is not None else []
    takes = OPERATORS[row.op].takes if row.op in ops else None
    return {
        "number": number,
        "prefix": f"rule-{number}-",
        "row": row,
        "ops": [(op, OPERATORS[op].label) for op in ops],
        "takes": takes,
        "answers": answer_choices(source, base, base) if source is not None else [],
        # A stored rule on a question the editor does not offer (moved, deleted): keep it
        # visible in the menu, so the error next to it makes sense.
        "unknown_question": bool(row.question) and source is None,
    }
