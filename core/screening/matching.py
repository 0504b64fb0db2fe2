"""Matching list terms in every form a prompt gives them, with one Aho-Corasick pass per view.

A term is written in the lists as:
- `word`: the whole word, or the word with a common ending (plural, -ing, -ed, -er, -ist, -ism,
  -y, -ies, -ography...; Romance/Germanic endings -a/-o/-e/-en for longer words);
- `stem*`: any word starting with the stem (inflected languages: Russian девочк*, Polish dziewczynk*);
- `*part*`: anywhere inside a word; `*ending`: a word ending so (Arabic adjectives);
- `two words`: consecutive words, the last one with the common endings;
- anything in a script written without spaces (Chinese, Japanese, Korean with its attached
  particles) or Arabic (attached articles and prepositions): anywhere.

Words run together ("nakedchild", "littlegirlsnude", "nakedwoman") match when the whole word splits
into two or more list words, stems or common companions ("woman", "photo"), at least one of them a
list word, optionally joined by a few short glue words ("with", "and"); a benign word that merely
contains a list word ("Scunthorpe", "therapist", "sextant") does not split so. Benign phrases
("naked mole rat", "sexism") hide the list words inside them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import ahocorasick

from core.screening.normalise import MASKS, is_cjk, term_key

ALWAYS, MINOR, SEXUAL, ADULT = 1, 2, 4, 8
_UNMASK = str.maketrans(dict.fromkeys(MASKS, "x"))
WORD, STEM, SUFFIX, INFIX, PHRASE, GLUE, BENIGN, COMPANION = range(8)

SUFFIXES = ("s", "z", "es", "ing", "ed", "er", "ers", "ist", "ists", "ism", "y", "ie", "ies", "ness", "ography", "ographic")
LONG_WORD_SUFFIXES = ("a", "as", "o", "os", "e", "en", "n", "ita", "itas", "ito", "itos", "chen", "tje", "tjes")
_VOWEL_SUFFIXES = tuple(s for s in SUFFIXES if s[0] in "aeiouy")
_DOUBLING = ("ing", "ed", "er", "ers", "y", "ie", "ies")


def word_forms(word: str) -> set[str]:
    """A Latin-script word with its common endings (in key form: "l" is already "i")."""
    forms = {word} | {word + s for s in SUFFIXES}
    if len(word) >= 4:
        forms |= {word + s for s in LONG_WORD_SUFFIXES}
    if word.endswith("e"):
        forms |= {word[:-1] + s for s in _VOWEL_SUFFIXES}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if len(word) >= 5 and word[-1] in "aeio":  # Romance gender and number: nuda/nudo/nudi/nude/nudas
        forms |= {word[:-1] + v for v in ("a", "e", "i", "o", "as", "es", "os")}
    if len(word) <= 5 and word[-1] not in "aeiouy":
        forms |= {word + word[-1] + s for s in _DOUBLING}
    return forms


def _plurals(word: str) -> set[str]:
    """Only the plural: a benign word's other forms may be list words ("tango" → "tanga")."""
    return {word, word + "s", word + "es"} | ({word[:-1] + "ies"} if word.endswith("y") else set())


def _kind(term: str) -> tuple[int, str]:
    if term.startswith("*") and term.endswith("*"):
        return INFIX, term.strip("*")
    if term.endswith("*"):
        return STEM, term.rstrip("*")
    if term.startswith("*"):
        return SUFFIX, term.lstrip("*")
    if is_cjk(term) or any("\u0600" <= c <= "\u06ff" for c in term):
        return INFIX, term
    if " " in term:
        return PHRASE, term
    return WORD, term


@dataclass
class Scan:
    tags: int = 0
    terms: tuple[str, ...] = ()


class TermIndex:
    def __init__(self) -> None:
        # key → kind → (tags, term, written as such in the list rather than derived as a form)
        self._entries: dict[str, dict[int, tuple[int, str, bool]]] = {}
        self._automaton: ahocorasick.Automaton | None = None
        self._by_length: dict[int, str] = {}
        self._stems: list[tuple[str, tuple[int, str, bool]]] = []

    def _put(self, key: str, kind: int, tags: int, term: str, base: bool = False) -> None:
        if not key or (kind not in (PHRASE, BENIGN, INFIX) and " " in key):
            return
        slot = self._entries.setdefault(key, {})
        old = slot.get(kind)
        # A word listed as such keeps its own tags: "sexy" (suggestive) is not "sex" + "y" (explicit).
        if old is None or (base and not old[2]):
            slot[kind] = (tags, term, base)
        elif base or not old[2]:
            slot[kind] = (old[0] | tags, old[1], old[2])

    def add(self, term: str, tags: int, *, kind: int | None = None) -> None:
        """Add a list term (written as in data/safety_terms.json)."""
        term = " ".join(term_key(term).split())
        guessed, core = _kind(term)
        kind = guessed if kind is None else kind
        latin = core.replace(" ", "").isascii()
        if kind == WORD and latin:
            for form in word_forms(core):
                self._put(form, WORD, tags, term, base=form == core)
        elif kind in (PHRASE, BENIGN) and " " in core:
            head, last = core.rsplit(" ", 1)
            lasts = (word_forms(last) if kind == PHRASE else _plurals(last)) if latin else {last}
            for form in lasts:
                self._put(f"{head} {form}", kind, tags, term)
                if kind == PHRASE:  # written together: "littlegirls"
                    self._put(head.replace(" ", "") + form, WORD, tags, term)
        elif kind in (BENIGN, COMPANION):
            for form in _plurals(core) if latin else {core}:
                self._put(form, kind, tags, term)
        else:
            self._put(core, kind, tags, term)
        self._automaton = None

    def _built(self) -> ahocorasick.Automaton:
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            for key, slot in self._entries.items():
                automaton.add_word(key, (len(key), tuple((k, t, term) for k, (t, term, _) in slot.items())))
            automaton.make_automaton()
            self._automaton = automaton
        return self._automaton

    def finish(self) -> TermIndex:
        self._built()
        vocabulary: set[str] = set()  # every word of the lists, to fill in hidden letters with
        for key, slot in self._entries.items():
            if key.isascii() and (WORD in slot or COMPANION in slot or PHRASE in slot):
                vocabulary.update(key.split())
        by_length: dict[int, list[str]] = {}
        for word in sorted(vocabulary):
            by_length.setdefault(len(word), []).append(word)
        self._by_length = {n: "\n".join(words) for n, words in by_length.items()}
        self._stems = [(k, slot[STEM]) for k, slot in self._entries.items() if STEM in slot and k.isascii()]
        return self

    def unmask(self, word: str) -> str | None:
        """The list word hidden behind * # ? in `word` ("p*rn", "n#de"), if any."""
        pattern = re.compile("^" + "".join("[^\\n]" if c in MASKS else re.escape(c) for c in word) + "$", re.M)
        found = pattern.search(self._by_length.get(len(word), ""))
        if found:
            return found.group(0)
        for core, _ in self._stems:
            if len(core) <= len(word) and all(c == w or w in MASKS for c, w in zip(core, word, strict=False)):
                return core + word[len(core) :].translate(_UNMASK)
        return None

    def scan(self, text: str) -> Scan:
        """Tags of the list terms in `text` (space-joined words in key form, see normalise.Views)."""
        if not text.strip():
            return Scan()
        starts, ends = [], []
        pos = 0
        for word in text.split(" "):
            starts.append(pos)
            ends.append(pos + len(word))
            pos += len(word) + 1
        start_set, end_set = set(starts), set(ends)
        hits = []
        benign: list[tuple[int, int]] = []
        for last, (length, entries) in self._built().iter(text):
            span = (last + 1 - length, last + 1)
            for kind, tags, term in entries:
                if kind == BENIGN:
                    benign.append(span)
                else:
                    hits.append((span, kind, tags, term))
        found, terms = 0, []
        by_start: dict[int, list[tuple[int, int, int, str]]] = {}
        # A hit inside a benign span is dropped: furthest benign end among spans starting at or
        # before each position, so the test is a bisection whatever the number of spans.
        benign.sort()
        benign_starts = [bs for bs, _ in benign]
        furthest, reach_end = [], -1
        for _, be in benign:
            reach_end = max(reach_end, be)
            furthest.append(reach_end)
        for (s, e), kind, tags, term in hits:
            i = bisect.bisect_right(benign_starts, s) - 1
            if i >= 0 and furthest[i] >= e:
                continue
            whole = s in start_set and e in end_set
            if (
                kind == INFIX
                or (kind == SUFFIX and e in end_set)
                or (kind in (WORD, PHRASE) and whole)
                or (kind == STEM and s in start_set)
            ):
                found |= tags
                terms.append(term)
            if kind in (WORD, STEM, GLUE, COMPANION):
                by_start.setdefault(s, []).append((e, kind, tags, term))
        compound, pieces = self._compounds(by_start, start_set, starts, ends)
        if compound:
            found |= compound
            terms.extend(pieces)
        return Scan(found, tuple(terms))

    @staticmethod
    def _compounds(by_start, start_set, starts, ends) -> tuple[int, list[str]]:
        """Words that split wholly into ≥ 2 words, list words or common companions ("woman"), at
        least one a list word (a stem may end the word); short glue words may join them, and up to
        three unknown letters may stand between two words of four letters or more
        ("childinlingerie", "nacktekinder") — not between short ones ("men-t-ion")."""
        # position → (pieces, tags, terms, reached across unknown letters)
        reach: dict[int, tuple[int, int, tuple[str, ...], bool]] = {}
        found, terms = 0, []
        for pos in sorted(by_start):
            state = reach.get(pos) or ((0, 0, (), False) if pos in start_set else None)
            if state is None:
                continue
            count, tags, names, gapped = state
            word_end = ends[bisect.bisect_right(starts, pos) - 1]
            for e, kind, piece_tags, term in by_start[pos]:
                long_piece = (word_end if kind == STEM else e) - pos >= 4
                if gapped and not long_piece:
                    continue
                if kind == GLUE:
                    new = (count, tags, names, False)
                else:
                    new = (count + 1, tags | piece_tags, (*names[-3:], term), False)  # names: for reports only
                if (kind == STEM or e == word_end) and new[0] >= 2 and new[1]:
                    found |= new[1]
                    terms.extend(new[2])
                if e == word_end:
                    continue
                gaps = range(e, min(e + 4, word_end)) if new[0] and long_piece and kind != GLUE else (e,)
                for nxt in gaps:
                    candidate = new if nxt == e else (*new[:3], True)
                    old = reach.get(nxt)
                    if old is None or candidate[0] > old[0] or (candidate[0] == old[0] and old[3] and not candidate[3]):
                        reach[nxt] = candidate
        return found, terms
