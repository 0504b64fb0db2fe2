"""The scale run's world: the fakes with thousands of guilds over shards, the database seeded in
bulk, and the bot processes (the unmodified `bot.py`, one shard range each)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from core.db_postgres import PgDatabase
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openapi_check import default_spec_path
from tests.fakes.segmind_server import FakeSegmind
from tests.perf.harness import Process, start_process
from tests.scale.config import ScaleConfig

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scale-bot-token-3f9e"
KEY = "scale-segmind-key-8d21"
# Snowflake timestamps (ms) whose low bits spread guilds over every shard: (id >> 22) % shards.
GUILD_MS = 300_000_000_000
CHANNEL_MS = 310_000_000_000
USER_MS = 320_000_000_000
# View channel, send messages, embed links, attach files, use application commands.
EVERYONE_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 31)


def guild_id(n: int) -> int:
    return ((GUILD_MS + n) << 22) | 1


def channel_id(n: int) -> int:
    return ((CHANNEL_MS + n) << 22) | 2


def user_id(n: int) -> int:
    return ((USER_MS + n) << 22) | 3


def shard_ranges(shards: int, processes: int) -> list[list[int]]:
    """Contiguous shard ranges, as even as they come: 8 over 4 -> [0, 1], [2, 3], [4, 5], [6, 7]."""
    return [list(range(shards * p // processes, shards * (p + 1) // processes)) for p in range(processes)]


@dataclass
class BotProc:
    name: str
    shard_ids: list[int]
    process: Process
    stopped: bool = False  # SIGSTOPped and not yet continued

    @property
    def alive(self) -> bool:
        return self.process.proc.returncode is None

    def signal(self, sig: int) -> None:
        if self.alive:
            self.process.proc.send_signal(sig)
            self.stopped = {signal.SIGSTOP: True, signal.SIGCONT: False}.get(sig, self.stopped)

    async def end(self) -> None:
        if self.stopped:
            self.signal(signal.SIGCONT)
        await self.process.stop()


@dataclass
class ScaleWorld:
    config: ScaleConfig
    tmp: Path
    discord: FakeDiscord
    segmind: FakeSegmind
    load_guilds: list[int] = field(default_factory=list)  # guild numbers (index n of guild_id(n))
    flood_guild: int = 0
    procs: list[BotProc] = field(default_factory=list)
    build_s: float = 0.0

    @classmethod
    async def create(cls, config: ScaleConfig, tmp: Path) -> ScaleWorld:
        discord = FakeDiscord(token=TOKEN, spec_path=default_spec_path("scale run"))
        discord.shard_count = config.shards
        discord.max_concurrency = config.max_concurrency
        discord.enforce_identify_rate = True
        # Checking each of thousands of requests against the spec (~30 ms each) would make the fake
        # the slow side and the bot miss its 3 s deadlines: every route is checked, 25 times each.
        discord.spec_checks_per_route = 25
        segmind = FakeSegmind(
            api_key=KEY, latency=config.model_seconds, rate_limit_per_minute=config.rate_limit
        )
        segmind.rate_period = config.rate_period
        world = cls(config, tmp, discord, segmind)
        started = time.monotonic()
        world._build_guilds()
        world.build_s = time.monotonic() - started
        await discord.start()
        await segmind.start()
        return world

    def _build_guilds(self) -> None:
        cfg, discord = self.config, self.discord
        # Load guilds spread evenly over the id range, hence over every shard; the flood guild apart.
        step = max(1, cfg.guilds // (cfg.load_guilds + 1))
        self.load_guilds = [1 + k * step for k in range(cfg.load_guilds)]
        self.flood_guild = 0
        members = {n: n for n in [self.flood_guild, *self.load_guilds]}
        for n in range(cfg.guilds):
            member = members.get(n)
            if member is not None:
                discord.add_user(user_id(member), f"user{member}")
            discord.add_guild(
                guild_id(n),
                f"Guild {n}",
                roles=[discord.make_role(guild_id(n), "@everyone", EVERYONE_PERMS)],
                channels=[discord.make_channel(channel_id(n), "general")],
                members=[] if member is None else [user_id(member)],
            )

    async def seed(self, url: str) -> float:
        """Apply the bot's own migrations, then give every guild its credits in two COPYs (a grant in
        the ledger and the balance it leads to, as /credits grant would leave them)."""
        started = time.monotonic()
        db = await PgDatabase.open(url)
        await db.close()
        now = time.time()
        amount = self.config.credits_per_guild
        ids = [guild_id(n) for n in range(self.config.guilds)]
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "guild_credits",
                    records=[(g, amount, 0, now) for g in ids],
                    columns=["guild_id", "balance", "reserved", "created_at"],
                )
                await conn.copy_records_to_table(
                    "ledger_entries",
                    records=[(g, "grant", amount, amount, "scale run seed", now) for g in ids],
                    columns=["guild_id", "kind", "amount", "balance_after", "reason", "created_at"],
                )
        finally:
            await conn.close()
        return time.monotonic() - started

    def env(self, url: str, name: str, shard_ids: list[int]) -> dict[str, str]:
        cfg = self.config
        return {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "ENV_FILE": "",  # never a developer's .env
            "DISCORD_TOKEN": TOKEN,
            "SEGMIND_API_KEY": KEY,
            "DATABASE_URL": url,
            "BLOB_DIR": str(self.tmp / "blobs"),
            "SHARD_COUNT": str(cfg.shards),
            "SHARD_IDS": f"{shard_ids[0]}-{shard_ids[-1]}",
            "PROCESS_NAME": name,
            "JOB_LEASE_SECONDS": str(cfg.lease_seconds),
            "SEGMIND_BASE_URL": self.segmind.base_url,
            "SEGMIND_UPLOAD_URL": self.segmind.upload_url,
            "SEGMIND_REQUESTS_PER_MINUTE": str(cfg.rate_limit),
            "SEGMIND_RATE_PERIOD_SECONDS": str(cfg.rate_period),
            "SEGMIND_POLL_INTERVAL": str(round(cfg.model_seconds / 8, 3)),
            "SEGMIND_BACKOFF_BASE": "0.1",
            "SEGMIND_BALANCE_CHECK_SECONDS": "3600",
            "DISCORD_API_BASE": self.discord.api_base,
            "DISCORD_GATEWAY_URL": self.discord.gateway_url,
            "OWNER_IDS": str(self.discord.owner_id),
            "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
            "MAX_QUEUED_JOBS_PER_GUILD": str(max(50, cfg.flood_jobs)),
            "MAX_CONCURRENT_JOBS_PER_GUILD": str(cfg.per_guild_cap),
            "PROGRESS_INTERVAL": "3",
            "LOG_LEVEL": "INFO",
        }

    async def start_processes(self, url: str) -> None:
        (self.tmp / "blobs").mkdir(parents=True, exist_ok=True)
        for index, shard_ids in enumerate(shard_ranges(self.config.shards, self.config.processes)):
            name = f"p{index}"
            process = await start_process(
                ROOT / "bot.py", self.env(url, name, shard_ids), self.tmp / f"{name}.log", loop="asyncio"
            )
            self.procs.append(BotProc(name, shard_ids, process))

    async def wait_ready(self, timeout: float) -> None:
        """Every shard connected with its guilds sent, the commands registered, and every process
        said so in its log (`ready shards=<ids> process=<name>`)."""
        everything = set(range(self.config.shards))

        def ready() -> bool:
            return (
                self.discord.connected_shards() == everything
                and bool(self.discord.commands)
                and all(p.process.log_has(f"process={p.name}") for p in self.procs)
            )

        deadline = time.monotonic() + timeout
        while not ready():
            dead = [p for p in self.procs if not p.alive]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(self.startup_report(dead))
            await asyncio.sleep(0.05)

    def startup_report(self, dead: list[BotProc]) -> str:
        lines = [
            f"bot processes did not all come up: shards connected {sorted(self.discord.connected_shards())} "
            f"of {self.config.shards}, commands registered: {bool(self.discord.commands)}, "
            f"exited: {[(p.name, p.process.proc.returncode) for p in dead]}",
            f"identify violations: {self.discord.identify_violations}",
        ]
        for p in self.procs:
            lines.append(f"--- {p.name} (shards {p.shard_ids}) ---\n{p.process.log(3000)}")
        return "\n".join(lines)

    async def restart(self, old: BotProc, url: str, timeout: float) -> float:
        """Start a killed process again (what its supervisor would do), same name and shards; the
        seconds until its shards are connected again."""
        started = time.monotonic()
        starts = sum(1 for p in self.procs if p.name == old.name) + 1
        process = await start_process(
            ROOT / "bot.py",
            self.env(url, old.name, old.shard_ids),
            self.tmp / f"{old.name}-{starts}.log",
            loop="asyncio",
        )
        proc = BotProc(old.name, old.shard_ids, process)
        self.procs.append(proc)
        while not set(old.shard_ids) <= self.discord.connected_shards():
            if not proc.alive or time.monotonic() - started > timeout:
                raise RuntimeError(self.startup_report([proc] if not proc.alive else []))
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    def proc(self, name: str) -> BotProc:
        return next(p for p in self.procs if p.name == name)

    async def close(self) -> None:
        await asyncio.gather(*(p.end() for p in self.procs), return_exceptions=True)
        await self.segmind.close()
        await self.discord.close()
