"""Presenting results: read a suite's runs, build the summary model, write a static site and status files.

`present_suite` is the one entry point (used by `benchmark-present`); results are read through the
`bench.runner.Storage` that wrote them (a local folder or `s3://bucket/prefix`). Pure Python: no Ray.
"""

from bench.presentation._comparison import paired_comparison
from bench.presentation._model import (
    CalibrationBin,
    Cell,
    GroupTable,
    ModelRow,
    PairedComparison,
    PerturbationRow,
    RunSummary,
    StatRow,
    StatusEntry,
    SuiteStatus,
    SuiteSummary,
)
from bench.presentation._run_page import INDEX_ROWS_PER_CHUNK, ROWS_PER_CHUNK
from bench.presentation._run_reader import (
    MAIN_METRICS,
    RunData,
    RunReadError,
    read_run,
    run_column,
    run_group,
    run_slug,
)
from bench.presentation._site import PresentResult, load_manifest, present_suite, write_site
from bench.presentation._status import ERROR_FILE, run_state, status_text, suite_status
from bench.presentation._summary import (
    build_groups,
    build_models,
    build_suite_summary,
    collect_runs,
    group_means,
    win_rates,
)

__all__ = [
    "ERROR_FILE",
    "INDEX_ROWS_PER_CHUNK",
    "MAIN_METRICS",
    "ROWS_PER_CHUNK",
    "CalibrationBin",
    "Cell",
    "GroupTable",
    "ModelRow",
    "PairedComparison",
    "PerturbationRow",
    "PresentResult",
    "RunData",
    "RunReadError",
    "RunSummary",
    "StatRow",
    "StatusEntry",
    "SuiteStatus",
    "SuiteSummary",
    "build_groups",
    "build_models",
    "build_suite_summary",
    "collect_runs",
    "group_means",
    "load_manifest",
    "paired_comparison",
    "present_suite",
    "read_run",
    "run_column",
    "run_group",
    "run_slug",
    "run_state",
    "status_text",
    "suite_status",
    "win_rates",
    "write_site",
]
