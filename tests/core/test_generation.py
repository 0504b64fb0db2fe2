"""The pipeline against the fake Segmind over real sockets and a real SQLite file (no Discord)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.blobs import BlobStore
from core.errors import (
    InsufficientCredits,
    InvalidRequest,
    PolicyDenied,
    ProviderModerated,
    ProviderRejected,
    ProviderSubmitUncertain,
)
from core.generation import Delivery, DeliveryFailed, GenerationService
from core.jobs import JobKind, JobState, JobStore
from core.ledger import Ledger
from core.models import GenerationSpec, ModelId, build_request, request_body
from core.policy import PaceLimits
from core.pricing import PriceList
from core.ratelimit import SlidingWindowLimiter
from core.segmind import SegmindClient
from tests.fakes.segmind_server import FakeSegmind, Fault
from tests.fakes.segmind_server import _validate_klein as validate_klein
from tests.fakes.segmind_server import _validate_pro as validate_pro

GUILD, CHANNEL, USER = 10, 20, 30


class RecordingPresenter:
    def __init__(self) -> None:
        self.delivered: list[tuple[int, bytes]] = []
        self.failed: list[tuple[int, Exception]] = []
        self.fail_deliveries = 0
        self.permanent = False
        self.done = asyncio.Event()

    async def show_queued(self, job, position):
        pass

    async def show_running(self, job, elapsed):
        pass

    async def deliver(self, job, image, mime, balance_after):
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise DeliveryFailed("discord is down", permanent=self.permanent)
        self.delivered.append((job.id, image.read_bytes()))
        self.done.set()
        return Delivery(CHANNEL, 1000 + job.id)

    async def show_failed(self, job, error):
        self.failed.append((job.id, error))
        self.done.set()


@pytest.fixture
async def segmind():
    fake = FakeSegmind(latency=0.02)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def world(db, tmp_path, segmind):
    session = aiohttp.ClientSession()
    services = []

    def build(mode: str = "queue", limiter=None, **options) -> tuple[GenerationService, RecordingPresenter]:
        client = SegmindClient(
            session,
            limiter=limiter,
            api_key="test-key",
            sink=BlobStore(tmp_path / "blobs"),
            base_url=segmind.base_url,
            upload_url=segmind.upload_url,
            mode=mode,
            poll_interval=0.01,
            poll_interval_max=0.02,
            backoff_base=0.01,
        )
        service = GenerationService(
            db=db,
            jobs=JobStore(db),
            ledger=Ledger(db),
            blobs=BlobStore(tmp_path / "blobs"),
            prices=PriceList.load("data/prices.json"),
            client=client,
            **{
                "progress_interval": 0.05,
                "delivery_retry_delays": (0.01, 0.01),
                "follow_delays": (0.01, 0.01),
                **options,
            },
        )
        presenter = RecordingPresenter()
        service.presenter = presenter
        services.append(service)
        return service, presenter

    yield build
    for service in services:
        await service.close()
    await session.close()


async def settle(service: GenerationService, job_id: int, *states: JobState) -> None:
    for _ in range(500):
        job = await service.jobs.get(job_id)
        if job.state in states and (job.state is not JobState.REFUNDED or job.notified):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} stuck in {job.state}")


async def new_job(service: GenerationService, spec: GenerationSpec | None = None):
    return await service.create_job(
        guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE,
        spec=spec or GenerationSpec(prompt="a lighthouse at dusk"),
    )


async def test_success_captures_once_and_delivers(world, segmind):
    service, presenter = world()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    job = await new_job(service)
    await settle(service, job.id, JobState.POSTED)
    assert [j for j, _ in presenter.delivered] == [job.id]
    assert (await service.ledger.balance(GUILD)).balance == 8
    assert segmind.billed == 1 and len(segmind.submits) == 1
    stored = await service.jobs.get(job.id)
    assert stored.request_id and stored.result_blob and stored.result_seed is not None


async def test_insufficient_credits_creates_no_job(world):
    service, _ = world()
    await service.ledger.grant(GUILD, 1, user_id=1, reason=None)
    with pytest.raises(InsufficientCredits):
        await new_job(service)
    assert await service.jobs.unfinished() == []
    assert await service.ledger.totals(GUILD) == {"grant": 1}


@pytest.mark.parametrize(
    ("arrange", "error_type"),
    [
        (lambda fake: fake.script("submit", Fault(422, {"error": "width must be a multiple of 16"})), ProviderRejected),
        (lambda fake: fake.fail_job("moderated"), ProviderModerated),
    ],
)
async def test_provider_refusals_release_everything(world, segmind, arrange, error_type):
    service, presenter = world()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    arrange(segmind)
    job = await new_job(service)
    await settle(service, job.id, JobState.REFUNDED)
    assert [type(e) for _, e in presenter.failed] == [error_type]
    balance = await service.ledger.balance(GUILD)
    assert (balance.balance, balance.reserved) == (10, 0)


async def test_server_error_then_success_is_one_billed_job(world, segmind):
    service, presenter = world()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    segmind.script("submit", Fault(500, {"error": "boom"}))
    job = await new_job(service)
    await settle(service, job.id, JobState.POSTED)
    assert segmind.billed == 1
    assert (await service.ledger.totals(GUILD))["capture"] == 2


async def test_restart_while_submitted_polls_instead_of_resubmitting(world, segmind, db):
    first, _ = world()
    await first.ledger.grant(GUILD, 10, user_id=1, reason=None)
    segmind.latency = 0.5
    job = await new_job(first)
    for _ in range(300):
        if (await first.jobs.get(job.id)).state is JobState.SUBMITTED:
            break
        await asyncio.sleep(0.01)
    await first.close()  # the "crash": tasks cancelled, only the database remains
    assert (await first.jobs.get(job.id)).state is JobState.SUBMITTED

    second, presenter = world()
    counts = await second.resume()
    assert counts == {"submitted": 1}
    await settle(second, job.id, JobState.POSTED)
    assert len(segmind.submits) == 1, "a submitted job is never posted to Segmind again"
    assert presenter.delivered and (await second.ledger.totals(GUILD))["capture"] == 2


async def test_restart_while_submitting_refunds_without_resubmitting(world, segmind, db):
    service, _ = world()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    job = await new_job(service)
    await settle(service, job.id, JobState.POSTED)
    # Simulate a crash exactly between "submitting" and the reply of a second job.
    async with db.transaction() as tx:
        job_id = await service.jobs.insert_in(
            tx, guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE,
            spec=GenerationSpec(prompt="x", seed=1), price=2, parent_job_id=None, interaction=None,
        )
        await service.ledger.reserve_in(tx, job_id=job_id, guild_id=GUILD, user_id=USER, amount=2)
        await tx.execute("UPDATE jobs SET state = 'submitting' WHERE id = ?", (job_id,))
    restarted, presenter = world()
    await restarted.resume()
    await settle(restarted, job_id, JobState.REFUNDED)
    assert [type(e) for _, e in presenter.failed] == [ProviderSubmitUncertain]
    assert len(segmind.submits) == 1
    assert (await restarted.ledger.balance(GUILD)).reserved == 0


async def test_paid_image_survives_failed_posting(world, segmind):
    service, presenter = world()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    presenter.fail_deliveries = 2
    job = await new_job(service)
    await settle(service, job.id, JobState.POSTED)
    assert len(presenter.delivered) == 1 and segmind.billed == 1
    assert (await service.ledger.totals(GUILD))["capture"] == 2


async def test_unpostable_image_is_kept_and_charged_once(world, segmind):
    service, presenter = world()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    presenter.fail_deliveries, presenter.permanent = 1, True
    job = await new_job(service)
    await settle(service, job.id, JobState.UNDELIVERABLE)
    stored = await service.jobs.get(job.id)
    assert service.blobs.exists(stored.result_blob), "the paid image stays on disk"
    assert (await service.ledger.totals(GUILD))["capture"] == 2


async def test_sync_mode_and_references(world, segmind, tmp_path):
    service, presenter = world("sync")
    await service.ledger.grant(GUILD, 20, user_id=1, reason=None)
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, "PNG")
    ref = await service.blobs.put(out.getvalue())
    spec = GenerationSpec(model=ModelId.PRO, prompt="make it blue", references=[ref], reference_size=(64, 64))
    job = await new_job(service, spec)
    await settle(service, job.id, JobState.POSTED)
    assert len(segmind.v1_calls) == 1 and segmind.uploads
    assert segmind.v1_calls[0]["image_urls"][0].startswith(segmind.base_url)
    assert segmind.unknown_params == []


# --- property: every option set is refused with a named option, or Segmind accepts its body ------

OPTIONS = st.fixed_dictionaries(
    {"model": st.sampled_from(list(ModelId)), "prompt": st.text(max_size=2100)},
    optional={
        "aspect_ratio": st.sampled_from(["1:1", "16:9", "21:9", "match_input_image", "7:3", "", "1:1 "]),
        "seed": st.integers(-(2**64), 2**64),
        "image_format": st.sampled_from(["png", "jpeg", "webp", "gif", "PNG"]),
        "width": st.integers(-(2**20), 2**20),
        "height": st.integers(-(2**20), 2**20),
        "negative_prompt": st.text(max_size=50),
        "steps": st.integers(-(2**20), 2**20),
        "cfg": st.floats(allow_nan=True, allow_infinity=True),
        "sampler": st.sampled_from(["euler", "res_2s", "dpm", ""]),
        "go_fast": st.booleans(),
        "quality": st.integers(-(2**20), 2**20),
        "references": st.lists(st.just("a" * 64), max_size=10),
        "reference_size": st.tuples(st.integers(1, 10_000), st.integers(1, 10_000)),
    },
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options=OPTIONS)
def test_validation_names_the_option_or_the_body_passes_segmind(options):
    """The bot's checks agree with Segmind's own rules (the fake's independent validator): what the
    bot accepts, Segmind accepts; what it refuses is an InvalidRequest naming an option."""
    spec = GenerationSpec(**options)
    try:
        spec.validate_for_model()
    except InvalidRequest as error:
        assert error.option and error.reason
        return
    urls = ["https://files.example/ref.png"] * len(spec.references)
    body = request_body(build_request(spec, urls, safety_tolerance=2))
    problem = validate_pro(body) if spec.model is ModelId.PRO else validate_klein(body)
    assert problem is None, f"the bot accepted {options}, Segmind would answer 400: {problem}"


# --- progress edits ------------------------------------------------------------------------------


class ProgressPresenter(RecordingPresenter):
    """Records progress and results in the order the service asked for them; a queued edit can be
    held "on the wire" until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def show_queued(self, job, position):
        self.events.append(("queued", job.id))
        await self.release.wait()
        self.events.append(("queued done", job.id))

    async def show_running(self, job, elapsed):
        self.events.append(("running", job.id))

    async def deliver(self, job, image, mime, balance_after):
        self.events.append(("result", job.id))
        return await super().deliver(job, image, mime, balance_after)


@pytest.mark.parametrize("gated", [False, True], ids=["no-limiter", "rate-limiter"])
async def test_a_job_that_starts_at_once_is_not_edited_before_its_result(world, gated):
    # With the key's rate limiter the scheduler admits jobs asynchronously, so every new job is
    # "queued" for a moment: that moment must not cost a "queued" and a "running" edit.
    limiter = SlidingWindowLimiter(1000, 60) if gated else None
    service, _ = world(limiter=limiter, progress_interval=30)  # the result comes long before that
    presenter = service.presenter = ProgressPresenter()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    job = await new_job(service)
    await settle(service, job.id, JobState.POSTED)
    assert presenter.events == [("result", job.id)]


async def test_a_job_still_waiting_after_the_notice_delay_is_told_its_place(world, segmind):
    service, _ = world(queue_notice_delay=0.05, progress_interval=30)
    presenter = service.presenter = ProgressPresenter()
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    segmind.slow("slow", 0.5)
    busy = [await new_job(service, GenerationSpec(prompt="slow lighthouse")) for _ in range(2)]  # both slots
    job = await new_job(service)
    await settle(service, job.id, JobState.POSTED)
    mine = [kind for kind, job_id in presenter.events if job_id == job.id]
    assert mine == ["queued", "queued done", "running", "result"], "told its place, then that it runs"
    for other in busy:
        await settle(service, other.id, JobState.POSTED)
        assert [kind for kind, job_id in presenter.events if job_id == other.id] == ["result"]


async def test_a_slow_queued_edit_lands_before_the_result_and_stale_progress_is_dropped(world, segmind):
    service, _ = world(queue_notice_delay=0)
    presenter = service.presenter = ProgressPresenter()
    presenter.release.clear()  # Discord sits on the "queued" edit
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    first = [await new_job(service) for _ in range(2)]  # the guild's two slots
    queued = await new_job(service)
    await settle(service, queued.id, JobState.SUCCEEDED)  # generated and paid, not yet shown
    await asyncio.sleep(0.1)
    assert ("result", queued.id) not in presenter.events, "the result waits for the edit already sent"
    presenter.release.set()
    await settle(service, queued.id, JobState.POSTED)
    mine = [kind for kind, job_id in presenter.events if job_id == queued.id]
    assert mine == ["queued", "queued done", "result"], "the running edit it no longer needed was dropped"
    for job in first:
        await settle(service, job.id, JobState.POSTED)


async def test_progress_edits_waiting_behind_a_slow_one_collapse_to_the_latest(world):
    service, _ = world()
    sent: list[object] = []
    gate = asyncio.Event()

    class Slow(RecordingPresenter):
        async def show_running(self, job, elapsed):
            sent.append(elapsed)
            await gate.wait()

    service.presenter = Slow()
    await service.ledger.grant(GUILD, 10, user_id=1, reason=None)
    job = await service.jobs.get((await new_job(service)).id)
    for elapsed in (1, 2, 3, 4):
        service.progress.show(job, "show_running", elapsed)
        await asyncio.sleep(0)
    gate.set()
    await settle(service, job.id, JobState.POSTED)
    assert sent[:2] == [1, 4] and 2 not in sent and 3 not in sent


@pytest.mark.parametrize(
    ("pace", "allowed"),
    [
        (PaceLimits(max_running=1), 1),
        (PaceLimits(cooldown_seconds=600), 1),
        (PaceLimits(daily_jobs=2), 2),
        (PaceLimits(daily_credits=5), 2),  # held credits count: 2 + 2 fit, a third does not
    ],
)
async def test_pace_limits_hold_for_requests_created_at_once(world, segmind, pace, allowed):
    service, _ = world()
    segmind.slow("race", 5)
    await service.ledger.grant(GUILD, 100, user_id=1, reason=None)
    made = await asyncio.gather(
        *(
            service.create_job(
                guild_id=GUILD, channel_id=CHANNEL, user_id=USER, kind=JobKind.IMAGINE,
                spec=GenerationSpec(prompt="race"), pace=pace,
            )
            for _ in range(6)
        ),
        return_exceptions=True,
    )
    refused = [m for m in made if isinstance(m, PolicyDenied)]
    assert len(made) - len(refused) == allowed and len(refused) == 6 - allowed, made
    assert (await service.ledger.balance(GUILD)).reserved == 2 * allowed
