"""Documented limits and validation of what the bot sends: messages, embeds, components, modals, commands."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tests.fakes.discord.payloads.base import IS_COMPONENTS_V2, JSON
from tests.fakes.discord.payloads.errors import ApiError, FormErrors

# ----------------------------------------------------------------------------------------------- limits

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ATTACHMENTS = 10
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_V2_COMPONENTS = 40


DICT_ERROR = {"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used in a DictType"}


def validate_message(body: Any) -> None:
    """Raise Discord's 400 (code 50035) for a message body it would refuse."""
    if not isinstance(body, dict):
        raise ApiError(400, 50035, "Invalid Form Body", {"_errors": [DICT_ERROR]})
    errors = FormErrors()
    check_message_fields(body, errors)
    errors.raise_if_any()


def check_message_fields(body: JSON, errors: FormErrors) -> None:
    """Content/embed/component/attachment limits shared by every message-creating route.

    Sources: resources/message.mdx (content 2000, embed limits), components/reference.mdx
    (custom_id 1-100, 5 rows x 5 buttons, label 80, 40 components in v2), OpenAPI (10 attachments).
    """
    _check_types(body, errors)
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.max_length(["content"], MAX_CONTENT)
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            errors.max_length(["embeds"], MAX_EMBEDS)
        _check_embeds(embeds, errors)
    attachments = body.get("attachments")
    if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
        errors.max_length(["attachments"], MAX_ATTACHMENTS)
    components = body.get("components")
    if isinstance(components, list):
        v2 = isinstance(body.get("flags"), int) and bool(body["flags"] & IS_COMPONENTS_V2)
        check_components(components, errors, v2=v2)
        if v2 and (content or embeds):
            errors.add(
                ["content" if content else "embeds"],
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used when using components v2",
            )


_FIELD_TYPES: dict[str, tuple[type, str, str]] = {
    "content": (str, "BASE_TYPE_STRING", "Must be a string."),
    "embeds": (list, "BASE_TYPE_LIST", "Must be an array."),
    "components": (list, "BASE_TYPE_LIST", "Must be an array."),
    "attachments": (list, "BASE_TYPE_LIST", "Must be an array."),
    "allowed_mentions": (dict, DICT_ERROR["code"], DICT_ERROR["message"]),
    "flags": (int, "NUMBER_TYPE_COERCE", "Value is not int."),
    "tts": (bool, "BASE_TYPE_BOOLEAN", "Must be either true or false."),
}


def _check_types(body: JSON, errors: FormErrors) -> None:
    """Wrong JSON types get 50035 like on Discord; the other checks skip values of the wrong type."""
    for key, (expected, code, message) in _FIELD_TYPES.items():
        value = body.get(key)
        if value is not None and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            errors.add([key], code, message)
    for key in ("embeds", "components", "attachments"):
        items = body.get(key)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                errors.add([key, i], DICT_ERROR["code"], DICT_ERROR["message"])
            elif key == "embeds":
                for field in ("title", "description", "url"):
                    if item.get(field) is not None and not isinstance(item[field], str):
                        errors.add([key, i, field], "BASE_TYPE_STRING", "Must be a string.")


def _check_embeds(embeds: list[Any], errors: FormErrors) -> None:
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key)
            if isinstance(value, str):
                total += len(value)
                if len(value) > limit:
                    errors.max_length(["embeds", i, key], limit)
        fields = embed.get("fields") if isinstance(embed.get("fields"), list) else []
        if len(fields) > 25:
            errors.max_length(["embeds", i, "fields"], 25)
        for j, field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = field.get(key) if isinstance(field, dict) else None
                if isinstance(value, str):
                    total += len(value)
                    if len(value) > limit:
                        errors.max_length(["embeds", i, "fields", j, key], limit)
        for parent, key, limit in (("footer", "text", 2048), ("author", "name", 256)):
            section = embed.get(parent)
            value = section.get(key) if isinstance(section, dict) else None
            if isinstance(value, str):
                total += len(value)
                if len(value) > limit:
                    errors.max_length(["embeds", i, parent, key], limit)
    if total > MAX_EMBED_TOTAL:
        errors.add(
            ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"
        )


def iter_components(components: Iterable[Any]) -> Iterable[JSON]:
    """Every component in a tree (rows, sections, containers, labels and their children)."""
    for comp in components:
        if not isinstance(comp, dict):
            continue
        yield comp
        yield from iter_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from iter_components([comp[key]])


def check_components(components: list[Any], errors: FormErrors, *, v2: bool) -> None:
    if not v2:
        if len(components) > MAX_ACTION_ROWS:
            errors.max_length(["components"], MAX_ACTION_ROWS)
        for i, row in enumerate(components):
            children = row.get("components") if isinstance(row, dict) else None
            if isinstance(children, list):
                buttons = sum(1 for c in children if isinstance(c, dict) and c.get("type") == 2)
                if buttons > MAX_ROW_BUTTONS or len(children) > MAX_ROW_BUTTONS:
                    errors.max_length(["components", i, "components"], MAX_ROW_BUTTONS)
    elif sum(1 for _ in iter_components(components)) > MAX_V2_COMPONENTS:
        errors.max_length(["components"], MAX_V2_COMPONENTS)
    seen: set[str] = set()
    _check_component_fields(components, ["components"], errors, seen)


def _check_component_fields(
    components: list[Any], path: list[str | int], errors: FormErrors, seen: set[str], *, single: bool = False
) -> None:
    for i, comp in enumerate(components):
        if not isinstance(comp, dict):
            continue
        here = path if single else [*path, i]
        custom_id = comp.get("custom_id")
        if isinstance(custom_id, str):
            if not 1 <= len(custom_id) <= 100:
                errors.bad_length([*here, "custom_id"], 1, 100)
            elif custom_id in seen:
                errors.add(
                    [*here, "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
        label = comp.get("label")
        if comp.get("type") == 2 and isinstance(label, str) and len(label) > 80:
            errors.max_length([*here, "label"], 80)
        if isinstance(comp.get("components"), list):
            _check_component_fields(comp["components"], [*here, "components"], errors, seen)
        for key in ("accessory", "component"):  # single child: its path has no list index
            if isinstance(comp.get(key), dict):
                _check_component_fields([comp[key]], [*here, key], errors, seen, single=True)


def check_modal(data: JSON) -> None:
    """Modal limits: title 1-45, custom_id 1-100, 1-5 top-level components."""
    errors = FormErrors()
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        errors.bad_length(["data", "title"], 1, 45)
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        errors.bad_length(["data", "custom_id"], 1, 100)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= 5:
        errors.bad_length(["data", "components"], 1, 5)
    else:
        _check_component_fields(components, ["data", "components"], errors, set())
    errors.raise_if_any()


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def check_commands(commands: list[Any]) -> None:
    """Bulk-overwrite limits from interactions/application-commands.mdx."""
    errors = FormErrors()
    counts: dict[int, int] = {}
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            errors.add([i], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        ctype = int(cmd.get("type") or 1)
        counts[ctype] = counts.get(ctype, 0) + 1
        name = cmd.get("name")
        # Slash command names are lowercase words; context-menu names may have spaces and capitals.
        if ctype == 1:
            valid = isinstance(name, str) and bool(_COMMAND_NAME.match(name)) and name == name.lower()
        else:
            valid = isinstance(name, str) and 1 <= len(name) <= 32
        if not valid:
            errors.add([i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        description = cmd.get("description") or ""
        if ctype == 1 and not 1 <= len(description) <= 100:
            errors.bad_length([i, "description"], 1, 100)
        _check_options(cmd.get("options") or [], [i, "options"], errors)
    for ctype, limit in ((1, 100), (2, 15), (3, 15)):
        if counts.get(ctype, 0) > limit:
            errors.add(
                [],
                "APPLICATION_COMMANDS_TOO_MANY",
                f"Maximum number of application commands reached ({limit})",
            )
    errors.raise_if_any()


def _check_options(options: list[Any], path: list[str | int], errors: FormErrors) -> None:
    if len(options) > 25:
        errors.max_length(path, 25)
    for j, opt in enumerate(options):
        if not isinstance(opt, dict):
            continue
        if not 1 <= len(opt.get("description") or "") <= 100:
            errors.bad_length([*path, j, "description"], 1, 100)
        if len(opt.get("choices") or []) > 25:
            errors.max_length([*path, j, "choices"], 25)
        _check_options(opt.get("options") or [], [*path, j, "options"], errors)


def echo_command(
    cmd: JSON,
    application_id: int,
    guild_id: int | None,
    previous: Mapping[tuple[str, int], JSON],
    new_id: Callable[[], int],
) -> JSON:
    """A command as Discord stores and echoes it: ids stay stable per (name, type), versions bump on change."""
    ctype = int(cmd.get("type") or 1)
    out: JSON = {
        "type": ctype,
        "name": cmd["name"],
        "name_localizations": cmd.get("name_localizations"),
        "description": cmd.get("description") or "",
        "description_localizations": cmd.get("description_localizations"),
        "default_member_permissions": cmd.get("default_member_permissions"),
        "dm_permission": cmd.get("dm_permission", True),
        "nsfw": bool(cmd.get("nsfw", False)),
        "contexts": cmd.get("contexts") if guild_id is not None else cmd.get("contexts") or [0, 1, 2],
        "integration_types": cmd.get("integration_types") or [0],
    }
    if cmd.get("options"):
        out["options"] = cmd["options"]
    old = previous.get((out["name"], ctype))
    unchanged = old is not None and {k: old.get(k) for k in out} == out
    out = {
        "id": old["id"] if old else str(new_id()),
        "application_id": str(application_id),
        "version": old["version"] if old and unchanged else str(new_id()),
        **out,
    }
    if guild_id is not None:
        out["guild_id"] = str(guild_id)
    return out
