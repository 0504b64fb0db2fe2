"""The refusals and failures members meet most, in their language.

English stays cogs/ui/messages.py's `describe_error` (the one place the words are written); this
module gives the translated sentence for the common cases and None for the rest, which then stay
English. Templates are keyed in cogs/ui/catalogue.py by the English templates below.
"""

from __future__ import annotations

from discord import app_commands

from core import errors as e

NOT_CHARGED = "You were not charged."
INSUFFICIENT = "This server does not have enough credits: this image costs {cost} and {balance} are available."
ALLOWANCE_DAY = "Your allowance here is {limit} credits per day; {left} are left today and this image costs {cost}."
ALLOWANCE_MONTH = (
    "Your allowance here is {limit} credits per month; {left} are left this month and this image costs {cost}."
)
QUEUE_FULL = "This server already has {limit} images waiting. Try again when some are done."
COOLDOWN = "Slow down a little: you can generate again in {seconds} s."
RUNNING = "You already have {limit} images in progress. Wait for one to finish."
DAILY_JOBS = "You have reached this server's limit of {limit} images per day."
DAILY_CREDITS = "You have reached this server's limit of {limit} credits per day."
SAFETY_FILTER = "That prompt is not allowed: it matches the bot's safety filter."
CHANNEL = "Images can't be generated in this channel."
BLOCKED = "A moderator has blocked you from generating images in this server."
MODERATED = "The image was blocked by the provider's safety filter."
BUSY = "The image service is too busy right now. Please try again in a minute."
TROUBLE = "The image service is having trouble right now. Please try again later."
SERVER_ONLY = "This command only works in a server, not in direct messages."

_POLICY = {
    "cooldown": COOLDOWN,
    "running": RUNNING,
    "daily_jobs": DAILY_JOBS,
    "daily_credits": DAILY_CREDITS,
    "safety_filter": SAFETY_FILTER,
    "channel": CHANNEL,
    "blocked_member": BLOCKED,
}


def template_of(error: BaseException) -> tuple[str, dict[str, object], bool] | None:
    """(English template, its fields, whether "not charged" follows) for a translated case, else None."""
    match error:
        case e.InsufficientCredits(balance=balance, cost=cost):
            return INSUFFICIENT, {"cost": cost, "balance": balance}, True
        case e.AllowanceExceeded(period=period, limit=limit, used=used, cost=cost):
            template = ALLOWANCE_DAY if period == "day" else ALLOWANCE_MONTH
            return template, {"limit": limit, "left": max(0, limit - used), "cost": cost}, True
        case e.QueueFull(limit=limit):
            return QUEUE_FULL, {"limit": limit}, True
        case e.PolicyDenied(reason=reason, data=data) if reason in _POLICY:
            return _POLICY[reason], {"seconds": data.get("seconds", 1), "limit": data.get("limit")}, True
        case e.ProviderModerated():
            return MODERATED, {}, True
        case e.ProviderRateLimited():
            return BUSY, {}, True
        case e.ProviderError() if type(error) in (e.ProviderError, e.ProviderUnavailable):
            return TROUBLE, {}, True
        case app_commands.NoPrivateMessage():
            return SERVER_ONLY, {}, False
    return None


def localised_error(error: BaseException, locale) -> str | None:
    """`error` in `locale`, or None when that locale or that case has no translation (use English)."""
    from cogs.ui.i18n import lookup

    found = template_of(error)
    if found is None:
        return None
    template, fields, not_charged = found
    translated = lookup(template, locale)
    if translated is None:
        return None
    text = translated.format(**{k: v for k, v in fields.items() if "{" + k + "}" in template})
    return f"{text} {lookup(NOT_CHARGED, locale)}" if not_charged else text
