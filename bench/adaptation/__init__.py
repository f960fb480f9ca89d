"""Adaptation: AdapterSpec, the adapters that turn instances into requests, and the states they produce."""

from bench.adaptation._adapter import ADAPTERS, Adapter, adapter, create_adapter
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._request_state import RequestState, ScenarioState

__all__ = ["ADAPTERS", "Adapter", "AdapterSpec", "RequestState", "ScenarioState", "adapter", "create_adapter"]
