"""ensure_file_downloaded against a real HTTP server on loopback: reuse, cut-short and corrupt downloads."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.scenarios import ensure_file_downloaded

PAYLOAD = b"question,answer\n2+2,4\n" * 100


def _tar_with_folder() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("data/dev.csv")
        info.size = len(PAYLOAD)
        tar.addfile(info, io.BytesIO(PAYLOAD))
    return buffer.getvalue()


class Handler(BaseHTTPRequestHandler):
    """/ok.csv serves PAYLOAD; /short.csv promises more than it sends; /data.tar.gz an archive."""

    hits: dict[str, int] = {}  # noqa: RUF012
    mode: dict[str, str] = {"ok.csv": "ok"}  # noqa: RUF012
    accept_encoding: dict[str, str | None] = {}  # noqa: RUF012

    def do_GET(self) -> None:
        name = self.path.lstrip("/")
        Handler.hits[name] = Handler.hits.get(name, 0) + 1
        Handler.accept_encoding[name] = self.headers.get("Accept-Encoding")
        if name in ("gzipped.csv", "broken-gzip.csv"):  # compressed on the wire whatever the client asked
            body = gzip.compress(PAYLOAD)
            body = body if name == "gzipped.csv" else body[: len(body) // 2] + b"not gzip any more"
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if name == "data.tar.gz":
            body = _tar_with_folder()
        elif name in ("ok.csv", "flaky.csv"):
            body = PAYLOAD if Handler.mode.get(name, "ok") == "ok" else PAYLOAD[: len(PAYLOAD) // 2] + b"garbage"
        elif name == "short.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:100])
            self.close_connection = True
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_downloads_once_then_reuses(server: str, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "ok.csv"
    Handler.hits.clear()
    assert ensure_file_downloaded(f"{server}/ok.csv", target).read_bytes() == PAYLOAD
    ensure_file_downloaded(f"{server}/ok.csv", target)
    assert Handler.hits == {"ok.csv": 1}


def test_cut_short_download_keeps_nothing(server: str, tmp_path: Path) -> None:
    target = tmp_path / "short.csv"
    with pytest.raises(ScenarioDataError, match="cut short"):
        ensure_file_downloaded(f"{server}/short.csv", target)
    assert list(tmp_path.iterdir()) == []


def test_corrupted_download_is_detected_and_fetched_again(server: str, tmp_path: Path) -> None:
    target = tmp_path / "flaky.csv"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    Handler.mode["flaky.csv"] = "corrupt"
    with pytest.raises(ScenarioDataError, match="corrupted"):
        ensure_file_downloaded(f"{server}/flaky.csv", target, sha256=digest)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    Handler.mode["flaky.csv"] = "ok"
    assert ensure_file_downloaded(f"{server}/flaky.csv", target, sha256=digest).read_bytes() == PAYLOAD


def test_archive_with_one_folder_unpacks_to_the_target(server: str, tmp_path: Path) -> None:
    target = tmp_path / "mmlu"
    ensure_file_downloaded(f"{server}/data.tar.gz", target, unpack=True)
    assert (target / "dev.csv").read_bytes() == PAYLOAD


def test_http_error_and_offline_name_url_and_path(server: str, tmp_path: Path) -> None:
    with pytest.raises(ScenarioDataError, match=r"answered 404; place the file at .*missing.csv by hand"):
        ensure_file_downloaded(f"{server}/missing.csv", tmp_path / "missing.csv")
    with pytest.raises(ScenarioDataError, match=r"cannot download http://127.0.0.1:9/x.csv .*offline.*x.csv by hand"):
        ensure_file_downloaded("http://127.0.0.1:9/x.csv", tmp_path / "x.csv", timeout=2)


def test_a_compressed_answer_is_saved_decoded(server: str, tmp_path: Path) -> None:
    """The server compresses its answer (Content-Encoding: gzip): the file on disk is the data, not gzip."""
    target = ensure_file_downloaded(f"{server}/gzipped.csv", tmp_path / "gzipped.csv", sha256=_digest(PAYLOAD))
    assert target.read_bytes() == PAYLOAD
    assert Handler.accept_encoding["gzipped.csv"] == "identity"  # asked for the file as it is
    # a file that is itself gzip, served plainly, stays as published (only a Content-Encoding is undone)
    archive = ensure_file_downloaded(f"{server}/data.tar.gz", tmp_path / "data.tar.gz")
    assert archive.read_bytes()[:2] == b"\x1f\x8b"


def test_a_compressed_answer_that_does_not_decode_keeps_nothing(server: str, tmp_path: Path) -> None:
    target = tmp_path / "broken.csv"
    with pytest.raises(ScenarioDataError, match=r"cannot be decoded \(Content-Encoding 'gzip'.*nothing was kept"):
        ensure_file_downloaded(f"{server}/broken-gzip.csv", target)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
