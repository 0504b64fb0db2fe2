"""What one bot process holds on its data: the lock that keeps a second process off the database file,
and the consistent copy `python bot.py backup DIR` makes while the bot runs."""

from __future__ import annotations

import asyncio
import fcntl
from pathlib import Path
from typing import IO

from core.blobs import BlobStore
from core.config import Settings
from core.db import backup_file
from core.errors import ConfigError


class AlreadyRunning(Exception):
    pass


def hold_instance_lock(database_path: Path) -> IO[bytes] | None:
    """Lock `<database>.lock` for the life of the process (the kernel lets go when it exits, however
    it exits). Two bots on one database would both resume the same jobs and post results twice."""
    if str(database_path) == ":memory:":
        return None
    lock_path = Path(f"{database_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "ab")  # noqa: SIM115 - held open until the process ends
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(
            f"Another bot process is already using {database_path} (it holds {lock_path}); stop it first."
        ) from None
    return handle



async def backup(settings: Settings, target: Path) -> str:
    """The database through SQLite's online backup (one consistent snapshot, the running bot is not
    held up), then the stored images: every image the copied rows name was stored before the commit
    that named it, so it is there when the images are copied afterwards."""
    if settings.database_url is not None:
        raise ConfigError(["DATABASE_URL"], "a PostgreSQL database is backed up with pg_dump, not by the bot")
    if not settings.database_path.is_file():
        raise ConfigError(["DATABASE_PATH"], f"no database at {settings.database_path}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError([], f"backup target {target} exists and is not an empty directory")
    target.mkdir(parents=True, exist_ok=True)
    database_copy = target / settings.database_path.name
    await backup_file(settings.database_path, database_copy)
    images = await asyncio.to_thread(BlobStore(settings.blobs).copy_to, target / "blobs")
    return f"Backed up {settings.database_path} to {database_copy} and {images} stored image(s) to {target / 'blobs'}"
