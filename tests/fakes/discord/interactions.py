"""The user's side of interactions: slash commands, autocomplete, context menus, clicks, modals."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON
from tests.fakes.discord.records import Interaction, _StoredMessage


class InteractionMixin:
    """Dispatching interactions as a user would cause them, and the interaction payload fields
    (:meth:`_interaction_payload`: guild, member, locale, permissions, resolved data)."""

    def expire_interaction(self, interaction: Interaction | str) -> None:
        """Expire an interaction token now (webhook calls then get 401 / 50027)."""
        token = interaction.token if isinstance(interaction, Interaction) else interaction
        self._interactions_by_token[token].expired = True

    # ------------------------------------------------------------------------------ interactions

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
        locale: str = "en-US",
        forge: bool = False,
        ack_deadline: float | None = None,
        acknowledged_elsewhere: bool = False,
    ) -> Interaction:
        """Invoke a slash command the bot registered; option types come from its registration.

        ``guild_id=None`` (and ``channel_id=None``) invokes it in the user's DM with the bot.
        ``forge=True`` sends it even where Discord would not offer it, with option values the
        Discord client would refuse (out of range, not a choice, wrong type): a modified client or
        a request sent straight to the interactions endpoint, to test the bot's own checks.
        ``ack_deadline`` overrides the 3 s acknowledgement deadline for this interaction (0: any
        answer is late, 10062); ``acknowledged_elsewhere`` makes its first callback 40060.
        Attachment options take the dict from :meth:`add_attachment`.
        """
        command = self._find_command(name, guild_id, command_type=1, forge=forge)
        resolver = self._resolver(guild_id)
        resolver.validate = not forge
        wire = p.build_command_options(command, options or {}, resolver, subcommand=subcommand, group=group)
        data = self._command_data(command, wire, resolver.resolved)
        return await self._interact(
            2,
            guild_id,
            channel_id,
            user_id,
            data,
            attachment_size_limit,
            locale,
            ack_deadline=ack_deadline,
            acknowledged_elsewhere=acknowledged_elsewhere,
        )

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        subcommand: str | None = None,
        group: str | None = None,
    ) -> Interaction:
        """An APPLICATION_COMMAND_AUTOCOMPLETE interaction; the bot's choices land in ``.autocomplete_choices``."""
        command = self._find_command(name, guild_id, command_type=1)
        resolver = self._resolver(guild_id)
        wire = p.build_command_options(
            command, options, resolver, subcommand=subcommand, group=group, focused=focused
        )
        data = self._command_data(command, wire, resolver.resolved)
        return await self._interact(4, guild_id, channel_id, user_id, data, p.DEFAULT_UPLOAD_LIMIT, "en-US")

    async def message_command(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        target_message: JSON,
        *,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
    ) -> Interaction:
        """Invoke a message context-menu command on ``target_message``."""
        command = self._find_command(name, guild_id, command_type=3)
        target = self.message(target_message["id"]) or copy.deepcopy(target_message)
        resolved = {"messages": {target["id"]: target}}
        data = {**self._command_data(command, [], resolved), "target_id": target["id"]}
        return await self._interact(2, guild_id, channel_id, user_id, data, attachment_size_limit, "en-US")

    async def user_command(
        self, guild_id: int | None, channel_id: int | None, user_id: int, name: str, target_user_id: int
    ) -> Interaction:
        """Invoke a user context-menu command on ``target_user_id``."""
        command = self._find_command(name, guild_id, command_type=2)
        resolver = self._resolver(guild_id)
        target = resolver.wire_value({"type": p.OPT_USER, "name": "target"}, target_user_id)
        data = {**self._command_data(command, [], resolver.resolved), "target_id": target}
        return await self._interact(2, guild_id, channel_id, user_id, data, p.DEFAULT_UPLOAD_LIMIT, "en-US")

    async def click(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        message: JSON,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
        forge: bool = False,
        locale: str = "en-US",
    ) -> Interaction:
        """Click a button (or pick ``values`` in a select) on a message the bot sent.

        ``forge=True`` sends ``custom_id`` as a button click even if the message has no such
        component: a modified client replaying or inventing an id, to test the bot's checks.
        """
        stored = self._messages.get(int(message["id"]))
        if stored is None or stored.deleted:
            raise LookupError(f"message {message['id']} does not exist (deleted?) so it cannot be clicked")
        if forge:
            # The interaction's `message` carries the forged button too, as a copied or altered
            # message would (discord.py ignores a custom_id its message does not have).
            forged = copy.deepcopy(stored)
            button = {"type": 2, "style": 2, "label": "forged", "custom_id": custom_id}
            forged.data["components"] = [*forged.data.get("components", []), {"type": 1, "components": [button]}]
            return await self._interact(
                3,
                guild_id,
                channel_id,
                user_id,
                {"custom_id": custom_id, "component_type": 2},
                attachment_size_limit,
                locale,
                source=forged,
            )
        component = p.find_component(stored.data["components"], custom_id)
        if component is None:
            ids = [
                c.get("custom_id") for c in p.iter_components(stored.data["components"]) if c.get("custom_id")
            ]
            raise LookupError(f"message {stored.id} has no component {custom_id!r}; it has {ids}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not let a user use it")
        data: JSON = {"custom_id": custom_id, "component_type": int(component["type"])}
        if component["type"] != 2:
            data["values"] = list(values or [])
            resolver = self._resolver(guild_id)
            opt_type = {5: p.OPT_USER, 6: p.OPT_ROLE, 7: p.OPT_MENTIONABLE, 8: p.OPT_CHANNEL}.get(
                component["type"]
            )
            if opt_type is not None:
                data["values"] = [
                    resolver.wire_value({"type": opt_type, "name": custom_id}, v) for v in values or []
                ]
                data["resolved"] = resolver.resolved
        return await self._interact(
            3, guild_id, channel_id, user_id, data, attachment_size_limit, locale, source=stored
        )

    async def submit_modal(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        custom_id: str,
        values: Mapping[str, Any],
        message: JSON | None = None,
        *,
        attachment_size_limit: int = p.DEFAULT_UPLOAD_LIMIT,
    ) -> Interaction:
        """Submit a modal the bot showed to this user, mirroring its layout (rows or labels)."""
        modal = self._modals.get(custom_id)
        if modal is None:
            raise LookupError(f"the bot never showed a modal {custom_id!r}; shown: {sorted(self._modals)}")
        if modal.interaction.user_id != user_id:
            raise ValueError(
                f"modal {custom_id!r} was shown to user {modal.interaction.user_id}, not {user_id}"
            )
        data = {
            "custom_id": custom_id,
            "components": p.modal_submit_components(modal.data["components"], values),
        }
        source_id = int(message["id"]) if message else modal.interaction.source_message_id
        source = self._messages.get(source_id) if source_id else None
        return await self._interact(
            5,
            guild_id,
            channel_id,
            user_id,
            data,
            attachment_size_limit,
            "en-US",
            source=source,
            triggering=modal.interaction,
        )

    async def _interact(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        data: JSON,
        attachment_size_limit: int,
        locale: str,
        *,
        source: _StoredMessage | None = None,
        triggering: Interaction | None = None,
        ack_deadline: float | None = None,
        acknowledged_elsewhere: bool = False,
    ) -> Interaction:
        payload, channel_id = self._interaction_payload(
            itype, guild_id, channel_id, user_id, attachment_size_limit, locale
        )
        payload["data"] = data
        if source is not None:
            # Deliberately not checked against channel_id: tests may replay a copied custom_id from
            # another guild or channel, as a modified client could.
            payload["message"] = copy.deepcopy(source.data)
        session = self._dispatch("INTERACTION_CREATE", payload, self._route(guild_id))
        interaction = Interaction(
            id=int(payload["id"]),
            token=payload["token"],
            payload=payload,
            type=itype,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            attachment_size_limit=attachment_size_limit,
            dispatched_at=time.monotonic(),
            source_message_id=source.id if source else None,
            triggering=triggering,
            ack_deadline=ack_deadline,
            acknowledged_elsewhere=acknowledged_elsewhere,
        )
        self.interactions.append(interaction)
        self._interactions_by_id[interaction.id] = interaction
        self._interactions_by_token[interaction.token] = interaction
        if session.conn is not None and not session.conn.closed:
            await session.conn.queue.join()  # handed to the socket: the 3 s clock is now running
            interaction.dispatched_at = time.monotonic()
        return interaction

    def _interaction_payload(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        attachment_size_limit: int,
        locale: str,
    ) -> tuple[JSON, int]:
        user = self._ensure_user(user_id)
        payload: JSON = {
            "id": str(self._snowflakes.next()),
            "application_id": str(self.application_id),
            "type": itype,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": attachment_size_limit,
        }
        if guild_id is None:
            channel_id = self._dm_channel_for(user_id)
            payload.update(
                user=user,
                channel=copy.deepcopy(self.channels[channel_id]),
                channel_id=str(channel_id),
                context=1,
                authorizing_integration_owners={"0": "0"},
                app_permissions=str(p.DEFAULT_EVERYONE_PERMISSIONS),
            )
            return payload, channel_id
        guild = self._guild(guild_id)
        if channel_id is None or channel_id not in (*guild.channel_ids, *guild.thread_ids):
            raise LookupError(f"guild {guild_id} has no channel {channel_id}")
        if user_id not in guild.members:
            raise LookupError(f"user {user_id} is not a member of guild {guild_id}; use add_member first")
        member = self._member_payload(guild, user_id)
        member["permissions"] = str(self._permissions(guild, user_id))
        payload.update(
            guild_id=str(guild_id),
            guild={"id": str(guild_id), "locale": self.guild_locales.get(guild_id, "en-US"), "features": []},
            guild_locale=self.guild_locales.get(guild_id, "en-US"),
            member=member,
            channel=copy.deepcopy(self.channels[channel_id]),
            channel_id=str(channel_id),
            context=0,
            authorizing_integration_owners={"0": str(guild_id)},
            app_permissions=str(self._permissions(guild, self.application_id)),
        )
        return payload, channel_id

    def _find_command(
        self, name: str, guild_id: int | None, *, command_type: int, forge: bool = False
    ) -> JSON:
        scopes = ([("guild", c) for c in self.guild_commands.get(guild_id, [])] if guild_id else []) + [
            ("global", c) for c in self.commands
        ]
        for _scope, cmd in scopes:
            if cmd["name"] == name and int(cmd.get("type", 1)) == command_type:
                if guild_id is None and not forge:
                    contexts = cmd.get("contexts")
                    if cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                        raise LookupError(
                            f"command {name!r} has contexts={contexts}: Discord does not offer it in DMs, "
                            "so no user can invoke it there"
                        )
                return cmd
        registered = [f"{scope}:{c['name']}(type {c.get('type', 1)})" for scope, c in scopes]
        raise LookupError(
            f"the bot never registered a type-{command_type} command {name!r} "
            f"{'for guild ' + str(guild_id) + ' or ' if guild_id else ''}globally; registered: {registered}"
        )

    @staticmethod
    def _command_data(command: JSON, options: list[JSON], resolved: Mapping[str, Any]) -> JSON:
        data: JSON = {"id": command["id"], "name": command["name"], "type": int(command.get("type", 1))}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = dict(resolved)
        return data

    def _resolver(self, guild_id: int | None) -> p.OptionResolver:
        guild = self.guilds.get(guild_id) if guild_id else None

        def member(uid: int) -> JSON | None:
            if guild is None or uid not in guild.members:
                return None
            return {**self._member_payload(guild, uid), "permissions": str(self._permissions(guild, uid))}

        def role(rid: int) -> JSON:
            if guild is None or rid not in guild.roles:
                raise LookupError(f"no role {rid} in guild {guild_id}")
            return copy.deepcopy(guild.roles[rid])

        def channel(cid: int) -> JSON:
            chan = copy.deepcopy(self._channel(cid))
            return {k: chan[k] for k in ("id", "type", "name", "nsfw", "parent_id") if k in chan} | {
                "permissions": str(p.ALL_PERMISSIONS)
            }

        def attachment(value: Any) -> JSON:
            att_id = int(value["id"] if isinstance(value, dict) else value)
            if att_id not in self._cdn:
                raise LookupError(f"attachment {att_id} was not created with add_attachment()")
            return {**copy.deepcopy(self._cdn[att_id].attachment), "ephemeral": True}

        return p.OptionResolver(
            user=lambda uid: copy.deepcopy(self._ensure_user(uid)),
            member=member,
            role=role,
            channel=channel,
            attachment=attachment,
        )

    def _interaction_metadata(self, interaction: Interaction, *, followup_of: int | None = None) -> JSON:
        meta: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": copy.deepcopy(self.users[interaction.user_id]),
            "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
        }
        data = interaction.payload.get("data", {})
        if interaction.type == 2:
            meta["name"] = data.get("name")
            meta["command_type"] = data.get("type", 1)
            if data.get("type") == 3:
                meta["target_message_id"] = data["target_id"]
            elif data.get("type") == 2:
                meta["target_user"] = copy.deepcopy(self.users[int(data["target_id"])])
        if interaction.type == 3 and interaction.source_message_id:
            meta["interacted_message_id"] = str(interaction.source_message_id)
        if interaction.type == 5 and interaction.triggering is not None:
            meta["triggering_interaction_metadata"] = self._interaction_metadata(interaction.triggering)
        if followup_of is not None:
            meta["original_response_message_id"] = str(followup_of)
        return meta

    def _legacy_interaction(self, interaction: Interaction) -> JSON | None:
        """The deprecated ``message.interaction`` field Discord still sends for command replies."""
        if interaction.type != 2:
            return None
        return {
            "id": str(interaction.id),
            "type": 2,
            "name": interaction.payload["data"]["name"],
            "user": copy.deepcopy(self.users[interaction.user_id]),
        }

    @staticmethod
    def _reply_type(interaction: Interaction) -> int:
        """20 CHAT_INPUT_COMMAND, 23 CONTEXT_MENU_COMMAND, 19 REPLY for component/modal responses."""
        if interaction.type == 2:
            return 20 if interaction.payload["data"].get("type", 1) == 1 else 23
        return 19 if interaction.source_message_id else 20
