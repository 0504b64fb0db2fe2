"""The words of a quote's card (cogs/ui/quote.py); the answers are cogs/ui/messages.py's QUOTE_*."""

from __future__ import annotations

TITLE = "{model}: {price} credits"
NOTHING_RESERVED = "Nothing is reserved until you confirm."
SERVER_BALANCE = "Server balance"
AVAILABLE = "{credits} credits available"
ALLOWANCE_TODAY = "Your allowance today"
ALLOWANCE_MONTH = "Your allowance this month"
LEFT = "{credits} credits left"
ON_KLEIN = "On FLUX.2 Klein 9B"
CREDITS = "{credits} credits"
CONFIRM = "Confirm"
USE_KLEIN = "Use Klein instead"
CANCEL = "Cancel"
