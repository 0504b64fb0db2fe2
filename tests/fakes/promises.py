"""The promises every run of the real bot must keep, checked on every request the fakes saw.

Shared by the e2e teardown (tests/e2e/conftest.py) and the fault suite (tests/faults/harness.py):

- every message the bot creates or edits (interaction callbacks that carry a message, followups,
  webhook edits, channel posts and edits, DMs) sends ``allowed_mentions`` that cannot ping
  @everyone/@here or a role, and names users only where the README allows a ping: the requester,
  in a channel post (a result or notice that could not go through the interaction);
- the fakes themselves did not crash (a 500 from a bug in a fake looks like an outage the bot
  survived), and the bot sent Segmind no parameter its documentation does not list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

# (method, path under /api/v10) of every request that creates or edits a message.
_CALLBACK = re.compile(r"^/interactions/\d+/[^/]+/callback$")
_FOLLOWUP = re.compile(r"^/webhooks/\d+/[^/]+$")
_WEBHOOK_EDIT = re.compile(r"^/webhooks/\d+/[^/]+/messages/[^/]+$")
_CHANNEL_POST = re.compile(r"^/channels/\d+/messages$")
_CHANNEL_EDIT = re.compile(r"^/channels/\d+/messages/\d+$")
MESSAGE_CALLBACK_TYPES = {4, 7}  # CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE


def message_writes(requests: Iterable[Any]) -> Iterator[tuple[str, Any, dict]]:
    """(kind, request, message body) for every message the bot created or edited, as sent."""
    for record in requests:
        if getattr(record, "kind", "rest") != "rest" or not isinstance(record.json, dict):
            continue
        method, path, body = record.method, record.path, record.json
        if method == "POST" and _CALLBACK.match(path):
            if body.get("type") in MESSAGE_CALLBACK_TYPES:
                yield "callback", record, body.get("data") or {}
        elif method == "POST" and _FOLLOWUP.match(path):
            yield "followup", record, body
        elif method == "PATCH" and _WEBHOOK_EDIT.match(path):
            yield "webhook edit", record, body
        elif method == "POST" and _CHANNEL_POST.match(path):
            yield "channel post", record, body
        elif method == "PATCH" and _CHANNEL_EDIT.match(path):
            yield "channel edit", record, body


def mention_problems(requests: Iterable[Any], requesters: set[int]) -> list[str]:
    """Every message write whose allowed_mentions could ping someone it must not."""
    problems = []
    for kind, record, body in message_writes(requests):
        where = f"{kind} {record.method} {record.path}"
        mentions = body.get("allowed_mentions")
        if not isinstance(mentions, dict):
            problems.append(f"{where}: no allowed_mentions (Discord then pings whatever the text mentions)")
            continue
        parse = mentions.get("parse", [])
        if parse:
            problems.append(f"{where}: allowed_mentions parses {parse}")
        if mentions.get("roles"):
            problems.append(f"{where}: allowed_mentions names roles {mentions['roles']}")
        if mentions.get("replied_user"):
            problems.append(f"{where}: allowed_mentions pings the replied-to user")
        users = {int(u) for u in mentions.get("users") or []}
        if users and kind != "channel post":
            problems.append(f"{where}: names users {sorted(users)}; only a channel post may ping the requester")
        elif users - requesters:
            problems.append(f"{where}: may ping {sorted(users - requesters)}, who requested nothing")
    return problems


def fake_problems(discord: Any, segmind: Any) -> list[str]:
    """Crashes inside either fake, and Segmind parameters the documentation does not list."""
    problems = [f"the fake Discord crashed: {e}" for e in discord.server_errors]
    problems += [f"the fake Segmind crashed: {e}" for e in segmind.server_errors]
    problems += [f"the bot sent Segmind an unknown parameter: {slug} {key}" for slug, key in segmind.unknown_params]
    return problems
