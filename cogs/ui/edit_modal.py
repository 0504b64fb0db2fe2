"""The "Edit" modal, answered from its custom_id alone, so a modal opened before a restart still works.

Its custom_id names what is edited: `flux:editjob:<job>` (a result's Edit button) or
`flux:editmsg:<channel>:<message>` (the "Edit with FLUX" context menu). The submit is handled by
GenerateCog's interaction listener through `submitted`, never by the Modal object (which a restart
forgets); the Modal's own on_submit does nothing, so a live one is not handled twice.
"""

from __future__ import annotations

import re

import discord

from cogs.ui import reply_texts as r
from cogs.ui.i18n import tr
from cogs.ui.options import model_choices
from core.models import PROMPT_MAX_CHARS, ModelId

EDIT_JOB = re.compile(r"^flux:editjob:(?P<job>[1-9][0-9]{0,18})$")
EDIT_MESSAGE = re.compile(r"^flux:editmsg:(?P<channel>[1-9][0-9]{0,19}):(?P<message>[1-9][0-9]{0,19})$")
PROMPT_ID = "prompt"
MODEL_ID = "model"


class EditPromptModal(discord.ui.Modal):
    """Asks for the edit prompt (and, from the context menu, the model)."""

    def __init__(self, custom_id: str, *, images: int = 0, locale=None) -> None:
        super().__init__(title=tr(r.MODAL_TITLE, locale), timeout=None, custom_id=custom_id)
        self.add_item(
            discord.ui.TextInput(
                label=tr(r.WHAT_CHANGES, locale),
                style=discord.TextStyle.paragraph,
                max_length=PROMPT_MAX_CHARS,
                custom_id=PROMPT_ID,
            )
        )
        if images:
            models = model_choices()  # the generation options' table: the default model first
            klein, pro = ModelId.KLEIN, ModelId.PRO
            options = [
                discord.SelectOption(
                    label=model.display_name,
                    value=model.value,
                    description=tr(r.UP_TO_REFERENCES, locale, count=model.max_references),
                    default=model is models[0],
                )
                for model in models
            ]
            # Said before the choice, since the submit's answer is the job's own message.
            note = tr(r.IMAGES_HERE, locale, images=images, klein=klein.max_references, pro=pro.max_references)
            self.add_item(
                discord.ui.Label(
                    text=tr(r.MODEL, locale),
                    description=note[:100],
                    component=discord.ui.Select(custom_id=MODEL_ID, options=options, required=False),
                )
            )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Nothing: GenerateCog's listener answers every edit modal (see the module docstring)."""


def submitted(interaction: discord.Interaction) -> tuple[str, ModelId | None] | None:
    """(prompt, chosen model or None) of an edit modal's submit; None for any other interaction."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data = interaction.data or {}
    if not isinstance(data.get("custom_id"), str) or not (
        EDIT_JOB.match(data["custom_id"]) or EDIT_MESSAGE.match(data["custom_id"])
    ):
        return None
    values: dict[str, object] = {}

    def walk(component: dict) -> None:
        if not isinstance(component, dict):
            return
        if "custom_id" in component:
            values[component["custom_id"]] = component.get("value", component.get("values"))
        for child in component.get("components") or []:
            walk(child)
        if isinstance(component.get("component"), dict):
            walk(component["component"])

    for component in data.get("components") or []:
        walk(component)
    prompt = values.get(PROMPT_ID)
    picked = values.get(MODEL_ID)
    model = None
    if isinstance(picked, list) and picked and picked[0] in {m.value for m in ModelId}:
        model = ModelId(picked[0])
    return (prompt if isinstance(prompt, str) else ""), model
