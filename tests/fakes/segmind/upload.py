"""`POST /upload-asset`: data URLs in, public file URLs out."""

from __future__ import annotations

import base64
import json
import uuid

from aiohttp import web

from tests.fakes.segmind.records import _image_kind, _Stored


class UploadMixin:
    """Uploads become public files under ``/uploads/<name>``."""

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        fault = await self._take_fault("upload", request)
        if fault is not None:
            return await self._apply_fault(request, fault)
        if not self._authorized(request):
            return self._json_error(401, "Invalid or missing API key")
        if request.content_type != "application/json":
            return self._json_error(406, "Content-Type must be application/json")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._json_error(400, "Request body is not valid JSON")
        data_urls = body.get("data_urls") if isinstance(body, dict) else None
        if not isinstance(data_urls, list) or not data_urls or not all(isinstance(u, str) for u in data_urls):
            return self._json_error(400, "data_urls must be a non-empty list of data URLs")
        urls = []
        for index, data_url in enumerate(data_urls):
            head, sep, payload = data_url.partition(",")
            if not (sep and head.startswith("data:") and head.endswith(";base64")):
                return self._json_error(400, f"data_urls[{index}] is not a base64 data URL")
            try:
                data = base64.b64decode(payload, validate=True)
            except ValueError:
                return self._json_error(400, f"data_urls[{index}] is not valid base64")
            kind = _image_kind(data)
            if kind is None:
                return self._json_error(400, f"data_urls[{index}] is not an image")
            name = f"{uuid.uuid4().hex}.{kind}"
            self._files[name] = _Stored(data, f"image/{kind}")
            urls.append(self._url(f"/uploads/{name}"))
        self.uploads.extend(urls)
        return web.json_response({self.upload_reply_key: urls})
