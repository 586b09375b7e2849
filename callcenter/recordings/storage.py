"""Where stored recordings live: a `Store` interface and its directory backend.

The interface is what an S3-compatible object store offers, so one can be added without touching
the recorder, the retention sweeper or playback (no S3 code here):

- `put(key, file)`  PutObject from the local stereo file (the whole object at once, never a half
  one under the key), returns the bytes stored;
- `read(key, start, end)`  GetObject with `Range: bytes=start-end`: chunks of the object, which
  playback streams for the browser's range requests (seeking);
- `size(key)`  HeadObject (None: not there); `delete(key)`  DeleteObject (retention);
- `path(key)`  a local file when the store has one (the directory store: playback lets aiohttp
  serve it, ranges and all), None for an object store (playback then streams `read`);
- `kind` (the rows' `storage` column: "dir", later "s3") and `where` (said on the board).

`CALLCENTER_RECORDINGS_DIR` is the directory; keys are relative paths (`2026/12/07/<call>-1.ogg`),
valid S3 object keys as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

CHUNK = 64 * 1024


class StoreError(Exception):
    """The store refused (disk full, permissions, a key that is not ours)."""


class Store(Protocol):
    kind: str  # the `storage` column: "dir", later "s3"

    @property
    def where(self) -> str: ...  # for people: the directory, or the bucket and prefix

    async def put(self, key: str, source: Path) -> int: ...  # bytes stored

    async def delete(self, key: str) -> bool: ...  # False: it was not there

    async def size(self, key: str) -> int | None: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]: ...  # end inclusive

    def path(self, key: str) -> Path | None: ...  # a local file to serve (ranges), or None


class DirectoryStore:
    kind = "dir"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def where(self) -> str:
        return str(self.root)

    def _file(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in Path(key).parts:
            raise StoreError(f"not a recording key: {key!r}")
        return self.root / key

    async def put(self, key: str, source: Path) -> int:
        target = self._file(key)

        def copy() -> int:
            partial = target.with_name(target.name + ".part")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, partial)
                with open(partial, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(partial, target)  # never a half file under the key
            except OSError as exc:
                with contextlib.suppress(OSError):
                    partial.unlink(missing_ok=True)
                raise StoreError(f"cannot store {key}: {exc.strerror or exc}") from exc
            return target.stat().st_size

        return await asyncio.to_thread(copy)

    async def delete(self, key: str) -> bool:
        target = self._file(key)
        try:
            await asyncio.to_thread(target.unlink)
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot delete {key}: {exc.strerror or exc}") from exc

    async def size(self, key: str) -> int | None:
        try:
            return self._file(key).stat().st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive; None: to the end) of the stored file, in chunks."""
        target = self._file(key)
        try:
            f = await asyncio.to_thread(open, target, "rb")
        except FileNotFoundError:
            raise StoreError(f"no recording under {key}") from None
        try:
            await asyncio.to_thread(f.seek, start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                chunk = await asyncio.to_thread(f.read, CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            f.close()

    def path(self, key: str) -> Path | None:
        target = self._file(key)
        return target if target.is_file() else None
