"""Admins keep the unit tree: add, rename, move, retire, and import it from CSV.

The forms live here rather than in accounts/forms.py: they are used by these views only.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from surveyapp.accounts.models import Unit, UnitKind
from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.accounts.services import (
    UnitError,
    active_units,
    create_unit,
    delete_unit,
    import_units_csv,
    move_unit,
    reinstate_unit,
    rename_unit,
    retire_unit,
    unit_is_referenced,
    unit_tree,
)
from surveyapp.audit.services import record
from surveyapp.db import db

bp = Blueprint("units", __name__, url_prefix="/staff/units", template_folder="templates")

KIND_LABELS = {UnitKind.FEDERATION: _l("Federation"), UnitKind.REGION: _l("Region"),
               UnitKind.CHAPTER: _l("Local chapter")}
#: The largest CSV accepted (a federation's units fit in a few kilobytes).
MAX_IMPORT_BYTES = 1_000_000


class UnitForm(FlaskForm):
    """A new unit."""

    code = StringField(_l("Code (used in links; lower-case letters, digits, hyphens)"),
                       validators=[InputRequired(_l("Please give a code.")), Length(max=40)])
    name = StringField(_l("Name"), validators=[InputRequired(_l("Please give a name.")),
                                               Length(max=200)])
    parent = SelectField(_l("Belongs to"), coerce=int)
    kind = SelectField(_l("Level"), choices=[SelectChoice(k.value, label)
                                                   for k, label in KIND_LABELS.items()])


class EditUnitForm(FlaskForm):
    """A unit's name, place in the tree and level."""

    name = StringField(_l("Name"), validators=[InputRequired(_l("Please give a name.")),
                                               Length(max=200)])
    parent = SelectField(_l("Belongs to"), coerce=int)
    kind = SelectField(_l("Level"), choices=[SelectChoice(k.value, label)
                                                   for k, label in KIND_LABELS.items()])


class ImportForm(FlaskForm):
    """A CSV file of units."""

    file = FileField(_l("CSV file with the columns code, name, parent code"))


class ActionForm(FlaskForm):
    """Only the CSRF token, for the retire, reinstate and delete buttons."""


def _parent_choices(exclude: Unit | None = None) -> list[SelectChoice]:
    """Active units as parents (0: none, the top of the tree), minus ``exclude``'s branch."""
    choices, skip_depth = [SelectChoice(0, _("None (top of the tree)"))], None
    for unit, depth in active_units():
        if skip_depth is not None and depth > skip_depth:
            continue
        skip_depth = depth if exclude is not None and unit.id == exclude.id else None
        if skip_depth is None:
            choices.append(SelectChoice(unit.id, "\u2003" * depth + unit.name))
    return choices


def _unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    return unit


@bp.route("/")
@permission_required(Permission.MANAGE_UNITS)
def index():
    """The unit tree, federation > region > chapter, retired units marked."""
    return render_template("units/index.html", tree=unit_tree(), kinds=KIND_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_UNITS)
def new():
    """Add a unit."""
    form = UnitForm()
    form.parent.choices = _parent_choices()
    if request.method == "GET":
        form.parent.data = int(request.args.get("parent", 0) or 0)
        form.kind.data = UnitKind.REGION.value
    error = None
    if form.validate_on_submit():
        try:
            unit = create_unit(form.code.data, form.name.data,
                               db.session.get(Unit, form.parent.data) if form.parent.data else None,
                               UnitKind(form.kind.data))
        except UnitError as problem:
            error = str(problem)
        else:
            record(current_user.id, "unit.create", f"unit:{unit.code}")
            db.session.commit()
            flash(_("%(name)s was added.", name=unit.name))
            return redirect(url_for("units.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("units/new.html", form=form, error=error), status


@bp.route("/<int:unit_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_UNITS)
def edit(unit_id: int):
    """Rename a unit, move it under another parent, retire or reinstate it."""
    unit = _unit(unit_id)
    form = EditUnitForm(obj=None if request.method == "POST" else unit)
    form.parent.choices = _parent_choices(exclude=unit)
    if unit.parent_id and unit.parent_id not in {choice.value for choice in form.parent.choices}:
        form.parent.choices.append(SelectChoice(unit.parent_id, unit.parent.name))  # retired
    if request.method == "GET":
        form.parent.data = unit.parent_id or 0
        form.kind.data = unit.kind.value
    error = None
    if form.validate_on_submit():
        try:
            rename_unit(unit, form.name.data)
            new_parent = db.session.get(Unit, form.parent.data) if form.parent.data else None
            if new_parent is not unit.parent:
                move_unit(unit, new_parent)
            unit.kind = UnitKind(form.kind.data)
        except UnitError as problem:
            db.session.rollback()
            unit = _unit(unit_id)
            error = str(problem)
        else:
            record(current_user.id, "unit.edit",
                   f"unit:{unit.code} parent:{new_parent.code if new_parent else '-'}")
            db.session.commit()
            flash(_("%(name)s was saved.", name=unit.name))
            return redirect(url_for("units.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("units/edit.html", unit=unit, form=form, error=error,
                           action_form=ActionForm(), deletable=not unit_is_referenced(unit),
                           kinds=KIND_LABELS), status


def _act(unit_id: int, verb, action: str, message: str):
    unit = _unit(unit_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    name, code = unit.name, unit.code
    try:
        verb(unit)
    except UnitError as problem:
        db.session.rollback()
        unit = _unit(unit_id)
        edit_form = EditUnitForm(obj=unit)
        edit_form.parent.choices = _parent_choices(exclude=unit)
        edit_form.parent.data = unit.parent_id or 0
        edit_form.kind.data = unit.kind.value
        return render_template("units/edit.html", unit=unit, form=edit_form, error=str(problem),
                               action_form=form, deletable=not unit_is_referenced(unit),
                               kinds=KIND_LABELS), 422
    record(current_user.id, action, f"unit:{code}")
    db.session.commit()
    flash(message % {"name": name})
    return redirect(url_for("units.index"))


@bp.route("/<int:unit_id>/retire", methods=["POST"])
@permission_required(Permission.MANAGE_UNITS)
def retire(unit_id: int):
    """Retire a unit: its history stays, it is no longer offered for new work."""
    return _act(unit_id, retire_unit, "unit.retire", _("%(name)s is retired."))


@bp.route("/<int:unit_id>/reinstate", methods=["POST"])
@permission_required(Permission.MANAGE_UNITS)
def reinstate(unit_id: int):
    """Bring a retired unit back."""
    return _act(unit_id, reinstate_unit, "unit.reinstate", _("%(name)s is in use again."))


@bp.route("/<int:unit_id>/delete", methods=["POST"])
@permission_required(Permission.MANAGE_UNITS)
def delete(unit_id: int):
    """Delete a unit that was never used (anything with history can only be retired)."""
    return _act(unit_id, delete_unit, "unit.delete", _("%(name)s was deleted."))


@bp.route("/import", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_UNITS)
def import_csv():
    """Create or update units from a CSV file; a file with any bad row changes nothing."""
    form = ImportForm()
    report, error = None, None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
        if not data:
            error = _("Please choose a CSV file.")
        elif len(data) > MAX_IMPORT_BYTES:
            error = _("The file is larger than 1 MB.")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                try:
                    text = data.decode("cp1252")  # what German spreadsheet programs write
                except UnicodeDecodeError:
                    text = None
            if text is None:
                error = _("The file is not a text file in UTF-8.")
            else:
                report = import_units_csv(text)
                if report.problems:
                    db.session.rollback()
                else:
                    record(current_user.id, "unit.import",
                           f"created:{len(report.created)} updated:{len(report.updated)}")
                    db.session.commit()
    failed = bool(error or (report and report.problems))
    status = 422 if failed else 200
    return render_template("units/import.html", form=form, report=report, error=error), status
