"""Ages under 18 and school grades, in the languages of the lists ("8 yr old", "aged 12",
"12 años", "12-jährige", "12 лет", "12歳", "5th grader", "grade 6", "小5", "5학년").

Read on the `latin` view (digits intact, look-alikes mapped). The patterns are fixed alternations
of literal words around a one- or two-digit number, so matching is linear in the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.screening.normalise import is_cjk, latin

_ORDINAL = r"(?:st|nd|rd|th|er|re|eme|e|o|a|º|ª|°|\.|-?ая|-?ий|-?й)?"
_GAP = r"[\s\-]*"


def _unit_pattern(units: Iterable[str]) -> str:
    parts = []
    for unit in sorted({latin(u).strip() for u in units if u.strip()}, key=len, reverse=True):
        stem = unit.endswith("*")
        body = _GAP.join(re.escape(w) for w in unit.rstrip("*").split())
        if stem:
            body += r"\w*"
        elif not is_cjk(unit[-1]) and len(unit) < 4:
            body += r"(?!\w)"  # "12 yo" but not "12 yoga"; longer words may be glued on ("12yearsold")
        parts.append(body)
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


_DIGITS = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
# Letters standing in for digits next to a digit ("1O yo", "l2 yo").
_DIGIT_LOOKALIKES = re.compile(r"(?<=\d)[oli|](?![^\W\d_])|(?<![^\W\d_])[oli|](?=\d)")
_AS_DIGIT = {"o": "0", "l": "1", "i": "1", "|": "1"}
# And the reverse after a number: the age word in leetspeak ("10 y0", "12 y34r 0ld").
_AS_LETTER = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "|": "l"})
_LETTERS = re.compile(r"[^\W\d_]+")


class AgeReader:
    """Finds the numbers in a prompt first (digits, number words), then looks for an age or grade
    word right after or right before each one: the cost follows the numbers, not the vocabulary."""

    def __init__(self, data: dict, sexual_before: list[str] = ()) -> None:
        numbers: dict[str, int] = {}
        for table in data.get("numbers", {}).values():
            numbers.update({latin(word): value for word, value in table.items()})
        self._numbers = numbers
        self._cjk_numbers = re.compile("|".join(sorted((re.escape(w) for w in numbers if is_cjk(w)), key=len, reverse=True)) or "(?!)")

        def joined(groups: dict[str, list[str]]) -> str:
            return _unit_pattern(u for units in groups.values() for u in units)

        self._age_after = re.compile(_GAP + joined(data["units_after"]))
        self._grade_after = re.compile(_ORDINAL + _GAP + joined(data["grade_after"]))
        before = [joined(data["units_before"]) + r"\s*[:=#]?\s*$"]
        if data.get("person_before"):  # "girl, 12" / "boy (9)" / "niña de 12": the number is an age
            person = joined(data["person_before"])
            before.append(person + r"\s*[,(]\s*$")
            before.append(person + r"\s+(?:of|de|di|da|von|van)\s+$")
        self._age_before = [re.compile(r"(?<!\w)" + b) for b in before]
        words = "|".join(re.escape(w) for w in sorted(sexual_before, key=len, reverse=True))
        self._sexual_before = re.compile(rf"(?<!\w)(?:{words})(?:\W+\w{{1,3}})?\W*$") if words else None
        self._grade_before = re.compile(r"(?<!\w)" + joined(data["grade_before"]) + r"\s*[:#]?\s*$")

    def _numbers_in(self, text: str):
        words = set(_LETTERS.findall(text))
        has_words = not words.isdisjoint(self._numbers) or (is_cjk(text) and self._cjk_numbers.search(text))
        for match in _DIGITS.finditer(text):
            yield match.start(), match.end(), int(match.group(0))
        if not has_words:
            return
        for match in _LETTERS.finditer(text):
            word = match.group(0)
            value = self._numbers.get(word)
            if value is not None:
                yield match.start(), match.end(), value
            elif is_cjk(word):
                for cjk in self._cjk_numbers.finditer(word):
                    yield match.start() + cjk.start(), match.start() + cjk.end(), self._numbers[cjk.group(0)]

    def sexual_before(self, text_latin: str, age: str) -> bool:
        """Whether a word that is sexual next to a minor stands right before `age` ("hot 10 yo")."""
        at = text_latin.find(age)
        return self._sexual_before is not None and at > 0 and bool(self._sexual_before.search(text_latin[max(0, at - 20) : at]))

    def minor_age(self, text_latin: str) -> str | None:
        """The first age under 18 or school grade in `text_latin`, as written."""
        text = _DIGIT_LOOKALIKES.sub(lambda m: _AS_DIGIT[m.group(0)], text_latin)
        lettered = text.translate(_AS_LETTER)  # same length: positions still line up
        for start, end, value in self._numbers_in(text):
            if start and (text[start - 1].isdigit() or text[start - 1] in ".,"):
                continue  # part of a longer or decimal number ("3.12")
            before = text[max(0, start - 40) : start]
            if value <= 17:
                after = self._age_after.match(lettered, end)
                if after:
                    return text[start : after.end()]
                if any(p.search(before) for p in self._age_before):
                    return before.strip()[-20:] + text[start:end]
            if 1 <= value <= 12:
                after = self._grade_after.match(lettered, end)
                if after:
                    return text[start : after.end()]
                if self._grade_before.search(before):
                    return before.strip()[-20:] + text[start:end]
        return None
