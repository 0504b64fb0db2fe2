"""Typed errors of the domain. They carry data; only the Discord layer turns them into words.

Every error a user can see derives from `BotError`. Provider errors also say whether a retry is
safe (`retryable`) and whether the operator must be told (`operator_alert`).
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot expects and knows how to explain."""


class ConfigError(BotError):
    def __init__(self, names: list[str], detail: str = "") -> None:
        self.names = names
        self.detail = detail
        super().__init__(f"{', '.join(names)}: {detail}" if detail else ", ".join(names))


class InvalidRequest(BotError):
    """An option the requester gave cannot be used; `option` names it."""

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option}: {reason}")


class InvalidAttachment(BotError):
    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"{filename}: {reason}")


class InsufficientCredits(BotError):
    def __init__(self, balance: int, cost: int) -> None:
        self.balance = balance
        self.cost = cost
        super().__init__(f"balance {balance} < cost {cost}")


class InvalidAmount(BotError):
    def __init__(self, amount: int) -> None:
        self.amount = amount
        super().__init__(f"invalid amount {amount}")


class JobNotFound(BotError):
    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"job {job_id} not found")


class NotAllowed(BotError):
    """The requester may not do this (for example delete someone else's result)."""

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(action)


class QueueFull(BotError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"queue full ({limit})")


class JobCancelled(BotError):
    """A queued job was cancelled before it reached Segmind; its reservation was released."""

    def __init__(self, job_id: int, price: int) -> None:
        self.job_id = job_id
        self.price = price
        super().__init__(f"job {job_id} cancelled")


class JobAlreadyStarted(BotError):
    """Too late to cancel: the job has been sent to Segmind, which bills it."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"job {job_id} already started")


# --- Provider (Segmind) errors -------------------------------------------------------------


class ProviderError(BotError):
    """Segmind could not produce the image. Only a 200 is billed, so none of these is charged."""

    retryable: bool = False
    operator_alert: bool = False

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        self.status = status
        self.message = message
        super().__init__(f"[{status}] {message}" if status else message)


class ProviderRejected(ProviderError):
    """400/422: the parameters were refused. `message` is Segmind's own text."""


class ProviderModerated(ProviderError):
    """The provider's safety filter blocked the input or the output."""


class ProviderAuthError(ProviderError):
    """401/403: bad key or model not allowed for the account."""

    operator_alert = True


class ProviderModelUnavailable(ProviderError):
    """404/410: model not found or retired."""

    operator_alert = True


class ProviderOutOfCredits(ProviderError):
    """406: the Segmind account cannot pay (or a wrong content type)."""

    operator_alert = True


class ProviderRateLimited(ProviderError):
    retryable = True

    def __init__(self, message: str = "", *, status: int | None = 429, reset_at: float | None = None) -> None:
        super().__init__(message, status=status)
        self.reset_at = reset_at


class ProviderUnavailable(ProviderError):
    """5xx, timeouts before anything was accepted, connection failures."""

    retryable = True


class ProviderBadOutput(ProviderError):
    """A 200 whose body is not an acceptable image (wrong magic bytes, empty, truncated, too large)."""


class ProviderResultExpired(ProviderError):
    """The queued request is no longer known to Segmind (results are kept about 1 hour)."""


class ProviderSubmitUncertain(ProviderError):
    """The billed POST was sent but no answer came back: Segmind may have accepted it.

    It is never re-posted (there is no idempotency key); the job is released instead.
    """


class PolicyDenied(BotError):
    """The guild's policy refuses this request; `reason` is a core.policy.DenyReason value."""

    def __init__(self, reason: str, data: dict | None = None) -> None:
        self.reason = reason
        self.data = data or {}
        super().__init__(reason)


class PaceExceeded(PolicyDenied):
    """A pace limit found exceeded inside the job-creating transaction (a request that raced past the
    early check). The early check already told the mod log of its own denials; these it has not."""


class AllowanceExceeded(BotError):
    """The member's allowance for `period` ("day" or "month") cannot cover `cost`."""

    def __init__(self, period: str, limit: int, used: int, cost: int) -> None:
        self.period = period
        self.limit = limit
        self.used = used
        self.cost = cost
        super().__init__(f"{period}: {used} + {cost} > {limit}")


class NotRefundable(BotError):
    def __init__(self, job_id: int, why: str) -> None:
        self.job_id = job_id
        self.why = why  # "not_charged" | "already_refunded"
        super().__init__(f"job {job_id}: {why}")


class AccountExhausted(BotError):
    """The bot's Segmind account cannot cover the jobs already accepted plus this one."""

    def __init__(self, balance_usd: float, needed_usd: float) -> None:
        self.balance_usd = balance_usd
        self.needed_usd = needed_usd
        super().__init__(f"${balance_usd:.2f} < ${needed_usd:.2f}")


class ProviderAccountEmpty(BotError):
    """Segmind said the account cannot pay (406); new jobs are refused, uncharged, until it reads positive."""

    def __init__(self, balance_usd: float | None = None) -> None:
        self.balance_usd = balance_usd
        super().__init__("Segmind account out of credit" if balance_usd is None else f"${balance_usd:.2f}")
