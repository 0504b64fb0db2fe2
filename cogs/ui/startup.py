"""Start-up that speaks plainly: each failure is one line naming the cause and what to do.

Exit codes (also in deploy/flux-bot.service, which does not restart on 2 or 3):
  0  stopped cleanly           2  a setting, file or the database needs fixing
  1  unexpected error (a bug; the traceback is logged), or another bot process uses the database
  3  Discord refused DISCORD_TOKEN
  4  Discord could not be reached after STARTUP_ATTEMPTS tries (network, DNS, TLS), or the
     PostgreSQL server of DATABASE_URL could not be reached (systemd restarts the bot for both)
A network failure while logging in is retried with a growing wait (2, 4, 8 … at most 60 s), one
warning line per attempt; STARTUP_ATTEMPTS=0 keeps trying until stopped. Once connected,
discord.py itself reconnects the gateway for as long as the bot runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import discord
from discord.ext import commands

from cogs.ui import patches
from core.blobs import BlobStore
from core.db import Database, DatabaseTooNew, StorageError

log = logging.getLogger("bot")

EXIT_ALREADY_RUNNING = 1
EXIT_CONFIG = 2
EXIT_TOKEN_REFUSED = 3
EXIT_UNREACHABLE = 4
MAX_BACKOFF = 60.0


class StartupFailure(Exception):
    """A failure at start the operator must act on; `str()` is the one line to print."""

    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.exit_code = exit_code


async def open_database(
    path: Path, url: str | None = None, shard_ids: tuple[int, ...] | None = None, shard_count: int | None = None
) -> Database:
    """The SQLite file at `path`, or with `url` (DATABASE_URL) the PostgreSQL database; with
    `shard_ids` (SHARD_IDS of SHARD_COUNT) this process holds those shards rather than the whole database."""
    if url:
        return await _open_postgres(url, shard_ids, shard_count)
    try:
        return await Database.open(path)
    except DatabaseTooNew as exc:
        raise StartupFailure(
            f"{exc}: this is an older version of the bot than the one that last used the database; "
            "run the newer version (or restore a backup made before the upgrade)",
            EXIT_CONFIG,
        ) from None
    except (OSError, StorageError) as exc:
        raise StartupFailure(
            f"cannot open the database {path} ({_reason(exc)}): make DATABASE_PATH point to a file "
            "in a directory the bot's user can write",
            EXIT_CONFIG,
        ) from None


async def _open_postgres(
    url: str, shard_ids: tuple[int, ...] | None = None, shard_count: int | None = None
) -> Database:
    from core import db_postgres  # only a bot configured for PostgreSQL loads its driver

    shown = db_postgres.redacted(url)
    try:
        db = await db_postgres.PgDatabase.open(url)
        try:
            if shard_ids is None:
                taken = None if await db.hold_instance_lock() else -1
            else:
                taken = await db.hold_shard_locks(shard_ids)
        except BaseException:
            await db.close()
            raise
        if taken is not None:
            await db.close()
            raise StartupFailure(_already_running(shown, taken, shard_ids), EXIT_ALREADY_RUNNING)
        if shard_ids is not None and shard_count is not None:
            other = await db.check_shard_count(shard_count)
            if other is not None:
                await db.close()
                raise StartupFailure(
                    f"SHARD_COUNT={shard_count}, but the bot processes running on {shown} use SHARD_COUNT={other}: "
                    "every process must use the same count (stop them all to change it)",
                    EXIT_CONFIG,
                )
        return db  # type: ignore[return-value]
    except DatabaseTooNew as exc:
        raise StartupFailure(
            f"{exc}: this is an older version of the bot than the one that last used the database; "
            "run the newer version",
            EXIT_CONFIG,
        ) from None
    except OSError as exc:  # refused, unresolvable, timed out: the server may just not be up yet
        raise StartupFailure(
            f"cannot reach the database {shown} ({_reason(exc)}): is PostgreSQL running, and are "
            "DATABASE_URL's host and port right?",
            EXIT_UNREACHABLE,
        ) from None
    except db_postgres.StorageError as exc:
        raise StartupFailure(
            f"cannot open the database {shown} ({_reason(exc)}): make DATABASE_URL point to a PostgreSQL "
            "database the bot's role can create tables in",
            EXIT_CONFIG,
        ) from None


def _already_running(shown: str, taken: int, shard_ids: tuple[int, ...] | None) -> str:
    if taken >= 0:
        return (
            f"Shard {taken} is already run by another bot process on {shown}; give each process its own "
            "SHARD_IDS (every shard in exactly one process)"
        )
    if shard_ids is None:
        return (
            f"Another bot process is already using {shown}; stop it first, or run several processes "
            "with SHARD_COUNT and a SHARD_IDS range each"
        )
    return f"A bot process without SHARD_IDS is already using {shown} (all of its shards); stop it first"


def open_blobs(path: Path, partial_area: str = "") -> BlobStore:
    blobs = BlobStore(path, partial_area)
    try:
        if removed := blobs.clear_partial():
            log.info("removed %d partial result file(s) left by an earlier run", removed)
    except OSError as exc:
        raise StartupFailure(
            f"cannot use the image directory {path} ({_reason(exc)}): make BLOB_DIR (or the database's "
            "directory) writable by the bot's user",
            EXIT_CONFIG,
        ) from None
    return blobs


async def login(
    bot: commands.Bot, token: str, *, api_base: str, attempts: int, backoff: float, stopped: asyncio.Event
) -> None:
    """`bot.login` with bounded retries of network failures; raises StartupFailure when it gives up.
    `stopped` is set when the bot is asked to stop (SIGTERM/SIGINT): the wait between tries ends."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await bot.login(token)
            return
        except discord.LoginFailure:
            raise StartupFailure(
                "Discord refused DISCORD_TOKEN (401 Unauthorized): reset the token under Bot in the "
                "developer portal and put the new one in .env",
                EXIT_TOKEN_REFUSED,
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError, discord.DiscordServerError) as exc:
            cause = unreachable(exc, api_base)
            if attempts and attempt >= attempts:
                raise StartupFailure(
                    f"{cause}; gave up after {attempt} attempt(s): check the network, DNS and firewall "
                    "(or DISCORD_API_BASE), then start again",
                    EXIT_UNREACHABLE,
                ) from None
            wait = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF)
            of = f" of {attempts}" if attempts else ""
            log.warning("%s; retrying in %g s (attempt %d%s)", cause, wait, attempt, of)
            await patches.reset_http(bot)
            if await _stopped_within(stopped, wait):
                return  # SIGTERM/SIGINT while waiting: bot.connect() then returns at once


async def connect(bot: commands.Bot, stopped: asyncio.Event, grace: float = 5.0) -> None:
    """`bot.connect()` that a stop request ends even while discord.py waits to reconnect.

    After Discord has been unreachable for a while, discord.py sleeps minutes between attempts
    (its backoff: 116, 530, 653 s were seen) and only looks at `close()` after the sleep: a bot
    asked to stop then lived on until the sleep ended (or systemd's SIGKILL). Once `stopped` is set,
    discord.py gets `grace` seconds to end on its own, then the connect task is cancelled."""
    connecting = asyncio.ensure_future(bot.connect())
    stopping = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not connecting.done():
            await asyncio.wait({connecting}, timeout=grace)
        if not connecting.done():
            log.info("stopping while discord.py waits to reconnect; not waiting for it")
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
            return
        await connecting  # its result or its error (a refused token, missing intents...)
    finally:
        stopping.cancel()


async def _stopped_within(stopped: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` unless a stop is requested first; True if it was."""
    try:
        await asyncio.wait_for(stopped.wait(), seconds)
    except TimeoutError:
        return False
    return True


def unreachable(exc: BaseException, api_base: str) -> str:
    """What went wrong reaching Discord, in words."""
    host = urlsplit(api_base).hostname or api_base
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot reach Discord: the name {host} could not be resolved (DNS)"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError | ssl.SSLError):
        return f"cannot reach Discord: the TLS connection to {host} failed ({_reason(exc)}; check the clock and CA certificates)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot reach Discord at {host}: {_reason(exc)}"
    if isinstance(exc, TimeoutError):
        return f"cannot reach Discord: {host} did not answer in time"
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord is failing ({exc.status} from {host})"
    return f"cannot reach Discord at {host}: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def freeze_heap() -> None:
    """Move everything built so far (modules, classes, the cogs and their services) out of the
    garbage collector's reach, once the bot is set up and before the gateway opens.

    Those objects live as long as the process, yet every full collection walked them all: two such
    passes of ~70 ms fell inside a 500-command burst and delayed the acknowledgements queued
    behind them (tests/perf, scenario 1). Objects made from here on are collected as before.
    """
    gc.collect()
    gc.freeze()
