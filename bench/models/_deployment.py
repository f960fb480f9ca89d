"""`ModelDeployment`: what the project knows about one model (configs/model_deployments.yaml)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelDeployment(BaseModel):
    """One model: which client serves it, its tokenizer, context window and prices."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="'provider/model', the name requests use, e.g. 'openai/gpt-4o-mini'")
    client: str = Field(description="registered client that serves it: simple, local, openai, ai21, ...")
    tokenizer: str = Field(description="registered tokenizer, e.g. 'openai/cl100k_base'")
    context_window: int = Field(gt=0, description="maximum prompt plus completion tokens")
    max_output_tokens: int | None = Field(default=None, gt=0, description="cap on completion tokens")
    price_per_1m_input_tokens: float = Field(default=0.0, ge=0.0, description="USD per million prompt tokens")
    price_per_1m_output_tokens: float = Field(default=0.0, ge=0.0, description="USD per million output tokens")
    groups: tuple[str, ...] = Field(default=(), description="groups a run entry may name, e.g. 'model=local'")
    client_args: dict[str, Any] = Field(default_factory=dict, description="client-specific arguments")
    description: str = ""
    serving: dict[str, Any] = Field(
        default_factory=dict, description="proxy settings (replicas, rate limits, ...), validated by serve/"
    )

    @property
    def provider(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def has_prices(self) -> bool:
        """Whether the deployment lists prices; without (both 0, the default of local and test models) its cost is
        unknown, shown as '-', never as a free $0."""
        return bool(self.price_per_1m_input_tokens or self.price_per_1m_output_tokens)

    def estimate_cost(self, prompt_tokens: float, output_tokens: float) -> float:
        """Dollars for this many prompt and output tokens."""
        return (prompt_tokens * self.price_per_1m_input_tokens + output_tokens * self.price_per_1m_output_tokens) / 1e6
