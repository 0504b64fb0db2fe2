"""Screening of every text that reaches the model: one pass, in core, used by `policy.decide`.

- always on: sexual content involving minors (a list term refused alone, or a minor term, age
  under 18, school grade or child emoji together with a sexual term), in 17 languages;
- `adult=True` (channels Discord does not mark age-restricted, or a guild's choice): explicit
  sexual and nudity terms on their own;
- the guild's own blocked terms.

The modules: normalise (Unicode folding and look-alikes), matching (word forms, joined and split
words), ages, lists (data/safety_terms.json), guild (linear-time guild terms).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.screening.guild import (
    MAX_TERM_LENGTH,
    GuildMatcher,
    clean_term,
    guild_matcher,
    is_prepared,
    prepare,
)
from core.screening.lists import Findings, SafetyLists
from core.screening.normalise import Views, normalize, views, words

__all__ = [
    "MAX_TERM_LENGTH",
    "FilterVerdict",
    "Reading",
    "Findings",
    "GuildMatcher",
    "SafetyLists",
    "check_prompt",
    "clean_term",
    "guild_matcher",
    "is_prepared",
    "normalize",
    "prepare",
    "read_texts",
    "words",
]

SAFETY = "safety"
ADULT = "adult"
GUILD_TERM = "guild_term"


@dataclass(frozen=True)
class FilterVerdict:
    blocked: bool
    reason: str | None = None  # "safety" | "adult" | "guild_term"
    detail: str | None = None


@dataclass(frozen=True)
class Reading:
    """What the built-in lists found in some texts, and the forms the guild's terms are matched
    in: the costly part of screening, which a worker process can do (core/screening/worker.py)."""

    texts: tuple[str, ...]
    seen: tuple[Views, ...] | None  # None: not sent back (the guild has no terms of its own)
    findings: Findings


def read_texts(texts: list[str] | tuple[str, ...], safety: SafetyLists) -> Reading:
    seen = tuple(views(t) for t in texts if t)
    return Reading(tuple(texts), seen, safety.scan_views(list(seen)))


def check_prompt(
    texts: list[str] | tuple[str, ...],
    safety: SafetyLists,
    guild_terms: tuple[str, ...],
    *,
    adult: bool = False,
    reading: Reading | None = None,
) -> FilterVerdict:
    """Screen the prompt and negative prompt: the built-in lists, then the guild's terms.

    The texts are screened together: a negative prompt can carry half of a combination
    ("a child at the beach" / negative "clothes"). `reading`: these very texts already read
    (by the screening worker); any other reading is ignored and the texts are read here."""
    if reading is None or reading.texts != tuple(texts):
        reading = read_texts(texts, safety)
    findings = reading.findings
    if findings.involves_minors:
        return FilterVerdict(True, SAFETY, "sexual content involving minors")
    if adult and findings.adult:
        return FilterVerdict(True, ADULT, "adult content")
    if guild_terms:
        seen = [views(t) for t in texts if t] if reading.seen is None else list(reading.seen)
        hit = guild_matcher(tuple(guild_terms)).first_match(seen) if seen else None
        if hit:
            return FilterVerdict(True, GUILD_TERM, hit)
    return FilterVerdict(False)
