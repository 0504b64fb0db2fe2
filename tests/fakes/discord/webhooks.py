"""The bot's side of interactions: callbacks, the acknowledgement deadline, followups, webhook messages."""

from __future__ import annotations

import copy
import hmac
import time

from aiohttp import web

from tests.fakes.discord import payloads as p
from tests.fakes.discord.payloads import JSON, ApiError
from tests.fakes.discord.records import BODY_KEY, UPLOADS_KEY, Interaction, _Modal, _Upload


class WebhookMixin:
    """Interaction callbacks (the 3 s deadline, one answer only), followups and the original response
    through the interaction webhook routes."""

    # ----------------------------------------------------------------------- REST: interactions

    def _live_interaction(self, request: web.Request) -> Interaction:
        iid = request.match_info["interaction_id"]
        inter = self._interactions_by_id.get(int(iid)) if iid.isdigit() else None
        if inter is None or not hmac.compare_digest(inter.token, request.match_info["token"]):
            raise p.unknown("interaction")
        deadline = self.callback_deadline if inter.ack_deadline is None else inter.ack_deadline
        if inter.expired or time.monotonic() - inter.dispatched_at > deadline:
            raise p.unknown("interaction")
        return inter

    async def _callback(self, request: web.Request) -> web.Response:
        inter = self._live_interaction(request)
        if inter.acknowledged_elsewhere and inter.callback_type is None:
            # Someone else's answer got there first: a deferral (so followups work), not this one.
            inter.callback_type = 5
            stored = self._create_message(
                inter.channel_id,
                {},
                [],
                size_limit=inter.attachment_size_limit,
                message_type=self._reply_type(inter),
                interaction=inter,
                extra_flags=p.LOADING,
                allow_empty=True,
            )
            inter.original_message_id = stored.id
            raise p.already_acknowledged()
        if inter.callback_type is not None:
            raise p.already_acknowledged()
        body = request[BODY_KEY]
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            raise p.form_error(["type"], "BASE_TYPE_REQUIRED", "This field is required")
        ctype: int = body["type"]
        data = body.get("data") or {}
        if not isinstance(data, dict):
            raise ApiError(400, 50035, "Invalid Form Body", {"data": {"_errors": [p.DICT_ERROR]}})
        # Modal submits may ACK with 6 (discord.py's default defer()); 7 needs a message to update.
        allowed = {
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6} | ({7} if inter.source_message_id else set()),
        }
        if ctype not in allowed.get(inter.type, set()):
            raise p.form_error(
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                "Interaction response type is invalid for this interaction",
            )
        if ctype in (4, 5, 7):
            p.validate_message(data)
        uploads: list[_Upload] = request[UPLOADS_KEY]
        channel_id = inter.channel_id
        if channel_id not in self.channels:
            raise p.unknown("Channel")
        result: JSON = {"id": str(inter.id), "type": inter.type}
        resource: JSON | None = None
        limit = inter.attachment_size_limit
        if ctype in (4, 5):
            stored = self._create_message(
                channel_id,
                data if ctype == 4 else {"flags": int(data.get("flags") or 0) & p.EPHEMERAL},
                uploads if ctype == 4 else [],
                size_limit=limit,
                message_type=self._reply_type(inter),
                interaction=inter,
                extra_flags=p.LOADING if ctype == 5 else 0,
                reference=self._messages.get(inter.source_message_id or 0),
                allow_empty=ctype == 5,
            )
            inter.original_message_id = stored.id
            resource = {"type": ctype, "message": copy.deepcopy(stored.data)}
        elif ctype in (6, 7) and inter.source_message_id is not None:
            source = self._messages[inter.source_message_id]
            if ctype == 7:
                self._edit_message(source, data, uploads, size_limit=limit)
                resource = {"type": 7, "message": copy.deepcopy(source.data)}
            inter.original_message_id = source.id
        elif ctype == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise p.form_error(
                    ["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            inter.autocomplete_choices = copy.deepcopy(choices)
        elif ctype == 9:
            p.check_modal(data)
            modal = copy.deepcopy(data)
            p.number_components(modal["components"])  # the submission echoes these ids
            self._modals[data["custom_id"]] = _Modal(modal, inter)
        if inter.original_message_id is not None:
            original = self._messages[inter.original_message_id]
            result.update(
                response_message_id=str(original.id),
                response_message_loading=bool(original.data["flags"] & p.LOADING),
                response_message_ephemeral=original.ephemeral,
            )
        inter.callback_type = ctype
        inter.callbacks.append(copy.deepcopy(body))
        if str(request.query.get("with_response", "")).lower() not in ("1", "true"):
            return web.Response(status=204)
        return self._json({"interaction": result, **({"resource": resource} if resource else {})})

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        app = request.match_info["app_id"]
        if not app.isdigit() or int(app) != self.application_id:
            raise p.unknown("Webhook")
        inter = self._interactions_by_token.get(request.match_info["token"])
        if inter is None or inter.expired or time.monotonic() - inter.dispatched_at > self.token_lifetime:
            raise p.invalid_webhook_token()
        if inter.callback_type is None:
            raise p.unknown("Webhook")  # the interaction webhook exists only after the initial response
        if inter.channel_id not in self.channels:
            raise p.unknown("Channel")
        return inter

    async def _followup(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        body = request[BODY_KEY] or {}
        uploads: list[_Upload] = request[UPLOADS_KEY]
        limit = inter.attachment_size_limit
        original = self._messages.get(inter.original_message_id or 0)
        if (
            inter.callback_type == 5
            and original
            and not original.deleted
            and original.data["flags"] & p.LOADING
        ):
            # Documented (deprecated) behaviour: the first followup after a defer fills the placeholder.
            stored = self._edit_message(original, body, uploads, size_limit=limit, replace=True)
        else:
            stored = self._create_message(
                inter.channel_id,
                body,
                uploads,
                size_limit=limit,
                message_type=self._reply_type(inter),
                interaction=inter,
                followup_of=inter.original_message_id,
            )
            inter.followup_ids.append(stored.id)
        return self._json(stored.data)

    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        inter = self._webhook_interaction(request)
        raw = request.match_info["message_id"]
        if raw == "@original":
            mid = inter.original_message_id
        else:
            mid = int(raw) if raw.isdigit() else None
            if mid != inter.original_message_id and mid not in inter.followup_ids:
                mid = None
        stored = self._messages.get(mid) if mid is not None else None
        if stored is None or stored.deleted:
            raise p.unknown("Message")
        if request.method == "GET":
            return self._json(stored.data)
        if request.method == "DELETE":
            self._delete_message(stored)
            return web.Response(status=204)
        self._edit_message(
            stored, request[BODY_KEY] or {}, request[UPLOADS_KEY], size_limit=inter.attachment_size_limit
        )
        return self._json(stored.data)
