"""Two things the mutation run (tests/mutation.py, mutmut) needs from the screening tests.

Test ids in plain ASCII for the corpora (Cyrillic, CJK, invisible characters...): pytest writes other
characters as backslash escapes, and such an id is not found again when pytest runs a second time in
the same process, which mutmut does. A "?" per such character keeps the ids readable and findable;
the prompt itself is in each assertion's message.

Fresh per-character tables under mutmut: core/screening/normalise.py computes each code point's
folding once per process, and mutmut forks every mutant from a process that has already screened
the whole corpus, so a mutant in that computation would never run.
"""

from __future__ import annotations

import os

import pytest

from core.screening import normalise


def ascii_id(text: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


def pytest_make_parametrize_id(config, val, argname):
    if isinstance(val, str) and ascii_id(val) != val:
        return ascii_id(val)
    return None


@pytest.fixture(autouse=True)
def _fresh_folding_under_mutmut():
    if "MUTANT_UNDER_TEST" in os.environ:
        normalise._FOLD.clear()
        normalise._LATIN.clear()
    yield
