"""`raft`: RAFT, real-world few-shot text classification (Alex et al., 2021), 11 subsets.

Source: https://huggingface.co/datasets/ought/raft, files `data/<subset>/train.csv` (50 labelled examples)
and `data/<subset>/test_unlabeled.csv` (labels hidden for the leaderboard), downloaded from
https://huggingface.co/datasets/ought/raft/resolve/main/data/<subset>/train.csv. License: each subset keeps its
source's license (the dataset card lists CC BY 4.0 for banking_77 and systematic_review_inclusion, CC BY-SA 4.0
for one_stop_english and tai_safety_research, CC BY-NC 4.0 for semiconductor_org_types, MIT/CC BY 4.0 for
neurips_impact_statement_risks, and no license for the others: research use).

Format: CSV with a header; the text columns of the subset (e.g. `Sentence`), `ID`, and `Label`. The label is
the 1-based index into the subset's label names (0 means unlabelled), as in the dataset's loading script; an
older layout writes the label name itself, and both are read.

Since the test labels are not published, the labelled train file is split, as HELM does: with a fixed seed,
`num_train` examples stay train (in-context examples) and the rest are the test split. The unlabelled test file
is not used. An instance's input is the subset's text fields, one `<column>: <value>` line each, in the file's
column order; its one reference is the label name.
"""

from __future__ import annotations

import csv
import io
import logging
import random
from pathlib import Path
from typing import ClassVar, Literal

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_choice, check_range
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

SOURCE_URL = "https://huggingface.co/datasets/ought/raft/resolve/main/data/{subset}/train.csv"

RaftSubset = Literal[
    "ade_corpus_v2",
    "banking_77",
    "neurips_impact_statement_risks",
    "one_stop_english",
    "overruling",
    "semiconductor_org_types",
    "systematic_review_inclusion",
    "tai_safety_research",
    "terms_of_service",
    "tweet_eval_hate",
    "twitter_complaints",
]

_BANKING_77 = [
    "Refund_not_showing_up",
    "activate_my_card",
    "age_limit",
    "apple_pay_or_google_pay",
    "atm_support",
    "automatic_top_up",
    "balance_not_updated_after_bank_transfer",
    "balance_not_updated_after_cheque_or_cash_deposit",
    "beneficiary_not_allowed",
    "cancel_transfer",
    "card_about_to_expire",
    "card_acceptance",
    "card_arrival",
    "card_delivery_estimate",
    "card_linking",
    "card_not_working",
    "card_payment_fee_charged",
    "card_payment_not_recognised",
    "card_payment_wrong_exchange_rate",
    "card_swallowed",
    "cash_withdrawal_charge",
    "cash_withdrawal_not_recognised",
    "change_pin",
    "compromised_card",
    "contactless_not_working",
    "country_support",
    "declined_card_payment",
    "declined_cash_withdrawal",
    "declined_transfer",
    "direct_debit_payment_not_recognised",
    "disposable_card_limits",
    "edit_personal_details",
    "exchange_charge",
    "exchange_rate",
    "exchange_via_app",
    "extra_charge_on_statement",
    "failed_transfer",
    "fiat_currency_support",
    "get_disposable_virtual_card",
    "get_physical_card",
    "getting_spare_card",
    "getting_virtual_card",
    "lost_or_stolen_card",
    "lost_or_stolen_phone",
    "order_physical_card",
    "passcode_forgotten",
    "pending_card_payment",
    "pending_cash_withdrawal",
    "pending_top_up",
    "pending_transfer",
    "pin_blocked",
    "receiving_money",
    "request_refund",
    "reverted_card_payment?",
    "supported_cards_and_currencies",
    "terminate_account",
    "top_up_by_bank_transfer_charge",
    "top_up_by_card_charge",
    "top_up_by_cash_or_cheque",
    "top_up_failed",
    "top_up_limits",
    "top_up_reverted",
    "topping_up_by_card",
    "transaction_charged_twice",
    "transfer_fee_charged",
    "transfer_into_account",
    "transfer_not_received_by_recipient",
    "transfer_timing",
    "unable_to_verify_identity",
    "verify_my_identity",
    "verify_source_of_funds",
    "verify_top_up",
    "virtual_card_not_working",
    "visa_or_mastercard",
    "why_verify_identity",
    "wrong_amount_of_cash_received",
    "wrong_exchange_rate_for_cash_withdrawal",
]

LABELS: dict[str, tuple[str, ...]] = {
    "ade_corpus_v2": ("ADE-related", "not ADE-related"),
    "banking_77": tuple(_BANKING_77),
    "neurips_impact_statement_risks": ("doesn't mention a harmful application", "mentions a harmful application"),
    "one_stop_english": ("advanced", "elementary", "intermediate"),
    "overruling": ("not overruling", "overruling"),
    "semiconductor_org_types": ("company", "research institute", "university"),
    "systematic_review_inclusion": ("included", "not included"),
    "tai_safety_research": ("TAI safety research", "not TAI safety research"),
    "terms_of_service": ("not potentially unfair", "potentially unfair"),
    "tweet_eval_hate": ("hate speech", "not hate speech"),
    "twitter_complaints": ("complaint", "no complaint"),
}
"""Label names per subset, in the order of their 1-based indices (from the dataset's loading script)."""

SUBSETS: tuple[str, ...] = tuple(LABELS)
NOT_TEXT_COLUMNS = ("ID", "Label")


def label_name(subset: str, value: str) -> str | None:
    """The label name of a Label cell: an index (1-based; 0 is unlabelled, None) or a name.

    Raises:
        ValueError: for an index out of range or an unknown name.
    """
    names = LABELS[subset]
    value = value.strip()
    if value.isdigit():
        index = int(value)
        if index == 0:
            return None
        if index > len(names):
            raise ValueError(f"label index {index} is out of range (the subset has {len(names)} labels)")
        return names[index - 1]
    if value == "Unlabeled":
        return None
    if value not in names:
        raise ValueError(f"unknown label {value!r}; the subset's labels are {list(names)}")
    return value


def parse_raft_csv(subset: str, text: str) -> list[tuple[str, str]]:
    """(input, label name) for each labelled row of a RAFT train.csv."""
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    if reader.fieldnames is None or "Label" not in reader.fieldnames:
        raise ValueError(f"no Label column in the header {reader.fieldnames}")
    fields = [name for name in reader.fieldnames if name not in NOT_TEXT_COLUMNS]
    rows = []
    for row in reader:
        label = label_name(subset, row["Label"])
        if label is not None:
            rows.append(("\n".join(f"{field}: {row[field]}" for field in fields), label))
    return rows


@scenario("raft")
class RAFTScenario(Scenario):
    """Classify a real-world text into one of its subset's labels (RAFT)."""

    name: ClassVar[str] = "raft"
    description: ClassVar[str] = "Real-world Annotated Few-shot Tasks (RAFT): text classification"
    tags: ClassVar[tuple[str, ...]] = ("text_classification", "robustness")

    def __init__(
        self, subset: RaftSubset = "ade_corpus_v2", num_train: int = 10, seed: int = 42, source_url: str = SOURCE_URL
    ) -> None:
        """Args:
            subset: the RAFT subset.
            num_train: labelled examples kept as train; the rest of the 50 are the test split (HELM: 10 and 40).
            seed: seed of the train/test split.
            source_url: where train.csv is published; `{subset}` is filled in.

        Raises:
            ValueError: for an unknown subset (naming the valid ones) or a negative num_train.
        """
        check_choice("subset", subset, SUBSETS)
        check_range("num_train", num_train, 0)
        self.subset = subset
        self.num_train = num_train
        self.seed = seed
        self.source_url = source_url.format(subset=subset)

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train then test instances, each split in file order.

        Raises:
            ScenarioDataError: if train.csv cannot be downloaded or read.
        """
        path = ensure_file_downloaded(self.source_url, Path(output_path) / self.subset / "train.csv")
        try:
            rows = parse_raft_csv(self.subset, path.read_text(encoding="utf-8"))
        except (ValueError, csv.Error) as e:
            raise ScenarioDataError(f"raft ({self.subset}): cannot read {path}: {e}") from None
        train_indices = set(random.Random(self.seed).sample(range(len(rows)), min(self.num_train, len(rows))))
        instances = [
            Instance(
                input=text,
                references=(Reference(output=label, tags=(CORRECT_TAG,)),),
                split=TRAIN_SPLIT if k in train_indices else TEST_SPLIT,
            )
            for k, (text, label) in enumerate(rows)
        ]
        instances.sort(key=lambda instance: instance.split != TRAIN_SPLIT)  # stable: train first, file order kept
        logger.info("raft %s: %d train, %d test", self.subset, len(train_indices), len(rows) - len(train_indices))
        return instances
