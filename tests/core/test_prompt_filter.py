"""The prompt filter: evasions it must see through, and what it must let pass."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from core.prompt_filter import SafetyLists, TermMatcher, check_prompt, normalize, words

SAFETY = SafetyLists.load(Path(__file__).resolve().parents[2] / "data" / "safety_terms.json")
GUILD_TERMS = ("gore", "blood*", "clown car")


@pytest.mark.parametrize(
    "prompt",
    [
        "GORE everywhere",  # case
        "g\u200bore on the floor",  # zero-width space inside the word
        "gоre",  # Cyrillic о
        "ｇｏｒｅ",  # full-width letters (NFKC)
        "g o r e",  # spacing trick
        "g.o.r.e",
        "g-o-r-e and more",
        "bloodbath at noon",  # wildcard
        "a bloody mess",
        "a CLOWN  car parade",  # multi-word term, extra spaces
        "g0r3",  # leetspeak
        "gōre",  # combining accent
    ],
)
def test_guild_terms_survive_evasions(prompt):
    verdict = check_prompt([prompt], SAFETY, GUILD_TERMS)
    assert verdict.blocked and verdict.reason == "guild_term", prompt


@pytest.mark.parametrize(
    "prompt",
    ["a gorgeous sunset", "Al Gore giving a speech?", "a clown in a car", "blue sky", "bloodhound"],
)
def test_innocent_prompts_pass(prompt):
    verdict = check_prompt([prompt], SAFETY, ("gorgeous x", "blood", "clown car"))
    # "Al Gore" is a whole word "gore": blocked only when the guild lists "gore".
    assert not verdict.blocked, prompt


@pytest.mark.parametrize(
    "prompt",
    [
        "a naked child",
        "n a k e d  k i d",
        "nude 12yo",
        "sexy sсhoolgirl",  # Cyrillic с
        "lоli",
        "an underage girl in lingerie",
        "under age, explicit",
    ],
)
def test_safety_list_is_always_on(prompt):
    verdict = check_prompt([prompt], SAFETY, ())
    assert verdict.blocked and verdict.reason == "safety", prompt


@pytest.mark.parametrize("prompt", ["a child flying a kite", "a sexy sports car", "a teen wizard casting spells"])
def test_safety_list_needs_both_halves(prompt):
    assert not check_prompt([prompt], SAFETY, ()).blocked


def test_negative_prompt_is_checked_too():
    assert check_prompt(["a castle", "gore"], SAFETY, ("gore",)).blocked


def test_normalize_removes_invisibles_and_maps_lookalikes():
    assert normalize("Ａ\u200dВС\u00ad") == "abc"
    assert words("h e l l o world") == ["hello", "world"]


def test_thousands_of_terms_are_all_matched():
    rng = random.Random(7)
    terms = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(3000)]
    terms += [t[:4] + "*" for t in terms[:300]]
    matcher = TermMatcher.build(terms)
    assert len(matcher.exact) > 2500
    prompt = " ".join(rng.choices(["castle", "dragon", "sunset", "forest", "river"], k=300))
    assert not check_prompt([prompt], SAFETY, tuple(terms)).blocked
    assert check_prompt([prompt + " " + terms[1234]], SAFETY, tuple(terms)).blocked
    assert check_prompt([prompt + " " + terms[10][:4] + "zzz"], SAFETY, tuple(terms)).blocked, "wildcard"
