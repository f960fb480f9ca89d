"""The presentation on cluster storage: `StorageResults` reads results, `publish_site` uploads a site to S3.

`StorageResults` is bench's `ResultStorage` (what the presentation reads) over a cluster `Storage`.

The presentation is pure Python and knows nothing of S3; this adapter lets `benchmark-present` read the
runs a sharded job wrote to `s3://bucket/prefix` (or a local folder) through the same `pyarrow.fs` code that
wrote them. It reads only: listing, file contents, and a file's size and modification time (the presentation
compares them with its manifest to read only the runs that changed).

Two differences from a local folder, both handled here:

- S3 has no folders, only key prefixes: a "folder" has no modification time of its own, so its time is the
  newest time of the files below it (the presentation uses it to tell a running run from a stalled one).
- A listing of a bucket that does not exist is empty rather than an error, so `check_readable` asks S3
  about the bucket first and names the problem (missing bucket, denied access, unreachable endpoint).

`publish_site` copies a site folder that `benchmark-present` wrote to `s3://bucket/prefix` (for an S3 static
website): only the files whose content differs (MD5 against the object's ETag), each with its content type,
and it deletes the objects under the prefix that the folder no longer has.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.fs as pafs

from bench import StorageError
from bench.presentation import FileInfo
from bench.runner import Storage

T = TypeVar("T")


class StorageResults:
    """A results root (`runs/<suite>/<run>/...` below it) read through a cluster `Storage`.

    Satisfies `bench.presentation.ResultStorage`. Paths are '/'-separated and relative to the root.
    Transient failures are retried as the Storage retries them; what is still failing afterwards is a
    `StorageError`, except a missing file, which is a `FileNotFoundError` as the protocol asks.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    def from_uri(cls, uri: str) -> StorageResults:
        """The results at a local folder or `s3://bucket/prefix`."""
        return cls(Storage(uri))

    def _full(self, path: str) -> str:
        return f"{self.storage.root}/{path.strip('/')}" if path.strip("/") else self.storage.root

    def _retry(self, operation: str, path: str, action: Callable[[], T]) -> T:
        return self.storage.retry(operation, path, action)

    # --- ResultStorage ---------------------------------------------------------------------------------------

    def list(self, path: str) -> list[str]:
        """Names of the files and folders directly inside `path`, sorted; [] when it is missing or a file."""

        def listing() -> list[str]:
            selector = pafs.FileSelector(self._full(path), allow_not_found=True, recursive=False)
            try:
                return sorted(i.base_name for i in self.storage.fs.get_file_info(selector))
            except NotADirectoryError:
                return []

        return self._retry("list", path, listing)

    def read_bytes(self, path: str) -> bytes:
        """The bytes of the file at `path`.

        Raises:
            FileNotFoundError: if there is no such file.
            StorageError: if it cannot be read (after retries).
        """

        def read() -> bytes | None:
            try:
                with self.storage.fs.open_input_stream(self._full(path)) as f:
                    return bytes(f.read())
            except FileNotFoundError:
                return None

        data = self._retry("read", path, read)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "no such file", self.storage.location(path))
        return data

    def read_text(self, path: str) -> str:
        """The text of the file at `path` (UTF-8); raises as `read_bytes`, or UnicodeDecodeError."""
        return self.read_bytes(path).decode("utf-8")

    def info(self, path: str) -> FileInfo | None:
        """Size and modification time of a file; for a folder, size 0 and the newest time below it."""

        def look_up() -> FileInfo | None:
            found = self.storage.fs.get_file_info(self._full(path))
            if found.type == pafs.FileType.NotFound:
                return None
            if found.type == pafs.FileType.Directory:
                return FileInfo(size=0, mtime=self._newest_below(path, found))
            return FileInfo(size=found.size or 0, mtime=_seconds(found))

        return self._retry("look up", path, look_up)

    def _newest_below(self, path: str, folder: pafs.FileInfo) -> float:
        if folder.mtime_ns is not None:  # a local folder has a time of its own
            return _seconds(folder)
        selector = pafs.FileSelector(self._full(path), allow_not_found=True, recursive=True)
        return max((_seconds(i) for i in self.storage.fs.get_file_info(selector)), default=0.0)

    def describe(self) -> str:
        """The root as the user named it: an absolute folder or `s3://bucket/prefix`."""
        return self.storage.uri

    # --- preflight -----------------------------------------------------------------------------------------

    def check_readable(self) -> None:
        """On S3, make sure the bucket exists and may be read (a listing alone would look empty).

        Raises:
            StorageError: naming the bucket and the problem (missing, access denied, endpoint unreachable).
        """
        if self.storage.is_s3:
            self.storage.check_bucket()


def _seconds(info: pafs.FileInfo) -> float:
    return info.mtime_ns / 1e9 if info.mtime_ns is not None else 0.0


@dataclass(frozen=True)
class PublishResult:
    """What `publish_site` did: files uploaded, files already there unchanged, objects deleted."""

    uploaded: int
    unchanged: int
    deleted: int


def publish_site(site_dir: Path, uri: str) -> PublishResult:
    """Make `s3://bucket/prefix` hold exactly the files of `site_dir` (uploading only what changed).

    Raises:
        StorageError: if `uri` is not on S3, the bucket is missing or unreadable, or a transfer fails (after
            retries).
    """
    storage = Storage(uri)
    if not storage.is_s3:
        raise StorageError("publish to", uri, "publishing needs an s3:// URI; a local --site-dir is written directly")
    storage.check_bucket()
    client = storage.s3_client()
    prefix = f"{storage.prefix}/" if storage.prefix else ""
    remote = storage.retry("list", "", lambda: _etags(client, storage.bucket, prefix))
    local = {p.relative_to(site_dir).as_posix(): p for p in sorted(site_dir.rglob("*")) if p.is_file()}
    uploaded = 0
    for name, path in local.items():
        data = path.read_bytes()
        if remote.get(prefix + name) != hashlib.md5(data, usedforsecurity=False).hexdigest():
            put = functools.partial(client.put_object, Bucket=storage.bucket, Key=prefix + name, Body=data)
            storage.retry("write", name, functools.partial(put, ContentType=_content_type(name)))
            uploaded += 1
    gone = sorted(set(remote) - {prefix + name for name in local})
    for start in range(0, len(gone), 1000):  # S3 deletes at most 1000 keys per call
        batch = {"Objects": [{"Key": key} for key in gone[start : start + 1000]], "Quiet": True}
        storage.retry("delete", "", functools.partial(client.delete_objects, Bucket=storage.bucket, Delete=batch))
    return PublishResult(uploaded=uploaded, unchanged=len(local) - uploaded, deleted=len(gone))


def _content_type(name: str) -> str:
    """What a browser needs to show the file (an S3 website sends the stored type)."""
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return kind


def _etags(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    """Key -> ETag without quotes (the MD5 of the content for objects uploaded in one part, as these are)."""
    etags = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            etags[item["Key"]] = str(item.get("ETag", "")).strip('"')
    return etags
