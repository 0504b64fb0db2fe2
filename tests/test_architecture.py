"""The shape of the code: core/ never depends on Discord or on the cogs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_discord_or_cogs():
    offenders = {}
    for path in sorted((ROOT / "core").rglob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in {"discord", "cogs", "bot"}}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}, f"core/ must stay free of Discord: {offenders}"


def test_sql_stays_out_of_the_cogs():
    for path in sorted((ROOT / "cogs").rglob("*.py")):
        text = path.read_text(encoding="utf-8").upper()
        for keyword in ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM"):
            assert keyword not in text, f"{path.name} contains SQL ({keyword.strip()}); SQL belongs in core/"
