"""Interaction side: turning a test's option values into a command's options and resolved data."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tests.fakes.discord.payloads.base import (
    JSON,
    OPT_ATTACHMENT,
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_INTEGER,
    OPT_MENTIONABLE,
    OPT_NUMBER,
    OPT_ROLE,
    OPT_STRING,
    OPT_SUB_COMMAND,
    OPT_SUB_COMMAND_GROUP,
    OPT_USER,
)
from tests.fakes.discord.payloads.limits import iter_components

# ------------------------------------------------------------------------------- interaction options


class OptionResolver:
    """Turns test-side option values into wire options plus ``data.resolved`` entries."""

    def __init__(
        self,
        *,
        user: Callable[[int], JSON],
        member: Callable[[int], JSON | None],
        role: Callable[[int], JSON],
        channel: Callable[[int], JSON],
        attachment: Callable[[Any], JSON],
    ) -> None:
        self._user, self._member, self._role, self._channel, self._attachment = (
            user,
            member,
            role,
            channel,
            attachment,
        )
        self.resolved: dict[str, dict[str, JSON]] = {}
        # False: send values as given, as a modified client could (no type/range/choice checks).
        self.validate = True

    def _add(self, kind: str, key: int | str, value: JSON) -> None:
        self.resolved.setdefault(kind, {})[str(key)] = value

    def wire_value(self, opt: JSON, value: Any) -> Any:
        """The JSON value Discord sends for ``value`` given the registered option definition."""
        otype, name = int(opt["type"]), opt["name"]
        if not self.validate and otype in (OPT_STRING, OPT_INTEGER, OPT_NUMBER, OPT_BOOLEAN):
            return value
        if otype == OPT_STRING:
            if not isinstance(value, str):
                raise TypeError(f"option {name!r} is a string option, got {value!r}")
            _check_range(opt, len(value), "min_length", "max_length", name)
        elif otype == OPT_INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"option {name!r} is an integer option, got {value!r}")
            _check_range(opt, value, "min_value", "max_value", name)
        elif otype == OPT_NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"option {name!r} is a number option, got {value!r}")
            _check_range(opt, value, "min_value", "max_value", name)
        elif otype == OPT_BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(f"option {name!r} is a boolean option, got {value!r}")
        elif otype in (OPT_USER, OPT_MENTIONABLE) and not (otype == OPT_MENTIONABLE and self._is_role(value)):
            uid = int(value)
            self._add("users", uid, self._user(uid))
            member = self._member(uid)
            if member is not None:
                self._add(
                    "members", uid, {k: v for k, v in member.items() if k not in ("user", "deaf", "mute")}
                )
            return str(uid)
        elif otype in (OPT_ROLE, OPT_MENTIONABLE):
            rid = int(value)
            self._add("roles", rid, self._role(rid))
            return str(rid)
        elif otype == OPT_CHANNEL:
            channel = self._channel(int(value))
            self._add("channels", int(value), channel)
            return str(int(value))
        elif otype == OPT_ATTACHMENT:
            att = self._attachment(value)
            self._add("attachments", att["id"], att)
            return att["id"]
        choices = opt.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not one of the choices of option {name!r}: {choices}")
        return value

    def _is_role(self, value: Any) -> bool:
        try:
            self._role(int(value))
        except (LookupError, ValueError, TypeError):
            return False
        return True


def _check_range(opt: JSON, value: float, low_key: str, high_key: str, name: str) -> None:
    low, high = opt.get(low_key), opt.get(high_key)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"Discord would refuse {value!r} for option {name!r}: range is {low}..{high}")


def build_command_options(
    command: JSON,
    options: Mapping[str, Any],
    resolver: OptionResolver,
    *,
    subcommand: str | None = None,
    group: str | None = None,
    focused: str | None = None,
) -> list[JSON]:
    """``data.options`` for a slash command invocation, typed from the registered definition.

    Raises ``LookupError`` for names the bot did not register and ``ValueError`` for values the
    Discord client would not let a user submit (missing required option, out of range, not a choice).
    """
    defs: list[JSON] = command.get("options") or []
    cmd_name = command["name"]
    wrap: list[tuple[int, str]] = []
    for kind, wanted in ((OPT_SUB_COMMAND_GROUP, group), (OPT_SUB_COMMAND, subcommand)):
        if wanted is None:
            continue
        match = next((o for o in defs if o["name"] == wanted and int(o["type"]) == kind), None)
        if match is None:
            known = [o["name"] for o in defs if int(o["type"]) == kind]
            raise LookupError(
                f"/{cmd_name} has no {'group' if kind == 2 else 'subcommand'} {wanted!r} (has {known})"
            )
        wrap.append((kind, wanted))
        defs = match.get("options") or []
    if any(int(o["type"]) in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for o in defs):
        raise LookupError(f"/{cmd_name} needs subcommand=/group= (has {[o['name'] for o in defs]})")
    by_name = {o["name"]: o for o in defs}
    unknown_names = set(options) - set(by_name)
    if unknown_names:
        raise LookupError(
            f"/{cmd_name} has no option(s) {sorted(unknown_names)}; registered: {sorted(by_name)}"
        )
    if focused is None:
        missing = [o["name"] for o in defs if o.get("required") and o["name"] not in options]
        if missing:
            raise ValueError(f"/{cmd_name}: required option(s) {missing} missing")
    wire: list[JSON] = []
    for name, value in options.items():
        opt = by_name[name]
        item: JSON = {"name": name, "type": int(opt["type"])}
        if name == focused:
            item["value"] = value  # autocomplete sends the partial text as typed
            item["focused"] = True
        else:
            item["value"] = resolver.wire_value(opt, value)
        wire.append(item)
    for kind, name in reversed(wrap):
        wire = [{"type": kind, "name": name, "options": wire}]
    return wire


def find_component(components: Iterable[Any], custom_id: str) -> JSON | None:
    return next((c for c in iter_components(components) if c.get("custom_id") == custom_id), None)


def modal_submit_components(modal_components: list[JSON], values: Mapping[str, Any]) -> list[JSON]:
    """Mirror the modal the bot sent, filling in what the user typed or picked.

    discord.py 2.7 wraps a bare ``TextInput`` in an action row (type 1) and a ``Label`` is type 18 with
    a single ``component``; the submission comes back in the same structure (text displays keep
    only type/id).  Raises ``ValueError`` for inputs the Discord client would reject.
    """
    counter = itertools.count(1)

    def mirror(comp: JSON) -> JSON:
        ctype = int(comp["type"])
        cid = comp.get("id") or next(counter)
        if ctype == 1:
            return {"type": 1, "id": cid, "components": [mirror(c) for c in comp.get("components") or []]}
        if ctype == 18:
            return {"type": 18, "id": cid, "component": mirror(comp["component"])}
        if ctype == 10:
            return {"type": 10, "id": cid}
        custom_id = comp.get("custom_id")
        if ctype == 4:
            value = values.get(custom_id, comp.get("value") or "")
            if not isinstance(value, str):
                raise TypeError(f"text input {custom_id!r} takes a string, got {value!r}")
            if comp.get("required", True) and not value:
                raise ValueError(f"text input {custom_id!r} is required")
            low, high = comp.get("min_length"), comp.get("max_length")
            if value and ((low is not None and len(value) < low) or (high is not None and len(value) > high)):
                raise ValueError(f"text input {custom_id!r}: length {len(value)} outside {low}..{high}")
            return {"type": 4, "id": cid, "custom_id": custom_id, "value": value}
        picked = values.get(custom_id, [])
        return {"type": ctype, "id": cid, "custom_id": custom_id, "values": list(picked)}

    mirrored = [mirror(c) for c in modal_components]
    known = {c.get("custom_id") for c in iter_components(modal_components)}
    stray = set(values) - known
    if stray:
        raise LookupError(f"modal has no input(s) {sorted(stray)}; it has {sorted(k for k in known if k)}")
    return mirrored
