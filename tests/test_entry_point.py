"""`python bot.py` itself: configuration errors are one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_bot(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Run from an empty directory so a developer's own .env cannot leak into the test.
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_empty_environment_names_the_missing_settings(tmp_path):
    result = run_bot({}, tmp_path)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {lines}"
    assert "DISCORD_TOKEN" in lines[0] and "SEGMIND_API_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_named_and_secrets_are_not_echoed(tmp_path):
    result = run_bot(
        {"DISCORD_TOKEN": "tok-secret-123", "SEGMIND_API_KEY": "key-secret-456", "SEGMIND_MODE": "turbo"},
        tmp_path,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "SEGMIND_MODE" in output and len(output.strip().splitlines()) == 1
    assert "tok-secret-123" not in output and "key-secret-456" not in output


def test_unreadable_price_file_is_a_configuration_error(tmp_path):
    result = run_bot(
        {"DISCORD_TOKEN": "t", "SEGMIND_API_KEY": "k", "PRICES_PATH": str(tmp_path / "missing.json")}, tmp_path
    )
    assert result.returncode != 0 and "PRICES_PATH" in result.stderr
    assert "Traceback" not in result.stderr
