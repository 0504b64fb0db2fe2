"""Settings from the environment and a `.env` file (pydantic-settings).

Read once, in `bot.py`, and passed in; nothing reads settings at import time. Secrets are
`SecretStr`, so they never show in a repr, a log line or an error.

Paths do not depend on the working directory (systemd and cron start the bot from elsewhere):
`.env` is read from the directory holding bot.py (ENV_FILE names another file, "" reads none), and
every relative path setting (DATABASE_PATH, BLOB_DIR, PRICES_PATH, SAFETY_TERMS_PATH) is taken
relative to that same directory. Variables in the environment win over `.env`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# The directory holding bot.py: `.env` and every relative path are found from here.
BASE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PRICES_PATH = BASE_DIR / "data" / "prices.json"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRETS = ("discord_token", "segmind_api_key")


def env_file() -> Path | None:
    """The `.env` to read: ENV_FILE if set ("" for none), else the one beside bot.py."""
    override = os.environ.get("ENV_FILE")
    if override is None:
        return BASE_DIR / ".env"
    return Path(override) if override else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr = Field(min_length=1)
    segmind_api_key: SecretStr = Field(min_length=1)

    database_path: Path = Path("data/bot.db")
    # PostgreSQL instead of the SQLite file (postgresql://user:password@host/db): for a bot that
    # outgrows one process. A secret: it may carry the password.
    database_url: SecretStr | None = None
    # Several processes over shard ranges (core/shards.py): the bot's number of shards in all, and the
    # ones this process runs ("0-3", "0,2,5"; unset: all of them). Unset SHARD_COUNT: no sharding.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    # A process's claim on a job lasts this long unless renewed; then another process takes it over.
    job_lease_seconds: float = Field(default=30.0, gt=0)
    # This process in log lines and job leases (default: host:pid).
    process_name: str = ""
    # Where paid results and reference images are kept until they are no longer needed.
    blob_dir: Path | None = None
    prices_path: Path = DEFAULT_PRICES_PATH
    safety_terms_path: Path = DEFAULT_PRICES_PATH.parent / "safety_terms.json"

    segmind_base_url: str = "https://api.segmind.com"
    segmind_upload_url: str = "https://workflows-api.segmind.com/upload-asset"
    segmind_mode: Literal["queue", "sync"] = "queue"
    segmind_requests_per_minute: int = Field(default=50, ge=0)
    # The length of the key's rate-limit window (Segmind: a minute). Shorter only to test faster.
    segmind_rate_period_seconds: float = Field(default=60.0, gt=0)
    segmind_poll_interval: float = Field(default=1.0, gt=0)
    segmind_max_attempts: int = Field(default=4, ge=1, le=10)
    segmind_backoff_base: float = Field(default=1.0, ge=0)

    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = DEFAULT_GATEWAY_URL

    owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # The server where the owners use /owner: it is registered there only (unset: not registered at all),
    # so no other server's admins ever see it in their command list.
    owner_guild_id: int | None = Field(default=None, gt=0)
    guild_admins_can_grant: bool = False
    starting_credits: int = Field(default=0, ge=0)
    # Tell the owners when the Segmind account balance falls below this many US dollars.
    segmind_low_balance_usd: float = Field(default=5.0, ge=0)
    segmind_balance_check_seconds: float = Field(default=600.0, gt=0)
    # While the account is out of credit (after a 406) new jobs wait on a positive read: read sooner.
    segmind_outage_check_seconds: float = Field(default=60.0, gt=0)

    # Jobs at Segmind at once. Every one has already been admitted by the rate limiter, so this
    # only needs to cover rate x model time (50/min x 26 s for Pro = 22) to use the whole rate.
    max_concurrent_jobs: int = Field(default=32, ge=1)
    max_concurrent_jobs_per_guild: int = Field(default=2, ge=1)
    max_queued_jobs_per_guild: int = Field(default=50, ge=1)
    max_input_image_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Reference images (core/references.py): Pillow calls (checks, downscaling) at once and how
    # long a check may take before the attachment is refused; attachment downloads and reference
    # uploads at once. Memory grows with the first only (a decoded image each), never with jobs.
    image_work_at_once: int = Field(default=2, ge=1)
    image_check_timeout: float = Field(default=15.0, gt=0)
    attachment_downloads_at_once: int = Field(default=4, ge=1)
    reference_uploads_at_once: int = Field(default=4, ge=1)
    # Hosts the bot may download from besides Discord's CDN and Segmind's result storage
    # (comma-separated; "*.example.com" allows subdomains), e.g. a CDN proxy.
    download_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    download_timeout: float = Field(default=60.0, gt=0)
    max_result_image_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    progress_interval: float = Field(default=5.0, gt=0)
    # Stored images older than this are removed once a day unless still needed (core/retention.py);
    # 0 keeps every image forever.
    result_retention_days: float = Field(default=90.0, ge=0)
    # Prompts and requester ids of finished jobs are erased after this many days (core/privacy.py);
    # the ledger keeps its amounts with the user id erased. 0 keeps them forever.
    prompt_retention_days: float = Field(default=90.0, ge=0)
    # After the bot leaves a server its data waits this long (a rejoin cancels it), then is removed.
    guild_data_grace_days: float = Field(default=30.0, ge=0)
    # Discord invalidates interaction tokens after 15 minutes; stop using one a little earlier.
    interaction_token_seconds: float = Field(default=14 * 60, gt=0)
    sync_commands: Literal["auto", "always", "never"] = "auto"
    log_level: str = "INFO"
    # A start-up that cannot reach Discord (DNS, TLS, refused connection) is retried this many times
    # in all, waiting 2, 4, 8 … (at most 60) seconds between tries; 0 retries until stopped.
    startup_attempts: int = Field(default=6, ge=0)
    startup_backoff_seconds: float = Field(default=2.0, ge=0)
    # host:port for /healthz and /metrics (e.g. 127.0.0.1:8080); empty serves nothing.
    health_addr: str = ""

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (leave it unset to use DATABASE_PATH's SQLite file)")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            from core.shards import parse_shard_ids

            return parse_shard_ids(value) if value.strip() else None
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shards_in_range(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        from core.shards import check_shard_ids

        check_shard_ids(value, info.data.get("shard_count"), postgres=info.data.get("database_url") is not None)
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("health_addr")
    @classmethod
    def _addr(cls, value: str) -> str:
        value = value.strip()
        if value:
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("must be host:port, e.g. 127.0.0.1:8080")
        return value

    @model_validator(mode="after")
    def _anchor_paths(self) -> Settings:
        for name in ("database_path", "blob_dir", "prices_path", "safety_terms_path"):
            path = getattr(self, name)
            if path is not None and str(path) != ":memory:" and not path.is_absolute():
                setattr(self, name, BASE_DIR / path)
        return self

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be comma-separated numeric user ids") from None
        return value

    @field_validator("download_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
            if any("/" in h or " " in h for h in hosts):
                raise ValueError("must be comma-separated host names, not URLs")
            return hosts
        return value

    @field_validator("segmind_base_url", "discord_api_base", "segmind_upload_url", "discord_gateway_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be an http(s) or ws(s) URL")
        return value.rstrip("/") if value.startswith("http") else value

    @property
    def blobs(self) -> Path:
        return self.blob_dir or self.database_path.parent / "blobs"


def load_settings(**overrides: object) -> Settings:
    """Build the settings or raise ConfigError naming every missing or invalid setting."""
    source = env_file()
    if source is not None and os.environ.get("ENV_FILE") and not source.is_file():
        raise ConfigError(["ENV_FILE"], f"{source} is not a readable file (or set ENV_FILE= to read none)")
    try:
        return Settings(_env_file=source if source is not None and source.is_file() else None, **overrides)
    except ValidationError as exc:
        names: list[str] = []
        details: list[str] = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "settings"
            name = field.upper()
            if name not in names:
                names.append(name)
                details.append(_describe(field, err))
        if all(d == "missing" for d in details):
            raise ConfigError(names, "missing (set it in the environment or in .env)") from None
        if all(d == "is empty" for d in details):
            raise ConfigError(names, "is empty (put the value after the = in .env, or set it in the environment)") from None
        raise ConfigError(names, "; ".join(f"{n} {d}" for n, d in zip(names, details, strict=True))) from None


def _describe(field: str, err: object) -> str:
    kind = err["type"]  # type: ignore[index]
    if kind == "missing":
        return "missing"
    if field in SECRETS and kind in ("string_too_short", "too_short"):
        return "is empty"  # a .env copied unchanged from .env.example
    return str(err["msg"]).removeprefix("Value error, ")  # type: ignore[index]
