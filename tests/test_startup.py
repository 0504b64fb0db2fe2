"""Start-up failures of the real bot process: one line naming the cause, an exit code, no traceback.

Each test starts `python bot.py` the way an operator would and reads what it printed. LOG_LEVEL is
WARNING so the progress lines of a normal start (INFO) are not counted: what is left is what an
operator has to read.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cogs.ui.startup import EXIT_CONFIG, EXIT_TOKEN_REFUSED, EXIT_UNREACHABLE
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.segmind_server import FakeSegmind

ROOT = Path(__file__).resolve().parents[1]


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "ENV_FILE": "",  # a developer's own .env must not leak into the test
        "DISCORD_TOKEN": "placeholder-discord-token",
        "SEGMIND_API_KEY": "placeholder-segmind-key",
        "DATABASE_PATH": str(tmp_path / "data" / "bot.db"),
        "LOG_LEVEL": "WARNING",
        "STARTUP_ATTEMPTS": "1",
        "STARTUP_BACKOFF_SECONDS": "0",
        **extra,
    }


async def run_bot(env: dict[str, str], cwd: Path, script: Path = ROOT / "bot.py") -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    lines = [line for line in out.decode(errors="replace").splitlines() if line.strip()]
    assert proc.returncode is not None
    return proc.returncode, lines


def one_line(lines: list[str]) -> str:
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    assert len(lines) == 1, "expected one line, got:\n" + "\n".join(lines)
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unresolvable_discord_host_is_one_line_and_exit_4(tmp_path):
    code, lines = await run_bot(base_env(tmp_path, DISCORD_API_BASE="https://discord.invalid/api/v10"), tmp_path)
    line = one_line(lines)
    assert code == EXIT_UNREACHABLE
    assert "discord.invalid could not be resolved (DNS)" in line and "gave up after 1 attempt" in line


async def test_refused_connection_is_retried_once_per_attempt_then_gives_up(tmp_path):
    env = base_env(tmp_path, DISCORD_API_BASE=f"http://127.0.0.1:{closed_port()}/api/v10", STARTUP_ATTEMPTS="3")
    code, lines = await run_bot(env, tmp_path)
    assert code == EXIT_UNREACHABLE
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    assert len(lines) == 3, "\n".join(lines)
    assert "retrying in 0 s (attempt 1 of 3)" in lines[0] and "(attempt 2 of 3)" in lines[1]
    assert "ERROR" in lines[2] and "gave up after 3 attempt(s)" in lines[2] and "cannot reach Discord" in lines[2]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a self-signed certificate")
async def test_tls_failure_names_tls(tmp_path):
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(reader, writer):
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        code, lines = await run_bot(base_env(tmp_path, DISCORD_API_BASE=f"https://127.0.0.1:{port}/api/v10"), tmp_path)
    line = one_line(lines)
    assert code == EXIT_UNREACHABLE
    assert "TLS connection to 127.0.0.1 failed" in line


async def test_refused_token_is_one_line_and_exit_3(tmp_path):
    async with FakeDiscord(token="the-real-token-0001") as discord:
        env = base_env(
            tmp_path, DISCORD_TOKEN="a-wrong-token-00002", DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
        )
        code, lines = await run_bot(env, tmp_path)
    line = one_line(lines)
    assert code == EXIT_TOKEN_REFUSED
    assert "Discord refused DISCORD_TOKEN" in line and "a-wrong-token-00002" not in line


async def test_unknown_log_level_is_a_configuration_error(tmp_path):
    code, lines = await run_bot(base_env(tmp_path, LOG_LEVEL="LOUD"), tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG and "LOG_LEVEL" in line and "INFO" in line


async def test_env_copied_unchanged_from_the_example_says_empty(tmp_path):
    env_file = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env_file)
    env = base_env(tmp_path, ENV_FILE=str(env_file))
    del env["DISCORD_TOKEN"], env["SEGMIND_API_KEY"]
    code, lines = await run_bot(env, tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG
    assert "DISCORD_TOKEN, SEGMIND_API_KEY: is empty" in line and "item" not in line


async def test_unwritable_database_path_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    code, lines = await run_bot(base_env(tmp_path, DATABASE_PATH=str(blocker / "bot.db")), tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG
    assert f"cannot open the database {blocker / 'bot.db'}" in line and "DATABASE_PATH" in line


async def test_database_newer_than_the_code_is_one_line(tmp_path):
    path = tmp_path / "data" / "bot.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    code, lines = await run_bot(base_env(tmp_path), tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG and "schema version 999" in line and "newer" in line


async def test_short_placeholder_secrets_do_not_mangle_words(tmp_path):
    env = base_env(
        tmp_path, DISCORD_TOKEN="P", SEGMIND_API_KEY="e", LOG_LEVEL="INFO",
        DISCORD_API_BASE=f"http://127.0.0.1:{closed_port()}/api/v10",
    )
    code, lines = await run_bot(env, tmp_path)
    text = "\n".join(lines)
    assert code == EXIT_UNREACHABLE
    assert "[redacted]" not in text and "starting" in text, text
    assert "voice will NOT be supported" not in text


async def test_version_flag(tmp_path):
    from core.version import __version__

    code, lines = await run_bot_args(["--version"], tmp_path)
    assert code == 0 and lines == [f"flux-bot {__version__}"]


async def run_bot_args(args: list[str], cwd: Path) -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), *args, cwd=cwd, env={"PATH": "/usr/bin:/bin", "ENV_FILE": ""},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode().split("\n")[:-1]


async def test_started_from_another_directory_reads_the_env_beside_bot_py(tmp_path):
    """As systemd or cron would start it: the working directory is elsewhere, `.env` is beside
    bot.py and DATABASE_PATH is relative; both resolve against bot.py's directory."""
    app = tmp_path / "app"
    ignore = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", "blobs")
    for part in ("cogs", "core", "data"):
        shutil.copytree(ROOT / part, app / part, ignore=ignore)
    shutil.copy(ROOT / "bot.py", app / "bot.py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with FakeDiscord(token="fake-token-from-dotenv") as discord, FakeSegmind(api_key="fake-key-dotenv") as segmind:
        (app / ".env").write_text(
            "DISCORD_TOKEN=fake-token-from-dotenv\nSEGMIND_API_KEY=fake-key-dotenv\n"
            "DATABASE_PATH=state/bot.db\n"
            f"DISCORD_API_BASE={discord.api_base}\nDISCORD_GATEWAY_URL={discord.gateway_url}\n"
            f"SEGMIND_BASE_URL={segmind.base_url}\nSEGMIND_UPLOAD_URL={segmind.upload_url}\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(app / "bot.py"), cwd=elsewhere, env={"PATH": os.environ.get("PATH", "")},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await discord.wait_ready(timeout=30)
        finally:
            proc.terminate()
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, out.decode()
    assert (app / "state" / "bot.db").exists()
    assert not (elsewhere / "state").exists() and not (elsewhere / "data").exists()
    assert b"fake-token-from-dotenv" not in out


async def test_health_address_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = await run_bot(base_env(tmp_path, HEALTH_ADDR=f"127.0.0.1:{port}"), tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG and f"cannot serve HEALTH_ADDR 127.0.0.1:{port}" in line


async def test_malformed_health_address_is_a_configuration_error(tmp_path):
    code, lines = await run_bot(base_env(tmp_path, HEALTH_ADDR="8080"), tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG and "HEALTH_ADDR" in line and "host:port" in line


async def test_a_stop_while_waiting_to_retry_ends_the_bot_cleanly(tmp_path):
    env = base_env(
        tmp_path, DISCORD_API_BASE=f"http://127.0.0.1:{closed_port()}/api/v10",
        STARTUP_ATTEMPTS="0", STARTUP_BACKOFF_SECONDS="3600",  # until stopped; waits capped at 60 s
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    first = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert b"retrying in 60 s (attempt 1)" in first, first
    proc.terminate()
    rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, rest.decode()
    assert b"Traceback" not in rest


async def test_a_missing_env_file_named_by_env_file_is_a_configuration_error(tmp_path):
    code, lines = await run_bot(base_env(tmp_path, ENV_FILE=str(tmp_path / "nope.env")), tmp_path)
    line = one_line(lines)
    assert code == EXIT_CONFIG and "ENV_FILE" in line and "nope.env" in line


class _Reconnecting:
    """discord.py after Discord has been gone a while: `connect()` sleeps minutes between attempts
    and does not look at close() until the sleep ends."""

    def __init__(self, outcome: BaseException | None = None, lasts: float = 600.0) -> None:
        self.outcome, self.lasts, self.cancelled = outcome, lasts, False

    async def connect(self) -> None:
        try:
            await asyncio.sleep(self.lasts)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.outcome is not None:
            raise self.outcome


async def test_a_stop_ends_the_wait_for_a_reconnect():
    from cogs.ui.startup import connect

    bot, stopped = _Reconnecting(), asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stopped.set)
    await asyncio.wait_for(connect(bot, stopped, grace=0.05), 10)  # not the 600 s of the backoff
    assert bot.cancelled


async def test_connect_still_ends_and_fails_as_discord_py_does():
    from cogs.ui.startup import connect

    await connect(_Reconnecting(lasts=0), asyncio.Event())  # returns when connect() returns
    with pytest.raises(ConnectionRefusedError):
        await connect(_Reconnecting(ConnectionRefusedError(), lasts=0), asyncio.Event())
    stopped = asyncio.Event()
    stopped.set()  # stopping, and discord.py ends on its own within the grace: its own ending stands
    ending = _Reconnecting(lasts=0.01)
    await connect(ending, stopped, grace=5)
    assert not ending.cancelled
