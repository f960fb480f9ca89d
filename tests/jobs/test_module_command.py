"""Mercury's background processes (the bring-up, the head's watchdog) start from any folder: a user's folder
called like one of Mercury's packages does not shadow it (jobs._module_command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jobs._module_command import module_command


def test_a_folder_named_like_a_package_of_mercury_does_not_shadow_it(tmp_path: Path) -> None:
    for name in ("bench", "cluster", "serve", "jobs"):
        (tmp_path / name).mkdir()  # e.g. a project with its own cluster/ folder, where benchmark-run is typed
    plain = subprocess.run(
        [sys.executable, "-m", "jobs._bring_up", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert plain.returncode != 0  # what the background bring-up hit: its modules were the empty folders
    ours = subprocess.run(
        module_command("jobs._bring_up", "--help"), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert ours.returncode == 0, ours.stderr
    assert "usage:" in ours.stdout
