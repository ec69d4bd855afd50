"""Start states: a user's own fixtures file, or a generated (seeded) project."""

from __future__ import annotations

from typing import Any


def read_fixtures(path: str) -> dict[str, Any]:
    raise NotImplementedError


def load_fixtures(engine: Any, data: dict[str, Any]) -> None:
    raise NotImplementedError


def seed_project(engine: Any, seed: int) -> None:
    return None
