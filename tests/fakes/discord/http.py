"""HTTP plumbing: body parsing, the recording/spec-checking/fault-injecting middleware, auth."""

from __future__ import annotations

import asyncio
import json
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import hdrs, web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON, ApiError
from tests.fakes.discord.records import (
    API_PREFIX,
    BODY_KEY,
    RESPONSE_JSON_KEY,
    UPLOADS_KEY,
    Handler,
    RecordedRequest,
    _Fault,
    _Upload,
)


class HttpMixin:
    """Every REST/CDN request goes through :meth:`_middleware`: recorded, spec-checked, possibly
    answered by an armed fault (:meth:`fail_next`), errors mapped to Discord's JSON bodies."""

    # --------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        body: JSON = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        *,
        when: Callable[[RecordedRequest], bool] | None = None,
        process: bool = False,
        delay: float = 0.0,
        label: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``/``body`` instead of handling them.

        ``method`` may be ``"*"``; ``path_regex`` is searched in the path with and without ``/api/v10``;
        ``when`` (given the recorded request, body parsed) narrows the match further.
        ``process=True``: the request is handled first (Discord did it) and the answer is then
        replaced, i.e. "done, but the answer was lost", what a 502 from an edge proxy can mean.
        ``label`` names the fault in :attr:`fired_faults` and :meth:`pending_faults`.
        ``delay`` waits before answering; with ``status=None`` the normal answer comes after it.
        For a 429 without explicit ``headers`` a ``Via`` header is added, because discord.py only
        treats a 429 as a rate limit when ``Via`` is present (else it is a "Cloudflare ban").
        """
        if headers is None:
            headers = {"Via": "1.1 google"} if status == 429 else {}
        if body is None and status is not None:
            body = {"code": 0, "message": f"{status}: fault injected by the test"}
        self._faults.append(
            _Fault(
                method.upper(), re.compile(path_regex), status, body, dict(headers), times, when, process, delay,
                label,
            )
        )

    def pending_faults(self) -> list[str]:
        """Armed faults no request ever matched (a fault that never fired proves nothing)."""
        return [f"{fault.describe()} (never fired)" for fault in self._faults if not fault.fired]

    # ------------------------------------------------------------------------------ HTTP plumbing

    @staticmethod
    def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
        # Exactly "application/json": discord.py only parses JSON for that exact header value.
        response = web.Response(
            body=json.dumps(body).encode(),
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response[RESPONSE_JSON_KEY] = body
        return response

    async def _parse_body(self, request: web.Request) -> tuple[Any, list[_Upload]]:
        """The JSON body, or a multipart body's payload_json and files (as Discord reads them)."""
        if request.content_type == "multipart/form-data":
            body: Any = None
            uploads: list[_Upload] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                elif part.name and (m := re.fullmatch(r"files\[(\d+)\]", part.name)):
                    data = await _read_part(part)
                    ctype = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                    uploads.append(_Upload(m.group(1), part.filename or "file", data, ctype))
            return body, uploads
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record, spec-check and fault-inject every REST/CDN request, then map ApiError to JSON."""
        path = request.path
        if path == "/gateway":
            return await handler(request)
        is_rest = path.startswith(API_PREFIX)
        record = RecordedRequest(
            method=request.method,
            path=path[len(API_PREFIX) :] if is_rest else path,
            query=dict(request.query),
            json=None,
            files=[],
            headers=dict(request.headers),
            kind="rest" if is_rest else "cdn",
        )
        self.requests.append(record)
        parse_error: ApiError | None = None
        try:
            record.json, uploads = await self._parse_body(request)
            record.files = [(u.filename, u.data, u.content_type) for u in uploads]
            request[BODY_KEY], request[UPLOADS_KEY] = record.json, uploads
        except (ValueError, UnicodeDecodeError):
            parse_error = p.invalid_json()
        if is_rest and self._checker is not None and self._spec_sampled(request):
            for violation in self._checker.check(
                record.method, record.path, record.query, record.json, record.headers
            ):
                self.spec_violations.append(f"{record.method} {record.path}: {violation}")
        try:
            fault = self._take_fault(record, path)
            if fault is not None and fault.delay and not fault.process:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.status is not None and not fault.process:
                response: web.StreamResponse = self._json(fault.body, fault.status, fault.headers)
            elif parse_error is not None:
                raise parse_error
            else:
                response = await handler(request)
                if fault is not None and fault.process:
                    if fault.delay:
                        await asyncio.sleep(fault.delay)
                    if fault.status is not None:
                        response = self._json(fault.body, fault.status, fault.headers)
        except ApiError as err:
            response = self._json(err.body(), err.status, err.headers)
        except web.HTTPException:
            raise
        except Exception:  # a bug in the fake: answer like Discord's 500 and make it visible to tests
            self.server_errors.append(f"{record.method} {record.path}\n{traceback.format_exc()}")
            response = self._json({"code": 0, "message": "500: Internal Server Error"}, 500)
        record.status = response.status
        record.response = response.get(RESPONSE_JSON_KEY)
        return response

    def _spec_sampled(self, request: web.Request) -> bool:
        """Whether to check this request against the spec: always, unless `spec_checks_per_route`
        caps the checks per (method, route) (a run of thousands of requests, where checking each
        would make the fake, not the bot, the slow side)."""
        if self.spec_checks_per_route is None:
            return True
        resource = request.match_info.route.resource
        key = (request.method, resource.canonical if resource is not None else "")
        self._spec_checked[key] += 1
        return self._spec_checked[key] <= self.spec_checks_per_route

    def _take_fault(self, record: RecordedRequest, full_path: str) -> _Fault | None:
        for fault in self._faults:
            if (
                fault.method in ("*", record.method)
                and (fault.pattern.search(record.path) or fault.pattern.search(full_path))
                and (fault.when is None or fault.when(record))
            ):
                fault.remaining -= 1
                fault.fired += 1
                self.fired_faults.append(fault.describe())
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _authed(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization") != f"Bot {self.token}":
                raise p.unauthorized()
            return await handler(request)

        return wrapped

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        """404 (or 405 for a known path with the wrong method); either way the bot called something wrong."""
        path = request.path[len(API_PREFIX) :]
        self.unknown_routes.append((request.method, path))
        if any(pattern.fullmatch(path) for pattern in self._route_patterns):
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise p.not_found_route()

    @staticmethod
    def _snowflake_param(request: web.Request, name: str, kind: str) -> int:
        value = request.match_info[name]
        if not value.isdigit():
            raise p.unknown(kind)
        return int(value)


async def _read_part(part: Any) -> bytes:
    """A multipart file's bytes, read 256 KiB at a time (BodyPartReader.read() takes 8 KiB steps,
    which made the fake, not the bot, the slow side of every upload)."""
    data = bytearray()
    while chunk := await part.read_chunk(256 * 1024):
        data += chunk
    return bytes(data)
