"""Programme pages: the list, the board of a programme, and the forms that change it."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.accounts.models import Unit
from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.db import db
from surveyapp.programmes.forms import (
    EntryForm,
    JoinForm,
    ProgrammeForm,
    choices,
    confirm_form,
    mark_form,
)
from surveyapp.programmes.metrics import all_metrics, get_metric
from surveyapp.programmes.models import (
    MarkKind,
    ParticipationStatus,
    Programme,
    Stage,
    TargetMark,
)
from surveyapp.programmes.services import (
    AlreadyConfirmed,
    Decision,
    ProgrammeError,
    add_entry,
    add_marks,
    add_unit_to_stage,
    confirm_stage,
    create_programme,
    current_stage,
    joinable_units,
    list_programmes,
    stage_progress,
    suggest_dates,
)

bp = Blueprint("programmes", __name__, url_prefix="/staff/programmes",
               template_folder="templates")


def _get(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _to_board(programme_id: int, message: str):
    flash(message)
    return redirect(url_for("programmes.board", programme_id=programme_id))


@bp.route("/")
@permission_required(Permission.VIEW_PROGRAMMES)
def index():
    """Every programme with its current stage."""
    programmes = [(programme, current_stage(programme)) for programme in list_programmes()]
    return render_template("programmes/index.html", programmes=programmes)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PROGRAMMES)
def new():
    """Start a programme with its first stage (three months from the next first suggested)."""
    form = ProgrammeForm()
    if request.method == "GET":
        form.starts_on.data, form.ends_on.data = suggest_dates()
    error = None
    if form.validate_on_submit():
        try:
            programme = create_programme(form.name.data, form.starts_on.data, form.ends_on.data,
                                         current_user.id)
        except ProgrammeError as problem:
            error = str(problem)
        else:
            db.session.commit()
            return _to_board(programme.id, _("The programme was created. Add the units "
                                             "taking part in stage 1."))
    status = 422 if request.method == "POST" else 200
    return render_template("programmes/new.html", form=form, error=error), status


@bp.route("/<int:programme_id>")
@permission_required(Permission.VIEW_PROGRAMMES)
def board(programme_id: int):
    """Each unit's progress against its target marks, the current stage first, then history."""
    programme = _get(Programme, programme_id)
    current = current_stage(programme)
    stages = [(stage, stage_progress(stage)) for stage in reversed(programme.stages)]
    return render_template("programmes/board.html", programme=programme, current=current,
                           stages=stages, metric_label=_metric_label, mark_title=_mark_title,
                           format_percent=format_percent)


def _metric_label(mark: TargetMark) -> str:
    """How a counted mark is counted, in the reader's language."""
    metric = get_metric(mark.metric)
    if metric is None:
        return _("not available on this installation")
    settings = ", ".join(str(value) for value in (mark.params or {}).values())
    if not mark.label:  # the title shows the metric's label already
        return settings or str(metric.label)
    return f"{metric.label}: {settings}" if settings else str(metric.label)


def _mark_title(mark: TargetMark) -> str:
    """The mark's label, or for a counted mark without one, what the app counts."""
    if mark.label:
        return mark.label
    metric = get_metric(mark.metric)
    return str(metric.label) if metric else mark.metric or ""


@bp.route("/stages/<int:stage_id>/units", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PROGRAMMES)
def join(stage_id: int):
    """Let a unit enter the programme at level 1 in an open stage (new, or applying again)."""
    stage = _get(Stage, stage_id)
    form = JoinForm()
    form.unit.choices = choices((unit.id, "\u2003" * depth + unit.name)
                                for unit, depth in joinable_units(stage))
    error = None
    if form.validate_on_submit():
        try:
            participation = add_unit_to_stage(stage, _get(Unit, form.unit.data), current_user.id)
        except ProgrammeError as problem:
            error = str(problem)
        else:
            db.session.commit()
            return _to_board(stage.programme_id, _("%(unit)s takes part in stage %(number)s.",
                                                   unit=participation.unit.name,
                                                   number=stage.number))
    status = 422 if request.method == "POST" else 200
    return render_template("programmes/join.html", stage=stage, form=form, error=error), status


@bp.route("/stages/<int:stage_id>/marks", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PROGRAMMES)
def add_mark(stage_id: int):
    """Give one or several units of the stage a target mark."""
    stage = _get(Stage, stage_id)
    units = sorted(((p.unit.id, p.unit.name) for p in stage.participations
                    if p.status is ParticipationStatus.ACTIVE), key=lambda pair: pair[1])
    form = mark_form(units)
    error = None
    if form.validate_on_submit():
        kind = MarkKind(form.kind.data)
        params = {name.removeprefix("param_"): field.data for name, field in form._fields.items()
                  if name.startswith("param_") and field.data}
        try:
            add_marks(stage, [_get(Unit, unit_id) for unit_id in form.units.data],
                      form.label.data, kind, form.target.data,
                      metric=form.metric.data if kind is MarkKind.COUNTED else None,
                      params=params, user_id=current_user.id)
        except ProgrammeError as problem:
            error = str(problem)
        else:
            db.session.commit()
            return _to_board(stage.programme_id, _("The target mark was added."))
    status = 422 if request.method == "POST" else 200
    params = [field for name, field in form._fields.items() if name.startswith("param_")]
    return render_template("programmes/mark_new.html", stage=stage, form=form, error=error,
                           param_fields=params, metrics=all_metrics()), status


@bp.route("/marks/<int:mark_id>")
@permission_required(Permission.VIEW_PROGRAMMES)
def mark(mark_id: int):
    """A mark's entries: who entered what, when, and why."""
    target_mark = _get(TargetMark, mark_id)
    form = EntryForm()
    form.key.data = secrets.token_urlsafe(24)
    return render_template("programmes/mark.html", mark=target_mark, form=form,
                           error=None, metric_label=_metric_label, mark_title=_mark_title)


@bp.route("/marks/<int:mark_id>/entries", methods=["POST"])
@permission_required(Permission.ENTER_MARKS)
def enter(mark_id: int):
    """Add a staff-entered number (with a note) to a mark."""
    target_mark = _get(TargetMark, mark_id)
    form = EntryForm()
    error = None
    if form.validate_on_submit():
        try:
            add_entry(target_mark, form.amount.data, form.note.data, form.happened_on.data,
                      current_user.id, form_key=form.key.data or None)
        except ProgrammeError as problem:
            error = str(problem)
        else:
            db.session.commit()
            flash(_("The number was added."))
            return redirect(url_for("programmes.mark", mark_id=mark_id))
    return render_template("programmes/mark.html", mark=target_mark, form=form, error=error,
                           metric_label=_metric_label, mark_title=_mark_title), 422


@bp.route("/stages/<int:stage_id>/confirm", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PROGRAMMES)
def confirm(stage_id: int):
    """End a stage: the board's proposal per unit, the admin's decision, the next stage."""
    stage = _get(Stage, stage_id)
    progress = stage_progress(stage)
    active = [p for p in progress if p.participation.status is ParticipationStatus.ACTIVE]
    newcomers = [(unit.id, "\u2003" * depth + unit.name) for unit, depth in joinable_units(stage)]
    form = confirm_form([p.participation.unit_id for p in active], newcomers,
                        {p.participation.unit_id: p.proposal.value for p in active},
                        suggest_dates(stage))
    error = None
    status = 200
    if stage.is_confirmed:
        error = _("This stage was confirmed already; nothing was changed.")
        status = 409 if request.method == "POST" else 200
    elif form.validate_on_submit():
        decisions = {p.participation.unit_id: Decision(
            ParticipationStatus(form[f"decision_{p.participation.unit_id}"].data),
            form[f"note_{p.participation.unit_id}"].data or "") for p in active}
        next_dates = (None if form.end_programme.data
                      else (form.next_starts_on.data, form.next_ends_on.data))
        try:
            confirm_stage(stage, decisions, next_dates,
                          [_get(Unit, unit_id) for unit_id in form.newcomers.data or []],
                          current_user.id)
        except AlreadyConfirmed as problem:
            db.session.rollback()
            error, status = str(problem), 409
        except ProgrammeError as problem:
            db.session.rollback()
            status = 422
            if problem.field and problem.field in form:
                form[problem.field].errors = [*form[problem.field].errors, str(problem)]
            else:
                error = str(problem)
        else:
            db.session.commit()
            return _to_board(stage.programme_id, _("Stage %(number)s is confirmed.",
                                                   number=stage.number))
    elif request.method == "POST":
        status = 422
    return render_template("programmes/confirm.html", stage=stage, form=form, active=active,
                           error=error), status
