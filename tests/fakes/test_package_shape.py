"""The fakes stay readable: no file under tests/fakes/ may grow past 600 lines (split by responsibility)."""

from pathlib import Path

from tests.fakes import discord, discord_payloads, discord_server, segmind, segmind_server
from tests.fakes.discord import payloads

FAKES = Path(__file__).resolve().parent
MAX_LINES = 600


def test_no_file_under_tests_fakes_exceeds_600_lines() -> None:
    sizes = {path.relative_to(FAKES).as_posix(): len(path.read_text().splitlines()) for path in FAKES.rglob("*.py")}
    assert {"discord/server.py", "discord/payloads/messages.py", "segmind/server.py"} <= sizes.keys(), "walk missed"
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these by responsibility (max {MAX_LINES} lines): {too_long}"


def test_old_import_paths_are_the_package_objects() -> None:
    # Many tests import the old module paths; the shims must hand out the very same objects.
    assert discord_server.FakeDiscord is discord.FakeDiscord
    assert discord_server.Interaction is discord.Interaction
    assert discord_payloads.message_object is payloads.message_object
    assert discord_payloads.OptionResolver is payloads.OptionResolver
    assert segmind_server.FakeSegmind is segmind.FakeSegmind
    assert segmind_server.render_image is segmind.render_image
