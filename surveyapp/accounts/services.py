"""Verbs on staff accounts. They flush; the caller commits."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from surveyapp.accounts.models import Role, Unit, UnitKind, User
from surveyapp.db import db


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
