"""Translations of a batch's message (cogs/ui/batch_texts.py), keyed by its English text, in the order of
catalogue.LOCALES; the entries are data (cogs/ui/translations/batch.json). tests/test_i18n.py fails when a
text of batch_texts has none, e.g. after its English changed."""

from __future__ import annotations

from cogs.ui.translations import table

BATCH = table("batch")  # cogs/ui/translations/batch.json
