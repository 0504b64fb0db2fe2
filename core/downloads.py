"""Bounded downloads from an allowlist of hosts: the only way the bot fetches a URL it was handed.

The bot fetches two kinds of URLs it did not build itself: Discord attachment URLs (from an
interaction payload) and Segmind result URLs (from a Segmind answer). Either could name any host,
so every such GET goes through `Downloader.get`, which
- refuses a URL whose host is not on the allowlist (exact names, or `*.suffix` for subdomains),
  and re-checks every redirect hop (a redirect is followed by hand, never by aiohttp);
- refuses userinfo in URLs and any scheme but http(s);
- stops reading past `max_bytes` (Content-Length is checked first, then the running total);
- gives the whole download, redirects included, one total timeout.
No secret is ever sent: callers add no headers here.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

DISCORD_ATTACHMENT_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
# Where Segmind's v2 results live is not documented [?]: its own domain and S3/CloudFront buckets
# are what public samples show. The API and upload hosts are added by the client; the operator
# can add more with DOWNLOAD_ALLOWED_HOSTS.
SEGMIND_RESULT_HOSTS = ("segmind.com", "*.segmind.com", "*.s3.amazonaws.com", "*.cloudfront.net")
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


class DownloadError(Exception):
    """A download that did not produce a body. `retryable`: trying again later may work."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class HostNotAllowed(DownloadError):
    """The URL (or a redirect) names a host outside the allowlist, or is not plain http(s)."""


class TooLarge(DownloadError):
    """The body is larger than the cap."""


class DownloadTransient(DownloadError):
    """Timeout, connection failure, 408/429/5xx: the same URL may work a moment later."""

    retryable = True


class HostAllowlist:
    """Host names (case-insensitive); `*.example.com` matches every subdomain of example.com."""

    def __init__(self, hosts: Iterable[str]) -> None:
        exact: set[str] = set()
        suffixes: set[str] = set()
        for raw in hosts:
            host = raw.strip().lower().rstrip(".")
            if not host:
                continue
            if host.startswith("*."):
                suffixes.add(host[1:])  # ".example.com"
            else:
                exact.add(_bare(host))
        self._exact = frozenset(exact)
        self._suffixes = tuple(sorted(suffixes))

    def __repr__(self) -> str:
        return f"HostAllowlist({sorted(self._exact) + ['*' + s for s in self._suffixes]})"

    def extended(self, hosts: Iterable[str]) -> HostAllowlist:
        return HostAllowlist([*self._exact, *("*" + s for s in self._suffixes), *hosts])

    def allows(self, host: str | None) -> bool:
        if not host:
            return False
        host = _bare(host.lower().rstrip("."))
        if host in self._exact:
            return True
        if _is_ip(host):
            return False  # an IP literal is allowed only by name, never by a wildcard
        return any(host.endswith(suffix) for suffix in self._suffixes)

    def check(self, url: str) -> None:
        """Raise HostNotAllowed unless `url` is an http(s) URL on an allowed host."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # a malformed port raises here
        except ValueError:
            raise HostNotAllowed("malformed URL") from None
        if parts.scheme not in ("http", "https"):
            raise HostNotAllowed(f"scheme {parts.scheme or '(none)'!r} is not allowed")
        if parts.username is not None or parts.password is not None:
            raise HostNotAllowed("URLs with credentials are not allowed")
        if not self.allows(host):
            raise HostNotAllowed(f"host {host!r} is not on the download allowlist")


def host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _bare(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Download:
    url: str  # the final URL, after redirects
    status: int
    headers: Mapping[str, str]
    data: bytes


class Downloader:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        allowlist: HostAllowlist,
        *,
        max_bytes: int,
        timeout: float,
    ) -> None:
        if max_bytes <= 0 or timeout <= 0:
            raise ValueError("max_bytes and timeout must be positive")
        self._session = session
        self.allowlist = allowlist
        self.max_bytes = max_bytes
        self.timeout = timeout

    def with_hosts(self, hosts: Iterable[str]) -> Downloader:
        return Downloader(
            self._session, self.allowlist.extended(hosts), max_bytes=self.max_bytes, timeout=self.timeout
        )

    async def get(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
        ok_statuses: Iterable[int] = (200,),
    ) -> Download:
        """GET `url` within the limits. Returns the body of an `ok_statuses` answer; any other
        answer raises: DownloadTransient for 408/429/5xx, DownloadError (with `status`) otherwise.
        Timeouts and connection failures are DownloadTransient."""
        chunks: list[bytes] = []
        url, status, headers = await self.get_into(
            url, chunks.append, max_bytes=max_bytes, timeout=timeout, ok_statuses=ok_statuses
        )
        return Download(url, status, headers, b"".join(chunks))

    async def get_into(
        self,
        url: str,
        sink: Callable[[bytes], object],
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
        ok_statuses: Iterable[int] = (200,),
    ) -> tuple[str, int, Mapping[str, str]]:
        """Like `get`, but each chunk of the body goes to `sink` as it arrives (the body is never
        held whole); returns the final URL, the status and the headers. On an error, `sink` may
        have taken part of the body: the caller discards it."""
        cap = self.max_bytes if max_bytes is None else min(max_bytes, self.max_bytes)
        total = self.timeout if timeout is None else min(timeout, self.timeout)
        ok = frozenset(ok_statuses)
        try:
            async with asyncio.timeout(total):
                return await self._get(url, cap, ok, total, sink)
        except TimeoutError:
            raise DownloadTransient(f"no complete answer within {total:g} s") from None

    async def _get(
        self, url: str, cap: int, ok: frozenset[int], total: float, sink: Callable[[bytes], object]
    ) -> tuple[str, int, Mapping[str, str]]:
        for _hop in range(MAX_REDIRECTS + 1):
            self.allowlist.check(url)
            try:
                async with self._session.get(
                    url,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=total, connect=min(10.0, total)),
                ) as resp:
                    status = resp.status
                    if status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if status not in ok:
                        if status in (408, 429) or status >= 500:
                            raise DownloadTransient(f"answered {status}", status=status)
                        raise DownloadError(f"answered {status}", status=status)
                    if resp.content_length is not None and resp.content_length > cap:
                        raise TooLarge(f"body is larger than {cap} bytes", status=status)
                    size = 0
                    async for chunk in resp.content.iter_chunked(CHUNK):
                        size += len(chunk)
                        if size > cap:
                            raise TooLarge(f"body is larger than {cap} bytes", status=status)
                        sink(chunk)
                    return url, status, resp.headers
            except aiohttp.InvalidURL:
                raise HostNotAllowed("malformed URL") from None
            except aiohttp.ClientError as exc:
                raise DownloadTransient(f"transfer failed ({type(exc).__name__})") from None
        raise DownloadError(f"more than {MAX_REDIRECTS} redirects")
