"""Shard plans: whole instances (with their perturbed copies) per shard, sizes, defaults, fingerprints, and
the property the tasks rely on: adapting the train instances plus a slice gives the slice's request states."""

from __future__ import annotations

import pytest

from bench import TRAIN_SPLIT, Instance, PerturbationDescription, Reference
from bench.adaptation import AdapterSpec, RequestState, create_adapter
from bench.augmentation import augment_instances, get_data_augmenter_spec
from bench.models import get_deployment
from bench.runner import ShardPlan, default_shard_size, fingerprint, plan_shards, split_by_plan
from bench.tokenizers import get_tokenizer

TYPO = PerturbationDescription(name="typos", robustness=True)


def _instances(n: int, copies: int = 0) -> list[Instance]:
    """n evaluation instances, each followed by `copies` perturbed copies (same id), as augmentation orders them."""
    out = []
    for i in range(n):
        original = Instance(input=f"q{i}", id=f"id{i}")
        out.append(original)
        for c in range(copies):
            out.append(original.model_copy(update={"perturbation": TYPO.model_copy(update={"args": {"c": c}})}))
    return out


def _ranges(plan: ShardPlan) -> list[tuple[str, int, int]]:
    return [(s.shard_id, s.start, s.end) for s in plan.shards]


def test_shards_hold_whole_instances_with_their_perturbed_copies() -> None:
    evaluation = _instances(5, copies=2)  # 15 instances in 5 groups of 3
    plan = plan_shards(evaluation, "f", shard_size=2)
    assert _ranges(plan) == [("00000", 0, 6), ("00001", 6, 12), ("00002", 12, 15)]
    assert (plan.num_groups, plan.num_instances, plan.fingerprint) == (5, 15, "f")
    assert [s.num_instances for s in plan.shards] == [6, 6, 3]
    contents = split_by_plan(plan, evaluation)
    assert [i for shard in contents for i in shard] == evaluation
    assert {i.id for i in contents[1]} == {"id2", "id3"}
    assert len(plan_shards(evaluation, "f", shard_size=1).shards) == 5  # a copy never leaves its instance


def test_number_of_shards_instead_of_a_size() -> None:
    plan = plan_shards(_instances(10), "f", num_shards=3)
    assert [(s.start, s.end) for s in plan.shards] == [(0, 4), (4, 8), (8, 10)]
    plan = plan_shards(_instances(2), "f", num_shards=5)  # never an empty shard
    assert [(s.start, s.end) for s in plan.shards] == [(0, 1), (1, 2)]
    assert plan_shards([], "f").shards == ()


def test_default_size_gives_every_slot_two_shards_between_25_and_500() -> None:
    assert default_shard_size(2000, slots=4) == 250
    assert default_shard_size(20000, slots=4) == 500
    assert default_shard_size(3, slots=4) == 25  # a small run is one task: starting tasks costs more than it saves
    assert default_shard_size(0, slots=4) == 25
    assert len(plan_shards(_instances(40), "f", slots=4).shards) == 2
    assert len(plan_shards(_instances(400), "f", slots=4).shards) == 8
    assert len(plan_shards(_instances(100, copies=3), "f", slots=4).shards) == 4  # groups count, not copies


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="shard size must be at least 1, got 0"):
        plan_shards(_instances(2), "f", shard_size=0)
    with pytest.raises(ValueError, match="number of shards must be at least 1, got -1"):
        plan_shards(_instances(2), "f", num_shards=-1)


def test_fingerprint_covers_the_run_spec_and_every_instance() -> None:
    instances = _instances(3)
    base = fingerprint('{"name": "r"}', instances)
    assert base == fingerprint('{"name": "r"}', list(instances))  # a pure function of its inputs
    assert len(base) == 64 and int(base, 16) >= 0
    assert fingerprint('{"name": "other"}', instances) != base
    assert fingerprint('{"name": "r"}', instances[:2]) != base
    changed_input = [*instances[:2], instances[2].model_copy(update={"input": "other"})]
    assert fingerprint('{"name": "r"}', changed_input) != base
    changed_reference = [*instances[:2], instances[2].model_copy(update={"references": (Reference(output="x"),)})]
    assert fingerprint('{"name": "r"}', changed_reference) != base


# --- adapting slices is adapting everything ---------------------------------------------------------------


def _scenario_instances() -> list[Instance]:
    """Train instances over three labels (one without a correct reference) and eval instances with two
    choices each, perturbed as the 'robustness' preset does (originals kept, each followed by its copies)."""
    labels = ["yes", "no", "maybe"]
    train = [
        Instance(
            input=f"train question {k} about cats",
            references=(
                Reference(output=labels[k % 3], tags=("correct",) if k % 4 else ()),
                Reference(output="other"),
            ),
            split=TRAIN_SPLIT,
            id=f"train{k}",
        )
        for k in range(9)
    ]
    evaluation = [
        Instance(
            input=f"Is test question number {k} about the big brown dogs?",
            references=(Reference(output="yes", tags=("correct",)), Reference(output="no")),
            split="test",
            id=f"test{k}",
        )
        for k in range(7)
    ]
    return augment_instances(train + evaluation, get_data_augmenter_spec("robustness"))


@pytest.mark.parametrize(
    "method", ["generation", "multiple_choice_joint", "multiple_choice_separate_calibrated", "language_modeling"]
)
@pytest.mark.parametrize("sample_train", [True, False])
def test_adapting_each_shard_gives_the_request_states_of_adapting_everything(method: str, sample_train: bool) -> None:
    """The in-context examples of train trial t are drawn with random.Random(t) from the train instances
    alone (bench/adaptation/_in_context.py), never from the evaluation instances: so a task that adapts the
    train instances plus its slice makes exactly its slice's request states. Adapting everything orders them
    trial by trial; the shards' states, put back in trial order (a stable sort), are the same list."""
    instances = _scenario_instances()
    train = [i for i in instances if i.split == TRAIN_SPLIT]
    evaluation = [i for i in instances if i.split != TRAIN_SPLIT]
    assert len(evaluation) > 7 and evaluation[1].id == evaluation[0].id  # perturbed copies follow originals
    spec = AdapterSpec(method=method, max_train_instances=3, num_train_trials=3, sample_train=sample_train)  # type: ignore[arg-type]
    deployment = get_deployment(spec.model)
    adapter = create_adapter(spec, get_tokenizer(deployment.tokenizer), deployment.context_window)
    everything = adapter.adapt(instances)

    plan = plan_shards(evaluation, "f", shard_size=2)
    assert len(plan.shards) == 4
    per_shard = [adapter.adapt(train + part) for part in split_by_plan(plan, evaluation)]
    together: list[RequestState] = [state for states in per_shard for state in states]
    assert sorted(together, key=lambda s: s.train_trial_index) == everything
    # every state of an instance (all trials, copies, references) is in the shard that holds the instance
    for part, states in zip(split_by_plan(plan, evaluation), per_shard, strict=True):
        assert {s.instance.id for s in states} <= {i.id for i in part}
    if method != "language_modeling":
        assert {s.train_trial_index for s in everything} == {0, 1, 2}
        if sample_train and getattr(adapter, "uses_examples", False):  # the trials draw different examples
            prompts: dict[int, str] = {}
            for s in everything:
                if s.instance == evaluation[0]:
                    prompts.setdefault(s.train_trial_index, s.request.prompt)  # its first request per trial
            assert len(set(prompts.values())) > 1
