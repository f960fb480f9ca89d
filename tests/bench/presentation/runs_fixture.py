"""Writing runs in exactly the layout benchmark-run writes, with figures chosen by the test.

The files are produced with the runner's own types and writers (RunSpec from a real run entry, Stat,
PerInstanceStats, the parquet tables, `Storage`), so they match what `benchmark-run` leaves on disk; with
`helm_form`, the per-request files are HELM's JSON instead (a folder of HELM's, or `--helm-json` without tables).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench import Instance, MetricName, PerturbationDescription, Reference, Request, RequestResult, Stat
from bench._request import GeneratedOutput
from bench._stat import merge_stats
from bench.adaptation import RequestState, ScenarioState
from bench.run_specs import expand_run_entry
from bench.runner import (
    PerInstanceStats,
    Storage,
    per_instance_table,
    request_states_table,
    run_path,
    to_jsonable,
)

TYPOS = PerturbationDescription(name="typos", robustness=True, args={"prob": 0.1})
DIALECT = PerturbationDescription(name="dialect", fairness=True, args={"prob": 1.0})


@dataclass(frozen=True)
class Item:
    """One evaluated instance: what the model saw and said, and its scores."""

    id: str
    exact_match: float
    input: str = "a b b"
    answer: str = "b"
    completion: str = " b"
    perturbation: PerturbationDescription | None = None
    prompt_tokens: float = 10.0
    completion_tokens: float = 1.0


def write_run(
    root: Path,
    suite: str,
    entry: str,
    model: str,
    items: list[Item],
    *,
    extra_stats: list[Stat] | None = None,
    helm_form: bool = False,
) -> Path:
    """Write a complete run of `entry` for `model` under root/runs/suite/; returns its folder."""
    [run_spec] = expand_run_entry(entry, default_model=model)
    storage, folder = Storage(str(root)), run_path(suite, run_spec.name)

    def write_json(name: str, data: object) -> None:
        storage.write_json(f"{folder}/{name}", to_jsonable(data))

    per_instance = []
    states = []
    merged: dict[MetricName, Stat] = {}
    for item in items:
        stats = [
            Stat.of("exact_match", item.exact_match),
            Stat.of("num_prompt_tokens", item.prompt_tokens),
            Stat.of("num_completion_tokens", item.completion_tokens),
        ]
        per_instance.append(
            PerInstanceStats(
                instance_id=item.id, train_trial_index=0, split="test", perturbation=item.perturbation, stats=stats
            )
        )
        sliced = [
            s.copy_with(MetricName(name=s.name.name, split="test", perturbation=item.perturbation)) for s in stats
        ]
        merge_stats(merged, sliced)
        instance = Instance(
            input=item.input,
            references=(Reference(output=item.answer, tags=("correct",)), Reference(output="zz")),
            split="test",
            id=item.id,
            perturbation=item.perturbation,
        )
        result = RequestResult(success=True, completions=(GeneratedOutput(text=item.completion, logprob=-0.5),))
        request = Request(model=model, prompt=f"Input: {item.input}\nAnswer:", temperature=0.0)
        states.append(RequestState(instance=instance, request=request, result=result))
    write_json("run_spec.json", run_spec)
    scenario = {"name": run_spec.scenario_spec.name, "description": "test scenario", "tags": [],
                "args": run_spec.scenario_spec.args, "num_instances": {"test": len(items)}}  # fmt: skip
    write_json("scenario.json", scenario)
    if helm_form:
        write_json("scenario_state.json", ScenarioState(adapter_spec=run_spec.adapter_spec, request_states=states))
        write_json("per_instance_stats.json", per_instance)
    else:
        storage.write_table(f"{folder}/request_states.parquet", request_states_table(states))
        storage.write_table(f"{folder}/per_instance_stats.parquet", per_instance_table(per_instance))
    write_json("run_info.json", {"suite": suite, "num_instances": len(items), "num_requests": len(items),
                                 "num_failed_requests": 0, "timings_seconds": {"execution": 1.5},
                                 "finished_at": time.time()})  # fmt: skip
    write_json("stats.json", [*merged.values(), *(extra_stats or [])])
    return root / folder


def original_stat(name: str, *values: float) -> Stat:
    """A Stat of the original test instances (for extra_stats)."""
    return Stat.of(MetricName(name=name, split="test"), *values)
