"""Stored rows into the stores' frozen dataclasses."""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(cls))


def dataclass_from_row(cls: type[T], row: Any, **converted: Any) -> T:
    """`cls` with every field read from the row's column of the same name, except those given in
    `converted` (an enum, a parsed spec, an object built from several columns)."""
    return cls(**{name: converted[name] if name in converted else row[name] for name in _field_names(cls)})
