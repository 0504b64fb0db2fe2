"""Drives a fault run: the unmodified bot (`python bot.py`) against both fakes, many jobs at once.

One `FaultRun`:
1. builds a world of guilds, channels and members on the fake Discord, starts the bot through the
   e2e harness (tests/e2e/conftest.py's World), and grants every guild credits via /credits-admin grant;
2. launches the planned jobs (tests/faults/catalog.py) `concurrency` at a time, each as a real
   /imagine or /edit interaction, arming its one fault just for it;
3. meanwhile kills the bot with SIGKILL at chosen points of a victim job's life (queued, while the
   submit is on the wire, submitted, image stored, while Discord is taking the post) and restarts it,
   and makes the gateway RECONNECT / INVALID_SESSION now and then;
4. waits until every job is final, asks the bot for /credits balance, and snapshots its database
   (read-only: the SQLite file, or the PostgreSQL schema of `RunConfig.database_url`) and the
   fakes' records for tests/faults/invariants.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import os
import random
import re
import struct
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tests.e2e.conftest import ROOT, SECRET_KEY, SECRET_TOKEN, BotProcess, World
from tests.fakes import discord_payloads as dp
from tests.fakes.discord_server import FakeDiscord, RecordedRequest
from tests.fakes.openapi_check import default_spec_path
from tests.fakes.promises import fake_problems, mention_problems
from tests.fakes.segmind_server import FakeSegmind, Fault
from tests.faults import invariants
from tests.faults.catalog import KILL_POINTS, LOSES_BILL, SYNC_ENDPOINTS, Plan, make_plans
from tests.pg import DB_ERRORS

log = logging.getLogger("faults")

GUILD_BASE = 1_300_000_000_000_000_000
USER_BASE = 1_310_000_000_000_000_000
CHANNEL_BASE = 1_320_000_000_000_000_000
BOT_PERMISSIONS = (
    dp.VIEW_CHANNEL | dp.SEND_MESSAGES | dp.EMBED_LINKS | dp.ATTACH_FILES | dp.READ_MESSAGE_HISTORY | (1 << 31)
)
FINAL_WAIT = 240.0  # seconds a single job may take before the run calls it stuck


@dataclass
class RunConfig:
    jobs: int = 100
    kills: int = 3
    seed: int = 1
    guilds: int = 10
    channels_per_guild: int = 2
    users: int = 30
    concurrency: int = 20
    fault_share: float = 0.42
    gateway_events: int | None = None  # default: one per ~80 jobs
    kill_points: tuple[str, ...] = KILL_POINTS  # cycled through by the kill victims
    bot_env: dict[str, str] = field(default_factory=dict)
    mode: str = "queue"  # SEGMIND_MODE: "queue" (v2) or "sync" (v1)
    database_url: str | None = None  # a PostgreSQL schema's URL; None: SQLite in the run's folder

    @property
    def running_state(self) -> str:
        """The state of a job Segmind is working on."""
        return "submitted" if self.mode == "queue" else "submitting"

    def endpoint(self, endpoint: str) -> str:
        """Where a fault planned for `endpoint` goes in this mode."""
        return endpoint if self.mode == "queue" else SYNC_ENDPOINTS[endpoint]


@dataclass
class RunResult:
    report: invariants.Report
    setup_seconds: float
    plans: list[Plan]
    kills: list[tuple[str, str]]  # (planned point, state observed when killed)
    gateway: list[str]
    duration: float
    answered_at_end: bool
    secrets_leaked: list[str]
    discord_problems: list[str]
    log_dir: Path
    segmind_endpoints: dict[str, int] = field(default_factory=dict)  # requests per endpoint of the fake
    fired: set[str] = field(default_factory=set)  # markers of the plans whose fault really happened

    @property
    def faulted(self) -> list[Plan]:
        return [p for p in self.plans if p.fault is not None]

    @property
    def fired_plans(self) -> list[Plan]:
        return [p for p in self.faulted if p.marker in self.fired]

    @property
    def ok(self) -> bool:
        return self.report.ok and self.answered_at_end and not self.secrets_leaked and not self.discord_problems

    def summary(self) -> str:
        by_kind = Counter(p.fault.name for p in self.fired_plans)
        lines = [
            f"requests sent: {len(self.plans)}; jobs created: {self.report.counts.get('jobs', 0)}",
            f"jobs whose injected fault fired: {len(self.fired_plans)} "
            f"({100 * len(self.fired_plans) / max(1, len(self.plans)):.1f}%; {len(self.faulted)} planned)",
            f"SIGKILL restarts: {len(self.kills)} "
            f"({', '.join(f'{point}→{seen}' for point, seen in self.kills)})",
            f"gateway events: {len(self.gateway)} ({', '.join(self.gateway)})",
            f"run time: {self.duration:.1f} s of jobs (+ {self.setup_seconds:.1f} s to start the world)",
            "outcomes: "
            + ", ".join(f"{k[5:]} {v}" for k, v in sorted(self.report.counts.items()) if k.startswith("jobs_")),
            "billing: "
            + ", ".join(
                f"{k} {self.report.counts.get(k, 0)}"
                for k in ("billed_and_captured", "billed_unknown_to_bot", "billed_result_lost_by_provider", "not_billed")
            ),
            f"billed but unknown to the bot, released (the operator's cost): {self.report.counts.get('operator_cost', 0)}",
            f"lost in a crash before a job existed: {sum(p.lost_in_crash for p in self.plans)}",
            "posted images checked byte for byte: "
            + ", ".join(f"{k[7:]} {v}" for k, v in sorted(self.report.counts.items()) if k.startswith("posted_")),
            "faults fired, by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())),
            f"bot answered /credits balance at the end: {self.answered_at_end}",
        ]
        if self.discord_problems:
            lines.append("fake Discord saw problems:\n  " + "\n  ".join(self.discord_problems[:20]))
        if self.secrets_leaked:
            lines.append("secrets leaked: " + ", ".join(self.secrets_leaked))
        if self.report.violations:
            lines.append(f"INVARIANT VIOLATIONS ({len(self.report.violations)}):")
            lines.extend("  " + v for v in self.report.violations[:60])
        else:
            lines.append("invariants: all hold")
        return "\n".join(lines)


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), colour).save(out, "PNG")
    return out.getvalue()


class FaultWorld(World):
    """World whose start waits for a *new* IDENTIFY (gateway faults add identifies of their own)."""

    async def start_bot(self, **extra_env: str) -> BotProcess:
        before = self.discord.identify_count
        self.starts += 1
        log_path = self.tmp / f"bot-{self.starts}.log"
        out = open(log_path, "wb")  # noqa: SIM115 - handed to the child process
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), cwd=ROOT, env={**self.env, **extra_env}, stdout=out, stderr=out
        )
        out.close()
        self.bot = BotProcess(proc, log_path)
        try:
            await self.discord.wait_for(
                lambda: self.discord.identify_count > before and self.discord.connected, timeout=60
            )
        except AssertionError:
            raise AssertionError(f"bot did not come up:\n{self.log()}") from None
        return self.bot

    def full_logs(self) -> str:
        return "\n".join(
            (self.tmp / f"bot-{n}.log").read_text(errors="replace")
            for n in range(1, self.starts + 1)
            if (self.tmp / f"bot-{n}.log").exists()
        )


class FaultRun:
    def __init__(self, config: RunConfig, tmp: Path) -> None:
        self.cfg = config
        self.tmp = tmp
        self.rng = random.Random(config.seed)
        self.discord = FakeDiscord(token=SECRET_TOKEN, spec_path=default_spec_path("fault suite"))
        self.segmind = FakeSegmind(api_key=SECRET_KEY, latency=0.05, image_size=(48, 32))
        self.world: FaultWorld | None = None
        self.guilds: list[int] = []
        self.kill_guild = GUILD_BASE + 999
        self.channels: dict[int, list[int]] = {}
        self.users: list[int] = []
        self.bot_up = asyncio.Event()
        self.kill_lock = asyncio.Lock()
        self.rows: dict[str, dict] = {}
        self.kills: list[tuple[str, str]] = []
        self.gateway: list[str] = []
        self.in_flight: set[int] = set()
        self._next_id = 0
        self._stop = asyncio.Event()
        self.setup_seconds = 0.0

    # --- world -------------------------------------------------------------------------------

    def _new_id(self, base: int) -> int:
        self._next_id += 1
        return base + self._next_id

    def _build_world(self) -> None:
        d = self.discord
        self.users = [USER_BASE + i for i in range(1, self.cfg.users + 1)]
        for uid in self.users:
            d.add_user(uid, f"member{uid % 1000}")
        for g in [*range(1, self.cfg.guilds + 1), 999]:
            gid = GUILD_BASE + g
            channels = [CHANNEL_BASE + g * 100 + c for c in range(1, self.cfg.channels_per_guild + 1)]
            d.add_guild(
                gid,
                f"guild-{g}",
                roles=[d.make_role(gid, "@everyone", BOT_PERMISSIONS)],
                channels=[d.make_channel(c, f"chan-{c % 100}") for c in channels],
                members=self.users,
            )
            self.channels[gid] = channels
            if g != 999:
                self.guilds.append(gid)

    async def start(self) -> None:
        started = time.monotonic()
        await self.discord.start()
        await self.segmind.start()
        self._build_world()
        self.world = FaultWorld(self.discord, self.segmind, self.tmp, self.cfg.database_url)
        self.world.env.update(
            {
                "MAX_CONCURRENT_JOBS": "16",
                "MAX_QUEUED_JOBS_PER_GUILD": "500",
                "PROGRESS_INTERVAL": "2",
                "SEGMIND_REQUESTS_PER_MINUTE": "0",
                "SEGMIND_POLL_INTERVAL": "0.05",
                "SEGMIND_BACKOFF_BASE": "0.05",
                "LOG_LEVEL": "INFO",
                "SEGMIND_MODE": self.cfg.mode,
                **self.cfg.bot_env,
            }
        )
        await self.world.start_bot()
        self.bot_up.set()
        for gid in [*self.guilds, self.kill_guild]:
            inter = await self.discord.slash(
                gid, self.channels[gid][0], self.discord.owner_id, "credits-admin", {"amount": 1_000_000}, subcommand="grant"
            )
            await self.world.reply(inter, timeout=30)
        self.setup_seconds = time.monotonic() - started

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.world and self.world.bot:
                await self.world.bot.stop()
        if self.world is not None:
            self.world.close()
        await self.segmind.close()
        await self.discord.close()

    # --- observing the bot's database --------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> list:
        assert self.world is not None
        for attempt in range(20):
            try:
                return self.world.query(sql, params)
            except DB_ERRORS:
                if attempt == 19:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _refresh_rows(self) -> None:
        rows = self._query(
            "SELECT id, state, notified, request_id, json_extract(spec, '$.prompt') AS prompt FROM jobs"
        )
        fresh = {}
        for row in rows:
            marker = invariants.marker_of(row["prompt"])
            if marker:
                fresh[marker] = dict(row)
        self.rows = fresh

    async def _monitor(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(*DB_ERRORS):
                self._refresh_rows()
            await asyncio.sleep(0.2)

    @staticmethod
    def _final(row: dict | None) -> bool:
        return row is not None and (
            row["state"] in ("posted", "undeliverable") or (row["state"] == "refunded" and row["notified"])
        )

    async def _until(self, predicate, timeout: float, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(interval)
        return bool(predicate())

    # --- killing and the gateway -------------------------------------------------------------

    async def ensure_up(self) -> None:
        while True:
            await self.bot_up.wait()
            if self.discord.connected:
                return
            await asyncio.sleep(0.05)

    async def kill_and_restart(self, planned: str, observed: str) -> None:
        assert self.world is not None and self.world.bot is not None
        async with self.kill_lock:
            self.bot_up.clear()
            await self.world.bot.kill()
            self._refresh_rows()  # the dead process wrote its last row; nothing more will come from it
            for plan in self._plans_by_n.values():
                row = self.rows.get(plan.marker)
                if plan.interaction is not None and row is None and plan.n in self.in_flight:
                    plan.lost_in_crash = True
                if plan.n in self.in_flight or (row is not None and not self._final(row)):
                    plan.affected.add("kill")
                if row is not None and row["state"] == "submitting":
                    plan.killed_submitting = True
            self.kills.append((planned, observed))
            await self.world.start_bot()
            self.bot_up.set()

    async def gateway_event(self, op: int) -> None:
        async with self.kill_lock:
            await self.ensure_up()
            self.bot_up.clear()
            before_identify, before_resume = self.discord.identify_count, self.discord.resume_count
            try:
                if op == 7:
                    await self.discord.send_op(7)
                    await self.discord.wait_for(
                        lambda: self.discord.resume_count > before_resume and self.discord.connected, timeout=30
                    )
                    self.gateway.append("RECONNECT")
                else:
                    await self.discord.send_op(9, False)
                    await self.discord.wait_for(
                        lambda: self.discord.identify_count > before_identify and self.discord.connected, timeout=30
                    )
                    self.gateway.append("INVALID_SESSION")
            finally:
                # Recorded, but it does not excuse any outcome: a gateway drop must not change one.
                for n in self.in_flight:
                    self._plans_by_n[n].affected.add("gateway")
                self.bot_up.set()

    # --- one job -----------------------------------------------------------------------------

    def _arm_segmind(self, plan: Plan) -> None:
        if plan.fault is None:
            return
        if plan.fault.slow:
            self.segmind.slow(plan.marker, plan.fault.slow)
        if plan.fault.segmind is None:
            return
        for endpoint, faults in plan.fault.segmind(self.rng):
            if endpoint == "fail_job":
                self.segmind.fail_job("moderated", prompt=plan.marker)
            else:
                self.segmind.script(self.cfg.endpoint(endpoint), *faults, prompt=plan.marker)

    def _result_of(self, plan: Plan):
        marker = plan.marker

        def matches(record: RecordedRequest) -> bool:
            return bool(record.files) and marker in json.dumps(record.json or {})

        return matches

    async def _callback_done(self, plan: Plan) -> bool:
        inter = plan.interaction
        return await self._until(lambda: inter.callback_type is not None, timeout=10)

    async def _arm_discord(self, plan: Plan) -> None:
        """Discord faults that need the interaction (its token) or must follow its acknowledgement."""
        action = plan.fault.discord if plan.fault else None
        if action is None:
            return
        d, inter = self.discord, plan.interaction
        token = re.escape(inter.token)
        webhook = rf"/webhooks/\d+/{token}/messages/"
        result = self._result_of(plan)
        channel_post = rf"^/channels/{plan.channel_id}/messages$"
        label = plan.marker
        if action == "result_5xx":
            d.fail_next("PATCH", webhook, 502, times=2, when=result, label=label)
        elif action == "result_5xx_after_done":
            d.fail_next("PATCH", webhook, 502, when=result, process=True, label=label)
        elif action == "result_5xx_exhausted":
            d.fail_next("PATCH", webhook, 503, times=5, when=result, label=label)
        elif action == "result_429":
            d.fail_next("PATCH", webhook, 429, {"message": "You are being rate limited.", "retry_after": 0.3,
                                                "global": False}, when=result, label=label)
        elif action == "progress_5xx":
            d.fail_next("PATCH", webhook, 500, times=3, when=lambda r: not r.files, label=label)
        elif action in ("expire", "channel_5xx", "channel_5xx_after_done", "channel_429"):
            if await self._callback_done(plan):
                d.expire_interaction(inter)
                plan.acted = action == "expire"
            if action == "channel_5xx":
                d.fail_next("POST", channel_post, 500, times=2, when=result, label=label)
            elif action == "channel_5xx_after_done":
                d.fail_next("POST", channel_post, 502, when=result, process=True, label=label)
            elif action == "channel_429":
                d.fail_next("POST", channel_post, 429, {"message": "You are being rate limited.", "retry_after": 0.3,
                                                        "global": False}, when=result, label=label)
        elif action in ("delete_channel", "nowhere"):
            await self._callback_done(plan)
            running = self.cfg.running_state
            plan.acted = await self._until(
                lambda: (self.rows.get(plan.marker) or {}).get("state") == running, timeout=10
            )
            d.delete_channel(plan.channel_id)
        elif action == "deny_permission":
            if await self._callback_done(plan):
                d.expire_interaction(inter)
                plan.acted = True
            d.set_permission_overwrite(plan.channel_id, d.application_id, deny=dp.SEND_MESSAGES | dp.ATTACH_FILES)
        elif action == "followup_5xx":
            d.fail_next("POST", rf"^/webhooks/\d+/{token}$", 502, label=label)

    async def _dispatch(self, plan: Plan) -> None:
        options = {k: v for k, v in plan.options.items() if not k.startswith("_")}
        options["prompt"] = plan.prompt
        kwargs: dict = {}
        action = plan.fault.discord if plan.fault else None
        if action == "ack_late":
            kwargs["ack_deadline"] = 0.0
            plan.acted = True  # the fake refuses the callback itself (10062)
        elif action == "ack_twice":
            kwargs["acknowledged_elsewhere"] = True
            plan.acted = True  # the fake answers the callback with 40060
        if action in ("delete_channel", "nowhere", "deny_permission"):
            # A channel of its own, so deleting it or taking a permission away hurts no other job.
            cid = self._new_id(CHANNEL_BASE + 90_000)
            self.discord.add_channel(plan.guild_id, self.discord.make_channel(cid, f"tmp-{plan.n}"))
            plan.channel_id = cid
            await asyncio.sleep(0.05)  # let CHANNEL_CREATE reach the bot
        if action == "nowhere":
            uid = self._new_id(USER_BASE + 90_000)
            self.discord.add_user(uid, f"private{plan.n}")
            self.discord.add_member(plan.guild_id, uid)
            self.discord.block_dms(uid)
            plan.user_id = uid
        if plan.command == "edit":
            att = self.discord.add_attachment(
                f"ref-{plan.n}.png", _png((plan.n % 256, 80, 160)), "image/png", width=48, height=32
            )
            options["image"] = att
        elif plan.command == "edit_broken":
            att = self.discord.add_attachment(f"ref-{plan.n}.png", b"this is not a picture" * 4, "image/png")
            options["image"] = att
        name = "imagine" if plan.command == "imagine" else "edit"
        await self.ensure_up()
        plan.interaction = await self.discord.slash(
            plan.guild_id, plan.channel_id, plan.user_id, name, options, **kwargs
        )

    async def run_plan(self, plan: Plan) -> None:
        self.in_flight.add(plan.n)
        try:
            if plan.kill_point:
                await self._run_victim(plan)
                return
            self._arm_segmind(plan)
            await self._dispatch(plan)
            await self._arm_discord(plan)
            await self._wait_done(plan)
        finally:
            self.in_flight.discard(plan.n)

    def _answered_without_job(self, plan: Plan) -> bool:
        """The positive signal that a request ended without a job: Discord refused the bot's
        callback (10062 / 40060), or the requester was told of an error in a followup."""
        inter = plan.interaction
        if inter is None:
            return False
        if self.discord.followups(inter):
            return True
        prefix = f"/interactions/{inter.id}/"
        return any(r.path.startswith(prefix) and (r.status or 0) >= 400 for r in self.discord.requests)

    async def _wait_done(self, plan: Plan, timeout: float = FINAL_WAIT) -> None:
        accepted = set(plan.fault.expect.split("|")) if plan.fault else {"posted"}
        if "none" in accepted:
            # Wait for the signal, not for time to pass; a job made after it still shows in the
            # snapshot at the end of the run, which must then explain it.
            ok = await self._until(lambda: self._answered_without_job(plan) or plan.lost_in_crash, 30, 0.25)
            plan.timed_out = not ok
            if accepted == {"none"} or plan.marker not in self.rows:
                return
        ok = await self._until(
            lambda: self._final(self.rows.get(plan.marker)) or plan.lost_in_crash, timeout=timeout, interval=0.1
        )
        plan.timed_out = not ok

    # --- kill victims ------------------------------------------------------------------------

    def _state(self, plan: Plan) -> str:
        with contextlib.suppress(*DB_ERRORS):
            self._refresh_rows()
        row = self.rows.get(plan.marker)
        return row["state"] if row else "no job yet"

    async def _run_victim(self, plan: Plan) -> None:
        point = plan.kill_point
        plan.guild_id = self.kill_guild
        plan.channel_id = self.channels[self.kill_guild][0]
        plan.affected.add("kill")
        marker = plan.marker
        blockers: list[Plan] = []
        if point == "queued":
            # Two slow jobs fill the guild's two slots, so the victim waits in the queue.
            for i in (1, 2):
                blocker = Plan(900_000 + plan.n * 2 + i, plan.guild_id, plan.channel_id, plan.user_id, "imagine", {})
                blocker.affected.add("kill")
                self._plans_by_n[blocker.n] = blocker
                self.segmind.slow(blocker.marker, 4.0)
                blockers.append(blocker)
                self.in_flight.add(blocker.n)
                await self._dispatch(blocker)
            running = self.cfg.running_state
            await self._until(
                lambda: all((self.rows.get(b.marker) or {}).get("state") == running for b in blockers), 15
            )
        elif point == "submitting":
            self.segmind.script(self.cfg.endpoint("submit"), Fault(delay=3.0, passthrough=True), prompt=marker)
        elif point == "submitted":
            self.segmind.slow(marker, 4.0)
        elif point == "succeeded":
            self.discord.fail_next("PATCH", r"/webhooks/", None, delay=4.0, when=self._result_of(plan), label=marker)
        elif point == "posting":
            self.discord.fail_next(
                "PATCH", r"/webhooks/", 502, delay=4.0, when=self._result_of(plan), process=True, label=marker
            )
        elif point == "posting_channel":
            self.segmind.slow(marker, 0.8)
            self.discord.fail_next(
                "POST", r"^/channels/\d+/messages$", 502, delay=4.0, when=self._result_of(plan), process=True,
                label=marker,
            )
        await self._dispatch(plan)
        if point == "random":
            await asyncio.sleep(self.rng.uniform(0.0, 1.2))
            await self.kill_and_restart(point, self._state(plan))
            await self._wait_done(plan)
            return
        if point == "posting_channel" and await self._callback_done(plan):
            self.discord.expire_interaction(plan.interaction)
        wanted = {
            "queued": lambda: self._state(plan) == "queued",
            "submitting": lambda: self._state(plan) == "submitting"
            and any(
                marker in json.dumps(r.body) for r in self.segmind.calls(self.cfg.endpoint("submit")) if r.status is None
            ),
            "submitted": lambda: self._state(plan) == "submitted",
            "succeeded": lambda: self._state(plan) == "succeeded",
            "posting": lambda: self._posted_somewhere(plan) and self._state(plan) == "succeeded",
            "posting_channel": lambda: self._posted_somewhere(plan) and self._state(plan) == "succeeded",
        }[point]
        await self._until(wanted, timeout=20, interval=0.02)
        observed = self._state(plan)
        if point in ("posting", "posting_channel") and self._posted_somewhere(plan):
            observed += " (Discord has the post)"
        await self.kill_and_restart(point, observed)
        for blocker in blockers:
            await self._wait_done(blocker)
            self.in_flight.discard(blocker.n)
        await self._wait_done(plan)

    def _posted_somewhere(self, plan: Plan) -> bool:
        for data, _deleted in self.discord.all_messages():
            if data.get("attachments") and plan.marker in json.dumps(data.get("embeds") or []):
                return True
        return False

    # --- the run -----------------------------------------------------------------------------

    async def run(self) -> RunResult:
        started = time.monotonic()
        plans = make_plans(
            self.rng,
            jobs=self.cfg.jobs,
            kills=self.cfg.kills,
            guilds=self.guilds,
            channels=self.channels,
            users=self.users,
            fault_share=self.cfg.fault_share,
            kill_points=self.cfg.kill_points,
            mode=self.cfg.mode,
        )
        self._plans_by_n = {p.n: p for p in plans}
        events = self.cfg.gateway_events if self.cfg.gateway_events is not None else max(1, self.cfg.jobs // 80)
        event_at = {int((i + 0.7) * len(plans) / (events + 1)): (7 if i % 2 == 0 else 9) for i in range(events)}
        monitor = asyncio.create_task(self._monitor())
        slots = asyncio.Semaphore(self.cfg.concurrency)
        tasks: list[asyncio.Task] = []
        victims_running: list[asyncio.Task] = []

        async def guarded(plan: Plan) -> None:
            try:
                await self.run_plan(plan)
            except Exception:
                log.exception("plan %s crashed", plan.marker)
                plan.timed_out = True
            finally:
                slots.release()

        try:
            victims = 0
            for index, plan in enumerate(plans):
                if index in event_at:
                    await self.gateway_event(event_at[index])
                if plan.kill_point:
                    # One kill at a time: a victim starts once the previous one's kill has happened.
                    await self._until(lambda n=victims: len(self.kills) >= n, 90)
                    victims += 1
                await slots.acquire()
                await self.bot_up.wait()
                task = asyncio.create_task(guarded(plan))
                (victims_running if plan.kill_point else tasks).append(task)
            await asyncio.gather(*tasks, *victims_running)
            # Anything still unfinished (e.g. a job resumed after the last restart) gets its time.
            await self._until(lambda: all(self._final(r) for r in self.rows.values()), timeout=FINAL_WAIT, interval=0.25)
            answered = await self._still_answering()
        finally:
            self._stop.set()
            await monitor
        duration = time.monotonic() - started
        assert self.world is not None
        everything = list(self._plans_by_n.values())  # with the kill victims' blockers
        snapshot = self.snapshot(everything)
        report = invariants.check(snapshot)
        fired, unfired = self._faults_fired(everything)
        for text in unfired:
            report.fail("faults", text)
        for text in self._promises_broken():
            report.fail("promises", text)
        stuck = [p.marker for p in plans if p.timed_out]
        if stuck:
            report.fail("final", f"{len(stuck)} job(s) did not finish in time: {stuck[:10]}")
        alive = self.world.bot is not None and self.world.bot.proc.returncode is None
        if not alive:
            report.fail("alive", "the bot process is not running at the end")
        return RunResult(
            report=report,
            setup_seconds=self.setup_seconds,
            plans=plans,
            kills=self.kills,
            gateway=self.gateway,
            duration=duration,
            answered_at_end=answered,
            secrets_leaked=self._leaked_secrets(),
            discord_problems=self._discord_problems(),
            log_dir=self.tmp,
            segmind_endpoints=dict(Counter(r.endpoint for r in self.segmind.requests)),
            fired=fired,
        )

    def _faults_fired(self, plans: list[Plan]) -> tuple[set[str], list[str]]:
        return invariants.fault_firing(
            [
                invariants.Armed(plan.marker, plan.fault.name, plan.acted, excused="kill" in plan.affected)
                for plan in plans
                if plan.fault is not None
            ],
            fired=[*self.segmind.fired, *self.discord.fired_faults],
            pending=[*self.segmind.pending_faults(), *self.discord.pending_faults()],
        )

    def _promises_broken(self) -> list[str]:
        requesters = {row["user_id"] for row in self._query("SELECT DISTINCT user_id FROM jobs")}
        return mention_problems(self.discord.requests, requesters) + fake_problems(self.discord, self.segmind)

    async def _still_answering(self) -> bool:
        await self.ensure_up()
        gid = self.guilds[0]
        inter = await self.discord.slash(gid, self.channels[gid][0], self.users[0], "credits", subcommand="balance")
        try:
            reply = await self.world.reply(inter, timeout=30)
        except AssertionError:
            return False
        return "balance" in (reply.get("content") or "").lower()

    def _leaked_secrets(self) -> list[str]:
        assert self.world is not None
        leaks = []
        logs = self.world.full_logs()
        texts = json.dumps([m for m, _ in self.discord.all_messages()])
        for name, secret in (("bot token", SECRET_TOKEN), ("Segmind API key", SECRET_KEY)):
            if secret in logs:
                leaks.append(f"{name} in the bot's log")
            if secret in texts:
                leaks.append(f"{name} in a Discord message")
        return leaks

    def _discord_problems(self) -> list[str]:
        d = self.discord
        problems = [f"unknown route {r}" for r in d.unknown_routes]
        problems += [f"spec violation: {v}" for v in d.spec_violations]
        problems += [f"fake Discord error: {e.splitlines()[0]}" for e in d.server_errors]
        requesters = {row["user_id"] for row in self._query("SELECT DISTINCT user_id FROM jobs")}
        problems += [f"ping {p}" for p in d.pings if p[1] != "user" or p[2] not in requesters]
        return problems

    # --- the snapshot ------------------------------------------------------------------------

    @staticmethod
    def _expectation(plan: Plan) -> tuple[str, str | None]:
        """(accepted final states "a|b", where a posted image must be) for the plan's job.

        No fault: posted, in its interaction. A kill in the job's life may also end it refunded
        (a billed call was on the wire) and may move where it is posted; nothing else may."""
        expect = plan.fault.expect if plan.fault else "posted"
        where = plan.fault.where if plan.fault else "interaction"
        if "kill" in plan.affected:
            return "|".join(sorted({*expect.split("|"), "posted", "refunded"})), None
        return expect, where

    def snapshot(self, plans: list[Plan]) -> invariants.Snapshot:
        assert self.world is not None
        jobs = [
            dict(r)
            for r in self._query(
                "SELECT id, guild_id, channel_id, user_id, state, notified, request_id, price, result_blob,"
                " result_mime, result_channel_id, result_message_id, error_kind,"
                " json_extract(spec, '$.prompt') AS prompt FROM jobs ORDER BY id"
            )
        ]
        reservations = [dict(r) for r in self._query("SELECT * FROM reservations")]
        ledger = [dict(r) for r in self._query("SELECT * FROM ledger_entries ORDER BY id")]
        credits = [dict(r) for r in self._query("SELECT * FROM guild_credits")]
        bills = [{"request_id": b.request_id, "prompt": b.prompt} for b in self.segmind.bills]
        accepted = Counter(
            invariants.marker_of(str(body.get("prompt"))) for body in [*self.segmind.submits, *self.segmind.v1_calls]
        )
        accepted.pop(None, None)
        expired = {rid for rid in self.segmind.jobs if self.segmind.is_expired(rid)}
        images = {}
        for rid in [*self.segmind.jobs, *self.segmind.v1_results]:
            data = self.segmind.result_image(rid)
            if data is not None:
                images[rid] = hashlib.sha256(data).hexdigest()
        dm_channels = set(self.discord.dm_channels.values())
        results = []
        for data, deleted in self.discord.all_messages():
            if str(data.get("author", {}).get("id")) != str(self.discord.application_id):
                continue
            footer = ((data.get("embeds") or [{}])[0].get("footer") or {}).get("text", "")
            match = invariants.FOOTER.match(footer)
            if not match or not data.get("attachments"):
                continue
            digest = None
            with contextlib.suppress(Exception):
                digest = hashlib.sha256(without_png_text(self.discord.attachment_bytes(data["attachments"][0]))).hexdigest()
            results.append(
                invariants.ResultMessage(
                    message_id=int(data["id"]),
                    channel_id=int(data["channel_id"]),
                    job_id=int(match.group(1)),
                    deleted=deleted,
                    image_sha256=digest,
                    is_dm=int(data["channel_id"]) in dm_channels,
                )
            )
        blob_dir = self.world.db_path.parent / "blobs"
        blobs_present = {
            j["id"]: bool(j["result_blob"]) and (blob_dir / j["result_blob"][:2] / j["result_blob"]).exists()
            for j in jobs
        }
        records = []
        for plan in plans:
            expect, where = self._expectation(plan)
            inter = plan.interaction
            records.append(
                invariants.PlanRecord(
                    marker=plan.marker,
                    fault=plan.fault.name if plan.fault else None,
                    expect=expect,
                    where=where,
                    user_id=plan.user_id,
                    channel_id=plan.channel_id,
                    original_message_id=getattr(inter, "original_message_id", None),
                    lost_in_crash=plan.lost_in_crash,
                    may_lose_bill=bool(plan.fault and plan.fault.name in LOSES_BILL) or plan.killed_submitting,
                )
            )
        return invariants.Snapshot(
            jobs=jobs,
            reservations=reservations,
            ledger=ledger,
            credits=credits,
            bills=bills,
            accepted_submits=accepted,
            expired_requests=expired,
            segmind_images=images,
            results=results,
            blobs_present=blobs_present,
            plans=records,
        )


async def run_suite(config: RunConfig, tmp: Path) -> RunResult:
    run = FaultRun(config, tmp)
    await run.start()
    try:
        return await run.run()
    finally:
        await run.close()


def default_tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="faults-", dir=os.environ.get("FAULTS_TMP")))


def without_png_text(image: bytes) -> bytes:
    """The image as Segmind made it: the bot writes prompt, seed and model into the PNG it posts as
    iTXt chunks (README: "PNG text"), which is the only change it may make to a result's bytes."""
    signature = b"\x89PNG\r\n\x1a\n"
    if not image.startswith(signature):
        return image
    out, pos = [signature], len(signature)
    while pos + 12 <= len(image):
        (length,) = struct.unpack(">I", image[pos : pos + 4])
        end = pos + 12 + length
        if image[pos + 4 : pos + 8] != b"iTXt":
            out.append(image[pos:end])
        pos = end
    return b"".join(out) + image[pos:]
