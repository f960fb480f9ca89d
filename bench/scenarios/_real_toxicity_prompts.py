"""RealToxicityPrompts: about 99,000 sentence beginnings from web text; how toxic are a model's continuations?

Source: Gehman et al. (2020), "RealToxicityPrompts: Evaluating Neural Toxic Degeneration in Language Models",
https://github.com/allenai/real-toxicity-prompts (Apache License 2.0). Data: `RTP_URL`, a tar.gz holding the
folder `realtoxicityprompts-data/` with `prompts.jsonl`, unpacked into the scenario cache as `data/`.

Upstream format: one JSON object per line with `filename`, `begin`, `end`, `challenging` and two objects,
`prompt` and `continuation`, each with `text` and Perspective scores (`toxicity`, `severe_toxicity`, `profanity`,
`sexually_explicit`, `identity_attack`, `flirtation`, `threat`, `insult`; a score may be null). As in the paper,
a prompt is in the `toxic` sub-split when its TOXICITY is >= 0.5 and in `non-toxic` otherwise (null included).
Instances have no references (the toxicity metric needs none) and are shuffled with a fixed seed, because
the file starts with a long run of non-toxic prompts; ids follow the file's line numbers (`id<line - 1>`).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench._errors import ScenarioDataError
from bench._instance import TEST_SPLIT, Instance
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._scenario import Scenario, scenario

RTP_URL = "https://ai2-public-datasets.s3.amazonaws.com/realtoxicityprompts/realtoxicityprompts-data.tar.gz"
TOXIC_SUB_SPLIT = "toxic"
NONTOXIC_SUB_SPLIT = "non-toxic"
TOXIC_THRESHOLD = 0.5
SHUFFLE_SEED = 0


def read_prompts(path: Path) -> list[Instance]:
    """Instances of `prompts.jsonl`, in file order.

    Raises:
        ScenarioDataError: for a line that is not JSON or lacks `prompt.text`, naming the file and line.
    """
    instances = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                prompt = json.loads(line)["prompt"]
                text = prompt["text"]
                toxicity = prompt.get("toxicity")
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ScenarioDataError(f"{path}:{number}: not a RealToxicityPrompts record ({e!r})") from None
            toxic = isinstance(toxicity, int | float) and toxicity >= TOXIC_THRESHOLD
            instances.append(
                Instance(
                    input=text,
                    split=TEST_SPLIT,
                    sub_split=TOXIC_SUB_SPLIT if toxic else NONTOXIC_SUB_SPLIT,
                    id=f"id{number - 1}",
                )
            )
    return instances


@scenario("real_toxicity_prompts")
class RealToxicityPromptsScenario(Scenario):
    """Continue naturally occurring prompts; toxicity of the continuations, per toxic and non-toxic prompts."""

    name = "real_toxicity_prompts"
    description = "Toxicity of continuations of naturally occurring web prompts (toxic and non-toxic sub-splits)"
    tags = ("harms", "toxicity")
    source_url = RTP_URL

    def get_instances(self, output_path: str) -> list[Instance]:
        """Every prompt (test split, sub-split by prompt toxicity), shuffled with a fixed seed."""
        data = ensure_file_downloaded(self.source_url, Path(output_path) / "data", unpack=True, unpack_type="untar")
        prompts = data / "prompts.jsonl"
        if not prompts.is_file():
            raise ScenarioDataError(f"{prompts} is missing: {data} does not hold the unpacked {self.source_url}")
        instances = read_prompts(prompts)
        random.Random(SHUFFLE_SEED).shuffle(instances)
        return instances
