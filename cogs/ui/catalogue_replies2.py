"""Translations of the credits replies (cogs/ui/messages.py's templates), of /credits-admin's,
/settings', /queue's, /mine's, Info's, the Edit modal's and the result buttons' words
(cogs/ui/reply_texts.py), keyed by the English text, in catalogue.LOCALES' order; the entries are data
(cogs/ui/translations/replies2.json)."""

from __future__ import annotations

from cogs.ui.translations import table

REPLIES2 = table("replies2")  # cogs/ui/translations/replies2.json
