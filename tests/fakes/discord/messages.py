"""Stored messages: create, edit, delete, uploads, mentions and their gateway events."""

from __future__ import annotations

import copy

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON, FormErrors
from tests.fakes.discord.records import Interaction, _StoredMessage, _Upload


class MessageMixin:
    """Creating, editing and deleting stored messages the way Discord validates them, and announcing
    them on the gateway."""

    # ------------------------------------------------------------------------------- messages

    def _store(
        self, data: JSON, *, allowed_mentions: JSON | None, interaction_id: int | None = None
    ) -> _StoredMessage:
        cid = int(data["channel_id"])
        stored = _StoredMessage(data, self._channel_guild.get(cid), allowed_mentions, interaction_id)
        self._messages[stored.id] = stored
        self._channel_messages[cid].append(stored.id)
        self.channels[cid]["last_message_id"] = data["id"]
        return stored

    def _store_uploads(
        self,
        channel_id: int,
        body: JSON,
        uploads: list[_Upload],
        existing: list[JSON],
        *,
        size_limit: int,
        ephemeral: bool,
        keep_unlisted: bool,
    ) -> list[JSON]:
        """The new ``attachments`` array: kept existing ones plus every uploaded file.

        ``attachments`` entries whose id matches an upload's ``n`` describe that upload; other ids
        must name an existing attachment to keep.  Without an ``attachments`` key, existing ones are
        kept only when ``keep_unlisted`` (edits append; replacements and creates do not).
        """
        for up in uploads:
            if len(up.data) > size_limit:
                raise p.entity_too_large()
        meta = body.get("attachments")
        by_index = {up.index: up for up in uploads}
        existing_by_id = {a["id"]: a for a in existing}
        described: dict[str, JSON] = {}
        kept: list[JSON] = []
        errors = FormErrors()
        for i, entry in enumerate(meta if isinstance(meta, list) else []):
            key = str(entry.get("id")) if isinstance(entry, dict) else ""
            if key in by_index:
                described[key] = entry
            elif key in existing_by_id:
                kept.append(existing_by_id[key])
            else:
                errors.add(["attachments", i, "id"], "ATTACHMENT_NOT_FOUND", "Unknown attachment")
        errors.raise_if_any()
        if not isinstance(meta, list) and keep_unlisted:
            kept = list(existing)
        if len(kept) + len(uploads) > p.MAX_ATTACHMENTS:
            raise p.form_error(
                ["attachments"], "BASE_TYPE_MAX_LENGTH", f"Must be {p.MAX_ATTACHMENTS} or fewer in length."
            )
        new = []
        for up in uploads:
            entry = described.get(up.index, {})
            filename = entry.get("filename") or up.filename
            att = self._cdn_store(
                channel_id, filename, up.data, None, None, None, ephemeral=ephemeral, sniff=True
            )
            if entry.get("description"):
                att["description"] = entry["description"]
            new.append(copy.deepcopy(att))
        return kept + new

    def _create_message(
        self,
        channel_id: int,
        body: JSON,
        uploads: list[_Upload],
        *,
        size_limit: int,
        message_type: int = 0,
        interaction: Interaction | None = None,
        extra_flags: int = 0,
        reference: _StoredMessage | None = None,
        allow_empty: bool = False,
        followup_of: int | None = None,
    ) -> _StoredMessage:
        """Validate and store a new message from the bot, record its pings and announce it."""
        p.validate_message(body)
        flags = (int(body.get("flags") or 0) & p.SETTABLE_FLAGS) | extra_flags
        if interaction is None:
            flags &= ~p.EPHEMERAL  # only interaction responses can be ephemeral
        attachments = self._store_uploads(
            channel_id,
            body,
            uploads,
            [],
            size_limit=size_limit,
            ephemeral=bool(flags & p.EPHEMERAL),
            keep_unlisted=False,
        )
        empty = not (body.get("content") or body.get("embeds") or attachments or body.get("components"))
        if empty and not (allow_empty or body.get("sticker_ids") or body.get("poll")):
            raise p.empty_message()
        embeds = copy.deepcopy(body.get("embeds") or [])
        p.resolve_embed_attachments(embeds, attachments)
        data = p.message_object(
            message_id=self._snowflakes.next(),
            channel_id=channel_id,
            author=copy.deepcopy(self.bot_user),
            content=body.get("content") or "",
            message_type=message_type,
            embeds=embeds,
            components=copy.deepcopy(body.get("components") or []),
            attachments=attachments,
            flags=flags,
            tts=bool(body.get("tts")),
            webhook_id=self.application_id if interaction else None,
            application_id=self.application_id if interaction else None,
            interaction_metadata=self._interaction_metadata(interaction, followup_of=followup_of)
            if interaction
            else None,
            interaction=self._legacy_interaction(interaction) if interaction else None,
        )
        if body.get("nonce") is not None:
            data["nonce"] = body["nonce"]
        if body.get("poll"):
            data["poll"] = copy.deepcopy(body["poll"])
        if reference is not None:
            data["message_reference"] = {
                "type": 0,
                "message_id": reference.data["id"],
                "channel_id": reference.data["channel_id"],
                **({"guild_id": str(reference.guild_id)} if reference.guild_id else {}),
            }
            data["referenced_message"] = copy.deepcopy(reference.data)
        stored = self._store(
            data,
            allowed_mentions=body.get("allowed_mentions"),
            interaction_id=interaction.id if interaction else None,
        )
        # A reply pings its target's author; interaction responses reference their message without a ping.
        replied = int(reference.data["author"]["id"]) if reference and interaction is None else None
        self._apply_mentions(stored, replied_user_id=replied)
        self._announce("MESSAGE_CREATE", stored)
        return stored

    def _edit_message(
        self,
        stored: _StoredMessage,
        body: JSON,
        uploads: list[_Upload],
        *,
        size_limit: int,
        replace: bool = False,
    ) -> _StoredMessage:
        """PATCH semantics: only fields present change.  ``replace`` is the followup-fills-placeholder case."""
        if stored.deleted:
            raise p.unknown("Message")
        p.validate_message(body)
        data = stored.data
        flags_after = data["flags"]
        if body.get("flags") is not None:
            editable = p.SUPPRESS_EMBEDS | p.IS_COMPONENTS_V2
            flags_after = (flags_after & ~editable) | (body["flags"] & editable)
        attachments = self._store_uploads(
            int(data["channel_id"]),
            body,
            uploads,
            [] if replace else data["attachments"],
            size_limit=size_limit,
            ephemeral=stored.ephemeral,
            keep_unlisted=not replace,
        )
        new = copy.deepcopy(data)
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in body or replace:
                new[key] = copy.deepcopy(body.get(key)) or empty
        new["embeds"] = [p.normalise_embed(e) for e in new["embeds"]]
        new["components"] = p.number_components(new["components"])
        new["attachments"] = attachments
        p.resolve_embed_attachments(new["embeds"], attachments)
        if not (
            new["content"] or new["embeds"] or new["attachments"] or new["components"] or new.get("poll")
        ):
            raise p.empty_message()
        was_loading = bool(data["flags"] & p.LOADING)
        new["flags"] = flags_after & ~p.LOADING
        if not was_loading:
            new["edited_timestamp"] = p.iso_now()
        stored.data = new
        if "allowed_mentions" in body or replace:
            stored.allowed_mentions = body.get("allowed_mentions")
        self._apply_mentions(stored)
        self._announce("MESSAGE_UPDATE", stored)
        return stored

    def _delete_message(self, stored: _StoredMessage) -> None:
        stored.deleted = True
        if not stored.ephemeral:
            self._dispatch_message_event(
                "MESSAGE_DELETE", stored, {"id": stored.data["id"], "channel_id": stored.data["channel_id"]}
            )

    def _apply_mentions(self, stored: _StoredMessage, replied_user_id: int | None = None) -> None:
        """Fill mention fields and record who would be pinged (ephemeral messages notify nobody)."""
        data = stored.data
        pings, users, roles = p.resolve_mentions(
            data["content"], stored.allowed_mentions, replied_user_id=replied_user_id
        )
        data["mentions"] = [copy.deepcopy(self.users[u]) for u in sorted(users) if u in self.users]
        data["mention_roles"] = [str(r) for r in sorted(roles)]
        data["mention_everyone"] = any(kind in ("everyone", "here") for kind, _ in pings)
        if stored.ephemeral:
            return
        scope = stored.guild_id or int(data["channel_id"])
        for kind, target in pings:
            key = (stored.id, kind, target if target is not None else scope)
            if key not in self._ping_keys:
                self._ping_keys.add(key)
                self.pings.append(key)

    def _announce(self, event: str, stored: _StoredMessage) -> None:
        if not stored.ephemeral:
            self._dispatch_message_event(event, stored, copy.deepcopy(stored.data))

    def _dispatch_message_event(self, event: str, stored: _StoredMessage, payload: JSON) -> None:
        if stored.guild_id is not None:
            payload["guild_id"] = str(stored.guild_id)
        intent = p.INTENT_GUILD_MESSAGES if stored.guild_id is not None else p.INTENT_DIRECT_MESSAGES
        self._dispatch_if_connected(event, lambda s: payload, intent=intent)
