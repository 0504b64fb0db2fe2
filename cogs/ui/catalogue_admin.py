"""Translations of the admin, moderator, owner and privacy commands' descriptions and word choices,
keyed by the English text, in catalogue.LOCALES' order (Discord allows 100 characters each); the entries
are data (cogs/ui/translations/admin.json)."""

from __future__ import annotations

from cogs.ui.translations import table

ADMIN = table("admin")  # cogs/ui/translations/admin.json
