"""Builders for attachments and message objects, and how content mentions resolve to pings."""

from __future__ import annotations

import io
import itertools
import mimetypes
import re
from typing import Any

from tests.fakes.discord.payloads.base import JSON, iso_now
from tests.fakes.discord.payloads.limits import iter_components

# ------------------------------------------------------------------------------------------ attachments


def sniff_media(data: bytes, filename: str) -> tuple[str | None, int | None, int | None]:
    """Content type and image size the way Discord derives them: from the bytes, then the name.

    Discord ignores the part's ``Content-Type`` (discord.py always sends application/octet-stream).
    """
    try:
        from PIL import Image  # Pillow is a runtime dependency of the bot.

        with Image.open(io.BytesIO(data)) as image:
            mime = Image.MIME.get(image.format or "")
            if mime:
                return mime, image.width, image.height
    except Exception:  # not an image Pillow understands: fall back to the file name
        pass
    guessed, _ = mimetypes.guess_type(filename)
    return guessed, None, None


def attachment_object(
    attachment_id: int,
    filename: str,
    size: int,
    url: str,
    proxy_url: str,
    content_type: str | None,
    *,
    width: int | None = None,
    height: int | None = None,
    ephemeral: bool = False,
    description: str | None = None,
) -> JSON:
    att: JSON = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": proxy_url,
    }
    if content_type is not None:
        att["content_type"] = content_type
    if width is not None and height is not None:
        att["width"] = width
        att["height"] = height
        att["placeholder_version"] = 1
    if description:
        att["description"] = description
    if ephemeral:
        att["ephemeral"] = True
    return att


# --------------------------------------------------------------------------------------------- messages


def message_object(
    *,
    message_id: int,
    channel_id: int,
    author: JSON,
    content: str = "",
    message_type: int = 0,
    embeds: list[JSON] | None = None,
    components: list[JSON] | None = None,
    attachments: list[JSON] | None = None,
    flags: int = 0,
    tts: bool = False,
    webhook_id: int | None = None,
    application_id: int | None = None,
    interaction_metadata: JSON | None = None,
    interaction: JSON | None = None,
    message_reference: JSON | None = None,
) -> JSON:
    """A complete message object as the REST API returns it."""
    message: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": message_type,
        "content": content,
        "author": author,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": attachments or [],
        "embeds": [normalise_embed(e) for e in embeds or []],
        "pinned": False,
        "flags": flags,
        "components": number_components(components or []),
    }
    if webhook_id is not None:
        message["webhook_id"] = str(webhook_id)
    if application_id is not None:
        message["application_id"] = str(application_id)
    if interaction_metadata is not None:
        message["interaction_metadata"] = interaction_metadata
    if interaction is not None:
        message["interaction"] = interaction
    if message_reference is not None:
        message["message_reference"] = message_reference
    return message


def number_components(components: list[JSON]) -> list[JSON]:
    """Give every component a numeric ``id`` (depth-first from 1) unless the sender chose one, as Discord does."""
    taken = {c["id"] for c in iter_components(components) if isinstance(c.get("id"), int)}
    counter = itertools.count(1)
    for comp in iter_components(components):
        if not isinstance(comp.get("id"), int):
            comp["id"] = next(i for i in counter if i not in taken)
    return components


def normalise_embed(embed: JSON) -> JSON:
    """Discord echoes embeds with ``type: rich`` and drops null fields."""
    out = {k: v for k, v in embed.items() if v is not None}
    out.setdefault("type", "rich")
    return out


def resolve_embed_attachments(embeds: list[JSON], attachments: list[JSON]) -> None:
    """Point ``attachment://name`` embed media at the uploaded file, as Discord rewrites them."""
    by_name = {a["filename"]: a for a in attachments}
    for embed in embeds:
        for key in ("image", "thumbnail"):
            media = embed.get(key)
            if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                att = by_name.get(media["url"][len("attachment://") :])
                if att is not None:
                    media.update(url=att["url"], proxy_url=att["proxy_url"])
                    if "width" in att:
                        media.update(width=att["width"], height=att["height"])


_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")


def _str_list(value: Any, *, ids: bool = False) -> list[str]:
    """Strings (or snowflake strings) from a JSON list, ignoring junk the spec check reports anyway."""
    items = [str(v) for v in value] if isinstance(value, list) else []
    return [v for v in items if v.isdigit()] if ids else items


def resolve_mentions(
    content: str,
    allowed_mentions: JSON | None,
    *,
    replied_user_id: int | None = None,
) -> tuple[list[tuple[str, int | None]], set[int], set[int]]:
    """Who a message's content would ping, by Discord's allowed_mentions rules.

    Returns ``(pings, mentioned_user_ids, mentioned_role_ids)``; each ping is ``(kind, id)`` with kind
    ``everyone``/``here``/``user``/``role``/``reply``.  Without ``allowed_mentions`` Discord parses
    every mention type in the content (and pings a replied-to user); with it, only what ``parse``,
    ``users``, ``roles`` and ``replied_user`` allow.  Embeds never ping.
    """
    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        users: set[int] = set()
        roles: set[int] = set()
        replied = True
    else:
        parse = set(_str_list(allowed_mentions.get("parse")))
        users = {int(u) for u in _str_list(allowed_mentions.get("users"), ids=True)}
        roles = {int(r) for r in _str_list(allowed_mentions.get("roles"), ids=True)}
        replied = bool(allowed_mentions.get("replied_user", False))
    pings: list[tuple[str, int | None]] = []
    if "everyone" in parse:
        if "@everyone" in content:
            pings.append(("everyone", None))
        if "@here" in content:
            pings.append(("here", None))
    mentioned_users: set[int] = set()
    for match in _USER_MENTION.finditer(content):
        uid = int(match.group(1))
        if ("users" in parse or uid in users) and uid not in mentioned_users:
            mentioned_users.add(uid)
            pings.append(("user", uid))
    mentioned_roles: set[int] = set()
    for match in _ROLE_MENTION.finditer(content):
        rid = int(match.group(1))
        if ("roles" in parse or rid in roles) and rid not in mentioned_roles:
            mentioned_roles.add(rid)
            pings.append(("role", rid))
    if replied_user_id is not None and replied and replied_user_id not in mentioned_users:
        mentioned_users.add(replied_user_id)
        pings.append(("reply", replied_user_id))
    return pings, mentioned_users, mentioned_roles
