"""Command-line entry points: parse flags, wire the parts, call them."""
