"""Translation tables kept as data: each `<name>.json` maps a section (what the entries are for) to its
entries, English text → [German, French, Spanish, Brazilian Portuguese, Japanese] (catalogue.LOCALES' order)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
LANGUAGES = 5

Table = dict[str, tuple[str, str, str, str, str]]


def _no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    repeated = {key for key in keys if keys.count(key) > 1}
    if repeated:
        raise ValueError(f"given twice: {sorted(repeated)}")
    return dict(pairs)


def table(name: str) -> Table:
    """The entries of `<name>.json`, its sections run together. An English text given twice (JSON would
    keep the last one silently) or an entry short of a language fails the import, not a member's message."""
    sections = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"), object_pairs_hook=_no_repeats)
    entries: Table = {}
    for section in sections.values():
        for english, translations in section.items():
            if english in entries:
                raise ValueError(f"{name}.json: {english!r} given twice")
            if len(translations) != LANGUAGES or not all(isinstance(t, str) for t in translations):
                raise ValueError(f"{name}.json: {english!r} needs {LANGUAGES} translations")
            entries[english] = tuple(translations)
    return entries
