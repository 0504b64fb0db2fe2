"""Every sentence a user reads, in one place (so wording stays consistent and translation is cheap)."""

from __future__ import annotations

import re

import discord
from discord import app_commands

from core import errors as e

NOT_CHARGED = "You were not charged."


def describe_error(error: BaseException) -> str:
    """The ephemeral text for an error; unknown errors get a generic line (details go to the log)."""
    match error:
        case e.InsufficientCredits(balance=balance, cost=cost):
            return (
                f"This server does not have enough credits: this image costs **{cost}** and the balance "
                f"available is **{balance}**. Ask an admin to add credits. {NOT_CHARGED}"
            )
        case e.InvalidAttachment(filename=filename, reason=reason):
            return f"The file `{safe_name(filename)}` {reason}. Use a PNG, JPEG or WebP image. {NOT_CHARGED}"
        case e.AllowanceExceeded(period=period, limit=limit, used=used, cost=cost):
            left = max(0, limit - used)
            when = "today" if period == "day" else "this month"
            return (
                f"Your allowance in this server is {limit} credits per {period}; you have {left} left {when} "
                f"and this image costs {cost}. {NOT_CHARGED}"
            )
        case e.NotRefundable(job_id=job_id, why=why):
            if why == "already_refunded":
                return f"Job {job_id} has already been refunded."
            return f"Job {job_id} was never charged in this server, so there is nothing to refund."
        case e.PolicyDenied(reason=reason, data=data):
            return f"{policy_denial(reason, data)} {NOT_CHARGED}"
        case e.ProviderRejected(message=message):
            return f"Segmind refused the request: {clip(message, 300) or 'invalid parameters'}. {NOT_CHARGED}"
        case app_commands.MissingPermissions(missing_permissions=missing):
            return f"You need the {', '.join(permission_name(p) for p in missing)} permission for this."
    # The most specific class in the table (a ProviderError subclass before ProviderError).
    template = next((TEXTS[kind] for kind in type(error).__mro__ if kind in TEXTS), UNEXPECTED)
    return template.format_map(vars(error))


UNEXPECTED = "Something went wrong on the bot's side. It has been logged; please try again."
MISCONFIGURED = f"The bot is misconfigured for this model; its operator has been told. {NOT_CHARGED}"


# The errors whose sentence is a plain template of their attributes, by class (describe_error's match
# has the others). Templates are filled with str.format: a literal brace would be written twice.
TEXTS: dict[type[BaseException], str] = {
    e.InvalidRequest: "The option `{option}` {reason}. " + NOT_CHARGED,
    e.InvalidAmount: "{amount} is not a valid amount of credits.",
    e.NotAllowed: "You are not allowed to {action}.",
    e.QueueFull: "This server already has {limit} images waiting. Try again when some are done. " + NOT_CHARGED,
    e.JobCancelled: "Cancelled before it was sent to the image service: {price} credits are free again.",
    e.JobNotFound: "That image is not known to this bot any more (it may belong to another server or be deleted).",
    e.JobAlreadyStarted: (
        "This image has already been sent to the image service, which bills it; it can no longer be cancelled."
    ),
    e.ProviderAccountEmpty: (
        "The image service's account is out of credit; the bot's operator has been told. "
        f"Please try again later. {NOT_CHARGED}"
    ),
    e.AccountExhausted: (
        f"The bot's image service account is running out of funds; its operator has been told. {NOT_CHARGED}"
    ),
    e.ProviderModerated: f"The image was blocked by the provider's safety filter. {NOT_CHARGED}",
    e.ProviderAuthError: MISCONFIGURED,
    e.ProviderModelUnavailable: MISCONFIGURED,
    e.ProviderOutOfCredits: f"The bot's image service account is out of funds; its operator has been told. {NOT_CHARGED}",
    e.ProviderRateLimited: f"The image service is too busy right now. Please try again in a minute. {NOT_CHARGED}",
    e.ProviderSubmitUncertain: (
        "The bot lost contact with the image service while sending your request and cannot tell "
        f"whether it ran, so it was not retried. {NOT_CHARGED}"
    ),
    e.ProviderResultExpired: f"The image service no longer has the result of this request. {NOT_CHARGED}",
    e.ProviderBadOutput: f"The image service returned something that is not a usable image. {NOT_CHARGED}",
    e.ProviderError: f"The image service is having trouble right now. Please try again later. {NOT_CHARGED}",
    app_commands.NoPrivateMessage: "This command only works in a server, not in direct messages.",
    app_commands.CheckFailure: "You are not allowed to use this command.",
}


# discord.py's permission names, as Discord's client shows them.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_messages": "Manage Messages"}


def permission_name(name: str) -> str:
    return PERMISSION_NAMES.get(name, name.replace("_", " ").title())


def policy_denial(reason: str, data: dict) -> str:
    roles = " ".join(f"<@&{r}>" for r in data.get("roles", []))
    channels = " ".join(f"<#{c}>" for c in data.get("channels", []))
    match reason:
        case "blocked_member":
            why = f" ({clip(data['why'], 200)})" if data.get("why") else ""
            return f"A moderator has blocked you from generating images in this server{why}."
        case "channel":
            return f"Images can't be generated in this channel. Use {channels or 'another channel'}."
        case "role":
            return f"Generating images here needs one of these roles: {roles}."
        case "pro_role":
            return f"FLUX.2 Pro is limited to these roles here: {roles}. FLUX.2 Klein 9B is open to you."
        case "safety_filter":
            return "That prompt is not allowed: it matches the bot's safety filter."
        case "adult_content":
            if data.get("channel_nsfw"):
                return "This server keeps adult content out of its images, age-restricted channels included."
            return (
                "That prompt asks for adult content. It can only be generated in a channel Discord marks "
                "age-restricted, if this server allows it there."
            )
        case "guild_filter":
            return f"That prompt contains a term this server blocks (`{clip(data.get('term', ''), 40)}`)."
        case "foreign_reference":
            return "In this server you can only edit your own images and the bot's results."
        case "cooldown":
            return f"Slow down a little: you can generate again in {data.get('seconds', 1)} s."
        case "running":
            return f"You already have {data.get('limit')} images in progress. Wait for one to finish."
        case "daily_jobs":
            return f"You have reached this server's limit of {data.get('limit')} images per day."
        case "daily_credits":
            return f"You have reached this server's limit of {data.get('limit')} credits per day."
    return "This server's rules do not allow that request."


_MARKDOWN = re.compile(r"([\\*_~`|\[\]()<>#:@!-])")


def plain(text: str) -> str:
    """User text shown verbatim in Discord: every character markdown could use is escaped.

    discord.utils.escape_markdown leaves text inside a first masked link alone, so a second link or
    bold after it stays live; escaping each significant character has no such gap (Discord drops a
    backslash before any punctuation, so the text still reads the same).
    """
    return _MARKDOWN.sub(r"\\\1", text)


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_name(filename: str) -> str:
    """A filename fit to show inside backticks."""
    return clip(filename.replace("`", "'"), 80)


def queued(position: int) -> str:
    if position <= 0:
        return "⏳ Queued: starting next…"
    return f"⏳ Queued: {position} image{'s' if position != 1 else ''} ahead of yours…"


def running(model_name: str, elapsed: float) -> str:
    return f"🎨 Generating with {model_name}… {int(elapsed)} s"


def failed(error: BaseException) -> str:
    return f"❌ {describe_error(error)}"


def _tr(text: str, locale, **fields) -> str:
    from cogs.ui.i18n import tr  # the catalogue imports this module

    return tr(text, locale, **fields)


BALANCE = "**Server balance:** {balance} credits"
BALANCE_HELD = "**Server balance:** {balance} credits ({reserved} held for running jobs)"
SPENT_TODAY = "**You spent today:** {credits} credits"
ALLOWANCE_LEFT = {
    "today": "**Your allowance today:** {left} of {limit} credits left",
    "month": "**Your allowance this month:** {left} of {limit} credits left",
}
PRICES = "**Prices:** {prices}"
PRICE_FROM = "{name} from {price}"
GRANTED = "Added {amount} credits. The server balance is now {balance}."


def balance_text(
    *, balance: int, reserved: int, spent_today: int, prices: dict[str, int], remaining: dict | None = None, locale=None
) -> str:
    lines = [_tr(BALANCE_HELD if reserved else BALANCE, locale, balance=balance, reserved=reserved)]
    lines.append(_tr(SPENT_TODAY, locale, credits=spent_today))
    for period, (left, limit) in (remaining or {}).items():
        lines.append(_tr(ALLOWANCE_LEFT[period], locale, left=left, limit=limit))
    listed = ", ".join(_tr(PRICE_FROM, locale, name=name, price=price) for name, price in prices.items())
    lines.append(_tr(PRICES, locale, prices=listed))
    return "\n".join(lines)


def granted(amount: int, balance: int, locale=None) -> str:
    return _tr(GRANTED, locale, amount=amount, balance=balance)


DM_FALLBACK = "Your image from {channel} could not be posted there, so here it is."
DELETED = "Deleted."
EDIT_NEEDS_IMAGE = "That message has no PNG, JPEG or WebP image to edit."


LEFT_OUT_ONE = "{total} of the message's attachments was left out: {reasons}."
LEFT_OUT = "{total} of the message's attachments were left out: {reasons}."
NOT_AN_IMAGE = "{count} is not a PNG, JPEG or WebP image"
NOT_IMAGES = "{count} are not a PNG, JPEG or WebP image"
BEYOND_LIMIT = "{count} beyond the first {limit}, as {model} takes at most {limit} reference images"


def images_left_out(not_images: int, over_limit: int, model: str, limit: int, locale=None) -> str | None:
    """What the context menu says when it edits only some of a message's attachments (None: all of them)."""
    reasons = []
    if not_images:
        reasons.append(_tr(NOT_AN_IMAGE if not_images == 1 else NOT_IMAGES, locale, count=not_images))
    if over_limit:
        reasons.append(_tr(BEYOND_LIMIT, locale, count=over_limit, limit=limit, model=model))
    if not reasons:
        return None
    total = not_images + over_limit
    return _tr(LEFT_OUT_ONE if total == 1 else LEFT_OUT, locale, total=total, reasons="; ".join(reasons))

HELD_FOR_REVIEW = "🕵️ Your image is waiting for a moderator's approval."
HELD_NO_MODLOG = (
    "🕵️ Your image is held for a moderator's approval, but this server's mod log cannot take it right now, "
    "so it is not posted. Ask a moderator to set one up (`/config modlog`)."
)
REQUEST_PENDING = "🕵️ Your request is waiting for a moderator's approval. Nothing is charged unless it is approved."
REQUEST_NO_MODLOG = (
    "🕵️ Requests here need a moderator's approval, but this server's mod log cannot take them right now. "
    "Ask a moderator to set one up (`/config modlog`). You were not charged."
)
REQUEST_REJECTED = "🚫 A moderator rejected this request. You were not charged."
RESULT_APPROVED = "✅ A moderator approved your image; it is posted in the channel."
RESULT_REJECTED = "🚫 A moderator did not approve this image."
RESULT_HIDDEN = "🙈 This image was hidden after reports and is waiting for a moderator."
RESULT_REMOVED = "🗑️ This image was removed by a moderator."
REPORTED = "Thanks, the moderators have been told."
ALREADY_REPORTED = "You already reported this image."
NO_MODLOG = "This server has no mod log channel yet (`/config modlog`), so moderators were not told."

QUOTE_CONFIRMED = "Confirmed."
QUOTE_CANCELLED = "Cancelled. Nothing was charged."
QUOTE_USED = "This quote has already been answered."


def quote_embed(
    *, model: str, price: int, available: int, remaining: dict[str, int], klein_price: int | None
) -> discord.Embed:
    embed = discord.Embed(title=f"{model}: {price} credits", colour=discord.Colour.gold())
    embed.description = "Nothing is reserved until you confirm."
    embed.add_field(name="Server balance", value=f"{available} credits available")
    for period, left in remaining.items():
        embed.add_field(name=f"Your allowance {period}", value=f"{left} credits left")
    if klein_price is not None:
        embed.add_field(name="On FLUX.2 Klein 9B", value=f"{klein_price} credits")
    return embed


REFUNDED = "Refunded job {job_id}. The server balance is now {balance}."
EXEMPT = "{who} is exempt from role allowances."
ALLOWANCE_FOR = "Allowance for {who}: {daily}, {monthly}."
PER_DAY = "{count} per day"
NO_DAILY_LIMIT = "no daily limit"
PER_MONTH = "{count} per month"
NO_MONTHLY_LIMIT = "no monthly limit"
CREDIT_SETTINGS = "Ask to confirm: {quote}. Low-balance alert: {alert}."
EVERY_JOB = "every job"
JOBS_OVER = "jobs over {credits} credits"
NEVER = "never"
ALERT_BELOW = "below {credits} credits"
OFF = "off"


def refunded(job_id: int, balance: int, locale=None) -> str:
    return _tr(REFUNDED, locale, job_id=job_id, balance=balance)


def allowance_set(member: int | None, role: int | None, daily, monthly, unlimited: bool, locale=None) -> str:
    who = f"<@{member}>" if member else f"<@&{role}>"
    if unlimited:
        return _tr(EXEMPT, locale, who=who)
    day = _tr(PER_DAY, locale, count=daily) if daily is not None else _tr(NO_DAILY_LIMIT, locale)
    month = _tr(PER_MONTH, locale, count=monthly) if monthly is not None else _tr(NO_MONTHLY_LIMIT, locale)
    return _tr(ALLOWANCE_FOR, locale, who=who, daily=day, monthly=month)


def credit_settings(settings, locale=None) -> str:
    if settings.confirm_all:
        quote = _tr(EVERY_JOB, locale)
    else:
        quote = _tr(JOBS_OVER, locale, credits=settings.quote_above) if settings.quote_above else _tr(NEVER, locale)
    below = settings.low_balance_below
    alert = _tr(ALERT_BELOW, locale, credits=below) if below else _tr(OFF, locale)
    return _tr(CREDIT_SETTINGS, locale, quote=quote, alert=alert)


def low_balance(balance: int, threshold: int | None) -> str:
    return f"⚠️ This server's credit balance is down to {balance} (alert threshold {threshold})."


def account_low(balance_usd: float, threshold_usd: float) -> str:
    return (
        f"⚠️ The bot's Segmind account balance is ${balance_usd:.2f}, below the alert threshold of "
        f"${threshold_usd:.2f}. Top it up to keep images flowing."
    )
