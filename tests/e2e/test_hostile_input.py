"""Hostile and broken input through the real bot: each case gets a clear private answer, costs
nothing, crashes nothing and pings nobody (the `world` fixture fails the test on any ping,
unknown route, spec violation or leaked secret).

Values Discord's client would never send are sent with `forge=True`: straight to the
interactions endpoint, as a modified client or a replayed request can.
"""

from __future__ import annotations

import asyncio
import io
import re
import struct
import threading
import zlib

import pytest
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st
from PIL import Image

from tests.e2e.conftest import (
    ALICE,
    BOB,
    EVERYONE_PERMS,
    GENERAL,
    GUILD,
    OTHER_CHANNEL,
    OTHER_GUILD,
    SECRET_KEY,
    SECRET_TOKEN,
    World,
    png,
)
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openapi_check import default_spec_path
from tests.fakes.promises import fake_problems, mention_problems
from tests.fakes.segmind_server import FakeSegmind
from tests.pg import drop_schema, e2e_backends, new_schema
from tests.seeds import E2E_SEED

pytestmark = pytest.mark.e2e

EPHEMERAL = 1 << 6


async def refused(world, interaction, *words: str) -> str:
    """The bot's answer: private, saying nothing was charged, naming what was wrong."""
    reply = await world.reply(interaction)
    text = reply["content"]
    assert reply["flags"] & EPHEMERAL, f"the refusal must be private: {text!r}"
    assert "Something went wrong" not in text, f"a hostile input reached the generic error: {text!r}"
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not named in {text!r}"
    return text


async def outcome(world, interaction, timeout: float = 20) -> tuple[str, dict]:
    """("refused", reply) or ("posted", result): whichever the interaction ends with."""

    def seen():
        for message in world.discord.interaction_messages(interaction):
            if message.get("attachments") and message.get("embeds"):
                return ("posted", message)
            content = message.get("content") or ""
            if content and not content.startswith(("⏳", "🎨")):
                return ("refused", message)
        return None

    return await world.discord.wait_for(seen, timeout=timeout)


def nothing_charged(world, balance_before: int) -> None:
    assert world.balance() == (balance_before, 0), "credits moved"
    assert world.segmind.submits == [], "Segmind was called"
    assert world.jobs() == [] or all(j["state"] == "refunded" for j in world.jobs())


def still_answering(world):
    async def check() -> None:
        interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "credits", subcommand="balance")
        reply = await world.reply(interaction)
        assert "balance" in reply["content"].lower()

    return check()


# --- prompts -------------------------------------------------------------------------------------


FORGED_PROMPTS = {
    "6000 chars": "x" * 6000,  # Discord's own limit for a string option; the bot registers 2000
    "2001 chars": "x" * 2001,
    "empty": "",
    "blank": "   \n\t  ",
}


async def each_case(cases: dict, run) -> None:
    """Run every case against the same bot; report all the cases that failed, by name."""
    failures = []
    for name, case in cases.items():
        try:
            await run(case)
        except AssertionError as exc:
            failures.append(f"{name}: {str(exc).splitlines()[0]}")
    assert failures == [], "\n".join(failures)


async def test_forged_prompts_beyond_the_limits_are_refused(world):
    await world.start_bot()
    await world.grant(10)

    async def run(prompt):
        interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": prompt}, forge=True)
        await refused(world, interaction, "prompt", "not charged")
        nothing_charged(world, 10)

    await each_case(FORGED_PROMPTS, run)
    await still_answering(world)


HOSTILE = (
    "@everyone @here <@&1200000000000000031> <@1200000000000000022> "
    "**bold** __under__ ~~strike~~ `code` ||spoiler|| > quote [free nitro](https://evil.example) "
    "\u202eevil\u202c \u200f\u200e \x1b[31m\x07 "
)


async def test_prompt_at_the_registered_limit_with_hostile_text_posts_safely(world):
    prompt = (HOSTILE * 20)[:2000]
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": prompt})
    result = await world.result(interaction)
    embed = result["embeds"][0]
    assert len(embed["description"]) <= 4096
    assert "\\*\\*bold\\*\\*" in embed["description"], "markdown from the prompt is shown as text"
    assert world.discord.pings == [], "a prompt pinged someone"
    assert world.balance() == (8, 0) and world.segmind.billed == 1
    assert world.segmind.submits[0]["prompt"] == prompt, "the prompt itself reaches Segmind intact"


async def test_no_markdown_from_a_prompt_survives_in_the_result_card(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": HOSTILE * 2})
    description = (await world.result(interaction))["embeds"][0]["description"]
    assert re.search(r"(?<!\\)\[free nitro\]\(", description) is None, "a masked link from a prompt renders"
    assert re.search(r"(?<!\\)\*\*bold", description) is None, "bold from a prompt renders"


async def test_the_requester_is_the_only_one_a_channel_post_can_ping(world):
    await world.start_bot()
    await world.grant(10)
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "@everyone <@1200000000000000022> <@&1200000000000000031>"}
    )
    await world.discord.wait_for(lambda: interaction.callback_type is not None)
    world.discord.expire_interaction(interaction)
    (posted,) = await world.result_in_channel(GENERAL, 1)
    assert world.discord.pings == [(int(posted["id"]), "user", ALICE)]


# --- options outside their ranges ----------------------------------------------------------------


OUT_OF_RANGE = [
    ({"steps": 0}, "steps"),
    ({"steps": 101}, "steps"),
    ({"cfg": 0.5}, "cfg"),
    ({"cfg": 20.5}, "cfg"),
    ({"quality": 9}, "quality"),
    ({"quality": 101}, "quality"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**31}, "seed"),
    ({"seed": 2**70}, "seed"),
    ({"model": "flux-2-pro", "width": 100}, "width"),
    ({"model": "flux-2-pro", "width": 4096}, "width"),
    ({"model": "flux-2-pro", "height": 1000}, "height"),  # not a multiple of 16
    ({"model": "flux-3-ultra"}, "model"),
    ({"aspect_ratio": "7:3"}, "aspect_ratio"),
    ({"aspect_ratio": "match_input_image"}, "aspect_ratio"),  # /imagine has no input image
    ({"sampler": "bogus"}, "sampler"),
    ({"image_format": "gif"}, "image_format"),
    ({"model": "flux-2-pro", "image_format": "webp"}, "image_format"),
    ({"model": "flux-2-pro", "steps": 20}, "steps"),  # a Klein option on Pro
]


async def test_forged_options_outside_their_ranges_are_refused(world):
    await world.start_bot()
    await world.grant(20)

    async def run(case):
        options, named = case
        interaction = await world.discord.slash(
            GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse", **options}, forge=True
        )
        await refused(world, interaction, named, "not charged")
        nothing_charged(world, 20)

    await each_case({",".join(f"{k}={v}" for k, v in o.items()): (o, n) for o, n in OUT_OF_RANGE}, run)
    await still_answering(world)


async def test_forged_negative_prompt_beyond_its_limit_is_refused(world):
    await world.start_bot()
    await world.grant(20)
    interaction = await world.discord.slash(
        GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse", "negative_prompt": "n" * 5000}, forge=True
    )
    kind, message = await outcome(world, interaction)
    assert kind == "refused", "a negative_prompt 5x longer than the registered limit was charged and sent"
    await refused(world, interaction, "negative_prompt", "not charged")
    nothing_charged(world, 20)


WRONG_TYPES = [
    ({"seed": "abc"}, "seed"),  # integer
    ({"steps": 2.5}, "steps"),  # integer
    ({"steps": True}, "steps"),  # a boolean is not an integer, whatever Python thinks
    ({"cfg": "loud"}, "cfg"),  # number: discord.py's own float() would raise outside every handler
    ({"quality": [1, 2]}, "quality"),
    ({"go_fast": "yes"}, "go_fast"),  # boolean
    ({"model": 7}, "model"),  # string
]


async def test_forged_options_of_the_wrong_type_are_refused_by_name(world):
    """Discord sends each option type's own JSON type. A forged one is refused before discord.py reads
    it, privately, naming the option; nothing is charged and the bot keeps answering."""
    await world.start_bot()
    await world.grant(20)

    async def run(case) -> None:
        options, name = case
        interaction = await world.discord.slash(
            GUILD, GENERAL, ALICE, "imagine", {"prompt": "a lighthouse", **options}, forge=True
        )
        await refused(world, interaction, name, "wrong type", "not charged")

    await each_case({",".join(f"{k}={v!r}" for k, v in o.items()): (o, n) for o, n in WRONG_TYPES}, run)
    await still_answering(world)
    nothing_charged(world, 20)
    assert world.bot.proc.returncode is None, "the bot died"


# --- attachments ---------------------------------------------------------------------------------


def _png_with_size(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose header announces `width` × `height` (a decompression bomb)."""
    data = bytearray(png((8, 8)))
    ihdr = 8 + 8  # signature, then length + "IHDR"
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13])) & 0xFFFFFFFF
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (1, 2, 3)).save(out, "JPEG")
    return out.getvalue()


ATTACHMENTS = {
    "empty": ("empty.png", b"", "image/png", "is empty"),
    "truncated": ("cut.png", png((64, 64))[:90], "image/png", "damaged or truncated"),
    "text-as-png": ("notes.png", b"just some text, honest" * 10, "image/png", "not a PNG"),
    "gif-as-png": ("anim.png", _animated("GIF"), "image/png", "not a PNG"),
    "svg": (
        "vector.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
        "image/svg+xml",
        "not a PNG",
    ),
    "apng": ("moving.png", _animated("PNG"), "image/png", "animated"),
    "animated-webp": ("moving.webp", _animated("WEBP"), "image/webp", "animated"),
    "bomb-50k": ("bomb.png", _png_with_size(50_000, 50_000), "image/png", "too many pixels"),
    "bomb-7k": ("bomb.png", _png_with_size(7_000, 7_000), "image/png", "too many pixels"),
    "pdf-type": ("doc.png", png(), "application/pdf", "not a PNG"),
}


async def test_broken_or_hostile_attachments_are_refused_by_name(world):
    await world.start_bot()
    await world.grant(10)

    async def run(case):
        filename, data, content_type, reason = case
        att = world.discord.add_attachment(filename, data, content_type)
        interaction = await world.discord.slash(
            GUILD, GENERAL, ALICE, "edit", {"prompt": "make it blue", "image": att}
        )
        await refused(world, interaction, filename, reason, "not charged")
        nothing_charged(world, 10)
        assert world.segmind.uploads == [], "a refused file was uploaded to Segmind"

    await each_case(ATTACHMENTS, run)
    # ... and a file judged by its bytes, not its name, still works afterwards.
    att = world.discord.add_attachment("actually-a-jpeg.png", _jpeg(), "image/png")
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "x", "image": att})
    await world.result(interaction)
    assert world.balance() == (8, 0)


async def test_huge_attachments_are_refused_whether_declared_or_not(world):
    await world.start_bot(MAX_INPUT_IMAGE_BYTES="200000")
    await world.grant(10)
    att = world.discord.add_attachment("big.png", png(), "image/png", declared_size=30 * 1024 * 1024)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "x", "image": att})
    await refused(world, interaction, "big.png", "larger than", "not charged")
    assert not any(r.kind == "cdn" for r in world.discord.requests), "a file declared too large was downloaded"
    padded = png() + b"\0" * 300_000  # bytes after IEND: still a PNG, but over the cap
    att = world.discord.add_attachment("liar.png", padded, "image/png", declared_size=1000)
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "x", "image": att})
    await refused(world, interaction, "liar.png", "larger than", "not charged")
    nothing_charged(world, 10)


# --- buttons with forged custom_ids ----------------------------------------------------------------


async def test_forged_buttons_for_unknown_or_foreign_jobs_are_refused(world):
    await world.start_bot()
    await world.grant(20)
    await world.grant(20, OTHER_GUILD)
    theirs = await world.discord.slash(OTHER_GUILD, OTHER_CHANNEL, BOB, "imagine", {"prompt": "their fox"})
    await world.result(theirs)
    their_job = world.jobs()[0]["id"]
    ours = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "our fox"})
    message = await world.result(ours)
    balances = (world.balance(), world.balance(OTHER_GUILD))
    submits = len(world.segmind.submits)
    for custom_id in (
        f"flux:reroll:{their_job}",
        f"flux:pro:{their_job}",
        f"flux:delete:{their_job}",
        "flux:reroll:999999999",
        "flux:delete:999999999",
    ):
        click = await world.discord.click(GUILD, GENERAL, BOB, message, custom_id, forge=True)
        await refused(world, click, "not known")
    assert (world.balance(), world.balance(OTHER_GUILD)) == balances
    assert len(world.segmind.submits) == submits
    assert world.discord.message(message["id"]) is not None, "a forged delete removed a message"
    await still_answering(world)


# --- property-based: generated prompts and options through the real bot ---------------------------


class LiveBot:
    """The e2e world on an event loop of its own thread, so hypothesis (which calls the test
    function once per example, synchronously) can drive one bot process for many examples."""

    def __init__(self, tmp, pg_url: str | None = None) -> None:
        self.pg_url = pg_url  # the bot on a new schema of this cluster; None: on SQLite
        self.schema: str | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tmp = tmp
        self.world: World | None = None

    def call(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def start(self) -> None:
        discord = FakeDiscord(token=SECRET_TOKEN, spec_path=default_spec_path("hostile input"))
        segmind = FakeSegmind(api_key=SECRET_KEY, latency=0.02, image_size=(16, 16))
        await discord.start()
        await segmind.start()
        discord.add_user(ALICE, "alice")
        discord.add_guild(
            GUILD,
            "Alpha",
            roles=[discord.make_role(GUILD, "@everyone", EVERYONE_PERMS)],
            channels=[discord.make_channel(GENERAL, "general")],
            members=[ALICE],
        )
        database_url = None
        if self.pg_url is not None:
            self.schema, database_url = await new_schema(self.pg_url)
        self.world = World(discord, segmind, self.tmp, database_url)
        await self.world.start_bot()
        await self.world.grant(1_000_000)

    async def stop(self) -> None:
        assert self.world is not None
        if self.world.bot is not None:
            await self.world.bot.stop()
        await self.world.segmind.close()
        await self.world.discord.close()
        self.world.close()
        if self.schema is not None:
            await drop_schema(self.pg_url, self.schema)

    async def imagine(self, options: dict) -> tuple[str, dict | None]:
        """("refused", reply) or ("posted", result) for one /imagine sent as given."""
        world = self.world
        interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", options, forge=True)
        return await outcome(world, interaction, timeout=30)


@pytest.fixture(scope="module", params=e2e_backends())
def live(tmp_path_factory, request):
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    bot = LiveBot(tmp_path_factory.mktemp("live"), pg_url)
    bot.call(bot.start())
    yield bot
    try:
        world = bot.world
        assert world.discord.pings == [], f"a generated input pinged someone: {world.discord.pings}"
        assert world.discord.spec_violations == [], world.discord.spec_violations
        assert mention_problems(world.discord.requests, world.requesters()) == []
        assert fake_problems(world.discord, world.segmind) == []
        logs = world.log()
        assert SECRET_KEY not in logs and SECRET_TOKEN not in logs
    finally:
        bot.call(bot.stop())
        bot.loop.call_soon_threadsafe(bot.loop.stop)
        bot.thread.join(10)


PROMPT_PIECES = st.sampled_from(
    ["@everyone", "@here", "<@1200000000000000021>", "<@&1200000000000000031>", "**", "__", "`", "||", "> ",
     "[x](https://e.example)", "\u202e", "\u200f", "\x00", "\x1b[2J", "\r\n", "🦊", "é", "\\", "# ", "-# "]
)
PROMPTS = st.lists(st.one_of(PROMPT_PIECES, st.text(max_size=40)), max_size=12).map("".join) | st.text(
    min_size=1900, max_size=2100
)
OPTION_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["flux-2-pro", "flux-2-klein-9b", "flux-9", ""]),
        "aspect_ratio": st.sampled_from(["1:1", "16:9", "21:9", "match_input_image", "7:3", ""]),
        "seed": st.integers(-(2**40), 2**40),
        "image_format": st.sampled_from(["png", "jpeg", "webp", "gif"]),
        "width": st.integers(-100, 5000),
        "height": st.integers(-100, 5000),
        "steps": st.integers(-5, 200),
        "cfg": st.floats(-5, 50, allow_nan=False),
        "sampler": st.sampled_from(["euler", "res_2s", "dpm"]),
        "go_fast": st.booleans(),
        "quality": st.integers(-5, 200),
    },
)
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check_one(live: LiveBot, options: dict) -> None:
    world = live.world
    before_balance, before_submits = world.balance(), len(world.segmind.submits)
    kind, message = live.call(live.imagine(options))
    event(kind)
    price = 8 if options.get("model") == "flux-2-pro" else 2
    if kind == "refused":
        assert message["flags"] & EPHEMERAL, f"a public refusal: {message['content']!r}"
        assert "Something went wrong" not in message["content"], f"{options} reached the generic error"
        assert "not charged" in message["content"].lower(), message["content"]
        assert world.balance() == before_balance, "a refused request moved credits"
        assert len(world.segmind.submits) == before_submits, "a refused request reached Segmind"
    else:
        live.call(world.discord.wait_for(lambda: world.balance()[1] == 0))
        assert world.balance()[0] == before_balance[0] - price, "a posted image was not charged exactly its price"
        assert len(world.segmind.submits) == before_submits + 1
        assert world.segmind.unknown_params == []
    assert world.discord.pings == [], f"{options!r} pinged someone"


@pytest.mark.xdist_group("hostile_live")  # one live bot per backend: on one pytest-xdist worker
@PROPERTY_SETTINGS
@seed(E2E_SEED)  # random per run, printed in the summary (tests/seeds.py)
@given(prompt=PROMPTS)
def test_any_prompt_is_refused_cleanly_or_posted_safely(live, prompt):
    _check_one(live, {"prompt": prompt})


@pytest.mark.xdist_group("hostile_live")  # one live bot per backend: on one pytest-xdist worker
@PROPERTY_SETTINGS
@seed(E2E_SEED)  # random per run, printed in the summary (tests/seeds.py)
@given(options=OPTION_VALUES)
def test_any_options_are_refused_cleanly_or_charged_exactly_once(live, options):
    _check_one(live, {"prompt": "a lighthouse at dusk", **{k: v for k, v in options.items() if v != ""}})
