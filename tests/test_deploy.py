"""deploy/flux-bot.service is checked by systemd's own verifier when the machine has it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "flux-bot.service"
SHIPPED_EXEC = "/opt/flux-bot/.venv/bin/python /opt/flux-bot/bot.py"


def test_unit_starts_the_bot_with_the_documented_paths():
    text = UNIT.read_text()
    assert f"ExecStart={SHIPPED_EXEC}" in text
    assert "RestartPreventExitStatus=2 3" in text  # cogs/ui/startup.py: EXIT_CONFIG, EXIT_TOKEN_REFUSED
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/flux-bot",
                   "PrivateTmp=yes", "ProtectHome=yes", "User=flux-bot", "Restart=on-failure"):
        assert option in text, option


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify also checks that ExecStart exists: point it at this checkout and interpreter.
    unit = tmp_path / "flux-bot.service"
    unit.write_text(UNIT.read_text().replace(SHIPPED_EXEC, f"{sys.executable} {ROOT / 'bot.py'}"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "flux-bot.service" in line]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr
