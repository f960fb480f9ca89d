"""`benchmark-run`: evaluate models on run entries and write the results.

benchmark-run -r simple1 -m simple/model1
benchmark-run -c configs/run_specs.conf --suite demo -m local/smollm2-135m --max-eval-instances 10
benchmark-run -r mmlu:subject=philosophy,model=openai/davinci --dry-run
benchmark-run -r simple1 -m simple/model1 --proxy-url https://proxy.example.org:1959 --api-key KEY

Requests go through the proxy (its cache, quotas and rate limits): the app `mercury-proxy` on the Ray
cluster, deployed from configs/ when it is not running, or with --proxy-url a proxy elsewhere over HTTP.
The key is --api-key, else $MERCURY_API_KEY, else a "benchmark" account that benchmark-run creates once in
the proxy's state folder (its key in prod_env/benchmark_api_key, mode 0600). --direct skips the proxy.
A command that finds no local Ray head starts it (and the proxy app) in the background and runs in its own
process meanwhile, through the proxy's services there (jobs/_bring_up.py).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import bench
from bench import MercuryError, settings
from bench.run_specs import RunSpec, expand_run_entries, suite_entries
from bench.runner import FailurePolicy, RunResult
from jobs._clock import CommandClock
from jobs._exit import run_then_exit
from jobs._logging import configure_logging
from jobs._plugins import add_plugins_argument
from jobs._progress import tqdm_progress
from jobs._summary import make_console, print_dry_run, print_run_summary, print_timings

if TYPE_CHECKING:
    from bench.models import InProcessService
    from bench.runner import Execution, StoredRuns
    from cluster import ServiceFactory

# What needs no cluster (nothing to do, a dry run, a bad entry, a missing bucket) is answered before Ray starts:
# Ray, the proxy's modules and the models' libraries are imported only by the functions that use them.

logger = logging.getLogger("benchmark-run")

EXIT_USER_ERROR = 2
DEFAULT_ENTRY = "simple1"
"""What `benchmark-run` alone runs (the original benchmark's default): simple1 on its default model, simple/model1."""


def build_parser() -> argparse.ArgumentParser:
    """The command line of benchmark-run."""
    parser = argparse.ArgumentParser(
        prog="benchmark-run",
        description="Evaluate language models on scenarios. A run entry is name:key=value,... "
        "(e.g. 'lpm:difficulty=easy,model=local/smollm2-135m'); reserved keys: model (a model or a group "
        "such as 'all' or 'offline'), max_eval_instances, num_train_trials, max_train_instances, num_outputs, "
        "data_augmentation (robustness, fairness, canonical, typos, ...).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("-r", "--run-entry", dest="entries", action="append", default=[], metavar="ENTRY",
                        help=f"a run entry; repeat for more (none and no -c: {DEFAULT_ENTRY})")  # fmt: skip
    parser.add_argument("-c", "--conf-path", metavar="FILE", help="run_specs.conf with suites of run entries")
    parser.add_argument("--suite", default=None,
                        help="suite: picks the entries of -c FILE and names the output folder runs/SUITE "
                        "(default: 'default')")  # fmt: skip
    parser.add_argument("--priority", type=int, default=None, help="with -c: only entries up to this priority")
    parser.add_argument("-m", "--model", help="model or model group for entries that name none")
    parser.add_argument("--max-eval-instances", type=int, default=None, metavar="N",
                        help="evaluation instances per run for entries that set none")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true",
                        help="send no request: estimate tokens and cost per model, write nothing")  # fmt: skip
    parser.add_argument("-o", "--output-path", default="benchmark_output",
                        help="results: a folder or s3://bucket/prefix (default: benchmark_output)")  # fmt: skip
    parser.add_argument("--force", action="store_true",
                        help="recompute runs that are already complete (by default they are reused, and an "
                        "interrupted run resumes from its finished shards)")  # fmt: skip
    parser.add_argument("--shard-size", type=int, default=None, metavar="N",
                        help="instances per Ray task (default: about two shards per task slot)")  # fmt: skip
    parser.add_argument("--task-cpus", type=float, default=None,
                        help="CPUs each shard task counts for: tasks at once = the cluster's CPUs / this (default "
                        "0.2 through the proxy, which does the work; reserved only with --direct: 0.5)")  # fmt: skip
    parser.add_argument("--in-process", action="store_true",
                        help="run in this process without Ray (debugging, quick checks): the same pipeline and "
                        "files, its shards one after the other")  # fmt: skip
    parser.add_argument("--helm-json", action="store_true",
                        help="also write HELM's scenario_state.json and per_instance_stats.json for each run (from "
                        "its parquet tables; the whole run in memory once)")  # fmt: skip
    parser.add_argument("--direct", action="store_true",
                        help="Ray tasks call the models themselves, without the proxy (debugging)")  # fmt: skip
    parser.add_argument("--proxy-url", metavar="URL",
                        help="use the proxy at URL over HTTP(S) (with --api-key) instead of the cluster's")  # fmt: skip
    parser.add_argument("--api-key", metavar="KEY",
                        help="the proxy account's API key (default: $MERCURY_API_KEY, else benchmark-run's own "
                        "account in the proxy's state folder)")  # fmt: skip
    parser.add_argument("--proxy-port", type=int, default=None,
                        help="HTTP port of the proxy when benchmark-run deploys it (default $MERCURY_PROXY_PORT, "
                        "else 1959)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="requests per call to the proxy (default 32; 8 with --direct)")  # fmt: skip
    parser.add_argument("-n", "--parallelism", type=int, default=4,
                        help="request batches in flight per task: through the proxy, a window of -n x --batch-size "
                        "requests, a new call as soon as a batch's worth of them has been answered")  # fmt: skip
    parser.add_argument("--max-failed-fraction", type=failed_fraction, default=0.0, metavar="F",
                        help="a run is complete when at most this share of its requests failed (default 0: any "
                        "failure leaves the run incomplete, resumable, and the exit status 1)")  # fmt: skip
    parser.add_argument("--no-local-cluster", dest="local_cluster", action="store_false",
                        help="without RAY_ADDRESS, start a Ray for this command only instead of joining (or "
                        "starting) the local head that outlives it (also: MERCURY_LOCAL_CLUSTER=0; see "
                        "mercury-cluster --help)")  # fmt: skip
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING")
    add_plugins_argument(parser)
    return parser


def failed_fraction(text: str) -> float:
    """--max-failed-fraction's value: a number between 0 and 1."""
    try:
        return FailurePolicy(float(text)).max_failed_fraction
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be a fraction between 0 and 1 (e.g. 0.01)") from None


def check_models_available(service: InProcessService, models: set[str]) -> None:
    """Fail before anything runs if a model cannot be served here."""
    from bench.models import get_deployment

    for model in sorted(models):
        get_deployment(model)
        service.client_for(model)


def run_in_process(
    args: argparse.Namespace, suite: str, service: InProcessService, run_specs: list[RunSpec], clock: CommandClock
) -> list[RunResult]:
    """Every run in this process (no Ray): the same pipeline, its shards one after the other (debugging)."""
    from bench.metrics import build_toxicity_service
    from bench.runner import InProcessExecution
    from serve import proxy_env_path

    execution = InProcessExecution(service, build_toxicity_service(proxy_env_path()))
    return run_with(args, suite, execution, DIRECT_BATCH_SIZE, run_specs, clock)


def run_with(
    args: argparse.Namespace,
    suite: str,
    execution: Execution,
    batch_size: int,
    run_specs: list[RunSpec],
    clock: CommandClock,
) -> list[RunResult]:
    """The pipeline (bench.runner.Runner) with `execution`, as the flags say (`batch_size` unless --batch-size)."""
    from bench.runner import Runner

    runner = Runner(
        execution,
        args.output_path,
        suite,
        force=args.force,
        shard_size=args.shard_size,
        batch_size=args.batch_size or batch_size,
        parallelism=args.parallelism,
        progress=functools.partial(tqdm_progress, unit="inst"),  # shards report instances done
        failure_policy=FailurePolicy(args.max_failed_fraction),
        plugins=args.plugins,
        helm_json=args.helm_json,
    )
    clock.ready()  # Ray connected and the proxy ready, when on Ray: start-up is over
    return runner.run_all(run_specs, keep_going=True)


DIRECT_TASK_CPUS = 0.5
PROXY_TASK_CPUS = 0.2  # tasks wait on the proxy, which does the work: many fit beside its replicas
DIRECT_BATCH_SIZE = 8
PROXY_BATCH_SIZE = 32
"""Requests per proxy call: each call costs a few actor hops (accounts, cache, limiter) whatever its size, so
bigger batches serve cached runs faster (measured: 8 -> ~740, 32 -> ~1,040, 64 -> ~1,350 cached instances/s)."""


def run_on_ray(args: argparse.Namespace, suite: str, run_specs: list[RunSpec], clock: CommandClock) -> list[RunResult]:
    """Every run sharded over Ray tasks whose requests go through the proxy (or, --direct, to the models)."""
    from bench.metrics import build_toxicity_service
    from cluster import RayExecution, warm_workers_enabled
    from jobs._ray import connect_ray
    from serve import proxy_env_path

    models = sorted({r.adapter_spec.model for r in run_specs})
    if args.proxy_url:  # a proxy elsewhere: check it before Ray starts
        factory = http_factory(args, models)
        connect_ray(args.local_cluster)
    else:
        wait_for_local_cluster(args)
        connect_ray(args.local_cluster)
        factory = direct_factory() if args.direct else handle_factory(args, models)
    direct = args.direct and not args.proxy_url
    execution = RayExecution(
        factory,
        # built in each task's process: the key comes from that node's prod_env or PERSPECTIVE_API_KEY
        toxicity_factory=functools.partial(build_toxicity_service, proxy_env_path().resolve()),
        task_cpus=args.task_cpus or (DIRECT_TASK_CPUS if direct else PROXY_TASK_CPUS),
        reserve_cpus=direct,  # through the proxy, tasks wait on it: they must never hold the CPU its replicas need
        plugins=args.plugins,
        warm_workers=not direct and warm_workers_enabled(),  # tasks that wait on the proxy: workers kept warm
    )
    return run_with(args, suite, execution, DIRECT_BATCH_SIZE if direct else PROXY_BATCH_SIZE, run_specs, clock)


def uses_local_head(args: argparse.Namespace) -> bool:
    """Whether this command's Ray is the local head: no RAY_ADDRESS, the local cluster not turned off, and this
    process not on a Ray already (a program that embeds benchmark-run, or a test session)."""
    current = settings()
    if current.ray_address or not (args.local_cluster and current.local_cluster):
        return False
    ray = sys.modules.get("ray")
    return ray is None or not ray.is_initialized()


def wait_for_local_cluster(args: argparse.Namespace) -> None:
    """On the local head, wait for a bring-up under way (an earlier command started it) rather than deploy the
    proxy app a second time beside it."""
    if uses_local_head(args):
        from jobs._bring_up import wait_for_bring_up

        wait_for_bring_up()


def direct_factory() -> ServiceFactory:
    """--direct: each task calls the models itself (as before the proxy; for debugging)."""
    from cluster import InProcessServiceFactory

    return InProcessServiceFactory()


def handle_factory(args: argparse.Namespace, models: list[str]) -> ServiceFactory:
    """The proxy app on this cluster (deployed now if it is not running), checked with the key before any request."""
    from cluster import ProxyHandleServiceFactory
    from jobs._proxy import APP_NAME, benchmark_api_key, check_handle_access, default_proxy_port, ensure_proxy_app
    from serve import proxy_env_path

    base_path = proxy_env_path().resolve()
    deployed = ensure_proxy_app(base_path, args.proxy_port or default_proxy_port(), APP_NAME, plugins=args.plugins)
    same_state_on_local_head(base_path, deployed)
    api_key = benchmark_api_key(args.api_key, base_path)
    check_handle_access(APP_NAME, api_key, models)
    return ProxyHandleServiceFactory(api_key=api_key, app_name=APP_NAME)


def same_state_on_local_head(base_path: Path, deployed: bool) -> None:
    """On the local head, the proxy app must keep its state in this command's folder (else its accounts refuse
    this folder's benchmark key): recorded when deployed, checked when found running."""
    from jobs._local_head import check_proxy_state, head_folder, record_proxy_state
    from jobs._ray import joined_head

    head = joined_head()
    if head is None:
        return
    if deployed:
        record_proxy_state(head_folder(), head, base_path)
    else:
        check_proxy_state(head_folder(), head, base_path)


def http_factory(args: argparse.Namespace, models: list[str]) -> ServiceFactory:
    """--proxy-url: a proxy elsewhere over HTTP(S), checked before any request."""
    from cluster import ProxyHttpServiceFactory
    from jobs._proxy import API_KEY_VARIABLE, check_http_proxy

    configured = settings().api_key
    api_key = args.api_key or (configured.get_secret_value() if configured else None)
    if not api_key:
        raise MercuryError(f"--proxy-url needs an API key: give --api-key KEY or set {API_KEY_VARIABLE}")
    check_http_proxy(args.proxy_url, api_key, models)
    return ProxyHttpServiceFactory(url=args.proxy_url, api_key=api_key)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a user's mistake, with one line saying what)."""
    clock = CommandClock()
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    console = make_console()
    try:
        bench.load_plugins(args.plugins)
        entries = list(args.entries)
        if args.conf_path:
            entries += suite_entries(args.conf_path, args.suite or "default", args.priority)
        if not entries:  # the original benchmark's default: `benchmark-run` alone runs simple1 on simple/model1
            entries = [DEFAULT_ENTRY]
            logger.info("no run entry given: running %r (see -r and -c in --help)", DEFAULT_ENTRY)
        run_specs = expand_run_entries(
            entries, default_model=args.model, default_max_eval_instances=args.max_eval_instances
        )
        suite = args.suite or "default"
        if args.dry_run:
            from bench.runner import dry_run

            clock.ready()
            results = dry_run(run_specs, args.output_path)
            print_dry_run(results, console)
            print_timings(results, clock.startup, clock.elapsed(), console)
            return 0
        if args.proxy_url and (args.in_process or args.direct):
            raise MercuryError(
                "--proxy-url goes through a remote proxy: it cannot be combined with --in-process or --direct"
            )
        stored = check_output(args.output_path, suite, run_specs, force=args.force)
        done: dict[str, RunResult] = {**stored.complete, **_stale_results(run_specs, stored)}
        if stored.todo:
            done.update((r.run_spec.name, r) for r in run_todo(args, suite, stored.todo, clock))
        else:
            logger.info("nothing to do: every run is complete in %s (--force recomputes)", args.output_path)
        clock.ready()
        results = [done[run_spec.name] for run_spec in run_specs]
    except MercuryError as e:
        print(f"benchmark-run: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("benchmark-run: interrupted; finished runs are kept", file=sys.stderr)
        return 130
    print_run_summary(results, console)
    print_timings(results, clock.startup, clock.elapsed(), console)
    return report_outcome(results, FailurePolicy(args.max_failed_fraction))


def check_output(output_path: str, suite: str, run_specs: list[RunSpec], *, force: bool) -> StoredRuns:
    """The output location checked and the runs sorted by what it holds, all before Ray starts.

    An S3 bucket is checked first (a missing bucket or bad credentials is one line, at once); then, unless
    `force`, the runs already complete there with the same run spec are read back. (That results can be
    written is checked by `run_todo`, once the models of the runs to do are known to be available.)

    Raises:
        StorageError: the output cannot be read, saying why.
    """
    from bench.runner import Storage, StoredRuns, stored_runs

    storage = Storage(output_path)
    if storage.is_s3:
        storage.check_bucket()
    return StoredRuns(todo=list(run_specs)) if force else stored_runs(storage, suite, run_specs)


def _stale_results(run_specs: Sequence[RunSpec], stored: StoredRuns) -> dict[str, RunResult]:
    """A failed result for each run whose stored stats.json belongs to another run spec (nothing is deleted)."""
    by_name = {run_spec.name: run_spec for run_spec in run_specs}
    return {name: RunResult(by_name[name], [], 0, 0, 0, None, error=why) for name, why in stored.stale.items()}


def run_todo(args: argparse.Namespace, suite: str, run_specs: list[RunSpec], clock: CommandClock) -> list[RunResult]:
    """The runs not complete yet: their models and the output checked (a small file written and deleted), all
    before Ray starts; then run in this process or on Ray."""
    from bench.models import InProcessService, get_deployment
    from bench.runner import Storage
    from serve import register_clients

    register_clients()  # hosted models (openai, ai21) answer in-process when their credential is set
    service = InProcessService()
    if args.proxy_url:  # the proxy elsewhere holds the credentials: only the models must be known here
        for model in sorted({r.adapter_spec.model for r in run_specs}):
            get_deployment(model)
    else:  # here, or the proxy deployed from this node's prod_env and environment
        check_models_available(service, {r.adapter_spec.model for r in run_specs})
    Storage(args.output_path).check_writable()
    logger.info("%d runs to do: %s", len(run_specs), ", ".join(r.name for r in run_specs))
    if args.in_process:
        return run_in_process(args, suite, service, run_specs, clock)
    if runs_here_while_cluster_starts(args, run_specs):
        return run_through_local_proxy(args, suite, run_specs, clock)
    return run_on_ray(args, suite, run_specs, clock)


def runs_here_while_cluster_starts(args: argparse.Namespace, run_specs: list[RunSpec]) -> bool:
    """Whether this command runs in its own process through the proxy's services while the local cluster comes
    up in the background (started here unless under way; see jobs/_bring_up.py): when it would use the local
    head, none runs (or one is coming up), and every model of its runs can be served here as its settings ask
    (`serve.app_only_models`: no rate limit, no batching across callers). Otherwise it runs on Ray as always.

    Raises:
        ConfigError: when the models' serving settings do not validate.
        LocalHeadError: when the head's folder cannot be used.
    """
    if args.direct or args.proxy_url or not settings().background_start or not uses_local_head(args):
        return False
    from jobs._bring_up import bring_up_running, start_bring_up
    from jobs._local_head import find_head, head_folder
    from jobs._proxy import default_proxy_port, proxy_app_config
    from serve import app_only_models, proxy_env_path

    folder = head_folder()
    starting = bring_up_running(folder)
    if not starting and find_head(folder) is not None:
        return False
    models = sorted({r.adapter_spec.model for r in run_specs})
    app_only = app_only_models(proxy_app_config(proxy_env_path(), args.plugins), models)
    if app_only:
        reasons = ", ".join(f"{model} ({why})" for model, why in app_only.items())
        logger.info("waiting for the local cluster: only the proxy app on Ray serves %s as configured", reasons)
        return False
    if not starting:
        start_bring_up(args.proxy_port or default_proxy_port(), args.plugins, folder)
    logger.info("running here, through the proxy's services in this process, while the local cluster comes up")
    return True


def run_through_local_proxy(
    args: argparse.Namespace, suite: str, run_specs: list[RunSpec], clock: CommandClock
) -> list[RunResult]:
    """Every run in this process, its requests through the proxy's services wired here (serve.LocalProxyService:
    the same accounts, quotas and cache as the app on Ray, from the same state folder), checked with the key
    before any request."""
    from bench.metrics import build_toxicity_service
    from bench.runner import InProcessExecution
    from jobs._proxy import ProxySetupError, benchmark_api_key, proxy_app_config
    from serve import LocalProxyService, ProxyError, proxy_env_path

    base_path = proxy_env_path().resolve()
    models = sorted({r.adapter_spec.model for r in run_specs})
    config = proxy_app_config(base_path, args.plugins).model_copy(update={"models": models})
    service = LocalProxyService(config, benchmark_api_key(args.api_key, base_path))
    try:
        try:
            service.check_access(models)
        except ProxyError as error:
            raise ProxySetupError(f"proxy (in this process, state in {base_path}): {error}") from None
        execution = InProcessExecution(service, build_toxicity_service(base_path))
        return run_with(args, suite, execution, PROXY_BATCH_SIZE, run_specs, clock)
    finally:
        service.close()


def report_outcome(results: Sequence[RunResult], policy: FailurePolicy) -> int:
    """One line per run that failed, is incomplete or is complete only with allowed failures; the exit status
    (1 when any run failed or is incomplete)."""
    status = 0
    for result in results:
        if result.error is not None:
            print(f"benchmark-run: run {result.run_spec.name} failed: {result.error}", file=sys.stderr)
            status = 1
        elif result.incomplete is not None:
            print(f"benchmark-run: {result.incomplete}", file=sys.stderr)
            status = 1
        else:
            allowed = policy.complete_message(result.run_spec.name, result.failure_counts())
            if allowed and not result.skipped:
                print(f"benchmark-run: {allowed}", file=sys.stderr)
    return status


def cli() -> NoReturn:
    """The console script: `main()`, then the process ends at once with its status (jobs._exit says why)."""
    run_then_exit(main)


if __name__ == "__main__":
    cli()
