"""Verbs on staff accounts. They flush; the caller commits."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.accounts.models import Role, Unit, UnitKind, User
from surveyapp.db import db, utcnow


def find_user(email: str) -> User | None:
    """The account with this e-mail address (case-insensitive)."""
    return db.session.scalar(sa.select(User).filter_by(email=email.strip().lower()))


def create_user(email: str, role: Role, password: str | None = None) -> tuple[User, str]:
    """Add a staff account; return it and its password (generated when none is given).

    :raise ValueError: the address is taken or the password is shorter than 10 characters.
    """
    email = email.strip().lower()
    if find_user(email) is not None:
        raise ValueError(f"an account for {email} exists already")
    password = password or secrets.token_urlsafe(12)
    if len(password) < 10:
        raise ValueError("the password needs at least 10 characters")
    user = User(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, password


def authenticate(email: str, password: str) -> User | None:
    """The active account matching these credentials, if any."""
    user = find_user(email)
    if user is None or not user.is_active or not user.check_password(password):
        return None
    return user


def ensure_unit(code: str, name: str, kind: UnitKind, parent: Unit | None = None) -> Unit:
    """The unit with this code, created when missing."""
    unit = db.session.scalar(sa.select(Unit).filter_by(code=code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, parent=parent)
        db.session.add(unit)
        db.session.flush()
    return unit


def unit_tree() -> list[tuple[Unit, int]]:
    """Every unit with its depth, parents before their children, siblings by name."""
    units = list(db.session.scalars(sa.select(Unit).order_by(Unit.name)))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def unit_with_descendants(code: str) -> list[int]:
    """Ids of the unit called ``code`` and of every unit below it (empty if unknown)."""
    tree = unit_tree()
    ids: list[int] = []
    inside_depth: int | None = None
    for unit, depth in tree:
        if inside_depth is not None and depth <= inside_depth:
            break
        if inside_depth is None and unit.code == code:
            inside_depth = depth
        if inside_depth is not None:
            ids.append(unit.id)
    return ids


# --- Unit administration (tree editing, CSV import, retiring) -------------------------------

#: Unit codes appear in links and imports: lower-case letters, digits and hyphens.
UNIT_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class UnitError(ValueError):
    """A change to the unit tree that cannot be made; the message is translated."""


def active_units() -> list[tuple[Unit, int]]:
    """The unit tree without retired units (and without anything below them)."""
    tree, hidden_depth = [], None
    for unit, depth in unit_tree():
        if hidden_depth is not None and depth > hidden_depth:
            continue
        hidden_depth = depth if unit.retired_at is not None else None
        if hidden_depth is None:
            tree.append((unit, depth))
    return tree


def descendant_ids() -> dict[int, list[int]]:
    """For every unit id, its own id and the ids of all units below it (one query)."""
    parents = dict(db.session.execute(sa.select(Unit.id, Unit.parent_id)).all())
    below: dict[int, list[int]] = {unit_id: [unit_id] for unit_id in parents}
    for unit_id in parents:
        seen = {unit_id}
        parent = parents[unit_id]
        while parent is not None and parent not in seen:  # a broken tree never loops forever
            below[parent].append(unit_id)
            seen.add(parent)
            parent = parents.get(parent)
    return below


def _kind_below(parent: Unit | None) -> UnitKind:
    if parent is None:
        return UnitKind.FEDERATION
    return UnitKind.REGION if parent.kind is UnitKind.FEDERATION else UnitKind.CHAPTER


def _check_code(code: str) -> str:
    code = (code or "").strip().lower()
    if not UNIT_CODE.match(code):
        raise UnitError(_("A code has 1 to 40 lower-case letters, digits or hyphens, "
                          "for example “koeln-sued”."))
    return code


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UnitError(_("A name has 1 to 200 characters."))
    return name


def create_unit(code: str, name: str, parent: Unit | None, kind: UnitKind | None = None) -> Unit:
    """Add a unit below ``parent``; its kind follows the parent's unless given.

    :raise UnitError: the code is malformed or taken, the name empty, the parent retired.
    """
    code, name = _check_code(code), _check_name(name)
    if db.session.scalar(sa.select(Unit.id).filter_by(code=code)) is not None:
        raise UnitError(_("The code “%(code)s” is taken already.", code=code))
    if parent is not None and parent.retired_at is not None:
        raise UnitError(_("A retired unit cannot have new sub-units."))
    unit = Unit(code=code, name=name, kind=kind or _kind_below(parent), parent=parent)
    db.session.add(unit)
    db.session.flush()
    return unit


def rename_unit(unit: Unit, name: str) -> None:
    """Give the unit a new display name (its code, used in links, stays)."""
    unit.name = _check_name(name)
    db.session.flush()


def move_unit(unit: Unit, new_parent: Unit | None) -> None:
    """Put the unit (with everything below it) under ``new_parent``.

    :raise UnitError: the new parent is the unit itself or lies below it (a cycle).
    """
    if new_parent is not None:
        if new_parent.id in descendant_ids().get(unit.id, [unit.id]):
            raise UnitError(_("A unit cannot be moved under itself or one of its sub-units."))
        if new_parent.retired_at is not None:
            raise UnitError(_("A retired unit cannot have new sub-units."))
    unit.parent = new_parent
    unit.parent_id = new_parent.id if new_parent else None
    db.session.flush()


def unit_is_referenced(unit: Unit) -> bool:
    """Whether any row of any table points at this unit (responses, accounts, programmes...)."""
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != "units" or fk.column.name != "id":
                continue
            if db.session.execute(sa.select(sa.literal(1)).select_from(table).where(
                    fk.parent == unit.id).limit(1)).first():
                return True
    return False


def retire_unit(unit: Unit) -> None:
    """Stop offering the unit for new work, keeping all its history.

    :raise UnitError: a sub-unit is still working (retire or move it first).
    """
    if any(child.retired_at is None for child in unit.children):
        raise UnitError(_("Retire or move its sub-units first."))
    unit.retired_at = utcnow()
    db.session.flush()


def reinstate_unit(unit: Unit) -> None:
    """Bring a retired unit back into use."""
    if unit.parent is not None and unit.parent.retired_at is not None:
        raise UnitError(_("Bring its parent unit back first."))
    unit.retired_at = None
    db.session.flush()


def delete_unit(unit: Unit) -> None:
    """Remove a unit that was never used (a typo); anything with history can only be retired.

    :raise UnitError: something refers to the unit.
    """
    if unit_is_referenced(unit):
        raise UnitError(_("This unit has history (responses, accounts, sub-units or programmes): "
                          "it can only be retired."))
    db.session.delete(unit)
    db.session.flush()


@dataclass
class UnitImport:
    """What a CSV import did, or would have done: counts and the problems per row."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: (row number as a spreadsheet shows it, message); any problem means nothing was stored.
    problems: list[tuple[int, str]] = field(default_factory=list)


_CODE_HEADERS = {"code", "kürzel", "kuerzel"}
_NAME_HEADERS = {"name"}
_PARENT_HEADERS = {"parent", "parent code", "parent_code", "parent-code", "übergeordnet"}


def import_units_csv(text: str) -> UnitImport:
    """Create or update units from CSV rows ``code, name, parent code``; all or nothing.

    Parents may come later in the file or exist already; importing the same file again
    changes nothing. When any row has a problem, nothing is stored and every problem is
    reported with its row number.
    """
    report = UnitImport()
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        report.problems.append((1, _("The file is empty.")))
        return report
    header = [cell.strip().lower() for cell in rows[0]]
    columns = {}
    for index, title in enumerate(header):
        for key, names in (("code", _CODE_HEADERS), ("name", _NAME_HEADERS),
                           ("parent", _PARENT_HEADERS)):
            if title in names:
                columns[key] = index
    if "code" not in columns or "name" not in columns:
        report.problems.append((1, _("The first row must name the columns: code, name, "
                                     "parent code.")))
        return report

    existing = {unit.code: unit for unit in db.session.scalars(sa.select(Unit))}
    wanted: dict[str, tuple[int, str, str | None]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row=row) -> str:
            index = columns.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""

        try:
            code = _check_code(cell("code"))
            name = _check_name(cell("name"))
            parent = cell("parent").lower() or None
        except UnitError as error:
            report.problems.append((number, str(error)))
            continue
        if code in wanted:
            report.problems.append((number, _("The code “%(code)s” appears twice (first in row "
                                              "%(row)s).", code=code, row=wanted[code][0])))
            continue
        wanted[code] = (number, name, parent)

    parent_of = {code: (unit.parent.code if unit.parent else None)
                 for code, unit in existing.items()}
    for code, (number, _name, parent) in wanted.items():
        if parent is not None and parent not in wanted and parent not in existing:
            report.problems.append((number, _("The parent unit “%(code)s” is neither in the "
                                              "file nor known.", code=parent)))
        elif parent is not None and parent in existing and existing[parent].retired_at:
            report.problems.append((number, _("The parent unit “%(code)s” is retired.",
                                              code=parent)))
        parent_of[code] = parent
    for code, (number, _name, _parent) in wanted.items():
        seen, current = {code}, parent_of.get(code)
        while current is not None:
            if current in seen:
                report.problems.append((number, _("“%(code)s” would end up below itself.",
                                                  code=code)))
                break
            seen.add(current)
            current = parent_of.get(current)
    if report.problems:
        report.problems.sort()
        return report

    # Valid as a whole: create in parent-first order, then set names and parents.
    created: dict[str, Unit] = {}

    def depth(code: str) -> int:
        steps, current = 0, parent_of.get(code)
        while current is not None:
            steps, current = steps + 1, parent_of.get(current)
        return steps

    for code in sorted(wanted, key=depth):
        _number, name, parent_code = wanted[code]
        parent = existing.get(parent_code) or created.get(parent_code) if parent_code else None
        unit = existing.get(code)
        if unit is None:
            unit = Unit(code=code, name=name, kind=_kind_below(parent), parent=parent)
            db.session.add(unit)
            created[code] = unit
            report.created.append(code)
        elif unit.name != name or unit.parent is not parent:
            unit.name, unit.parent = name, parent
            report.updated.append(code)
        else:
            report.unchanged.append(code)
    db.session.flush()
    return report
