"""Translations of /config: its confirmations (cogs/ui/reply_texts.py) and /config show's card
(cogs/ui/config_texts.py, with core/safety.py's tolerance labels), keyed by the English text, in
catalogue.LOCALES' order; the entries are data (cogs/ui/translations/config.json)."""

from __future__ import annotations

from cogs.ui.translations import table

CONFIG = table("config")  # cogs/ui/translations/config.json
