"""Plug-in modules that are not installed, shipped to Ray workers with the runtime environment that starts them.

Ray's runtime_env `py_modules` puts a package on `sys.path` in every worker started with that environment, on
any node. Ray uploads local files only for a job's own environment (`ray.init(runtime_env=...)`); a task's
or a replica's environment must name packages already in the cluster. So the driver uploads each local
plug-in once (a zip in the cluster's store, named by its content hash, kept while the job runs) and the tasks
(cluster.RayExecution) and the proxy's replicas (serve._app) name the uploaded package. Installed plug-ins are
expected on every node, as Mercury itself is, and ship nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench import local_plugin_paths


def plugin_runtime_env(plugins: Iterable[str], runtime_env: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """`runtime_env` plus the local (not installed) modules of `plugins`, uploaded, in its `py_modules`;
    `runtime_env` itself when there is nothing to ship, so that workers without plug-ins keep their pool.

    Needs a connected Ray (`ray.init`) when a plug-in is local.

    Raises:
        PluginError: for a plug-in that cannot be found.
    """
    paths = local_plugin_paths(plugins)
    if not paths:
        return runtime_env
    import ray
    from ray._private.runtime_env.py_modules import upload_py_modules_if_needed

    node = ray._private.worker.global_worker.node if ray.is_initialized() else None
    if node is None:
        raise RuntimeError("plug-in modules that are not installed can only be shipped once Ray is connected")
    # Ray's own upload for a job's environment (the API a task's environment lacks); Ray is pinned in pyproject
    scratch_dir = node.get_runtime_env_dir_path()
    uploaded = upload_py_modules_if_needed({"py_modules": paths}, include_gitignore=True, scratch_dir=scratch_dir)
    merged = dict(runtime_env or {})
    merged["py_modules"] = [*merged.get("py_modules", []), *uploaded["py_modules"]]
    return merged
