"""Starting the real bot (or the bare fixture bot) as a process against the fakes, and reading its costs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.perf.fakes import PerfDiscord, PerfSegmind

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "perf-bot-token-5e2f"
KEY = "perf-segmind-key-91ac"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# Run a script under uvloop without touching it (the same code path as `python script.py`).
UVLOOP_LAUNCHER = (
    "import runpy, sys, uvloop; uvloop.install(); script = sys.argv[1]; sys.argv = sys.argv[1:];"
    " runpy.run_path(script, run_name='__main__')"
)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Process:
    proc: asyncio.subprocess.Process
    log_path: Path
    started: float  # time.monotonic() just before the exec

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _status(self) -> dict[str, str]:
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return {}
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def rss_mib(self) -> float | None:
        value = self._status().get("VmRSS")
        return int(value.split()[0]) / 1024 if value else None

    def peak_rss_mib(self) -> float | None:
        value = self._status().get("VmHWM")
        return int(value.split()[0]) / 1024 if value else None

    def cpu_times(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the process, all its threads included."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0, 0.0
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS

    def cpu_seconds(self) -> float:
        return sum(self.cpu_times())

    def main_thread_cpu_seconds(self) -> float:
        """CPU seconds of the main thread alone (the event loop's; the rest is worker threads:
        aiosqlite's connections, fsyncs, image work)."""
        try:
            fields = Path(f"/proc/{self.pid}/task/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def log_has(self, text: str) -> bool:
        return self.log_path.exists() and text in self.log_path.read_text(errors="replace")

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@dataclass
class Member:
    guild: int
    channel: int
    user: int


@dataclass
class World:
    discord: PerfDiscord
    members: list[Member] = field(default_factory=list)
    guilds: list[int] = field(default_factory=list)


GUILD_BASE = 1_300_000_000_000_000_000
CHANNEL_BASE = 1_310_000_000_000_000_000
USER_BASE = 1_320_000_000_000_000_000


async def make_world(guilds: int, members_per_guild: int) -> World:
    discord = PerfDiscord(token=TOKEN)
    await discord.start()
    world = World(discord)
    user = 0
    for g in range(guilds):
        gid, cid = GUILD_BASE + g, CHANNEL_BASE + g
        uids = []
        for _ in range(members_per_guild):
            user += 1
            uid = USER_BASE + user
            discord.add_user(uid, f"member{user}")
            uids.append(uid)
        discord.add_guild(gid, f"Guild {g}", channels=[discord.make_channel(cid, "general")], members=uids)
        world.guilds.append(gid)
        world.members.extend(Member(gid, cid, uid) for uid in uids)
    return world


def bot_env(world: World, segmind: PerfSegmind | None, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": TOKEN,
        "SEGMIND_API_KEY": KEY,
        "DATABASE_PATH": str(tmp / "bot.db"),
        "DISCORD_API_BASE": world.discord.api_base,
        "DISCORD_GATEWAY_URL": world.discord.gateway_url,
        "STARTING_CREDITS": str(10**9),
        "LOG_LEVEL": "INFO",
    }
    if segmind is not None:
        env["SEGMIND_BASE_URL"] = segmind.base_url
        env["SEGMIND_UPLOAD_URL"] = segmind.upload_url
    env.update(extra)
    # For experiments: extra settings for the bot process, e.g. PERF_BOT_ENV="LOG_LEVEL=WARNING".
    for item in filter(None, os.environ.get("PERF_BOT_ENV", "").split(",")):
        key, _, value = item.partition("=")
        env[key] = value
    return env


async def start_process(
    script: Path | str, env: dict[str, str], log_path: Path, *, loop: str, cprofile: Path | None = None
) -> Process:
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child process
    if cprofile is not None:  # windows of cProfile on the main thread, opened and closed by signals
        argv = [sys.executable, str(ROOT / "tests" / "perf" / "cprofile_launcher.py"), str(cprofile), str(script)]
    elif loop == "uvloop":
        argv = [sys.executable, "-c", UVLOOP_LAUNCHER, str(script)]
    else:
        argv = [sys.executable, str(script)]
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env, stdout=log, stderr=log)
    log.close()
    return Process(proc, log_path, started)


async def start_bot(
    world: World,
    segmind: PerfSegmind | None,
    tmp: Path,
    *,
    bare: bool = False,
    loop: str = "asyncio",
    timeout: float = 60.0,
    cprofile: Path | None = None,
    **extra_env: str,
) -> Process:
    """Start the real bot (or the bare one) and wait until it identified and registered /imagine."""
    tmp.mkdir(parents=True, exist_ok=True)
    script = ROOT / "tests" / "perf" / "bare_bot.py" if bare else ROOT / "bot.py"
    env = bot_env(world, segmind, tmp, **extra_env)
    before = world.discord.identify_count
    process = await start_process(
        script, env, tmp / ("bare.log" if bare else "bot.log"), loop=loop, cprofile=cprofile
    )
    try:
        await world.discord.wait_for(
            lambda: process.proc.returncode is not None
            or (world.discord.identify_count > before and world.discord.connected and world.discord.commands),
            timeout=timeout,
        )
    except AssertionError:
        await process.stop()
        raise RuntimeError(f"the bot did not come up:\n{process.log()}") from None
    if process.proc.returncode is not None:
        raise RuntimeError(f"the bot exited with {process.proc.returncode}:\n{process.log()}")
    return process


async def wait_until(predicate, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return bool(predicate())
