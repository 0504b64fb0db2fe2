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
        elif not is_cjk(unit[-1]):
            body += r"(?!\w)"  # "12 yo" but not "12 yoga"
        parts.append(body)
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


class AgeReader:
    def __init__(self, data: dict) -> None:
        numbers: dict[str, int] = {}
        for table in data.get("numbers", {}).values():
            numbers.update({latin(word): value for word, value in table.items()})
        self._numbers = numbers
        number = r"(\d{1,2}(?!\d)|" + "|".join(re.escape(w) for w in sorted(numbers, key=len, reverse=True)) + ")"

        def joined(groups: dict[str, list[str]]) -> str:
            return _unit_pattern(u for units in groups.values() for u in units)

        after, before = joined(data["units_after"]), joined(data["units_before"])
        grade_after, grade_before = joined(data["grade_after"]), joined(data["grade_before"])
        start = r"(?<![\w.,])"
        self._ages = [
            re.compile(start + number + _GAP + after),
            re.compile(r"(?<!\w)" + before + r"\s*[:=#]?\s*" + number + r"(?!\d)"),
        ]
        if data.get("person_before"):  # "girl, 12" / "boy (9)": a comma or bracket says it is an age
            person = joined(data["person_before"])
            self._ages.append(re.compile(r"(?<!\w)" + person + r"\s*[,(]\s*" + number + r"(?!\d)"))
        self._grades = [
            re.compile(start + number + _ORDINAL + _GAP + grade_after),
            re.compile(r"(?<!\w)" + grade_before + r"\s*[:#]?\s*" + number + r"(?!\d)"),
        ]

    def _value(self, text: str) -> int | None:
        if text.isdigit():
            return int(text)
        return self._numbers.get(text)

    def minor_age(self, text_latin: str) -> str | None:
        """The first age under 18 or school grade in `text_latin`, as written."""
        for pattern, limit in ((p, 17) for p in self._ages):
            for match in pattern.finditer(text_latin):
                value = self._value(match.group(1))
                if value is not None and value <= limit:
                    return match.group(0)
        for pattern in self._grades:
            for match in pattern.finditer(text_latin):
                value = self._value(match.group(1))
                if value is not None and 1 <= value <= 12:
                    return match.group(0)
        return None
