"""The synchronous v1 API: `POST /v1/<slug>` answers raw image bytes; `GET /v1/get-user-credits`."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from tests.fakes.segmind.records import Bill, _Refusal


class V1Mixin:
    """The v1 routes: one call, one image, billed on success; and the account's credits."""

    # -- generation endpoints -----------------------------------------------------------------------

    async def _v1(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("v1", request)
        if fault is not None and not fault.accept:
            return await self._apply_fault(request, fault)
        try:
            accepted = await self._accept(request)
        except _Refusal as refusal:
            return self._json_error(refusal.status, refusal.message, refusal.headers)
        self.v1_calls.append(accepted.body)
        await asyncio.sleep(self._latency_for(str(accepted.body.get("prompt", ""))))
        self._pending_cost -= accepted.cost
        if accepted.fail is not None:
            # v1 has no job to fail: the refusal comes back as a 400 with Segmind's error text.
            response: web.StreamResponse = self._json_error(400, accepted.fail[1])
        else:
            data, mime = await self._render(accepted)
            request_id = str(uuid.uuid4())
            self.v1_results[request_id] = data
            self._bill(
                accepted.cost, Bill(request_id, accepted.slug, str(accepted.body.get("prompt", "")), accepted.cost, "v1")
            )
            response = web.Response(
                body=data,
                content_type=mime,
                headers={
                    "x-remaining-credits": f"{self.account_credits:.4f}",
                    "x-cost": f"{accepted.cost:.4f}",
                    "x-generation-time": f"{self.latency:.2f}",
                    "x-seed-value": str(accepted.seed),
                    "x-request-id": request_id,
                },
            )
        if fault is not None:
            return await self._apply_fault(request, fault)
        return response

    # -- other endpoints ------------------------------------------------------------------------------

    async def _credits(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("credits", request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        return web.json_response({"credits": round(self.account_credits, 6)})
