"""Verbs on programmes, and the progress of each unit against its target marks.

They flush; the view commits. Every change is written to the audit log in the same
transaction, so the log and the programme's history agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.accounts.models import Unit
from surveyapp.accounts.services import descendant_ids
from surveyapp.audit.services import record
from surveyapp.db import db, utcnow
from surveyapp.programmes.metrics import count_mark, get_metric
from surveyapp.programmes.models import (
    MarkEntry,
    MarkKind,
    Participation,
    ParticipationStatus,
    Programme,
    Stage,
    TargetMark,
)

#: A stage usually lasts three months; the next one is suggested with the same length.
TYPICAL_MONTHS = 3


class ProgrammeError(ValueError):
    """A change that cannot be made; the message is translated and shown as it is.

    ``field`` names the form field the problem belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AlreadyConfirmed(ProgrammeError):
    """Someone confirmed this stage already (a double click, or two admins at once)."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def suggest_dates(after: Stage | None = None, today: date | None = None) -> tuple[date, date]:
    """Start and end for a new stage: the day after ``after`` ends, lasting as long as it did
    in whole months (three by default); without ``after``, from the next first of a month."""
    if after is None:
        today = today or date.today()
        start = add_months(today.replace(day=1), 1)
        months = TYPICAL_MONTHS
    else:
        start = after.ends_on + timedelta(days=1)
        span = after.ends_on + timedelta(days=1)
        months = ((span.year - after.starts_on.year) * 12 + span.month
                  - after.starts_on.month) or TYPICAL_MONTHS
    return start, add_months(start, months) - timedelta(days=1)


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is None or ends_on is None:
        raise ProgrammeError(_("Please give the first and the last day of the stage."))
    if ends_on < starts_on:
        raise ProgrammeError(_("The last day of a stage cannot come before its first day."))


def create_programme(name: str, starts_on: date, ends_on: date, user_id: int | None) -> Programme:
    """Start a programme with its first stage.

    :raise ProgrammeError: the name is empty or taken, or the dates are the wrong way round.
    """
    name = (name or "").strip()
    if not name:
        raise ProgrammeError(_("Please give the programme a name."))
    if db.session.scalar(sa.select(Programme.id).filter_by(name=name)) is not None:
        raise ProgrammeError(_("A programme called “%(name)s” exists already.", name=name))
    _check_dates(starts_on, ends_on)
    programme = Programme(name=name)
    programme.stages.append(Stage(number=1, starts_on=starts_on, ends_on=ends_on))
    db.session.add(programme)
    db.session.flush()
    record(user_id, "programme.create", f"programme:{programme.id}")
    return programme


def list_programmes() -> list[Programme]:
    """Every programme, newest first."""
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.id.desc())))


def current_stage(programme: Programme) -> Stage:
    """The first stage not yet confirmed, or the last one when all are."""
    for stage in programme.stages:
        if not stage.is_confirmed:
            return stage
    return programme.stages[-1]


def _open(stage: Stage) -> None:
    if stage.is_confirmed:
        raise ProgrammeError(_("This stage is confirmed and closed; its history is kept "
                               "as it is."))


def _previous_attempts(programme_id: int, unit_id: int) -> tuple[int, Participation | None]:
    """How many runs the unit has started in the programme, and its latest participation."""
    rows = list(db.session.scalars(
        sa.select(Participation).join(Stage)
        .where(Stage.programme_id == programme_id, Participation.unit_id == unit_id)
        .order_by(Stage.number)))
    return (max((row.attempt for row in rows), default=0), rows[-1] if rows else None)


def add_unit_to_stage(stage: Stage, unit: Unit, user_id: int | None) -> Participation:
    """Let a unit enter the programme at level 1 in this stage: a new unit, or one that
    dropped out and applies again (its earlier runs stay in the history).

    :raise ProgrammeError: the stage is closed, the unit retired or already taking part.
    """
    _open(stage)
    if unit.retired_at is not None:
        raise ProgrammeError(_("A retired unit cannot take part."))
    attempts, latest = _previous_attempts(stage.programme_id, unit.id)
    if latest is not None and (latest.stage_id == stage.id
                               or latest.status in (ParticipationStatus.ACTIVE,
                                                    ParticipationStatus.ADVANCED)):
        raise ProgrammeError(_("%(unit)s is taking part already.", unit=unit.name))
    overlap = _overlapping(stage, unit)
    if overlap is not None:
        raise ProgrammeError(_("%(unit)s overlaps with %(other)s, which takes part already: "
                               "its responses would be counted twice.",
                               unit=unit.name, other=overlap.name))
    participation = Participation(stage=stage, unit=unit, level=1, attempt=attempts + 1)
    db.session.add(participation)
    db.session.flush()
    record(user_id, "programme.unit_join", f"stage:{stage.id} unit:{unit.code}")
    return participation


def _overlapping(stage: Stage, unit: Unit, below: dict[int, list[int]] | None = None
                 ) -> Unit | None:
    """A unit of the stage that lies above or below ``unit`` (their counts would overlap)."""
    below = below if below is not None else descendant_ids()
    for participation in stage.participations:
        other = participation.unit_id
        if other != unit.id and (other in below.get(unit.id, ())
                                 or unit.id in below.get(other, ())):
            return participation.unit
    return None


def add_marks(stage: Stage, units: list[Unit], label: str, kind: MarkKind, target: int,
              metric: str | None = None, params: dict | None = None,
              user_id: int | None = None) -> list[TargetMark]:
    """Give each of ``units`` the same target mark in this stage.

    :raise ProgrammeError: closed stage, no units, a unit not taking part, a bad target, or an
        unknown metric or missing metric setting.
    """
    _open(stage)
    label = (label or "").strip()
    if not units:
        raise ProgrammeError(_("Please choose at least one unit."))
    taking_part = {p.unit_id for p in stage.participations}
    if any(unit.id not in taking_part for unit in units):
        raise ProgrammeError(_("Target marks are only for units taking part in the stage."))
    if target is None or target < 1:
        raise ProgrammeError(_("The target is a whole number of at least 1."))
    params = dict(params or {})
    if kind is MarkKind.COUNTED:
        found = get_metric(metric)
        if found is None:
            raise ProgrammeError(_("Please choose what the app counts."))
        for param in found.params:
            allowed = {value for value, _label in param.choices()}
            if params.get(param.name) not in allowed:
                raise ProgrammeError(_("Please choose: %(setting)s.", setting=param.label))
        params = {param.name: params[param.name] for param in found.params}
        # An empty label shows the metric's own label, in each reader's language.
    else:
        metric, params = None, {}
        if not label:
            raise ProgrammeError(_("Please say what staff count (for example: events held)."))
    if len(label) > 200:
        raise ProgrammeError(_("The label has at most 200 characters."))
    # A double click adds nothing twice: units that have this very mark already are skipped.
    same = {(m.unit_id, m.label, m.kind, m.metric, m.target) for m in stage.marks
            if (m.params or {}) == params}
    marks = [TargetMark(stage=stage, unit=unit, label=label, kind=kind, metric=metric,
                        params=params, target=target) for unit in units
             if (unit.id, label, kind, metric, target) not in same]
    if not marks:
        return []
    db.session.add_all(marks)
    db.session.flush()
    record(user_id, "programme.mark_add",
           f"stage:{stage.id} marks:{','.join(str(m.id) for m in marks)}"[:120])
    return marks


def add_entry(mark: TargetMark, amount: int, note: str, happened_on: date,
              user_id: int | None, form_key: str | None = None) -> MarkEntry:
    """Add a count to a staff-entered mark; a negative amount corrects an earlier entry.

    :param form_key: the form's random key; sent twice, the entry is added once and the
        first one returned.
    :raise ProgrammeError: not a staff-entered mark, the stage is closed, no note, zero.
    """
    if form_key:
        earlier = db.session.scalar(sa.select(MarkEntry).filter_by(form_key=form_key))
        if earlier is not None:
            return earlier
    _open(mark.stage)
    if mark.kind is not MarkKind.ENTERED:
        raise ProgrammeError(_("The app counts this mark itself."))
    note = (note or "").strip()
    if not note or len(note) > 500:
        raise ProgrammeError(_("Please say in a note (at most 500 characters) what was done."))
    if not amount:
        raise ProgrammeError(_("The number cannot be 0."))
    if happened_on is None:
        raise ProgrammeError(_("Please give the day it happened."))
    # By id, not ``mark=``: through the relationship the entry would join the session (and
    # the mark's list) before the savepoint below, and stay there after its rollback.
    entry = MarkEntry(mark_id=mark.id, amount=amount, note=note, happened_on=happened_on,
                      entered_by_id=user_id, form_key=form_key or None)
    try:
        # In a savepoint: two presses of the same form at the same moment both pass the check
        # above; the unique form key refuses the second insert (PostgreSQL waits for the first
        # to commit), and only the savepoint is undone, so the first entry can be returned.
        with db.session.begin_nested():
            db.session.add(entry)
    except sa.exc.IntegrityError:
        earlier = db.session.scalar(sa.select(MarkEntry).filter_by(form_key=form_key)) \
            if form_key else None
        if earlier is None:
            raise
        return earlier
    db.session.expire(mark, ["entries"])  # loaded before, the list would miss the new entry
    record(user_id, "programme.mark_entry", f"mark:{mark.id} entry:{entry.id} amount:{amount}")
    return entry


@dataclass
class MarkProgress:
    """One mark of one unit: how far it got."""

    mark: TargetMark
    #: ``None`` when its metric is not available on this installation.
    value: int | None

    @property
    def met(self) -> bool:
        """Whether the target is reached."""
        return self.value is not None and self.value >= self.mark.target

    @property
    def percent(self) -> int:
        """Share of the target reached, 0 to 100 (for the bar; the text shows the values)."""
        if not self.value or self.value < 0:
            return 0
        return min(100, self.value * 100 // self.mark.target)


@dataclass
class UnitProgress:
    """A unit taking part in a stage, with its marks and what the board proposes."""

    participation: Participation
    marks: list[MarkProgress] = field(default_factory=list)

    @property
    def all_met(self) -> bool:
        """Every mark met (vacuously true for a unit without marks)."""
        return all(mark.met for mark in self.marks)

    @property
    def proposal(self) -> ParticipationStatus:
        """Advance when every mark is met, otherwise drop out."""
        return ParticipationStatus.ADVANCED if self.all_met else ParticipationStatus.DROPPED_OUT


def _entered_sums(stage: Stage) -> dict[int, int]:
    return dict(db.session.execute(
        sa.select(MarkEntry.mark_id, sa.func.sum(MarkEntry.amount))
        .join(TargetMark).where(TargetMark.stage_id == stage.id)
        .group_by(MarkEntry.mark_id)).all())


def _live_value(mark: TargetMark, stage: Stage, sums: dict[int, int],
                below: dict[int, list[int]]) -> int | None:
    if mark.kind is MarkKind.ENTERED:
        return int(sums.get(mark.id) or 0)
    return count_mark(mark.metric, below.get(mark.unit_id, [mark.unit_id]),
                      stage.starts_on, stage.ends_on, mark.params or {})


def stage_progress(stage: Stage) -> list[UnitProgress]:
    """Each unit of the stage (by name) with its marks' values: staff entries summed in one
    query, counted marks by one SQL aggregate each; a confirmed stage shows the values
    frozen at confirmation, so purged or withdrawn responses never rewrite history."""
    sums = _entered_sums(stage)
    below = descendant_ids()
    marks_by_unit: dict[int, list[TargetMark]] = {}
    for mark in stage.marks:
        marks_by_unit.setdefault(mark.unit_id, []).append(mark)
    board = []
    for participation in sorted(stage.participations, key=lambda p: p.unit.name):
        progress = UnitProgress(participation)
        for mark in marks_by_unit.get(participation.unit_id, []):
            value = (mark.final_value if stage.is_confirmed and mark.final_value is not None
                     else _live_value(mark, stage, sums, below))
            progress.marks.append(MarkProgress(mark, value))
        board.append(progress)
    return board


def joinable_units(stage: Stage) -> list[tuple[Unit, int]]:
    """Units (tree order) that may enter this stage at level 1: not retired, not taking part,
    and neither above nor below a unit of the stage."""
    from surveyapp.accounts.services import active_units

    # Only each unit's latest participation decides: one that dropped out may apply again.
    latest: dict[int, Participation] = {}
    for participation in db.session.scalars(
            sa.select(Participation).join(Stage).where(Stage.programme_id == stage.programme_id)
            .order_by(Stage.number)):
        latest[participation.unit_id] = participation
    busy = {unit_id for unit_id, participation in latest.items()
            if participation.stage_id == stage.id
            or participation.status in (ParticipationStatus.ACTIVE,
                                        ParticipationStatus.ADVANCED)}
    below = descendant_ids()
    return [(unit, depth) for unit, depth in active_units()
            if unit.id not in busy and _overlapping(stage, unit, below) is None]


@dataclass
class Decision:
    """What an admin decided for one unit at the end of a stage."""

    status: ParticipationStatus
    note: str = ""


def confirm_stage(stage: Stage, decisions: dict[int, Decision],
                  next_dates: tuple[date, date] | None, newcomers: list[Unit],
                  user_id: int | None) -> Stage | None:
    """Close the stage: record each unit's outcome, freeze the marks' values and open the
    next stage with the advancing units (one level up) and any newcomers (level 1).

    :param decisions: for every active unit (by unit id); a decision against the board's
        proposal needs a note.
    :param next_dates: start and end of the next stage; ``None`` ends the programme here.
    :return: the next stage, or ``None``.
    :raise AlreadyConfirmed: the stage was confirmed already (checked in the database, so two
        requests at once cannot both pass).
    :raise ProgrammeError: a missing or unexplained decision, or bad dates.
    """
    if stage.is_confirmed:
        raise AlreadyConfirmed(_("This stage was confirmed already; nothing was changed."))
    progress = {p.participation.unit_id: p for p in stage_progress(stage)}
    active = [p for p in stage.participations if p.status is ParticipationStatus.ACTIVE]
    for participation in active:
        decision = decisions.get(participation.unit_id)
        if decision is None or decision.status is ParticipationStatus.ACTIVE:
            raise ProgrammeError(_("Please decide for every unit."))
        if (decision.status is not progress[participation.unit_id].proposal
                and not decision.note.strip()):
            raise ProgrammeError(_("Please give a reason where you decide against the "
                                   "proposal (%(unit)s).", unit=participation.unit.name),
                                 field=f"note_{participation.unit_id}")
    if next_dates is not None:
        _check_dates(*next_dates)
        if next_dates[0] <= stage.ends_on:
            raise ProgrammeError(_("The next stage starts after this one ends (%(day)s).",
                                   day=stage.ends_on.isoformat()))
    for unit in newcomers:
        if unit.retired_at is not None:
            raise ProgrammeError(_("A retired unit cannot take part."))
    if newcomers and next_dates is None:
        raise ProgrammeError(_("New units need a next stage to enter."))

    # The guard: only one request can turn "not confirmed" into "confirmed".
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Stage).where(Stage.id == stage.id, Stage.confirmed_at.is_(None))
        .values(confirmed_at=now, confirmed_by_id=user_id)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise AlreadyConfirmed(_("This stage was confirmed already; nothing was changed."))
    db.session.expire(stage, ["confirmed_at", "confirmed_by_id"])

    for unit_progress in progress.values():
        for mark_progress in unit_progress.marks:
            mark_progress.mark.final_value = mark_progress.value
    for participation in active:
        decision = decisions[participation.unit_id]
        participation.status = decision.status
        participation.note = decision.note.strip()[:500]
        participation.decided_at, participation.decided_by_id = now, user_id
    next_stage = None
    if next_dates is not None:
        next_stage = Stage(number=stage.number + 1, starts_on=next_dates[0],
                           ends_on=next_dates[1])
        stage.programme.stages.append(next_stage)
        db.session.flush()
        for participation in active:
            if participation.status is ParticipationStatus.ADVANCED:
                db.session.add(Participation(stage=next_stage, unit_id=participation.unit_id,
                                             level=participation.level + 1,
                                             attempt=participation.attempt))
        db.session.flush()
        for unit in newcomers:
            add_unit_to_stage(next_stage, unit, user_id)
    db.session.flush()
    outcome = ",".join(f"{p.unit.code}={p.status.value}" for p in active)
    record(user_id, "programme.stage_confirm", f"stage:{stage.id} {outcome}"[:120])
    return next_stage


def stage_scope(stage_id: int) -> tuple[list[int], date, date]:
    """Units taking part in the stage with all their sub-units, and the stage's first and last
    day: what the results, reports and exports filter "stage" selects.

    :raise LookupError: there is no such stage.
    """
    stage = db.session.get(Stage, stage_id)
    if stage is None:
        raise LookupError(f"no stage {stage_id}")
    below = descendant_ids()
    ids: set[int] = set()
    for participation in stage.participations:
        ids.update(below.get(participation.unit_id, [participation.unit_id]))
    return sorted(ids), stage.starts_on, stage.ends_on


def stage_choices() -> list[tuple[int, str]]:
    """Every stage as ``(id, "Programme: stage 2 (2027-04-01 to 2027-06-30)")``, newest
    programme first: the options of a "stage" filter."""
    rows = db.session.execute(
        sa.select(Stage.id, Stage.number, Stage.starts_on, Stage.ends_on, Programme.name)
        .join(Programme).order_by(Programme.id.desc(), Stage.number))
    return [(stage_id, _("%(programme)s: stage %(number)s (%(start)s to %(end)s)",
                         programme=name, number=number, start=start.isoformat(),
                         end=end.isoformat()))
            for stage_id, number, start, end, name in rows]
