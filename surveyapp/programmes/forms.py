"""Forms of the programme pages; the ones that depend on the stage are built per request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from surveyapp.programmes.metrics import all_metrics
from surveyapp.programmes.models import MarkKind, ParticipationStatus


def choices(pairs) -> list[SelectChoice]:
    """WTForms' option objects from ``(value, label)`` pairs (plain tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


DATE_MESSAGE = _l("Please give a date, for example 2027-01-31.")


class ProgrammeForm(FlaskForm):
    """A new programme and the dates of its first stage."""

    name = StringField(_l("Name of the programme"),
                       validators=[InputRequired(_l("Please give the programme a name.")),
                                   Length(max=200)])
    starts_on = DateField(_l("First day of stage 1"),
                          validators=[InputRequired(DATE_MESSAGE)])
    ends_on = DateField(_l("Last day of stage 1"), validators=[InputRequired(DATE_MESSAGE)])


class JoinForm(FlaskForm):
    """A unit entering the programme at level 1."""

    unit = SelectField(_l("Unit"), coerce=int,
                       validators=[InputRequired(_l("Please choose a unit."))])


def mark_form(stage_units: list[tuple[int, str]]) -> FlaskForm:
    """The "add a target mark" form for a stage's units and the registered metrics."""

    class MarkForm(FlaskForm):
        label = StringField(_l("What is counted"), validators=[Length(max=200)])
        kind = RadioField(_l("Who counts"), choices=choices([
            (MarkKind.COUNTED.value, _l("The app counts it from its own data")),
            (MarkKind.ENTERED.value, _l("Staff enter the numbers (with a note)")),
        ]), default=MarkKind.COUNTED.value,
            validators=[InputRequired(_l("Please choose who counts."))])
        metric = SelectField(_l("What the app counts"), validators=[Optional()],
                             choices=choices((m.name, m.label) for m in all_metrics()))
        target = IntegerField(_l("Target"), validators=[
            InputRequired(_l("The target is a whole number of at least 1.")),
            NumberRange(min=1, message=_l("The target is a whole number of at least 1."))])
        units = SelectMultipleField(_l("For these units"), coerce=int, choices=choices(stage_units),
                                    default=[unit_id for unit_id, _name in stage_units])

    seen = set()
    for metric in all_metrics():
        for param in metric.params:
            if param.name not in seen:
                seen.add(param.name)
                setattr(MarkForm, f"param_{param.name}",
                        SelectField(param.label,
                                    choices=choices([("", _l("(choose)")), *param.choices()]),
                                    validators=[Optional()]))
    return MarkForm()


class EntryForm(FlaskForm):
    """A number staff report for a mark; a negative number corrects an earlier entry."""

    amount = IntegerField(_l("Number"), validators=[
        InputRequired(_l("Please give a whole number (negative to correct an earlier entry)."))])
    happened_on = DateField(_l("Day it happened"), validators=[InputRequired(DATE_MESSAGE)])
    note = TextAreaField(_l("Note"), validators=[
        InputRequired(_l("Please say in a note what was done.")), Length(max=500)])
    #: Random per form shown, so that a double click adds the number once.
    key = HiddenField(validators=[Length(max=64)])


DECISIONS = [
    (ParticipationStatus.ADVANCED.value, _l("Advances to the next stage")),
    (ParticipationStatus.DROPPED_OUT.value, _l("Drops out")),
    (ParticipationStatus.WITHDRAWN.value, _l("Withdrew")),
]


def confirm_form(unit_ids: list[int], newcomer_choices: list[tuple[int, str]],
                 defaults: dict[int, str], next_dates) -> FlaskForm:
    """The end-of-stage form: a decision and a note per unit, the next stage, newcomers."""

    class ConfirmForm(FlaskForm):
        end_programme = BooleanField(_l("End the programme with this stage (no next stage)"))
        next_starts_on = DateField(_l("First day of the next stage"), default=next_dates[0],
                                   validators=[Optional()])
        next_ends_on = DateField(_l("Last day of the next stage"), default=next_dates[1],
                                 validators=[Optional()])
        newcomers = SelectMultipleField(_l("New units entering the next stage at level 1"),
                                        coerce=int, choices=choices(newcomer_choices),
                                        validators=[Optional()])

    for unit_id in unit_ids:
        setattr(ConfirmForm, f"decision_{unit_id}",
                RadioField(_l("Decision"), choices=choices(DECISIONS), default=defaults[unit_id],
                           validators=[InputRequired(_l("Please decide for every unit."))]))
        setattr(ConfirmForm, f"note_{unit_id}",
                TextAreaField(_l("Reason (needed where you decide against the proposal)"),
                              validators=[Length(max=500)]))
    return ConfirmForm()
