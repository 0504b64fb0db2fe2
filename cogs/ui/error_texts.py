"""Every refusal and failure the bot answers with, in the reader's language.

English stays cogs/ui/messages.py's `describe_error` (the one place the words are written); this
module gives the translated sentence for each of its cases (None for a locale without
translations, which then reads English). Templates are keyed in cogs/ui/catalogue.py (and
cogs/ui/catalogue_errors.py) by the English templates below. A `reason` or `action` that core/
words itself (`InvalidRequest`, `NotAllowed`) stays English inside the translated sentence.
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
OPTION = "The option `{option}` {reason}."
ATTACHMENT = "The file `{filename}` {reason}. Use a PNG, JPEG or WebP image."
AMOUNT = "{amount} is not a valid amount of credits."
JOB_UNKNOWN = "That image is not known to this bot any more (it may belong to another server or be deleted)."
NOT_ALLOWED = "You are not allowed to {action}."
ALREADY_REFUNDED = "Job {job_id} has already been refunded."
NEVER_CHARGED = "Job {job_id} was never charged in this server, so there is nothing to refund."
TOO_LATE = "This image has already been sent to the image service, which bills it; it can no longer be cancelled."
CANCELLED_FREE = "Cancelled before it was sent to the image service: {price} credits are free again."
PROVIDER_EMPTY = "The image service's account is out of credit; the bot's operator has been told. Please try again later."
ACCOUNT_LOW = "The bot's image service account is running out of funds; its operator has been told."
BLOCKED_WHY = "A moderator has blocked you from generating images in this server ({why})."
CHANNEL_USE = "Images can't be generated in this channel. Use {channels}."
ROLE = "Generating images here needs one of these roles: {roles}."
PRO_ROLE = "FLUX.2 Pro is limited to these roles here: {roles}. FLUX.2 Klein 9B is open to you."
ADULT_NOWHERE = "This server keeps adult content out of its images, age-restricted channels included."
ADULT = (
    "That prompt asks for adult content. It can only be generated in a channel Discord marks age-restricted, "
    "if this server allows it there."
)
GUILD_TERM = "That prompt contains a term this server blocks (`{term}`)."
FOREIGN = "In this server you can only edit your own images and the bot's results."
RULES = "This server's rules do not allow that request."
REFUSED = "Segmind refused the request: {message}."
MISCONFIGURED = "The bot is misconfigured for this model; its operator has been told."
OUT_OF_FUNDS = "The bot's image service account is out of funds; its operator has been told."
UNCERTAIN = (
    "The bot lost contact with the image service while sending your request and cannot tell whether it ran, "
    "so it was not retried."
)
EXPIRED = "The image service no longer has the result of this request."
BAD_OUTPUT = "The image service returned something that is not a usable image."
PERMISSION = "You need the {permissions} permission for this."
NOT_PERMITTED = "You are not allowed to use this command."
UNEXPECTED = "Something went wrong on the bot's side. It has been logged; please try again."

_POLICY = {
    "cooldown": COOLDOWN,
    "running": RUNNING,
    "daily_jobs": DAILY_JOBS,
    "daily_credits": DAILY_CREDITS,
    "safety_filter": SAFETY_FILTER,
    "channel": CHANNEL,
    "blocked_member": BLOCKED,
}


def template_of(error: BaseException) -> tuple[str, dict[str, object], bool]:
    """(English template, its fields, whether "not charged" follows), in describe_error's order."""
    from cogs.ui.messages import clip, permission_name, safe_name

    match error:
        case e.InsufficientCredits(balance=balance, cost=cost):
            return INSUFFICIENT, {"cost": cost, "balance": balance}, True
        case e.AllowanceExceeded(period=period, limit=limit, used=used, cost=cost):
            template = ALLOWANCE_DAY if period == "day" else ALLOWANCE_MONTH
            return template, {"limit": limit, "left": max(0, limit - used), "cost": cost}, True
        case e.InvalidRequest(option=option, reason=reason):
            return OPTION, {"option": option, "reason": reason}, True
        case e.InvalidAttachment(filename=filename, reason=reason):
            return ATTACHMENT, {"filename": safe_name(filename), "reason": reason}, True
        case e.InvalidAmount(amount=amount):
            return AMOUNT, {"amount": amount}, False
        case e.JobNotFound():
            return JOB_UNKNOWN, {}, False
        case e.NotAllowed(action=action):
            return NOT_ALLOWED, {"action": action}, False
        case e.QueueFull(limit=limit):
            return QUEUE_FULL, {"limit": limit}, True
        case e.NotRefundable(job_id=job_id, why=why):
            return (ALREADY_REFUNDED if why == "already_refunded" else NEVER_CHARGED), {"job_id": job_id}, False
        case e.JobAlreadyStarted():
            return TOO_LATE, {}, False
        case e.JobCancelled(price=price):
            return CANCELLED_FREE, {"price": price}, False
        case e.ProviderAccountEmpty():
            return PROVIDER_EMPTY, {}, True
        case e.AccountExhausted():
            return ACCOUNT_LOW, {}, True
        case e.PolicyDenied(reason=reason, data=data):
            return (*_policy(reason, data), True)
        case e.ProviderModerated():
            return MODERATED, {}, True
        case e.ProviderRejected(message=message):
            return REFUSED, {"message": clip(message, 300) or "invalid parameters"}, True
        case e.ProviderAuthError() | e.ProviderModelUnavailable():
            return MISCONFIGURED, {}, True
        case e.ProviderOutOfCredits():
            return OUT_OF_FUNDS, {}, True
        case e.ProviderRateLimited():
            return BUSY, {}, True
        case e.ProviderSubmitUncertain():
            return UNCERTAIN, {}, True
        case e.ProviderResultExpired():
            return EXPIRED, {}, True
        case e.ProviderBadOutput():
            return BAD_OUTPUT, {}, True
        case e.ProviderError():
            return TROUBLE, {}, True
        case app_commands.NoPrivateMessage():
            return SERVER_ONLY, {}, False
        case app_commands.MissingPermissions(missing_permissions=missing):
            return PERMISSION, {"permissions": ", ".join(permission_name(p) for p in missing)}, False
        case app_commands.CheckFailure():
            return NOT_PERMITTED, {}, False
    return UNEXPECTED, {}, False


def _policy(reason: str, data: dict) -> tuple[str, dict[str, object]]:
    from cogs.ui.messages import clip

    roles = " ".join(f"<@&{r}>" for r in data.get("roles", []))
    channels = " ".join(f"<#{c}>" for c in data.get("channels", []))
    match reason:
        case "blocked_member" if data.get("why"):
            return BLOCKED_WHY, {"why": clip(data["why"], 200)}
        case "channel" if channels:
            return CHANNEL_USE, {"channels": channels}
        case "role":
            return ROLE, {"roles": roles}
        case "pro_role":
            return PRO_ROLE, {"roles": roles}
        case "adult_content":
            return (ADULT_NOWHERE if data.get("channel_nsfw") else ADULT), {}
        case "guild_filter":
            return GUILD_TERM, {"term": clip(data.get("term", ""), 40)}
        case "foreign_reference":
            return FOREIGN, {}
        case _ if reason in _POLICY:
            return _POLICY[reason], {"seconds": data.get("seconds", 1), "limit": data.get("limit")}
    return RULES, {}


def localised_error(error: BaseException, locale) -> str | None:
    """`error` in `locale`, or None when that locale or that case has no translation (use English)."""
    from cogs.ui.i18n import lookup

    template, fields, not_charged = template_of(error)
    translated = lookup(template, locale)
    if translated is None:
        return None
    text = translated.format(**{k: v for k, v in fields.items() if "{" + k + "}" in template})
    return f"{text} {lookup(NOT_CHARGED, locale)}" if not_charged else text
