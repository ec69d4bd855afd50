"""User-attribute conditions: [{attribute, type: string | number | date, operator, value,
can_be_missing}] against the attributes of the request's user (from the JWT)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..clock import parse_datetime


def _compare(op: str, left: Any, right: Any) -> bool:
    return {
        "eq": left == right,
        "ne": left != right,
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
    }.get(op, False)


def holds(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """One condition; a missing attribute satisfies it only when it `can_be_missing`."""
    name = condition.get("attribute")
    if name not in attributes or attributes[name] is None:
        return bool(condition.get("can_be_missing"))
    kind, op, value, actual = (
        condition.get("type", "string"),
        condition.get("operator", "eq"),
        condition.get("value"),
        attributes[name],
    )
    try:
        if kind == "number":
            return _compare(op, float(actual), float(value))
        if kind == "date":
            left, right = parse_datetime(str(actual)), parse_datetime(str(value))
            return left is not None and right is not None and _compare(op, left, right)
    except (TypeError, ValueError):
        return False
    return _compare(op, str(actual), str(value))


def hold(conditions: Iterable[Mapping[str, Any]] | None, attributes: Mapping[str, Any]) -> bool:
    """Every condition holds (no conditions: true)."""
    return all(holds(c, attributes) for c in conditions or [])
