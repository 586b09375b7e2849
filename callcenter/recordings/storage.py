"""Where stored recordings live: a `Store` interface and its directory backend.

The interface is the one an S3-compatible store also fits (put an object from a local file,
fetch it, delete it, its size), plus `path`, which a directory store answers with the file and
an object store with None (the HTTP layer then streams `open_range` instead: not written yet).
`CALLCENTER_RECORDINGS_DIR` is the directory; keys are relative paths (`2026/12/07/<call>-1.ogg`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import Protocol


class StoreError(Exception):
    """The store refused (disk full, permissions, a key that is not ours)."""


class Store(Protocol):
    kind: str  # the `storage` column: "dir", later "s3"

    async def put(self, key: str, source: Path) -> int: ...  # bytes stored

    async def delete(self, key: str) -> bool: ...  # False: it was not there

    async def size(self, key: str) -> int | None: ...

    def path(self, key: str) -> Path | None: ...  # a local file to serve (ranges), or None


class DirectoryStore:
    kind = "dir"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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

    def path(self, key: str) -> Path | None:
        target = self._file(key)
        return target if target.is_file() else None
