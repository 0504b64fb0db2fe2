"""Settings from the environment and a `.env` file (pydantic-settings).

Read once, in `bot.py`, and passed in; nothing reads settings at import time. Secrets are
`SecretStr`, so they never show in a repr, a log line or an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# The shipped price file, found wherever the bot is started from.
DEFAULT_PRICES_PATH = Path(__file__).resolve().parents[1] / "data" / "prices.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr = Field(min_length=1)
    segmind_api_key: SecretStr = Field(min_length=1)

    database_path: Path = Path("data/bot.db")
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
    # Hosts the bot may download from besides Discord's CDN and Segmind's result storage
    # (comma-separated; "*.example.com" allows subdomains), e.g. a CDN proxy.
    download_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    download_timeout: float = Field(default=60.0, gt=0)
    max_result_image_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    progress_interval: float = Field(default=5.0, gt=0)
    # Stored images older than this are removed once a day unless still needed (core/retention.py);
    # 0 keeps every image forever.
    result_retention_days: float = Field(default=90.0, ge=0)
    # Discord invalidates interaction tokens after 15 minutes; stop using one a little earlier.
    interaction_token_seconds: float = Field(default=14 * 60, gt=0)
    sync_commands: Literal["auto", "always", "never"] = "auto"
    log_level: str = "INFO"

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
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        names: list[str] = []
        details: list[str] = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "SETTINGS"
            if name not in names:
                names.append(name)
                details.append("missing" if err["type"] == "missing" else err["msg"].removeprefix("Value error, "))
        if all(d == "missing" for d in details):
            raise ConfigError(names, "missing (set it in the environment or in .env)") from None
        raise ConfigError(names, "; ".join(f"{n} {d}" for n, d in zip(names, details, strict=True))) from None
