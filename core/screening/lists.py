"""The built-in lists (data/safety_terms.json) and what a prompt's tags mean."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from core.screening.ages import AgeReader
from core.screening.matching import ADULT, ALWAYS, BENIGN, COMPANION, GLUE, MINOR, SEXUAL, TermIndex
from core.screening.normalise import Views, fold, latin, merged_latin, tokens, views, warm

_HOT_THINGS = frozenset({"baby", "babies", "infant", "newborn", "bebé", "bebê", "bébé", "bebe"})
_TAGS = {"always": ALWAYS, "minor": MINOR, "sexual": SEXUAL, "adult": ADULT | SEXUAL}


@dataclass(frozen=True)
class Findings:
    """What the built-in lists found in a request's texts."""

    tags: int = 0
    terms: tuple[str, ...] = field(default=())

    @property
    def involves_minors(self) -> bool:
        return bool(self.tags & ALWAYS) or (bool(self.tags & MINOR) and bool(self.tags & SEXUAL))

    @property
    def adult(self) -> bool:
        return bool(self.tags & ADULT)


@dataclass(frozen=True)
class SafetyLists:
    """The always-on lists against sexual content involving minors, and the adult-content list."""

    index: TermIndex
    ages: AgeReader
    emoji: tuple[tuple[str, int], ...]

    @classmethod
    def load(cls, path: Path) -> SafetyLists:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        warm()
        index = TermIndex()
        emoji: dict[str, int] = {}
        for name, tag in _TAGS.items():
            for language, terms in raw[name].items():
                for term in terms:
                    if language == "emoji":
                        emoji[fold(term)] = emoji.get(fold(term), 0) | tag
                    else:
                        index.add(term, tag)
        for terms in raw.get("benign", {}).values():
            for term in terms:
                index.add(term, 0, kind=BENIGN)
        for word in raw.get("glue", ()):
            index.add(word, 0, kind=GLUE)
        for words in raw.get("companions", {}).values():
            for word in words:
                index.add(word, 0, kind=COMPANION)
        # Words that are only sexual right before a minor ("hot kid", "busty schoolgirl", "hot 10 yo"):
        # "hot chocolate with the kids" stays innocent.
        modifiers = raw.get("sexual_before_minor", {})
        for language, words in modifiers.items():
            # Not babies: "a hot baby bottle", "hot baby food".
            minors = [t for t in raw["minor"].get(language, ()) if "*" not in t and t not in _HOT_THINGS]
            for word in words:
                for minor in minors:
                    index.add(f"{word} {minor}", SEXUAL)
                    if language != "en":  # adjectives may follow the noun ("nena caliente")
                        index.add(f"{minor} {word}", SEXUAL)
        before_age = [latin(w) for words in modifiers.values() for w in words]
        return cls(index.finish(), AgeReader(raw["ages"], before_age), tuple(emoji.items()))

    def scan(self, texts: list[str] | tuple[str, ...]) -> Findings:
        return self.scan_views([views(t) for t in texts if t])

    def scan_views(self, seen_texts: list[Views]) -> Findings:
        tags, terms = 0, []

        def add(found_tags: int, found_terms) -> None:
            nonlocal tags
            tags |= found_tags
            terms.extend(found_terms)

        for seen in seen_texts:
            for view in (seen.words,) if seen.merged == seen.words else (seen.words, seen.merged):
                found = self.index.scan(view)
                add(found.tags, found.terms)
            if seen.masked:  # read again with the hidden letters filled in ("l?ttle girl")
                unmasked = seen.keyed
                for word in seen.masked:
                    unmasked = unmasked.replace(word, self.index.unmask(word) or word)
                found = self.index.scan(" ".join(tokens(unmasked)))
                add(found.tags, found.terms)
            # Short words run together ("na ked chi ld") count towards the child-safety combination
            # only: on its own "where the pen is" must not read as explicit.
            found = self.index.scan(seen.pairs)
            add(found.tags & ~ADULT, found.terms if found.tags & ~ADULT else ())
            age = self.ages.minor_age(seen.latin)
            if age is None and any(c.isdigit() for c in seen.latin):
                age = self.ages.minor_age(merged_latin(seen.latin))
            if age:
                add(MINOR | (SEXUAL if self.ages.sexual_before(seen.latin, age) else 0), (age,))
                # An age glued to a word ("nude10yo", "n.u.d.e 1.0.y.o"): read the rest on its own.
                for source in (seen.latin, merged_latin(seen.latin)):
                    if age in source:
                        rest = views(source.replace(age, " "))
                        add(self.index.scan(rest.words).tags | self.index.scan(rest.merged).tags, ())
                        break
            for symbol, tag in self.emoji:
                if symbol in seen.latin:
                    add(tag, (symbol,))
        return Findings(tags, tuple(dict.fromkeys(terms)))

    def violation(self, texts: list[str] | tuple[str, ...]) -> str | None:
        if self.scan(texts).involves_minors:
            return "sexual content involving minors"
        return None
