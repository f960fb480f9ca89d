"""Placeholder: metrics of issue 5."""
