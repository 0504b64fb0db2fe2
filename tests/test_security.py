"""Security checks.

- The API key and the bot token never appear in logs (all of them, at DEBUG), in errors shown to
  users, in any Discord message, or in the database, even when Segmind and Discord echo them back.
- The bot downloads only from allowlisted hosts (Segmind's result storage, Discord's CDN, and
  what the settings add), never from a host a payload names.
- Every SQL statement is a fixed string with bound parameters.
- Every moderator/admin action is refused server-side to a member without the permission, even
  when the request is forged past Discord's `default_member_permissions`.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import pytest
from aiohttp import web

from tests.e2e.conftest import (
    ALICE,
    EVERYONE_PERMS,
    GENERAL,
    GUILD,
    MOD_ROLE,
    SECRET_KEY,
    SECRET_TOKEN,
    World,
    png,
)
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openapi_check import default_spec_path
from tests.fakes.promises import fake_problems, mention_problems
from tests.fakes.segmind_server import FakeSegmind, Fault
from tests.local_http import serving

ROOT = Path(__file__).resolve().parents[1]
SQL_METHODS = {
    "execute", "executemany", "executescript", "fetchone", "fetchall", "fetchall_in_thread", "scan_in_thread", "defer",
}
# f-string SQL that only ever interpolates fixed fragments of the code itself (reviewed):
REVIEWED_FSTRING_PARTS = {
    ("core/db_thread.py", "int(number)"),  # PRAGMA user_version takes no bound parameter; our own integer
    ("core/jobs.py", "sql_set"),  # every caller of JobStore._update passes a literal (checked below)
    ("core/jobs.py", "placeholders"),  # ", ".join("?" ...): only question marks
    ("core/jobs.py", "state"),  # one of two literals
}


# --- SQL: fixed strings, bound parameters ----------------------------------------------------------


def _sql_calls():
    for path in sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "cogs").rglob("*.py"), ROOT / "bot.py"]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                yield str(path.relative_to(ROOT)), node


def _module_sql_constants() -> dict[str, dict[str, str]]:
    """Per module, the names bound once at module level to a plain string literal, with their text:
    as fixed as a literal written at the call (a statement two methods share is kept in one). A
    constant may join literals and earlier such constants, its own or imported from another module
    (with `+` or an f-string of names only): still fixed when the module is imported."""
    trees = {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "cogs").rglob("*.py")])
    }
    constants: dict[str, dict[str, str]] = {where: {} for where in trees}
    for _ in range(3):  # imports of imports: a few rounds reach every chain the code has
        for where, tree in trees.items():
            known: dict[str, str] = {}
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("core", "cogs")):
                    source = constants.get(node.module.replace(".", "/") + ".py", {})
                    known.update({a.asname or a.name: source[a.name] for a in node.names if a.name in source})
            assigns = [n for n in tree.body if isinstance(n, ast.Assign) and len(n.targets) == 1]
            bound = [ast.unparse(n.targets[0]) for n in assigns]
            found: dict[str, str] = {}
            for n, name in zip(assigns, bound, strict=True):
                text = _literal_text(n.value, {**known, **found})
                if text is not None and bound.count(name) == 1:
                    found[name] = text
            constants[where] = found
    return constants


def _literal_text(node: ast.expr, known: dict[str, str]) -> str | None:
    """The text of a string literal, or of literals and known constants joined with `+` or in an
    f-string whose every value is a known constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left, known), _literal_text(node.right, known)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.conversion != -1 or part.format_spec is not None:
                    return None
                text = _literal_text(part.value, known)
            else:
                text = _literal_text(part, known)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


def test_every_sql_statement_is_a_fixed_string_with_bound_parameters():
    constants = _module_sql_constants()
    problems = []
    for where, call in _sql_calls():
        if call.func.attr not in SQL_METHODS:
            continue
        sql = call.args[0]
        line = f"{where}:{call.lineno}"
        if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
            if "?" in sql.value and len(call.args) < 2 and not call.keywords:
                problems.append(f"{line}: placeholders but no parameters")
            if "%s" in sql.value or "{" in sql.value:
                problems.append(f"{line}: looks like a template: {sql.value[:60]!r}")
        elif isinstance(sql, ast.JoinedStr):
            for part in sql.values:
                if isinstance(part, ast.FormattedValue) and (where, ast.unparse(part.value)) not in REVIEWED_FSTRING_PARTS:
                    problems.append(f"{line}: SQL built with {{{ast.unparse(part.value)}}}; bind it as a parameter")
        elif isinstance(sql, ast.Name) and where in {"core/db.py", "core/db_thread.py", "core/db_postgres.py"}:
            continue  # the Database wrappers pass their caller's statement through
        elif where == "core/db_postgres.py" and ast.unparse(sql) == "translate(sql)":
            continue  # ... translated to PostgreSQL's dialect (core/pg_sql.py)
        elif isinstance(sql, ast.Name) and sql.id in constants.get(where, {}):
            if "{" in constants[where][sql.id] or "%s" in constants[where][sql.id]:
                problems.append(f"{line}: looks like a template: {sql.id}")
        else:
            problems.append(f"{line}: SQL built at run time ({ast.unparse(sql)[:60]})")
    assert problems == [], "\n".join(problems)


def test_the_reviewed_sql_fragments_are_literals_at_every_call_site():
    problems = []
    for where, call in _sql_calls():
        if where == "core/jobs.py" and call.func.attr == "_update":
            fragment = call.args[1] if len(call.args) > 1 else None
            if not (isinstance(fragment, ast.Constant) and isinstance(fragment.value, str)):
                problems.append(f"{where}:{call.lineno}: _update with a non-literal SET clause")
    assert problems == []


# --- a world for the e2e checks ---------------------------------------------------------------


@pytest.fixture
async def world(tmp_path):
    discord = FakeDiscord(token=SECRET_TOKEN, spec_path=default_spec_path("security tests"))
    segmind = FakeSegmind(api_key=SECRET_KEY, latency=0.02, image_size=(16, 16))
    await discord.start()
    await segmind.start()
    discord.add_user(ALICE, "alice")
    discord.add_guild(
        GUILD,
        "Alpha",
        roles=[
            discord.make_role(GUILD, "@everyone", EVERYONE_PERMS),
            discord.make_role(MOD_ROLE, "Moderators", 1 << 5),
        ],
        channels=[discord.make_channel(GENERAL, "general")],
        members=[ALICE],
    )
    w = World(discord, segmind, tmp_path)
    yield w
    if w.bot is not None:
        await w.bot.stop()
    await segmind.close()
    await discord.close()
    assert discord.unknown_routes == [] and discord.spec_violations == []
    assert mention_problems(discord.requests, w.requesters()) == []
    assert fake_problems(discord, segmind) == []


def _everything_visible(world: World) -> dict[str, str]:
    return {
        "a Discord message": json.dumps([data for data, _ in world.discord.all_messages()]),
        "the bot's log": "\n".join(p.read_text(errors="replace") for p in sorted(world.tmp.glob("bot-*.log"))),
        "a Discord request": json.dumps([r.json for r in world.discord.requests], default=str),
    }


async def test_secrets_echoed_back_by_segmind_and_discord_never_leak(world):
    await world.start_bot(LOG_LEVEL="DEBUG")
    await world.grant(100)
    echo = f"key {SECRET_KEY} token {SECRET_TOKEN}"
    segmind, discord = world.segmind, world.discord
    scenarios = [
        ("submit", Fault(400, {"error": f"bad request for {echo}"})),
        ("submit", Fault(401, {"error": f"unknown key {SECRET_KEY}"})),
        ("submit", Fault(500, f"<html>{echo}</html>")),
        ("status", Fault(422, {"status": "FAILED", "error": f"Content Moderated for {echo}"})),
        ("download", Fault(200, f"not an image {echo}".encode())),
    ]
    for n, (endpoint, fault) in enumerate(scenarios):
        segmind.script(endpoint, *([fault] * 4), prompt=f"scenario{n}")
        interaction = await discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": f"scenario{n} a cat"})
        await world.discord.wait_for(
            lambda i=interaction: any("❌" in (m.get("content") or "") for m in discord.interaction_messages(i)),
            timeout=30,
        )
    # Discord answering with the token in its error, on the result post and on a progress edit.
    discord.fail_next("PATCH", r"/webhooks/", 400, {"code": 50035, "message": f"Invalid Form Body {SECRET_TOKEN}"})
    interaction = await discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a dog"})
    await world.discord.wait_for(lambda: any(j["state"] in ("posted", "undeliverable") for j in world.jobs()), 60)
    visible = _everything_visible(world)
    assert " DEBUG " in visible["the bot's log"], "the check covers everything the bot can log"
    leaks = [
        f"{secret_name} in {where}"
        for where, text in visible.items()
        for secret_name, secret in (("the Segmind API key", SECRET_KEY), ("the bot token", SECRET_TOKEN))
        if secret in text
    ]
    assert leaks == []
    assert all(r.had_api_key for r in segmind.calls("submit"))
    downloads = segmind.calls("download")
    assert downloads, "the scenario downloads result files"
    assert not any(r.had_api_key for r in downloads), "the API key went to a result file host"


# --- downloads only from allowed hosts -----------------------------------------------------------


@pytest.fixture
async def elsewhere():
    """A server on another host name ("localhost"): it must never be contacted."""
    hits: list[str] = []

    async def anything(request):
        hits.append(request.path)
        return web.Response(body=png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{tail:.*}", anything)
    async with serving(app) as port:
        yield f"http://localhost:{port}", hits


async def test_a_result_url_on_another_host_is_never_fetched(world, elsewhere):
    base, hits = elsewhere
    await world.start_bot()
    await world.grant(10)
    world.segmind.script(
        "result", *[Fault(200, {"status": "COMPLETED", "output": f"{base}/internal/secret.png"})] * 4, prompt="fz"
    )
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "fz a cat"})
    reply = await world.reply(interaction, timeout=30)
    assert "not a usable image" in reply["content"] and "not charged" in reply["content"]
    assert hits == [], "the bot fetched a URL on a host that is not on its allowlist"
    assert world.balance() == (10, 0)
    assert "download allowlist" in world.log()


async def test_an_attachment_url_on_another_host_is_never_fetched(world, elsewhere):
    base, hits = elsewhere
    await world.start_bot()
    await world.grant(10)
    att = world.discord.add_attachment("x.png", png(), "image/png", url=f"{base}/internal/metadata.png")
    interaction = await world.discord.slash(GUILD, GENERAL, ALICE, "edit", {"prompt": "x", "image": att})
    await world.discord.wait_for(
        lambda: hits or any(m.get("content") for m in world.discord.interaction_messages(interaction)), timeout=15
    )
    assert hits == [], "the bot fetched an attachment URL on a host that is not Discord's CDN"
    assert world.balance() == (10, 0)


# --- moderator/admin actions are checked server-side ------------------------------------------------

def _leaves(command: dict):
    subs = [o for o in command.get("options", []) if o["type"] in (1, 2)]
    if not subs:
        yield [], command.get("options", [])
    for sub in subs:
        for path, options in _leaves(sub):
            yield [sub["name"], *path], options


def _fill(option: dict, world: World):
    kind = option["type"]
    if option.get("choices"):
        return option["choices"][0]["value"]
    if kind == 3:
        return "123456789"
    if kind == 4:
        return option.get("min_value", 1) if option.get("min_value", 1) > 0 else 1
    if kind == 10:
        return 1.0
    if kind == 5:
        return True
    if kind == 6:
        return ALICE
    if kind == 7:
        return GENERAL
    if kind == 8:
        return MOD_ROLE
    if kind == 11:
        return world.discord.add_attachment("a.png", png(), "image/png")
    raise AssertionError(f"option type {kind}")


def _state(world: World) -> dict[str, list]:
    conn = sqlite3.connect(f"file:{world.db_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()  # noqa: S608 - table names from the schema
            for t in tables
            if t not in ("sqlite_sequence", "meta")
        }
    finally:
        conn.close()


async def test_every_moderator_action_is_refused_to_a_member_without_permission(world):
    await world.start_bot()
    await world.grant(50)
    await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": "a job to act on"})
    await world.discord.wait_for(lambda: world.jobs() and world.jobs()[0]["state"] == "posted", timeout=30)
    checked, problems = [], []
    start = _state(world)
    for command in world.discord.commands:
        if command.get("type", 1) != 1:
            continue
        for path, options in _leaves(command):
            # Every command Discord shows only to members with a permission (/credits-admin among them).
            if command.get("default_member_permissions") in (None, "0"):
                continue
            name = " ".join([command["name"], *path])
            values = {o["name"]: _fill(o, world) for o in options if o.get("required")}
            if "job_id" in values:
                values["job_id"] = world.jobs()[0]["id"]
            before = _state(world)
            interaction = await world.discord.slash(
                GUILD, GENERAL, ALICE, command["name"], values,
                subcommand=path[-1] if path else None, group=path[0] if len(path) > 1 else None, forge=True,
            )
            try:
                reply = await world.reply(interaction, timeout=15)
            except AssertionError:
                problems.append(f"/{name}: no answer")
                continue
            checked.append(name)
            if not reply["flags"] & (1 << 6):
                problems.append(f"/{name}: answered publicly: {reply['content'][:80]!r}")
            if not any(w in reply["content"].lower() for w in ("not allowed", "you need", "only", "permission")):
                problems.append(f"/{name}: did not refuse: {reply['content'][:100]!r}")
            if _state(world) != before:
                problems.append(f"/{name}: changed the database for a member without permission")
    # A write after the refusal was sent would come late: the answer to a command sent after them all
    # is the later event that proves they are over.
    await world.reply(await world.discord.slash(GUILD, GENERAL, ALICE, "credits", {}, subcommand="balance"))
    if _state(world) != start:
        problems.append("a refused command changed the database after it answered")
    assert len(checked) >= 10, f"too few privileged commands found: {checked}"
    assert problems == [], "\n".join(problems)


# --- option types (pure: cogs/ui/checks.py) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "wrong"),
    [
        ([{"name": "prompt", "type": 3, "value": "a cat"}, {"name": "seed", "type": 4, "value": 7}], []),
        ([{"name": "cfg", "type": 10, "value": 3}, {"name": "cfg2", "type": 10, "value": 3.5}], []),
        ([{"name": "seed", "type": 4, "value": "7"}], ["seed"]),
        ([{"name": "seed", "type": 4, "value": False}], ["seed"]),
        ([{"name": "cfg", "type": 10, "value": "3"}], ["cfg"]),
        ([{"name": "go_fast", "type": 5, "value": 1}], ["go_fast"]),
        ([{"name": "image", "type": 11, "value": "123"}, {"name": "who", "type": 6, "value": "12a"}], ["who"]),
        ([{"name": "prompt", "type": 3}], ["prompt"]),  # no value at all
        ([{"name": "image", "type": 11, "value": "²"}, {"name": "who", "type": 6, "value": "١٢"}], ["image", "who"]),
        ([{"name": "x", "type": 99, "value": "?"}], ["x"]),  # a type Discord does not have
        (
            [{"name": "grant", "type": 1, "options": [{"name": "amount", "type": 4, "value": "10"}]}],
            ["amount"],
        ),
        (
            [{"name": "g", "type": 2, "options": [{"name": "s", "type": 1, "options": [
                {"name": "ok", "type": 3, "value": "x"}, {"name": "bad", "type": 5, "value": "no"}]}]}],
            ["bad"],
        ),
        ([{"name": "prompt", "type": 3, "value": 12, "focused": True}], []),  # autocomplete typing
        (["not an option"], ["?"]),
    ],
)
def test_option_values_must_have_their_types_json_type(options, wrong):
    from cogs.ui.checks import option_type_errors

    assert option_type_errors(options) == wrong
