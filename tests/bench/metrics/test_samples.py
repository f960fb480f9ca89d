"""Per-instance samples: named Stats, kept per slice by StatsAccumulator, merged by concatenation, sorted."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bench import Instance, MetricName, Request, Stat
from bench.adaptation import RequestState
from bench.metrics import Metric, MetricContext, Samples, parse_sample_name, sample_stats, sorted_samples
from bench.runner import StatsAccumulator, score_instances
from tests.bench.metrics.builders import context


class Median(Metric):
    """Reports each instance's input length as a sample and derives the median per slice (not a sum)."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        return sample_stats("length", {"value": float(len(request_states[0].instance.input))})

    def derive_samples(self, samples: Samples, context: MetricContext) -> list[Stat]:
        values = [sample["value"] for sample in samples.get("length", [])]
        return [Stat.of(MetricName(name="median_length"), values[len(values) // 2])] if values else []


def states(texts: Sequence[str], sub_split: str | None = None) -> list[RequestState]:
    return [
        RequestState(
            instance=Instance(input=text, id=f"{sub_split}{k}", split="test", sub_split=sub_split),
            request=Request(model="simple/model1"),
        )
        for k, text in enumerate(texts)
    ]


def finalize(accumulator: StatsAccumulator) -> dict[tuple[str, str | None], Stat]:
    return {(s.name.name, s.name.sub_split): s for s in accumulator.finalize([Median()], context())}


def test_sample_stats_are_named_by_kind_and_field() -> None:
    stats = sample_stats("calibration", {"confidence": 0.25, "correct": 1.0})
    assert [(s.name.name, s.count, s.sum) for s in stats] == [
        ("_sample:calibration:confidence", 1, 0.25),
        ("_sample:calibration:correct", 1, 1.0),
    ]
    assert parse_sample_name("_sample:calibration:confidence") == ("calibration", "confidence")
    assert parse_sample_name("max_prob") is None
    assert parse_sample_name("_sample:calibration") is None


@pytest.mark.parametrize(("kind", "field"), [("", "x"), ("a:b", "x"), ("kind", ""), ("kind", "x:y")])
def test_bad_names_are_refused(kind: str, field: str) -> None:
    with pytest.raises(ValueError, match="without ':'"):
        sample_stats(kind, {field: 1.0})


def test_sorted_samples_order_by_values_field_by_field() -> None:
    samples = [{"b": 0.0, "a": 2.0}, {"a": 1.0, "b": 5.0}, {"a": 1.0, "b": 3.0}]
    assert sorted_samples(samples) == [{"a": 1.0, "b": 3.0}, {"a": 1.0, "b": 5.0}, {"a": 2.0, "b": 0.0}]


def test_samples_reach_derive_per_slice_whatever_the_merge_order() -> None:
    metric, ctx = Median(), context()
    texts = ["aaaa", "a", "aaaaaaa", "aa", "aaa"]
    whole = finalize(StatsAccumulator().add(score_instances([metric], states(texts), ctx)))
    # lengths 1, 2, 3, 4, 7: the median is 3; the merged sample Stat still sums them
    assert whole[("median_length", None)].sum == 3.0
    assert whole[("_sample:length:value", None)].sum == 17.0
    # two pieces merged in the other order: the same figures
    first = StatsAccumulator().add(score_instances([metric], states(texts[:2]), ctx))
    second = StatsAccumulator().add(score_instances([metric], states(texts[2:]), ctx))
    merged = finalize(second.merge(first))
    assert {k: v.model_dump() for k, v in merged.items()} == {k: v.model_dump() for k, v in whole.items()}


def test_a_sub_splits_samples_go_to_its_slice_and_to_its_split() -> None:
    metric, ctx = Median(), context()
    accumulator = StatsAccumulator().add(score_instances([metric], states(["a", "aaaaa", "aaaaaaaaa"], "s"), ctx))
    accumulator.add(score_instances([metric], states(["aa", "aaa"]), ctx))
    result = finalize(accumulator)
    assert result[("median_length", "s")].sum == 5.0  # 1, 5, 9
    assert result[("median_length", None)].sum == 3.0  # 1, 2, 3, 5, 9
