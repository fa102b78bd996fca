"""Where uploaded files live: one interface, a folder under instance/ by default.

Files are stored by content (SHA-256), per tenant, so the same bytes are kept once and a
stored file never changes. ``GOVQMS_STORAGE_DIR`` moves the folder (e.g. to a shared volume).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

#: The platform's own folder in the file storage (files of no single agency, such as data call templates).
PLATFORM_FILES = 0


def storage_key(folder: int, digest: str) -> str:
    """The key of a file: its folder (an agency's id, or PLATFORM_FILES) and its SHA-256. The one
    place the format is written."""
    return f"{int(folder)}/{digest[:2]}/{digest}"


class Storage(Protocol):
    def put(self, tenant_id: int, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key outside the storage folder: {key!r}")
        return path

    def put(self, tenant_id: int, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = storage_key(tenant_id, digest)
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a reader never sees half a file
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def get_storage() -> Storage:
    storage = current_app.extensions.get("govqms_storage")
    if storage is None:
        root = current_app.config.get("STORAGE_DIR") or os.path.join(current_app.instance_path, "files")
        storage = current_app.extensions["govqms_storage"] = LocalStorage(Path(root))
    return storage
