"""Proxy: provider clients, cache, accounts, rate limits, Ray Serve app (issue 3)."""
