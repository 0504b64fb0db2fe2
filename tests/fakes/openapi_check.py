"""Validate REST requests against Discord's official OpenAPI spec (``shared/discord-api-spec``).

The fake Discord runs every request the bot sends through :class:`SpecChecker`, so a request that
real Discord would reject with 400 fails the test even when the fake itself is lenient.

Two adaptations are applied (see ``shared/reference/discord-e2e.md`` section 3):

* multipart requests are validated by their decoded ``payload_json`` part, as the JSON body;
* ``SnowflakeType`` also accepts non-negative integers, because discord.py sends new attachments as
  ``{"id": 0, ...}`` (documented as "snowflake or number ... must match the n in files[n]").

The spec document itself is not meta-validated: it is Discord's published file, and meta-validation
is what makes a naive load take seconds.  Loaded checkers are cached per path for the whole pytest
session via :func:`get_checker`.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import ParametersError, RequestBodyValidationError
from openapi_core.validation.response.exceptions import DataValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

API_PREFIX = "/api/v10"
_HOST = "https://discord.com"


# Where the spec check did not run for want of the spec: reported loudly by tests/conftest.py's
# pytest_terminal_summary (a silent skip made a whole class of bugs pass unnoticed).
SPEC_SKIPS: list[str] = []


class SpecMissing(RuntimeError):
    """Under CI the spec check must run: a missing spec fails the run instead of skipping it."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def default_spec_path(who: str = "") -> Path | None:
    """``$DISCORD_OPENAPI_SPEC``, else ``<checkout parent>/shared/discord-api-spec/openapi.json``.

    Missing: under ``CI=true`` raises :class:`SpecMissing`; elsewhere returns None and records the
    skip in :data:`SPEC_SKIPS` so the pytest summary says it, once and loudly.
    """
    default = Path(__file__).resolve().parents[2].parent / "shared" / "discord-api-spec" / "openapi.json"
    path = Path(os.environ.get("DISCORD_OPENAPI_SPEC") or default)
    if path.is_file():
        return path
    if _in_ci():
        raise SpecMissing(f"Discord's OpenAPI spec is missing ({path}) and CI is set: the spec check must run")
    SPEC_SKIPS.append(who or "a test")
    return None


def adapt_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the spec with ``SnowflakeType`` widened to accept non-negative ints."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    schemas["SnowflakeType"] = {"oneOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]}
    return spec


class SpecChecker:
    """Checks one request (or response) against the spec and returns readable violations."""

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = Path(spec_path)
        spec = adapt_spec(json.loads(self.spec_path.read_text(encoding="utf-8")))
        self._api = OpenAPI(SchemaPath.from_dict(spec), config=Config(spec_validator_cls=None))
        # openapi-core's lazily built validators are not guaranteed thread-safe.
        self._lock = threading.Lock()

    @staticmethod
    def _api_path(path: str) -> str:
        return path if path.startswith(API_PREFIX) else API_PREFIX + path

    def _request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> MockRequest:
        data = None if body is None else json.dumps(body).encode()
        return MockRequest(
            _HOST,
            method.lower(),
            self._api_path(path),
            args=dict(query or {}),
            headers=dict(headers or {}),
            data=data,
            content_type="application/json",
        )

    def check(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Violations for a request; ``path`` may include ``/api/v10``. ``body`` is the decoded JSON.

        Anything that stops validation (unknown path or method included) is reported as a violation
        rather than swallowed, so gaps never pass silently.
        """
        try:
            request = self._request(method, path, query, body, headers)
            with self._lock, warnings.catch_warnings():
                # The spec's OAuth2 scheme is unsupported by openapi-core; BotToken still applies.
                warnings.filterwarnings("ignore", message="Unsupported scheme type")
                errors = list(self._api.iter_request_errors(request))
        except Exception as exc:  # the checker itself failed: that is a finding, not a pass
            return [f"checker error: {type(exc).__name__}: {exc}"]
        return [line for exc in errors for line in describe(exc)]

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        query: Mapping[str, str] | None = None,
        request_body: Any = None,
    ) -> list[str]:
        """Violations of a response body against the spec's response schema (used by self-tests)."""
        try:
            request = self._request(method, path, query, request_body, {})
            data = b"" if body is None else json.dumps(body).encode()
            response = MockResponse(data, status_code=status, content_type="application/json")
            with self._lock, warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Unsupported scheme type")
                errors = list(self._api.iter_response_errors(request, response))
        except Exception as exc:
            return [f"checker error: {type(exc).__name__}: {exc}"]
        return [line for exc in errors for line in describe(exc)]


def describe(exc: BaseException) -> Iterable[str]:
    """Flatten openapi-core's exception chain into one line per concrete schema error."""
    cause = exc.__cause__
    if isinstance(cause, ParametersError):
        for inner in cause.errors:
            yield from describe(inner)
        return
    if isinstance(cause, InvalidSchemaValue):
        if isinstance(exc, RequestBodyValidationError):
            label = "request body"
        elif isinstance(exc, DataValidationError):
            label = "response body"
        else:
            label = str(exc)
        for err in cause.schema_errors:
            yield f"{label}: {_schema_error(err)}"
        return
    yield f"{exc}" + (f": {cause}" if cause is not None and str(cause) not in str(exc) else "")


def _where(err: SchemaError) -> str:
    return "/".join(str(p) for p in err.absolute_path) or "<root>"


def _schema_error(err: SchemaError) -> str:
    """``message at path``; for oneOf/anyOf also the deepest branch error, which is usually the real one.

    (jsonschema's ``best_match`` prefers shallow errors, i.e. "type is not 8" from the wrong branch.)
    """
    text = f"{err.message} at {_where(err)}"
    deepest = _deepest(err)
    if deepest is not err:
        text += f" ({deepest.message} at {_where(deepest)})"
    return text


def _deepest(err: SchemaError) -> SchemaError:
    """The leaf error with the longest instance path anywhere under ``err``."""
    best = err
    for child in err.context or ():
        leaf = _deepest(child)
        if len(leaf.absolute_path) > len(best.absolute_path) or best is err:
            best = leaf
    return best


@cache
def _load(path: Path) -> SpecChecker:
    return SpecChecker(path)


def get_checker(path: Path | str) -> SpecChecker:
    """A process-wide cached checker, so a pytest session parses the spec once."""
    return _load(Path(path).resolve())
