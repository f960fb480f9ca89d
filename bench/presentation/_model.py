"""The summary model: what a presentation knows about a suite, as plain data that round-trips through JSON.

`RunSummary` holds one run's figures (read once, cached between presentations); `SuiteSummary` holds the
views built from all runs of a suite: scenario-group tables, the leaderboard, robustness and fairness,
calibration, efficiency and cost, and the status of the suite's run entries. The site is written from it,
and `summary.json` is its JSON form.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatRow(_Data):
    """One Stat of stats.json, flattened for tables."""

    metric: str
    split: str | None = None
    sub_split: str | None = None
    perturbation: str | None = Field(default=None, description="perturbation name, None for original instances")
    robustness: bool = False
    fairness: bool = False
    count: int
    mean: float | None = None
    stddev: float | None = None
    min: float | None = None
    max: float | None = None
    stderr: float | None = Field(default=None, description="standard error of the mean (sample stddev / sqrt(count))")
    ci_low: float | None = Field(default=None, description="95% confidence interval of the mean, low end (normal)")
    ci_high: float | None = Field(default=None, description="95% confidence interval of the mean, high end")


class PerturbationRow(_Data):
    """The main metric on one perturbation's instances against the same instances unperturbed."""

    perturbation: str
    kind: str = Field(description="'robustness', 'fairness' or 'other'")
    count: int = Field(description="perturbed instances (unchanged ones are skipped by the augmenter)")
    perturbed: float | None = Field(description="mean main metric on the perturbed instances")
    original: float | None = Field(description="mean main metric on the same instances unperturbed")

    @property
    def drop(self) -> float | None:
        """How much the metric fell (positive: worse when perturbed, for a higher-is-better metric)."""
        if self.perturbed is None or self.original is None:
            return None
        return self.original - self.perturbed


class CalibrationBin(_Data):
    """One equal-width confidence bin: how sure the model was against how often it was right."""

    lower: float
    upper: float
    count: int
    confidence: float
    accuracy: float


class RunSummary(_Data):
    """What the presentation keeps of one complete run."""

    dir: str = Field(description="folder name under runs/<suite>/")
    slug: str = Field(description="folder name of the run's pages (safe in URLs)")
    name: str = Field(description="the RunSpec's name")
    model: str
    scenario: str = Field(description="scenario name, e.g. 'lpm'")
    column: str = Field(description="the run name without the model: one column of its group's table")
    group: str = Field(description="scenario group the run is shown in")
    description: str = ""
    method: str = ""
    augmentation: str | None = None
    num_instances: int = 0
    num_requests: int = 0
    num_failed_requests: int = 0
    seconds: float = 0.0
    stats: list[StatRow] = Field(default_factory=list)
    main_metric: str | None = None
    main_value: float | None = None
    main_stderr: float | None = Field(default=None, description="standard error of the main metric's mean")
    main_ci_low: float | None = Field(default=None, description="95% confidence interval of the main metric")
    main_ci_high: float | None = None
    main_failed: int = Field(default=0, description="instances left out of the main metric: their request failed")
    main_values: dict[str, float] = Field(
        default_factory=dict,
        description="the main metric per original evaluation instance ('<id>|<train trial>'), for paired tests",
    )
    lower_is_better: bool = False
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    cost: float | None = Field(default=None, description="estimated dollars at the deployment's prices")
    inference_runtime: float = 0.0
    perturbations: list[PerturbationRow] = Field(default_factory=list)
    robustness_worst: float | None = Field(default=None, description="mean over instances of the worst case")
    fairness_worst: float | None = None
    calibration: list[CalibrationBin] = Field(default_factory=list)
    ece: float | None = None
    num_rows: int = Field(default=0, description="instance rows on the run's page")
    num_chunks: int = 0
    num_index_chunks: int = 0


class Cell(_Data):
    """One value of a table with the run it comes from."""

    value: float | None = None
    run_slug: str | None = None
    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    failed: int = Field(default=0, description="failed requests of the run (it is complete only if allowed)")


class PairedComparison(_Data):
    """Model A minus model B on one scenario variant, paired over the instances both answered."""

    column: str
    model_a: str
    model_b: str
    count: int = Field(description="instances (and train trials) both runs scored")
    mean_difference: float = Field(description="mean of A - B over those instances")
    stderr: float = Field(description="standard error of the mean difference")
    ci_low: float = Field(description="95% confidence interval of the mean difference (normal), low end")
    ci_high: float
    within_noise: bool = Field(description="the interval contains 0: the data do not tell the models apart")


class GroupTable(_Data):
    """A scenario group: models as rows, the main metric of each scenario variant as columns."""

    name: str
    slug: str
    columns: list[str]
    metrics: list[str] = Field(description="main metric of each column")
    lower_is_better: list[bool]
    models: list[str]
    cells: list[list[Cell]] = Field(description="cells[model index][column index]")
    comparisons: list[PairedComparison] = Field(
        default_factory=list, description="every pair of models on every column, paired over shared instances"
    )


class ModelRow(_Data):
    """A model's line of the leaderboard: win rate, efficiency and cost over the suite."""

    model: str
    mean_win_rate: float | None = None
    mean_main: float | None = Field(
        default=None, description="mean of the model's group means (higher-is-better main metrics of each group)"
    )
    main_groups: int = Field(default=0, description="scenario groups averaged into mean_main")
    num_runs: int = 0
    num_instances: int = 0
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    cost: float | None = None
    inference_runtime: float = 0.0
    failed_requests: int = 0


class StatusEntry(_Data):
    """One expected run of the suite and where it stands."""

    run: str = Field(description="RunSpec name (or the entry itself when it cannot be expanded)")
    entry: str = Field(description="the run entry of run_specs.conf it comes from ('' for unlisted runs)")
    status: str = Field(description="done, running, failed, missing or unlisted")
    detail: str = ""


class SuiteStatus(_Data):
    """Which RunSpecs of the suite are done, running, failed or missing."""

    suite: str
    conf_path: str | None = None
    models: list[str] = Field(default_factory=list)
    entries: list[StatusEntry] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many of the suite's expected runs have each status (unlisted runs are not counted)."""
        result: dict[str, int] = {}
        for entry in self.entries:
            if entry.entry:
                result[entry.status] = result.get(entry.status, 0) + 1
        return result

    @property
    def num_unlisted(self) -> int:
        """Runs present in the suite's folder that its entries do not produce."""
        return sum(1 for entry in self.entries if not entry.entry)


class SuiteSummary(_Data):
    """Everything the site shows about a suite."""

    suite: str
    source: str = Field(description="the results root the runs were read from")
    generated_at: float
    runs: list[RunSummary]
    groups: list[GroupTable]
    models: list[ModelRow]
    status: SuiteStatus | None = None
