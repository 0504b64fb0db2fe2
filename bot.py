"""Entry point: read settings, build the services, run the bot, close everything on exit.

    python bot.py               run the bot (settings from the environment / .env)
    python bot.py --sync        also force a sync of the slash commands with Discord
    python bot.py --version     print the version and exit
    python bot.py backup DIR    copy the database and the stored images into DIR (a new or empty
                                directory), consistently, while the bot keeps running
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks

from cogs.config import ConfigCog
from cogs.credits import CreditsCog
from cogs.credits_admin import CreditsAdminCog
from cogs.generate import GenerateCog
from cogs.members import MembersCog
from cogs.moderation import ModerationCog
from cogs.owner import OwnerCog
from cogs.privacy import PrivacyCog
from cogs.ui import errors as error_handler
from cogs.ui import patches, sharding, startup
from cogs.ui.buttons import ResultButton
from cogs.ui.credit_history import HistoryButton
from cogs.ui.health import GatewayWatch, HealthServer
from cogs.ui.member_buttons import CancelButton, InfoButton, MinePage
from cogs.ui.modlog import ModLog
from cogs.ui.owner_alerts import OwnerAlerts
from cogs.ui.presenter import DiscordPresenter
from cogs.ui.quote import QuoteButton
from cogs.ui.review import ModButton, Review, ReviewingPresenter
from cogs.ui.undeliverable import UndeliverableNotices
from core import events as ev
from core import logs, shards
from core.account import AccountWatch
from core.admission import Admission
from core.chores import Chores
from core.config import DEFAULT_GATEWAY_URL, Settings, load_settings
from core.credit_rules import CreditRules
from core.downloads import DISCORD_ATTACHMENT_HOSTS, Downloader, HostAllowlist
from core.errors import ConfigError
from core.gate import Gate
from core.generation import GenerationService
from core.instance import AlreadyRunning, backup, hold_instance_lock
from core.jobs import JobStore
from core.ledger import Ledger
from core.metrics import Metrics
from core.moderation import ModerationStore
from core.preferences import PreferenceStore
from core.pricing import PriceList
from core.privacy import Privacy
from core.prompt_filter import SafetyLists
from core.quotes import QuoteStore
from core.references import ImageWork, ReferenceImages
from core.retention import DAY, sweep_blobs
from core.screening.worker import ScreeningWorker
from core.segmind import SegmindClient, SegmindTimeouts
from core.services import Services
from core.styles import StyleStore
from core.version import __version__

log = logging.getLogger("bot")


def setup_logging(settings: Settings) -> None:
    logs.setup_logging(
        settings.log_level,
        [settings.discord_token.get_secret_value(), settings.segmind_api_key.get_secret_value()],
    )


class ImageBot(commands.Bot):
    def __init__(
        self, services: Services, *, force_sync: bool = False, http_trace: aiohttp.TraceConfig | None = None,
        process: str = "bot", **sharding: object,
    ) -> None:
        intents = discord.Intents.default()
        # No message events: the bot reads none, and every edit of its own messages would come back
        # as MESSAGE_UPDATE for discord.py to parse (a tenth of its CPU under load).
        intents.messages = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            # Installed to servers only (never to a user account), and used only inside servers.
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
            http_trace=http_trace,
            **sharding,
        )
        self.services = services
        self.process = process  # PROCESS_NAME (default host:pid), in the ready line
        # run() hands in the shared leases on PostgreSQL; alone on SQLite this process runs every chore.
        self.chores = Chores(services.db, process, shared=False)
        self._announced = False
        self._force_sync = force_sync
        self.stopped = asyncio.Event()  # set by close(): a login retry stops waiting
        self.mod_log = ModLog(self, services.moderation, services.credit_rules)
        self.owner_alerts = OwnerAlerts(self, services.settings.owner_ids)
        self.privacy = Privacy(services.db, services.blobs)
        self.undeliverable_notices = UndeliverableNotices(self, self.owner_alerts)
        subscribe_listeners(services.events, self.mod_log, self.owner_alerts)

    async def setup_hook(self) -> None:
        error_handler.install(self.tree)
        review = Review(self, self.services, self.mod_log)
        generate = GenerateCog(self, self.services, review)
        credits_admin = CreditsAdminCog(self, self.services)
        await self.add_cog(generate)
        await self.add_cog(CreditsCog(self, self.services))
        await self.add_cog(credits_admin)
        await self.add_cog(ModerationCog(self, self.services, review))
        config = ConfigCog(self, self.services)
        await self.add_cog(config)
        owner_guild = self.services.settings.owner_guild_id
        if owner_guild is not None:
            await self.add_cog(OwnerCog(self, self.services), guild=discord.Object(owner_guild))
        else:
            log.info("OWNER_GUILD_ID is not set: /owner is not registered")
        await self.add_cog(PrivacyCog(self, self.services, self.privacy))
        members = MembersCog(self, self.services, config.app_command)
        await self.add_cog(members)
        ResultButton.on_click = generate.on_result_button
        HistoryButton.pages = credits_admin.history_page
        ModButton.review = review
        CancelButton.on_click = members.cancel
        InfoButton.on_click = members.info
        MinePage.on_click = members.older
        QuoteButton.cog = generate
        self.add_dynamic_items(ResultButton, HistoryButton, ModButton, QuoteButton, CancelButton, InfoButton, MinePage)
        presenter = DiscordPresenter(self, token_seconds=self.services.settings.interaction_token_seconds)
        self.services.generation.presenter = ReviewingPresenter(presenter, review)
        if await self.chores.hold("command-sync", 60):  # one process syncs when several start together
            await self.sync_commands_if_changed()
        await self.services.generation.resume()
        self._account_task = asyncio.create_task(
            self.chores.while_held("account-poll", self._watch_account), name="segmind-account"
        )
        self._retention = tasks.loop(seconds=self.chores.tick(DAY))(self._sweep_stored_images)
        self._retention.start()
        startup.freeze_heap()

    async def _sweep_stored_images(self) -> None:
        """Now and once a day (discord.ext.tasks): stored images past RESULT_RETENTION_DAYS that nothing
        needs, prompts and user ids past PROMPT_RETENTION_DAYS, servers left more than
        GUILD_DATA_GRACE_DAYS ago."""
        services = self.services
        settings = services.settings
        if not await self.chores.claim_due("retention", DAY):
            return  # another process sweeps today
        try:
            if settings.result_retention_days > 0:
                await sweep_blobs(
                    blobs=services.blobs, jobs=services.jobs, moderation=services.moderation,
                    keep_days=settings.result_retention_days, now=time.time(),
                )
        except Exception:  # a failed sweep must not stop the loop; the next one tries again
            log.exception("removing old stored images failed")
        try:
            await self.privacy.sweep(
                now=time.time(), prompt_days=settings.prompt_retention_days,
                grace_days=settings.guild_data_grace_days,
            )
        except Exception:
            log.exception("the privacy sweep failed")

    async def _watch_account(self) -> None:
        """Read the Segmind account balance now and then (it also arrives with v1 answers)."""
        if self.services.generation.account is not None:
            await self.services.generation.account.watch()

    async def sync_commands_if_changed(self) -> None:
        """Sync only when the command definitions changed (or when asked), not blindly on every start."""
        mode = "always" if self._force_sync else self.services.settings.sync_commands
        if mode == "never":
            return
        owner_guild = self.services.settings.owner_guild_id
        scopes = [None] + ([discord.Object(owner_guild)] if owner_guild is not None else [])
        translator = self.tree.translator  # the payload as sent: a changed translation is a change too
        payload = [
            [str(scope and scope.id), await command.get_translated_payload(self.tree, translator)
             if translator is not None else command.to_dict(self.tree)]
            for scope in scopes
            for command in self.tree.get_commands(guild=scope)
        ]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        if mode == "auto" and await self.services.db.get_meta("commands_hash") == digest:
            log.info("slash commands unchanged; not syncing")
            return
        synced = list(await self.tree.sync())
        complete = True
        for scope in scopes[1:]:
            try:
                synced += await self.tree.sync(guild=scope)
            except discord.Forbidden as exc:
                # The bot is not in that server (or may not add commands there): everything else works.
                complete = False
                log.warning(
                    "OWNER_GUILD_ID %d: Discord refused the /owner commands there (%s); invite the bot to that"
                    " server or correct OWNER_GUILD_ID. /owner is not available until then.", scope.id, exc.text
                )
        if complete:  # an incomplete sync is tried again at the next start
            await self.services.db.set_meta("commands_hash", digest)
        log.info("synced %d application commands", len(synced))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))
        if not self._announced:  # once all of this process's shards are READY (what tests.scale waits for)
            self._announced = True
            log.info("ready shards=%s process=%s", shards.shown(sharding.shard_ids(self.services.settings)), self.process)

    async def close(self) -> None:
        self.stopped.set()
        task = getattr(self, "_account_task", None)
        if task is not None:
            task.cancel()
        retention = getattr(self, "_retention", None)
        if retention is not None:
            retention.cancel()
        await self.services.generation.close()
        await self.services.events.drain()
        await super().close()


class ShardedImageBot(sharding.ShardedIdentify, ImageBot, commands.AutoShardedBot):
    """The bot over a shard range (SHARD_COUNT / SHARD_IDS); IDENTIFY waits for the database's slots."""


def subscribe(bus: ev.EventBus, listener: object, *events: type) -> None:
    """Subscribe `listener.on_<event in snake case>` to each event (JobPosted: on_job_posted); a
    listener without that method fails the start, not the first such event."""
    for event in events:
        bus.subscribe(event, getattr(listener, "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", event.__name__).lower()))


def subscribe_listeners(bus: ev.EventBus, mod_log: ModLog, alerts: OwnerAlerts) -> None:
    """Who hears what: every listener of the event bus is registered here, and only here."""
    subscribe(
        bus, mod_log, ev.JobPosted, ev.JobFailed, ev.GuildBalanceLow, ev.RequestDenied, ev.RequestRefused,
        ev.CreditsGranted, ev.CreditsRefunded, ev.AllowanceChanged, ev.CreditSettingsChanged, ev.ResultDeleted,
        ev.ModeratorAction,
    )
    subscribe(
        bus, alerts, ev.ProviderBalanceLow, ev.ProviderKeyRefused, ev.ProviderKeyAccepted, ev.ProviderOutOfCredit,
        ev.ProviderCreditRestored,
    )


def subscribe_operations(bus: ev.EventBus, metrics: Metrics, undeliverable: UndeliverableNotices) -> None:
    """The operator's listeners (metrics, undeliverable images), beside subscribe_listeners."""
    subscribe(bus, undeliverable, ev.JobUndeliverable)
    subscribe(bus, metrics, ev.JobPosted, ev.JobFailed, ev.CreditsRefunded, ev.JobUndeliverable)


async def start_health(bot: ImageBot, services: Services, metrics: Metrics) -> HealthServer | None:
    """/healthz and /metrics on HEALTH_ADDR, up before the login so a prober sees the start too."""
    if not services.settings.health_addr:
        return None
    health = HealthServer(bot, services.db, services.generation.scheduler, metrics, GatewayWatch(bot, metrics))
    await health.start(services.settings.health_addr)
    return health


async def run(settings: Settings, *, force_sync: bool = False, safety: SafetyLists | None = None) -> None:
    url = settings.database_url.get_secret_value() if settings.database_url is not None else None
    db = await startup.open_database(settings.database_path, url, sharding.shard_ids(settings), settings.shard_count)
    prices = PriceList.load(settings.prices_path)
    limiter = sharding.rate_limiter(settings, db)  # shared by every process on PostgreSQL with shard ranges
    # The limiter counts each billed request from the moment its answer arrived (see core/ratelimit.py).
    blobs = startup.open_blobs(settings.blobs, sharding.partial_area(settings))
    metrics = Metrics()
    segmind_trace = metrics.segmind_trace(settings.segmind_base_url, settings.segmind_upload_url)
    async with aiohttp.ClientSession(trace_configs=[limiter.trace_config(), segmind_trace]) as session:
        client = SegmindClient(
            session,
            api_key=settings.segmind_api_key.get_secret_value(),
            sink=blobs,
            base_url=settings.segmind_base_url,
            upload_url=settings.segmind_upload_url,
            mode=settings.segmind_mode,
            limiter=limiter,
            timeouts=SegmindTimeouts(),
            max_image_bytes=settings.max_result_image_bytes,
            max_attempts=settings.segmind_max_attempts,
            poll_interval=settings.segmind_poll_interval,
            backoff_base=settings.segmind_backoff_base,
            download_hosts=settings.download_allowed_hosts,
        )
        downloads = Downloader(
            session,
            HostAllowlist([*DISCORD_ATTACHMENT_HOSTS, *settings.download_allowed_hosts]),
            max_bytes=settings.max_input_image_bytes,
            timeout=settings.download_timeout,
        )
        jobs = JobStore(db)
        ledger = Ledger(db, starting_credits=settings.starting_credits)
        events = ev.EventBus()
        account = AccountWatch(
            low_threshold_usd=settings.segmind_low_balance_usd,
            fetch=client.account_credits,
            refresh_seconds=settings.segmind_balance_check_seconds,
            outage_refresh_seconds=settings.segmind_outage_check_seconds,
            events=events,
            meta=db,
        )
        await account.restore()
        generation = GenerationService(
            db=db,
            jobs=jobs,
            ledger=ledger,
            blobs=blobs,
            prices=prices,
            client=client,
            global_limit=settings.max_concurrent_jobs,
            per_guild_limit=settings.max_concurrent_jobs_per_guild,
            queue_limit_per_guild=settings.max_queued_jobs_per_guild,
            progress_interval=settings.progress_interval,
            events=events,
        )
        generation.references = ReferenceImages(
            blobs,
            work=ImageWork(at_once=settings.image_work_at_once, timeout=settings.image_check_timeout),
            downloads_at_once=settings.attachment_downloads_at_once,
            uploads_at_once=settings.reference_uploads_at_once,
        )
        invalidations = await sharding.invalidations(settings)  # other processes' policy changes
        moderation = ModerationStore(db, invalidations)
        screening = ScreeningWorker(settings.safety_terms_path)  # prompts read off the loop (started below)
        gate = Gate(moderation, jobs, ledger, safety or SafetyLists.load(settings.safety_terms_path), screening)
        gate.listeners.append(lambda facts, decision: events.publish(ev.RequestDenied(facts, decision)))
        credit_rules = CreditRules(db, invalidations)
        generation.credit_rules = credit_rules
        generation.account = account
        admission = Admission(gate=gate, ledger=ledger, credit_rules=credit_rules, prices=prices)
        services = Services(
            settings, db, ledger, jobs, blobs, prices, generation, moderation, gate, credit_rules, admission,
            downloads=downloads, events=events, styles=StyleStore(db), preferences=PreferenceStore(db, invalidations),
            quotes=QuoteStore(db),
        )
        name = sharding.process_name(settings)
        cls, shard_options = (ImageBot, {}) if settings.shard_count is None else (ShardedImageBot, sharding.shard_options(settings))
        bot = cls(
            services, force_sync=force_sync, http_trace=metrics.discord_trace(), process=name,
            connector=patches.discord_connector(), **shard_options,
        )
        if sharding.shared(settings):  # chores, jobs and the queue shared with the other processes
            bot.chores = sharding.share(settings, db, generation, limiter, name)
        subscribe_operations(events, metrics, bot.undeliverable_notices)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
        health = None
        try:
            await screening.start()
            health = await start_health(bot, services, metrics)
            async with bot:
                await startup.login(
                    bot, settings.discord_token.get_secret_value(), api_base=settings.discord_api_base,
                    attempts=settings.startup_attempts, backoff=settings.startup_backoff_seconds,
                    stopped=bot.stopped,
                )
                await startup.connect(bot, bot.stopped)
        finally:
            if health is not None:
                await health.close()
            await invalidations.close()
            await screening.close()
            await db.close()


def database_shown(settings: Settings) -> str:
    if settings.database_url is None:
        return str(settings.database_path)
    url = settings.database_url.get_secret_value()
    return url.split("://", 1)[0] + "://" + url.rsplit("@", 1)[-1]  # never the user's password


def main(argv: list[str]) -> int:
    if "--version" in argv:
        print(f"flux-bot {__version__}")
        return 0
    try:
        settings = load_settings()
        PriceList.load(settings.prices_path)
        try:
            safety = SafetyLists.load(settings.safety_terms_path)  # checked here, used by run()
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(["SAFETY_TERMS_PATH"], f"cannot read {settings.safety_terms_path}: {exc}") from None
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    if argv[:1] == ["backup"]:
        if len(argv) != 2:
            print("Usage: python bot.py backup DIR", file=sys.stderr)
            return 2
        try:
            print(asyncio.run(backup(settings, Path(argv[1]))))
        except (ConfigError, OSError) as exc:
            print(f"Backup failed: {exc}", file=sys.stderr)
            return 1
        return 0
    try:
        # On PostgreSQL the lock is an advisory lock the database holds (cogs/ui/startup.py).
        instance_lock = hold_instance_lock(settings.database_path) if settings.database_url is None else None
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        # Taking the lock is the first write beside the database: the same failure as opening it.
        print(
            f"cannot open the database {settings.database_path} ({exc.strerror or exc}): make DATABASE_PATH"
            " point to a file in a directory the bot's user can write",
            file=sys.stderr,
        )
        return startup.EXIT_CONFIG
    setup_logging(settings)
    # A REST / gateway proxy (or a local fake) instead of discord.com when configured.
    gateway = None if settings.discord_gateway_url == DEFAULT_GATEWAY_URL else settings.discord_gateway_url
    patches.apply(api_base=settings.discord_api_base, gateway_url=gateway)
    log.info("flux-bot %s starting (database %s)", __version__, database_shown(settings))
    try:
        asyncio.run(run(settings, force_sync="--sync" in argv, safety=safety))
    except startup.StartupFailure as exc:
        log.error("%s", exc)
        return exc.exit_code
    finally:
        if instance_lock is not None:
            instance_lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
