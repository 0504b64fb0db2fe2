"""The core services, built once in bot.py and handed to the cogs (no module-level singletons)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.admission import Admission
from core.blobs import BlobStore
from core.config import Settings
from core.credit_rules import CreditRules
from core.db import Database
from core.downloads import Downloader
from core.events import EventBus
from core.gate import Gate
from core.generation import GenerationService
from core.jobs import JobStore
from core.ledger import Ledger
from core.moderation import ModerationStore
from core.preferences import PreferenceStore
from core.pricing import PriceList
from core.quotes import QuoteStore
from core.styles import StyleStore


@dataclass
class Services:
    settings: Settings
    db: Database
    ledger: Ledger
    jobs: JobStore
    blobs: BlobStore
    prices: PriceList
    generation: GenerationService
    moderation: ModerationStore
    gate: Gate
    credit_rules: CreditRules
    # Every request goes through this before anything is shown or charged (the gate is its policy step).
    admission: Admission
    # Attachments are fetched only through this: Discord's CDN hosts, capped, timed.
    downloads: Downloader | None = None
    # What happened (jobs, grants, settings, moderator actions); bot.py subscribes the mod log and owner alerts.
    events: EventBus = field(default_factory=EventBus)
    # Server styles and members' personal defaults (/config style, /settings).
    styles: StyleStore | None = None
    preferences: PreferenceStore | None = None
    # Quotes waiting for an answer, stored so their buttons work after a restart.
    quotes: QuoteStore | None = None
