"""Server styles: named prompt templates an admin defines and members pick with `/imagine style:`.

Owner of the `guild_styles` table. A template holds `{prompt}` where the member's prompt goes;
the expansion is plain text substitution (never `str.format`, which would read other braces in
a template or a prompt as fields).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.db import Database
from core.errors import InvalidRequest

PLACEHOLDER = "{prompt}"
NAME = re.compile(r"^[\w][\w .-]{0,31}$")
TEMPLATE_MAX_CHARS = 1000
STYLES_PER_GUILD = 25  # Discord shows at most 25 autocomplete choices


@dataclass(frozen=True)
class Style:
    name: str
    template: str

    def apply(self, prompt: str) -> str:
        return self.template.replace(PLACEHOLDER, prompt)


def check_style(name: str, template: str) -> Style:
    """The style, or InvalidRequest naming what is wrong with it."""
    name = " ".join(name.split()).lower()
    if not NAME.match(name):
        raise InvalidRequest("name", "must be 1-32 letters, digits, spaces, dots, dashes or underscores")
    if PLACEHOLDER not in template:
        raise InvalidRequest("prompt_template", "must contain {prompt}, where the member's prompt goes")
    if len(template) > TEMPLATE_MAX_CHARS:
        raise InvalidRequest("prompt_template", f"is longer than {TEMPLATE_MAX_CHARS} characters")
    return Style(name, template)


class StyleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, guild_id: int, style: Style, *, by: int) -> None:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) AS n, SUM(CASE WHEN name = ? THEN 1 ELSE 0 END) AS same FROM guild_styles WHERE guild_id = ?",
                (style.name, guild_id),
            )
            if row["n"] >= STYLES_PER_GUILD and not row["same"]:
                raise InvalidRequest("name", f"is one style too many: a server has at most {STYLES_PER_GUILD}")
            await tx.execute(
                "INSERT INTO guild_styles (guild_id, name, template, created_by, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id, name) DO UPDATE SET template = excluded.template,"
                " created_by = excluded.created_by",
                (guild_id, style.name, style.template, by, tx.now),
            )

    async def remove(self, guild_id: int, name: str) -> bool:
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM guild_styles WHERE guild_id = ? AND name = ?", (guild_id, " ".join(name.split()).lower())
            )
            return cursor.rowcount == 1

    async def get(self, guild_id: int, name: str) -> Style:
        """The style called `name`, or InvalidRequest (the server has none by that name)."""
        row = await self._db.fetchone(
            "SELECT name, template FROM guild_styles WHERE guild_id = ? AND name = ?",
            (guild_id, " ".join(name.split()).lower()),
        )
        if row is None:
            raise InvalidRequest("style", "is not one of this server's styles (see /config style list)")
        return Style(row["name"], row["template"])

    async def all(self, guild_id: int) -> list[Style]:
        rows = await self._db.fetchall(
            "SELECT name, template FROM guild_styles WHERE guild_id = ? ORDER BY name LIMIT ?",
            (guild_id, STYLES_PER_GUILD),
        )
        return [Style(r["name"], r["template"]) for r in rows]
