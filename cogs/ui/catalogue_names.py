"""Localised command, group and option names, keyed by the English name, in catalogue.LOCALES' order.

Discord shows these to members whose client speaks that language; the English names keep working
as typed, so admins' guides that cite `/imagine` or `/credits-admin grant` stay right. Each name follows
Discord's rule for slash-command names (lowercase letters and digits of any script, `-`, `_`,
at most 32) and no two commands or options side by side share one (tests/e2e/test_localised_names_e2e.py).
The context menu's name ("Edit with FLUX") may hold spaces and capitals, as Discord allows there.
The entries are data: cogs/ui/translations/names.json.
"""

from __future__ import annotations

from cogs.ui.translations import table

NAMES = table("names")  # cogs/ui/translations/names.json
