"""The screening pipeline: a corpus per evasion class and language, a benign corpus that must pass,
the normalisation classes one by one, the adult-content rule per channel, and guild terms on RE2."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import string
from dataclasses import replace
from pathlib import Path

import pytest
import re2

from core.models import ModelId
from core.policy import DenyReason, GuildPolicy, MemberUsage, RequestFacts, decide
from core.screening import SafetyLists, check_prompt, clean_term, guild_matcher, is_prepared, prepare
from core.screening.guild import MAX_TERM_LENGTH, GuildMatcher
from core.screening.normalise import fold, latin, views
from tests.core.conftest import ascii_id
from tests.core.screening_corpus.benign import BENIGN
from tests.core.screening_corpus.blocked import ADULT, CHILD_SAFETY

SAFETY_FILE = Path(__file__).resolve().parents[2] / "data" / "safety_terms.json"
SAFETY = SafetyLists.load(SAFETY_FILE)


def _id(case: tuple[str, str]) -> str:
    return ascii_id(f"{case[0]}:{case[1]}")


# --- the corpora ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CHILD_SAFETY, ids=_id)
def test_child_safety_corpus_is_blocked_everywhere(case):
    _, prompt = case
    for adult_screen in (False, True):  # age-restricted channel or not: always on
        verdict = check_prompt([prompt], SAFETY, (), adult=adult_screen)
        assert verdict.blocked and verdict.reason == "safety", (prompt, SAFETY.scan([prompt]))


@pytest.mark.parametrize("case", ADULT, ids=_id)
def test_adult_corpus_is_blocked_only_where_the_adult_screen_is_on(case):
    _, prompt = case
    verdict = check_prompt([prompt], SAFETY, (), adult=True)
    assert verdict.blocked and verdict.reason == "adult", (prompt, SAFETY.scan([prompt]))
    assert not check_prompt([prompt], SAFETY, (), adult=False).blocked, prompt


@pytest.mark.parametrize("case", BENIGN, ids=_id)
def test_benign_corpus_passes_even_with_the_adult_screen(case):
    _, prompt = case
    verdict = check_prompt([prompt], SAFETY, (), adult=True)
    assert not verdict.blocked, (prompt, SAFETY.scan([prompt]))


def test_corpus_rates(capsys):
    """The figures quoted in the notes: share of each corpus screened as it should be, by lists
    loaded here (SAFETY above is built once, at import, before mutmut plants a mutant in the loader)."""
    safety = SafetyLists.load(SAFETY_FILE)
    child = sum(check_prompt([p], safety, ()).reason == "safety" for _, p in CHILD_SAFETY)
    adult = sum(check_prompt([p], safety, (), adult=True).reason == "adult" for _, p in ADULT)
    benign = sum(not check_prompt([p], safety, (), adult=True).blocked for _, p in BENIGN)
    with capsys.disabled():
        print(
            f"\nscreening corpus: child-safety blocked {child}/{len(CHILD_SAFETY)}, "
            f"adult blocked in ordinary channels {adult}/{len(ADULT)}, benign passed {benign}/{len(BENIGN)}"
        )
    evasions = {"forms", "age", "grade", "lookalike", "leet", "joined", "split", "invisible", "emoji", "masked"}
    classes = {c for c, _ in CHILD_SAFETY}
    assert evasions <= classes
    assert len(classes - evasions - {"alone", "modifier"}) >= 15, "languages other than English"
    assert (child, adult, benign) == (len(CHILD_SAFETY), len(ADULT), len(BENIGN))


# --- normalisation classes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("n\u200bu\u200cd\u200de\u2060", "nude"),  # zero-width space / joiners, word joiner
        ("nu\u034fde", "nude"),  # combining grapheme joiner
        ("nu\ufe0fde\U000e0100", "nude"),  # variation selectors
        ("nu\U000e0064de", "nude"),  # tag character
        ("nu\u00adde\u202e", "nude"),  # soft hyphen, bidi override
        ("n\u0308u\u0301d\u0327e", "nude"),  # combining marks
        ("𝐧𝐮𝐝𝐞 𝓷𝓾𝓭𝓮", "nude nude"),  # mathematical letters
        ("ｎｕｄｅ", "nude"),  # full-width
        ("ɴᴜᴅᴇ", "nude"),  # small capitals
        ("nսde", "nude"),  # Armenian
        ("ϲhild", "child"),  # Greek lunate sigma
        ("ꓚhild", "child"),  # Lisu
        ("Ꮯhild", "child"),  # Cherokee
        ("chıld", "child"),  # dotless i
        ("сhild", "child"),  # Cyrillic с
        ("🅽🆄🅳🅴", "nude"),  # letters by name
        ("12\u0661\u0662", "1212"),  # Arabic-Indic digits
    ],
)
def test_latin_view_undoes_unicode_evasions(raw, expected):
    assert latin(raw) == expected


@pytest.mark.parametrize("raw", ["chi1d", "chiId", "ch|ld", "ch!ld", "chíld", "CHILD", "chiłd"])
def test_the_ambiguous_strokes_all_read_alike(raw):
    assert views(raw).words == views("child").words


@pytest.mark.parametrize(("raw", "merged"), [("c hi l d", "child"), ("n.u.d.e", "nude"), ("n|u|d|e", "nude"),
                                             ("k-i-d-s", "kids"), ("n _ u _ d _ e", "nude"), ("g o r e in", "gore")])
def test_split_words_are_rejoined(raw, merged):
    assert views(merged).words in views(raw).merged.split()


def test_real_words_stay_apart():
    assert views("the pen is red").merged == "the pen is red"


def test_native_scripts_survive_next_to_their_lookalikes():
    # Real Cyrillic is kept as such (only look-alike letters map), in either case, and a Russian
    # word written with a Latin "о" reads the same as the Russian word.
    assert views("ДЕВОЧКА").words == views("девочка").words
    assert views("дeвoчкa").words == views("девочка").words  # Latin e, o, a
    assert "д" in views("девочка").words and "ч" in views("девочка").words
    assert views("少女").words == "少女"
    assert fold("が") == "が"  # kana voicing marks are letters, not decoration
    assert check_prompt(["голая дeвoчкa"], SAFETY, ()).reason == "safety"


def test_a_negative_prompt_completes_a_combination():
    assert check_prompt(["a child at the beach", "clothes, nude"], SAFETY, ()).reason == "safety"


# --- the adult-content rule in decide() ------------------------------------------------------------

FACTS = RequestFacts(
    guild_id=1, channel_id=2, user_id=3, role_ids=frozenset(), is_moderator=False, channel_nsfw=False,
    model=ModelId.KLEIN, texts=("nude woman on a beach",), cost=2, now=1.0,
)


@pytest.mark.parametrize(
    ("nsfw", "in_nsfw", "model", "expected"),
    [
        (False, False, ModelId.KLEIN, DenyReason.ADULT_CONTENT),
        (False, False, ModelId.PRO, DenyReason.ADULT_CONTENT),
        (True, False, ModelId.KLEIN, None),
        (True, False, ModelId.PRO, None),
        (True, True, ModelId.KLEIN, DenyReason.ADULT_CONTENT),
    ],
)
def test_adult_content_follows_the_channel_and_the_guild(nsfw, in_nsfw, model, expected):
    decision = decide(
        GuildPolicy(adult_filter_in_nsfw=in_nsfw), replace(FACTS, channel_nsfw=nsfw, model=model), MemberUsage(), SAFETY
    )
    assert decision.reason is expected


def test_child_safety_wins_over_the_age_restricted_flag():
    decision = decide(GuildPolicy(), replace(FACTS, channel_nsfw=True, texts=("nude 8yo",)), MemberUsage(), SAFETY)
    assert decision.reason is DenyReason.SAFETY_FILTER


# --- guild terms on RE2 ----------------------------------------------------------------------------

ADVERSARIAL = "a*a*a*a*a*a*a*a*b"


def test_guild_terms_compile_to_re2_only():
    matcher = GuildMatcher.build(["gore", "blood*", ADVERSARIAL, "clown car"])
    assert matcher.patterns and all(isinstance(p, re2._Regexp) for p in matcher.patterns)


@pytest.mark.parametrize(
    ("prompt", "hit"),
    [
        ("a" * 2000, None),  # the text that made the backtracking engine freeze
        ("a" * 1999 + "b", ADVERSARIAL),
        ("aaaaaaaaaaab castle", ADVERSARIAL),
        ("aaaaaaab", None),  # eight a's needed
        (" ".join(["aaaa"] * 400), None),
        ("x" + "a" * 1000 + "b", None),  # the term starts the word
    ],
)
def test_adversarial_wildcard_terms_match_exactly(prompt, hit):
    matcher = GuildMatcher.build([ADVERSARIAL, "gore"])
    assert matcher.first_match([views(prompt)]) == hit


def test_wildcards_stay_inside_one_word():
    matcher = GuildMatcher.build(["blood*", "*gore*", "clown car"])
    assert matcher.first_match([views("bloodbath")]) == "blood*"
    assert matcher.first_match([views("a gory scene")]) is None
    assert matcher.first_match([views("allgoreeverywhere")]) == "*gore*"
    assert matcher.first_match([views("blo odbath")]) is None
    assert matcher.first_match([views("clown cars")]) == "clown car"
    assert matcher.first_match([views("clown\nx car")]) is None


def test_guild_terms_in_other_scripts_and_disguises():
    matcher = GuildMatcher.build(["кровь", "血", "gore"])
    assert matcher.first_match([views("КРОВЬ на стене")]) == "кровь"
    assert matcher.first_match([views("血")]) == "血"
    assert matcher.first_match([views("ɢᴏʀᴇ")]) == "gore"


def test_term_length_is_capped_and_terms_are_cleaned():
    assert clean_term("  Gore**  ,") == "gore*"
    assert clean_term("***") is None
    matcher = GuildMatcher.build(["x" * (MAX_TERM_LENGTH + 1), "ok"])
    assert matcher.terms == ("ok",)


_PREPARE_RUNS = itertools.count(3)  # a new term list each time pytest runs in this process (mutmut does)


def test_prepare_compiles_off_the_loop_and_caches():
    rng = random.Random(next(_PREPARE_RUNS))
    terms = tuple("".join(rng.choices(string.ascii_lowercase, k=8)) for _ in range(2000)) + (ADVERSARIAL,)
    assert not is_prepared(terms)
    asyncio.run(prepare(terms))
    assert is_prepared(terms)
    assert guild_matcher(terms) is guild_matcher(terms)
    assert check_prompt(["castle " + terms[1500]], SAFETY, terms).detail == terms[1500]


# --- evasions composed at random --------------------------------------------------------------------

COMPOSED_BASE = [
    "naked child", "nude little girl", "kid porn", "sexy 12 year old", "nude schoolgirl", "naked toddler",
    "topless teen", "nude 10yo", "lewd kid", "child in lingerie", "niña desnuda", "nackte kinder",
    "petite fille nue", "bambina nuda", "menina nua", "голая девочка", "naakt meisje", "çıplak çocuk",
    "naga dziewczynka", "裸の幼女", "儿童色情", "소녀 누드",
]
LOOKALIKES = {"a": "аɑα", "c": "сϲꓚᴄ", "e": "еᴇ", "i": "іıɪ1!|", "l": "1I|ℓ", "o": "оο0ᴏ", "p": "рρ", "d": "ԁᴅ",
              "k": "ᴋκ", "n": "ɴ", "u": "սᴜυ", "s": "ѕ$5", "t": "т7", "g": "ɡ", "h": "һʜ", "r": "ʀ"}
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\u034f", "\ufe0f", "\u00ad", "\U000e0020"]


def _compose(rng: random.Random) -> str:
    def case(w):
        return "".join(c.upper() if rng.random() < 0.5 else c for c in w)

    def look(w):
        return "".join(rng.choice(LOOKALIKES[c]) if c in LOOKALIKES and rng.random() < 0.5 else c for c in w)

    def hide(w):
        return "".join(c + (rng.choice(INVISIBLES) if rng.random() < 0.4 else "") for c in w)

    def split(w):
        return rng.choice([" ", ".", "-", "_", "*", " . "]).join(w)

    words = rng.choice(COMPOSED_BASE).split()
    if len(words) > 1 and rng.random() < 0.2:
        words = ["".join(words)]
    out = []
    for word in words:
        if rng.random() < 0.3:
            word = case(word)
        for transform in rng.sample([look, hide, split], rng.randint(1, 2)):
            word = transform(word)
        out.append(word)
    return " ".join(out)


# Lowered by the mutation run (python -m tests.mutation), which repeats this test once per mutant it covers.
COMPOSED_EXAMPLES = int(os.environ.get("SCREENING_COMPOSED_EXAMPLES", "1000"))


def test_evasions_composed_at_random_are_blocked(capsys):
    """Two or three evasion classes stacked on one prompt, 1,000 prompts from a fixed seed, 3 % may slip."""
    rng = random.Random(2026)
    prompts = [_compose(rng) for _ in range(COMPOSED_EXAMPLES)]
    missed = [p for p in prompts if not check_prompt([p], SAFETY, ()).blocked]
    with capsys.disabled():
        print(f"\ncomposed evasions blocked {len(prompts) - len(missed)}/{len(prompts)}")
    assert len(missed) <= len(prompts) * 3 // 100, missed[:30]
