"""Fixtures of the adapter tests: the sandbox comes from tests/conftest.py."""
