"""core.downloads: the allowlist, the size cap and the timeout, against a real local HTTP server."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from core.downloads import (
    DISCORD_ATTACHMENT_HOSTS,
    Downloader,
    DownloadError,
    DownloadTransient,
    HostAllowlist,
    HostNotAllowed,
    TooLarge,
)
from tests.local_http import serving


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("cdn.discordapp.com", True),
        ("CDN.DiscordApp.com", True),
        ("cdn.discordapp.com.", True),
        ("media.discordapp.net", True),
        ("evil-cdn.discordapp.com", False),
        ("cdn.discordapp.com.evil.example", False),
        ("x.segmind.com", True),
        ("a.b.segmind.com", True),
        ("segmind.com", False),  # only "*.segmind.com" is listed in this table's allowlist
        ("notsegmind.com", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("", False),
        (None, False),
    ],
)
def test_allowlist_matches_exact_names_and_subdomain_wildcards(host, allowed):
    allowlist = HostAllowlist([*DISCORD_ATTACHMENT_HOSTS, "*.segmind.com"])
    assert allowlist.allows(host) is allowed


def test_an_ip_literal_is_allowed_only_by_name():
    assert HostAllowlist(["127.0.0.1"]).allows("127.0.0.1")
    assert HostAllowlist(["[::1]"]).allows("::1")
    assert not HostAllowlist(["*.0.0.1"]).allows("127.0.0.1")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://cdn.discordapp.com/a.png",
        "file:///etc/passwd",
        "https://user:pass@cdn.discordapp.com/a.png",
        "https://cdn.discordapp.com:notaport/a.png",
        "//cdn.discordapp.com/a.png",
        "https://127.0.0.1/a.png",
    ],
)
def test_check_refuses_other_schemes_credentials_and_hosts(url):
    with pytest.raises(HostNotAllowed):
        HostAllowlist(DISCORD_ATTACHMENT_HOSTS).check(url)


def test_extended_keeps_the_old_hosts():
    allowlist = HostAllowlist(["a.example"]).extended(["*.b.example"])
    assert allowlist.allows("a.example") and allowlist.allows("x.b.example")


# --- against a server ---------------------------------------------------------------------------


@pytest.fixture
async def server():
    app = web.Application()
    state = {"hits": 0}

    async def image(request):
        state["hits"] += 1
        return web.Response(body=b"x" * int(request.query.get("n", "10")))

    async def chunked(request):
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b"y" * 10_000)
        except ConnectionError:
            pass
        return response

    async def slow(request):
        await asyncio.sleep(1)
        return web.Response(body=b"late")

    async def redirect(request):
        raise web.HTTPFound(request.query["to"])

    async def status(request):
        return web.Response(status=int(request.match_info["code"]), text="nope")

    app.router.add_get("/image", image)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/status/{code}", status)
    async with serving(app) as port:
        yield f"http://127.0.0.1:{port}", state


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


def downloader(session, *hosts, max_bytes=1000, timeout=2.0) -> Downloader:
    return Downloader(session, HostAllowlist(hosts), max_bytes=max_bytes, timeout=timeout)


async def test_downloads_from_an_allowed_host(server, session):
    base, _ = server
    got = await downloader(session, "127.0.0.1").get(f"{base}/image?n=500")
    assert got.status == 200 and got.data == b"x" * 500


async def test_a_host_off_the_list_is_never_contacted(server, session):
    base, state = server
    with pytest.raises(HostNotAllowed):
        await downloader(session, "cdn.discordapp.com").get(f"{base}/image")
    assert state["hits"] == 0


async def test_size_cap_by_content_length_and_while_streaming(server, session):
    base, _ = server
    with pytest.raises(TooLarge):
        await downloader(session, "127.0.0.1").get(f"{base}/image?n=1001")
    with pytest.raises(TooLarge):
        await downloader(session, "127.0.0.1", max_bytes=50_000).get(f"{base}/chunked")
    # a per-call cap can only lower the downloader's own
    with pytest.raises(TooLarge):
        await downloader(session, "127.0.0.1").get(f"{base}/image?n=600", max_bytes=500)
    got = await downloader(session, "127.0.0.1").get(f"{base}/image?n=900", max_bytes=10**9)
    assert len(got.data) == 900


async def test_timeout_is_transient(server, session):
    base, _ = server
    with pytest.raises(DownloadTransient):
        await downloader(session, "127.0.0.1", timeout=0.2).get(f"{base}/slow")


async def test_redirects_are_rechecked_at_every_hop(server, session):
    base, state = server
    port = base.rsplit(":", 1)[1]
    # an allowed host redirecting to a host off the list
    with pytest.raises(HostNotAllowed):
        await downloader(session, "localhost").get(
            f"http://localhost:{port}/redirect?to=http://127.0.0.1:{port}/image"
        )
    assert state["hits"] == 0
    got = await downloader(session, "localhost", "127.0.0.1").get(
        f"http://localhost:{port}/redirect?to=http://127.0.0.1:{port}/image"
    )
    assert got.data == b"x" * 10 and got.url.startswith("http://127.0.0.1")


@pytest.mark.parametrize(("code", "transient"), [(500, True), (503, True), (429, True), (404, False), (403, False)])
async def test_statuses_are_typed(server, session, code, transient):
    base, _ = server
    with pytest.raises(DownloadError) as info:
        await downloader(session, "127.0.0.1").get(f"{base}/status/{code}")
    assert info.value.status == code
    assert isinstance(info.value, DownloadTransient) is transient


async def test_connection_refused_is_transient(session):
    with pytest.raises(DownloadTransient):
        await downloader(session, "127.0.0.1").get("http://127.0.0.1:9/x.png")
