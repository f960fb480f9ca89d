"""Scoring: grouping request states, slices per split and perturbation, exact merging of partial results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench import Instance, MetricName, PerturbationDescription, Request, Stat
from bench.adaptation import AdapterSpec, RequestState
from bench.metrics import Metric, MetricContext
from bench.models import ModelDeployment
from bench.runner import StatsAccumulator, group_request_states, score_instances
from tests.fakes import WordTokenizer

TYPOS = PerturbationDescription(name="typos", robustness=True)


class InputLength(Metric):
    """Scores an instance by its number of request states and its input length; derives their ratio."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        return [
            Stat.of(MetricName(name="n_states"), len(request_states)),
            Stat.of(MetricName(name="length"), len(request_states[0].instance.input)),
        ]

    def derive(self, stats: Mapping[str, Stat], context: MetricContext) -> list[Stat]:
        return [Stat.of(MetricName(name="length_per_state"), stats["length"].sum / stats["n_states"].sum)]


def _context() -> MetricContext:
    deployment = ModelDeployment(name="simple/model1", client="simple", tokenizer="t", context_window=100)
    return MetricContext(adapter_spec=AdapterSpec(), tokenizer=WordTokenizer(), deployment=deployment)


def _state(id_: str, text: str, trial: int = 0, perturbation: PerturbationDescription | None = None) -> RequestState:
    instance = Instance(
        input=text, id=id_, perturbation=perturbation, split="test", sub_split="s" if id_ == "a" else None
    )
    return RequestState(instance=instance, request=Request(model="simple/model1"), train_trial_index=trial)


STATES = [
    _state("a", "xx"),
    _state("a", "xx"),  # a second request of the same instance (e.g. a multiple-choice reference)
    _state("b", "yyyy"),
    _state("a", "xx", perturbation=TYPOS),
    _state("a", "xx", trial=1),
]


def test_groups_by_instance_perturbation_and_trial() -> None:
    groups = group_request_states(STATES)
    assert [len(g) for g in groups] == [2, 1, 1, 1]


def test_slices_and_derived_stats() -> None:
    metric = InputLength()
    stats = StatsAccumulator().add(score_instances([metric], STATES, _context())).finalize([metric], _context())
    by_key = {
        (s.name.name, s.name.sub_split, s.name.perturbation.name if s.name.perturbation else None): s for s in stats
    }
    # unperturbed test slice: instances a (2 states), b (1), a trial 1 (1) -> lengths 2, 4, 2
    assert by_key[("length", None, None)].sum == 8
    assert by_key[("n_states", None, None)].sum == 4
    assert by_key[("length_per_state", None, None)].mean == 2.0
    # sub-split slice holds only instance a's groups
    assert by_key[("length", "s", None)].count == 2
    # the perturbed copy is its own slice
    assert by_key[("length", None, "typos")].sum == 2
    assert all(s.name.split == "test" for s in stats)


def test_merging_partial_accumulators_is_exact() -> None:
    metric, context = InputLength(), _context()
    whole = StatsAccumulator().add(score_instances([metric], STATES, context)).finalize([metric], context)
    left = StatsAccumulator().add(score_instances([metric], STATES[:2], context))
    right = StatsAccumulator().add(score_instances([metric], STATES[2:], context))
    merged = left.merge(right).finalize([metric], context)
    assert [s.model_dump() for s in merged] == [s.model_dump() for s in whole]
