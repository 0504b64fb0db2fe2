"""Self-tests of the fakes' fault scripting used by the fault suite (tests/faults)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.fakes import discord_payloads as dp
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.segmind_server import FakeSegmind, Fault
from tests.fakes.test_fake_discord import CHANNEL, GUILD, SPEC, USER, rest

KEY = "fake-key"


@pytest.fixture
async def fake():
    server = FakeDiscord(spec_path=SPEC)
    server.add_user(USER, "alice")
    server.add_guild(GUILD, "Test Guild", channels=[server.make_channel(CHANNEL, "general")], members=[USER])
    await server.start()
    yield server
    await server.close()
    assert server.server_errors == [], "the fake itself crashed:\n" + "\n".join(server.server_errors)


async def test_fault_can_match_the_body_process_first_and_delay(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    fake.fail_next("POST", path, 502, when=lambda r: "target" in (r.json or {}).get("content", ""), process=True)
    assert (await rest(fake, "POST", path, {"content": "other"}))[0] == 200, "`when` narrows the match"
    status, _ = await rest(fake, "POST", path, {"content": "the target"})
    assert status == 502
    assert [m["content"] for m in fake.messages_in(CHANNEL)] == ["other", "the target"], "processed, answer lost"
    fake.fail_next("POST", path, None, delay=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await rest(fake, "POST", path, {"content": "slow"}))[0] == 200
    assert loop.time() - started >= 0.2


async def test_enforce_nonce_returns_the_first_message(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    body = {"content": "once", "nonce": "flux-job-1", "enforce_nonce": True}
    _, first = await rest(fake, "POST", path, body)
    _, second = await rest(fake, "POST", path, body)
    assert first["id"] == second["id"] and len(fake.messages_in(CHANNEL)) == 1
    _, third = await rest(fake, "POST", path, {**body, "enforce_nonce": False})
    assert third["id"] != first["id"], "without enforce_nonce a nonce does not deduplicate"


async def test_channel_overwrites_take_the_bots_permissions_away(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    assert (await rest(fake, "POST", path, {"content": "fine"}))[0] == 200
    fake.set_permission_overwrite(CHANNEL, fake.application_id, deny=dp.SEND_MESSAGES)
    status, body = await rest(fake, "POST", path, {"content": "no"})
    assert (status, body["code"]) == (403, 50013)
    fake.set_permission_overwrite(CHANNEL, GUILD, deny=dp.VIEW_CHANNEL, member=False)
    status, body = await rest(fake, "POST", path, {"content": "no"})
    assert (status, body["code"]) == (403, 50001)
    fake.set_permission_overwrite(CHANNEL, GUILD, allow=0, member=False)
    fake.set_permission_overwrite(CHANNEL, fake.application_id, deny=dp.READ_MESSAGE_HISTORY)
    assert (await rest(fake, "GET", path))[0] == 403
    assert (await rest(fake, "POST", path, {"content": "posting is fine"}))[0] == 200


async def test_new_channels_join_their_guild(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, fake.make_channel(CHANNEL + 10, "new"))
    assert CHANNEL + 10 in fake.guilds[GUILD].channel_ids
    assert (await rest(fake, "POST", f"/channels/{CHANNEL + 10}/messages", {"content": "hi"}))[0] == 200


def test_forged_options_skip_the_clients_checks() -> None:
    resolver = dp.OptionResolver(user=None, member=None, role=None, channel=None, attachment=None)
    steps = {"type": dp.OPT_INTEGER, "name": "steps", "min_value": 1, "max_value": 100}
    model = {"type": dp.OPT_STRING, "name": "model", "choices": [{"name": "a", "value": "a"}]}
    with pytest.raises(ValueError):
        resolver.wire_value(steps, 101)
    with pytest.raises(ValueError):
        resolver.wire_value(model, "b")
    resolver.validate = False
    assert resolver.wire_value(steps, 101) == 101
    assert resolver.wire_value(model, "b") == "b"
    assert resolver.wire_value(steps, "not a number") == "not a number"


# --- fake Segmind ------------------------------------------------------------------------------


@pytest.fixture
async def segmind():
    server = FakeSegmind(KEY, latency=0.02, image_size=(16, 16))
    await server.start()
    yield server
    await server.close()


async def _generate(server: FakeSegmind, prompt: str) -> tuple[int, str | None]:
    headers = {"x-api-key": KEY}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.base_url}/v2/flux-2-klein-9b", json={"prompt": prompt}, headers=headers) as r:
            if r.status != 200:
                return r.status, None
            rid = (await r.json())["request_id"]
        for _ in range(200):
            async with session.get(f"{server.base_url}/v2/requests/{rid}/status", headers=headers) as r:
                if r.status != 200 or (await r.json())["status"] == "COMPLETED":
                    return r.status, rid
            await asyncio.sleep(0.01)
    raise AssertionError("never completed")


async def test_targeted_faults_hit_only_their_prompt(segmind: FakeSegmind) -> None:
    segmind.script("submit", Fault(503), prompt="fz1")
    assert (await _generate(segmind, "fz2 a cat"))[0] == 200
    assert (await _generate(segmind, "fz1 a dog"))[0] == 503
    status, rid = await _generate(segmind, "fz1 a dog")
    assert status == 200, "a targeted fault is used once"
    assert [b.prompt for b in segmind.bills] == ["fz2 a cat", "fz1 a dog"]
    assert segmind.bills[1].request_id == rid and segmind.result_image(rid) is not None


async def test_expire_and_passthrough_faults(segmind: FakeSegmind) -> None:
    segmind.script("status", Fault(404, expire=True), prompt="fz3")
    status, rid = await _generate(segmind, "fz3 gone")
    assert status == 404 and segmind.is_expired(rid)
    segmind.slow("fz4", 0.3)
    segmind.script("submit", Fault(delay=0.2, passthrough=True), prompt="fz4")
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await _generate(segmind, "fz4 slow"))[0] == 200
    assert loop.time() - started >= 0.5


async def test_targeted_failure_is_not_billed(segmind: FakeSegmind) -> None:
    segmind.fail_job("moderated", prompt="fz5")
    assert (await _generate(segmind, "fz6 fine"))[0] == 200
    assert (await _generate(segmind, "fz5 flagged"))[0] == 422
    assert [b.prompt for b in segmind.bills] == ["fz6 fine"]


async def test_a_discord_fault_is_pending_until_it_fires(fake: FakeDiscord) -> None:
    path = f"/channels/{CHANNEL}/messages"
    fake.fail_next("POST", "^/nowhere$", 500, label="fz000001")
    fake.fail_next("POST", path, 502, label="fz000002")
    assert fake.pending_faults() == [
        "fz000001: POST ^/nowhere$ -> 500 (never fired)",
        f"fz000002: POST {path} -> 502 (never fired)",
    ]
    assert (await rest(fake, "POST", path, {"content": "x"}))[0] == 502
    assert fake.fired_faults == [f"fz000002: POST {path} -> 502"]
    assert fake.pending_faults() == ["fz000001: POST ^/nowhere$ -> 500 (never fired)"]


async def test_the_fake_segmind_reports_its_own_crash_and_its_unfired_faults() -> None:
    segmind = FakeSegmind(api_key=KEY, latency=0.01)

    async def crash(request):
        raise KeyError("a bug in the fake")

    segmind._credits = crash  # the route is bound at start()
    segmind.script("submit", Fault(503), prompt="fz000007")
    segmind.fail_job("moderated", prompt="fz000008")
    await segmind.start()
    try:
        assert segmind.pending_faults() == ["submit:fz000007: 1 fault(s)", "fail_job:fz000008"]
        async with aiohttp.ClientSession(headers={"x-api-key": KEY}) as http:
            async with http.get(segmind.base_url + "/v1/get-user-credits") as response:
                assert response.status == 500
            async with http.post(segmind.base_url + "/v2/flux-2-klein-9b", json={"prompt": "fz000007 a"}) as response:
                assert response.status == 503, "the injected fault: no crash of the fake"
    finally:
        await segmind.close()
    assert len(segmind.server_errors) == 1 and "KeyError" in segmind.server_errors[0]
    assert segmind.fired == ["submit:fz000007"]
    assert segmind.pending_faults() == ["fail_job:fz000008"]
