"""Benchmarks of the evaluation core; prints figures, asserts nothing (wall-clock is noisy).

    .venv/bin/python tests/perf/bench_core.py            # token counting + wall-time split on simple/model1
    .venv/bin/python tests/perf/bench_core.py --local    # also the split for a small run on local/smollm2-135m

1. Token counting for the dry run: tokens per second of each tokenizer on real adapted prompts, counted one
   prompt at a time (what the dry run does) next to tiktoken's native batch encoder on the same prompts (the
   baseline, same process), and the dry run's own throughput in instances per second.
2. Where a run's wall time goes: instances, adaptation, execution, metrics, writing, as seconds and shares.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

import bench
from bench.models import InProcessService
from bench.run_specs import expand_run_entries, expand_run_entry
from bench.runner import Runner, RunResult, dry_run
from bench.tokenizers import get_tokenizer

TIKTOKEN_NAMES = ("openai/r50k_base", "openai/p50k_base", "openai/cl100k_base", "openai/o200k_base")


def adapted_prompts(entry: str, n: int) -> list[str]:
    """Prompts of `n` evaluation instances of `entry`, adapted for openai/davinci (no request sent)."""
    with tempfile.TemporaryDirectory() as tmp:
        [run_spec] = expand_run_entry(entry, default_model="openai/davinci", default_max_eval_instances=n)
        from bench.adaptation import create_adapter
        from bench.models import get_deployment
        from bench.runner import sample_eval_instances, with_ids
        from bench.scenarios import create_scenario

        scenario = create_scenario(run_spec.scenario_spec.name, run_spec.scenario_spec.args)
        instances = sample_eval_instances(with_ids(scenario.get_instances(tmp)), n)
        deployment = get_deployment("openai/davinci")
        adapter = create_adapter(run_spec.adapter_spec, get_tokenizer(deployment.tokenizer), deployment.context_window)
        return [state.request.prompt for state in adapter.adapt(instances)]


def token_counting(prompts: list[str], repeats: int) -> None:
    """Tokens per second, one prompt at a time vs tiktoken's batch encoder (baseline)."""
    chars = sum(len(p) for p in prompts)
    print(f"\n== token counting: {len(prompts)} prompts, {chars / len(prompts):.0f} characters each on average")
    print(f"{'tokenizer':22} {'tokens':>9} {'per-prompt tok/s':>17} {'batch tok/s':>12} {'per-prompt/batch':>17}")
    for name in TIKTOKEN_NAMES:
        tokenizer = get_tokenizer(name)
        encoding = tokenizer.encoding  # type: ignore[attr-defined]
        tokens = sum(tokenizer.count_tokens(p) for p in prompts)
        started = time.perf_counter()
        for _ in range(repeats):
            for prompt in prompts:
                tokenizer.count_tokens(prompt)
        one_at_a_time = tokens * repeats / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(repeats):
            encoding.encode_ordinary_batch(prompts)
        batch = tokens * repeats / (time.perf_counter() - started)
        print(f"{name:22} {tokens:>9} {one_at_a_time:>17,.0f} {batch:>12,.0f} {one_at_a_time / batch:>17.2f}")


def dry_run_throughput(entries: list[str], n: int) -> None:
    """The whole dry run (scenario, subset, adaptation, counting), in instances per second."""
    run_specs = expand_run_entries(entries, default_model="openai/davinci", default_max_eval_instances=n)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        results = dry_run(run_specs, tmp)
        seconds = time.perf_counter() - started
    instances = sum(r.num_instances for r in results)
    tokens = sum(s.sum for r in results for s in r.stats if s.name.name == "estimated_number_of_tokens")
    print(f"\n== dry run on openai/davinci: {len(results)} runs, {instances} instances, {tokens:,.0f} tokens")
    print(f"{seconds:.2f} s = {instances / seconds:,.0f} instances/s, {tokens / seconds:,.0f} estimated tokens/s")
    print_split(results, "dry run")


def print_split(results: list[RunResult], label: str) -> None:
    """Seconds and shares of each step, summed over runs."""
    steps = ("instances", "adaptation", "execution", "metrics", "writing")
    totals = {step: sum(getattr(r.timings, step) for r in results) for step in steps}
    whole = sum(totals.values()) or 1.0
    shares = ", ".join(f"{step} {seconds:.3f} s ({seconds / whole:.0%})" for step, seconds in totals.items())
    print(f"{label}: total {whole:.3f} s: {shares}")


def wall_time_split(entries: list[str], model: str, n: int) -> None:
    """Run `entries` on `model` for real and print where the time went."""
    run_specs = expand_run_entries(entries, default_model=model, default_max_eval_instances=n)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        results = Runner.in_process(InProcessService(), tmp, "perf").run_all(run_specs)
        seconds = time.perf_counter() - started
    requests = sum(r.num_requests for r in results)
    print(f"\n== wall-time split on {model}: {len(results)} runs, {requests} requests, {seconds:.2f} s")
    for result in results:
        print_split([result], f"  {result.run_spec.name}")
    print_split(results, "  all runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="also measure a small run on local/smollm2-135m")
    parser.add_argument("--instances", type=int, default=500, help="evaluation instances per run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bench.load_builtins()
    generated = ["simple1", "lpm:difficulty=hard", "synthetic_reasoning:mode=induction", "numeracy", "dyck_language"]

    token_counting(adapted_prompts("lpm:difficulty=hard", args.instances), repeats=3)
    dry_run_throughput(generated, args.instances)
    wall_time_split(generated, "simple/model1", args.instances)
    if args.local:
        wall_time_split(["simple1", "dyck_language"], "local/smollm2-135m", 5)


if __name__ == "__main__":
    main()
