"""Discord's error bodies: :class:`ApiError` and the nested form-error tree of a 400."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tests.fakes.discord.payloads.base import JSON

# --------------------------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error response exactly as Discord sends it: ``{"code": ..., "message": ...[, "errors"]}``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        body: JSON = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def form_error(path: Sequence[str | int], code: str, message: str) -> ApiError:
    """A 50035 Invalid Form Body with a single field error."""
    errors = FormErrors()
    errors.add(path, code, message)
    return ApiError(400, 50035, "Invalid Form Body", errors=errors.tree)


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def not_found_route() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


def unknown(kind: str) -> ApiError:
    """404 for an unknown entity, with Discord's JSON error code for it."""
    codes = {
        "Application": 10002,
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "Role": 10011,
        "User": 10013,
        "Webhook": 10015,
        "interaction": 10062,
        "application command": 10063,
    }
    return ApiError(404, codes[kind], f"Unknown {kind}")


def invalid_webhook_token() -> ApiError:
    return ApiError(401, 50027, "Invalid Webhook Token")


def already_acknowledged() -> ApiError:
    return ApiError(400, 40060, "Interaction has already been acknowledged.")


def entity_too_large() -> ApiError:
    return ApiError(413, 40005, "Request entity too large")


def empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def invalid_json() -> ApiError:
    return ApiError(400, 50109, "The request body contains invalid JSON.")


class FormErrors:
    """Collects field errors and renders them in Discord's nested 50035 ``errors`` format.

    Discord nests errors by JSON path (list indexes as string keys) with an ``_errors`` leaf, e.g.
    ``{"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", ...}]}}}}``.
    """

    def __init__(self) -> None:
        self._tree: JSON = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self._tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Sequence[str | int], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: Sequence[str | int], low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    @property
    def tree(self) -> JSON:
        return self._tree

    def __bool__(self) -> bool:
        return bool(self._tree)

    def raise_if_any(self) -> None:
        if self._tree:
            raise ApiError(400, 50035, "Invalid Form Body", errors=self._tree)
