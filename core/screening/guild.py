"""A guild's own blocked terms (/config filter), matched in time linear in the prompt.

Terms are words or phrases; `*` stands for any letters inside one word (`gore*`, `*blood*`).
They go through the same normalisation as prompts and match whole words, with the common
endings (plurals, -ing, -ed...), in the prompt as written and with split-up words re-joined.

Matching uses RE2, an automaton-based engine without backtracking: a search costs time linear in
the prompt however the terms are written (`a*a*a*a*a*a*a*a*b` included). Compiling thousands of
terms takes ~100 ms, so matchers are cached by term list and `prepare` builds them in a worker
thread before the event loop needs them, in chunks (RE2 holds the GIL while it compiles one).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import re2

from core.screening.matching import SUFFIXES
from core.screening.normalise import Views, fold, key, latin

MAX_TERM_LENGTH = 100
CHUNK = 200  # terms per expression: RE2 holds the GIL while compiling one (~5 ms); a search takes µs
CACHE_SIZE = 32  # a 5,000-term list takes ~20 MB compiled
_ENDINGS = "(?:" + "|".join(sorted(SUFFIXES, key=len, reverse=True)) + ")?"
_NOT_TERM_CHAR = re.compile(r"[^\w*]|_")


def clean_term(term: str) -> str | None:
    """A guild term in its stored form, readable as typed: folded words separated by one space,
    `*` kept (look-alikes are mapped when matching, so Cyrillic stays Cyrillic here)."""
    cleaned = []
    for part in unicodedata.normalize("NFC", fold(term).casefold()).split():
        part = re.sub(r"\*+", "*", _NOT_TERM_CHAR.sub("", part))
        if part and part != "*":
            cleaned.append(part)
    return " ".join(cleaned) or None


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = 8 << 20  # per expression; past it RE2 falls back to its (still linear) NFA
    options.never_capture = True
    options.log_errors = False
    return options


def _word_pattern(word: str) -> str:
    if "*" in word:
        return "[^ ]*".join(re2.escape(piece) for piece in word.split("*"))
    return re2.escape(word) + _ENDINGS


def term_pattern(term: str) -> str:
    """RE2 source for one stored term, over space-joined words in key form."""
    return " ".join(_word_pattern(word) for word in key(latin(term)).split())


class GuildMatcher:
    def __init__(self, terms: dict[str, str]) -> None:
        self.terms = tuple(terms)  # stored form, as shown to moderators
        self.exact = frozenset(t for t in terms if "*" not in t)
        self._sources = list(terms.values())
        options = _options()
        patterns = []
        for i in range(0, len(self._sources), CHUNK):
            patterns.append(re2.compile(" (?:" + "|".join(self._sources[i : i + CHUNK]) + ") ", options))
            time.sleep(0)  # RE2 compiles holding the GIL: let the event loop's thread in between
        self.patterns = tuple(patterns)
        # One pattern per term, to tell which one matched: built for a chunk on its first refusal.
        self._sets: dict[int, re2.Set] = {}

    @classmethod
    def build(cls, terms: Iterable[str]) -> GuildMatcher:
        kept: dict[str, str] = {}
        for raw in terms:
            term = clean_term(raw)
            if term and len(term) <= MAX_TERM_LENGTH:
                kept.setdefault(term, term_pattern(term))
        return cls(kept)

    def first_match(self, seen: Sequence[Views]) -> str | None:
        """The first term found in any of the texts, or None."""
        for view in seen:
            for text in (view.words, view.merged):
                padded = f" {text} "
                for chunk, pattern in enumerate(self.patterns):
                    found = pattern.search(padded)
                    if found:
                        return self._which(chunk, found.group(0).strip())
        return None

    def _which(self, chunk: int, matched: str) -> str:
        which = self._sets.get(chunk)
        if which is None:
            which = re2.Set.FullMatchSet(_options())
            for source in self._sources[chunk * CHUNK : (chunk + 1) * CHUNK]:
                which.Add(source)
            which.Compile()
            self._sets[chunk] = which
        indices = which.Match(matched)
        return self.terms[chunk * CHUNK + min(indices)] if indices else matched


_cache: OrderedDict[tuple[str, ...], GuildMatcher] = OrderedDict()
_lock = threading.Lock()


def guild_matcher(terms: tuple[str, ...]) -> GuildMatcher:
    """The compiled matcher for a term list (cached: each list is compiled once)."""
    with _lock:
        hit = _cache.get(terms)
        if hit is not None:
            _cache.move_to_end(terms)
            return hit
    matcher = GuildMatcher.build(terms)
    with _lock:
        _cache[terms] = matcher
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return matcher


def is_prepared(terms: Sequence[str]) -> bool:
    with _lock:
        return not terms or tuple(terms) in _cache


async def prepare(terms: Sequence[str]) -> None:
    """Compile a term list off the event loop, so the request that needs it finds it ready."""
    if not is_prepared(terms):
        await asyncio.to_thread(guild_matcher, tuple(terms))
