"""`proxy-server` (jobs/proxy_server.py): flags, the first admin's key printed once, framed, last, and HTTPS end
to end with a clean screen (its own Ray in a subprocess: Serve's HTTP options are fixed when Serve starts)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jobs.proxy_server import main
from tests.serve.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

FRAMED_KEY = re.compile(
    r"^\+-+\+\n\| Created an admin account in .+\|\n\| Its API key, shown only this once.*\|\n\| +\|\n"
    r"\| +(?P<key>\S+) +\|\n\+-+\+\n\Z",
    re.MULTILINE,
)
"""The admin key's notice: a box whose fourth line is the key alone; \\Z: nothing is printed after it."""


def framed_key(printed: str) -> str:
    """The key in the box that ends `printed`."""
    found = FRAMED_KEY.search(printed)
    assert found is not None, printed
    return found.group("key")


def test_init_only_prints_the_admin_key_once_framed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = str(tmp_path / "env")
    assert main(["--init-only", "--base-path", base, "--models", "simple/model1"]) == 0
    printed = capsys.readouterr().out
    key = framed_key(printed)
    assert (tmp_path / "env" / "accounts.jsonl").is_file()
    assert len({len(line) for line in printed.splitlines()}) == 1  # a rectangle
    assert main(["--init-only", "--base-path", base]) == 0
    assert key not in capsys.readouterr().out
    # what the README says the first start creates: the accounts, nothing else (credentials.conf is only read)
    assert {p.name for p in (tmp_path / "env").iterdir()} <= {"accounts.jsonl", "accounts.jsonl.lock"}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ssl-key-file", "k.pem"], "--ssl-key-file and --ssl-cert-file go together"),
        (["--ssl-key-file", "nope.pem", "--ssl-cert-file", "nope.pem"], "--ssl-key-file nope.pem: no such file"),
        (["--models", "simple/model1,nobody/x"], "models ['nobody/x'] are not in the deployments file"),
        (["--plugins", "no_such_plugin_module"], "plug-in module 'no_such_plugin_module' (from --plugins) cannot be"),
    ],
)
def test_user_mistakes_stop_with_one_line(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--init-only", *flags]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / "key.pem", folder / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def wait_for_line(process: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if re.search(pattern, line):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"proxy-server did not print {pattern!r} (exit {process.poll()})")


NOISE = ("Token authentication is", "Cannot deregister", "(pid=", "DeprecationWarning", "Started Serve", "INFO serve")
"""Ray's and Serve's own lines, which reach the screen only at --log-level DEBUG."""


@pytest.mark.timeout(900)
def test_https_with_a_certificate_the_test_makes(tmp_path: Path) -> None:
    key_file, cert_file = make_certificate(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # its own Ray, not the session's
    command = [sys.executable, "-m", "jobs.proxy_server", "-p", str(port), "--base-path", str(tmp_path / "env")]
    command += ["--ssl-key-file", str(key_file), "--ssl-cert-file", str(cert_file), "--models", "simple/model1"]
    command += ["--num-cpus", "2"]
    with open(tmp_path / "stderr.log", "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert wait_for_line(process, r"Proxy ready", 600).strip() == f"Proxy ready at https://127.0.0.1:{port}/"
            assert process.stdout is not None
            notice = "".join(process.stdout.readline() for _ in range(6))  # the box: printed right after
            admin = framed_key(notice)
            answer = httpx.post(
                f"https://127.0.0.1:{port}/api/request",
                json={
                    "auth": {"api_key": admin},
                    "request": {"model": "simple/model1", "prompt": "a b", "max_tokens": 1},
                },
                verify=ssl.create_default_context(cafile=str(cert_file)),
                timeout=60,
            )
            assert answer.status_code == 200 and answer.json()["completions"][0]["text"] == " b"
            with pytest.raises(httpx.ConnectError):  # an unknown certificate is refused
                httpx.get(f"https://127.0.0.1:{port}/api/general_info")
        finally:
            process.send_signal(signal.SIGTERM)
            rest, _ = process.communicate(timeout=120)
            assert process.returncode == 0
    assert rest == ""  # the box was the last thing printed
    logged = (tmp_path / "stderr.log").read_text()
    assert admin not in logged  # printed once on stdout, never logged
    assert [noise for noise in NOISE if noise in logged] == [], logged
    assert "started in" in logged  # the start-up phases' times
