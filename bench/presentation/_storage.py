"""Where the presentation reads results from: a small interface with a local-folder implementation.

The reader needs four things of storage: list a folder, read a text file, tell a file's size and modification
time (to notice what changed since the last presentation), and tell whether a path exists. A local folder
implements them here; `cluster.StorageResults` implements the same `ResultStorage` protocol over `pyarrow.fs`
(a local folder or S3), which is how benchmark-present reads `s3://` results.
Paths are '/'-separated and relative to the storage's root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench._errors import ConfigError


@dataclass(frozen=True)
class FileInfo:
    """What the presentation needs to know about a stored file without reading it."""

    size: int
    mtime: float


class ResultStorage(Protocol):
    """Read-only access to a results root (`runs/<suite>/<run>/...` below it)."""

    def list(self, path: str) -> list[str]:
        """Names of the entries directly inside folder `path`, sorted; [] when it does not exist."""
        ...

    def read_text(self, path: str) -> str:
        """The text of file `path` (UTF-8)."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """The bytes of the file at `path` (parquet tables).

        Raises:
            FileNotFoundError: if there is no such file.
        """
        ...

    def info(self, path: str) -> FileInfo | None:
        """Size and modification time of `path`, or None when it does not exist."""
        ...

    def describe(self) -> str:
        """The root as a user would name it (a folder or a URI), for messages."""
        ...


class LocalStorage:
    """A results root on the local file system.

    Raises:
        ConfigError: if `root` exists and is not a folder.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(str(self.root), "results path is a file, expected a folder")

    def _path(self, path: str) -> Path:
        return self.root / path if path else self.root

    def list(self, path: str) -> list[str]:
        folder = self._path(path)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def read_text(self, path: str) -> str:
        return self._path(path).read_text(encoding="utf-8")

    def read_bytes(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def info(self, path: str) -> FileInfo | None:
        try:
            stat = self._path(path).stat()
        except FileNotFoundError:
            return None
        return FileInfo(size=stat.st_size, mtime=stat.st_mtime)

    def describe(self) -> str:
        return str(self.root)


def join(*parts: str) -> str:
    """A storage path from parts ('/'-separated, empty parts dropped)."""
    return "/".join(p.strip("/") for p in parts if p)
