"""Placeholder: filled in by the scenario work of issue 5."""
