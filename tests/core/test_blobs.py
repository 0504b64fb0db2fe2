"""The blob store: streamed writes become content-addressed files, and nothing partial survives."""

from __future__ import annotations

import hashlib

import pytest

from core.blobs import PARTIAL_DIR, BlobRejected, BlobStore


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def partial_files(store: BlobStore) -> list[str]:
    folder = store.root / PARTIAL_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_streamed_chunks_become_a_blob_named_by_their_digest(store):
    chunks = [b"\x89PNG\r\n\x1a\n", b"a" * 70_000, b"b" * 5]
    with store.writer() as writer:
        for chunk in chunks:
            writer.write(chunk)
        blob = await writer.commit()
    whole = b"".join(chunks)
    assert blob == hashlib.sha256(whole).hexdigest()
    assert store.path(blob).read_bytes() == whole
    assert writer.size == len(whole)
    assert writer.head == whole[:32]
    assert partial_files(store) == []
    assert await store.get(blob) == whole


async def test_a_refused_check_leaves_no_file_and_says_why(store):
    def check(path):
        assert path.read_bytes() == b"not an image"
        raise ValueError("broken")

    with store.writer() as writer:
        writer.write(b"not an image")
        with pytest.raises(BlobRejected) as caught:
            await writer.commit(check=check)
    assert isinstance(caught.value.__cause__, ValueError)
    assert partial_files(store) == []
    assert not any(p.is_file() for p in store.root.rglob("*"))


async def test_leaving_the_block_without_commit_discards_the_partial_file(store):
    with pytest.raises(RuntimeError):
        with store.writer() as writer:
            writer.write(b"half a download")
            assert len(partial_files(store)) == 1
            raise RuntimeError("connection dropped")
    assert partial_files(store) == []


async def test_the_same_bytes_twice_are_one_blob(store):
    blobs = []
    for _ in range(2):
        with store.writer() as writer:
            writer.write(b"same bytes")
            blobs.append(await writer.commit())
    assert blobs[0] == blobs[1] == await store.put(b"same bytes")
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == [blobs[0]]


def test_partial_files_from_a_crash_are_cleared_at_start(store):
    first = store.writer()
    first.write(b"written when the process was killed")
    first._file.close()  # the process died: nobody discards it
    second = store.writer()
    second._file.close()
    assert len(partial_files(store)) == 2
    assert BlobStore(store.root).clear_partial() == 2
    assert partial_files(store) == []


def test_blob_ids_are_checked(store):
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
    with pytest.raises(ValueError):
        store.path("A" * 64)


def test_processes_sharing_the_folder_keep_their_partial_files_apart(tmp_path):
    import os
    import time

    first, second = BlobStore(tmp_path, "bot-a"), BlobStore(tmp_path, "bot:b/1")
    downloading = first.writer()
    downloading.write(b"half an image")
    left = second.writer()
    left.write(b"left by a crash")
    assert second.clear_partial() == 1, "a process clears its own area only"
    assert downloading._partial.exists(), "another process's download in progress is left alone"
    old = time.time() - 7200
    os.utime(downloading._partial, (old, old))
    assert BlobStore(tmp_path, "bot-c").clear_partial() == 1, "a dead process's stale files go"
    assert BlobStore(tmp_path).clear_partial() == 0, "one process alone: only partial/ itself"
    downloading.discard()
    left.discard()
