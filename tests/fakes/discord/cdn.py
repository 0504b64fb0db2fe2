"""The CDN: attachment bytes behind signed, expiring URLs."""

from __future__ import annotations

import copy
import hashlib
import hmac
import time
from urllib.parse import quote

from aiohttp import web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON
from tests.fakes.discord.records import CDN_URL_LIFETIME_S, _CdnFile


class CdnMixin:
    """Attachment bytes behind signed URLs that expire like Discord's."""

    def add_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None,
        *,
        width: int | None = None,
        height: int | None = None,
        channel_id: int | None = None,
        declared_size: int | None = None,
        url: str | None = None,
    ) -> JSON:
        """Store bytes on the fake CDN as a user upload and return its attachment object.

        ``content_type`` is served as given (tests can lie about a file's type); ``declared_size``
        is the ``size`` the payload announces (default: the real size), for a CDN that serves
        more than the payload said; ``url`` replaces the attachment's URLs, as a forged
        interaction naming another host could.
        """
        att = self._cdn_store(
            channel_id or self._snowflakes.next(), filename, data, content_type, width, height
        )
        if declared_size is not None:
            att["size"] = declared_size
        if url is not None:
            att["url"] = att["proxy_url"] = url
        return copy.deepcopy(att)

    def expire_attachments(self) -> None:
        """Make every CDN URL issued so far expired (the signed ``ex`` is in the past)."""
        for item in self._cdn.values():
            item.expires_at = 0.0

    def attachment_bytes(self, attachment: JSON) -> bytes:
        return self._cdn[int(attachment["id"])].data

    def _cdn_store(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str | None,
        width: int | None,
        height: int | None,
        *,
        ephemeral: bool = False,
        sniff: bool = False,
    ) -> JSON:
        """Keep bytes behind a signed CDN URL; ``sniff`` derives type/size from the bytes like Discord."""
        att_id = self._snowflakes.next()
        if sniff:
            content_type, width, height = p.sniff_media(data, filename)
        issued = int(time.time())
        expires = issued + CDN_URL_LIFETIME_S
        signature = self._sign(att_id, expires, issued)
        kind = "ephemeral-attachments" if ephemeral else "attachments"
        tail = f"{kind}/{channel_id}/{att_id}/{quote(filename)}?ex={expires:x}&is={issued:x}&hm={signature}&"
        att = p.attachment_object(
            att_id,
            filename,
            len(data),
            f"{self.base_url}/cdn/{tail}",
            f"{self.base_url}/media/{tail}",
            content_type,
            width=width,
            height=height,
            ephemeral=ephemeral,
        )
        self._cdn[att_id] = _CdnFile(att, data, content_type, float(expires), signature)
        return att

    def _sign(self, att_id: int, expires: int, issued: int) -> str:
        return hmac.new(self._secret, f"{att_id}:{expires:x}:{issued:x}".encode(), hashlib.sha256).hexdigest()

    # -------------------------------------------------------------------------------------- CDN

    async def _cdn_get(self, request: web.Request) -> web.Response:
        """Serve stored bytes with the stated content type; signed URLs expire like Discord's."""
        raw_id = request.match_info["attachment"]
        item = self._cdn.get(int(raw_id)) if raw_id.isdigit() else None
        expected = item.attachment["url"].split("/cdn/", 1)[1].split("?", 1)[0] if item else ""
        kind, channel = request.match_info["kind"], request.match_info["channel"]
        requested = f"{kind}/{channel}/{raw_id}/{quote(request.match_info['filename'])}"
        if item is None or requested != expected:
            return web.Response(status=404, text="Not Found")
        try:
            expires, issued = int(request.query["ex"], 16), int(request.query["is"], 16)
            signed = hmac.compare_digest(request.query["hm"], self._sign(int(raw_id), expires, issued))
        except (KeyError, ValueError):
            signed = False
        now = time.time()
        if not signed or expires < now or item.expires_at < now:
            return web.Response(status=403, text="This content is no longer available.")
        return web.Response(
            body=item.data, headers={"Content-Type": item.content_type or "application/octet-stream"}
        )
