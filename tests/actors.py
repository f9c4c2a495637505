"""Actors for tests that call the domain functions directly: the editorial policy asks every
change who makes it (decision 0026)."""

from __future__ import annotations

from service.articles.editorial import OPERATOR, Actor
from service.db.models import UserRole

__all__ = ["OPERATOR", "staff"]


def staff(label: str, role: str = "editor") -> Actor:
    """Someone recorded as ``label`` ("user:<name>", "token:<id>") with ``role``: editors and
    admins publish, writers do not (a desk that requires review)."""
    parsed = UserRole(role)
    return Actor(label, parsed, publishes=parsed != UserRole.WRITER)
