"""End-to-end harness: the unmodified bot (`python bot.py`, a separate process) against the fakes.

The fake Discord and fake Segmind run in the test's event loop on 127.0.0.1; the bot is pointed at
them only through its documented settings (DISCORD_API_BASE, DISCORD_GATEWAY_URL,
SEGMIND_BASE_URL, SEGMIND_UPLOAD_URL). Every REST request it sends is checked against Discord's
OpenAPI spec (missing spec: a failure under CI=true, a loud line in the summary elsewhere); a
violation or an unknown route fails the test. The teardown also checks the promises of
tests/fakes/promises.py on every request: allowed_mentions on every message written, no crash
inside a fake, no Segmind parameter the documentation does not list.

The bot keeps its books in a SQLite file in the test's directory, or in a fresh PostgreSQL schema
(the `database_url` fixture, tests/conftest.py: every e2e test runs on both backends unless
E2E_BACKEND names one); `World.query` reads them read-only from either.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openapi_check import default_spec_path
from tests.fakes.promises import fake_problems, mention_problems
from tests.fakes.segmind_server import FakeSegmind
from tests.pg import DB_ERRORS, Reader

ROOT = Path(__file__).resolve().parents[2]

GUILD = 1_200_000_000_000_000_001
OTHER_GUILD = 1_200_000_000_000_000_002
GENERAL = 1_200_000_000_000_000_011
OTHER_CHANNEL = 1_200_000_000_000_000_012
ALICE = 1_200_000_000_000_000_021
BOB = 1_200_000_000_000_000_022
MOD = 1_200_000_000_000_000_023
MOD_ROLE = 1_200_000_000_000_000_031
ARTIST_ROLE = 1_200_000_000_000_000_032
PRO_ROLE = 1_200_000_000_000_000_033
TRUSTED_ROLE = 1_200_000_000_000_000_034
ART = 1_200_000_000_000_000_013
NSFW = 1_200_000_000_000_000_014
MODLOG = 1_200_000_000_000_000_015
REVIEW = 1_200_000_000_000_000_016
CAROL = 1_200_000_000_000_000_024
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
EVERYONE_PERMS = (1 << 10) | (1 << 11) | (1 << 31) | (1 << 15) | (1 << 14)  # view, send, use commands, files, embeds

SECRET_TOKEN = "fake-bot-token-7c1a"
SECRET_KEY = "fake-segmind-key-4b1d"


def png(size=(64, 48), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class BotProcess:
    proc: asyncio.subprocess.Process
    log_path: Path

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                await self.kill()


class World:
    def __init__(self, discord: FakeDiscord, segmind: FakeSegmind, tmp: Path, database_url: str | None = None) -> None:
        self.discord = discord
        self.segmind = segmind
        self.tmp = tmp
        self.db_path = tmp / "bot.db"  # with database_url only its folder is used (blobs/)
        self.database_url = database_url
        self._reader = Reader(database_url) if database_url else None
        self.bot: BotProcess | None = None
        self.starts = 0
        self.env: dict[str, str] = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": SECRET_TOKEN,
            "SEGMIND_API_KEY": SECRET_KEY,
            "DATABASE_PATH": str(self.db_path),
            "SEGMIND_BASE_URL": segmind.base_url,
            "SEGMIND_UPLOAD_URL": segmind.upload_url,
            "DISCORD_API_BASE": discord.api_base,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "OWNER_IDS": str(discord.owner_id),
            "OWNER_GUILD_ID": str(GUILD),  # /owner is registered in this server only
            # The fake's CDN is on 127.0.0.1; on Discord attachments come from cdn.discordapp.com.
            "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
            "SEGMIND_POLL_INTERVAL": "0.05",
            "SEGMIND_BACKOFF_BASE": "0.05",
            "PROGRESS_INTERVAL": "0.5",
            "LOG_LEVEL": "INFO",
        }
        if database_url:
            self.env["DATABASE_URL"] = database_url

    async def start_bot(self, **extra_env: str) -> BotProcess:
        self.starts += 1
        log_path = self.tmp / f"bot-{self.starts}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - handed to the child process
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=log
        )
        log.close()
        self.bot = BotProcess(proc, log_path)
        try:
            await self.discord.wait_ready(timeout=30, count=self.starts)
            await self.discord.wait_for(lambda: self.discord.commands, timeout=10)
        except AssertionError:
            raise AssertionError(f"bot did not come up:\n{self.log()}") from None
        return self.bot

    async def restart_bot(self, *, kill: bool = True) -> BotProcess:
        assert self.bot is not None
        await (self.bot.kill() if kill else self.bot.stop())
        return await self.start_bot()

    def log(self) -> str:
        parts = []
        for n in range(1, self.starts + 1):
            path = self.tmp / f"bot-{n}.log"
            if path.exists():
                parts.append(f"--- bot run {n} ---\n" + path.read_text(errors="replace")[-6000:])
        return "\n".join(parts)

    # --- reading the books (read-only, straight from the bot's SQLite file or schema) --------

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @property
    def database_shown(self) -> str:
        """How the bot names its database in messages (never a password)."""
        if self.database_url is None:
            return str(self.db_path)
        from core.db_postgres import redacted

        return redacted(self.database_url)

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a SQLite-dialect read (`?` placeholders), from whichever backend the bot uses.
        Raises one of DB_ERRORS when the database is not there yet."""
        if self._reader is not None:
            return self._reader.query(sql, params)
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def totals(self, guild_id: int = GUILD) -> dict[str, int]:
        rows = self.query(
            "SELECT kind, SUM(amount) AS total FROM ledger_entries WHERE guild_id = ? GROUP BY kind", (guild_id,)
        )
        return {r["kind"]: r["total"] for r in rows}

    def balance(self, guild_id: int = GUILD) -> tuple[int, int]:
        rows = self.query("SELECT balance, reserved FROM guild_credits WHERE guild_id = ?", (guild_id,))
        return (rows[0]["balance"], rows[0]["reserved"]) if rows else (0, 0)

    def generation_calls(self) -> list:
        """Requests to Segmind that could cost money or start work (not the account balance)."""
        return [r for r in self.segmind.requests if r.endpoint in ("submit", "v1", "upload")]

    def requesters(self) -> set[int]:
        try:
            return {row["user_id"] for row in self.jobs()}
        except DB_ERRORS:
            return set()  # the bot never created its database

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def jobs(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM jobs ORDER BY id")

    # --- acting as users -------------------------------------------------------------------

    async def grant(self, amount: int, guild_id: int = GUILD) -> None:
        interaction = await self.discord.slash(
            guild_id, GENERAL if guild_id == GUILD else OTHER_CHANNEL, self.discord.owner_id, "credits-admin",
            {"amount": amount}, subcommand="grant",
        )
        await self.reply(interaction)

    async def config(self, sub: str, options: dict | None = None, *, user: int = MOD) -> dict[str, Any]:
        """Run /config <sub> as `user` (a moderator by default) and return the bot's answer."""
        return await self.reply(await self.discord.slash(GUILD, GENERAL, user, "config", options or {}, subcommand=sub))

    def modlog(self) -> list[dict[str, Any]]:
        return self.discord.messages_in(MODLOG)

    async def reply(self, interaction, timeout: float = 15.0) -> dict[str, Any]:
        """The first message the bot answered `interaction` with that has content (errors, notices)."""

        def find():
            for message in self.discord.interaction_messages(interaction):
                if message.get("content") and not message["content"].startswith(("⏳", "🎨")):
                    return message
                if message.get("embeds") and not message.get("attachments"):
                    return message
            return None

        try:
            return await self.discord.wait_for(find, timeout=timeout)
        except AssertionError:
            raise AssertionError(f"no reply to {interaction.payload['data']}:\n{self.log()}") from None

    async def result(self, interaction, timeout: float = 30.0) -> dict[str, Any]:
        """The interaction's response once it carries the generated image."""

        def done():
            for message in self.discord.interaction_messages(interaction):
                if message.get("attachments") and message.get("embeds"):
                    return message
            return None

        try:
            return await self.discord.wait_for(done, timeout=timeout)
        except AssertionError:
            texts = [m.get("content") for m in self.discord.interaction_messages(interaction)]
            raise AssertionError(f"no result for the interaction (messages: {texts}):\n{self.log()}") from None

    async def result_in_channel(self, channel_id: int, count: int, timeout: float = 30.0) -> list[dict]:
        def done():
            results = [m for m in self.discord.messages_in(channel_id) if m.get("attachments") and m.get("embeds")]
            return results if len(results) >= count else None

        try:
            return await self.discord.wait_for(done, timeout=timeout)
        except AssertionError:
            raise AssertionError(f"fewer than {count} results in channel:\n{self.log()}") from None


@pytest.fixture
async def world(tmp_path, database_url):
    spec_path = default_spec_path("e2e world")
    discord = FakeDiscord(token=SECRET_TOKEN, spec_path=spec_path)
    segmind = FakeSegmind(api_key=SECRET_KEY, latency=0.05)
    await discord.start()
    await segmind.start()
    discord.add_user(ALICE, "alice")
    discord.add_user(BOB, "bob")
    discord.add_user(MOD, "mod")
    discord.add_user(CAROL, "carol")
    discord.add_guild(
        GUILD,
        "Alpha",
        roles=[
            discord.make_role(GUILD, "@everyone", EVERYONE_PERMS),
            discord.make_role(MOD_ROLE, "Moderators", MANAGE_GUILD | MANAGE_MESSAGES),
            discord.make_role(ARTIST_ROLE, "Artists", 0),
            discord.make_role(PRO_ROLE, "Pro users", 0),
            discord.make_role(TRUSTED_ROLE, "Trusted", 0),
        ],
        channels=[
            discord.make_channel(GENERAL, "general"),
            discord.make_channel(ART, "art"),
            discord.make_channel(NSFW, "after-dark", nsfw=True),
            discord.make_channel(MODLOG, "mod-log"),
            discord.make_channel(REVIEW, "reviewed"),
        ],
        members=[ALICE, BOB, (MOD, [MOD_ROLE]), (CAROL, [ARTIST_ROLE, PRO_ROLE, TRUSTED_ROLE])],
    )
    discord.add_guild(
        OTHER_GUILD,
        "Beta",
        roles=[discord.make_role(OTHER_GUILD, "@everyone", EVERYONE_PERMS)],
        channels=[discord.make_channel(OTHER_CHANNEL, "other")],
        members=[BOB],
    )
    w = World(discord, segmind, tmp_path, database_url)
    yield w
    if w.bot is not None:
        await w.bot.stop()
    try:
        assert discord.unknown_routes == [], f"the bot called routes Discord does not have: {discord.unknown_routes}"
        assert discord.spec_violations == [], "requests Discord's OpenAPI spec rejects:\n" + "\n".join(
            discord.spec_violations
        )
        # The only ping the bot may ever send is to the requester of a result posted in the channel.
        requesters = w.requesters()
        unexpected = [ping for ping in discord.pings if ping[1] != "user" or ping[2] not in requesters]
        assert unexpected == [], f"a message pinged someone: {unexpected}"
        # Not only the pings that happened: every message must be unable to ping (its text may change).
        problems = mention_problems(discord.requests, requesters)
        assert problems == [], "messages that could ping:\n" + "\n".join(problems[:20])
        problems = fake_problems(discord, segmind)
        assert problems == [], "\n".join(problems)
        logs = w.log()
        assert SECRET_TOKEN not in logs, "the bot token appeared in the bot's log"
        assert SECRET_KEY not in logs, "the Segmind API key appeared in the bot's log"
    finally:
        w.close()
        await segmind.close()
        await discord.close()
