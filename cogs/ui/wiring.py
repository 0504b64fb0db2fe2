"""Handing services to what discord.py builds itself (DynamicItems, made from a custom_id per click)."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def wired(value: T | None, name: str) -> T:
    """`value`, which bot.py must have set at start-up; a clear error instead of an AttributeError on None."""
    if value is None:
        raise RuntimeError(f"{name} was not wired at start-up (bot.py)")
    return value
