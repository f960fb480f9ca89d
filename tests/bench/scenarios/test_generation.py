"""Shared generation helpers, and determinism of every generated scenario across processes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bench import TEST_SPLIT, TRAIN_SPLIT, Instance, ScenarioDataError
from bench.scenarios import create_scenario
from bench.scenarios._generation import check_choice, check_range, draw_splits, split_rng

ROOT = Path(__file__).parents[3]

GENERATED = [
    ("simple1", {}),
    ("lpm", {"difficulty": "hard"}),
    ("synthetic_reasoning", {"mode": "pattern_match"}),
    ("numeracy", {"relation_type": "plane"}),
    ("numeracy", {"relation_type": "parabola", "mode": "standard"}),
    ("dyck_language", {}),
]


def fingerprint() -> str:
    """SHA-256 of the JSON of the instances of every scenario in GENERATED (run in a child process too).

    Importing bench.scenarios registers the generated scenarios; nothing else needs loading.
    """
    dumps = [
        [i.model_dump(mode="json") for i in create_scenario(name, args).get_instances("unused")]
        for name, args in GENERATED
    ]
    return hashlib.sha256(json.dumps(dumps, sort_keys=True).encode()).hexdigest()


def test_split_rng_depends_on_every_part() -> None:
    first = split_rng("lpm", 42, "train", "easy").random()
    assert split_rng("lpm", 42, "train", "easy").random() == first
    assert split_rng("lpm", 42, "test", "easy").random() != first
    assert split_rng("lpm", 43, "train", "easy").random() != first
    assert split_rng("lpm", 42, "train", "hard").random() != first


def test_draw_splits_keeps_inputs_unique_across_splits() -> None:
    # Inputs are digits 0-9: ten possible inputs, four train and six test must then use all ten once.
    def make(rng: random.Random, split: str) -> Instance:
        return Instance(input=str(rng.randrange(10)), split=split)

    instances = draw_splits("t", 0, [(TRAIN_SPLIT, 4), (TEST_SPLIT, 6)], make)
    assert [i.split for i in instances] == [TRAIN_SPLIT] * 4 + [TEST_SPLIT] * 6
    assert sorted(i.input for i in instances) == [str(d) for d in range(10)]


def test_draw_splits_reports_an_exhausted_space() -> None:
    def make(rng: random.Random, split: str) -> Instance:
        return Instance(input=str(rng.randrange(3)), split=split)

    with pytest.raises(ScenarioDataError, match="only 3 of 4 distinct instances"):
        draw_splits("t", 0, [(TEST_SPLIT, 4)], make)


def test_argument_checks_name_the_rule() -> None:
    with pytest.raises(ValueError, match="mode 'x' is not valid; choose one of: a, b"):
        check_choice("mode", "x", ("a", "b"))
    with pytest.raises(ValueError, match="size must be between 1 and 4, got 5"):
        check_range("size", 5, 1, 4)
    with pytest.raises(ValueError, match="count must be at least 0, got -1"):
        check_range("count", -1, 0)
    check_choice("mode", "a", ("a", "b"))
    check_range("size", 4, 1, 4)


def test_every_generated_scenario_is_fast() -> None:
    import time

    for name, args in GENERATED:
        start = time.perf_counter()
        create_scenario(name, args).get_instances("unused")
        assert time.perf_counter() - start < 1.0, name


def test_instances_are_identical_in_another_process() -> None:
    # A different PYTHONHASHSEED would change anything seeded from hash(); str seeds use SHA-512 instead.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    code = "from tests.bench.scenarios.test_generation import fingerprint; print(fingerprint())"
    child = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert child.stdout.strip() == fingerprint()
