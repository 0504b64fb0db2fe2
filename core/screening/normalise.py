"""Text → the forms the screen matches on, built on Unicode's own data.

`fold` is the native form: compatibility forms (NFKC: full-width, math letters, ligatures), case,
every format/invisible character (category Cf: zero-width joiners, bidi controls, tag characters),
combining marks (accents, U+034F, variation selectors), Hangul fillers, emoji skin tones; any
decimal digit becomes ASCII. Real Cyrillic, CJK, Arabic... text stays as written.

`latin` maps what still only *looks* Latin onto Latin: letters of the Latin script in odd forms
(small capitals, ɑ, ł, ı) through `anyascii`, and look-alikes from other scripts (Cyrillic а,
Greek ϲ, Armenian ս, Lisu ꓚ, Cherokee Ꮯ...) through Unicode's confusables table. Letters that
are not confusable stay native, and the lists go through the same mapping, so a Russian list term
still meets Russian text (and a Russian word spelt with a Latin "o" too).

`key` adds leetspeak (0→o, 3→e, 4→a, 5→s, 7→t, 8→b, @→a, $→s) and folds the ambiguous strokes
1, |, !, l, I, ı into one letter, so every reading of "chi1d" / "ch|ld" / "cħıld" is tried at once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import confusable_homoglyphs
from anyascii import anyascii

# Kana voicing marks are combining but change the letter (か/が): they stay, NFC recomposes them.
_KEEP_MARKS = frozenset({0x3099, 0x309A})
# Characters that render as nothing but are not category Cf or a mark.
_BLANK = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x17B4, 0x17B5}) | frozenset(range(0x1F3FB, 0x1F400))


# Scripts written without spaces: a script change is a word boundary ("nude幼女" is two words).
_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_SCRIPT_EDGE = re.compile(rf"(?<=[{_CJK}])(?=[^\W{_CJK}])|(?<=[^\W{_CJK}])(?=[{_CJK}])")


class _FoldTable(dict):
    """str.translate table computed per code point on first sight (the Unicode range is too big to
    tabulate up front)."""

    def __missing__(self, cp: int) -> str | None:
        ch = chr(cp)
        cat = unicodedata.category(ch)
        value: str | None = ch
        if cp in _BLANK or cat == "Cf" or (cat in ("Mn", "Me") and cp not in _KEEP_MARKS):
            value = None
        elif cat == "Nd":
            value = str(unicodedata.decimal(ch))
        elif cat in ("Zs", "Zl", "Zp", "Cc"):
            value = " "
        self[cp] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """The native form: compatibility-folded, without invisibles or combining marks (case kept:
    some look-alikes are only listed in one case)."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text)).translate(_FOLD)
    return unicodedata.normalize("NFC", text)


def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def _load_confusables() -> dict[str, list[str]]:
    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {ch: [h["c"] for h in entries] for ch, entries in raw.items()}


_LETTER_NAME = re.compile(r"(?:LATIN (?:CAPITAL|SMALL) LETTER|REGIONAL INDICATOR SYMBOL LETTER) ([A-Z])$")


class _LatinTable(dict):
    def __init__(self) -> None:
        super().__init__()
        self._confusables: dict[str, list[str]] | None = None

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        value = ch
        if cp >= 128 and unicodedata.category(ch) != "Cf":  # tag letters are invisible: fold drops them
            named = _LETTER_NAME.search(unicodedata.name(ch, ""))
            if named:  # 🅽, 🇳: symbols that are letters by name
                value = named.group(1).lower()
            elif ch.isalnum():
                value = self._map(ch)
        self[cp] = value
        return value

    def _map(self, ch: str) -> str:
        if _CJK_CHAR.match(ch):  # the table pairs some kana and ideographs with Latin strokes (ー ↔ l)
            return ch
        if _is_latin(ch):
            return anyascii(ch).lower() or ch
        if self._confusables is None:
            self._confusables = _load_confusables()
        # The table lists some pairs in one case only (Cyrillic К ↔ K but к ↔ ĸ): try all three.
        cases = dict.fromkeys((ch, ch.upper(), ch.lower()))
        for c in cases:
            for glyph in self._confusables.get(c, ()):
                if glyph.isascii() and glyph.isalnum():
                    return glyph.lower()
        return ch


_LATIN = _LatinTable()


def warm() -> None:
    """Load the confusables table now (at start-up) rather than on the first prompt that needs it."""
    if _LATIN._confusables is None:
        _LATIN._confusables = _load_confusables()


def latin(text: str) -> str:
    """`fold`, with look-alike letters mapped onto Latin and case folded. Digits are kept.

    Mapped once before NFKC too: it turns some look-alikes into letters that are not (ϲ → ς)."""
    text = fold(text.translate(_LATIN)).translate(_LATIN).casefold()
    return unicodedata.normalize("NFC", text)


_LEET_DIGITS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "l": "i"})
_LEET_READABLE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "€": "e"}
# A symbol reads as a letter only when a letter follows it ("$ex", "ch!ld"), so a sentence's "!"
# or a separator run "n|u|d|e" between single letters keeps its meaning; "@" also ends words
# ("niñ@s", "desnud@").
_SYMBOL_AS_LETTER = re.compile(r"[@$!|€](?=[^\W_])|(?<=[^\W_])@")


def key(text_latin: str, *, symbols: bool = True) -> str:
    """Leetspeak and the ambiguous strokes folded (input: `latin` output)."""
    if symbols:
        text_latin = _SYMBOL_AS_LETTER.sub(lambda m: _LEET_SYMBOLS[m.group(0)], text_latin)
    return text_latin.translate(_LEET_DIGITS)


def term_key(term: str) -> str:
    """A list term in the form it is matched in (the same steps as a prompt)."""
    return key(latin(term))


_TOKEN = re.compile(r"[^\W_]+")
# Characters people put between letters to split a word ("n.u.d.e", "c-h-i-l-d", "n*u*d*e").
_SPLITTERS = frozenset(".-*/\\|·•~+'`^=#_")
# Sentence punctuation between words is not a splitter; any other symbol (❤, 🍑, ★) is.
_PUNCTUATION = frozenset(',;:?!"()[]{}')


def is_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


@dataclass(frozen=True)
class Views:
    """One text in the forms the matchers read. `words` and `merged` are space-joined tokens."""

    latin: str  # digits intact: ages and grades are read here
    words: str  # key form, one space between words
    merged: str  # the same, with words split into fragments re-joined ("c hi l d" → "child")
    pairs: str  # each two or three neighbouring short words run together ("na ked" → "naked")
    masked: tuple[str, ...] = ()  # words with letters hidden behind * # ? ("p*rn", "n#de")
    keyed: str = ""  # the key form as written, masks included


def _split_scripts(text: str) -> str:
    return _SCRIPT_EDGE.sub(" ", text) if _CJK_CHAR.search(text) else text


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(_split_scripts(text))


def _merged(text: str) -> str:
    """Re-join fragments: two neighbours merge across a short gap without a line break when both
    are at most two letters ("c hi l d") or the gap holds a splitting character ("n.u.d.e"). A
    plain space between real words ("pen is", "a knight") is left alone. Where a run also holds a
    likely word break — a wider space, or a plain space among splitting characters ("n*u*d*e
    l-i-t-t-l-e") — its parts are given too; so is a two-letter word at its edge ("g o r e in" →
    "gorein gore in")."""
    text = _split_scripts(text)
    runs: list[list[tuple[str, str]]] = []  # (fragment, the gap before it)
    last_end = -1
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if runs:
            gap = text[last_end : match.start()]
            short = max(len(runs[-1][-1][0]), len(token)) <= 2
            splitter = any(c in _SPLITTERS or not (c.isspace() or c in _PUNCTUATION) for c in gap)
            if len(gap) <= (6 if splitter else 3) and "\n" not in gap and (short or splitter):
                runs[-1].append((token, gap))
                last_end = match.end()
                continue
        runs.append([(token, "")])
        last_end = match.end()
    out = []
    for run in runs:
        words = [w for w, _ in run]
        out.append("".join(words))
        if len(run) < 3:
            continue
        splits = any(not gap.isspace() for _, gap in run[1:])
        breaks = [bool(gap) and gap.isspace() and (splits or len(gap) > 1) for _, gap in run]
        if any(breaks):
            parts: list[str] = []
            for (w, _), brk in zip(run, breaks, strict=True):
                if brk or not parts:
                    parts.append(w)
                else:
                    parts[-1] += w
            out.extend(parts)
        first, last = 0, len(words)
        if len(words[0]) == 2 and len(words[1]) == 1:
            first = 1
        if len(words[-1]) == 2 and len(words[-2]) == 1:
            last -= 1
        if (first, last) != (0, len(words)):
            out.extend([*words[:first], "".join(words[first:last]), *words[last:]])
    return " ".join(out)


def _pairs(tokens: list[str], longest: int = 3) -> str:
    out = []
    for i, first in enumerate(tokens):
        if len(first) > longest:
            continue
        run = first
        for following in tokens[i + 1 : i + 3]:
            if len(following) > longest:
                break
            run += following
            out.append(run)
    return " ".join(out)


_MASKED = re.compile(r"(?<![\w*#?])(?:[^\W_]|[*#?])+(?![\w*#?])")
MASKS = "*#?"


def _masked(text: str) -> tuple[str, ...]:
    if "*" not in text and "#" not in text and "?" not in text:
        return ()
    found = []
    for match in _MASKED.finditer(text):
        word = match.group(0).rstrip("?")  # "kid?" is a question, "k?d" a hidden letter
        hidden = sum(word.count(m) for m in MASKS)
        if len(word) >= 3 and 0 < hidden <= len(word) // 2 and word[0] not in MASKS:
            found.append(word)
    return tuple(found[:8])


_SYMBOLS_AS_LETTERS = str.maketrans({"|": "i", "!": "i", "$": "s", "@": "a"})


def views(text: str) -> Views:
    lat = latin(text)
    keyed = key(lat)
    words = tokens(keyed)
    merged = _merged(key(lat, symbols=False))
    if any(c in lat for c in "|!$@"):  # "c_h_i_|_d": a symbol among split letters is a letter too
        merged += " " + _merged(key(lat.translate(_SYMBOLS_AS_LETTERS), symbols=False))
    return Views(lat, " ".join(words), merged, _pairs(words), _masked(keyed), keyed)


def merged_latin(text_latin: str) -> str:
    """The `latin` view with split-up words re-joined, digits intact ("1 2 y-e-a-r" → "12 year")."""
    return _merged(text_latin)


def normalize(text: str) -> str:
    """Readable normal form (folded, look-alikes and leetspeak mapped, "l" kept)."""
    lat = latin(text)
    lat = _SYMBOL_AS_LETTER.sub(lambda m: _LEET_SYMBOLS[m.group(0)], lat)
    return lat.translate(_LEET_READABLE)


def words(text: str) -> list[str]:
    """The words of `text` in readable normal form, with split-up words re-joined."""
    return _merged(normalize(text)).split()
