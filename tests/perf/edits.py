"""Benchmark scenario `edit_rss`: the bot's peak memory while 32 /edit jobs, each with four 20 MiB
reference images, go through it at once (target ≤ 300 MiB).

Every reference is fetched from the fake Discord CDN, checked, stored, downscaled and uploaded to
the fake Segmind by the unmodified `python bot.py`; the figure is the bot process's VmHWM. The
references are PNGs of random noise (which do not compress: 2600×2600 RGB ≈ 19.5 MiB), four
different ones, each attached to every job.

    python -m tests.perf --only edit_rss --no-double
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from tests.perf.fakes import PerfDiscord, PerfSegmind
from tests.perf.harness import KEY, make_world, start_bot, wait_until

MIB = 1 << 20
IMAGE_OPTIONS = ("image", "image2", "image3", "image4")


def noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def add_reference(discord: PerfDiscord, filename: str, data: bytes) -> dict:
    """A user upload on the fake CDN. PerfDiscord drops stored bytes (results are never read back);
    a reference must keep them, since the bot downloads it."""
    att = discord.add_attachment(filename, data, "image/png")
    discord._cdn[int(att["id"])].data = data
    return att


async def edit_rss(opts: Any, scale: int) -> dict[str, Any]:
    jobs, refs, side = (2, 1, 600) if opts.smoke else (32 * scale, 4, 2600)
    images = await asyncio.to_thread(lambda: [noise_png(side) for _ in range(refs)])
    world = await make_world(jobs, 1)  # one member per guild: no per-guild limit gets in the way
    segmind = PerfSegmind(api_key=KEY, latency=0.3, image_bytes=256 * 1024)
    await segmind.start()
    try:
        process = await start_bot(
            world, segmind, opts.tmp / f"edit-rss-{scale}", loop=opts.loop,
            MAX_CONCURRENT_JOBS=str(jobs), MAX_QUEUED_JOBS_PER_GUILD="1000", SEGMIND_REQUESTS_PER_MINUTE="0",
            DOWNLOAD_ALLOWED_HOSTS=urlsplit(world.discord.api_base).hostname or "127.0.0.1",  # the fake CDN
        )
        await asyncio.sleep(0.5)
        idle = process.rss_mib()
        started = time.monotonic()
        sent = []
        for index, member in enumerate(world.members):
            options: dict[str, Any] = {"prompt": f"edit {index}"}
            for n, data in enumerate(images):
                options[IMAGE_OPTIONS[n]] = add_reference(world.discord, f"ref{index}-{n}.png", data)
            sent.append(await world.discord.slash(member.guild, member.channel, member.user, "edit", options))
        done = await wait_until(lambda: all(x.token in world.discord.result_at for x in sent), 60 if opts.smoke else 600, 0.1)
        elapsed = time.monotonic() - started
        peak = process.peak_rss_mib()
        uploads = segmind.calls("upload")
        sent_bytes = [len(u) for r in uploads if isinstance(r.body, dict) for u in r.body.get("data_urls", [])]
        await process.stop()
        result = {
            "jobs": jobs,
            "refs_per_job": refs,
            "ref_mib": round(len(images[0]) / MIB, 1),
            "delivered": sum(1 for x in sent if x.token in world.discord.result_at),
            "idle_rss_mib": round(idle or 0, 1),
            "peak_rss_mib": round(peak or 0, 1),
            "all_delivered_s": round(elapsed, 1),
            "largest_reference_sent_mib": round(max(sent_bytes, default=0) * 3 / 4 / MIB, 2),
        }
        if not done:
            result["error"] = f"only {result['delivered']} of {jobs} edits delivered:\n{process.log()}"
        return result
    finally:
        await segmind.close()
        await world.discord.close()
