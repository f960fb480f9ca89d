"""Fetching a scenario's raw data once, safely: download, verify, unpack, move into place.

`ensure_file_downloaded` is the only way scenarios reach the network. A finished target is reused; a download
goes to a temporary name and only a complete, verified file (or unpacked folder) is moved into place, so an
interrupted or corrupted download never counts as done. When the source cannot be reached (this machine has no
network), the error names the URL and the path where the file may be placed by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from bench._errors import ScenarioDataError

logger = logging.getLogger(__name__)

UnpackType = Literal["untar", "unzip", "unzstd", "ungzip"]

DOWNLOAD_TIMEOUT_SECONDS = 60.0
CHUNK_BYTES = 1 << 20


def ensure_file_downloaded(
    source_url: str,
    target_path: str | Path,
    *,
    unpack: bool = False,
    unpack_type: UnpackType | None = None,
    sha256: str | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_SECONDS,
) -> Path:
    """Make sure `target_path` holds the data of `source_url`; download it only if it is not there.

    Args:
        source_url: where the data is published.
        target_path: the file (or, with `unpack`, the folder) to create.
        unpack: unpack the downloaded archive into `target_path` (a folder). An archive holding one top-level
            folder is unpacked so that `target_path` is that folder.
        unpack_type: archive kind; guessed from the URL when None (.tar, .tar.gz, .tgz, .zip, .zst, .gz).
        sha256: expected digest of the downloaded bytes; a mismatch is an error and nothing is kept.
        timeout: seconds without progress before the download is abandoned.

    Returns:
        `target_path`, which now exists.

    Raises:
        ScenarioDataError: naming the URL, the target path and what went wrong.
    """
    target = Path(target_path)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as tmp:
        downloaded = Path(tmp) / "download"
        _download(source_url, downloaded, target, timeout)
        _verify(downloaded, sha256, source_url, target)
        if unpack:
            staged = _unpack(downloaded, unpack_type or _guess_unpack_type(source_url), Path(tmp) / "unpacked")
        else:
            staged = downloaded
        staged.rename(target)  # same filesystem: atomic, and only ever a complete file or folder
    logger.info("downloaded %s to %s", source_url, target)
    return target


IDENTITY = {"Accept-Encoding": "identity"}
"""httpx asks for gzip/deflate/br by default; a published file is wanted as it is, byte for byte."""


def downloaded_files(base_url: str, files: Iterable[str], folder: str | Path) -> Iterator[Path]:
    """The path of each of `files` published under `base_url` (`<base_url>/<file>`), kept as `<folder>/<file>`;
    each file is downloaded (once) just before its path is yielded, so a reader handles one while the next waits.

    Raises:
        ScenarioDataError: as `ensure_file_downloaded`, for the first file that cannot be had.
    """
    for file in files:
        yield ensure_file_downloaded(f"{base_url}/{file}", Path(folder) / file)


def _download(url: str, path: Path, target: Path, timeout: float) -> None:
    """Stream `url` into `path`, as the file itself: never in a transfer encoding.

    The request asks for the identity encoding; a server that compresses anyway (Content-Encoding: gzip, ...)
    is decoded, so `path` holds the published bytes either way (a `.gz` file served as a file stays
    compressed: only a Content-Encoding is undone). A short body (fewer bytes on the wire than Content-Length,
    which counts encoded bytes) is an error, and so is an encoded body that does not decode.
    """
    import httpx  # here, not at the top: only a download needs it (importing it costs 0.1-0.2 s)

    logger.info("downloading %s", url)
    encoding = None
    try:
        with httpx.stream("GET", url, headers=IDENTITY, follow_redirects=True, timeout=timeout) as response:
            response.raise_for_status()
            expected = response.headers.get("content-length")
            encoding = response.headers.get("content-encoding")
            with path.open("wb") as f:
                for chunk in response.iter_bytes(CHUNK_BYTES):  # undoes any Content-Encoding
                    f.write(chunk)
            received = response.num_bytes_downloaded  # bytes on the wire, as Content-Length counts them
    except httpx.DecodingError as e:
        raise ScenarioDataError(
            f"download of {url} cannot be decoded (Content-Encoding {encoding!r}: {e}); nothing was kept, run again"
        ) from None
    except httpx.HTTPStatusError as e:
        raise ScenarioDataError(
            f"cannot download {url}: the server answered {e.response.status_code}; "
            f"place the file at {target} by hand to use it offline"
        ) from None
    except httpx.RemoteProtocolError:
        raise ScenarioDataError(f"download of {url} was cut short; nothing was kept, run again") from None
    except httpx.HTTPError as e:
        raise ScenarioDataError(
            f"cannot download {url} ({type(e).__name__}: {e}); this machine may be offline: "
            f"place the file at {target} by hand (as the download would) and run again"
        ) from None
    if expected is not None and received != int(expected):
        raise ScenarioDataError(
            f"download of {url} was cut short ({received} of {expected} bytes); nothing was kept, run again"
        )


def _verify(path: Path, sha256: str | None, url: str, target: Path) -> None:
    if sha256 is None:
        return
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise ScenarioDataError(
            f"download of {url} is corrupted (sha256 {digest.hexdigest()}, expected {sha256}); "
            f"nothing was kept at {target}, run again"
        )


def _guess_unpack_type(url: str) -> UnpackType:
    name = url.split("?", 1)[0].lower()
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        return "untar"
    if name.endswith(".zip"):
        return "unzip"
    if name.endswith(".zst"):
        return "unzstd"
    if name.endswith(".gz"):
        return "ungzip"
    raise ScenarioDataError(f"cannot tell how to unpack {url}: pass unpack_type")


def _unpack(archive: Path, kind: UnpackType, out: Path) -> Path:
    """Unpack `archive` into `out`; returns the folder (or file) to move into place."""
    try:
        if kind == "untar":
            out.mkdir()
            with tarfile.open(archive) as tar:
                tar.extractall(out, filter="data")
        elif kind == "unzip":
            out.mkdir()
            with zipfile.ZipFile(archive) as z:
                z.extractall(out)
        elif kind == "ungzip":
            with gzip.open(archive, "rb") as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            return out
        else:
            _unzstd(archive, out)
            return out
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise ScenarioDataError(f"cannot unpack {archive.name} ({kind}): {e}; nothing was kept, run again") from None
    entries = list(out.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else out


def _unzstd(archive: Path, out: Path) -> None:
    try:
        import zstandard
    except ImportError:
        raise ScenarioDataError("unpacking .zst files needs the 'zstandard' package (pip install zstandard)") from None
    with archive.open("rb") as src, out.open("wb") as dst:
        zstandard.ZstdDecompressor().copy_stream(src, dst)
