"""Personal defaults (`/settings`): what a member's requests use when they leave an option out.

Owner of the `member_preferences` and `guild_presentation` tables; the latter holds how a
server wants results posted (PNG text metadata, spoilers in age-restricted channels).

`member_preferences`, one row per member and server (a style belongs to a
server, and so does whether private results are allowed). Stored as validated JSON so a new
default is a new field, not a migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from core.db import Database
from core.guild_cache import GuildCache
from core.invalidation import Invalidations
from core.models import ASPECT_RATIOS, ModelId


class Preferences(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    model: ModelId | None = None
    aspect_ratio: str | None = None
    style: str | None = None
    spoiler: bool | None = None
    private: bool | None = None  # results only the member sees, where the server allows it

    def with_changes(self, **changes) -> Preferences:
        """These preferences with the given fields replaced; an empty string clears a field."""
        data = self.model_dump()
        for key, value in changes.items():
            if value is None:
                continue
            data[key] = None if value == "" else value
        if data["aspect_ratio"] is not None and data["aspect_ratio"] not in ASPECT_RATIOS:
            data["aspect_ratio"] = None
        return Preferences.model_validate(data)


@dataclass(frozen=True)
class GuildPresentation:
    png_metadata: bool = True  # prompt, seed and model written into posted PNGs
    spoiler_age_restricted: bool = False  # results in age-restricted channels go behind a spoiler
    private_results: bool = False  # members may ask for results only they see (/settings private)


class PreferenceStore:
    def __init__(self, db: Database, invalidations: Invalidations | None = None) -> None:
        self._db = db
        # Read before every /imagine's acknowledgement, changed by a /config command now and then;
        # other processes' changes arrive through core/invalidation.py.
        self._invalidations = invalidations or Invalidations()
        self._guilds: GuildCache[GuildPresentation] = GuildCache(keep=lambda: self._invalidations.reliable)
        self._invalidations.on("guild_presentation", self._guilds.drop)

    async def get(self, guild_id: int, user_id: int) -> Preferences:
        row = await self._db.fetchone(
            "SELECT prefs FROM member_preferences WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return Preferences() if row is None else Preferences.model_validate_json(row["prefs"])

    async def put(self, guild_id: int, user_id: int, prefs: Preferences) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO member_preferences (guild_id, user_id, prefs, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at",
                (guild_id, user_id, prefs.model_dump_json(), tx.now),
            )

    async def guild(self, guild_id: int) -> GuildPresentation:
        return await self._guilds.get(guild_id, lambda: self._read_guild(guild_id))

    def prefetch_guild(self, guild_id: int) -> None:
        """Start reading the server's settings if they are not in memory."""
        self._guilds.prefetch(guild_id, lambda: self._read_guild(guild_id))

    async def _read_guild(self, guild_id: int) -> GuildPresentation:
        row = await self._db.fetchone(
            "SELECT png_metadata, spoiler_age_restricted, private_results FROM guild_presentation"
            " WHERE guild_id = ?",
            (guild_id,),
        )
        return GuildPresentation() if row is None else _presentation(row)

    async def set_guild(
        self,
        guild_id: int,
        *,
        png_metadata: bool | None = None,
        spoiler_age_restricted: bool | None = None,
        private_results: bool | None = None,
    ) -> GuildPresentation:
        """Change the given settings (None = leave as is); returns them all."""
        values = (png_metadata, spoiler_age_restricted, private_results)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO guild_presentation (guild_id, png_metadata, spoiler_age_restricted, private_results,"
                " updated_at) VALUES (?, COALESCE(?, 1), COALESCE(?, 0), COALESCE(?, 0), ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET png_metadata = COALESCE(?, guild_presentation.png_metadata),"
                " spoiler_age_restricted = COALESCE(?, guild_presentation.spoiler_age_restricted),"
                " private_results = COALESCE(?, guild_presentation.private_results), updated_at = excluded.updated_at"
                " RETURNING png_metadata, spoiler_age_restricted, private_results",
                (guild_id, *values, tx.now, *values),
            )
            await self._invalidations.announce_in(tx, "guild_presentation", str(guild_id))
        self._guilds.forget(guild_id)
        return _presentation(row)


def _presentation(row) -> GuildPresentation:
    return GuildPresentation(
        bool(row["png_metadata"]), bool(row["spoiler_age_restricted"]), bool(row["private_results"])
    )
