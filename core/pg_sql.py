"""The stores' SQL, written for SQLite, as PostgreSQL runs it.

The stores write one dialect: `?` placeholders and the few SQLite forms that have no portable
spelling. Everything portable (RETURNING, ON CONFLICT, CAST) is already written portably in the
stores; what is left is translated here, once per distinct statement (cached), so the difference
lives in the backend and never in a store's callers:

- `?` placeholders become `$1, $2, ...` (outside string literals and quoted identifiers);
- `INDEXED BY index` (a planner hint for SQLite, which has no statistics) is dropped: PostgreSQL's
  planner has them;
- the JSON forms: `IN (SELECT value FROM json_each(?))` (a list of ids passed as one JSON array),
  `json_each(x, '$.references') AS r` (the reference blobs of a spec), and the prompt scrub
  `json_set(json_remove(spec, '$.negative_prompt'), '$.prompt', '[removed]')`;
- `date(t, 'unixepoch')`, the UTC day (YYYY-MM-DD) of a Unix time.

A statement with a SQLite form not listed here fails loudly at PostgreSQL (the store tests run on
both backends), never silently differently.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ID_LIST = re.compile(r"\(SELECT value FROM json_each\(\?\)\)")
_ARRAY_OF = re.compile(r"json_each\(([\w.]+), '\$\.(\w+)'\)(?: AS (\w+))?")
_SCRUB = re.compile(r"json_set\(json_remove\((\w+), '\$\.(\w+)'\), '\$\.(\w+)', '([^']*)'\)")
_INDEXED_BY = re.compile(r"\s+INDEXED BY \w+")
_UTC_DATE = re.compile(r"\bdate\(([\w.]+), 'unixepoch'\)")


def _array_of(match: re.Match[str]) -> str:
    column, key, alias = match.group(1), match.group(2), match.group(3) or "j"
    # A spec without the key yields no rows, as json_each does for a missing path.
    return f"json_array_elements_text(CAST({column} AS json) -> '{key}') AS {alias}(value)"


def _scrub(match: re.Match[str]) -> str:
    column, dropped, key, value = match.groups()
    return f"CAST(jsonb_set(CAST({column} AS jsonb) - '{dropped}', '{{{key}}}', to_jsonb(CAST('{value}' AS text))) AS text)"


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    sql = _INDEXED_BY.sub("", sql)
    sql = _ID_LIST.sub("(SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(? AS json)) AS value)", sql)
    sql = _ARRAY_OF.sub(_array_of, sql)
    sql = _SCRUB.sub(_scrub, sql)
    sql = _UTC_DATE.sub(r"to_char(to_timestamp(\1) AT TIME ZONE 'UTC', 'YYYY-MM-DD')", sql)
    return _placeholders(sql)


def _placeholders(sql: str) -> str:
    out: list[str] = []
    n = 0
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None  # a doubled quote ('') closes and reopens: same result
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    return "".join(out)
