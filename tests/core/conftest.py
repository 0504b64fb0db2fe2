"""Test ids in plain ASCII for the screening corpora (Cyrillic, CJK, invisible characters...).

pytest writes other characters as backslash escapes, and a test id holding a backslash is not found
again when pytest runs a second time in the same process, which the mutation run (tests/mutation.py,
mutmut) does for every mutant. A "?" per such character keeps the ids readable and findable; the
prompt itself is in each assertion's message.
"""

from __future__ import annotations


def ascii_id(text: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


def pytest_make_parametrize_id(config, val, argname):
    if isinstance(val, str) and ascii_id(val) != val:
        return ascii_id(val)
    return None
