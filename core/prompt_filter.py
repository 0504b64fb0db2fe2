"""Prompt filter: blocked terms matched robustly and in time linear in the prompt.

Normalisation defeats the usual evasions: Unicode compatibility forms and case (NFKC + casefold),
zero-width and other invisible characters, common look-alike letters (Cyrillic/Greek → Latin,
leetspeak digits), and spacing tricks ("n u d e", "n.u.d.e") which are re-joined.

Terms are whole words or simple wildcards (`*` = any letters, e.g. `gore*`). Exact terms are a set
lookup per word (and per 2–3-word phrase), so a list of thousands costs nothing extra per
request; wildcard terms are compiled into one regular expression of literal prefixes and `\\w*`,
which cannot backtrack catastrophically. Regular expressions from guilds are deliberately not
offered.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Characters that render as nothing (zero-width space/joiners, word joiner, BOM, soft hyphen, ...).
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    None,
)
# Look-alikes NFKC leaves alone: Cyrillic and Greek letters shaped like Latin ones, and leetspeak.
_CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "һ": "h",
        "ԁ": "d",
        "ɡ": "g",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
    }
)
_WORD = re.compile(r"[a-z0-9]+")
# Three or more single letters joined by one separator each ("n u d e", "n.u.d.e"); a wider gap
# ends the run, so "n a k e d  k i d" reads as two words.
_SINGLE_LETTER_RUN = re.compile(r"\b(?:[a-z][\s.\-_*·•|/\\]){2,}[a-z]\b")


def normalize(text: str) -> str:
    """Lower-case, compatibility-folded, invisible-free text with look-alikes mapped to Latin."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    # Strip combining marks (accents used to disguise letters), then map look-alikes.
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.translate(_CONFUSABLES)


def words(text: str) -> list[str]:
    """The prompt's words after normalisation, with spaced-out letters re-joined."""
    normal = normalize(text)
    joined = _SINGLE_LETTER_RUN.sub(lambda m: re.sub(r"[^a-z]", "", m.group(0)), normal)
    return _WORD.findall(joined)


def _phrases(tokens: list[str], longest: int = 3) -> set[str]:
    found = set(tokens)
    for size in range(2, longest + 1):
        for i in range(len(tokens) - size + 1):
            found.add(" ".join(tokens[i : i + size]))
            found.add("".join(tokens[i : i + size]))  # "under age" and "underage" alike
    return found


def clean_term(term: str) -> str | None:
    """A guild term in its stored form: normalised words separated by one space, `*` kept."""
    parts = [p for p in re.split(r"\s+", normalize(term).strip()) if p]
    cleaned = []
    for part in parts:
        part = re.sub(r"[^a-z0-9*]", "", part)
        part = re.sub(r"\*+", "*", part)
        if part and part != "*":
            cleaned.append(part)
    return " ".join(cleaned) or None


@dataclass(frozen=True)
class TermMatcher:
    exact: frozenset[str]
    wildcard: re.Pattern[str] | None

    @classmethod
    def build(cls, terms: tuple[str, ...] | list[str]) -> TermMatcher:
        exact: set[str] = set()
        patterns: list[str] = []
        for raw in terms:
            term = clean_term(raw)
            if term is None:
                continue
            if "*" in term:
                patterns.append(
                    r"\s".join(r"\w*".join(map(re.escape, w.split("*"))) for w in term.split(" "))
                )
            else:
                exact.add(term)
        wildcard = re.compile(r"\b(?:" + "|".join(patterns) + r")\b") if patterns else None
        return cls(frozenset(exact), wildcard)

    def first_match(self, tokens: list[str]) -> str | None:
        hit = next((p for p in _phrases(tokens) if p in self.exact), None)
        if hit is not None:
            return hit
        if self.wildcard is not None:
            match = self.wildcard.search(" ".join(tokens))
            if match:
                return match.group(0)
        return None


@dataclass(frozen=True)
class SafetyLists:
    """The always-on list against sexual content involving minors (data/safety_terms.json)."""

    always: TermMatcher
    minor: TermMatcher
    sexual: TermMatcher

    @classmethod
    def load(cls, path: Path) -> SafetyLists:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            TermMatcher.build(raw["always"]),
            TermMatcher.build(raw["minor"]),
            TermMatcher.build(raw["sexual"]),
        )

    def violation(self, tokens: list[str]) -> str | None:
        if self.always.first_match(tokens):
            return "sexual content involving minors"
        if self.minor.first_match(tokens) and self.sexual.first_match(tokens):
            return "sexual content involving minors"
        return None


@lru_cache(maxsize=256)
def guild_matcher(terms: tuple[str, ...]) -> TermMatcher:
    """Matchers are cached by the guild's term list, so each list is compiled once."""
    return TermMatcher.build(terms)


@dataclass(frozen=True)
class FilterVerdict:
    blocked: bool
    reason: str | None = None  # "safety" | "guild_term"
    detail: str | None = None


def check_prompt(texts: list[str], safety: SafetyLists, guild_terms: tuple[str, ...]) -> FilterVerdict:
    """Check the prompt (and negative prompt) against the always-on list, then the guild's terms."""
    tokens: list[str] = []
    for text in texts:
        if text:
            tokens.extend(words(text))
    reason = safety.violation(tokens)
    if reason:
        return FilterVerdict(True, "safety", reason)
    if guild_terms:
        hit = guild_matcher(guild_terms).first_match(tokens)
        if hit:
            return FilterVerdict(True, "guild_term", hit)
    return FilterVerdict(False)
