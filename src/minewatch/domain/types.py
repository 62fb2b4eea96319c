"""Column types shared by the domain's models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def coded(enum_cls: type[StrEnum], name: str) -> Enum:
    """A column for a coded value: stored as its string value, checked by a named constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
