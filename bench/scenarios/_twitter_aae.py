"""`twitter_aae`: language modeling on tweets in African-American English and in white-aligned English.

Data: HELM's test sets derived from the TwitterAAE corpus (Blodgett, Green and O'Connor, EMNLP 2016;
TwitterAAE-full-v1, http://slanglab.cs.umass.edu/TwitterAAE/, "made available for research purposes only").
The full corpus (a 5.5 GB archive of tweets, each with the model's demographic proportions AA, Hispanic,
Other, White) is not what HELM evaluates: HELM took the 830,000 tweets with the highest AA proportion and the
7.3 million with the highest white proportion, and sampled 50,000 tweets from each. Those two samples are
published as one-column CSV files (one tweet per row, no header) at
https://worksheets.codalab.org/rest/bundles/0x31485f8c37ad481fb9f4e9bf7ccff6e5/contents/blob/{demographic}_tweets.csv,
which this loader downloads, so that results compare with HELM's.

Every tweet is one test instance (its text is the input; no references).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import ClassVar, Literal

from bench._errors import ScenarioDataError
from bench._instance import TEST_SPLIT, Instance
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_choice
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

SOURCE_URL = (
    "https://worksheets.codalab.org/rest/bundles/0x31485f8c37ad481fb9f4e9bf7ccff6e5/contents/blob/"
    "{demographic}_tweets.csv"
)

TwitterAAEDemographic = Literal["aa", "white"]
DEMOGRAPHICS: tuple[str, ...] = ("aa", "white")


@scenario("twitter_aae")
class TwitterAAEScenario(Scenario):
    """Score every token of tweets of one demographic group (a fairness view of language modeling)."""

    name: ClassVar[str] = "twitter_aae"
    description: ClassVar[str] = "Language modeling on African-American-aligned and white-aligned tweets (TwitterAAE)"
    tags: ClassVar[tuple[str, ...]] = ("bias", "language_modeling")

    def __init__(self, demographic: TwitterAAEDemographic = "aa", source_url: str = SOURCE_URL) -> None:
        """Args:
            demographic: `aa` (African-American-aligned) or `white` (white-aligned) tweets.
            source_url: where the CSV is published; `{demographic}` is filled in.

        Raises:
            ValueError: for an unknown demographic.
        """
        check_choice("demographic", demographic, DEMOGRAPHICS)
        self.demographic = demographic
        self.source_url = source_url.format(demographic=demographic)

    def get_instances(self, output_path: str) -> list[Instance]:
        """One test instance per tweet, in file order.

        Raises:
            ScenarioDataError: if the CSV cannot be downloaded or read.
        """
        path = ensure_file_downloaded(self.source_url, Path(output_path) / f"{self.demographic}_tweets.csv")
        try:
            with path.open(encoding="utf-8", newline="") as f:
                tweets = [row[0] for row in csv.reader(f) if row and row[0].strip()]
        except (csv.Error, UnicodeDecodeError) as e:
            raise ScenarioDataError(f"twitter_aae: cannot read {path}: {e}") from None
        logger.info("twitter_aae %s: %d tweets", self.demographic, len(tweets))
        return [Instance(input=tweet, split=TEST_SPLIT) for tweet in tweets]
