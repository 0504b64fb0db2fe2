"""Static checks that what the bot writes goes through the translator (cogs/ui/i18n.py `tr`).

1. Nothing sent to Discord (send_message, send, edit_message, edit_original_response, edit, followup.send)
   is written inline: no string literal or f-string with words, and no sentence constant of a text module
   handed over untranslated (`messages.DELETED` instead of `tr(messages.DELETED, locale)`).
2. No English sentence is written in the member-facing cogs outside the text modules, unless it is a
   catalogue entry (translated where it is used) or listed below with why it stays English.
The e2e test tests/e2e/test_replies_l10n_e2e.py checks the same from the outside, on real replies.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cogs.ui.catalogue import CATALOGUE
from cogs.ui.catalogue_names import NAMES
from core import errors as core_errors

ROOT = Path(__file__).resolve().parents[1]
SENDERS = {"send_message", "send", "edit_message", "edit_original_response", "edit"}
# The modules holding sentences (imported under these names in cogs/).
TEXT_MODULES = {"messages", "m", "t", "r", "c", "p", "b", "q", "et", "member_texts", "privacy_texts", "batch_texts"}
WORDS = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")
SHOWN_KEYWORDS = {"name", "value", "label", "title", "text", "description", "placeholder", "content"}

# Where the text is the sentences themselves, or is read by staff only: the mod log, the owners' alerts
# and commands, the operator's console (startup and health). These stay English on purpose.
NOT_MEMBER_FACING = re.compile(
    r"(^messages|_texts|^catalogue.*|^i18n|^modlog|^owner_alerts|^owner|^startup|^health|^patches|^options)\.py$"
)
# English kept in member-facing files, each with its reason.
KEPT_ENGLISH = {
    ("cogs/credits_admin.py", "Credits spent per day (last 30 days)"): "the chart's font lacks glyphs for every language",
    ("cogs/ui/render.py", "Generated image"): "alt text of an image without a prompt, which a job always has",
    ("cogs/generate.py", " reference image(s))"): "the summary of a request for the mod log",
    # review.py: moderators' buttons, the mod log's cards and the moderator's own log lines.
    **{("cogs/ui/review.py", text): "mod log" for text in (
        "Block member", "Approve request", "Reject request", "Reported by", "Requester", "Reports", "Result",
        " (hides at ", "reported image (job ",
        "Held for review: requested by <@", "> approved job ", "> rejected job ", "> removed job ",
        "> dismissed the reports on job ", " was already decided.", "> approved request ", "> rejected request ",
        ", but it cannot run: ",
        " could not be delivered (its channel is gone and the requester takes no DMs); it stays held.",
    )},
    **{("cogs/ui/undeliverable.py", text): "the owners' alert" for text in (
        "📦 The image of job #", ", requested by <@", " credits) could not be delivered; it is kept. Requester told: ",
        ". `/owner redeliver job_id:", "` tries again; `/owner undeliverable` lists every such job.",
    )},
}
# Calls whose strings are not shown as written: logs, errors (worded in their class, translated by
# report_error), command metadata (translated by the translator, checked in tests/test_i18n.py).
NOT_SHOWN_CALLS = {
    "debug", "info", "warning", "error", "exception", "critical", "getLogger", "command", "describe", "Choice",
    "Group", "ContextMenu", "wired", "ModeratorAction", "DeliveryFailed", "create_task",
    *(name for name, value in vars(core_errors).items() if isinstance(value, type)),
}


def cog_files() -> list[Path]:
    return sorted((ROOT / "cogs").rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def inline_replies(source: str) -> list[tuple[int, str]]:
    """(line, text) of every reply written inline or handed over untranslated."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDERS):
            continue
        for arg in [*node.args[:1], *(k.value for k in node.keywords if k.arg == "content")]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search("[A-Za-z]", arg.value):
                found.append((node.lineno, arg.value))
            elif isinstance(arg, ast.JoinedStr):
                literal = "".join(v.value for v in arg.values if isinstance(v, ast.Constant))
                if re.search("[A-Za-z]", literal):
                    found.append((node.lineno, literal))
            elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id in TEXT_MODULES:
                found.append((node.lineno, f"{arg.value.id}.{arg.attr}"))
            elif isinstance(arg, ast.Name) and arg.id.isupper():
                found.append((node.lineno, arg.id))  # a sentence constant imported by name
    return found


def english_sentences(source: str) -> list[tuple[int, str]]:
    """(line, text) of every literal with two words that is not a docstring, a log line, an error, command
    metadata or a catalogue entry."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in NOT_SHOWN_CALLS or name.endswith(("Error", "Exception")):
                skip.update(id(sub) for sub in ast.walk(node))
        if isinstance(node, ast.ClassDef):
            skip.update(id(sub) for kw in node.keywords for sub in ast.walk(kw.value))
    # A single word is a sentence too where Discord shows it: a field's name, a button's label, a title.
    shown = {
        id(kw.value)
        for node in ast.walk(tree) if isinstance(node, ast.Call)
        for kw in node.keywords if kw.arg in SHOWN_KEYWORDS
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        and (WORDS.search(node.value) or (id(node) in shown and re.search("[A-Za-z]{2}", node.value)))
        and node.value not in CATALOGUE and node.value not in NAMES
    ]


@pytest.mark.parametrize("path", cog_files(), ids=relative)
def test_no_reply_is_written_inline_or_sent_untranslated(path):
    found = inline_replies(path.read_text(encoding="utf-8"))
    assert not found, f"{relative(path)}: send these through tr(text, locale): {found}"


@pytest.mark.parametrize("path", [p for p in cog_files() if not NOT_MEMBER_FACING.search(p.name)], ids=relative)
def test_no_english_sentence_is_left_in_member_facing_code(path):
    name = relative(path)
    found = [(line, text) for line, text in english_sentences(path.read_text(encoding="utf-8"))
             if (name, text) not in KEPT_ENGLISH]
    assert not found, f"{name}: move these into a text module and the catalogue: {found}"


def test_the_checks_find_inline_and_untranslated_replies():
    """Both checks can fail: each finds what it is there to find, and passes the translated form."""
    source = (
        "async def f(i, ok):\n"
        "    await i.response.send_message('Allowance removed.', ephemeral=True)\n"
        "    await i.followup.send(f'{ok} ledger entries.')\n"
        "    await i.edit_original_response(content=messages.REQUEST_PENDING)\n"
        "    await i.response.send_message(tr(messages.DELETED, i.locale))\n"
        "    await i.channel.send(f'<@{ok}>')\n"
        "    await i.followup.send(STARTING, wait=True)\n"
    )
    assert [line for line, _ in inline_replies(source)] == [2, 3, 4, 7]
    kept = "x = 'Allowance removed.'\ny = 'Your brand new words here'\nlog.info('some log line')\n"
    assert english_sentences(kept) == [(2, "Your brand new words here")]
    fields = "e.add_field(name='Model', value=str(seed))\ne.add_field(name='Seedling', value='x')\n"
    assert english_sentences(fields) == [(2, "Seedling")], "a field's one-word name counts, a known word does not"
