"""SegmindClient against the fake Segmind over real sockets, and the pure mappings table-tested."""

from __future__ import annotations

import asyncio
import io
import logging
import random
import socket
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from PIL import Image

from core.blobs import BlobStore
from core.errors import (
    ProviderAuthError,
    ProviderBadOutput,
    ProviderError,
    ProviderModelUnavailable,
    ProviderModerated,
    ProviderOutOfCredits,
    ProviderRateLimited,
    ProviderRejected,
    ProviderResultExpired,
    ProviderSubmitUncertain,
    ProviderUnavailable,
)
from core.images import sniff_image_type
from core.models import ModelId
from core.ratelimit import SlidingWindowLimiter
from core.segmind import SegmindClient, SegmindTimeouts
from core.segmind_protocol import error_from_response, extract_output, parse_reset_at
from tests.fakes.segmind_server import FakeSegmind, Fault, render_image

API_KEY = "sk-test-0123456789abcdef"
PRO_BODY = {"prompt": "a red fox", "width": 1024, "height": 768, "output_format": "png", "seed": 7}
KLEIN_BODY = {"prompt": "a blue whale", "aspect_ratio": "16:9", "image_format": "webp", "seed": 9}
FAST = SegmindTimeouts(submit=2, poll=2, download=2, sync=5, poll_deadline=20, upload=2)


class RecordingSleep:
    """Records every wait the client asks for; waits only a token amount."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(min(seconds, 0.005))


@pytest.fixture
async def fake():
    server = FakeSegmind(API_KEY, latency=0.02, image_size=(32, 24))
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def stored_files(blobs: BlobStore) -> list:
    return sorted(p for p in blobs.root.rglob("*") if p.is_file())


@pytest.fixture
def make_client(fake, session, sleeps, blobs):
    def make(**overrides) -> SegmindClient:
        options = dict(
            api_key=API_KEY,
            blobs=blobs,
            base_url=fake.base_url,
            upload_url=fake.upload_url,
            timeouts=FAST,
            poll_interval=0.01,
            poll_interval_max=0.02,
            sleep=sleeps,
            rng=random.Random(0),
        )
        options.update(overrides)
        return SegmindClient(session, **options)

    return make


def png(size=(40, 30), color=(10, 200, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def wait_until(predicate, attempts: int = 500) -> None:
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


# --- pure mappings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected", "text"),
    [
        (
            400,
            b'{"error": "width must be a multiple of 16"}',
            ProviderRejected,
            "width must be a multiple of 16",
        ),
        (422, b'{"message": "steps out of range"}', ProviderRejected, "steps out of range"),
        (
            400,
            b'{"detail": [{"loc": ["body", "steps"], "msg": "too big"}]}',
            ProviderRejected,
            "steps: too big",
        ),
        (400, b'{"error": {"message": "nested text"}}', ProviderRejected, "nested text"),
        (400, b'{"error": "Request Moderated"}', ProviderModerated, "Request Moderated"),
        (422, b'{"status": "FAILED", "error": "Content Moderated"}', ProviderModerated, "Content Moderated"),
        (400, b'{"error": "NSFW content detected in input"}', ProviderModerated, "NSFW"),
        (422, b'{"detail": "blocked by the safety system"}', ProviderModerated, "safety"),
        (400, b"The request was moderated.", ProviderModerated, "moderated"),
        # Segmind's own parameter error about safety_tolerance is not a moderation verdict.
        (400, b'{"error": "safety_tolerance must be between 0 and 6"}', ProviderRejected, "safety_tolerance"),
        (401, b'{"error": "Invalid API key"}', ProviderAuthError, "Invalid API key"),
        (403, b'{"error": "Model not allowed"}', ProviderAuthError, "Model not allowed"),
        (404, b'{"error": "Model not found"}', ProviderModelUnavailable, "Model not found"),
        (410, b"", ProviderModelUnavailable, "Gone"),
        (
            405,
            b"<html><body><h1>405 Not Allowed</h1></body></html>",
            ProviderModelUnavailable,
            "405 Not Allowed",
        ),
        (406, b'{"error": "Insufficient credits"}', ProviderOutOfCredits, "Insufficient credits"),
        (429, b'{"error": "Rate limit exceeded"}', ProviderRateLimited, "Rate limit exceeded"),
        (500, b'{"error": "Internal Server Error"}', ProviderUnavailable, "Internal Server Error"),
        (502, b"<html><head><style>x{}</style></head>Bad Gateway</html>", ProviderUnavailable, "Bad Gateway"),
        (503, b"", ProviderUnavailable, "Service Unavailable"),
        (504, b"\x00\xff\xfe garbage \x89", ProviderUnavailable, "garbage"),
        (599, b"?", ProviderUnavailable, "?"),
        (408, b"", ProviderUnavailable, "Request Timeout"),
        (413, b'{"error": "Payload too large"}', ProviderRejected, "Payload too large"),
    ],
)
def test_error_from_response_maps_each_status(status, body, expected, text):
    error = error_from_response(status, body, {})
    assert type(error) is expected, f"{status} {body!r} → {type(error).__name__}"
    assert text in error.message
    assert error.status == status
    assert error.retryable == (expected in (ProviderRateLimited, ProviderUnavailable))


def test_error_from_response_caps_the_message_and_survives_garbage():
    shown_at_most = 300  # characters of Segmind's text a user may be shown (written out, not imported)
    huge = b'{"error": "' + b"x" * 10_000 + b'"}'
    assert len(error_from_response(400, huge, {}).message) <= shown_at_most
    html = b"<html>" + b"<p>oops</p>" * 5000 + b"</html>"
    assert len(error_from_response(500, html, {}).message) <= shown_at_most
    assert error_from_response(400, b'{"error": "a\nb\x00c"}', {}).message == "a b c"
    assert isinstance(error_from_response(400, b"[1, 2", {}), ProviderRejected)


def test_error_from_response_reads_the_reset_header_case_insensitively():
    error = error_from_response(429, b"", {"X-Rate-Limit-Reset-At-UTC": "2030-01-01T00:00:00Z"})
    assert isinstance(error, ProviderRateLimited)
    assert error.reset_at == datetime(2030, 1, 1, tzinfo=UTC).timestamp()
    assert error_from_response(429, b"", {}).reset_at is None
    assert error_from_response(429, b"", {"x-rate-limit-reset-at-utc": "soon"}).reset_at is None


JAN_2030 = datetime(2030, 1, 1, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-01-01T00:00:00Z", JAN_2030),
        ("2030-01-01T00:00:00", JAN_2030),
        ("2030-01-01T00:00:00.000Z", JAN_2030),
        ("2030-01-01T01:00:00+01:00", JAN_2030),
        ("2030-01-01 00:00:00", JAN_2030),
        ("Tue, 01 Jan 2030 00:00:00 GMT", JAN_2030),
        (str(int(JAN_2030)), JAN_2030),
        (str(int(JAN_2030 * 1000)), JAN_2030),
        (f"{JAN_2030 + 0.5}", JAN_2030 + 0.5),
        ("  2030-01-01T00:00:00Z  ", JAN_2030),
        (None, None),
        ("", None),
        ("garbled", None),
        ("nan", None),
        ("inf", None),
        ("30", None),
        ("2030-13-45T99:00:00Z", None),
    ],
)
def test_parse_reset_at(value, expected):
    assert parse_reset_at(value) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"output": "https://x/a.png"}, "https://x/a.png"),
        ({"output": ["https://x/a.png", "https://x/b.png"]}, "https://x/a.png"),
        ({"output": {"url": "https://x/a.png"}}, "https://x/a.png"),
        ({"output": {"image": "https://x/a.png"}}, "https://x/a.png"),
        ({"images": [{"url": "https://x/a.png", "content_type": "image/png"}]}, "https://x/a.png"),
        ({"images": ["https://x/a.png"]}, "https://x/a.png"),
        ({"output": "data:image/png;base64,iVBORw0KGgo="}, "data:image/png;base64,iVBORw0KGgo="),
        ({"image": "A" * 80}, "A" * 80),
        ({"output": None, "images": [{"url": "https://x/a.png"}]}, "https://x/a.png"),
        ({"status": "COMPLETED", "status_url": "https://x/status"}, None),
        ({"output": "not a url"}, None),
        ({"output": []}, None),
        ("https://x/a.png", "https://x/a.png"),
        (None, None),
    ],
)
def test_extract_output_reads_every_plausible_form(payload, expected):
    assert extract_output(payload) == expected


# --- v2 queue ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "body", "mime"),
    [(ModelId.PRO, PRO_BODY, "image/png"), (ModelId.KLEIN, KLEIN_BODY, "image/webp")],
)
async def test_v2_happy_path(fake, make_client, model, body, mime):
    client = make_client()
    seen: list[str] = []

    async def on_submitted(request_id: str) -> None:
        assert fake.calls("status") == [], "the id must be reported before polling starts"
        assert request_id in fake.jobs
        seen.append(request_id)

    image = await client.generate(model, body, on_submitted=on_submitted)

    assert seen == [image.request_id]
    assert image.mime == mime == sniff_image_type(image.read_bytes())
    assert Image.open(io.BytesIO(image.read_bytes())).size == (32, 24)
    assert image.cost_usd == fake.prices[model.value]
    assert image.generation_seconds is not None
    assert fake.submits == [body]
    assert fake.billed == 1
    assert fake.unknown_params == []
    assert all(r.had_api_key for r in fake.requests if r.endpoint in ("submit", "status", "result"))


async def test_resume_with_request_id_does_not_submit_again(fake, make_client):
    client = make_client()

    class Crash(Exception):
        pass

    captured: list[str] = []

    async def crash_after_persisting(request_id: str) -> None:
        captured.append(request_id)
        raise Crash

    with pytest.raises(Crash):
        await client.generate(ModelId.PRO, PRO_BODY, on_submitted=crash_after_persisting)
    assert fake.calls("status") == [], "a failing on_submitted stops the flow before polling"

    restarted = make_client()
    image = await restarted.generate(ModelId.PRO, {}, request_id=captured[0])
    assert image.request_id == captured[0]
    assert sniff_image_type(image.read_bytes()) == "image/png"
    assert len(fake.submits) == 1
    assert len(fake.calls("submit")) == 1
    assert fake.billed == 1


async def test_request_id_is_resumed_through_v2_even_in_sync_mode(fake, make_client):
    queued = make_client()
    first = await queued.generate(ModelId.KLEIN, KLEIN_BODY)
    again = await make_client(mode="sync").generate(ModelId.KLEIN, {}, request_id=first.request_id)
    assert again.read_bytes() == first.read_bytes()
    assert fake.calls("v1") == []


@pytest.mark.parametrize("form", ["url", "list", "dict", "images", "data_uri", "base64"])
async def test_every_result_form_is_read(fake, make_client, form):
    fake.result_form = form
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png"
    downloads = len(fake.calls("download"))
    assert downloads == (0 if form in ("data_uri", "base64") else 1)


async def test_results_differ_by_seed_and_prompt(fake, make_client):
    client = make_client()
    a = await client.generate(ModelId.PRO, PRO_BODY)
    b = await client.generate(ModelId.PRO, {**PRO_BODY, "seed": 8})
    c = await client.generate(ModelId.PRO, PRO_BODY)
    assert a.read_bytes() != b.read_bytes()
    assert a.read_bytes() == c.read_bytes()


async def test_transient_poll_failures_are_retried_without_resubmitting(fake, make_client, sleeps):
    fake.script(
        "status", Fault(503), Fault(drop=True), Fault(429, headers={"x-rate-limit-reset-at-utc": "bad"})
    )
    fake.script("result", Fault(502))
    fake.script("download", Fault(500))
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png"
    assert len(fake.calls("submit")) == 1
    assert fake.billed == 1


async def test_poll_failures_past_max_attempts_raise_the_last_error_without_resubmitting(fake, make_client):
    fake.script("status", *[Fault(503)] * 3)
    with pytest.raises(ProviderUnavailable) as info:
        await make_client(max_attempts=3).generate(ModelId.PRO, PRO_BODY)
    assert info.value.status == 503
    assert len(fake.calls("status")) == 3
    assert len(fake.calls("submit")) == 1


async def test_status_completed_but_result_still_processing_keeps_polling(fake, make_client):
    fake.latency = 0.0
    fake.script("result", Fault(200, {"status": "PROCESSING"}))
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png"
    assert len(fake.calls("result")) == 2


async def test_a_job_that_never_finishes_hits_the_poll_deadline(fake, make_client):
    fake.latency = 60.0
    client = make_client(timeouts=SegmindTimeouts(submit=2, poll=2, download=2, sync=2, poll_deadline=0.1))
    with pytest.raises(ProviderSubmitUncertain):
        await client.generate(ModelId.PRO, PRO_BODY)
    assert len(fake.calls("submit")) == 1


# --- v1 sync -------------------------------------------------------------------------------------


async def test_v1_happy_path_reads_raw_bytes_and_headers(fake, make_client):
    client = make_client(mode="sync")
    assert client.mode == "sync"
    called: list[str] = []

    async def on_submitted(request_id: str) -> None:
        called.append(request_id)

    image = await client.generate(ModelId.PRO, PRO_BODY, on_submitted=on_submitted)
    assert called == [], "on_submitted is a v2 notion"
    assert image.mime == "image/png" == sniff_image_type(image.read_bytes())
    assert image.seed == 7
    assert image.cost_usd == pytest.approx(0.073)
    assert image.remaining_credits_usd == pytest.approx(100.0 - 0.073)
    assert image.generation_seconds == pytest.approx(0.02)
    assert image.request_id
    assert fake.v1_calls == [PRO_BODY]
    assert fake.calls("submit") == [] and fake.calls("status") == []
    assert fake.billed == 1


async def test_v1_accepts_any_content_type_and_trusts_magic_bytes(fake, make_client):
    jpeg, _ = render_image("p", 1, (16, 16), "jpeg")
    fake.script("v1", Fault(200, jpeg, headers={"Content-Type": "application/octet-stream"}, accept=True))
    image = await make_client(mode="sync").generate(ModelId.KLEIN, KLEIN_BODY)
    assert image.mime == "image/jpeg"
    assert image.seed is None and image.cost_usd is None  # headers are read when present, never required


async def test_v1_rejects_a_body_that_is_not_an_image(fake, make_client):
    fake.script("v1", Fault(200, "<html>oops</html>", headers={"Content-Type": "image/png"}, accept=True))
    with pytest.raises(ProviderBadOutput):
        await make_client(mode="sync").generate(ModelId.KLEIN, KLEIN_BODY)
    assert len(fake.calls("v1")) == 1


@pytest.mark.parametrize("fault", [Fault(hang=True), Fault(drop=True), Fault(drop=True, accept=True)])
async def test_v1_unanswered_call_is_uncertain_and_never_reposted(fake, make_client, fault):
    fake.script("v1", fault)
    client = make_client(mode="sync", timeouts=SegmindTimeouts(sync=0.3))
    with pytest.raises(ProviderSubmitUncertain):
        await client.generate(ModelId.KLEIN, KLEIN_BODY)
    assert len(fake.calls("v1")) == 1


# --- billed POST retry policy --------------------------------------------------------------------


async def test_submit_500_then_success_posts_twice_and_bills_once(fake, make_client, sleeps):
    fake.script("submit", Fault(500))
    image = await make_client().generate(ModelId.KLEIN, KLEIN_BODY)
    assert image.mime == "image/webp"
    assert [r.status for r in fake.calls("submit")] == [500, 200]
    assert len(fake.submits) == 1
    assert fake.billed == 1
    assert len(sleeps.calls) >= 1 and 0 <= sleeps.calls[0] <= 1.0  # first backoff ≤ backoff_base


async def test_429_reset_header_is_honoured(fake, make_client, sleeps):
    fake.script(
        "submit",
        Fault(429, {"error": "Rate limit exceeded"}, headers={"x-rate-limit-reset-at-utc": iso_in(7)}),
    )
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png"
    assert 4.0 < sleeps.calls[0] <= 7.0, sleeps.calls
    assert len(fake.calls("submit")) == 2


async def test_429_reset_wait_is_capped(fake, make_client, sleeps):
    fake.script("submit", Fault(429, headers={"x-rate-limit-reset-at-utc": iso_in(3600)}))
    await make_client().generate(ModelId.PRO, PRO_BODY)
    assert sleeps.calls[0] == 120.0


async def test_fake_rate_limit_exhausts_the_attempts_then_raises_rate_limited(make_client, session, sleeps):
    server = FakeSegmind(API_KEY, latency=0.0, rate_limit_per_minute=1, image_size=(16, 16))
    await server.start()
    try:
        limiter_time = {"now": 0.0}
        limiter_waits: list[float] = []

        async def limiter_sleep(seconds: float) -> None:
            limiter_waits.append(seconds)
            limiter_time["now"] += seconds

        limiter = SlidingWindowLimiter(0, clock=lambda: limiter_time["now"], sleep=limiter_sleep)
        client = make_client(base_url=server.base_url, mode="sync", max_attempts=3, limiter=limiter)
        await client.generate(ModelId.KLEIN, KLEIN_BODY)
        with pytest.raises(ProviderRateLimited) as info:
            await client.generate(ModelId.KLEIN, KLEIN_BODY)
    finally:
        await server.close()
    assert info.value.reset_at is not None
    assert server.rate_limited == 3
    assert server.billed == 1
    waits = sleeps.calls
    assert len(waits) == 2 and all(50 < w <= 60 for w in waits), waits
    assert len(limiter_waits) == 2 and all(50 < w <= 60 for w in limiter_waits), (
        "a 429 holds back every caller"
    )


async def test_submit_that_hangs_is_uncertain_after_one_post(fake, make_client):
    fake.script("submit", Fault(hang=True))
    client = make_client(timeouts=SegmindTimeouts(submit=0.3))
    submitted: list[str] = []

    async def on_submitted(request_id: str) -> None:
        submitted.append(request_id)

    with pytest.raises(ProviderSubmitUncertain):
        await client.generate(ModelId.PRO, PRO_BODY, on_submitted=on_submitted)
    assert len(fake.calls("submit")) == 1
    assert submitted == []


async def test_drop_after_accept_is_uncertain_and_never_reposted(fake, make_client):
    fake.script("submit", Fault(drop=True, accept=True))
    with pytest.raises(ProviderSubmitUncertain):
        await make_client().generate(ModelId.PRO, PRO_BODY)
    assert len(fake.calls("submit")) == 1
    assert len(fake.submits) == 1
    await wait_until(lambda: fake.billed == 1)  # Segmind did the work and charges for it


async def test_submit_200_without_request_id_is_uncertain(fake, make_client):
    fake.script("submit", Fault(200, {"status": "QUEUED"}, accept=True))
    with pytest.raises(ProviderSubmitUncertain):
        await make_client().generate(ModelId.PRO, PRO_BODY)
    assert len(fake.calls("submit")) == 1


async def test_connection_refused_is_retried_then_unavailable(make_client, sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}", max_attempts=3)
    with pytest.raises(ProviderUnavailable):
        await client.generate(ModelId.PRO, PRO_BODY)
    assert len(sleeps.calls) == 2


async def test_limiter_is_acquired_before_each_billed_post_only(fake, make_client):
    acquisitions: list[float] = []

    class CountingLimiter(SlidingWindowLimiter):
        async def acquire(self) -> None:
            acquisitions.append(1)
            await super().acquire()

    fake.script("submit", Fault(503))
    client = make_client(limiter=CountingLimiter(10))
    await client.generate(ModelId.PRO, PRO_BODY)
    assert len(acquisitions) == 2, "one per POST attempt, none for the GETs"
    await make_client(mode="sync", limiter=CountingLimiter(10)).generate(ModelId.PRO, PRO_BODY)
    assert len(acquisitions) == 3


# --- terminal errors -----------------------------------------------------------------------------


async def test_failed_moderation_maps_to_moderated(fake, make_client):
    fake.fail_job("moderated")
    with pytest.raises(ProviderModerated) as info:
        await make_client().generate(ModelId.PRO, PRO_BODY)
    assert info.value.status == 422
    assert fake.billed == 0
    assert len(fake.calls("submit")) == 1


async def test_failed_error_maps_to_rejected_with_segmind_text(fake, make_client):
    fake.fail_job("error", "GPU fell over")
    with pytest.raises(ProviderRejected) as info:
        await make_client().generate(ModelId.KLEIN, KLEIN_BODY)
    assert info.value.message == "GPU fell over"
    assert fake.billed == 0


async def test_failed_only_on_result_url_is_terminal(fake, make_client):
    fake.script("result", Fault(422, {"status": "FAILED", "error": "NSFW content detected"}))
    with pytest.raises(ProviderModerated):
        await make_client().generate(ModelId.PRO, PRO_BODY)


async def test_v1_moderation_is_moderated(fake, make_client):
    fake.fail_job("moderated")
    with pytest.raises(ProviderModerated):
        await make_client(mode="sync").generate(ModelId.PRO, PRO_BODY)
    assert fake.billed == 0


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({**PRO_BODY, "width": 1000}, "width must be a multiple of 16"),
        ({**PRO_BODY, "safety_tolerance": 9}, "safety_tolerance must be an integer between 0 and 6"),
        ({"width": 512}, "prompt is required"),
    ],
)
async def test_invalid_parameters_are_rejected_with_segmind_text_and_not_retried(
    fake, make_client, body, text
):
    with pytest.raises(ProviderRejected) as info:
        await make_client().generate(ModelId.PRO, body)
    assert type(info.value) is ProviderRejected
    assert info.value.message == text
    assert info.value.status == 400
    assert len(fake.calls("submit")) == 1


async def test_klein_validation_in_the_fake(fake, make_client):
    client = make_client(mode="sync")
    for body, text in [
        ({"prompt": "x", "aspect_ratio": "match_input_image"}, "match_input_image requires image_urls"),
        ({"prompt": "x", "cfg": 25}, "cfg must be a number between 1 and 20"),
        ({"prompt": "x", "image_format": "gif"}, "image_format must be one of"),
        ({"prompt": "x", "image_urls": ["https://a"] * 5}, "at most 4"),
    ]:
        with pytest.raises(ProviderRejected) as info:
            await client.generate(ModelId.KLEIN, body)
        assert text in info.value.message
    await client.generate(ModelId.KLEIN, {"prompt": "x", "mystery": 1})
    assert fake.unknown_params == [("flux-2-klein-9b", "mystery")]


async def test_wrong_key_is_auth_error(fake, make_client):
    with pytest.raises(ProviderAuthError) as info:
        await make_client(api_key="sk-wrong-key").generate(ModelId.PRO, PRO_BODY)
    assert info.value.operator_alert
    assert "sk-wrong-key" not in str(info.value)
    assert len(fake.calls("submit")) == 1


async def test_insufficient_credits_is_out_of_credits(make_client, session):
    server = FakeSegmind(API_KEY, latency=0.0, account_credits=0.01, image_size=(16, 16))
    await server.start()
    try:
        with pytest.raises(ProviderOutOfCredits):
            await make_client(base_url=server.base_url).generate(ModelId.PRO, PRO_BODY)
    finally:
        await server.close()
    assert server.billed == 0 and server.submits == []


async def test_unknown_model_is_model_unavailable(fake, make_client):
    client = make_client()
    with pytest.raises(ValueError):
        await client.generate("flux-9-ultra", PRO_BODY)  # type: ignore[arg-type]
    fake.script("submit", Fault(404, {"error": "Model not found"}))
    with pytest.raises(ProviderModelUnavailable):
        await client.generate(ModelId.PRO, PRO_BODY)


async def test_poll_404_is_result_expired(fake, make_client):
    async def expire_at_once(request_id: str) -> None:
        fake.expire(request_id)

    with pytest.raises(ProviderResultExpired):
        await make_client().generate(ModelId.PRO, PRO_BODY, on_submitted=expire_at_once)
    with pytest.raises(ProviderResultExpired):
        await make_client().generate(ModelId.PRO, {}, request_id="00000000-0000-0000-0000-000000000000")


async def test_requests_past_retention_are_expired(fake, make_client):
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    fake.retention = 0.0
    with pytest.raises(ProviderResultExpired):
        await make_client().generate(ModelId.PRO, {}, request_id=image.request_id)


# --- bad output ----------------------------------------------------------------------------------


BAD_DOWNLOADS = [
    Fault(200, "<html><body>Access denied</body></html>", headers={"Content-Type": "image/png"}),
    Fault(200, b""),
    Fault(200, b"GIF89a" + b"\x00" * 64, headers={"Content-Type": "image/gif"}),
    Fault(200, png()[:60], headers={"Content-Type": "image/png"}),  # truncated
]
BAD_IDS = ["html", "empty", "gif", "truncated"]


@pytest.mark.parametrize("fault", BAD_DOWNLOADS, ids=BAD_IDS)
async def test_bad_download_that_persists_is_bad_output(fake, make_client, fault, blobs):
    fake.script("download", *([fault] * 4))
    with pytest.raises(ProviderBadOutput):
        await make_client().generate(ModelId.PRO, PRO_BODY)
    assert len(fake.calls("download")) == 4, "each of max_attempts downloads was tried"
    assert len(fake.submits) == 1
    assert stored_files(blobs) == [], "refused bytes are neither kept as a blob nor left partial"


@pytest.mark.parametrize("fault", BAD_DOWNLOADS, ids=BAD_IDS)
async def test_one_bad_download_of_a_billed_result_is_fetched_again(fake, make_client, fault, blobs):
    fake.script("download", fault)
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png"
    assert len(fake.calls("download")) == 2 and len(fake.submits) == 1 and fake.billed == 1
    assert stored_files(blobs) == [image.path], "only the good image is stored"
    assert image.path == blobs.path(image.blob) and image.size == len(image.read_bytes())


@pytest.mark.parametrize(
    "fault",
    [Fault(200, "<html>Bad gateway page</html>"), Fault(200, b""), Fault(200, b"\x00\x01garbage")],
    ids=["html", "empty", "garbage"],
)
async def test_a_status_answer_that_is_not_json_is_polled_again(fake, make_client, fault):
    fake.script("status", fault, fault)
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png" and len(fake.submits) == 1


async def test_status_answers_that_stay_garbage_are_unavailable_not_bad_output(fake, make_client):
    fake.script("status", *([Fault(200, "<html>maintenance</html>")] * 4))
    with pytest.raises(ProviderUnavailable) as info:
        await make_client().generate(ModelId.PRO, PRO_BODY)
    assert info.value.retryable, "the request may still finish: the caller keeps following it"
    assert len(fake.submits) == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_oversized_download_is_bad_output(fake, make_client, chunked, blobs):
    fake.result_bytes_size = 300_000
    if chunked:
        data, _ = render_image("p", 1, (16, 16), "png", pad_to=300_000)
        fake.script("download", Fault(200, data, headers={"Content-Type": "image/png"}, chunked=True))
    with pytest.raises(ProviderBadOutput) as info:
        await make_client(max_image_bytes=100_000).generate(ModelId.PRO, PRO_BODY)
    assert "larger than" in info.value.message
    assert stored_files(blobs) == []


async def test_padded_result_under_the_cap_is_accepted(fake, make_client):
    fake.result_bytes_size = 300_000
    image = await make_client(max_image_bytes=400_000).generate(ModelId.PRO, PRO_BODY)
    assert len(image.read_bytes()) == 300_000


def _png_announcing(width: int, height: int) -> bytes:
    import struct
    import zlib

    data = bytearray(png((8, 8)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize("side", [7_000, 50_000], ids=["49MP", "2.5GP"])
async def test_a_result_announcing_too_many_pixels_is_refused_before_decoding(fake, make_client, side):
    bomb = Fault(200, _png_announcing(side, side), headers={"Content-Type": "image/png"})
    fake.script("download", *[bomb] * 4)
    with pytest.raises(ProviderBadOutput) as info:
        await make_client().generate(ModelId.PRO, PRO_BODY)
    assert "damaged" in info.value.message


async def test_expired_download_is_result_expired(fake, make_client):
    fake.script("download", *([Fault(404, "<Error><Code>NoSuchKey</Code></Error>")] * 4))
    with pytest.raises(ProviderResultExpired):
        await make_client().generate(ModelId.PRO, PRO_BODY)


async def test_one_404_on_the_result_file_is_fetched_again(fake, make_client):
    # Storage can lag behind COMPLETED; the result is billed, so one miss is not the end.
    fake.script("download", Fault(404, "<Error><Code>NoSuchKey</Code></Error>"))
    image = await make_client().generate(ModelId.PRO, PRO_BODY)
    assert image.mime == "image/png" and len(fake.calls("download")) == 2


async def test_result_url_on_a_foreign_host_is_refused_without_a_request(fake, make_client):
    fake.result_form = "url"
    # "localhost" is the API here, so results named under 127.0.0.1 are another host.
    port = fake.base_url.rsplit(":", 1)[1]
    client = make_client(base_url=f"http://localhost:{port}", upload_url=f"http://localhost:{port}/upload-asset")
    with pytest.raises(ProviderBadOutput) as info:
        await client.generate(ModelId.PRO, PRO_BODY)
    assert "allowlist" in info.value.message
    assert fake.calls("download") == []
    allowed = make_client(
        base_url=f"http://localhost:{port}",
        upload_url=f"http://localhost:{port}/upload-asset",
        download_hosts=("127.0.0.1",),
    )
    assert (await allowed.generate(ModelId.PRO, PRO_BODY)).mime == "image/png"


# --- uploads and credits -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["file_urls", "urls"])
async def test_upload_references_reads_both_reply_keys(fake, make_client, key):
    fake.upload_reply_key = key
    client = make_client()
    urls = await client.upload_references([(png(), "image/png"), (png(color=(1, 2, 3)), "image/png")])
    assert urls == fake.uploads and len(urls) == 2
    image = await client.generate(
        ModelId.KLEIN, {"prompt": "mix them", "image_urls": urls, "aspect_ratio": "match_input_image"}
    )
    assert fake.fetched_urls == urls
    assert image.mime == "image/png"


async def test_upload_count_mismatch_is_bad_output(fake, make_client):
    fake.script("upload", Fault(200, {"file_urls": [fake.base_url + "/uploads/x.png"]}))
    with pytest.raises(ProviderBadOutput):
        await make_client().upload_references([(png(), "image/png"), (png(), "image/png")])


async def test_upload_is_retried_like_a_read(fake, make_client):
    fake.script("upload", Fault(hang=True), Fault(502))
    client = make_client(timeouts=SegmindTimeouts(upload=0.3))
    urls = await client.upload_references([(png(), "image/png")])
    assert len(urls) == 1
    assert len(fake.calls("upload")) == 3
    assert await client.upload_references([]) == []


async def test_unreachable_reference_is_rejected(fake, make_client):
    url = fake.base_url + "/uploads/missing.png"
    with pytest.raises(ProviderRejected) as info:
        await make_client().generate(ModelId.KLEIN, {"prompt": "x", "image_urls": [url]})
    assert info.value.message == f"Failed to fetch image from URL {url}"


async def test_account_credits(fake, make_client):
    client = make_client()
    assert await client.account_credits() == 100.0
    await client.generate(ModelId.PRO, PRO_BODY)
    assert await client.account_credits() == pytest.approx(100.0 - 0.073)
    fake.script("credits", Fault(200, "<html>maintenance</html>"))
    assert await client.account_credits() is None
    with pytest.raises(ProviderAuthError):
        await make_client(api_key="nope").account_credits()


# --- the key stays secret ------------------------------------------------------------------------


async def test_api_key_never_leaks_into_errors_or_logs(fake, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    scenarios = [
        ("submit", Fault(400, {"error": f"bad request from key {API_KEY}"})),
        ("submit", Fault(500, f"<html>{API_KEY}</html>")),
        ("submit", Fault(hang=True)),
        ("status", Fault(422, {"status": "FAILED", "error": f"moderated for {API_KEY}"})),
        ("download", Fault(200, b"nope")),
        ("upload", Fault(401, {"error": f"key {API_KEY} is unknown"})),
    ]
    for endpoint, fault in scenarios:
        fake.script(endpoint, fault)
        client = make_client(max_attempts=1, timeouts=SegmindTimeouts(submit=0.3, poll=2, download=2))
        try:
            if endpoint == "upload":
                await client.upload_references([(png(), "image/png")])
            else:
                await client.generate(ModelId.PRO, PRO_BODY)
        except ProviderError as exc:
            errors.append(exc)
    assert len(errors) == len(scenarios)
    assert any("[redacted]" in str(e) for e in errors)
    for error in errors:
        assert API_KEY not in str(error) and API_KEY not in repr(error)
        assert API_KEY not in error.message
    assert caplog.records, "the client logs at debug/info"
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in str(record.args)


async def test_api_key_is_not_sent_to_other_hosts(fake, session, sleeps, blobs):
    # "localhost" is the API origin here; the fake names its files under 127.0.0.1, another origin.
    port = fake.base_url.rsplit(":", 1)[1]
    client = SegmindClient(
        session,
        api_key=API_KEY,
        blobs=blobs,
        base_url=f"http://localhost:{port}",
        timeouts=FAST,
        poll_interval=0.01,
        sleep=sleeps,
        download_hosts=("127.0.0.1",),
    )
    await client.generate(ModelId.PRO, PRO_BODY)
    downloads = fake.calls("download")
    assert downloads and not any(r.had_api_key for r in downloads)
    assert all(r.had_api_key for r in fake.calls("submit"))
