"""Spec loading, validation, contract suites, pytest plugin and CLI."""
