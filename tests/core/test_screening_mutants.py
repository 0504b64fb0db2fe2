"""Screening rules the corpora do not pin down one by one (found by mutation testing, tests/mutation.py):
the word forms a list term is matched in, wildcard terms, plurals of benign phrases and companions, the guild-term
length cap and matcher cache, and the look-alike table loaded on first need."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.screening import SafetyLists, check_prompt, guild_matcher, is_prepared, normalise, normalize
from core.screening.ages import AgeReader
from core.screening.guild import CACHE_SIZE, MAX_TERM_LENGTH, GuildMatcher
from core.screening.matching import ADULT, BENIGN, COMPANION, GLUE, MINOR, SEXUAL, Scan, TermIndex, word_forms
from core.screening.normalise import latin, merged_latin, term_key, views

DATA = Path(__file__).resolve().parents[2] / "data" / "safety_terms.json"
SAFETY = SafetyLists.load(DATA)


@pytest.mark.parametrize(
    ("word", "present", "absent"),
    [
        # a final "e" gives way to a vowel ending; four letters take no Romance gender
        ("nude", {"nudes", "nuding", "nudist", "nudism", "nudie", "nudies", "nudy"}, {"nuda", "nudo"}),
        # four letters or more: the longer endings
        ("porn", {"porno", "pornos", "porns", "pornography", "pornographic"}, set()),
        # a final "y" turns into "ies"/"ied"; a vowel ending is never doubled
        ("sexy", {"sexies", "sexied"}, {"sexyying", "sexyyed"}),
        # a short word ending in a consonant doubles it
        ("hot", {"hotter", "hottie", "hotties", "hotty", "hotting", "hotted"}, {"hota", "hoto"}),
        # a long one does not
        ("topless", {"toplessness"}, {"toplesssing", "toplesssy"}),
        ("strip", {"stripping", "stripper", "strippers"}, set()),  # five letters are short
        ("fetish", {"fetishes", "fetishist"}, {"fetishhing"}),  # six are not
        ("hentai", {"hentais", "hentaia"}, set()),  # Romance endings come on top of the others
        # Romance gender and number, from either gender, from five letters up
        ("chica", {"chica", "chice", "chici", "chico", "chicas", "chices", "chicos"}, set()),
        ("chico", {"chica", "chice", "chici", "chico", "chicas", "chices", "chicos"}, set()),
    ],
)
def test_word_forms(word, present, absent):
    forms = word_forms(word)
    assert present <= forms, present - forms
    assert not absent & forms, absent & forms


@pytest.mark.parametrize(
    ("prompt", "blocked"),
    [
        ("nakedphotos", True),  # a companion's plural, run together with a list word
        ("nakedbodies", True),  # ... a "y" plural
        ("stars visible to the naked eyes", False),  # a benign phrase's plural hides the list word
        ("a naked eye", False),
    ],
)
def test_plurals_of_companions_and_benign_phrases(prompt, blocked):
    assert check_prompt([prompt], SAFETY, (), adult=True).blocked is blocked


def test_a_term_of_exactly_the_maximum_length_is_kept():
    longest = "x" * MAX_TERM_LENGTH
    assert GuildMatcher.build([longest, longest + "y", "ok"]).terms == (longest, "ok")


def test_the_matcher_cache_keeps_the_most_recent_lists():
    lists = [(f"cachetest{n}term",) for n in range(CACHE_SIZE + 1)]
    for terms in lists[:CACHE_SIZE]:
        guild_matcher(terms)
    assert all(is_prepared(terms) for terms in lists[:CACHE_SIZE]), "a full cache keeps every list"
    guild_matcher(lists[0])  # used again: now the most recent
    guild_matcher(lists[CACHE_SIZE])
    assert is_prepared(lists[CACHE_SIZE]) and is_prepared(lists[0])
    assert not is_prepared(lists[1]), "the least recently used list is the one dropped"


def test_the_lookalike_table_is_loaded_on_first_need():
    table = normalise._LatinTable()
    assert "\u0441\u04bb\u0456ld".translate(table) == "child"  # Cyrillic с, һ, і
    assert "\u0434".translate(normalise._LatinTable()) == "\u0434", "a letter with no Latin look-alike stays"


@pytest.fixture(scope="module")
def with_wildcards(tmp_path_factory):
    """The real lists plus adult terms of each wildcard kind."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    raw["adult"]["test"] = ["*zorg*", "blarg*", "*quux"]
    path = tmp_path_factory.mktemp("lists") / "safety_terms.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return SafetyLists.load(path)


@pytest.mark.parametrize(
    ("prompt", "blocked"),
    [
        ("abczorgdef", True), ("zorg", True),  # *part*: anywhere inside a word
        ("blargification", True), ("xblarg", False),  # stem*: a word starting so
        ("abcquux", True), ("quuxabc", False),  # *ending: a word ending so
    ],
)
def test_wildcard_terms_in_the_lists(with_wildcards, prompt, blocked):
    assert check_prompt([prompt], with_wildcards, (), adult=True).blocked is blocked


def test_scan_and_violation_on_raw_texts():
    assert SAFETY.violation(["a castle", "a naked child"]) == "sexual content involving minors"
    assert SAFETY.violation(["a castle", ""]) is None
    assert SAFETY.scan(["nude woman"]).adult and not SAFETY.scan(["a castle"]).adult


def test_a_lists_file_without_the_optional_sections_loads(tmp_path):
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    minimal = {name: raw[name] for name in ("always", "minor", "sexual", "adult", "ages")}
    minimal["sexual_before_minor"] = {"xx": ["hot"]}  # a language with modifiers and no minor terms
    path = tmp_path / "safety_terms.json"
    path.write_text(json.dumps(minimal), encoding="utf-8")
    lists = SafetyLists.load(path)
    assert check_prompt(["a naked child"], lists, ()).reason == "safety"
    assert not check_prompt(["a castle"], lists, (), adult=True).blocked


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("sexywithkid", "safety"),  # run together with a glue word
        ("nakedandkid", "safety"),
        ("hot kid", "safety"),  # an English modifier before the minor
        ("nena caliente", "safety"),  # a Spanish one after it
        ("kids hot chocolate", None),  # English: after the noun it is innocent
        ("the kid is hot", None),
        ("\U0001f9d2 at the park", None),  # a child emoji alone is no refusal
        ("\U0001f9d2 naked", "safety"),
    ],
)
def test_glue_modifier_order_and_emoji(prompt, reason):
    assert check_prompt([prompt], SAFETY, ()).reason == reason


def test_warm_loads_the_lookalike_table_once():
    saved = normalise._LATIN._confusables
    try:
        normalise._LATIN._confusables = None
        normalise.warm()
        loaded = normalise._LATIN._confusables
        assert loaded and "\u0441" in loaded  # Cyrillic с
        normalise.warm()
        assert normalise._LATIN._confusables is loaded
    finally:
        normalise._LATIN._confusables = saved


def test_the_readable_form_reads_leetspeak_symbols():
    assert normalize("n@k3d $ex") == "naked sex"


@pytest.mark.parametrize(
    ("masked", "word"),
    [
        ("p#rn", "porn"),  # a list word of the same length
        ("dz#ewczynkami", "dziewczynkami"),  # a declined form: the stem "dziewczynk*" under the mask
        ("dziewczynk#mi", "dziewczynkxmi"),  # masks past the stem are only filler
        ("z" * 39 + "#", None),  # no list word that long, no stem
        ("xz#q", None),
    ],
)
def test_masked_letters_are_read_from_the_lists(masked, word):
    assert SAFETY.index.unmask(masked) == word


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("12 yo", "12 yo"),
        ("12 yoga", None),  # a short unit stands alone: not the start of another word
        ("a 12 years old girl", "12 years old"),  # the longest unit that fits, as written
        ("12yearsold", "12yearsold"),  # longer units may be glued on
    ],
)
def test_ages_read_the_longest_unit(text, age):
    assert SAFETY.ages.minor_age(latin(text)) == age


def test_an_empty_unit_group_matches_nothing():
    reader = AgeReader({"units_after": {"en": ["yo"]}, "units_before": {}, "grade_after": {}, "grade_before": {}})
    assert reader.minor_age("12 yo") == "12 yo"
    assert reader.minor_age("12 apples") is None


def shipped_ages() -> AgeReader:
    """The shipped age reader, built inside the test: SAFETY is built once at import, before mutmut plants a mutant."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return AgeReader(raw["ages"], [latin(w) for words in raw["sexual_before_minor"].values() for w in words])


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("17 yo", "17 yo"),  # under 18 is a minor age...
        ("18 yo", None),  # ...18 is not
        ("grade 12", "grade12"),  # school grades go up to 12...
        ("grade 13", None),
        ("1st grade", "1st grade"),  # ...and start at 1
        ("12 yoga", None),  # a short unit stands alone
        ("a 12 years old girl", "12 years old"),  # the longest unit that fits
        ("een 12-jaarige", "12-jaar"),  # a four-letter unit may have more glued on
        ("12-jährige", "12-jahrige"),  # a stem unit takes the whole word
        ("1O yo", "10 yo"),  # a letter standing in for a digit is read as that digit
        ("十二歳", "十二歳"),  # the longest CJK number word ("十二", not "十" then "二")
        ("女の子十二歳", "十二歳"),  # a CJK number inside a run of CJK text
        ("photo 女の子十二歳", "十二歳"),
        ("dreizehn jahre", "dreizehn jahre"),  # a number word
        ("3.12 and 10 yo", "10 yo"),  # the decimals of a number are no age; the search goes on
        ("1,5 years", None),  # a decimal comma too
    ],
)
def test_minor_ages_as_written(text, age):
    assert shipped_ages().minor_age(latin(text)) == age


@pytest.mark.parametrize(
    ("text", "age"),
    [
        # a word before the number is reported with up to 20 characters of what precedes it
        ("a girl, 12", "a girl,12"),
        ("a long story about a girl, 12", " story about a girl,12"),
        ("a long story about school, grade 5", " about school, grade5"),
        # the word before an age is looked for in the 40 characters before the number
        ("aged" + " " * 36 + "12", "aged12"),
        ("aged" + " " * 37 + "12", None),
    ],
)
def test_a_word_before_the_number_and_its_context(text, age):
    assert shipped_ages().minor_age(latin(text)) == age


def test_without_sexual_words_no_age_is_sexual():
    data = {"units_after": {"en": ["yo"]}, "units_before": {}, "grade_after": {}, "grade_before": {}}
    assert not AgeReader(data).sexual_before("hot 10 yo", "10 yo")
    assert AgeReader(data, ["hot"]).sexual_before("hot 10 yo", "10 yo")
    assert not AgeReader(data, ["hot"]).sexual_before("hot" + " " * 18 + "10 yo", "10 yo")  # 20 characters back


def index(*terms: tuple[str, int] | tuple[str, int, int]) -> TermIndex:
    built = TermIndex()
    for term, tags, *kind in terms:
        built.add(term, tags, kind=kind[0] if kind else None)
    return built.finish()


def scan(built: TermIndex, text: str) -> Scan:
    return built.scan(" ".join(term_key(text).split()))


def test_the_terms_found_are_reported_as_listed():
    built = index(("naked", SEXUAL), ("little girl", MINOR), ("barely legal teen", MINOR), ("blarg*", ADULT),
                  ("photo", 0, COMPANION))
    assert scan(built, "nakedness") == Scan(SEXUAL, ("naked",))
    assert scan(built, "two little girls") == Scan(MINOR, ("iittie giri",))  # terms in key form: "l" is "i"
    assert scan(built, "littlegirls").terms == ("iittie giri",)  # a phrase written together
    assert scan(built, "barelylegalteens").tags == MINOR  # three words written together
    assert scan(built, "blargification").terms == ("biarg*",)
    assert scan(built, "nakedphotos").terms == ("naked", "photo")  # a split reports its pieces


def test_a_listed_word_keeps_its_tags_and_derived_forms_merge():
    built = index(("porn", SEXUAL), ("porno", ADULT))
    assert scan(built, "porno").tags == ADULT  # listed as such, not "porn" + "o"
    assert scan(built, "pornos") == Scan(SEXUAL | ADULT, ("porn",))  # "porn" + "os" and "porno" + "s"
    assert index(("porno", ADULT), ("porn", SEXUAL)).scan("porno").tags == ADULT  # whatever the order


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("nakedphotos", SEXUAL),  # a companion's plural
        ("nakeddresses", SEXUAL),  # ... in "es"
        ("nakedbodies", SEXUAL),  # ... in "ies"
        ("a naked eye", 0),  # a benign phrase hides the list word
        ("naked eyes", 0),  # ... in the plural too
        ("naked eye nude", ADULT),  # and only it: the search goes on after it
    ],
)
def test_plurals_of_companions_and_benign_phrases_in_an_index(text, tags):
    built = index(
        ("naked", SEXUAL), ("nude", ADULT), ("photo", 0, COMPANION), ("dress", 0, COMPANION),
        ("body", 0, COMPANION), ("naked eye", 0, BENIGN),
    )
    assert scan(built, text).tags == tags


def test_arabic_terms_match_with_attached_articles():
    assert scan(index(("عاري", SEXUAL)), "العاري").tags == SEXUAL


def test_suffix_terms_match_word_endings():
    built = index(("*quux", ADULT))
    assert scan(built, "abcquux") == Scan(ADULT, ("*quux",))
    assert scan(built, "quuxabc").tags == 0


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("sexkid", SEXUAL | MINOR),  # two list words, short ones included
        ("nacktekinder", SEXUAL | MINOR),  # up to three unknown letters between long words
        ("nacktxkind", SEXUAL | MINOR),  # four letters are long
        ("nacktxxxkinder", SEXUAL | MINOR),
        ("nacktxxxxkinder", 0),  # not four
        ("nacktxkid", 0),  # not before a short word
        ("sexakinder", 0),  # nor after one
        ("nakedkidney", 0),  # the pieces must cover the whole word
        ("xnakedkid", 0),  # from its start
        ("andnaked", 0),  # one list word after a glue word is no split
        ("nakedandkid", SEXUAL | MINOR),
        ("nakedkid nudewoman", SEXUAL | MINOR | ADULT),  # every split counts
        ("nude nakedkid", SEXUAL | MINOR | ADULT),  # and the whole words besides
    ],
)
def test_words_run_together(text, tags):
    built = index(
        ("naked", SEXUAL), ("nackt", SEXUAL), ("sex", SEXUAL), ("nude", ADULT), ("kid", MINOR), ("kind", MINOR),
        ("kinder", MINOR), ("and", 0, GLUE), ("woman", 0, COMPANION),
    )
    assert scan(built, text).tags == tags


def test_masked_letters_in_a_small_index():
    built = index(("naked", SEXUAL), ("photo", 0, COMPANION), ("dziewczynk*", MINOR))
    assert built.unmask("n*ked") == "naked"
    assert built.unmask("ph*to") == "photo"  # companions are list words too
    assert built.unmask("dziewcz*nk") == "dziewczynk"  # as long as the stem
    assert built.unmask("dziewcz*nka") == "dziewczynka"


def test_an_empty_index_unmasks_nothing():
    empty = TermIndex().finish()
    assert empty.unmask("n*ked") is None


@pytest.mark.parametrize(
    ("text", "merged"),
    [
        ("c hi l d", "child"),  # fragments of at most two letters join across a space
        ("n.u.d.e", "nude"),  # or across a splitting character
        ("n - u - d - e", "nude"),
        ("pen is", "pen is"),  # real words stay apart
        ("a knight", "a knight"),
        ("abc d", "abc d"),
        ("ab cd", "abcd"),
        ("ab    cd", "ab cd"),  # not across a wide plain space
        ("n . . . . . . u", "n u"),  # nor a long gap
        ("n.u.d.e\nkid", "nude kid"),  # nor a line break
        ("n*u*d*e l-i-t-t-l-e", "nudelittle nude little"),  # a plain space among splitters is a likely break
        ("n u d e   c h i l d", "nudechild nude child"),  # so is a wider space
        ("g o r e in", "gorein gore in"),  # a two-letter word at the edge of a run
        ("in g o r e", "ingore in gore"),
    ],
)
def test_split_words_are_rejoined(text, merged):
    assert merged_latin(text) == merged



@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("na ked", "naked"),  # two or three neighbouring short words run together
        ("a b c d", "ab abc bc bcd cd"),
        ("na kedness", ""),  # not with a long one
        ("ab long cd", ""),
        ("long na ked", "naked"),  # a long word does not stop the search
    ],
)
def test_short_neighbours_run_together(text, pairs):
    assert views(text).pairs == pairs


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("p*rn n#de k?d", ("p*rn", "n#de", "k?d")),  # letters hidden behind * # ?
        ("a kid? p?rn?", ("p?rn",)),  # a question mark at the end is a question
        ("*rn ab* a*", ("ab*",)),  # not a mask first; three characters at least
        ("p**n p***", ("p**n",)),  # at most half of them hidden
        ("a castle", ()),
        (" ".join(f"n#de{c}" for c in "bcdfghjkmn"), tuple(f"n#de{c}" for c in "bcdfghjk")),  # eight at most
    ],
)
def test_masked_words(text, masked):
    assert views(text).masked == masked


@pytest.mark.parametrize(
    "between",
    ["\u2028", "\u2029", "\t", "\x85", "\u1680"],  # line and paragraph separators, controls, an odd space
)
def test_every_kind_of_space_separates_words(between):
    assert latin(f"nude{between}kid") == "nude kid"


@pytest.mark.parametrize("mark", ["\u0301", "\u20df"])  # a combining accent, an enclosing mark
def test_combining_and_enclosing_marks_are_dropped(mark):
    assert latin(f"nu{mark}de") == "nude"
