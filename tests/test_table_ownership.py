"""One owner per table: the SQL in core/ touches a table only from the module that owns it.

Every SQL string in core/ (string constants and the literal parts of f-strings) is scanned for the
table after FROM / JOIN / INTO / UPDATE (DELETE FROM included). A module may touch a table it does
not own only if it is listed below with the reason: as a declared read API (reads only), or as an
exception. Schema statements (CREATE / ALTER TABLE, CREATE INDEX … ON) belong to the migrations in
core/migrations.py alone. Services are not reached through `get_cog` either: bot.py hands them in.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OWNERS = {
    "guild_credits": "core/ledger.py",
    "reservations": "core/ledger.py",
    "ledger_entries": "core/ledger.py",
    "jobs": "core/jobs.py",
    "meta": "core/db_shared.py",  # for both storage backends
    "guild_policies": "core/moderation.py",
    "member_blocks": "core/moderation.py",
    "reports": "core/moderation.py",
    "result_reviews": "core/moderation.py",
    "review_requests": "core/moderation.py",
    "allowances": "core/credit_rules.py",
    "credit_settings": "core/credit_rules.py",
    "guild_departures": "core/privacy.py",
    "forget_requests": "core/privacy.py",
    "guild_styles": "core/styles.py",
    "member_preferences": "core/preferences.py",
    "guild_presentation": "core/preferences.py",
    "quotes": "core/quotes.py",
    "identify_slots": "core/shards.py",
    "chore_leases": "core/chores.py",
    "guild_turns": "core/shared_queue.py",
    "rate_slots": "core/shared_window.py",
    "batches": "core/batches.py",
    "batch_jobs": "core/batches.py",
}


def owns(module: str, table: str) -> bool:
    return OWNERS[table] == module


# Modules that read (never write) tables of other owners, as part of the owner's read API.
READERS = {
    "core/usage.py": (
        {"ledger_entries", "jobs"},
        "the ledger's reporting read API: filtered rows, CSV and daily spend read ledger_entries joined"
        " to jobs (for the model) in one query; nothing there writes",
    ),
}

# Modules that write tables of other owners. Each one is a debt, with its reason.
EXCEPTIONS = {
    "core/leases.py": (
        {"jobs"},
        "the lease columns of jobs (owner, lease_until, fence) are the job leases': claims, renewals and"
        " takeovers; jobs.py keeps the rest of the row and checks the fence in every state change",
    ),
    "core/shared_queue.py": (
        {"jobs"},
        "the queue every process admits from claims a job (dispatched_at, owner, lease, fence) in the"
        " transaction that picks it round-robin; the job's states stay jobs.py's",
    ),
    "core/privacy.py": (
        set(OWNERS) - {"meta"},
        "erasure (/privacy forget, retention, a server left) must reach every table holding a user id"
        " or a prompt, in the same small transactions; until each owner offers a forget_in(tx, …),"
        " privacy writes those columns itself (README, 'Privacy')",
    ),
}

_TOUCH = re.compile(r"\b(FROM|JOIN|INTO|UPDATE)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_SCHEMA = re.compile(
    r"\b(?:CREATE\s+(?:TABLE|(?:UNIQUE\s+)?INDEX\s+\w+\s+ON)|ALTER\s+TABLE|DROP\s+TABLE)"
    r"\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)
_WRITES = {"INTO", "UPDATE"}


def sql_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    texts: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
    return texts


def touched(text: str) -> set[tuple[str, str]]:
    """(table, how) for every known table `text` reads (FROM/JOIN) or writes (INTO/UPDATE; DELETE
    FROM counts as a write)."""
    found = set()
    for match in _TOUCH.finditer(text):
        keyword, table = match.group(1).upper(), match.group(2).lower()
        if table not in OWNERS:
            continue
        deleting = keyword == "FROM" and re.search(r"DELETE\s+$", text[: match.start()], re.IGNORECASE)
        found.add((table, "write" if keyword in _WRITES or deleting else "read"))
    return found


def core_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "core").rglob("*.py") if "__pycache__" not in p.parts)


def schema_tables() -> set[str]:
    tables = set()
    for text in sql_strings(ROOT / "core/migrations.py"):
        tables |= {m.group(1).lower() for m in re.finditer(r"CREATE\s+TABLE\s+(\w+)", text, re.IGNORECASE)}
    return tables


def test_the_scanner_sees_reads_writes_and_deletes():
    text = "DELETE FROM reports WHERE x IN (SELECT id FROM jobs j JOIN ledger_entries l ON 1) "
    assert touched(text) == {("reports", "write"), ("jobs", "read"), ("ledger_entries", "read")}
    assert touched("UPDATE jobs SET a = 1") == {("jobs", "write")}
    assert touched("INSERT INTO meta (key) VALUES (?)") == {("meta", "write")}
    assert touched("SELECT 1 FROM json_each(?)") == set()


def test_every_table_has_one_owner_that_exists():
    assert schema_tables() == set(OWNERS), "a table without an owner (or an owner of no table)"
    for owner in {*OWNERS.values(), *READERS, *EXCEPTIONS}:
        assert (ROOT / owner).is_file(), owner


def test_a_module_touches_only_the_tables_it_owns():
    offenders = {}
    for path in core_modules():
        module = path.relative_to(ROOT).as_posix()
        readable, _ = READERS.get(module, (set(), ""))
        allowed, _ = EXCEPTIONS.get(module, (set(), ""))
        bad = set()
        for text in sql_strings(path):
            for table, how in touched(text):
                if owns(module, table) or table in allowed:
                    continue
                if how == "read" and table in readable:
                    continue
                bad.add(f"{how} {table}")
        if bad:
            offenders[module] = sorted(bad)
    assert offenders == {}, f"tables touched by a module that does not own them: {offenders}"


def test_declared_exceptions_are_still_needed():
    """An exception nobody needs any more is removed, so the list stays the list of real debts."""
    for module, (tables, reason) in {**READERS, **EXCEPTIONS}.items():
        assert reason
        used = set()
        for text in sql_strings(ROOT / module):
            used |= {table for table, _ in touched(text) if not owns(module, table)}
        assert used, f"{module} no longer touches other owners' tables: drop its entry"
        assert used <= tables


# The two migration lists (SQLite's, and PostgreSQL's derived from it) and the
# PostgreSQL runner's own version table.
MIGRATION_MODULES = {"core/migrations.py", "core/pg_migrations.py", "core/db_postgres.py"}


def test_schema_is_changed_only_by_the_migrations():
    offenders = {}
    for path in core_modules():
        module = path.relative_to(ROOT).as_posix()
        if module in MIGRATION_MODULES:
            continue
        hits = {m.group(0) for text in sql_strings(path) for m in _SCHEMA.finditer(text)}
        if hits:
            offenders[module] = sorted(hits)
    assert offenders == {}


def test_services_are_handed_in_not_looked_up():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted([ROOT / "bot.py", *(ROOT / "cogs").rglob("*.py")])
        if "get_cog(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == [], "reach services through what bot.py hands in, not bot.get_cog(...)"
