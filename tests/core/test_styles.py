"""Server styles and members' defaults, on a real SQLite database."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.models import ModelId
from core.preferences import Preferences, PreferenceStore
from core.styles import STYLES_PER_GUILD, Style, StyleStore, check_style

GUILD, OTHER = 1, 2


def test_a_template_needs_the_placeholder_and_a_plain_name():
    with pytest.raises(InvalidRequest) as error:
        check_style("noir", "black and white")
    assert error.value.option == "prompt_template"
    with pytest.raises(InvalidRequest):
        check_style("no/slashes", "{prompt}")
    assert check_style("  Film   Noir ", "{prompt}, noir") == Style("film noir", "{prompt}, noir")


def test_expansion_is_plain_substitution():
    style = Style("x", "{prompt} in {braces} {0}")
    assert style.apply("a {seed} fox") == "a {seed} fox in {braces} {0}"


async def test_styles_belong_to_their_server(db):
    store = StyleStore(db)
    await store.put(GUILD, check_style("Noir", "{prompt}, film noir"), by=9)
    assert (await store.get(GUILD, "noir")).apply("a cat") == "a cat, film noir"
    with pytest.raises(InvalidRequest):
        await store.get(OTHER, "noir")
    await store.put(GUILD, check_style("noir", "{prompt}, darker"), by=9)
    assert [s.template for s in await store.all(GUILD)] == ["{prompt}, darker"], "replaced, not duplicated"
    assert await store.remove(GUILD, "NOIR") and not await store.remove(GUILD, "noir")


async def test_a_server_has_a_bounded_number_of_styles(db):
    store = StyleStore(db)
    for n in range(STYLES_PER_GUILD):
        await store.put(GUILD, Style(f"s{n}", "{prompt}"), by=1)
    with pytest.raises(InvalidRequest):
        await store.put(GUILD, Style("one more", "{prompt}"), by=1)
    await store.put(GUILD, Style("s0", "{prompt}!"), by=1)  # replacing one still works


async def test_preferences_are_per_member_and_server(db):
    store = PreferenceStore(db)
    await store.put(GUILD, 5, Preferences().with_changes(model=ModelId.PRO.value, style="noir", spoiler=True))
    assert (await store.get(GUILD, 5)).model is ModelId.PRO
    assert await store.get(OTHER, 5) == Preferences() and await store.get(GUILD, 6) == Preferences()
    cleared = (await store.get(GUILD, 5)).with_changes(style="")
    assert cleared.style is None and cleared.spoiler is True


async def test_server_presentation_defaults_and_partial_updates(db):
    store = PreferenceStore(db)
    assert (await store.guild(GUILD)).png_metadata is True
    changed = await store.set_guild(GUILD, spoiler_age_restricted=True)
    assert changed.png_metadata is True and changed.spoiler_age_restricted is True
    changed = await store.set_guild(GUILD, png_metadata=False)
    assert changed == await store.guild(GUILD) and changed.spoiler_age_restricted is True


async def test_forgetting_a_member_removes_their_defaults_and_open_quotes(db, tmp_path):
    from core.blobs import BlobStore
    from core.jobs import JobKind
    from core.models import GenerationSpec
    from core.privacy import Privacy
    from core.quotes import QuoteStore

    prefs, styles, quotes = PreferenceStore(db), StyleStore(db), QuoteStore(db)
    await prefs.put(GUILD, 5, Preferences(spoiler=True))
    await prefs.put(GUILD, 6, Preferences(spoiler=True))
    await styles.put(GUILD, Style("noir", "{prompt}, noir"), by=5)
    quote_id = await quotes.open(
        guild_id=GUILD, channel_id=2, user_id=5, kind=JobKind.IMAGINE, count=1,
        spec=GenerationSpec(prompt="my secret"), parent_job_id=None, reference_authors=frozenset(),
    )
    await Privacy(db, BlobStore(tmp_path / "blobs")).forget_member(5, now=1e9)
    assert await prefs.get(GUILD, 5) == Preferences() and (await prefs.get(GUILD, 6)).spoiler is True
    assert await quotes.claim(quote_id, 5) is None
    assert [r["created_by"] for r in await db.fetchall("SELECT created_by FROM guild_styles")] == [0]
    assert (await styles.get(GUILD, "noir")).template == "{prompt}, noir", "the server's style stays"
