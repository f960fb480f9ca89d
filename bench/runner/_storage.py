"""`Storage`: where results go, a local folder or `s3://bucket/prefix`, through `pyarrow.fs`.

Paths given to a Storage are relative to its root and use '/'. Writes are atomic where the filesystem
allows: locally a file is written under a temporary name and renamed into place; on S3 an object appears
whole when its upload completes. Transient failures (network, throttling, server errors) are retried with
exponential backoff for up to a minute (`RetryPolicy`), so an S3 server that is away for half a minute
costs a pause, not the run; permanent ones (missing bucket, denied access, a path that is a file) fail at
once. Either way a failure ends as a `StorageError` naming the operation, the location and the cause (a
`MissingFileError` when the file is not there).

Runs are written and read back (resuming, the presentation: `benchmark-present`) through the same Storage. The
reader's part is a folder's entries, a file's text and its size and modification time (`FileInfo`), by which a
reader notices what changed without reading it. S3 has no folders, only key prefixes: a folder there has no time
of its own, so its time is the newest time of the files below it.

S3 settings come from the standard AWS sources, resolved by boto3 (environment variables, shared
credentials and config files, profiles): credentials, region, and the endpoint of an S3-compatible server
(`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`). They are resolved once, where the Storage is made (the
driver), and travel with it when it is pickled into a Ray task (`S3Settings`; the secret never appears in a
repr or a message): every node writes to the same endpoint with the same credentials, and a node without
AWS variables cannot write to AWS by mistake. The filesystem and client are rebuilt in each process.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from bench import settings
from bench._errors import ConfigError, MissingFileError, StorageError

logger = logging.getLogger(__name__)

T = TypeVar("T")

S3_SCHEME = "s3://"
WRITE_CHECK_FILE = ".mercury-write-check"
_PERMANENT_MARKERS = (
    "ACCESS_DENIED",
    "AccessDenied",
    "NO_SUCH_BUCKET",
    "NoSuchBucket",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
)
"""Substrings of pyarrow's S3 error messages that no retry can fix."""


def storage_path(*parts: str) -> str:
    """A path below a Storage's root from parts ('/'-separated, empty parts dropped)."""
    return "/".join(p.strip("/") for p in parts if p)


@dataclass(frozen=True)
class FileInfo:
    """What a reader needs to know about a stored file or folder without reading it (did it change?)."""

    size: int
    """Bytes; 0 for a folder on S3."""
    mtime: float
    """Modification time in seconds since the epoch; on S3 a folder's is the newest time below it."""


def is_transient(error: BaseException) -> bool:
    """Whether retrying might help: OS-level errors except missing files, permissions and S3 auth/bucket errors."""
    if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return False
    if isinstance(error, FileExistsError):
        return False
    if not isinstance(error, OSError):
        return False
    return not any(marker in str(error) for marker in _PERMANENT_MARKERS)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a storage operation rides out transient failures: backoff doubling up to a cap, within a budget.

    The defaults outlast an S3 server that is away for 30 s (retries at 0.5, 1, 2, 4, 5, 5, ... s until 60 s
    have passed), and then give up, so a storage that is gone for good ends the run instead of hanging it.
    """

    max_seconds: float = 60.0
    """Give up once the next retry would start later than this many seconds after the first attempt."""
    initial_backoff: float = 0.5
    """Seconds before the first retry; doubles after each one."""
    max_backoff: float = 5.0
    """The longest wait between two attempts."""

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry number `retry_number` (1-based)."""
        return min(self.max_backoff, self.initial_backoff * 2 ** (retry_number - 1))


def retry(
    operation: str,
    location: str,
    action: Callable[[], T],
    *,
    policy: RetryPolicy = RetryPolicy(),  # frozen: one instance is shared safely
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `action`, retrying transient failures with backoff until the policy's time budget is spent.

    Raises:
        StorageError: once the budget is spent, or at once for a permanent failure; the cause is chained.
            MissingFileError (a StorageError) when the cause is a missing file.
    """
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except StorageError:
            raise
        except Exception as e:
            delay = policy.delay(attempt)
            elapsed = clock() - started
            if not is_transient(e) or elapsed + delay > policy.max_seconds:
                tried = f" (tried {attempt} times over {elapsed:.0f} s)" if attempt > 1 else ""
                error = MissingFileError if isinstance(e, FileNotFoundError) else StorageError
                raise error(operation, location, f"{type(e).__name__}: {e}{tried}") from e
            logger.warning("storage: %s %s failed (%s), retrying in %.1fs", operation, location, e, delay)
            sleep(delay)


class Storage:
    """A root folder, local or on S3, that results are read from and written to.

    Args:
        uri: a local folder (created when needed; a str or a Path) or `s3://bucket/prefix`.
        retry_policy: how long operations ride out transient failures.
        s3_settings: endpoint, region and credentials for an S3 URI; resolved from this process's environment
            when not given (the driver's, which then travel with the Storage to every task).
    """

    def __init__(
        self,
        uri: str | os.PathLike[str],
        *,
        retry_policy: RetryPolicy | None = None,
        s3_settings: S3Settings | None = None,
    ) -> None:
        uri = os.fspath(uri)
        s3 = uri.startswith(S3_SCHEME)
        self._named = uri
        self.uri = S3_SCHEME + uri[len(S3_SCHEME) :].strip("/") if s3 else os.path.abspath(uri)
        self.retry_policy = retry_policy or RetryPolicy()
        self._fs: pafs.FileSystem | None = None
        self._client: Any = None
        self.s3_settings: S3Settings | None = None
        if self.is_s3:
            self.bucket, _, self.prefix = self.uri[len(S3_SCHEME) :].partition("/")
            if not self.bucket:
                raise StorageError("use", uri, "an S3 URI needs a bucket: s3://bucket/prefix")
            self.root = f"{self.bucket}/{self.prefix}".rstrip("/")
            self.s3_settings = s3_settings or S3Settings.from_environment()
        else:
            self.bucket, self.prefix, self.root = "", "", self.uri

    @property
    def is_s3(self) -> bool:
        """Whether the root is on S3 (else a local folder)."""
        return self.uri.startswith(S3_SCHEME)

    def __repr__(self) -> str:
        return f"Storage({self.uri!r})"

    def __getstate__(self) -> dict[str, Any]:
        # the filesystem and client are rebuilt where the Storage is unpickled, from the driver's s3_settings
        return {**self.__dict__, "_fs": None, "_client": None}

    def location(self, path: str = "") -> str:
        """The full URI of `path`, for messages."""
        return f"{self.uri}/{path}" if path else self.uri

    def describe(self) -> str:
        """The root as the user named it (a site shows it as its source): the folder as given, relative
        or not, or `s3://bucket/prefix`."""
        return self.uri if self.is_s3 else str(Path(self._named))

    @property
    def fs(self) -> pafs.FileSystem:
        """The pyarrow filesystem, built on first use from this process's environment."""
        if self._fs is None:
            self._fs = self._settings().filesystem() if self.is_s3 else pafs.LocalFileSystem()
        return self._fs

    def _settings(self) -> S3Settings:
        if self.s3_settings is None:  # pragma: no cover - set for every S3 URI in __init__
            raise StorageError("use", self.uri, "not an S3 URI")
        return self.s3_settings

    def _full(self, path: str) -> str:
        return f"{self.root}/{path}" if path else self.root

    def retry(self, operation: str, path: str, action: Callable[[], T]) -> T:
        """`action()`, with transient failures retried by this storage's policy (see `retry`)."""
        return retry(operation, self.location(path), action, policy=self.retry_policy)

    # --- reading and writing -------------------------------------------------------------------------------

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write `data` to `path` atomically (replacing it), retrying transient failures."""
        self.retry("write", path, lambda: self._write_once(path, data))

    def _write_once(self, path: str, data: bytes) -> None:
        full = self._full(path)
        if self.is_s3:
            with self.fs.open_output_stream(full) as f:
                f.write(data)
            return
        parent = os.path.dirname(full)
        self.fs.create_dir(parent, recursive=True)
        tmp = f"{parent}/.{os.path.basename(full)}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open_output_stream(tmp) as f:
                f.write(data)
            self.fs.move(tmp, full)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def read_bytes(self, path: str) -> bytes:
        """The content of `path`.

        Raises:
            MissingFileError: if there is no such file. StorageError: if it cannot be read (after retries).
        """

        def read() -> bytes:
            with self.fs.open_input_stream(self._full(path)) as f:
                return bytes(f.read())

        return self.retry("read", path, read)

    def read_text(self, path: str) -> str:
        """The text of the UTF-8 file at `path`; raises as `read_bytes`, or UnicodeDecodeError."""
        return self.read_bytes(path).decode("utf-8")

    def write_json(self, path: str, data: Any) -> None:
        """Write JSON data (already plain: dicts, lists, numbers, strings) indented, atomically."""
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        self.write_bytes(path, text.encode("utf-8"))

    def read_json(self, path: str) -> Any:
        """The JSON data in `path`.

        Raises:
            StorageError: if the file cannot be read or is not JSON.
        """
        raw = self.read_bytes(path)
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StorageError("read JSON from", self.location(path), f"not valid JSON ({e})") from e

    def write_table(self, path: str, table: pa.Table) -> None:
        """Write a parquet file built in memory (so a retry resends it whole)."""
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        self.write_bytes(path, sink.getvalue())

    def read_table(self, path: str) -> pa.Table:
        """A parquet file as a table (read as one file: `pq.read_table` would import pyarrow's dataset and
        compute modules, ~0.1-0.3 s of every command, for the same table)."""
        return pq.ParquetFile(pa.BufferReader(self.read_bytes(path))).read()

    def concat_tables(
        self,
        path: str,
        parts: list[str],
        schema: pa.Schema,
        visitor: Callable[[], Callable[[pa.Table], None]] | None = None,
    ) -> int:
        """Write the parquet files `parts`, in order, into one parquet file at `path`; returns its rows.

        Streams: one part is in memory at a time. The whole copy is retried on a transient failure, and
        locally it goes to a temporary file renamed into place. `visitor`, if given, is called at the start
        of each attempt and returns a function that sees every part's table in order (so a retry starts over).
        """
        return self.retry("write", path, lambda: self._concat_once(path, parts, schema, visitor))

    def _concat_once(
        self,
        path: str,
        parts: list[str],
        schema: pa.Schema,
        visitor: Callable[[], Callable[[pa.Table], None]] | None,
    ) -> int:
        full = self._full(path)
        target = full
        if not self.is_s3:
            self.fs.create_dir(os.path.dirname(full), recursive=True)
            target = f"{os.path.dirname(full)}/.{os.path.basename(full)}.{uuid.uuid4().hex}.tmp"
        rows = 0
        visit = visitor() if visitor is not None else None
        try:
            with self.fs.open_output_stream(target) as sink, pq.ParquetWriter(sink, schema, compression="zstd") as w:
                for part in parts:
                    table = self.read_table(part)
                    w.write_table(table.cast(schema))
                    if visit is not None:
                        visit(table)
                    rows += table.num_rows
            if target != full:
                self.fs.move(target, full)
        except BaseException:
            if target != full and os.path.exists(target):
                os.unlink(target)
            raise
        return rows

    # --- looking around ------------------------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        """Whether a file exists at `path`."""
        info = self.retry("look up", path, lambda: self.fs.get_file_info(self._full(path)))
        return bool(info.type == pafs.FileType.File)

    def list(self, folder: str) -> list[str]:
        """Names of the files directly in `folder` (empty if it does not exist or is a file), sorted."""
        return self._listing(folder, files_only=True)

    def entries(self, folder: str) -> builtins.list[str]:  # builtins: `list` here is the method above
        """Names of the files and folders directly in `folder` (empty if it does not exist or is a file), sorted."""
        return self._listing(folder, files_only=False)

    def _listing(self, folder: str, *, files_only: bool) -> builtins.list[str]:
        def listing() -> builtins.list[str]:
            selector = pafs.FileSelector(self._full(folder), allow_not_found=True, recursive=False)
            try:
                found = self.fs.get_file_info(selector)
            except NotADirectoryError:
                return []
            return sorted(i.base_name for i in found if not files_only or i.type == pafs.FileType.File)

        return self.retry("list", folder, listing)

    def info(self, path: str) -> FileInfo | None:
        """Size and modification time of the file or folder at `path`, None when there is none.

        A folder on S3 gets size 0 and the newest time of the files below it (the presentation tells a run
        that is writing its shards from a stalled one by it).
        """

        def look_up() -> FileInfo | None:
            found = self.fs.get_file_info(self._full(path))
            if found.type == pafs.FileType.NotFound:
                return None
            if found.type == pafs.FileType.Directory and found.mtime_ns is None:
                selector = pafs.FileSelector(self._full(path), allow_not_found=True, recursive=True)
                return FileInfo(size=0, mtime=max((_seconds(i) for i in self.fs.get_file_info(selector)), default=0.0))
            return FileInfo(size=found.size or 0, mtime=_seconds(found))

        return self.retry("look up", path, look_up)

    def delete(self, path: str) -> None:
        """Delete the file at `path` if it exists."""

        def delete() -> None:
            if self.is_s3:
                # boto3, not pyarrow: pyarrow then writes a 'folder/' marker object, which servers that map
                # keys to files (rclone) store as a file named like the folder, breaking later writes under it
                self.s3_client().delete_object(Bucket=self.bucket, Key=self._full(path).split("/", 1)[1])
                return
            with contextlib.suppress(FileNotFoundError):
                self.fs.delete_file(self._full(path))

        self.retry("delete", path, delete)

    def delete_dir(self, folder: str) -> None:
        """Delete `folder` and everything under it, if it exists."""

        def delete() -> None:
            if self.is_s3:
                self._delete_s3_prefix(self._full(folder).split("/", 1)[1] + "/")
                return
            info = self.fs.get_file_info(self._full(folder))
            if info.type == pafs.FileType.Directory:
                self.fs.delete_dir(self._full(folder))

        self.retry("delete", folder, delete)

    def _delete_s3_prefix(self, prefix: str) -> None:
        client = self.s3_client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def s3_client(self) -> Any:
        """A boto3 client for this storage's endpoint, region and credentials (built once per process)."""
        if self._client is None:
            self._client = self._settings().client()
        return self._client

    def check_bucket(self) -> None:
        """head_bucket with a message for each usual mistake (no secret is ever part of them).

        Raises:
            StorageError: a missing bucket, no or wrong credentials, an unreachable endpoint.
        """
        _check_bucket(self.s3_client(), self.bucket, self.uri, self._settings().endpoint)

    def check_readable(self) -> None:
        """Make sure results can be read from here, before reading any.

        On S3 the bucket is checked (a listing of a missing bucket would look empty rather than fail); a local
        root must be a folder or not exist yet (it then holds no runs).

        Raises:
            StorageError: a missing bucket, no or wrong credentials, an unreachable endpoint.
            ConfigError: a local root that is a file.
        """
        if self.is_s3:
            self.check_bucket()
            return
        found = self.retry("look up", "", lambda: self.fs.get_file_info(self.root))
        if found.type not in (pafs.FileType.Directory, pafs.FileType.NotFound):
            raise ConfigError(self.describe(), "results path is a file, expected a folder")

    def local_path(self) -> str | None:
        """The root as a local folder, or None on S3."""
        return None if self.is_s3 else self.root

    # --- preflight -----------------------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Make sure results can be written here, before any request is sent.

        On S3 the bucket is checked first with boto3 (missing bucket, bad credentials, unreachable endpoint
        each get their own message); then, anywhere, a small file is written, read back and deleted.

        Raises:
            StorageError: saying what is wrong.
        """
        if self.is_s3:
            self.check_bucket()
        probe = WRITE_CHECK_FILE
        self.write_bytes(probe, b"ok\n")
        if self.read_bytes(probe) != b"ok\n":
            raise StorageError("write to", self.location(probe), "the file read back differs from the file written")
        self.delete(probe)


def _seconds(info: pafs.FileInfo) -> float:
    """The modification time in seconds computed as `os.stat`'s st_mtime is (whole seconds + nanoseconds * 1e-9,
    which differs from nanoseconds / 1e9 in the last bit): a site's manifest compares times exactly."""
    if info.mtime_ns is None:
        return 0.0
    whole, nanoseconds = divmod(info.mtime_ns, 1_000_000_000)
    return whole + nanoseconds * 1e-9


# --- S3 ---------------------------------------------------------------------------------------------------


def s3_endpoint() -> str | None:
    """The endpoint of an S3-compatible server from the standard variables, or None for AWS itself."""
    return settings().s3_endpoint_url


@dataclass(frozen=True)
class S3Settings:
    """Where and as whom S3 is reached: resolved once (on the driver) and carried to every task with the Storage."""

    endpoint: str | None
    """An S3-compatible server's URL, or None for AWS itself."""
    region: str
    """The region requests are signed for."""
    access_key: str | None = field(default=None, repr=False)
    """None: no credentials were found (anonymous; the bucket check says so)."""
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls) -> S3Settings:
        """The settings boto3 resolves here: environment variables, shared files, profiles."""
        session = _boto_session()
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        return cls(
            endpoint=s3_endpoint(),
            region=session.region_name or "us-east-1",
            access_key=frozen.access_key if frozen else None,
            secret_key=frozen.secret_key if frozen else None,
            session_token=(frozen.token or None) if frozen else None,
        )

    def filesystem(self) -> pafs.S3FileSystem:
        """A pyarrow S3 filesystem with these settings."""
        if self.endpoint:
            # S3-compatible servers (rclone, MinIO, ...) may reject the checksum trailers newer SDKs send on
            # multipart uploads (HTTP 411); checksums only when required keeps every server working.
            os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
        kwargs: dict[str, Any] = {"region": self.region}
        if self.endpoint:
            kwargs["endpoint_override"] = self.endpoint
        if self.access_key is not None:
            kwargs.update(access_key=self.access_key, secret_key=self.secret_key)
            if self.session_token:
                kwargs["session_token"] = self.session_token
        return pafs.S3FileSystem(**kwargs)

    def client(self) -> Any:
        """A boto3 S3 client with these settings."""
        session = _boto_session()
        return session.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.session_token,
        )


def _boto_session() -> Any:
    try:
        import boto3
    except ImportError as e:  # pragma: no cover - boto3 is a dependency of the cluster layer
        raise StorageError("use", "s3://", "S3 output needs boto3: pip install boto3") from e
    return boto3.session.Session()


def _check_bucket(client: Any, bucket: str, uri: str, endpoint: str | None) -> None:
    """head_bucket with messages for the usual mistakes (no secret is ever part of them)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = f" at {endpoint}" if endpoint else ""
    try:
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError as e:
        raise StorageError(
            "use",
            uri,
            "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "or ~/.aws/credentials)",
        ) from e
    except ClientError as e:
        code = str(e.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise StorageError("use", uri, f"bucket {bucket!r} does not exist{where}") from e
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"):
            raise StorageError(
                "use",
                uri,
                f"access to bucket {bucket!r}{where} was denied ({code}): check the AWS credentials "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials)",
            ) from e
        raise StorageError("use", uri, f"checking bucket {bucket!r}{where} failed: {code or e}") from e
    except BotoCoreError as e:
        raise StorageError("use", uri, f"cannot reach S3{where}: {e}") from e
