"""One scale run: start the world, send the load, kill one process and pause another past its lease,
wait until every job is final, then compute every figure from the database and the fakes' logs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from tests.faults import invariants
from tests.faults.harness import without_png_text
from tests.pg import fresh_schema
from tests.scale import figures
from tests.scale.config import ScaleConfig
from tests.scale.world import ScaleWorld, channel_id, guild_id, user_id

# How late after a victim's signal the fake may stamp a request the victim sent before it (see _snapshot).
ARRIVAL_SLACK_S = 1.0

FINAL = ("posted", "refunded", "undeliverable")
TOOK_OVER = re.compile(r"^(\S+ \S+) INFO core\.leases: took over jobs=([\d,]+) process=")
PROMPT = "{marker} a lighthouse at dusk, oil on canvas"


class ScaleRun:
    def __init__(self, config: ScaleConfig, tmp: Path, url: str) -> None:
        self.config = config
        self.tmp = tmp
        self.url = url
        self.world: ScaleWorld | None = None
        self.sent: dict[str, tuple[int, Any]] = {}  # marker -> (guild number, interaction)
        self.send_errors: list[str] = []
        self.events: dict[str, float] = {}  # wall-clock times: kill, stop, cont, load_end
        self.victims: dict[str, list[dict]] = {}  # "kill" / "pause" -> the victim's unfinished jobs then
        self.rss: dict[str, float] = {}
        self.restart_s: float | None = None

    # ---------------------------------------------------------------------------------- the run

    async def run(self) -> dict[str, Any]:
        cfg = self.config
        started, cpu, load = time.monotonic(), time.process_time(), os.getloadavg()[0]
        self.world = world = await ScaleWorld.create(cfg, self.tmp)
        seed_s = await world.seed(self.url)
        boot = time.monotonic()
        await world.start_processes(self.url)
        await world.wait_ready(timeout=60 + 6 * cfg.shards / cfg.max_concurrency)
        startup_s = time.monotonic() - boot
        await self._load()
        await self._kill_and_pause()
        all_final = await self._wait_final()
        result = await self._figures()
        result["all_final"] = all_final
        result.update(
            startup_s=round(startup_s, 2),
            seed_s=round(seed_s, 2),
            world_build_s=round(world.build_s, 2),
            elapsed_s=round(time.monotonic() - started, 1),
            # The conditions: the harness's own CPU (the fakes live in it: if it nears elapsed_s, the
            # fakes were the slow side) and the machine's load average at the start and the end.
            harness_cpu_s=round(time.process_time() - cpu, 1),
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
            interactions_unanswered_in_time=sum(
                1 for _, inter in self.sent.values() if inter.callback_type is None and not inter.callbacks
            ),
        )
        result["targets"] = targets(result, cfg)
        return result

    async def _send(self, n: int, marker: str) -> None:
        world = self.world
        try:
            interaction = await world.discord.slash(
                guild_id(n), channel_id(n), user_id(n), "imagine", {"prompt": PROMPT.format(marker=marker)}
            )
        except Exception as exc:  # noqa: BLE001 - reported in the result, never silently dropped
            self.send_errors.append(f"{marker}: {type(exc).__name__}: {exc}")
            return
        self.sent[marker] = (n, interaction)

    async def _load(self) -> None:
        """The flood guild sends all its commands at once; the small guilds spread theirs over
        `load_seconds` (a first wave from every guild, then a second from every `repeat_every`-th)."""
        cfg, world = self.config, self.world
        counter = iter(range(1, 10**6))
        tasks = [
            asyncio.create_task(self._send(world.flood_guild, f"fz{next(counter):06d}"))
            for _ in range(cfg.flood_jobs)
        ]
        plan = list(world.load_guilds) + world.load_guilds[:: cfg.repeat_every]
        interval = cfg.load_seconds / max(1, len(plan))
        start = time.monotonic()
        for k, n in enumerate(plan):
            delay = start + k * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._send(n, f"fz{next(counter):06d}")))
        await asyncio.gather(*tasks)
        self.events["load_end"] = time.time()

    async def _victim_jobs(self, name: str) -> list[dict]:
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch(
                "SELECT id, state, request_id, spec::json->>'prompt' AS prompt FROM jobs"
                # An owner is PROCESS_NAME/<instance>: the name, and which start of that process.
                " WHERE split_part(owner, '/', 1) = $1 AND state NOT IN ('posted', 'refunded', 'undeliverable')",
                name,
            )
        except asyncpg.UndefinedColumnError:  # a bot without job leases: nobody owns a job
            return []
        finally:
            await conn.close()
        return [dict(r) for r in rows]

    async def _when_holding(self, name: str, timeout: float = 10.0) -> None:
        """Return as soon as process `name` holds a job past the queue (submitting, at Segmind, being
        delivered), or after `timeout`: a kill or a pause that takes no job with it tests no takeover,
        and a queued job taken over shows no progress before its turn in the shared queue comes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(job["state"] != "queued" for job in await self._victim_jobs(name)):
                return
            await asyncio.sleep(0.02)

    async def _kill_and_pause(self) -> None:
        cfg, world = self.config, self.world
        await asyncio.sleep(cfg.kill_after)
        for proc in world.procs:
            if (rss := proc.process.rss_mib()) is not None:
                self.rss[proc.name] = round(rss, 1)
        if len(world.procs) < 3:  # a baseline run: one process killed needs another to take over
            return
        killed, paused = world.procs[1], world.procs[2]
        await self._when_holding(killed.name)
        killed.signal(signal.SIGKILL)
        self.events["kill"] = time.time()
        await killed.process.proc.wait()
        self.victims["kill"] = await self._victim_jobs(killed.name)
        await asyncio.sleep(1.0)
        await self._when_holding(paused.name)
        paused.signal(signal.SIGSTOP)
        self.events["stop"] = time.time()
        self.victims["pause"] = await self._victim_jobs(paused.name)
        await asyncio.sleep(cfg.lease_seconds + cfg.pause_beyond_lease)
        paused.signal(signal.SIGCONT)
        self.events["cont"] = time.time()
        if cfg.restart_killed:
            self.restart_s = await world.restart(killed, self.url, timeout=60 + 6 * len(killed.shard_ids))

    async def _wait_final(self) -> bool:
        """Until every job is final (a refund told to its requester) and the count of jobs is steady;
        False when `final_timeout` passed first."""
        deadline = time.monotonic() + self.config.final_timeout
        conn = await asyncpg.connect(self.url)
        try:
            last, steady_since = -1, time.monotonic()
            while time.monotonic() < deadline:
                total, open_ = await conn.fetchrow(
                    "SELECT count(*), count(*) FILTER (WHERE state NOT IN ('posted', 'refunded', 'undeliverable')"
                    " OR (state = 'refunded' AND notified = 0)) FROM jobs"
                )
                if total != last:
                    last, steady_since = total, time.monotonic()
                if open_ == 0 and time.monotonic() - steady_since > 2.0:
                    return True
                await asyncio.sleep(0.25)
            return False
        finally:
            await conn.close()

    # ------------------------------------------------------------------------------- the figures

    async def _rows(self) -> dict[str, list[dict]]:
        conn = await asyncpg.connect(self.url)
        try:
            jobs = await conn.fetch(
                "SELECT id, guild_id, channel_id, user_id, state, notified, request_id, price, result_blob,"
                " result_mime, result_channel_id, result_message_id, error_kind, created_at, started_at,"
                " finished_at, spec::json->>'prompt' AS prompt FROM jobs ORDER BY id"
            )
            ledger = await conn.fetch("SELECT * FROM ledger_entries WHERE job_id IS NOT NULL ORDER BY id")
            reservations = await conn.fetch("SELECT * FROM reservations")
            guilds = [int(r["guild_id"]) for r in jobs]
            credits = await conn.fetch(
                "SELECT * FROM guild_credits WHERE guild_id = ANY($1::bigint[])", guilds
            )
            grants = await conn.fetch(
                "SELECT * FROM ledger_entries WHERE job_id IS NULL AND guild_id = ANY($1::bigint[])", guilds
            )
            # No guild removed the bot: a departure recorded for one (whose data is then purged after
            # the grace period) means a process took another's guilds for gone.
            departures = await conn.fetchval("SELECT count(*) FROM guild_departures")
        finally:
            await conn.close()
        return {
            "jobs": [dict(r) for r in jobs],
            "ledger": [dict(r) for r in ledger],
            "grants": [dict(r) for r in grants],
            "reservations": [dict(r) for r in reservations],
            "credits": [dict(r) for r in credits],
            "departures": departures,
        }

    def _result_messages(self) -> list[invariants.ResultMessage]:
        discord = self.world.discord
        out = []
        for data, deleted in discord.all_messages():
            if str(data.get("author", {}).get("id")) != str(discord.application_id):
                continue
            footer = ((data.get("embeds") or [{}])[0].get("footer") or {}).get("text", "")
            match = invariants.FOOTER.match(footer)
            if not match or not data.get("attachments"):
                continue
            digest = None
            with contextlib.suppress(Exception):
                image = discord.attachment_bytes(data["attachments"][0])
                digest = hashlib.sha256(without_png_text(image)).hexdigest()
            out.append(
                invariants.ResultMessage(
                    int(data["id"]), int(data["channel_id"]), int(match.group(1)), deleted, digest, False
                )
            )
        return out

    def _progress(self) -> list[tuple[float, str]]:
        """(wall time, marker) of every request that moved a job on: at Segmind (its submit, status
        and result polls, the download) and at Discord (its interaction's webhook calls)."""
        world = self.world
        events = []
        for record in world.segmind.requests:
            marker = None
            if record.endpoint in ("submit", "v1") and isinstance(record.body, dict):
                marker = invariants.marker_of(str(record.body.get("prompt")))
            elif record.endpoint in ("status", "result", "download"):
                rid = record.path.rsplit("/", 2)[-2 if record.endpoint == "status" else -1].split(".")[0]
                job = world.segmind.jobs.get(rid)
                marker = invariants.marker_of(str(job.body.get("prompt"))) if job else None
            if marker:
                events.append((record.wall, marker))
        by_token = {inter.token: marker for marker, (_, inter) in self.sent.items()}
        for record in world.discord.requests:
            parts = record.path.split("/")
            if len(parts) > 3 and parts[1] == "webhooks" and parts[3] in by_token:
                events.append((record.wall, by_token[parts[3]]))
        return events

    def _taken_over(self) -> dict[int, float]:
        """Job id -> when another process said it took the job over (`took over jobs=… process=…`,
        core/leases.py), from every process's log."""
        taken: dict[int, float] = {}
        for path in sorted(self.tmp.glob("p*.log")):
            for line in path.read_text(errors="replace").splitlines():
                match = TOOK_OVER.match(line)
                if match:
                    at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                    for job_id in match.group(2).split(","):
                        taken.setdefault(int(job_id), at)
        return taken

    @staticmethod
    def _takeover(
        start: float,
        end: float | None,
        progress: list[tuple[float, str]],
        victims: list[dict],
        taken: dict[int, float],
    ) -> float | None:
        """Seconds from `start` to the first progress of a victim job another process took over,
        counted only after it said so: a request the victim had sent just before it died or froze
        may reach the fake a moment after `start`, and is no takeover."""
        best = None
        # Jobs past the queue show progress as soon as they are taken over; a queued one only at its
        # turn in the shared queue (that wait is fairness, not takeover).
        moving = [job for job in victims if job["state"] != "queued"] or victims
        for job in moving:
            at = taken.get(job["id"])
            marker = invariants.marker_of(job["prompt"])
            if at is None or at < start or marker is None:
                continue
            after = [(t, m) for t, m in progress if t >= at]
            value = figures.takeover_s(start, end, after, {marker})
            if value is not None and (best is None or value < best):
                best = value
        return best

    def _snapshot(
        self, rows: dict[str, list[dict]], results: list[invariants.ResultMessage]
    ) -> invariants.Snapshot:
        segmind = self.world.segmind
        accepted = Counter(
            invariants.marker_of(str(body.get("prompt"))) for body in [*segmind.submits, *segmind.v1_calls]
        )
        accepted.pop(None, None)
        images = {}
        for rid in [*segmind.jobs, *segmind.v1_results]:
            if (data := segmind.result_image(rid)) is not None:
                images[rid] = hashlib.sha256(data).hexdigest()
        # A bill the bot may never learn of: the job was `submitting` (its state is written before
        # the POST) when its process was killed or frozen, and Segmind got that POST before then.
        # A submit that arrived after is a process sending for a job it no longer held: not excused.
        arrivals: dict[str, list[float]] = defaultdict(list)
        for record in segmind.requests:
            if record.endpoint in ("submit", "v1") and record.status == 200 and isinstance(record.body, dict):
                arrivals[invariants.marker_of(str(record.body.get("prompt"))) or ""].append(record.wall)
        lost_bill = set()
        for event, jobs in (("kill", self.victims.get("kill", [])), ("stop", self.victims.get("pause", []))):
            for job in jobs:
                marker = invariants.marker_of(job["prompt"]) or ""
                # The fake stamps a request when its handler runs, on this loop, which can be just
                # after the harness stamped the signal although the bytes left the victim before it.
                # A stopped process sends nothing until SIGCONT (lease + pause later), so a small
                # slack cannot excuse a request a woken process sent.
                sent_by = self.events[event] + ARRIVAL_SLACK_S
                if job["state"] == "submitting" and all(t < sent_by for t in arrivals[marker]):
                    lost_bill.add(marker)
        plans = [
            invariants.PlanRecord(
                marker,
                None,
                "posted|refunded|none",
                None,
                user_id(n),
                channel_id(n),
                getattr(inter, "original_message_id", None),
                may_lose_bill=marker in lost_bill,
            )
            for marker, (n, inter) in self.sent.items()
        ]
        blob_dir = self.tmp / "blobs"
        return invariants.Snapshot(
            jobs=rows["jobs"],
            reservations=rows["reservations"],
            ledger=rows["ledger"] + rows["grants"],
            credits=rows["credits"],
            bills=[{"request_id": b.request_id, "prompt": b.prompt} for b in segmind.bills],
            accepted_submits=accepted,
            expired_requests={rid for rid in segmind.jobs if segmind.is_expired(rid)},
            segmind_images=images,
            results=results,
            blobs_present={
                j["id"]: bool(j["result_blob"]) and any(blob_dir.rglob(j["result_blob"]))
                for j in rows["jobs"]
                if j["state"] == "undeliverable"
            },
            plans=plans,
        )

    async def _figures(self) -> dict[str, Any]:
        cfg, world = self.config, self.world
        rows = await self._rows()
        results = self._result_messages()
        report = invariants.check(self._snapshot(rows, results))
        jobs = [
            figures.JobRow(
                j["id"], invariants.marker_of(j["prompt"]), int(j["guild_id"]), j["state"], j["created_at"]
            )
            for j in rows["jobs"]
        ]
        ledger: dict[int, Counter] = defaultdict(Counter)
        for entry in rows["ledger"]:
            ledger[entry["job_id"]][entry["kind"]] += 1
        posts = Counter(m.job_id for m in results)
        submits = [
            r for r in world.segmind.requests if r.endpoint in ("submit", "v1") and r.status is not None
        ]
        accepted = [r for r in submits if r.status == 200]
        first_submit: dict[str, float] = {}
        for record in sorted(accepted, key=lambda r: r.wall):
            marker = invariants.marker_of(str((record.body or {}).get("prompt")))
            if marker:
                first_submit.setdefault(marker, record.wall)
        once = figures.once_figures(
            jobs,
            figures.Books(
                ledger,
                posts,
                Counter(invariants.marker_of(str((r.body or {}).get("prompt"))) for r in accepted),
            ),
        )
        spans = []
        for j in rows["jobs"]:
            ended = j["finished_at"] or j["created_at"]
            spans.append(
                figures.Span(
                    int(j["guild_id"]),
                    j["created_at"],
                    first_submit.get(invariants.marker_of(j["prompt"]) or "", ended),
                    ended,
                )
            )
        guild_of = {invariants.marker_of(j["prompt"]): int(j["guild_id"]) for j in rows["jobs"]}
        busy = figures.saturated(
            [
                (r.wall, guild_of.get(invariants.marker_of(str((r.body or {}).get("prompt"))), 0))
                for r in accepted
            ],
            spans,
            cfg.per_guild_cap,
        )
        # The arrival log, for a look at the run afterwards (what the figures were computed from).
        (self.tmp / "segmind-arrivals.json").write_text(
            json.dumps(
                [
                    {
                        "wall": r.wall,
                        "endpoint": r.endpoint,
                        "status": r.status,
                        "marker": invariants.marker_of(str((r.body or {}).get("prompt"))),
                    }
                    for r in submits
                ]
            )
        )
        origin = min((r.wall for r in accepted), default=0.0)
        per_window = Counter(int((t - origin) // cfg.rate_period) for t in busy)
        throughput = figures.throughput_over_limit(busy, cfg.rate_limit, cfg.rate_period)
        held = {j["id"] for jobs_ in self.victims.values() for j in jobs_}
        beyond, raw = figures.flood_slots_ahead(jobs, first_submit, guild_id(world.flood_guild), held)
        progress = self._progress()
        victims = {
            kind: {invariants.marker_of(j["prompt"]) for j in jobs_} - {None}
            for kind, jobs_ in self.victims.items()
        }
        kill = pause = None
        taken = self._taken_over()
        if "kill" in self.events:
            kill = self._takeover(self.events["kill"], None, progress, self.victims["kill"], taken)
            pause = self._takeover(
                self.events["stop"], self.events["cont"], progress, self.victims["pause"], taken
            )
        states = Counter(j["state"] for j in rows["jobs"])
        for proc in world.procs:
            if not proc.alive:
                continue
            if (rss := proc.process.rss_mib()) is not None:
                self.rss[proc.name] = max(self.rss.get(proc.name, 0.0), round(rss, 1))
        return {
            "processes": cfg.processes,
            "shards": cfg.shards,
            "guilds": cfg.guilds,
            "load_guilds": cfg.load_guilds,
            "flood_jobs_sent": cfg.flood_jobs,
            "commands_sent": len(self.sent),
            "send_errors": self.send_errors[:10],
            "jobs": len(jobs),
            "jobs_by_state": dict(states),
            "posted_or_refunded_once": once["posted_or_refunded_once"],
            "double_charges": once["double_charges"],
            "double_posts": once["double_posts"],
            "double_submits": once["double_submits"],
            "not_once": once["not_once"],
            "invariants_ok": report.ok,
            "invariant_violations": report.violations[:30],
            "max_requests_in_window": figures.max_in_window([r.wall for r in submits], cfg.rate_period),
            "rate_limit": cfg.rate_limit,
            "rate_period_s": cfg.rate_period,
            "throughput_over_limit": None if throughput is None else round(throughput, 3),
            "saturated_submits": len(busy),
            "accepted_per_window": [per_window[w] for w in range(max(per_window, default=-1) + 1)],
            "events_s": {k: round(v - origin, 2) for k, v in self.events.items()},
            "http_429": world.segmind.rate_limited,
            "flood_slots_ahead": beyond,
            "flood_requests_ahead_max": raw,
            "guild_departures_recorded": rows["departures"],
            "identify_violations": len(world.discord.identify_violations),
            "identifies": len(world.discord.identify_log),
            "identify_min_gap_s": identify_min_gap(world.discord.identify_log, cfg.max_concurrency),
            "takeover_s": None if kill is None else round(kill, 2),
            "takeover_after_pause_s": None if pause is None else round(pause, 2),
            "victim_jobs": {kind: len(victims.get(kind, ())) for kind in ("kill", "pause")},
            "took_over_s": {
                kind: round(min(taken[j["id"]] for j in jobs_ if j["id"] in taken) - self.events[event], 2)
                for kind, event, jobs_ in (
                    ("kill", "kill", self.victims.get("kill", [])),
                    ("pause", "stop", self.victims.get("pause", [])),
                )
                if any(j["id"] in taken for j in jobs_)
            },
            "victim_jobs_taken_over": {
                kind: sum(1 for j in self.victims.get(kind, []) if j["id"] in taken)
                for kind in ("kill", "pause")
            },
            "lease_s": cfg.lease_seconds,
            "killed_process_back_s": None if self.restart_s is None else round(self.restart_s, 2),
            "rss_mib_per_process": max(self.rss.values(), default=None),
            "rss_mib": self.rss,
            "fake_errors": (world.discord.server_errors + world.segmind.server_errors)[:5],
            "spec_violations": world.discord.spec_violations[:5],
            "unknown_routes": world.discord.unknown_routes[:5],
        }


def identify_min_gap(log: list[tuple[float, int | None]], max_concurrency: int) -> float | None:
    """The shortest time between two IDENTIFYs of one bucket (Discord's rule: at least 5 s)."""
    last: dict[int, float] = {}
    gaps = []
    for at, shard in sorted(log, key=lambda entry: entry[0]):
        bucket = (shard or 0) % max(1, max_concurrency)
        if bucket in last:
            gaps.append(at - last[bucket])
        last[bucket] = at
    return round(min(gaps), 2) if gaps else None


def targets(result: dict[str, Any], cfg: ScaleConfig) -> dict[str, bool]:
    """The issue's targets, each on its own line of the result."""
    takeover = result["takeover_s"]
    throughput = result["throughput_over_limit"]
    return {
        "invariants": bool(
            result["all_final"] and result["invariants_ok"] and result["posted_or_refunded_once"]
        ),
        "no_double_charge_post_or_submit": not (
            result["double_charges"] or result["double_posts"] or result["double_submits"]
        ),
        "no_window_over_limit": result["max_requests_in_window"] <= cfg.rate_limit
        and result["http_429"] == 0,
        "throughput_at_least_95pct": throughput is not None and throughput >= 0.95,
        "small_guild_at_most_2_behind_flood": result["flood_slots_ahead"] <= 2,
        "identify_within_limits": result["identify_violations"] == 0,
        "no_guild_taken_for_gone": result["guild_departures_recorded"] == 0,
        "takeover_within_lease_plus_5s": takeover is not None and takeover <= cfg.lease_seconds + 5,
    }


async def run_scale(config: ScaleConfig, tmp: Path, database_url: str) -> dict[str, Any]:
    """A run in a fresh schema of the cluster at `database_url` (dropped afterwards)."""
    tmp.mkdir(parents=True, exist_ok=True)
    async with fresh_schema(database_url) as url:
        run = ScaleRun(config, tmp, url)
        try:
            return await run.run()
        finally:
            if run.world is not None:
                await run.world.close()


def dump(result: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
