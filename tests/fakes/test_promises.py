"""The shared promise checks fail on damaged records (and pass on well-formed ones)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.fakes.discord_server import RecordedRequest
from tests.fakes.promises import fake_problems, mention_problems

REQUESTER, STRANGER = 21, 22
NONE = {"parse": []}


def req(method: str, path: str, body: dict) -> RecordedRequest:
    return RecordedRequest(method, path, {}, body, [], {})


def writes(mentions) -> list[RecordedRequest]:
    """One of each kind of message write, all carrying `mentions` (omitted when None)."""
    extra = {} if mentions is None else {"allowed_mentions": mentions}
    return [
        req("POST", "/interactions/1/tok/callback", {"type": 4, "data": {"content": "x", **extra}}),
        req("POST", "/interactions/1/tok/callback", {"type": 7, "data": {"content": "x", **extra}}),
        req("POST", "/webhooks/9/tok", {"content": "x", **extra}),
        req("PATCH", "/webhooks/9/tok/messages/@original", {"content": "x", **extra}),
        req("POST", "/channels/5/messages", {"content": "x", **extra}),
        req("PATCH", "/channels/5/messages/6", {"content": "x", **extra}),
    ]


def test_well_formed_writes_pass():
    ok = [*writes(NONE), req("POST", "/channels/5/messages", {"content": "<@21>", "allowed_mentions": {"parse": [], "users": ["21"]}})]
    ok.append(req("POST", "/interactions/1/tok/callback", {"type": 5}))  # a defer carries no message
    assert mention_problems(ok, {REQUESTER}) == []


@pytest.mark.parametrize(
    "mentions",
    [None, {"parse": ["everyone"]}, {"parse": ["users"]}, {"parse": [], "roles": ["31"]}, {"parse": [], "replied_user": True}],
)
def test_every_kind_of_write_is_checked(mentions):
    problems = mention_problems(writes(mentions), {REQUESTER})
    assert len(problems) == 6, problems


def test_only_a_channel_post_may_name_only_the_requester():
    to_requester = {"parse": [], "users": [str(REQUESTER)]}
    assert len(mention_problems(writes(to_requester), {REQUESTER})) == 5  # all but the channel post
    to_stranger = [req("POST", "/channels/5/messages", {"content": "x", "allowed_mentions": {"users": [str(STRANGER)]}})]
    assert mention_problems(to_stranger, {REQUESTER}) != []


def test_crashes_in_the_fakes_and_unknown_parameters_are_problems():
    clean = SimpleNamespace(server_errors=[], unknown_params=[])
    assert fake_problems(clean, clean) == []
    assert fake_problems(SimpleNamespace(server_errors=["GET /x\nTraceback"]), clean)
    assert fake_problems(clean, SimpleNamespace(server_errors=["POST /v2/x"], unknown_params=[]))
    assert fake_problems(clean, SimpleNamespace(server_errors=[], unknown_params=[("flux-2-pro", "mystery")]))
