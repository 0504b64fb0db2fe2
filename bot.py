"""Entry point: read settings, build the services, run the bot, close everything on exit.

    python bot.py            run the bot (settings from the environment / .env)
    python bot.py --sync     also force a sync of the slash commands with Discord
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal
import sys
import time

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from cogs import errors as error_handler
from cogs.buttons import ResultButton
from cogs.config import ConfigCog
from cogs.credits import CreditsCog, HistoryButton
from cogs.generate import GenerateCog
from cogs.members import MembersCog
from cogs.moderation import ModButton, ModerationCog, ReviewingPresenter
from cogs.owner import OwnerCog
from cogs.presenter import DiscordPresenter
from cogs.ui.modlog import ModLog
from cogs.ui.owner_alerts import OwnerAlerts
from cogs.ui.quote import QuoteButton
from core import events as ev
from core.account import AccountWatch
from core.admission import Admission
from core.blobs import BlobStore
from core.config import DEFAULT_GATEWAY_URL, Settings, load_settings
from core.credit_rules import CreditRules
from core.db import Database
from core.downloads import DISCORD_ATTACHMENT_HOSTS, Downloader, HostAllowlist
from core.errors import ConfigError
from core.gate import Gate
from core.generation import GenerationService
from core.jobs import JobStore
from core.ledger import Ledger
from core.moderation import ModerationStore
from core.preferences import PreferenceStore
from core.pricing import PriceList
from core.prompt_filter import SafetyLists
from core.quotes import QuoteStore
from core.ratelimit import SlidingWindowLimiter
from core.retention import DAY, sweep_blobs
from core.segmind import SegmindClient, SegmindTimeouts
from core.services import Services
from core.styles import StyleStore

log = logging.getLogger("bot")


class RedactingFormatter(logging.Formatter):
    """Formats log lines with every secret replaced, whatever logged it (tracebacks included)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s",
            [settings.discord_token.get_secret_value(), settings.segmind_api_key.get_secret_value()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())


def point_discord_at(settings: Settings) -> None:
    """Use a REST proxy / gateway proxy (or a local fake) instead of discord.com when configured."""
    discord.http.Route.BASE = settings.discord_api_base
    if settings.discord_gateway_url != DEFAULT_GATEWAY_URL:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class ImageBot(commands.Bot):
    def __init__(self, services: Services, *, force_sync: bool = False) -> None:
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
        )
        self.services = services
        self._force_sync = force_sync
        self.mod_log = ModLog(self, services.moderation, services.credit_rules)
        self.owner_alerts = OwnerAlerts(self, services.settings.owner_ids)
        subscribe_listeners(services.events, self.mod_log, self.owner_alerts)

    async def setup_hook(self) -> None:
        error_handler.install(self.tree)
        await self.add_cog(GenerateCog(self, self.services))
        await self.add_cog(CreditsCog(self, self.services))
        await self.add_cog(ModerationCog(self, self.services, self.mod_log))
        await self.add_cog(ConfigCog(self, self.services))
        owner_guild = self.services.settings.owner_guild_id
        if owner_guild is not None:
            await self.add_cog(OwnerCog(self, self.services), guild=discord.Object(owner_guild))
        else:
            log.info("OWNER_GUILD_ID is not set: /owner is not registered")
        await self.add_cog(MembersCog(self, self.services))
        self.add_dynamic_items(ResultButton, HistoryButton, ModButton, QuoteButton)
        presenter = DiscordPresenter(self, token_seconds=self.services.settings.interaction_token_seconds)
        self.services.generation.presenter = ReviewingPresenter(presenter, self)
        await self.sync_commands_if_changed()
        await self.services.generation.resume()
        self._account_task = asyncio.create_task(self._watch_account(), name="segmind-account")
        self._retention_task = asyncio.create_task(self._sweep_stored_images(), name="blob-retention")

    async def _sweep_stored_images(self) -> None:
        """Remove stored images past RESULT_RETENTION_DAYS that nothing needs, now and once a day."""
        services = self.services
        keep_days = services.settings.result_retention_days
        if keep_days <= 0:
            return
        while True:
            try:
                await sweep_blobs(
                    blobs=services.blobs, jobs=services.jobs, moderation=services.moderation,
                    keep_days=keep_days, now=time.time(),
                )
            except Exception:  # a failed sweep must not stop the bot; the next one tries again
                log.exception("removing old stored images failed")
            await asyncio.sleep(DAY)

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
        payload = [
            [str(scope and scope.id), command.to_dict(self.tree)]
            for scope in scopes
            for command in self.tree.get_commands(guild=scope)
        ]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        if mode == "auto" and await self.services.db.get_meta("commands_hash") == digest:
            log.info("slash commands unchanged; not syncing")
            return
        synced = [command for scope in scopes for command in await self.tree.sync(guild=scope)]
        await self.services.db.set_meta("commands_hash", digest)
        log.info("synced %d application commands", len(synced))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        for name in ("_account_task", "_retention_task"):
            task = getattr(self, name, None)
            if task is not None:
                task.cancel()
        await self.services.generation.close()
        await self.services.events.drain()
        await super().close()


def subscribe_listeners(bus: ev.EventBus, mod_log: ModLog, alerts: OwnerAlerts) -> None:
    """Who hears what: every listener of the event bus is registered here, and only here."""
    bus.subscribe(ev.JobPosted, mod_log.on_job_posted)
    bus.subscribe(ev.JobFailed, mod_log.on_job_failed)
    bus.subscribe(ev.GuildBalanceLow, mod_log.on_guild_balance_low)
    bus.subscribe(ev.RequestDenied, mod_log.on_request_denied)
    bus.subscribe(ev.RequestRefused, mod_log.on_request_refused)
    bus.subscribe(ev.CreditsGranted, mod_log.on_credits_granted)
    bus.subscribe(ev.CreditsRefunded, mod_log.on_credits_refunded)
    bus.subscribe(ev.AllowanceChanged, mod_log.on_allowance_changed)
    bus.subscribe(ev.CreditSettingsChanged, mod_log.on_credit_settings_changed)
    bus.subscribe(ev.ResultDeleted, mod_log.on_result_deleted)
    bus.subscribe(ev.ModeratorAction, mod_log.on_moderator_action)
    bus.subscribe(ev.ProviderBalanceLow, alerts.on_balance_low)
    bus.subscribe(ev.ProviderKeyRefused, alerts.on_key_refused)
    bus.subscribe(ev.ProviderKeyAccepted, alerts.on_key_accepted)
    bus.subscribe(ev.ProviderOutOfCredit, alerts.on_out_of_credit)
    bus.subscribe(ev.ProviderCreditRestored, alerts.on_credit_restored)


async def run(settings: Settings, *, force_sync: bool = False) -> None:
    db = await Database.open(settings.database_path)
    prices = PriceList.load(settings.prices_path)
    limiter = SlidingWindowLimiter(settings.segmind_requests_per_minute, settings.segmind_rate_period_seconds)
    # The limiter counts each billed request from the moment its answer arrived (see core/ratelimit.py).
    blobs = BlobStore(settings.blobs)
    if removed := blobs.clear_partial():
        log.info("removed %d partial result file(s) left by an earlier run", removed)
    async with aiohttp.ClientSession(trace_configs=[limiter.trace_config()]) as session:
        client = SegmindClient(
            session,
            api_key=settings.segmind_api_key.get_secret_value(),
            blobs=blobs,
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
        moderation = ModerationStore(db)
        gate = Gate(moderation, jobs, ledger, SafetyLists.load(settings.safety_terms_path))
        gate.listeners.append(lambda facts, decision: events.publish(ev.RequestDenied(facts, decision)))
        credit_rules = CreditRules(db)
        generation.credit_rules = credit_rules
        generation.account = account
        admission = Admission(gate=gate, ledger=ledger, credit_rules=credit_rules, prices=prices)
        services = Services(
            settings, db, ledger, jobs, blobs, prices, generation, moderation, gate, credit_rules, admission,
            downloads=downloads, events=events, styles=StyleStore(db), preferences=PreferenceStore(db),
            quotes=QuoteStore(db),
        )
        bot = ImageBot(services, force_sync=force_sync)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
        try:
            async with bot:
                await bot.start(settings.discord_token.get_secret_value())
        finally:
            await db.close()


def main(argv: list[str]) -> int:
    try:
        settings = load_settings()
        PriceList.load(settings.prices_path)
        try:
            SafetyLists.load(settings.safety_terms_path)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(["SAFETY_TERMS_PATH"], f"cannot read {settings.safety_terms_path}: {exc}") from None
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings)
    point_discord_at(settings)
    try:
        asyncio.run(run(settings, force_sync="--sync" in argv))
    except discord.LoginFailure:
        log.error("Discord refused DISCORD_TOKEN (login failed)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
