"""Private state files: the proxy's folders are 0700 and its files 0600, whatever the umask.

Accounts (key hashes and usage), cached answers (the prompts of every caller) and the benchmark account's key
are nobody else's business on a shared machine. Files are created with their mode from the start (`os.open`
with 0600), never created readable and narrowed afterwards, so there is no moment another user can open them.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path | str) -> Path:
    """`path` created (with its missing parents) as a folder only its owner may enter.

    An existing folder is narrowed to 0700 when it is ours; one owned by someone else (a shared parent such
    as /tmp) is left as it is.
    """
    folder = Path(path)
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if folder.stat().st_uid == os.getuid():
        os.chmod(folder, FOLDER_MODE)
    return folder


def private_file(path: Path | str) -> Path:
    """`path` created empty with mode 0600 if missing (its folder made private), or narrowed to 0600 if it exists.

    Call it before a library (SQLite, open(..., "a")) creates the file with the umask's mode.
    """
    file = Path(path)
    private_folder(file.parent)
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return file
