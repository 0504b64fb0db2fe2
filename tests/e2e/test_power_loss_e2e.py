"""Power loss, simulated honestly: the real bot runs under strace, and the trace is replayed keeping
only what had been fsynced.

A crash of the process (SIGKILL, the fault suite) keeps every write the kernel already has; a power
cut loses every write not yet fsynced. strace records, in order and across the bot's threads, each
write to the database, its WAL and the stored images, each fsync, each rename and each byte sent to
Segmind and to Discord. Replaying the trace, a write counts as on disk only once an fsync of its
file that began after the write finished has itself finished (a renamed file's name only once its
directory was fsynced after the rename). At the moment the bot starts sending a request that
costs money or shows a result, the files as they would be after a power cut at that instant are
written out and opened with SQLite (which recovers from the WAL as after a real cut), and:

- before each Segmind submit, the job it submits is on disk out of `queued`, its price reserved
  (so a restart does not submit it again as new, or lose the hold);
- before each result is posted to Discord, the job's capture is on disk and so is its image, by
  content and by name (a charge is never kept for an image whose name was lost, and a restart does
  not post it again as if never delivered).

The -shm file is not kept: SQLite rebuilds it from the WAL, as it must after a power cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import ALICE, GENERAL, GUILD, ROOT, BotProcess

pytestmark = pytest.mark.e2e

STRACE = shutil.which("strace")
SYSCALLS = "pwrite64,write,fsync,fdatasync,rename,renameat,renameat2,ftruncate,sendto"


def _strace_works() -> bool:
    if STRACE is None:
        return False
    probe = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=fsync", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


requires_strace = pytest.mark.skipif(not _strace_works(), reason="needs strace (and ptrace allowed)")

_HEX = re.compile(r"(?:\\x[0-9a-f]{2})+")
_LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$")


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text.replace("\\x", ""))


def _strings(args: str) -> list[bytes]:
    """The quoted (hex-escaped, -xx) strings among a syscall's arguments, in order."""
    return [_unhex(m.group(1)) for m in re.finditer(r'"((?:\\x[0-9a-f]{2})*)"', args)]


def _fd_target(args: str) -> str:
    """What strace -y names the first argument's descriptor: a path or a socket."""
    m = re.match(r"\d+<((?:TCP|UDP|UNIX)\S*?\[[^\]]*\]|[^>]*)>", args)
    return _HEX.sub(lambda h: _unhex(h.group()).decode(errors="replace"), m.group(1)) if m else ""


@dataclass
class _File:
    ops: list[tuple[str, int, bytes | int]] = field(default_factory=list)  # (kind, offset, data|size)
    durable: int = 0  # ops[:durable] survive a power cut
    position: int = 0  # for plain write()


@dataclass
class Request:
    remote_port: int
    first_bytes: bytes
    snapshot: Path | None  # the files as a power cut at the first byte sent would leave them
    names_durable: set[str]
    complete_names: set[str]


class Replay:
    """One pass over the trace; `snapshot()` materialises the power-cut state at the current point."""

    def __init__(self, db_path: Path, out: Path) -> None:
        self.db_path = db_path
        self.out = out
        self.files: dict[str, _File] = {}
        self.renamed_at: dict[str, int] = {}  # path -> event index of the rename that named it
        self.name_durable: set[str] = set()
        self.fsync_started: dict[str, tuple[int, int]] = {}  # pid -> (event index, ops covered)
        self.requests: list[Request] = []
        self.open_requests: dict[str, Request] = {}
        self.event = 0
        self.snapshots = 0

    def file(self, path: str) -> _File:
        return self.files.setdefault(path, _File())

    def content_durable(self, path: str) -> bool:
        f = self.files.get(path)
        return f is not None and f.durable == len(f.ops)

    def durable_bytes(self, path: str) -> bytes:
        data = bytearray()
        f = self.files.get(path)
        for kind, offset, payload in (f.ops[: f.durable] if f else []):
            if kind == "write":
                assert isinstance(payload, bytes)
                if len(data) < offset:
                    data.extend(b"\0" * (offset - len(data)))
                data[offset : offset + len(payload)] = payload
            else:
                del data[int(payload) :]
        return bytes(data)

    def snapshot(self) -> Path:
        self.snapshots += 1
        folder = self.out / f"cut-{self.snapshots}"
        folder.mkdir()
        for suffix in ("", "-wal"):
            (folder / f"{self.db_path.name}{suffix}").write_bytes(self.durable_bytes(f"{self.db_path}{suffix}"))
        return folder / self.db_path.name

    def completed(self, pid: str, name: str, args: str, result: str) -> None:
        """Apply a syscall at the moment it finished (`args` holds every argument)."""
        self.event += 1
        if not re.search(r"= \d+", result):
            return  # failed: changed nothing
        if name in ("pwrite64", "write"):
            target = _fd_target(args)
            if not target.startswith("/"):
                return
            (data,) = _strings(args)[:1] or [b""]
            size = int(re.search(r"= (\d+)", result).group(1))
            f = self.file(target)
            offset = int(args.rsplit(",", 1)[1]) if name == "pwrite64" else f.position
            # -s is larger than any database write; a longer blob chunk is only counted, not kept.
            payload = data[:size] if len(data) >= size else b"\0" * size
            f.ops.append(("write", offset, payload))
            if name == "write":
                f.position = offset + size
        elif name == "ftruncate":
            target = _fd_target(args)
            if target.startswith("/"):
                self.file(target).ops.append(("truncate", 0, int(args.rsplit(",", 1)[1])))
        elif name in ("fsync", "fdatasync"):
            target = _fd_target(args)
            started, covered = self.fsync_started.pop(pid, (self.event, len(self.file(target).ops)))
            f = self.file(target)
            f.durable = max(f.durable, covered)
            # A directory's fsync makes durable the names renamed into it before the fsync began.
            for path, at in self.renamed_at.items():
                if str(Path(path).parent) == target and at < started:
                    self.name_durable.add(path)
        elif name.startswith("rename"):
            old, new = (s.decode() for s in _strings(args)[:2])
            self.files[new] = self.files.pop(old, _File())
            self.renamed_at[new] = self.event
            self.name_durable.discard(new)

    def started(self, pid: str, name: str, args: str) -> None:
        """A syscall's entry (for fsync: what it covers; for sends: the moment bytes may leave)."""
        self.event += 1
        if name in ("fsync", "fdatasync"):
            self.fsync_started[pid] = (self.event, len(self.file(_fd_target(args)).ops))
        elif name == "sendto":
            self.sent(_fd_target(args), (_strings(args) or [b""])[0])

    def sent(self, socket: str, data: bytes) -> None:
        m = re.search(r"->127\.0\.0\.1:(\d+)\]", socket)
        if not m:
            return
        if re.match(rb"(GET|POST|PATCH|PUT|DELETE) ", data):
            interesting = data.startswith(b"POST ") or b"multipart/form-data" in data
            request = Request(
                remote_port=int(m.group(1)),
                first_bytes=b"",
                snapshot=self.snapshot() if interesting else None,
                names_durable=set(self.name_durable),
                complete_names={p for p in self.renamed_at if self.content_durable(p)},
            )
            self.requests.append(request)
            self.open_requests[socket] = request
        if socket in self.open_requests:
            self.open_requests[socket].first_bytes += data

    def feed(self, trace: Path) -> None:
        pending: dict[str, tuple[str, str]] = {}
        for line in trace.read_text(errors="replace").splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            pid = m.group(1)
            if m.group(2):  # "<... name resumed>rest"
                name, head = pending.pop(pid, (m.group(2), ""))
                rest = m.group(3)
                self.completed(pid, name, head + rest.rsplit(")", 1)[0], rest.rsplit(")", 1)[-1])
                continue
            name, body = m.group(4), m.group(5)
            if body.endswith("<unfinished ...>"):
                head = body[: -len("<unfinished ...>")].rstrip()
                pending[pid] = (name, head)
                self.started(pid, name, head)
            else:
                args, _, result = body.rpartition(")")
                self.started(pid, name, args)
                self.completed(pid, name, args, result)


def _rows(db: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # not even the schema survived the cut
        raise
    finally:
        conn.close()


async def start_traced_bot(world, trace: Path) -> BotProcess:
    world.starts += 1
    log_path = world.tmp / f"bot-{world.starts}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child process
    proc = await asyncio.create_subprocess_exec(
        STRACE, "-f", "-qq", "-yy", "-xx", "-s", "70000", "-e", f"trace={SYSCALLS}", "-o", str(trace),
        sys.executable, str(ROOT / "bot.py"), cwd=ROOT, env=world.env, stdout=log, stderr=log,
        start_new_session=True,  # strace and the bot in one process group: see _stop_traced_bot
    )
    log.close()
    world.bot = BotProcess(proc, log_path)
    await world.discord.wait_ready(timeout=60, count=world.starts)
    await world.discord.wait_for(lambda: world.discord.commands, timeout=20)
    return world.bot


async def _stop_traced_bot(world) -> None:
    """SIGTERM to the bot itself, not only to strace: strace detaches and exits on it, and the bot
    lived on without its fakes."""
    proc = world.bot.proc
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 15)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


@requires_strace
@pytest.mark.backend_only("sqlite", reason="replays strace's record of the SQLite file's writes and fsyncs")
async def test_a_power_cut_before_any_outside_effect_keeps_the_invariants(world, tmp_path):
    trace = tmp_path / "trace.txt"
    await start_traced_bot(world, trace)
    await world.grant(40)
    prompts = [f"power cut {n}" for n in range(3)]
    asked = [
        await world.discord.slash(GUILD, GENERAL, ALICE, "imagine", {"prompt": prompt}) for prompt in prompts
    ]
    for interaction in asked:
        await world.result(interaction, timeout=60)
    await _stop_traced_bot(world)

    cuts = tmp_path / "cuts"
    cuts.mkdir()
    replay = Replay(world.db_path, cuts)
    replay.feed(trace)
    segmind_port = int(world.segmind.base_url.rsplit(":", 1)[1].split("/")[0])
    discord_port = int(world.discord.api_base.split("://", 1)[1].split("/")[0].rsplit(":", 1)[1])

    submits = posts = 0
    for request in replay.requests:
        if request.snapshot is None:
            continue
        head, _, body = request.first_bytes.partition(b"\r\n\r\n")
        if request.remote_port == segmind_port and re.match(rb"POST /v[12]/", head):
            prompt = json.loads(body)["prompt"]
            rows = _rows(
                request.snapshot,
                "SELECT j.state, r.state AS hold FROM jobs j LEFT JOIN reservations r ON r.job_id = j.id"
                " WHERE json_extract(j.spec, '$.prompt') = ?",
                (prompt,),
            )
            assert len(rows) == 1, f"job for {prompt!r} not on disk before its submit"
            assert rows[0]["state"] != "queued" and rows[0]["hold"] == "held", dict(rows[0])
            submits += 1
        elif request.remote_port == discord_port and b"multipart/form-data" in head:
            m = re.search(rb"/webhooks/\d+/([^/]+)/", head)
            if m is None:
                continue
            rows = _rows(
                request.snapshot,
                "SELECT j.state, j.result_blob, r.state AS hold FROM jobs j JOIN reservations r ON r.job_id = j.id"
                " WHERE j.interaction_token = ?",
                (m.group(1).decode(),),
            )
            if not rows or rows[0]["result_blob"] is None:
                continue  # an answer that is not a result (no job behind it)
            row = rows[0]
            assert row["hold"] == "captured", dict(row)
            blob = str(world.tmp / "blobs" / row["result_blob"][:2] / row["result_blob"])
            assert blob in request.names_durable, "the image's name was not on disk before it was posted"
            assert blob in request.complete_names, "the image's bytes were not on disk before it was posted"
            posts += 1
    assert submits == len(prompts) and posts == len(prompts), (submits, posts)
