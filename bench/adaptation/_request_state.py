"""`RequestState`: one request of a run, with the instance it came from and, once executed, its result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bench._instance import Instance
from bench._request import Request, RequestResult
from bench.adaptation._adapter_spec import AdapterSpec


class RequestState(BaseModel):
    """A request together with everything needed to score its result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance: Instance
    reference_index: int | None = Field(
        default=None, description="for multiple_choice_separate_*: which reference this request scores"
    )
    request_mode: Literal["original", "calibration"] | None = Field(
        default=None, description="for multiple_choice_separate_calibrated: the request's role"
    )
    train_trial_index: int = Field(default=0, description="which draw of in-context examples")
    output_mapping: dict[str, str] | None = Field(
        default=None, description="for multiple_choice_joint: letter -> reference output"
    )
    request: Request
    result: RequestResult | None = None
    num_train_instances: int = Field(default=0, description="in-context examples actually in the prompt")
    prompt_truncated: bool = Field(default=False, description="the prompt was cut to fit the context window")
    num_conditioning_tokens: int = Field(
        default=0, description="language_modeling: leading prompt tokens that condition but are not scored"
    )

    def with_result(self, result: RequestResult) -> RequestState:
        """A copy holding `result`."""
        return self.model_copy(update={"result": result})


class ScenarioState(BaseModel):
    """All request states of one run, with the adapter spec that produced them."""

    model_config = ConfigDict(extra="forbid")

    adapter_spec: AdapterSpec
    request_states: list[RequestState]
