"""`publish_site`: a site folder that `benchmark-present` wrote, uploaded to `s3://bucket/prefix` (an S3 website).

Only the files whose content differs are uploaded (MD5 against the object's ETag), each with its content type,
and the objects under the prefix that the folder no longer has are deleted. It goes through bench's `Storage`
(its bucket check, retries and boto3 client), so its failures are the same `StorageError`s.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import StorageError
from bench.runner import Storage


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
