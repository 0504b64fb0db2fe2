"""Scripted faults: what a test arms (`script`, `slow`, `fail_job`) and how a request meets them."""

from __future__ import annotations

import asyncio
import collections
import json
from http import HTTPStatus

from aiohttp import web

from tests.fakes.segmind.records import _DROPPED, ENDPOINTS, Fault


class FaultMixin:
    """Test controls that change the next answers, and how :meth:`_take_fault` picks one for a request."""

    # -- test controls ----------------------------------------------------------------------------

    def script(self, endpoint: str, *faults: Fault, prompt: str | None = None) -> None:
        """The next requests to `endpoint` consume these faults, one each, in order.

        With `prompt`, only requests belonging to a generation whose prompt contains that text
        consume them (submit/v1 by their body; status/result/download by the request id).
        """
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        if prompt is None:
            self._faults[endpoint].extend(faults)
        else:
            self._targeted[endpoint].append((prompt, collections.deque(faults)))

    def slow(self, prompt: str, seconds: float) -> None:
        """Generations whose prompt contains `prompt` take `seconds` instead of `latency`."""
        self._slow[prompt] = seconds

    def fail_job(self, kind: str = "error", message: str | None = None, *, prompt: str | None = None) -> None:
        """The NEXT accepted generation (v2 job or v1 call) fails with this error and is not billed;
        with `prompt`, the next one whose prompt contains that text."""
        if kind not in ("moderated", "error"):
            raise ValueError("kind is 'moderated' or 'error'")
        default = (
            "Content Moderated: the output was flagged by the safety filter"
            if kind == "moderated"
            else "Prediction failed: internal error"
        )
        if prompt is None:
            self._next_failure = (kind, message or default)
        else:
            self._failures_for[prompt] = (kind, message or default)

    def pending_faults(self) -> list[str]:
        """Scripted faults and failures no request consumed (a fault that never fired proves nothing)."""
        pending = [f"{e}: {len(q)} fault(s)" for e, q in self._faults.items() if q]
        pending += [f"{e}:{m}: {len(q)} fault(s)" for e, targeted in self._targeted.items() for m, q in targeted if q]
        pending += [f"fail_job:{m}" for m in self._failures_for]
        if self._next_failure is not None:
            pending.append("fail_job")
        return pending

    async def _take_fault(self, endpoint: str, request: web.Request) -> Fault | None:
        """The fault this request consumes, if any; `passthrough`/`expire` faults are acted on here
        and leave the normal handling to run."""
        fault = None
        prompt = self._prompt_of(endpoint, request) if self._targeted[endpoint] else None
        if prompt is not None:
            for marker, queue in self._targeted[endpoint]:
                if queue and marker in prompt:
                    fault = queue.popleft()
                    self.fired.append(f"{endpoint}:{marker}")
                    break
            self._targeted[endpoint] = [(m, q) for m, q in self._targeted[endpoint] if q]
        if fault is None:
            queue = self._faults[endpoint]
            fault = queue.popleft() if queue else None
            if fault is not None:
                self.fired.append(endpoint)
        if fault is None:
            return None
        if fault.expire:
            request_id = self._request_id_of(endpoint, request)
            if request_id:
                self._expired.add(request_id)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return None
        if fault.passthrough:
            await asyncio.sleep(fault.delay)
            return None
        return fault

    async def _apply_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.hang:
            # Stay silent until the client closes the connection (its timeout) or the fake stops.
            while (
                not self._closing.is_set()
                and request.transport is not None
                and not request.transport.is_closing()
            ):
                await asyncio.sleep(0.01)
            return self._drop(request)
        if fault.drop:
            return self._drop(request)
        headers = dict(fault.headers or {})
        body = fault.body
        if body is None:
            body = {"error": HTTPStatus(fault.status).phrase} if fault.status >= 400 else b""
        if isinstance(body, dict | list):
            payload = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            payload = body.encode()
            headers.setdefault("Content-Type", "text/html" if body.lstrip().startswith("<") else "text/plain")
        else:
            payload = body
            headers.setdefault("Content-Type", "application/octet-stream")
        if fault.chunked:
            response = web.StreamResponse(status=fault.status, headers=headers)
            response.enable_chunked_encoding()
            try:
                await response.prepare(request)
                for start in range(0, len(payload), 16 * 1024):
                    await response.write(payload[start : start + 16 * 1024])
                await response.write_eof()
            except ConnectionError:
                pass  # the client stopped reading (e.g. its size cap): that is its right
            return response
        return web.Response(status=fault.status, body=payload, headers=headers)

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        request[_DROPPED] = True
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)  # never reaches the client: the socket is gone
