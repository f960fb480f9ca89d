"""Placeholder: run-spec functions of issue 5."""
