"""Helpers shared by tests: reference implementations, table builders, mutation strategies."""
