"""The v2 queue API: submit a job, poll its status, read its result, fetch the result file."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.segmind.records import Bill, FakeJob, _Accepted, _Refusal, _Stored


class QueueMixin:
    """Queued v2 jobs (QUEUED → PROCESSING → COMPLETED|FAILED), billing a finished job, and the public
    result files."""

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("submit", request)
        if fault is not None and not fault.accept:
            return await self._apply_fault(request, fault)
        try:
            accepted = await self._accept(request)
        except _Refusal as refusal:
            return self._json_error(refusal.status, refusal.message, refusal.headers)
        request_id = str(uuid.uuid4())
        job = FakeJob(
            request_id=request_id,
            slug=accepted.slug,
            body=accepted.body,
            created=time.monotonic(),
            seed=accepted.seed,
            cost=accepted.cost,
            fail=accepted.fail,
        )
        self.jobs[request_id] = job
        self.submits.append(accepted.body)
        self._spawn(self._run_job(job, accepted))
        if fault is not None:
            return await self._apply_fault(request, fault)
        return web.json_response(
            {
                "request_id": request_id,
                "status": "QUEUED",
                "status_url": self._url(f"/v2/requests/{request_id}/status"),
                "response_url": self._url(f"/v2/requests/{request_id}"),
            }
        )

    def _latency_for(self, prompt: str) -> float:
        return next((s for marker, s in self._slow.items() if marker in prompt), self.latency)

    async def _run_job(self, job: FakeJob, accepted: _Accepted) -> None:
        started = time.monotonic()
        latency = self._latency_for(str(accepted.body.get("prompt", "")))
        await asyncio.sleep(latency / 2)
        job.status = "PROCESSING"
        await asyncio.sleep(latency / 2)
        self._pending_cost -= job.cost
        if job.fail is not None:
            job.status, job.error = "FAILED", job.fail[1]
            return
        data, mime = await self._render(accepted)
        name = f"{job.request_id}.{mime.split('/')[1]}"
        self._files[name] = _Stored(data, mime)
        job.file_url, job.mime, job.size = self._url(f"/files/{name}"), mime, accepted.size
        job.predict_time = time.monotonic() - started
        self._bill(job.cost, Bill(job.request_id, job.slug, str(job.body.get("prompt", "")), job.cost, "v2"))
        job.status = "COMPLETED"

    def _bill(self, cost: float, bill: Bill) -> None:
        self.billed += 1
        self.bills.append(bill)
        self.account_credits -= cost

    def _job(self, request: web.Request) -> FakeJob | None:
        job = self.jobs.get(request.match_info["rid"])
        if job is None or job.request_id in self._expired or time.monotonic() - job.created > self.retention:
            return None
        return job

    async def _answerable_job(self, route: str, request: web.Request) -> FakeJob | web.StreamResponse:
        """What the status and result routes share: a planned fault, the key, a known request, and a
        failed job's 422. Returns the job when none of those answered, else the answer."""
        fault = await self._take_fault(route, request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        job = self._job(request)
        if job is None:
            return self._json_error(404, "Request not found")
        if job.status == "FAILED":
            return web.json_response(
                {"request_id": job.request_id, "status": "FAILED", "error": job.error}, status=422
            )
        return job

    async def _status(self, request: web.Request) -> web.StreamResponse:
        job = await self._answerable_job("status", request)
        if isinstance(job, web.StreamResponse):
            return job
        return web.json_response({"request_id": job.request_id, "status": job.status})

    async def _result(self, request: web.Request) -> web.StreamResponse:
        job = await self._answerable_job("result", request)
        if isinstance(job, web.StreamResponse):
            return job
        if job.status != "COMPLETED":
            return web.json_response({"request_id": job.request_id, "status": job.status})
        payload: dict[str, Any] = {
            "request_id": job.request_id,
            "status": "COMPLETED",
            "metrics": {"predict_time": round(job.predict_time, 3), "cost": job.cost},
        }
        assert job.file_url is not None and job.mime is not None and job.size is not None
        url = job.file_url
        if self.result_form == "url":
            payload["output"] = url
        elif self.result_form == "list":
            payload["output"] = [url]
        elif self.result_form == "dict":
            payload["output"] = {"url": url, "content_type": job.mime}
        elif self.result_form == "images":
            width, height = job.size
            payload["images"] = [{"url": url, "content_type": job.mime, "width": width, "height": height}]
        elif self.result_form in ("data_uri", "base64"):
            stored = self._files[url.rsplit("/", 1)[1]]
            encoded = base64.b64encode(stored.data).decode()
            payload["output"] = (
                f"data:{stored.mime};base64,{encoded}" if self.result_form == "data_uri" else encoded
            )
        else:
            raise AssertionError(f"unknown result_form {self.result_form!r}")
        return web.json_response(payload)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/files/"):
            fault = await self._take_fault("download", request)
            if fault is not None:
                return await self._apply_fault(request, fault)
        stored = self._files.get(request.match_info["name"])
        if stored is None:
            # S3-style: a public bucket answers a missing key with XML.
            return web.Response(
                status=404, text="<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
            )
        return web.Response(body=stored.data, content_type=stored.mime)
